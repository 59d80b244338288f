"""Branches: how the network reads each named input before the inputs are joined.

A branch turns one input's Keras tensor into a 2-D tensor; the branches' outputs are
concatenated and fed to the shared trunk. `DenseBranch` (the default) is dense layers of
its own, or none; `EmbeddingBranch` reads integer token ids; any callable
``f(keras_tensor) -> keras_tensor`` is a branch too.
"""

import numpy as np
from sklearn.base import BaseEstimator

from ._messages import is_positive_int, quoted, suggest
from ._params import as_sizes
from ._spec import layer_rates

ENCODERS = ("pool", "conv1d", "lstm", "gru")


class DenseBranch(BaseEstimator):
    """Dense layers of one input's own, before it joins the other inputs.

    Its method ``build`` is what the estimators call; a user normally only constructs a
    `DenseBranch` and passes it in ``branches``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=()
        Units of the branch's dense layers (layers ``<input>_<i>``); () passes the input's
        columns to the trunk as they are.
    activation : str, default=None
        Activation of those layers; None takes the estimator's ``activation``.
    dropout : float or tuple of float, default=0.0
        Dropout after each of those layers.

    See Also
    --------
    EmbeddingBranch : A branch for integer token ids.

    Examples
    --------
    >>> from skmultihead import DenseBranch, MultiOutputNNClassifier
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> est = MultiOutputNNClassifier(
    ...     inputs={"a": ["x0", "x1", "x2"], "b": ["x3", "x4", "x5"]},
    ...     remainder="drop",
    ...     branches={"a": DenseBranch((4,))},
    ...     hidden_layer_sizes=(8,),
    ...     epochs=2,
    ...     random_state=0,
    ... ).fit(X, Y)
    >>> est.input_columns_
    {'a': [0, 1, 2], 'b': [3, 4, 5]}
    >>> [layer.name for layer in est.model_.layers][:4]
    ['a', 'a_0', 'b', 'branches']
    """

    token_ids = False

    def __init__(self, hidden_layer_sizes=(), *, activation=None, dropout=0.0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout

    def build(self, x, name, *, activation, seeds):
        """Build the branch's layers on input tensor ``x`` and return their output.

        Parameters
        ----------
        x : keras tensor of shape (batch, n_columns)
            The input's Keras tensor.
        name : str
            The input's name; the layers are named ``<name>_<i>``.
        activation : str
            Activation used when the branch's ``activation`` is None.
        seeds : callable
            Called without arguments for each layer's seed (an int or None).

        Returns
        -------
        output : keras tensor of shape (batch, units)
            ``x`` itself when ``hidden_layer_sizes`` is ().

        Examples
        --------
        >>> import keras
        >>> from skmultihead import DenseBranch
        >>> out = DenseBranch((4,)).build(keras.Input((3,)), "a", activation="relu", seeds=lambda: 0)
        >>> tuple(out.shape)
        (None, 4)
        """
        from ._model import stack

        sizes = as_sizes(self.hidden_layer_sizes)
        return stack(x, sizes, self.activation or activation, name, seeds, layer_rates(self.dropout, sizes))


class EmbeddingBranch(BaseEstimator):
    """Integer token ids (one per column) through an embedding and a sequence encoder.

    Token 0 is padding: the "pool", "lstm" and "gru" encoders mask it. Its methods
    (``check``, ``token_array``, ``build``) are what the estimators call; a user normally
    only constructs an `EmbeddingBranch` and passes it in ``branches``.

    Parameters
    ----------
    vocab_size : int
        Number of token ids; ids must be integers in ``[0, vocab_size)``.
    dim : int, default=32
        Size of each token's embedding vector.
    encoder : {"pool", "conv1d", "lstm", "gru"}, default="pool"
        How the sequence of embeddings becomes one vector: "pool" averages them (no
        padding), "conv1d" is a 1-D convolution of ``units`` filters of width
        ``kernel_size`` and a max over positions, "lstm" and "gru" are recurrent layers of
        ``units`` units whose last state is the output.
    units : int, default=32
        Filters (conv1d) or units (lstm, gru); not used by "pool".
    kernel_size : int, default=3
        Width of the convolution ("conv1d" only).

    See Also
    --------
    DenseBranch : The default branch, dense layers of an input's own.

    Examples
    --------
    >>> from skmultihead import EmbeddingBranch, MultiOutputNNClassifier
    >>> from skmultihead.datasets import make_headlines
    >>> X, Y = make_headlines(200, random_state=0)
    >>> est = MultiOutputNNClassifier(
    ...     inputs={"tokens": [f"tok_{i}" for i in range(20)]},
    ...     remainder="passthrough",
    ...     branches={"tokens": EmbeddingBranch(vocab_size=1000, dim=8)},
    ...     hidden_layer_sizes=(8,),
    ...     epochs=2,
    ...     random_state=0,
    ... ).fit(X, Y)
    >>> sorted(est.input_columns_)
    ['remainder', 'tokens']
    >>> [layer.name for layer in est.model_.layers][:3]
    ['tokens', 'tokens_embedding', 'tokens_pool']
    >>> est.predict(X).columns.tolist()
    ['clicked', 'topic']
    """

    token_ids = True

    def __init__(self, vocab_size, dim=32, *, encoder="pool", units=32, kernel_size=3):
        self.vocab_size = vocab_size
        self.dim = dim
        self.encoder = encoder
        self.units = units
        self.kernel_size = kernel_size

    def check(self, input_name):
        """Check the branch's parameters.

        Parameters
        ----------
        input_name : str
            The input's name, used in error messages.

        Returns
        -------
        None

        Raises
        ------
        ValueError
            If a parameter is not valid.

        Examples
        --------
        >>> from skmultihead import EmbeddingBranch
        >>> EmbeddingBranch(vocab_size=100).check("tokens")
        >>> EmbeddingBranch(vocab_size=100, dim=0).check("tokens")
        Traceback (most recent call last):
        ...
        ValueError: EmbeddingBranch of input 'tokens': dim must be a positive int; got 0.
        """
        where = f"EmbeddingBranch of input {input_name!r}"
        for param in ("vocab_size", "dim", "units", "kernel_size"):
            value = getattr(self, param)
            if not is_positive_int(value):
                raise ValueError(f"{where}: {param} must be a positive int; got {value!r}.")
        if self.vocab_size < 2:
            raise ValueError(f"{where}: vocab_size must be at least 2 (token 0 is padding); got {self.vocab_size}.")
        if self.encoder not in ENCODERS:
            raise ValueError(f"{where}: encoder must be one of {quoted(ENCODERS)}; got {self.encoder!r}.")

    def token_array(self, values, input_name, columns):
        """The input's values as an int32 array of token ids, checked.

        Parameters
        ----------
        values : array-like of shape (n_samples, n_columns)
            The input's values.
        input_name : str
            The input's name, used in error messages.
        columns : sequence of str
            Names of the input's columns, used in error messages.

        Returns
        -------
        tokens : ndarray of shape (n_samples, n_columns), dtype int32
            The token ids.

        Raises
        ------
        ValueError
            If a value is not an integer in ``[0, vocab_size)``.

        Examples
        --------
        >>> from skmultihead import EmbeddingBranch
        >>> tokens = EmbeddingBranch(vocab_size=10).token_array([[1.0, 2.0], [0.0, 9.0]], "tokens", ["t0", "t1"])
        >>> tokens.tolist(), tokens.dtype.name
        ([[1, 2], [0, 9]], 'int32')
        """
        values = np.asarray(values)
        bad = (values != np.round(values)) | (values < 0) | (values >= self.vocab_size)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"input {input_name!r} column {columns[col]!r} holds {values[row, col].item():g} at row {row}; token ids "
                f"of its EmbeddingBranch must be integers in [0, {self.vocab_size}) (vocab_size={self.vocab_size}, "
                f"0 is padding). {int(bad.sum())} value(s) are not."
            )
        return values.astype(np.int32)

    def build(self, x, name, *, activation, seeds):
        """Build the embedding and encoder on token-id tensor ``x`` and return their output.

        Parameters
        ----------
        x : keras tensor of shape (batch, n_columns)
            The input's Keras tensor of token ids.
        name : str
            The input's name; the layers are named ``<name>_embedding``,
            ``<name>_<encoder>``, ...
        activation : str
            Activation of the "conv1d" encoder.
        seeds : callable
            Called without arguments for each layer's seed (an int or None).

        Returns
        -------
        output : keras tensor of shape (batch, dim) or (batch, units)
            ``(batch, dim)`` for the "pool" encoder, ``(batch, units)`` for the others.

        Examples
        --------
        >>> import keras
        >>> from skmultihead import EmbeddingBranch
        >>> branch = EmbeddingBranch(vocab_size=10, dim=4, encoder="gru", units=6)
        >>> out = branch.build(keras.Input((5,)), "tokens", activation="relu", seeds=lambda: 0)
        >>> tuple(out.shape)
        (None, 6)
        """
        import keras

        x = keras.layers.Embedding(
            int(self.vocab_size),
            int(self.dim),
            embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seeds()),
            mask_zero=self.encoder != "conv1d",  # Conv1D cannot take a mask
            name=f"{name}_embedding",
        )(x)
        if self.encoder == "pool":
            return keras.layers.GlobalAveragePooling1D(name=f"{name}_pool")(x)
        initializers = dict(kernel_initializer=keras.initializers.GlorotUniform(seeds()))
        if self.encoder == "conv1d":
            x = keras.layers.Conv1D(
                int(self.units), int(self.kernel_size), padding="same", activation=activation,
                name=f"{name}_conv1d", **initializers,
            )(x)
            return keras.layers.GlobalMaxPooling1D(name=f"{name}_max")(x)
        recurrent = keras.layers.LSTM if self.encoder == "lstm" else keras.layers.GRU
        initializers["recurrent_initializer"] = keras.initializers.Orthogonal(seed=seeds())
        return recurrent(int(self.units), name=f"{name}_{self.encoder}", **initializers)(x)


