"""Factored targets: joint labels, factor columns or one-hot joint rows <-> ``{factor:
1-D labels}`` (`split_factors`, `join_factors`); the joint classes the factors make, and
the checks of FactoredLabelNN's factor options."""

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._messages import quoted, suggest
from ._plain import PlainState
from ._targets import as_pandas, check_class_labels, check_same_length, column_to_1d, restore_dtype

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
            array = column_to_1d(array)
        if array.ndim == 1:
            _check_whole(array)
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
    check_same_length(columns)
    present = {name: values[~pd.isna(values)] for name, values in columns.items()}  # a missing factor: see _missing
    for name, values in present.items():
        check_class_labels(values, f"factor {name!r}")
    if given is None:
        found = layout.classes or tuple(np.unique(values) for values in present.values())
        if classes is not None and layout.kind in ("single", "joined"):
            every = split_factors(np.asarray(classes), separator, factor_names, factor_shape)[1]
            found = tuple(np.union1d(a, b) for a, b in zip(found, every.classes))
        return columns, _replace(layout, classes=found)
    if tuple(columns) != given.names:
        raise ValueError(f"y has factors {list(columns)} but the model was fitted with {list(given.names)}.")
    return columns, given


def _check_whole(labels):
    """1-D joint labels: a missing label would be missing in every factor, so it is refused."""
    missing = pd.isna(labels)
    if missing.any():
        raise ValueError(
            f"y has {missing.sum()} missing joint label(s) (rows {np.flatnonzero(missing)[:5].tolist()}); a 1-D joint "
            "label cannot be partly missing. Give the factors as a DataFrame (a column per factor, None where a "
            "factor is unknown) with missing_targets='mask' to train the factors each row has, or drop those rows."
        )


def _replace(layout, **changes):
    """``layout`` with some fields changed."""
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
        return pd.DataFrame({n: restore_dtype(v, d, index) for n, v, d in zip(layout.names, values, layout.dtypes)}, index=index)
    if layout.kind == "one_hot":
        joint = np.ravel_multi_index(values, layout.shape)
        return np.eye(int(np.prod(layout.shape)), dtype=layout.dtypes[0])[joint]
    if layout.container is tuple:
        return list(zip(*values))
    return np.column_stack(values).astype(layout.dtypes[0])


def joint_codes(columns, layout, unseen="raise"):
    """Each row's position in the joint classes, from ``{factor: labels}``.

    A row missing a factor has no joint class (None); a row with a label not among its
    factor's classes has position -1 with ``unseen="wrong"`` (to score: no prediction is
    right), else raises.

    Raises
    ------
    ValueError
        If a factor has a label that is not one of its classes in ``layout``.
    """
    complete = np.ones(len(next(iter(columns.values()))), dtype=bool)
    for name in layout.names:
        complete &= ~pd.isna(columns[name])
    codes, unknown_rows = [], np.zeros(complete.sum(), dtype=bool)
    for name, classes in zip(layout.names, layout.classes):
        values = columns[name][complete]
        known = np.isin(values, classes)
        if not known.all() and unseen == "raise":
            raise ValueError(
                f"factor {name!r} has labels {np.unique(values[~known])[:5].tolist()} that were not in the training "
                f"data; its classes are {classes.tolist()}."
            )
        unknown_rows |= ~known
        codes.append(np.searchsorted(classes, values).clip(max=len(classes) - 1))
    joint = np.where(unknown_rows, -1, np.ravel_multi_index(codes, layout.shape))
    if complete.all():
        return joint
    with_gaps = np.full(len(complete), None, dtype=object)  # the joint class is missing where a factor is
    with_gaps[complete] = joint
    return with_gaps


def joint_classes(layout):
    """Every joint class: the Cartesian product of the factors' classes, row-major.

    Examples
    --------
    >>> import numpy as np
    >>> layout = FactorLayout("joined", ("d", "s"), (np.array(["far", "near"]), np.array(["big", "small"])), "-")
    >>> joint_classes(layout).tolist()
    ['far-big', 'far-small', 'near-big', 'near-small']
    """
    if layout.kind == "single":
        return layout.classes[0]
    if layout.kind == "one_hot":
        return np.arange(int(np.prod(layout.shape)))
    combos = list(itertools.product(*(c.tolist() for c in layout.classes)))
    joint = np.empty(len(combos), dtype=object)
    joint[:] = [layout.separator.join(map(str, c)) for c in combos] if layout.kind == "joined" else combos
    return joint


def positions(classes, labels):
    """The positions of ``labels`` in ``classes``, as a list."""
    position = {label: i for i, label in enumerate(classes.tolist())}
    return [position[label] for label in labels]


def from_positions(y, classes):
    """``y`` and, for integer targets with ``classes`` (the ``joint_classes`` parameter),
    the sorted joint labels, ``y`` being positions in them (else None)."""
    if classes is None:
        return y, None
    codes = np.asarray(y)
    if codes.ndim != 1 or codes.dtype.kind not in "iu":
        return y, None
    labels = np.unique(np.asarray(classes, dtype=object))
    if codes.size and (codes.min() < 0 or codes.max() >= len(labels)):
        raise ValueError(
            f"y holds integers outside [0, {len(labels)}); with joint_classes, integer targets are positions "
            f"in the {len(labels)} sorted joint classes."
        )
    return labels[codes], labels


def factor_labels(codes, layout):
    """``{factor: labels}`` of joint classes given by their positions ``codes``."""
    codes = np.unravel_index(codes, layout.shape)
    return {name: classes[code] for name, classes, code in zip(layout.names, layout.classes, codes)}


def check_factor_features(factor_features, factor_names, shared_trunk):
    """The ``factor_features`` parameter as a dict, checked against the factors.

    Raises
    ------
    ValueError
        If it names a factor that is not one, or, without ``shared_trunk``, a factor has
        no features.
    """
    features = dict(factor_features or {})
    for factor in features:
        if factor not in factor_names:
            raise ValueError(
                f"factor_features names factor {factor!r}, which is not a factor; the factors are "
                f"{quoted(factor_names)}.{suggest(factor, factor_names)}"
            )
    if not shared_trunk:
        missing = [f for f in factor_names if not features.get(f)]
        if missing:
            raise ValueError(
                f"with shared_trunk=False every factor reads only its factor_features; "
                f"{quoted(missing)} has none."
            )
    return features


def warn_single_class(factor_classes):
    """Warn about the factors of ``{factor: classes}`` that have a single class."""
    single = {name: classes[0] for name, classes in factor_classes.items() if len(classes) == 1}
    if single:
        warnings.warn(
            f"factor(s) {single} have a single class in the training data; they are always predicted "
            "as that class.",
            UserWarning,
            stacklevel=6,  # one frame deeper than `_fit_heads`, which calls it
        )
