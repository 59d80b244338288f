"""Inputs: X (DataFrame or array) -> the float array the network reads."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data


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
        bad = [c for c, dtype in X.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
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
