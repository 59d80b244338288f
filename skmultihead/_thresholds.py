"""Thresholds: how each label's probability becomes a 0/1 decision, and how the
"auto" thresholds are tuned on rows the network did not train on."""

import numbers

import numpy as np

DEFAULT_THRESHOLD = 0.5


def check_thresholds(threshold, classes):
    """The ``threshold`` parameter as one float per label, or ``"auto"``.

    Parameters
    ----------
    threshold : float, sequence of float, dict or "auto"
        One threshold for every label, one per label in ``classes`` order, or
        ``{label: threshold}`` (labels not named keep 0.5).
    classes : sequence
        The label names.

    Raises
    ------
    ValueError
        If a threshold is outside [0, 1], the sequence has the wrong length, or the dict
        names an unknown label.
    """
    if isinstance(threshold, str):  # "auto" (the parameter table admits no other string)
        return threshold
    classes = np.asarray(classes).tolist()
    if isinstance(threshold, dict):
        values = np.full(len(classes), DEFAULT_THRESHOLD)
        for label, value in threshold.items():
            if label not in classes:
                raise ValueError(f"threshold names label {label!r}, which is not a label; the labels are {classes[:10]}.")
            values[classes.index(label)] = _number(value, f"threshold[{label!r}]")
    elif np.ndim(threshold) == 0:
        values = np.full(len(classes), _number(threshold, "threshold"))
    else:
        values = np.array([_number(v, "threshold") for v in threshold])
        if values.shape != (len(classes),):
            raise ValueError(
                f"threshold has {len(values)} values but the model has {len(classes)} labels; "
                "give one float, one per label or a dict by label."
            )
    outside = (values < 0) | (values > 1)
    if outside.any():
        j = int(np.flatnonzero(outside)[0])
        raise ValueError(f"thresholds must be in [0, 1]; label {classes[j]!r} has {float(values[j])}.")
    return values


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number in [0, 1]; got {value!r}.")
    return float(value)


def holdout_rows(indicator, fraction, seed):
    """Split row indices into (train, held out), each label's positives in both parts.

    Rows are shuffled, grouped by the rarest label they carry and every
    ``1 / fraction``-th row of that order is held out, so even a rare label sends about
    ``fraction`` of its positives (at least one) to the held-out part.
    """
    n_rows = len(indicator)
    if n_rows < 2:
        raise ValueError(f'threshold="auto" holds out rows to tune on, so it needs at least 2 rows; got {n_rows}.')
    order = np.random.RandomState(seed).permutation(n_rows)
    counts = indicator.sum(axis=0)
    rarest = np.where(indicator.astype(bool), counts, np.iinfo(np.int64).max).min(axis=1)
    order = order[np.argsort(rarest[order], kind="stable")]
    position = np.arange(n_rows)
    held = np.floor(position * fraction) > np.floor((position - 1) * fraction)
    held[-1] &= not held.all()  # keep a training row
    return np.sort(order[~held]), np.sort(order[held])


def best_f1_thresholds(indicator, proba, known=None):
    """Per label, the threshold that maximises that label's F1 on ``(indicator, proba)``,
    over the rows where the label is ``known`` (a boolean mask like ``indicator``; all).

    The threshold lies midway between the lowest probability predicted positive and the
    highest predicted negative. A label with no positive row keeps 0.5.
    """
    n_labels = indicator.shape[1]
    thresholds = np.full(n_labels, DEFAULT_THRESHOLD)
    for j in range(n_labels):
        rows = slice(None) if known is None else known[:, j]
        truth, scores = indicator[rows, j], proba[rows, j]
        n_rows, n_positive = len(truth), truth.sum()
        if n_positive == 0:
            continue
        order = np.argsort(-scores, kind="stable")
        scores, true_positives = scores[order], np.cumsum(truth[order])
        # F1 when the top i+1 rows are predicted positive; cut only between distinct scores
        f1 = 2 * true_positives / (np.arange(1, n_rows + 1) + n_positive)
        f1[:-1][scores[1:] == scores[:-1]] = -1
        i = int(np.argmax(f1))
        below = scores[i + 1] if i + 1 < n_rows else 0.0
        thresholds[j] = (scores[i] + below) / 2
    return thresholds
