"""MultiLabelNN: one sigmoid per label on a shared trunk, with per-label thresholds.

The estimator's API; its hooks (targets, heads, training) are `_labels.LabelHeads`.
"""

import re

import numpy as np
from sklearn.base import ClassifierMixin, MultiOutputMixin

from ._base import MultiHeadBase
from ._contract import register
from ._messages import suggest
from ._docs import ARCHITECTURE_PARAMETERS, COMMON_ATTRIBUTES, TRAINING_PARAMETERS, TRUNK_PARAMETERS
from ._indicator import join_indicator
from ._inputs import row_index
from ._missing import labeled_accuracy
from ._labels import HEAD, LabelHeads, by_label
from ._params import COMMON, NONE, SIZES, InstanceOf, Interval, Options, SequenceOf

HEAD_LAYOUTS = ("dense", "separate", "per_label_hidden")


@register
class MultiLabelNN(ClassifierMixin, MultiOutputMixin, LabelHeads, MultiHeadBase):
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
        missing_targets="error",
        optimizer="adam",
        epochs=100,
        batch_size="auto",
        validation_split=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        scoring="loss",
        shuffle=True,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        steps_per_execution="auto",
        jit_compile="auto",
        **kwargs,
    ):
        self._init_params(locals(), kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # -- predictions (the hooks are `LabelHeads`') -----------------------------------------
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
        self._check_fitted()
        return by_label(self.classes_, self.predict_proba(X))

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
        self._check_fitted()
        truth, predicted = self._head_targets(y), self.predict_heads(X)
        return {
            label: labeled_accuracy(truth[label], predicted[label], sample_weight, f"label {label!r}") for label in truth
        }

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
        return by_label(self.classes_, members)

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
        self._check_fitted()
        truth = self._split_targets(y, reset=False)[HEAD]
        return float(self._score_output(HEAD, truth, self._predict_raw(X)[HEAD], sample_weight))
