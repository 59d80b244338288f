"""Targets: the user's container <-> ``{head name: array}``, and the checks every kind of
target shares (`as_pandas`, `check_same_length`, `column_to_1d`, `check_class_labels`,
`restore_dtype`).

Accepted containers, and the head names they give:

- ``pandas.DataFrame``: one head per column, named by the column;
- ``pandas.Series`` or a 1-D array: one head, named by the series or ``output_0``;
- ``dict``: ``{head name: 1-D or 2-D array}``;
- 2-D array (or a list of rows): one head per column, ``output_0``, ``output_1``, ...;
- ``list``/``tuple`` of numpy arrays or Series: one head per element, ``output_<i>``.

`join_targets` rebuilds the kind of container that `split_targets` received. Multilabel
targets are read in `_indicator`, factored targets in `_factors`.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.exceptions import DataConversionWarning

from ._plain import PlainState

ACCEPTED = (
    "a pandas DataFrame (one column per head), a pandas Series or 1-D array (one head), "
    "a dict {head name: array}, a 2-D array (one column per head) or a list of 1-D arrays"
)


@dataclass(frozen=True)
class TargetLayout(PlainState):
    """How a target was given, so predictions can be returned the same way."""

    kind: str  # "dataframe", "series", "dict", "array", "list" or "vector"
    names: tuple
    labels: tuple = ()  # original DataFrame column labels / Series name
    dtypes: tuple = ()  # pandas dtypes, for DataFrame and Series


def _default_names(n):
    return tuple(f"output_{i}" for i in range(n))


def as_pandas(y):
    """A polars DataFrame or Series as its pandas counterpart (column names and dtypes
    kept: numbers, booleans, strings); any other DataFrame library's frame through the
    dataframe interchange protocol or the Arrow interface (needs pyarrow); anything else
    unchanged."""
    if type(y).__module__.split(".")[0] == "polars" and hasattr(y, "to_numpy"):
        if hasattr(y, "columns"):
            return pd.DataFrame({name: y[name].to_numpy() for name in y.columns})
        return pd.Series(y.to_numpy(), name=y.name)
    if hasattr(y, "__dataframe__") and not isinstance(y, (pd.DataFrame, pd.Series)):
        with warnings.catch_warnings():  # pandas 3 deprecates the protocol in favour of Arrow's
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
            return pd.api.interchange.from_dataframe(y)
    if hasattr(y, "__arrow_c_stream__") and not isinstance(y, (pd.DataFrame, pd.Series, np.ndarray)):
        try:
            return pd.DataFrame.from_arrow(y)
        except ImportError as error:
            raise TypeError(
                f"y of type {type(y).__name__} is read through the Arrow interface, which needs pyarrow; "
                "install pyarrow or convert y to a pandas DataFrame."
            ) from error
    return y


def target_rows(y, rows, n_rows):
    """``rows`` of a target container of ``n_rows`` rows, as ``fit`` takes it: a dict of
    columns, a DataFrame or Series, a list of per-head arrays, a sparse matrix, a list of
    each row's labels or one array."""
    if isinstance(y, dict):
        return {name: target_rows(values, rows, n_rows) for name, values in y.items()}
    if isinstance(y, (pd.DataFrame, pd.Series)):
        return y.iloc[rows]
    per_head = isinstance(y, (list, tuple)) and y and len(y) != n_rows
    if per_head and all(isinstance(v, (np.ndarray, pd.Series)) for v in y):
        return type(y)(target_rows(v, rows, n_rows) for v in y)
    if hasattr(y, "tocsr"):
        return y.tocsr()[rows]
    if isinstance(y, list):  # labels of each row (sets, lists, strings)
        return [y[i] for i in rows]
    return np.asarray(y)[rows]


def _values(column):
    """A Series' values; a nullable integer column with missing values keeps its integers
    (numpy would make them floats, read as a regression target), None where missing."""
    if pd.api.types.is_integer_dtype(column.dtype) and column.hasnans:
        return column.to_numpy(dtype=object, na_value=None)
    return np.asarray(column)


