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
    n_features : int, default=20
        At least 6.
    noise : float, default=0.3
        Standard deviation of the noise added to each target's latent score.
    random_state : int, RandomState or None, default=None

    Returns
    -------
    X : DataFrame of shape (n_samples, n_features)
        Columns ``x0``, ``x1``, ...
    Y : DataFrame with columns ``age``, ``income``, ``gender``
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
