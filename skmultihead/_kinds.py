"""Head kinds: each kind's output activation, loss and metric (`HEAD_KINDS`), the kind a
target implies, and the checks of a head's target and options against its kind."""

import numbers

import numpy as np
import pandas as pd

from ._messages import quoted

# kind -> output activation, loss and metric (Keras metric class, name in history_)
HEAD_KINDS = {
    "binary": {"activation": "sigmoid", "loss": "binary_crossentropy", "metric": ("BinaryAccuracy", "accuracy")},
    "multiclass": {
        "activation": "softmax",
        "loss": "sparse_categorical_crossentropy",
        "metric": ("SparseCategoricalAccuracy", "accuracy"),
    },
    "multilabel": {"activation": "sigmoid", "loss": "binary_crossentropy", "metric": ("BinaryAccuracy", "accuracy")},
    "regression": {"activation": "linear", "loss": "mean_squared_error", "metric": ("MeanAbsoluteError", "mae")},
    # quantiles of the target, non-crossing by construction (see `quantile_values`): pinball loss
    "quantile": {"activation": "linear", "loss": "skmultihead>PinballLoss", "metric": (None, "mae")},
}
CLASSIFICATION = ("binary", "multiclass", "multilabel")


def infer_kind(y, name, classes=None):
    """The kind of a target; the ``classes`` given, when 1-D, decide binary or multiclass.

    Examples
    --------
    >>> import numpy as np
    >>> infer_kind(np.array([1.5, 2.0]), "age"), infer_kind(np.array(["a", "b", "c"]), "color")
    ('regression', 'multiclass')
    """
    if classes is not None and y.ndim == 1:
        return "binary" if len(unique_labels(np.asarray(classes))) <= 2 else "multiclass"
    if y.ndim == 2:
        if y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all():
            return "multilabel"
        if y.dtype.kind == "f":
            return "regression"
        raise ValueError(
            f"head {name!r} has a 2-D target that is neither a 0/1 indicator (multilabel) nor float "
            "columns (regression); declare its kind in `heads` (e.g. 'multiclass' for one-hot rows)."
        )
    if y.dtype.kind == "f":
        integral_pair = np.isin(y, (0.0, 1.0)).all()
        return "binary" if integral_pair else "regression"
    if y.dtype.kind == "O":
        types = sorted(t.__name__ for t in set(map(type, y)))
        if len(types) > 1:
            raise ValueError(
                f"head {name!r} mixes label types {types}; a head's labels must be all strings, "
                "all numbers or all booleans."
            )
        if len(y) and all(isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral) for v in y):
            return infer_kind(y.astype(float), name)  # floats held as objects (a mixed-dtype 2-D array)
    return "binary" if len(unique_labels(y)) <= 2 else "multiclass"


def class_codes(y, classes):
    """The index of each label of ``y`` in the sorted ``classes``; -1 for a label not among them
    (numbers: a binary search; other labels: a dict, as scikit-learn's label encoding)."""
    if y.dtype.kind in "biuf" and classes.dtype.kind in "biuf":
        codes = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        return np.where(classes[codes] == y, codes, -1)
    index = {label: i for i, label in enumerate(classes.tolist())}
    return np.fromiter((index.get(label, -1) for label in y.tolist()), np.intp, len(y))


def unique_labels(y):
    """The sorted distinct values of a 1-D target, as ``np.unique`` (hashed first for
    objects: sorting every label is the slow part of ``np.unique`` on strings)."""
    return np.sort(pd.unique(y)) if y.dtype.kind == "O" else np.unique(y)


def check_no_missing(y, name):
    """Raise ValueError if ``y``, the target of head ``name``, has missing values."""
    missing = pd.isna(y) if y.dtype.kind == "O" else (np.isnan(y) if y.dtype.kind == "f" else None)
    if missing is not None and missing.any():
        rows = np.flatnonzero(missing.reshape(len(y), -1).any(axis=1))
        raise ValueError(
            f"the target of head {name!r} has {rows.size} missing value(s) (rows {rows[:5].tolist()}...); "
            "drop those rows or fill the values before fitting."
        )