class _CallableBranch:
    """A user's ``f(keras_tensor) -> keras_tensor`` as a branch."""

    token_ids = False

    def __init__(self, function):
        self.function = function

    def build(self, x, name, *, activation, seeds):
        from ._model import check_keras_tensor

        return check_keras_tensor(self.function(x), f"branches[{name!r}]", "the input's Keras tensor")


def resolve_branches(branches, input_names):
    """``{input: branch}`` for every input: the given ones checked, `DenseBranch()` elsewhere."""
    branches = dict(branches or {})
    for name, branch in branches.items():
        if name not in input_names:
            raise ValueError(
                f"branches names input {name!r}, which is not an input; the inputs are "
                f"{quoted(input_names)}.{suggest(name, input_names)}"
            )
        if isinstance(branch, EmbeddingBranch):
            branch.check(name)
        elif not isinstance(branch, DenseBranch) and not callable(branch):
            raise TypeError(
                f"branches[{name!r}] must be a DenseBranch, an EmbeddingBranch or a callable "
                f"f(keras_tensor) -> keras_tensor; got {type(branch).__name__}."
            )
    resolved = {}
    for name in input_names:
        branch = branches.get(name, DenseBranch())
        resolved[name] = branch if hasattr(branch, "build") else _CallableBranch(branch)
    return resolved

