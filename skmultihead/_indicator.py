"""Multilabel targets: a 0/1 indicator matrix, a DataFrame of 0/1 columns, label sets or
class labels <-> an (n_samples, n_labels) 0/1 indicator array (`split_indicator`,
`join_indicator`)."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ._plain import PlainState
from ._targets import as_pandas, check_class_labels, column_to_1d

INDICATOR_ACCEPTED = (
    "a 0/1 indicator matrix (2-D array, list of equal-length 0/1 rows or scipy sparse matrix), "
    "a DataFrame of 0/1 or bool columns (one per label), a list of label sets, or a 1-D array "
    "of class labels (one label per sample)"
)
_LABEL_SET_TYPES = (set, frozenset, list, tuple)


@dataclass(frozen=True)
class IndicatorLayout(PlainState):
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
    y = as_pandas(y)
    if isinstance(y, pd.DataFrame):
        indicator, new = _from_dataframe(y)
    elif sparse.issparse(y):
        indicator = _checked_01(y.toarray(), range(y.shape[1]))
        new = IndicatorLayout("sparse", np.arange(y.shape[1]), y.dtype, type(y))
    elif _is_label_sets(y):
        return _from_labels(list(y), "label_sets", layout, classes)
    else:
        array = np.asarray(y)
        array = column_to_1d(array)
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
    """The 0/1 indicator as uint8; as float32 with NaN where a label is unknown (NaN, None)."""
    if array.dtype == bool:
        return array.astype(np.uint8)
    if array.dtype.kind == "O":
        array = pd.to_numeric(pd.Series(array.ravel()), errors="coerce").to_numpy(float).reshape(array.shape) \
            if pd.isna(array).any() else array
    if array.dtype.kind not in "biuf":
        raise ValueError(f"a multilabel indicator target holds only 0 and 1; got values of dtype {array.dtype}.")
    bad = ~np.isin(array, (0, 1)) & ~pd.isna(array)
    if bad.any():
        column = int(np.flatnonzero(bad.any(axis=0))[0])
        values = np.unique(array[:, column][bad[:, column]])[:5]
        where = f"label {names[column]!r}" + ("" if len(names) == 1 else f" (column {column})")
        raise ValueError(f"a multilabel indicator target holds only 0 and 1; {where} has {values.tolist()}.")
    return array.astype(np.float32 if pd.isna(array).any() else np.uint8)


def _from_dataframe(y):
    names = np.asarray(list(y.columns), dtype=object)
    if len(set(names)) != len(names):
        raise ValueError(f"y has duplicate column names {list(y.columns)}; each label needs its own name.")
    for name, column in y.items():
        if not (pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype)):
            raise ValueError(f"label column {name!r} has dtype {column.dtype}; label columns hold 0/1 or booleans.")
        _checked_01((column.to_numpy(dtype=float, na_value=np.nan) if column.isna().any() else column.to_numpy())[:, None],
                    [name])
    values = y.to_numpy(dtype=np.float32, na_value=np.nan)
    indicator = values if np.isnan(values).any() else values.astype(np.uint8)  # NaN: that label unknown
    return indicator, IndicatorLayout("dataframe", names, tuple(y.dtypes))


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
        check_class_labels(rows)
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
            container = next(t for t in _LABEL_SET_TYPES if isinstance(rows[0], t))  # a namedtuple: tuple
            layout = IndicatorLayout(kind, _object_array(labels), container=container)
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
