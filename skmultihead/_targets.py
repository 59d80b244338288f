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
        array = _column_to_1d(array)
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


def _column_to_1d(array):
    """An (n, 1) array as 1-D labels, with scikit-learn's warning."""
    if array.ndim != 2 or array.shape[1] != 1:
        return array
    warnings.warn(
        "A column-vector y was passed when a 1d array was expected; reading it as 1-D labels.",
        DataConversionWarning,
        stacklevel=5,
    )
    return array[:, 0]


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


def _check_class_labels(labels, what="y"):
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


# -- factored targets --------------------------------------------------------------------------
FACTOR_ACCEPTED = (
    "1-D joint labels (split by `separator`), 1-D class labels (one factor), a DataFrame with "
    "one column per factor, a sequence of tuples or 2-D array (one column per factor), or "
    "one-hot joint rows with `factor_shape`"
)


@dataclass(frozen=True)
class FactorLayout(PlainState):
    """How a factored target was given, and the classes of each factor."""

    kind: str  # "joined", "single", "dataframe", "rows" (tuples / 2-D array) or "one_hot"
    names: tuple  # factor names
    classes: tuple  # one sorted array of classes per factor
    separator: str = None
    dtypes: tuple = ()  # pandas dtypes (dataframe) or the numpy dtype (one_hot, rows)
    container: type = None  # type of each row (rows)

    @property
    def shape(self):
        return tuple(len(c) for c in self.classes)


def split_factors(y, separator=None, factor_names=None, factor_shape=None, layout=None, classes=None):
    """Split a factored target into ``{factor: 1-D labels}``.

    Parameters
    ----------
    y : target container
        See ``FACTOR_ACCEPTED``.
    separator : str, optional
        Splits 1-D joint labels into their factors ("near-large" -> "near", "large").
    factor_names : sequence of str, optional
        Names of the factors of targets without names (default ``factor_0``, ...).
    factor_shape : tuple of int, optional
        Number of classes per factor of a one-hot joint target (row-major, as the
        outer-product merge lays the joint classes out).
    layout : FactorLayout, optional
        The layout learned at fit; None learns one (with each factor's sorted classes).
    classes : array-like, optional
        With no layout: every joint class, including classes ``y`` lacks (``partial_fit``).

    Returns
    -------
    columns : dict of str to ndarray
    layout : FactorLayout
    """
    if y is None:
        raise ValueError(f"this estimator requires y to be passed, but the target y is None; expected {FACTOR_ACCEPTED}.")
    y = as_pandas(y)
    given = layout
    if factor_shape is not None:
        columns, layout = _from_one_hot(y, factor_shape)
    elif isinstance(y, pd.DataFrame):
        columns = {str(c): np.asarray(y[c]) for c in y.columns}
        layout = FactorLayout("dataframe", tuple(columns), (), dtypes=tuple(y.dtypes))
    else:
        rows = y if isinstance(y, (list, tuple)) and y and isinstance(y[0], tuple) else None
        array = np.asarray(y if rows is None else [tuple(r) for r in rows], dtype=object if rows else None)
        if rows is None:
            array = _column_to_1d(array)
        if array.ndim == 1 and separator is not None:
            columns, layout = _from_joined(array, separator)
        elif array.ndim == 1:
            columns, layout = {"factor_0": array}, FactorLayout("single", ("factor_0",), ())
        elif array.ndim == 2:
            names = tuple(f"factor_{i}" for i in range(array.shape[1]))
            columns = {name: array[:, i] for i, name in enumerate(names)}
            layout = FactorLayout("rows", names, (), dtypes=(array.dtype,), container=tuple if rows else np.ndarray)
        else:
            raise ValueError(f"y has {array.ndim} dimensions; expected {FACTOR_ACCEPTED}.")
    if factor_names is not None and layout.kind != "dataframe":
        factor_names = tuple(str(n) for n in factor_names)
        if len(factor_names) != len(columns):
            raise ValueError(f"factor_names has {len(factor_names)} names but y has {len(columns)} factors.")
        columns = dict(zip(factor_names, columns.values()))
        layout = _replace(layout, names=factor_names)
    _check_same_length(columns)
    for name, values in columns.items():
        _check_class_labels(values, f"factor {name!r}")
    if given is None:
        found = layout.classes or tuple(np.unique(values) for values in columns.values())
        if classes is not None and layout.kind in ("single", "joined"):
            every = split_factors(np.asarray(classes), separator, factor_names, factor_shape)[1]
            found = tuple(np.union1d(a, b) for a, b in zip(found, every.classes))
        return columns, _replace(layout, classes=found)
    if tuple(columns) != given.names:
        raise ValueError(f"y has factors {list(columns)} but the model was fitted with {list(given.names)}.")
    return columns, given


def _replace(layout, **changes):
    return FactorLayout(**{**layout.__dict__, **changes})


def _from_joined(labels, separator):
    if not all(isinstance(v, str) for v in labels):
        raise ValueError(
            f"separator {separator!r} splits string labels; y holds {type(labels[0]).__name__} values. "
            "(StackingClassifier and VotingClassifier encode the labels as integers before fitting their "
            "estimators: give FactoredLabelNN joint_classes=np.unique(y) to read those integers as positions "
            "in the joint classes.)"
        )
    parts = [label.split(separator) for label in labels]
    counts = np.array([len(p) for p in parts])
    expected = np.bincount(counts).argmax()
    if (counts != expected).any():
        i = int(np.flatnonzero(counts != expected)[0])
        raise ValueError(
            f"label {labels[i]!r} (row {i}) splits into {counts[i]} parts by {separator!r}, but the other labels "
            f"split into {expected}; every joint label needs one part per factor."
        )
    names = tuple(f"factor_{i}" for i in range(expected))
    columns = {name: np.array([p[i] for p in parts], dtype=object) for i, name in enumerate(names)}
    return columns, FactorLayout("joined", names, (), separator=separator)


def _from_one_hot(y, factor_shape):
    shape = tuple(int(k) for k in factor_shape)
    array = np.asarray(y)
    width = int(np.prod(shape))
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(
            f"factor_shape {shape} describes one-hot joint rows of {width} columns (their product); "
            f"y has shape {array.shape}."
        )
    if not (np.isin(array, (0, 1)).all() and (array.sum(axis=1) == 1).all()):
        raise ValueError("with factor_shape, y must be one-hot joint rows (0/1, exactly one 1 per row).")
    codes = np.unravel_index(array.argmax(axis=1), shape)
    names = tuple(f"factor_{i}" for i in range(len(shape)))
    classes = tuple(np.arange(k) for k in shape)
    return dict(zip(names, codes)), FactorLayout("one_hot", names, classes, dtypes=(array.dtype,))


def join_factors(columns, layout, index=None):
    """Rebuild the kind of factored target described by ``layout`` from ``{factor: labels}``."""
    values = [columns[name] for name in layout.names]
    if layout.kind == "joined":
        return np.array([layout.separator.join(map(str, parts)) for parts in zip(*values)], dtype=object)
    if layout.kind == "single":
        return values[0]
    if layout.kind == "dataframe":
        return pd.DataFrame({n: _restore(v, d, index) for n, v, d in zip(layout.names, values, layout.dtypes)}, index=index)
    if layout.kind == "one_hot":
        joint = np.ravel_multi_index(values, layout.shape)
        return np.eye(int(np.prod(layout.shape)), dtype=layout.dtypes[0])[joint]
    if layout.container is tuple:
        return list(zip(*values))
    return np.column_stack(values).astype(layout.dtypes[0])
