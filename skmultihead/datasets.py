"""Generated data with a known, learnable signal for examples and tests."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state


def make_social_media(n_samples=2000, n_features=20, noise=0.3, random_state=None):
    """Users' activity features and three targets of mixed kinds.

    ``age`` (float, regression) depends on features 0 and 1; ``income`` (10 groups
    "i0" ... "i9", multiclass) on features 2, 3 and 0; ``gender`` ("f" / "m", binary) on
    features 4 and 5. The other features are noise.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of users (rows).
    n_features : int, default=20
        Number of features; at least 6.
    noise : float, default=0.3
        Standard deviation of the noise added to each target's latent score.
    random_state : int, RandomState or None, default=None
        Seeds the generator: the same int gives the same data.

    Returns
    -------
    X : DataFrame of shape (n_samples, n_features)
        Columns ``x0``, ``x1``, ...
    Y : DataFrame of shape (n_samples, 3)
        Columns ``age`` (float), ``income`` (str) and ``gender`` (str).

    Examples
    --------
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(100, random_state=0)
    >>> X.shape, Y.columns.tolist()
    ((100, 20), ['age', 'income', 'gender'])
    >>> sorted(Y["gender"].unique())
    ['f', 'm']
    """
    if n_features < 6:
        raise ValueError(f"n_features must be at least 6; got {n_features}.")
    rng = check_random_state(random_state)
    X = pd.DataFrame(rng.normal(size=(n_samples, n_features)), columns=[f"x{i}" for i in range(n_features)])
    age = 40 + 10 * (X.x0 + 0.5 * X.x1 + noise * rng.normal(size=n_samples))
    wealth = X.x2 + X.x3 + 0.5 * X.x0 + noise * rng.normal(size=n_samples)
    bins = np.quantile(wealth, np.linspace(0, 1, 11)[1:-1])
    income = np.array([f"i{k}" for k in range(10)], dtype=object)[np.searchsorted(bins, wealth)]
    gender = np.where(X.x4 - 0.5 * X.x5 + noise * rng.normal(size=n_samples) > 0, "f", "m")
    Y = pd.DataFrame({"age": age.round(1), "income": income, "gender": gender})
    return X, Y


def make_tagged_items(n_samples=2000, n_features=250, n_labels=17, n_informative=20, noise=0.5, random_state=None):
    """Items with many features and several tags each (a multilabel target).

    Tags depend on a shared hidden representation of the first ``n_informative``
    features (8 nonlinear factors), so a network with a shared trunk can learn them all
    at once; the other features are noise. Tag frequencies range from about 5% to 40%,
    so some tags are rare.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of items (rows).
    n_features : int, default=250
        Number of features.
    n_labels : int, default=17
        Number of tags; at least 2.
    n_informative : int, default=20
        Features that carry the signal; at most ``n_features``.
    noise : float, default=0.5
        Standard deviation of the noise added to each tag's latent score.
    random_state : int, RandomState or None, default=None
        Seeds the generator: the same int gives the same data.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features, float32.
    Y : DataFrame of shape (n_samples, n_labels)
        0/1 columns ``tag_00``, ``tag_01``, ...

    Examples
    --------
    >>> from skmultihead.datasets import make_tagged_items
    >>> X, Y = make_tagged_items(100, n_features=30, n_labels=3, random_state=0)
    >>> X.shape, X.dtype
    ((100, 30), dtype('float32'))
    >>> Y.columns.tolist()
    ['tag_00', 'tag_01', 'tag_02']
    """
    if n_labels < 2 or not 1 <= n_informative <= n_features:
        raise ValueError(
            f"need n_labels >= 2 and 1 <= n_informative <= n_features; got {n_labels}, {n_informative}, {n_features}."
        )
    rng = check_random_state(random_state)
    X = rng.normal(size=(n_samples, n_features)).astype("float32")
    factors = np.tanh(X[:, :n_informative] @ rng.normal(size=(n_informative, 8)) / np.sqrt(n_informative) * 2)
    scores = factors @ rng.normal(size=(8, n_labels)) + noise * rng.normal(size=(n_samples, n_labels))
    frequencies = np.linspace(0.05, 0.4, n_labels)
    cutoffs = np.quantile(scores, 1 - frequencies[rng.permutation(n_labels)], axis=0).diagonal()
    Y = pd.DataFrame((scores > cutoffs).astype(int), columns=[f"tag_{j:02d}" for j in range(n_labels)])
    return X, Y


def make_distance_size(n_samples=2000, n_noise=4, noise=0.3, random_state=None):
    """Objects seen from afar: a joint class distance x size, each factor from its own features.

    ``distance`` ("near" / "far") depends on ``parallax`` and ``haze``; ``size`` ("small",
    "medium", "large", in equal thirds) on ``width``, ``height`` and ``depth``. The
    ``noise_*`` columns carry no signal. The joint label is ``"<distance>-<size>"``, e.g.
    ``"near-large"``.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of objects (rows).
    n_noise : int, default=4
        Number of noise columns.
    noise : float, default=0.3
        Standard deviation of the noise added to each factor's latent score.
    random_state : int, RandomState or None, default=None
        Seeds the generator: the same int gives the same data.

    Returns
    -------
    X : DataFrame of shape (n_samples, 5 + n_noise)
        Columns ``parallax``, ``haze``, ``width``, ``height``, ``depth``, ``noise_0``, ...
    y : ndarray of str, shape (n_samples,)
        Joint labels.

    Examples
    --------
    >>> from skmultihead.datasets import make_distance_size
    >>> X, y = make_distance_size(100, n_noise=2, random_state=0)
    >>> X.columns.tolist()
    ['parallax', 'haze', 'width', 'height', 'depth', 'noise_0', 'noise_1']
    >>> sorted(set(y))
    ['far-large', 'far-medium', 'far-small', 'near-large', 'near-medium', 'near-small']
    """
    rng = check_random_state(random_state)
    columns = ["parallax", "haze", "width", "height", "depth"] + [f"noise_{i}" for i in range(n_noise)]
    X = pd.DataFrame(rng.normal(size=(n_samples, len(columns))), columns=columns)
    near = X.parallax - 0.7 * X.haze + noise * rng.normal(size=n_samples) > 0
    volume = X.width + X.height + 0.5 * X.depth * X.width + noise * rng.normal(size=n_samples)
    size = np.array(["small", "medium", "large"])[np.searchsorted(np.quantile(volume, [1 / 3, 2 / 3]), volume)]
    y = np.array([f"{'near' if n else 'far'}-{s}" for n, s in zip(near, size)], dtype=object)
    return X, y


def make_headlines(n_samples=2000, vocab_size=1000, max_words=20, random_state=None):
    """News headlines as token ids beside five side features, and two targets.

    Each headline is about one of three topics: most of its words are common words (ids
    10 and up), about a quarter come from its topic's 30 words, and it is padded with 0
    after its last word. ``topic`` ("politics", "sport", "tech") is therefore only in the
    tokens. ``clicked`` (0/1) is more likely for headlines holding one of the "hot" words
    (ids 1 to 9), in the evening (``hour``) and with links (``n_links``).

    Parameters
    ----------
    n_samples : int, default=2000
        Number of headlines (rows).
    vocab_size : int, default=1000
        Token ids are in ``[0, vocab_size)``; at least 200.
    max_words : int, default=20
        Columns of tokens; headlines have 5 to ``max_words`` words.
    random_state : int, RandomState or None, default=None
        Seeds the generator: the same int gives the same data.

    Returns
    -------
    X : DataFrame of shape (n_samples, max_words + 5)
        Columns ``tok_0`` ... (int token ids), ``hour``, ``weekday``, ``n_words``,
        ``n_links``, ``n_tags``.
    Y : DataFrame of shape (n_samples, 2)
        Columns ``clicked`` (0/1) and ``topic`` (str).

    Examples
    --------
    >>> from skmultihead.datasets import make_headlines
    >>> X, Y = make_headlines(100, max_words=10, random_state=0)
    >>> X.shape, Y.columns.tolist()
    ((100, 15), ['clicked', 'topic'])
    >>> sorted(Y["topic"].unique())
    ['politics', 'sport', 'tech']
    """
    if vocab_size < 200:
        raise ValueError(f"vocab_size must be at least 200; got {vocab_size}.")
    rng = check_random_state(random_state)
    topics = np.array(["politics", "sport", "tech"], dtype=object)
    topic = rng.randint(3, size=n_samples)
    n_words = rng.randint(5, max_words + 1, size=n_samples)
    tokens = rng.randint(100, vocab_size, size=(n_samples, max_words))
    from_topic = rng.uniform(size=tokens.shape) < 0.25
    topic_words = 10 + 30 * topic[:, None] + rng.randint(30, size=tokens.shape)
    tokens = np.where(from_topic, topic_words, tokens)
    hot = rng.uniform(size=n_samples) < 0.3
    tokens[hot, rng.randint(0, 5, size=hot.sum())] = rng.randint(1, 10, size=hot.sum())
    tokens[np.arange(max_words) >= n_words[:, None]] = 0
    side = pd.DataFrame(
        {
            "hour": rng.randint(24, size=n_samples),
            "weekday": rng.randint(7, size=n_samples),
            "n_words": n_words,
            "n_links": rng.poisson(1.0, size=n_samples),
            "n_tags": rng.poisson(2.0, size=n_samples),
        }
    )
    score = 2.5 * hot + 1.0 * (side.hour >= 18) + 0.6 * side.n_links - 1.8 + 0.5 * rng.normal(size=n_samples)
    X = pd.concat([pd.DataFrame(tokens, columns=[f"tok_{i}" for i in range(max_words)]), side], axis=1)
    Y = pd.DataFrame({"clicked": (score > 0).astype(int), "topic": topics[topic]})
    return X, Y
