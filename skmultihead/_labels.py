"""`MultiLabelNN`'s hooks (`LabelHeads`, see `_contract.HeadsContract`): its labels as one
head ``labels`` and back, constant labels and each label's weights in the loss, thresholds
tuned while training, probabilities -> 0/1 decisions."""

import numbers
import warnings

import numpy as np
from sklearn.metrics import f1_score
from sklearn.utils.class_weight import compute_sample_weight

from ._heads import Head
from ._indicator import join_indicator, split_indicator
from ._messages import quoted
from ._missing import take_rows
from ._params import as_sizes
from ._thresholds import best_f1_thresholds, check_thresholds, holdout_rows

HEAD = "labels"  # the one head; its Keras output is the (n_samples, n_labels) probabilities


class LabelHeads:
    """`MultiLabelNN`'s hooks: its labels as one multilabel head, and back."""

    # -- targets and heads -----------------------------------------------------------------
    def _split_targets(self, y, reset, classes=None):
        if not reset:
            return {HEAD: split_indicator(y, self.target_layout_)[0]}
        indicator, self.target_layout_ = split_indicator(y, classes=classes)
        return {HEAD: indicator}

    def _per_entry_heads(self):
        return (HEAD,)

    def _weight_keys(self, columns):
        return self.target_layout_.classes.tolist()

    def _head_weights(self, by_key):
        """Per-label weights as one (n_samples, n_labels) matrix (labels not given weigh 1);
        they weigh each entry of the masked loss, so they need ``missing_targets="mask"``."""
        if self.missing_targets != "mask" or self._single_label:
            raise ValueError(
                "sample_weight per label weighs each label's entries in a loss masked per entry: give "
                "missing_targets='mask' (and a multilabel target), or one weight per row for every label."
            )
        labels = self.target_layout_.classes.tolist()
        n_rows = len(next(iter(by_key.values())))
        return {HEAD: np.column_stack([by_key.get(label, np.ones(n_rows, "float32")) for label in labels])}

    def _fit_heads(self, columns, classes=None):
        indicator = np.asarray(columns[HEAD])
        known = ~np.isnan(indicator) if indicator.dtype.kind == "f" else np.ones(indicator.shape, bool)
        indicator = np.where(known, indicator, 0).astype(np.uint8)
        self.classes_ = self.target_layout_.classes
        unknown = self.classes_[~known.any(axis=0)].tolist()
        if unknown:
            raise ValueError(f"label(s) {quoted(unknown[:10])} have no known value in the training data (every "
                             "entry is missing); every label needs some, or leave it out of y.")
        vars(self).pop("thresholds_", None)  # a new fit tunes its own (a scorer may predict while it trains)
        self.constant_labels_ = self._constant_labels(indicator, known)
        self.label_weights_ = (
            np.ones((2, len(self.classes_))) if self._single_label else self._label_weights(indicator, known)
        )
        head = Head(
            "multilabel",
            units=as_sizes(self.label_hidden_layer_sizes) if self.head_layout == "per_label_hidden" else (),
            separate=self.head_layout != "dense",
            classes=self.classes_,
        )
        return {HEAD: head.fit(indicator, HEAD)}

    def _head_losses(self):
        from ._losses import WeightedBinaryCrossentropy

        negative, positive = self.label_weights_
        return {HEAD: WeightedBinaryCrossentropy(positive, negative)}

    def _constant_labels(self, indicator, known):
        """``{label: its value}`` for the labels with one value in the rows that know them."""
        counts, n_known = indicator.sum(axis=0), known.sum(axis=0)
        constant = {
            label: int(count > 0)
            for label, count, n in zip(self.classes_.tolist(), counts, n_known)
            if count in (0, n)
        }
        if constant:
            warnings.warn(
                f"label(s) {constant} are constant in the training data (label: its only value); "
                "they are predicted as that constant and left out of the loss.",
                UserWarning,
                stacklevel=5,
            )
        return constant

    def _label_weights(self, indicator, known):
        """(2, n_labels) weights of each label's negatives (row 0) and positives (row 1),
        "balanced" counted on the rows that know the label."""
        weights = np.ones((2, indicator.shape[1]))
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            n_rows = known.sum(axis=0)
            counts = np.stack([n_rows - indicator.sum(axis=0), indicator.sum(axis=0)])
            weights = n_rows / (2.0 * np.maximum(counts, 1))
        elif isinstance(self.class_weight, dict):
            labels = self.classes_.tolist()
            for label, weight in self.class_weight.items():
                if label not in labels:
                    raise ValueError(
                        f"class_weight names label {label!r}, which is not a label; the labels are {labels[:10]}."
                    )
                weights[:, labels.index(label)] = _weight_pair(label, weight)
        constant = np.isin(self.classes_, list(self.constant_labels_))
        weights[:, constant] = 0.0
        return weights

    # -- training --------------------------------------------------------------------------
    def _train(self, X, y, masks, sample_weight, settings):
        if self._single_label and self.class_weight is not None:
            labels = self.classes_[y[HEAD].argmax(axis=1)]
            by_class = compute_sample_weight(self.class_weight, labels).astype("float32")
            sample_weight = by_class if sample_weight is None else sample_weight * by_class
        thresholds = check_thresholds(self.threshold, self.classes_)
        if self._single_label:
            thresholds = np.full(len(self.classes_), np.nan)  # predict takes the most probable class
        if not isinstance(thresholds, str):
            self.thresholds_ = thresholds  # set first: a scorer may predict while it trains (early_stopping)
            super()._train(X, y, masks, sample_weight, settings)
            return
        if not hasattr(self, "thresholds_"):
            self.thresholds_ = np.full(len(self.classes_), 0.5)  # until tuned
        indicator, known = y[HEAD], masks[HEAD]
        positives = indicator.sum(axis=0)
        rare = [label for label, n in zip(self.classes_.tolist(), positives) if n == 1]
        if rare:
            warnings.warn(
                f'threshold="auto" tunes each label\'s threshold on held-out rows, but label(s) {quoted(rare[:10])} '
                "have a single positive row: their threshold is tuned on that one row or, when it is trained on, "
                "left at 0.5. Give more positive rows or a fixed threshold.",
                UserWarning,
                stacklevel=5,
            )
        train, held = holdout_rows(indicator, self.threshold_holdout, self._seed)
        weights = take_rows(sample_weight, train)
        super()._train(X[train], {HEAD: indicator[train]}, {HEAD: known[train]}, weights, settings)
        proba = self._probabilities(self._forward(X[held]))
        self.thresholds_ = best_f1_thresholds(indicator[held], proba, known[held])

    # -- predictions -----------------------------------------------------------------------
    @property
    def _single_label(self):
        return self.target_layout_.kind == "single"

    def _probabilities(self, raw):
        proba = raw[HEAD].astype(float)
        for label, value in self.constant_labels_.items():
            proba[:, self.classes_.tolist().index(label)] = value
        if self._single_label:
            proba /= np.maximum(proba.sum(axis=1, keepdims=True), np.finfo(float).tiny)
        return proba

    def _join_heads(self, heads, index=None):
        """``{label: 0/1 predictions}`` in the container kind ``y`` had at fit (as `predict`)."""
        indicator = np.column_stack([heads[label] for label in self.classes_.tolist()]).astype(np.uint8)
        return join_indicator(indicator, self.target_layout_, index=index)

    def _head_classes(self):
        return {label: np.array([0, 1]) for label in self.classes_.tolist()}

    def _head_targets(self, y):
        indicator = self._split_targets(y, reset=False)[HEAD]
        return {label: indicator[:, j] for j, label in enumerate(self.classes_.tolist())}

    def _score_output(self, head_name, truth, raw, sample_weight):
        """Micro-averaged F1 over the labels of each row that are known (not NaN)."""
        predicted = self._indicator(self._probabilities({HEAD: raw}))
        truth = np.asarray(truth)
        if truth.dtype.kind == "f" and np.isnan(truth).any():
            known = ~np.isnan(truth)
            weights = np.ones(truth.shape) if sample_weight is None else np.broadcast_to(
                np.asarray(sample_weight, float)[:, None], truth.shape)
            return f1_score(truth[known], predicted[known], average="micro", sample_weight=weights[known],
                            zero_division=1.0)
        return f1_score(truth, predicted, average="micro", sample_weight=sample_weight, zero_division=1.0)

    def _indicator(self, proba):
        if self._single_label:
            return np.eye(len(self.classes_), dtype=np.uint8)[proba.argmax(axis=1)]
        return (proba >= self.thresholds_).astype(np.uint8)

    def _predict_columns(self, X):
        return {HEAD: self._predict_indicator(X)}

    def _predict_indicator(self, X):
        return self._indicator(self.predict_proba(X))


def by_label(classes, proba):
    """``{label: [..., (1 - p, p)]}`` from probabilities whose last axis is the labels."""
    return {label: np.stack([1.0 - proba[..., j], proba[..., j]], axis=-1) for j, label in enumerate(classes.tolist())}


def _weight_pair(label, weight):
    """(weight of negatives, weight of positives) from a class_weight entry."""
    if isinstance(weight, dict):
        unknown = set(weight) - {0, 1}
        if unknown:
            raise ValueError(f"class_weight[{label!r}] has keys {sorted(unknown, key=str)}; use 0 and 1.")
        pair = (weight.get(0, 1.0), weight.get(1, 1.0))
    else:
        pair = (1.0, weight)
    if not all(isinstance(w, numbers.Real) and not isinstance(w, bool) and w >= 0 for w in pair):
        raise ValueError(f"class_weight[{label!r}] must hold numbers >= 0; got {weight!r}.")
    return pair
