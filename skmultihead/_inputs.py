"""Inputs: X (DataFrame or array) -> the named arrays the network reads (column groups)."""

import re

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from ._messages import suggest


def check_features(estimator, X, *, reset, dtype="float32"):
    """Validate ``X`` and return it as a float array (float32 unless ``dtype`` says otherwise).

    Sets (``reset=True``) or checks ``n_features_in_`` and ``feature_names_in_``.

    Raises
    ------
    TypeError
        If a column is not numeric; the message names it and says how to encode it.
    ValueError
        If X holds NaN or inf, or has another number of features than at fit.
    """
    _check_numeric(X)
    return validate_data(estimator, X, reset=reset, dtype=dtype, ensure_min_samples=1)


def _check_numeric(X):
    if isinstance(X, pd.DataFrame):
        bad = [
            c
            for c, dtype in X.dtypes.items()
            if not (pd.api.types.is_numeric_dtype(dtype) or (dtype == object and _is_numeric_column(X[c].to_numpy())))
        ]
    else:
        array = np.asarray(X) if not hasattr(X, "tocsr") else None
        if array is None or array.dtype.kind not in "OUS" or array.ndim != 2:
            return
        bad = [i for i in range(array.shape[1]) if not _is_numeric_column(array[:, i])]
    if bad:
        raise TypeError(
            f"X column {bad[0]!r} is not numeric ({len(bad)} such column(s): {bad[:5]}); the network "
            "reads numbers only. Encode it first, e.g. with sklearn.compose.make_column_transformer("
            f"(OneHotEncoder(), [{bad[0]!r}]), remainder='passthrough') in a Pipeline."
        )


def _is_numeric_column(column):
    try:
        column.astype(float)
    except ValueError:  # strings such as category names
        return False
    except TypeError:  # other objects (dicts, ...): check_array reports them
        pass
    return True


def row_index(X):
    """X's index when X is a DataFrame, else None."""
    return X.index if isinstance(X, pd.DataFrame) else None


DEFAULT_INPUT = "features"  # the one input when ``inputs`` is not given
REMAINDER_INPUT = "remainder"  # the input of unclaimed columns with remainder="passthrough"
REMAINDERS = ("error", "drop", "passthrough")


def column_index(column, n_features, names, where):
    """The index in X of ``column`` (a name of a DataFrame's column, or an integer index);
    ``where`` names the parameter in errors."""
    if isinstance(column, (int, np.integer)) and not isinstance(column, bool):
        if not 0 <= column < n_features:
            raise ValueError(f"{where} has column index {column}; X has {n_features} columns.")
        return int(column)
    if column not in names:
        known = f"X's columns are {names[:10]}" if names else "X has no column names (pass integer indices)"
        raise ValueError(f"{where} names column {column!r}, which is not in X; {known}.{suggest(column, names)}")
    return names.index(column)


def check_name(name, what):
    """A name Keras accepts for a layer, or a clear error."""
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"{what} name {name!r} must be a non-empty string without '/' (it names a Keras layer).")
    return name


_TENSORFLOW_NAME = re.compile(r"[A-Za-z0-9_.>-]+")  # TensorFlow's scope names, less the '/' Keras refuses


def check_output_name(name, what):
    """A name Keras accepts for an output layer and its loss on this backend, or a clear error."""
    check_name(name, what)
    import keras

    if keras.backend.backend() == "tensorflow" and not _TENSORFLOW_NAME.fullmatch(name):
        usable = re.sub(r"[^A-Za-z0-9_.>-]+", "_", name)
        raise ValueError(
            f"{what} name {name!r}: TensorFlow names the network's output and its loss after it, and accepts "
            f"only letters, digits and '_', '.', '-', '>' there; rename it (e.g. {usable!r})."
        )
    return name


def check_head_names(names):
    """Head names a network can take, whose ``history_`` entries read as their own."""
    for name in names:
        check_output_name(name, "head")
        if name == "val" or (name.startswith("val_") and name[4:] in names):
            raise ValueError(f"head {name!r}: history_ names validation entries 'val_<entry>', so its entries "
                             "would be mistaken for validation ones; give the head another name.")


def resolve_inputs(inputs, remainder, n_features, names):
    """``{input name: X column indices}`` from the ``inputs`` parameter.

    Every column belongs to exactly one input; unclaimed columns are an error, dropped, or
    the input "remainder" as ``remainder`` says. Without ``inputs``, one input "features"
    holds every column.
    """
    if inputs is None:
        return {DEFAULT_INPUT: list(range(n_features))}
    if not inputs:
        raise ValueError("inputs must be a non-empty dict {input name: list of columns}; got an empty dict.")
    columns, owner = {}, {}
    for name, spec in inputs.items():
        check_name(name, "input")
        spec = [spec] if isinstance(spec, (str, int, np.integer)) else list(spec)
        if not spec:
            raise ValueError(f"input {name!r} has no columns.")
        columns[name] = [column_index(c, n_features, names, f"inputs[{name!r}]") for c in spec]
        for index in columns[name]:
            if index in owner:
                label = names[index] if names else index
                raise ValueError(
                    f"X column {label!r} is claimed by inputs {owner[index]!r} and {name!r}; "
                    "each column belongs to one input."
                )
            owner[index] = name
    unclaimed = [i for i in range(n_features) if i not in owner]
    if unclaimed and remainder == "error":
        labels = [names[i] for i in unclaimed] if names else unclaimed
        raise ValueError(
            f"X column(s) {labels[:10]} ({len(unclaimed)} in all) belong to no input; list them in `inputs`, "
            "or pass remainder='drop' to leave them out or remainder='passthrough' to read them as "
            f"an input named {REMAINDER_INPUT!r}."
        )
    if unclaimed and remainder == "passthrough":
        if REMAINDER_INPUT in columns:
            raise ValueError(f"an input is named {REMAINDER_INPUT!r}, which remainder='passthrough' needs for itself.")
        columns[REMAINDER_INPUT] = unclaimed
    return columns


def split_inputs(X, input_columns, branches, names):
    """``{input name: array}`` the network reads: X's columns of each input, token ids
    checked and as int32."""
    arrays = {}
    for name, columns in input_columns.items():
        values = X if columns == list(range(X.shape[1])) else X[:, columns]
        branch = branches[name]
        if branch.token_ids:
            values = branch.token_array(values, name, [names[c] if names else c for c in columns])
        arrays[name] = values
    return arrays
