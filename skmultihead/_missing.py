"""Missing targets: which rows of each head have a label.

Missing means NaN, None or ``pd.NA`` (a polars null arrives as one of them). With
``missing_targets="error"`` (the default) a missing value is an error naming the head;
with ``"mask"`` a row trains and scores only the heads it has a label for. A head masked
*per entry* (`MultiLabelNN`'s labels) knows or not each label of each row.
"""

import numbers
import warnings

import numpy as np
import pandas as pd

MODES = ("error", "mask")


def labeled(column, per_entry=False):
    """Boolean mask of the rows (``per_entry``: the entries) of ``column`` that have a value."""
    column = np.asarray(column)
    if column.dtype.kind == "O":
        present = ~pd.isna(column)
    elif column.dtype.kind in "fc":
        present = ~np.isnan(column)
    else:
        present = np.ones(column.shape, dtype=bool)
    if per_entry or present.ndim == 1:
        return present
    return present.reshape(len(present), -1).all(axis=1)  # a row of a 2-D head: every column


def target_masks(columns, mode, per_entry=(), require_labels=True):
    """``{head: mask of its labeled rows (or entries)}`` of ``{head: column}``.

    Raises ValueError in mode "error" when a value is missing, and (``require_labels``)
    when a head has no label at all, naming the head.
    """
    masks = {name: labeled(column, name in per_entry) for name, column in columns.items()}
    for name, mask in masks.items():
        rows = np.flatnonzero(~mask.reshape(len(mask), -1).all(axis=1))
        if mode == "error" and rows.size:
            raise ValueError(
                f"the target of head {name!r} has {rows.size} missing value(s) (rows {rows[:5].tolist()}"
                f"{', ...' if rows.size > 5 else ''}); give missing_targets='mask' to train each head on the "
                "rows that have its label, or drop or fill those rows."
            )
        if require_labels and not mask.any():
            raise ValueError(f"head {name!r} has no labeled row in the training data; every head needs labels.")
    return masks


def drop_unlabeled(X, columns, masks, sample_weight):
    """``X``, ``columns``, ``masks`` and ``sample_weight`` without the rows that have no
    label for any head (with a warning counting them), and the positions of those kept."""
    keep = np.zeros(len(X), dtype=bool)
    for mask in masks.values():
        keep |= mask.reshape(len(mask), -1).any(axis=1)
    if keep.all():
        return X, columns, masks, sample_weight, np.arange(len(X))
    warnings.warn(
        f"{int((~keep).sum())} row(s) have no label for any head and are left out of the fit "
        f"(rows {np.flatnonzero(~keep)[:5].tolist()}{', ...' if (~keep).sum() > 5 else ''}).",
        UserWarning,
        stacklevel=5,
    )
    return X[keep], *(take_rows(v, keep) for v in (columns, masks, sample_weight)), np.flatnonzero(keep)


def take_rows(value, rows):
    """``rows`` of an array, of each array of a (nested) dict, or None."""
    if isinstance(value, dict):
        return {name: take_rows(v, rows) for name, v in value.items()}
    return None if value is None else value[rows]


def encode_labeled(head, column, mask):
    """``head.encode`` of ``column``'s labeled rows; unlabeled rows (entries) hold zeros."""
    if mask.all():
        return head.encode(column)
    if mask.ndim == 2 and mask.shape == np.shape(column):  # per entry
        return head.encode(np.where(mask, column, 0))
    encoded = np.asarray(head.encode(column[mask]))
    out = np.zeros((len(mask), *encoded.shape[1:]), dtype=encoded.dtype)
    out[mask] = encoded
    return out


def labels_as_given(values):
    """Labeled values of a column held as objects around its missing values, in their own
    dtype again where they are all integers (so that they are class labels, not floats)."""
    if values.dtype.kind == "O" and values.ndim == 1 and len(values) and all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in values
    ):
        return np.asarray(values.tolist(), dtype=np.int64)
    return values


def labeled_rows(X, y, sample_weight=None, what="this head"):
    """``X``, ``y`` and ``sample_weight`` on the rows where ``y`` has a label, to score one
    head; None (with a warning) when no row has one."""
    y = np.asarray(y)
    keep = labeled(y)
    if keep.all():
        return X, y, sample_weight
    if not keep.any():
        warnings.warn(f"{what} has no label in y: its score is NaN.", UserWarning, stacklevel=3)
        return None
    rows = X.iloc[keep] if hasattr(X, "iloc") else np.asarray(X)[keep]
    values = y[keep]
    if values.dtype.kind == "O" and values.ndim == 1 and np.isscalar(values[0]):  # labels as given without gaps
        values = np.asarray(values.tolist())
    return rows, values, None if sample_weight is None else np.asarray(sample_weight)[keep]


def mean_of_labeled(scores):
    """The mean of the heads' scores, over the heads that had labels (not NaN)."""
    found = [score for score in scores.values() if not np.isnan(score)]
    return float(np.mean(found)) if found else float("nan")


def labeled_accuracy(truth, predicted, sample_weight, what):
    """Accuracy on the rows where ``truth`` has a label (NaN, with a warning, when none has)."""
    from sklearn.metrics import accuracy_score

    labeled = labeled_rows(predicted, truth, sample_weight, what=what)
    return float("nan") if labeled is None else float(accuracy_score(labeled[1], labeled[0], sample_weight=labeled[2]))