GAUSSIAN_EPSILON = 1e-6  # the least standard deviation of a Gaussian head (standardized scale)
DISTRIBUTIONS = ("normal",)


def check_kind(kind, name, separate, classes, scaling, distribution=None, quantiles=None):
    """Raise ValueError for an unknown ``kind`` or a head option that does not apply to it."""
    if (quantiles is None) != (kind != "quantile"):
        raise ValueError(f"head {name!r}: a 'quantile' head takes `quantiles` (and only it does); its kind is {kind!r}.")
    if quantiles is not None:
        levels = np.asarray(quantiles, dtype=float) if np.ndim(quantiles) == 1 else np.array([np.nan])
        if not (len(levels) and np.isfinite(levels).all() and (levels > 0).all() and (levels < 1).all()
                and (np.diff(levels) > 0).all()):
            raise ValueError(
                f"head {name!r} has quantiles {quantiles!r}; give levels in (0, 1), sorted and without repeats."
            )
    if distribution is not None and distribution not in DISTRIBUTIONS:
        raise ValueError(f"head {name!r} has distribution {distribution!r}; the distributions are {quoted(DISTRIBUTIONS)}.")
    if distribution is not None and kind != "regression":
        raise ValueError(f"head {name!r} is {kind}; `distribution` applies to regression heads.")
    if kind not in HEAD_KINDS:
        raise ValueError(f"head {name!r} has unknown kind {kind!r}; the kinds are {quoted(HEAD_KINDS)}.")
    if separate and kind != "multilabel":
        raise ValueError(f"head {name!r}: `separate` applies to multilabel heads only; its kind is {kind!r}.")
    if classes is not None and kind == "regression":
        raise ValueError(f"head {name!r} is a regression head; `classes` applies to classification heads.")
    if scaling is not None and kind != "regression":
        raise ValueError(f"head {name!r} is {kind}; `scaling` applies to regression heads.")


def regression_values(y, name, kind="regression"):
    """The target of regression head ``name`` as floats: numeric, finite, within float32's range."""
    numbers_as_objects = y.dtype.kind == "O" and all(
        isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in y.ravel()
    )
    if y.dtype.kind not in "biuf" and not numbers_as_objects:
        raise ValueError(
            f"head {name!r} is a {kind} head but its target is not numeric "
            f"(dtype {y.dtype}); declare a classification kind or encode the values as numbers."
        )
    y = y.astype(float)
    if not np.isfinite(y).all():
        raise ValueError(f"the target of regression head {name!r} holds inf; use finite values.")
    largest, limit = np.abs(y).max(initial=0.0), float(np.finfo("float32").max)
    if largest > limit:
        raise ValueError(
            f"the target of regression head {name!r} holds values up to {largest:.3g}, beyond the "
            f"network's float32 range ({limit:.3g}); rescale it (e.g. divide by a power of ten or take its log)."
        )
    return y


def scaling_values(scaling, shape, name, n_outputs):
    """The ``scaling`` option, (mean, scale), as arrays of ``shape``, checked."""
    try:
        mean, scale = (np.broadcast_to(np.asarray(v, dtype=float), shape).copy() for v in scaling)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"scaling of head {name!r} must be (mean, scale): numbers, or one per column of its "
            f"{n_outputs}-column target; got {scaling!r}."
        ) from error
    if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError(f"scaling of head {name!r} needs finite means and scales > 0; got {scaling!r}.")
    return mean, scale


def quantile_values(raw):
    """A quantile head's output as its quantiles: the first output, then each next one
    above the last by a softplus, so they never cross."""
    raw = np.asarray(raw, dtype=float)
    steps = np.concatenate([raw[:, :1], np.logaddexp(0.0, raw[:, 1:])], axis=1)
    return np.cumsum(steps, axis=1)


def middle_quantile(quantiles):
    """The position of the median among ``quantiles`` (else the middle one)."""
    levels = list(np.asarray(quantiles, dtype=float))
    return levels.index(0.5) if 0.5 in levels else len(levels) // 2