def split_targets(y):
    """Split a target container into ``{head name: numpy array}`` and its layout.

    Raises
    ------
    TypeError
        If ``y`` is none of the accepted containers.
    ValueError
        If the heads do not all have the same number of rows.
    """
    if y is None:
        raise ValueError(f"this estimator requires y to be passed, but the target y is None; expected {ACCEPTED}.")
    y = as_pandas(y)
    if isinstance(y, pd.DataFrame):
        names = tuple(str(c) for c in y.columns)
        if len(set(names)) != len(names):
            raise ValueError(f"y has duplicate column names {list(y.columns)}; each head needs its own name.")
        columns = {n: _values(y[c]) for n, c in zip(names, y.columns)}
        layout = TargetLayout("dataframe", names, tuple(y.columns), tuple(y.dtypes))
    elif isinstance(y, pd.Series):
        name = "output_0" if y.name is None else str(y.name)
        columns = {name: _values(y)}
        layout = TargetLayout("series", (name,), (y.name,), (y.dtype,))
    elif isinstance(y, dict):
        bad = [k for k in y if not isinstance(k, str)]
        if bad:
            raise TypeError(f"y is a dict whose keys must be head names (str); got {bad!r}.")
        columns = {k: np.asarray(v) for k, v in y.items()}
        layout = TargetLayout("dict", tuple(y))
    elif isinstance(y, (list, tuple)) and y and all(isinstance(v, (np.ndarray, pd.Series)) for v in y):
        names = _default_names(len(y))
        columns = dict(zip(names, (np.asarray(v) for v in y)))
        layout = TargetLayout("list", names)
    elif (isinstance(y, (list, tuple)) or hasattr(y, "__array__")) and not sparse.issparse(y):
        array = np.asarray(y)
        if array.ndim == 1:
            columns = {"output_0": array}
            layout = TargetLayout("vector", ("output_0",))
        elif array.ndim == 2:
            names = _default_names(array.shape[1])
            columns = {n: array[:, i] for i, n in enumerate(names)}
            layout = TargetLayout("array", names)
        else:
            raise ValueError(f"y has {array.ndim} dimensions; expected {ACCEPTED}.")
    else:
        raise TypeError(f"y of type {type(y).__name__} is not accepted; expected {ACCEPTED}.")
    if not columns:
        raise ValueError(f"y has no heads; expected {ACCEPTED}.")
    check_same_length(columns)
    return columns, layout


def check_same_length(columns):
    """Raise ValueError unless every column of ``{name: array}`` has one row per sample."""
    lengths = {name: len(v) if np.ndim(v) else None for name, v in columns.items()}
    if None in lengths.values() or len(set(lengths.values())) > 1:
        raise ValueError(f"every head's target must have one row per sample; got lengths {lengths}.")


def join_targets(columns, layout, index=None):
    """Rebuild the container kind described by ``layout`` from ``{head name: array}``.

    Parameters
    ----------
    columns : dict
        One array per head, in any order; all heads of ``layout`` must be present.
    layout : TargetLayout
        As returned by `split_targets`.
    index : pandas.Index, optional
        Row index for DataFrame and Series outputs.
    """
    values = [columns[n] for n in layout.names]
    if layout.kind == "dataframe":
        data = {label: restore_dtype(v, dtype, index) for label, v, dtype in zip(layout.labels, values, layout.dtypes)}
        return pd.DataFrame(data, index=index)
    if layout.kind == "series":
        return restore_dtype(values[0], layout.dtypes[0], index).rename(layout.labels[0])
    if layout.kind == "dict":
        return dict(zip(layout.names, values))
    if layout.kind == "list":
        return values
    if layout.kind == "vector":
        return values[0]
    return np.column_stack(values)


def restore_dtype(values, dtype, index):
    """A Series of ``values`` in its original pandas ``dtype`` (categoricals, strings, ...)."""
    series = pd.Series(values, index=index)
    # Float predictions (a regression head on an integer column) keep their float dtype.
    if values.dtype.kind != "f" or pd.api.types.is_float_dtype(dtype):
        series = series.astype(dtype)
    return series


def column_to_1d(array):
    """An (n, 1) array as 1-D labels, with scikit-learn's warning."""
    if array.ndim != 2 or array.shape[1] != 1:
        return array
    warnings.warn(
        "A column-vector y was passed when a 1d array was expected; reading it as 1-D labels.",
        DataConversionWarning,
        stacklevel=5,
    )
    return array[:, 0]


def check_class_labels(labels, what="y"):
    """Class labels: no missing values, and floats only if they are whole numbers."""
    missing = pd.isna(labels)
    if missing.any():
        raise ValueError(
            f"{what} has {missing.sum()} missing label(s) (rows {np.flatnonzero(missing)[:5].tolist()}); drop or fill them."
        )
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise ValueError(f"{what} contains infinity; class labels are finite.")
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise ValueError(
            f"Unknown label type: continuous. {what} holds non-integer floats; this classifier takes class "
            "labels, not continuous values."
        )
