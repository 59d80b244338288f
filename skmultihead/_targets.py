"""Targets: the user's container <-> ``{head name: array}``.

Accepted containers, and the head names they give:

- ``pandas.DataFrame``: one head per column, named by the column;
- ``pandas.Series`` or a 1-D array: one head, named by the series or ``output_0``;
- ``dict``: ``{head name: 1-D or 2-D array}``;
- 2-D array (or a list of rows): one head per column, ``output_0``, ``output_1``, ...;
- ``list``/``tuple`` of numpy arrays or Series: one head per element, ``output_<i>``.

`join_targets` rebuilds the kind of container that `split_targets` received.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.exceptions import DataConversionWarning

ACCEPTED = (
    "a pandas DataFrame (one column per head), a pandas Series or 1-D array (one head), "
    "a dict {head name: array}, a 2-D array (one column per head) or a list of 1-D arrays"
)


@dataclass(frozen=True)
class TargetLayout:
    """How a target was given, so predictions can be returned the same way."""

    kind: str  # "dataframe", "series", "dict", "array", "list" or "vector"
    names: tuple
    labels: tuple = ()  # original DataFrame column labels / Series name
    dtypes: tuple = ()  # pandas dtypes, for DataFrame and Series


def _default_names(n):
    return tuple(f"output_{i}" for i in range(n))


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
    if isinstance(y, pd.DataFrame):
        names = tuple(str(c) for c in y.columns)
        if len(set(names)) != len(names):
            raise ValueError(f"y has duplicate column names {list(y.columns)}; each head needs its own name.")
        columns = {n: np.asarray(y[c]) for n, c in zip(names, y.columns)}
        layout = TargetLayout("dataframe", names, tuple(y.columns), tuple(y.dtypes))
    elif isinstance(y, pd.Series):
        name = "output_0" if y.name is None else str(y.name)
        columns = {name: np.asarray(y)}
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
    _check_same_length(columns)
    return columns, layout


def _check_same_length(columns):
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
        data = {label: _restore(v, dtype, index) for label, v, dtype in zip(layout.labels, values, layout.dtypes)}
        return pd.DataFrame(data, index=index)
    if layout.kind == "series":
        return _restore(values[0], layout.dtypes[0], index).rename(layout.labels[0])
    if layout.kind == "dict":
        return dict(zip(layout.names, values))
    if layout.kind == "list":
        return values
    if layout.kind == "vector":
        return values[0]
    return np.column_stack(values)


def _restore(values, dtype, index):
    """A Series of ``values`` in its original pandas dtype (categoricals, strings, ...)."""
    series = pd.Series(values, index=index)
    # Float predictions (a regression head on an integer column) keep their float dtype.
    if values.dtype.kind != "f" or pd.api.types.is_float_dtype(dtype):
        series = series.astype(dtype)
    return series


# -- multilabel targets ------------------------------------------------------------------------
INDICATOR_ACCEPTED = (
    "a 0/1 indicator matrix (2-D array, list of equal-length 0/1 rows or scipy sparse matrix), "
    "a DataFrame of 0/1 or bool columns (one per label), a list of label sets, or a 1-D array "
    "of class labels (one label per sample)"
)
_LABEL_SET_TYPES = (set, frozenset, list, tuple)


@dataclass(frozen=True)
class IndicatorLayout:
    """How a multilabel target was given, so predictions can be returned the same way."""

    kind: str  # "array", "sparse", "dataframe", "label_sets" or "single" (1-D class labels)
    classes: np.ndarray  # the label names, in column order
    dtype: object = None  # numpy dtype (array, sparse), or pandas dtypes per column (dataframe)
    container: type = None  # sparse matrix class, or the type of each label set


def split_indicator(y, layout=None, classes=None):
    """A multilabel target as an (n_samples, n_labels) 0/1 indicator array.

    Parameters
    ----------
    y : target container
        See ``INDICATOR_ACCEPTED``. A 1-D target of class labels is the indicator of one
        label per sample; an (n, 1) array is read as 1-D, with a DataConversionWarning.
    layout : IndicatorLayout, optional
        The layout learned at fit: ``y`` must have the same labels (label sets and class
        labels are encoded with its label names). None learns a new layout.
    classes : array-like, optional
        With no layout: every label, including labels ``y`` lacks (``partial_fit``).

    Returns
    -------
    indicator : ndarray of shape (n_samples, n_labels), dtype uint8
    layout : IndicatorLayout
    """
    if y is None:
        raise ValueError(f"this estimator requires y to be passed, but the target y is None; expected {INDICATOR_ACCEPTED}.")
    if isinstance(y, pd.DataFrame):
        indicator, new = _from_dataframe(y)
    elif sparse.issparse(y):
        indicator = _checked_01(y.toarray(), range(y.shape[1]))
        new = IndicatorLayout("sparse", np.arange(y.shape[1]), y.dtype, type(y))
    elif _is_label_sets(y):
        return _from_labels(list(y), "label_sets", layout, classes)
    else:
        array = np.asarray(y)
        if array.ndim == 2 and array.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; reading it as 1-D class labels.",
                DataConversionWarning,
                stacklevel=4,
            )
            array = array[:, 0]
        if array.ndim == 1:
            return _from_labels(array, "single", layout, classes)
        if array.ndim != 2:
            raise ValueError(f"y has {array.ndim} dimensions; expected {INDICATOR_ACCEPTED}.")
        indicator = _checked_01(array, range(array.shape[1]))
        new = IndicatorLayout("array", np.arange(array.shape[1]), array.dtype)
    if layout is None:
        _check_two_labels(new.classes)
        if classes is not None and len(classes) != len(new.classes):
            raise ValueError(f"classes has {len(classes)} labels but y has {len(new.classes)} label columns.")
        return indicator, new
    if len(new.classes) != len(layout.classes):
        raise ValueError(
            f"y has {len(new.classes)} labels but the model was fitted with {len(layout.classes)}; "
            "give one column per label, in the order of classes_."
        )
    if new.kind == "dataframe" and layout.kind == "dataframe" and list(new.classes) != list(layout.classes):
        raise ValueError(
            f"y has label columns {list(new.classes)[:10]} but the model was fitted with "
            f"{list(layout.classes)[:10]}; give the same columns in the same order."
        )
    return indicator, layout


def _check_two_labels(classes):
    if len(classes) < 2:
        raise ValueError(
            f"y has {len(classes)} class/label ({list(classes)}); a multilabel target needs at least "
            "two labels, and a class-label target at least two classes."
        )


def _checked_01(array, names):
    if array.dtype == bool:
        return array.astype(np.uint8)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"a multilabel indicator target holds only 0 and 1; got values of dtype {array.dtype}.")
    bad = ~np.isin(array, (0, 1))
    if bad.any():
        column = int(np.flatnonzero(bad.any(axis=0))[0])
        values = np.unique(array[:, column][bad[:, column]])[:5]
        where = f"label {names[column]!r}" + ("" if len(names) == 1 else f" (column {column})")
        raise ValueError(f"a multilabel indicator target holds only 0 and 1; {where} has {values.tolist()}.")
    return array.astype(np.uint8)


def _from_dataframe(y):
    names = np.asarray(list(y.columns), dtype=object)
    if len(set(names)) != len(names):
        raise ValueError(f"y has duplicate column names {list(y.columns)}; each label needs its own name.")
    for name, column in y.items():
        if not (pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype)):
            raise ValueError(f"label column {name!r} has dtype {column.dtype}; label columns hold 0/1 or booleans.")
        if column.isna().any():
            raise ValueError(f"label column {name!r} has missing values; fill or drop them before fitting.")
        _checked_01(column.to_numpy()[:, None], [name])
    return y.to_numpy(dtype=np.uint8), IndicatorLayout("dataframe", names, tuple(y.dtypes))


def _is_label_sets(y):
    """Label sets: a sequence of sets, or of lists/tuples that are not equal-length 0/1 rows."""
    if isinstance(y, (np.ndarray, pd.Series)) and y.dtype != object:
        return False
    if not isinstance(y, (list, tuple, np.ndarray, pd.Series)) or len(y) == 0:
        return False
    rows = list(y)
    if not any(isinstance(row, _LABEL_SET_TYPES) for row in rows):
        return False  # class labels, one per sample
    if any(isinstance(row, (set, frozenset)) for row in rows):
        return True
    try:
        array = np.asarray(rows)
    except ValueError:  # ragged rows
        return True
    return not (array.ndim == 2 and array.dtype.kind in "biuf" and np.isin(array, (0, 1)).all())


def _from_labels(rows, kind, layout, classes=None):
    """Indicator of label sets (``kind="label_sets"``) or of one class label per row."""
    if kind == "single":
        _check_class_labels(rows)
        rows = [(label,) for label in rows]
    for i, row in enumerate(rows):
        if not isinstance(row, _LABEL_SET_TYPES):
            raise TypeError(
                f"y[{i}] is a {type(row).__name__}; each row of a label-set target is a set, list "
                "or tuple of labels (write {'sports'} or ['sports'], not 'sports')."
            )
        for label in row:
            try:
                hash(label)
            except TypeError:
                raise TypeError(
                    f"y[{i}] holds {label!r}, which is not hashable; labels must be hashable values "
                    "such as strings or ints."
                ) from None
    if layout is None:
        seen = set().union(*map(set, rows)) if classes is None else set(classes)
        try:
            labels = sorted(seen)
        except TypeError:
            raise TypeError(
                f"the labels mix types that cannot be sorted ({sorted({type(v).__name__ for v in seen})}); "
                "use labels of one type."
            ) from None
        _check_two_labels(labels)
        if kind == "single":
            values = np.asarray([row[0] for row in rows] if classes is None else classes)
            layout = IndicatorLayout(kind, np.unique(values))
        else:
            layout = IndicatorLayout(kind, _object_array(labels), container=type(rows[0]))
    elif (kind == "single") != (layout.kind == "single"):
        fitted = "class labels (one per sample)" if layout.kind == "single" else "multilabel targets"
        raise ValueError(f"y is not the kind of target the model was fitted on: {fitted}, labels {list(layout.classes)[:10]}.")
    position = {label: j for j, label in enumerate(layout.classes.tolist())}
    indicator = np.zeros((len(rows), len(position)), dtype=np.uint8)
    for i, row in enumerate(rows):
        unknown = [label for label in row if label not in position]
        if unknown:
            raise ValueError(
                f"y[{i}] has label(s) {unknown[:5]} that were not in the training data; "
                f"the labels are {list(layout.classes)[:10]}."
            )
        indicator[i, [position[label] for label in row]] = 1
    return indicator, layout


def _check_class_labels(labels):
    missing = pd.isna(labels)
    if missing.any():
        raise ValueError(f"y has {missing.sum()} missing label(s) (rows {np.flatnonzero(missing)[:5].tolist()}); drop or fill them.")
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise ValueError(
            "Unknown label type: continuous. y holds non-integer floats; this classifier takes class "
            "labels, label sets or a 0/1 indicator matrix."
        )


def _object_array(values):
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def join_indicator(indicator, layout, index=None):
    """Rebuild the kind of multilabel target described by ``layout`` from a 0/1 array
    (for class labels, the first label of each row)."""
    if layout.kind == "single":
        return layout.classes[indicator.argmax(axis=1)]
    if layout.kind == "dataframe":
        return pd.DataFrame(
            {
                label: pd.Series(indicator[:, j], index=index).astype(dtype)
                for j, (label, dtype) in enumerate(zip(layout.classes, layout.dtype))
            },
            index=index,
        )
    if layout.kind == "sparse":
        return layout.container(indicator.astype(layout.dtype))
    if layout.kind == "label_sets":
        return [layout.container(layout.classes[np.flatnonzero(row)].tolist()) for row in indicator]
    return indicator.astype(layout.dtype)
