"""MultiLabelNN: one sigmoid per label on a shared trunk, with per-label thresholds."""

import numbers
import re
import warnings

import numpy as np
from sklearn.base import ClassifierMixin, MultiOutputMixin
from sklearn.metrics import accuracy_score, f1_score
from sklearn.utils.class_weight import compute_sample_weight

from ._base import MultiHeadBase
from ._contract import register
from ._messages import quoted, suggest
from ._docs import ARCHITECTURE_PARAMETERS, COMMON_ATTRIBUTES, TRAINING_PARAMETERS, TRUNK_PARAMETERS
from ._heads import Head
from ._inputs import row_index
from ._params import COMMON, NONE, SIZES, InstanceOf, Interval, Options, SequenceOf, as_sizes
from ._targets import join_indicator, split_indicator
from ._thresholds import best_f1_thresholds, check_thresholds, holdout_rows

HEAD = "labels"  # the one head; its Keras output is the (n_samples, n_labels) probabilities
HEAD_LAYOUTS = ("dense", "separate", "per_label_hidden")


@register
class MultiLabelNN(ClassifierMixin, MultiOutputMixin, MultiHeadBase):
    __doc__ = f"""Multilabel neural network: one binary (sigmoid) output per label on a shared trunk.

    Each sample may carry any number of labels. The labels share the trunk's layers and
    are trained together in one fit with binary cross-entropy; each label has its own
    decision threshold.

    Targets: a 0/1 indicator matrix (2-D array, list of equal-length 0/1 rows, or scipy
    sparse matrix; labels are the column indices), a DataFrame of 0/1 or bool columns
    (labels are the column names), or a list of label sets such as ``[{{"sports"}},
    {{"news", "tech"}}, set()]`` (labels learned and sorted as MultiLabelBinarizer does).
    `predict` returns the kind of target fit received.

    A 1-D target of class labels (one per sample) is also accepted, as scikit-learn's
    OneVsRestClassifier reads it: one sigmoid per class, `predict` returns the most
    probable class and `predict_proba` is normalised to sum to 1; thresholds do not apply.

    Parameters
    ----------
    head_layout : {{"dense", "separate", "per_label_hidden"}}, default="dense"
        "dense": one Dense(n_labels, sigmoid) output layer. "separate": each label its own
        one-unit sigmoid output (its own weights, initialised as a one-unit Dense layer)
        branching off the trunk. "per_label_hidden": like "separate", with
        ``label_hidden_layer_sizes`` layers of each label's own before its output. The
        labels' layers of one depth are one `PerLabelDense` layer computed as one batched
        product, about as fast as a single dense layer; `label_model` takes one label's
        classifier out as a Keras model. All layouts are trained on the same loss (the
        mean of the labels' cross-entropies).
    label_hidden_layer_sizes : tuple of int, default=(16,)
        Each label's own hidden layers with ``head_layout="per_label_hidden"``.
    threshold : float, array-like of shape (n_labels,), dict or "auto", default=0.5
        A label is predicted when its probability is at least its threshold: one for all
        labels, one per label (in ``classes_`` order), or ``{{label: threshold}}`` (other
        labels 0.5). "auto" tunes each label's threshold to maximise its F1 on a held-out
        part of the training rows (``threshold_holdout``): the network is trained once on
        the rest and keeps that training. A held-out part rather than out-of-fold
        predictions because those would cost one extra network per fold; the held-out rows
        are drawn so every label sends its share of positives there. A label with no
        positive in the held-out part keeps 0.5.
    threshold_holdout : float, default=0.2
        Fraction of the training rows held out to tune thresholds when ``threshold="auto"``.
    class_weight : "balanced", dict or None, default=None
        Weights of each label's positive and negative examples in its loss. "balanced":
        ``n_samples / (2 * count)`` for each of the label's two values, as scikit-learn
        computes it for one binary target, so rare labels weigh as much as frequent ones.
        A dict by label: ``{{label: weight of its positives}}`` or
        ``{{label: {{0: w0, 1: w1}}}}``; labels not named weigh 1. Weights are computed from the
        data of a cold fit (``warm_start`` keeps them). For class-label targets, as in
        scikit-learn: ``{{class: weight}}`` or "balanced" weighs each sample by its class.
    {TRUNK_PARAMETERS}
    {ARCHITECTURE_PARAMETERS}
    {TRAINING_PARAMETERS}

    Attributes
    ----------
    classes_ : ndarray of shape (n_labels,)
        The label names: column indices, DataFrame column names, or the sorted labels of
        label sets. Columns of `predict_proba` follow it.
    thresholds_ : ndarray of shape (n_labels,)
        The threshold of each label used by `predict` (NaN for class-label targets).
    label_weights_ : ndarray of shape (2, n_labels)
        Weights of each label's negative (row 0) and positive (row 1) examples in the loss.
    constant_labels_ : dict
        ``{{label: value}}`` of labels that were constant in the training data; they are
        predicted as that constant (with probability 0 or 1) and left out of the loss.
    {COMMON_ATTRIBUTES}

    See Also
    --------
    MultiOutputNNClassifier : Named heads of mixed kinds, e.g. one multilabel head among others.

    Notes
    -----
    `score` is the micro-averaged F1 over all labels, not scikit-learn's default subset
    accuracy for multilabel classifiers: with many labels the exact-match rate is near 0
    and barely moves with the thresholds, while micro-F1 rewards each correct label.
    For subset accuracy pass ``scoring="accuracy"`` to GridSearchCV or cross_validate.

    Examples
    --------
    >>> from skmultihead import MultiLabelNN
    >>> from skmultihead.datasets import make_tagged_items
    >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
    >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
    >>> est.classes_.tolist()
    ['tag_00', 'tag_01', 'tag_02', 'tag_03']
    >>> est.predict_proba(X).shape
    (200, 4)
    >>> est.predict(X).columns.tolist()
    ['tag_00', 'tag_01', 'tag_02', 'tag_03']
    >>> est.thresholds_.tolist()
    [0.5, 0.5, 0.5, 0.5]

    Label sets are a target too:

    >>> y = [{{"news"}}, {{"news", "tech"}}, set(), {{"tech"}}] * 50
    >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
    >>> est.classes_.tolist()
    ['news', 'tech']
    >>> type(est.predict(X[:3])).__name__
    'list'
    """

    _parameter_constraints = {
        **{name: c for name, c in COMMON.items() if name not in ("heads", "loss_weights")},
        "head_layout": [Options(*HEAD_LAYOUTS)],
        "label_hidden_layer_sizes": SIZES,
        "threshold": [
            Options("auto"),
            Interval(float, 0, 1),
            SequenceOf(Interval(float, 0, 1), "a list of floats in [0, 1] (one per label)"),
            InstanceOf(dict, "a dict {label: float in [0, 1]}"),
        ],
        "threshold_holdout": [Interval(float, 0, 1, closed="neither")],
        "class_weight": [NONE, Options("balanced"), InstanceOf(dict, "a dict {label: weight}")],
    }

    def __init__(
        self,
        head_layout="dense",
        *,
        label_hidden_layer_sizes=(16,),
        threshold=0.5,
        threshold_holdout=0.2,
        class_weight=None,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        inputs=None,
        remainder="error",
        branches=None,
        model=None,
        aux_heads=None,
        ensemble_size=1,
        ensemble_loss="members",
        optimizer="adam",
        epochs=100,
        batch_size="auto",
        validation_split=0.0,
        shuffle=True,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        steps_per_execution="auto",
        **kwargs,
    ):
        self._init_params(locals(), kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # -- targets and heads -----------------------------------------------------------------
    def _split_targets(self, y, reset, classes=None):
        if not reset:
            return {HEAD: split_indicator(y, self.target_layout_)[0]}
        indicator, self.target_layout_ = split_indicator(y, classes=classes)
        return {HEAD: indicator}

    def _fit_heads(self, columns, classes=None):
        indicator = columns[HEAD]
        self.classes_ = self.target_layout_.classes
        self.constant_labels_ = self._constant_labels(indicator)
        self.label_weights_ = np.ones((2, len(self.classes_))) if self._single_label else self._label_weights(indicator)
        head = Head(
            "multilabel",
            units=as_sizes(self.label_hidden_layer_sizes) if self.head_layout == "per_label_hidden" else (),
            separate=self.head_layout != "dense",
            classes=self.classes_,
        )
        return {HEAD: head.fit(indicator, HEAD)}

    def _head_losses(self):
        from ._model import WeightedBinaryCrossentropy

        negative, positive = self.label_weights_
        return {HEAD: WeightedBinaryCrossentropy(positive, negative)}

    def _constant_labels(self, indicator):
        counts = indicator.sum(axis=0)
        constant = {
            label: int(count > 0)
            for label, count in zip(self.classes_.tolist(), counts)
            if count in (0, len(indicator))
        }
        if constant:
            warnings.warn(
                f"label(s) {constant} are constant in the training data (label: its only value); "
                "they are predicted as that constant and left out of the loss.",
                UserWarning,
                stacklevel=5,
            )
        return constant

    def _label_weights(self, indicator):
        """(2, n_labels) weights of each label's negatives (row 0) and positives (row 1)."""
        n_rows, n_labels = indicator.shape
        weights = np.ones((2, n_labels))
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
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
    def _train(self, X, y, sample_weight, settings):
        if self._single_label and self.class_weight is not None:
            labels = self.classes_[y[HEAD].argmax(axis=1)]
            by_class = compute_sample_weight(self.class_weight, labels).astype("float32")
            sample_weight = by_class if sample_weight is None else sample_weight * by_class
        thresholds = check_thresholds(self.threshold, self.classes_)
        if self._single_label:
            thresholds = np.full(len(self.classes_), np.nan)  # predict takes the most probable class
        if not isinstance(thresholds, str):
            super()._train(X, y, sample_weight, settings)
            self.thresholds_ = thresholds
            return
        indicator = y[HEAD]
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
        weights = None if sample_weight is None else sample_weight[train]
        super()._train(X[train], {HEAD: indicator[train]}, weights, settings)
        proba = self._probabilities(self._forward(X[held]))
        self.thresholds_ = best_f1_thresholds(indicator[held], proba)

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

    def predict_proba(self, X):
        """Probability of each label, shape (n_samples, n_labels), columns in ``classes_``
        order. Rows need not sum to 1 (each label is its own binary decision), except for
        class-label targets, where they are normalised to sum to 1.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            Probability of each label.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> est.predict_proba(X).shape
        (200, 4)
        """
        return self._probabilities(self._predict_raw(X))

    def predict_head_proba(self, X):
        """Each label's probabilities by label: ``{label: (n_samples, 2) array}``, columns
        for 0 (absent) and 1 (present), as a binary classifier of that label gives them.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        proba : dict of label to ndarray of shape (n_samples, 2)
            Each label's probabilities of absent and present.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> {label: proba.shape for label, proba in est.predict_head_proba(X).items()}
        {'tag_00': (200, 2), 'tag_01': (200, 2), 'tag_02': (200, 2), 'tag_03': (200, 2)}
        """
        return _by_label(self.classes_, self.predict_proba(X))

    def predict_heads(self, X):
        """Each label's 0/1 prediction by label: ``{label: array of shape (n_samples,)}``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        predictions : dict of label to ndarray of shape (n_samples,)
            Each label's 0/1 predictions, after its threshold.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> sorted(est.predict_heads(X))
        ['tag_00', 'tag_01', 'tag_02', 'tag_03']
        >>> est.predict_heads(X)["tag_00"].shape
        (200,)
        """
        indicator = self._predict_indicator(X)
        return {label: indicator[:, j] for j, label in enumerate(self.classes_.tolist())}

    def score_heads(self, X, y, sample_weight=None):
        """Each label's accuracy by label: ``{label: float}`` (`score` is the micro F1).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        y : target container
            True labels, in the kind of target fit received.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        scores : dict of label to float
            Each label's accuracy.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> sorted(est.score_heads(X, Y))
        ['tag_00', 'tag_01', 'tag_02', 'tag_03']
        """
        truth, predicted = self._head_targets(y), self.predict_heads(X)
        return {
            label: float(accuracy_score(truth[label], predicted[label], sample_weight=sample_weight))
            for label in truth
        }

    def _join_heads(self, heads, index=None):
        """``{label: 0/1 predictions}`` in the container kind ``y`` had at fit (as `predict`)."""
        indicator = np.column_stack([heads[label] for label in self.classes_.tolist()]).astype(np.uint8)
        return join_indicator(indicator, self.target_layout_, index=index)

    def _head_classes(self):
        return {label: np.array([0, 1]) for label in self.classes_.tolist()}

    def _head_targets(self, y):
        indicator = self._split_targets(y, reset=False)[HEAD]
        return {label: indicator[:, j] for j, label in enumerate(self.classes_.tolist())}

    def predict_members(self, X):
        """Each ensemble member's probabilities, for uncertainty: ``{label: array of shape
        (ensemble_size, n_samples, 2)}`` (as `predict_head_proba`). Their mean over the first
        axis is `predict_head_proba` (for class-label targets, before normalisation); their
        standard deviation is the members' spread.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        members : dict of label to ndarray of shape (ensemble_size, n_samples, 2)
            Each member's probabilities of absent and present, by label.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), ensemble_size=2, epochs=2, random_state=0).fit(X, Y)
        >>> est.predict_members(X)["tag_00"].shape
        (2, 200, 2)
        """
        members = np.stack([self._probabilities({HEAD: member}) for member in self._member_outputs(X)[HEAD]])
        return _by_label(self.classes_, members)

    def _score_output(self, head_name, truth, raw, sample_weight):
        predicted = self._indicator(self._probabilities({HEAD: raw}))
        return f1_score(truth, predicted, average="micro", sample_weight=sample_weight, zero_division=1.0)

    def label_model(self, label):
        """One label's classifier as a Keras model: the network's inputs to that label's
        probability, shape (n_samples, 1).

        Parameters
        ----------
        label : object
            A label of ``classes_``.

        Returns
        -------
        model : keras.Model
            Takes the network's inputs; its one output is that label's probability.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> model = est.label_model("tag_01")
        >>> model.name, model.output.shape
        ('labels_tag_01', (None, 1))
        """
        self._check_fitted()
        labels = self.classes_.tolist()
        if label not in labels:
            raise ValueError(f"{label!r} is not a label; the labels are {labels[:10]}.{suggest(label, labels)}")
        import keras

        from ._model import Columns

        name = f"{HEAD}_{re.sub(r'[^0-9A-Za-z_.-]+', '_', str(label))}"
        output = Columns([labels.index(label)], name=name)(self.model_.output[HEAD])
        return keras.Model(self.model_.input, output, name=name)

    def predict(self, X):
        """The labels whose probability reaches their threshold, in the kind of target
        fit received (indicator array of its dtype, sparse matrix, DataFrame with X's
        index, or a list of label sets).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        y_pred : ndarray, sparse matrix, DataFrame or list of set
            The predicted labels of each sample.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> est.predict(X).shape
        (200, 4)
        """
        return join_indicator(self._predict_indicator(X), self.target_layout_, index=row_index(X))

    def _indicator(self, proba):
        if self._single_label:
            return np.eye(len(self.classes_), dtype=np.uint8)[proba.argmax(axis=1)]
        return (proba >= self.thresholds_).astype(np.uint8)

    def _predict_columns(self, X):
        return {HEAD: self._predict_indicator(X)}

    def _predict_indicator(self, X):
        return self._indicator(self.predict_proba(X))

    def score(self, X, y, sample_weight=None):
        """Micro-averaged F1 over all labels (see Notes).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        y : target container
            True labels, in the kind of target fit received.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        score : float
            The micro-averaged F1.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> 0.0 <= est.score(X, Y) <= 1.0
        True
        """
        truth = self._split_targets(y, reset=False)[HEAD]
        return float(self._score_output(HEAD, truth, self._predict_raw(X)[HEAD], sample_weight))


def _by_label(classes, proba):
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
