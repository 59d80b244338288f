"""FactoredLabelNN: joint classes learned as independent factors, merged in the network."""

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin

from ._base import MultiHeadBase
from ._contract import register
from ._docs import ARCHITECTURE_PARAMETERS, COMMON_ATTRIBUTES, TRAINING_PARAMETERS, TRUNK_PARAMETERS
from ._factors import (
    check_factor_features, factor_labels, from_positions, join_factors, joint_classes, joint_codes, positions,
    split_factors, warn_single_class,
)
from ._heads import Head
from ._inputs import column_index, row_index
from ._missing import labeled_accuracy, labeled_rows
from ._params import BOOL, COMMON, NONE, POSITIVE_INT, SIZES, InstanceOf, Satisfies, SequenceOf, as_sizes

JOINT = "joint"  # the output holding the joint distribution


@register
class FactoredLabelNN(ClassifierMixin, MultiHeadBase):
    __doc__ = f"""Classifier of joint classes that are combinations of independent factors.

    Six classes near-large, far-large, ..., far-small are two factors, distance {{near,
    far}} x size {{small, medium, large}}. The network has one softmax head per factor and
    an output ``joint`` that is the outer product of the factor distributions, flattened
    row-major (the "reshape, multiply, flatten" merge, inside the Keras graph). It can
    therefore predict combinations that never occurred in training.

    Targets: 1-D joint labels split by ``separator`` ("near-large"); 1-D class labels
    without a separator (one factor: an ordinary classifier); a DataFrame with one column
    per factor; a sequence of tuples or a 2-D array (one column per factor); or one-hot
    joint rows with ``factor_shape``. `predict` returns y's form.

    Parameters
    ----------
    separator : str, default=None
        Splits each 1-D joint label into its factors' labels. With DataFrame and 2-D
        targets, it joins the factors' labels into the names of the ``"joint"`` view's
        classes (``head_estimator("joint")``, ``head_scorer("joint", ...)``; "-" when None).
    factor_names : sequence of str, default=None
        Names of the factors when y has none (default ``factor_0``, ``factor_1``, ...);
        a DataFrame's columns name its factors.
    factor_shape : tuple of int, default=None
        Classes per factor of one-hot joint rows, row-major: with ``(2, 3)`` column
        ``3 * i + j`` is class ``i`` of the first factor and ``j`` of the second.
    joint_classes : array-like, default=None
        The joint labels ``y`` holds (``np.unique(y)``), for scikit-learn's
        `StackingClassifier` and `VotingClassifier`, which hand their estimators the labels
        encoded as integers (positions in the sorted labels). With it, integer targets are
        read as those positions: ``classes_`` is then ``0 .. n - 1``, `predict` returns
        positions and `predict_proba` has one column per joint class given (the factors'
        product renormalized over them). Every factor learns the classes the given labels
        hold, seen in ``y`` or not.
    factor_features : dict, default=None
        ``{{factor: columns}}``: the factor also reads these columns of X (names for a
        DataFrame X, integer indices for arrays) through a sub-network of its own
        (``factor_hidden_layer_sizes``).
    shared_trunk : bool, default=True
        Whether factors read the shared trunk on all of X. False: each factor reads only
        its ``factor_features`` (every factor must then have some).
    factor_hidden_layer_sizes : tuple of int, default=(32,)
        Units of each factor's own sub-network.
    {TRUNK_PARAMETERS}
    {ARCHITECTURE_PARAMETERS}
    loss_weights : dict, default=None
        ``{{factor: weight}}`` of each factor's cross-entropy in the loss (1.0 when not
        given), also as ``loss_weights__<factor>``. ``joint`` (default 0.0) adds the
        cross-entropy of the joint distribution.
    {TRAINING_PARAMETERS}

    Attributes
    ----------
    classes_ : ndarray of shape (n_joint_classes,)
        Every joint class: the Cartesian product of the factors' classes, row-major over
        factors (the first factor varies slowest), each factor's classes sorted. Joint
        labels re-joined with the separator; tuples for DataFrame and 2-D targets;
        column indices for one-hot targets. `predict_proba` columns follow it. Fitted on
        integer positions with ``joint_classes``: ``0 .. len(joint_classes) - 1``.
    joint_classes_ : ndarray
        The joint classes of the ``joint`` head (`predict_heads`, `predict_head_proba`): the
        Cartesian product, as ``classes_`` without ``joint_classes``.
    factor_names_ : list of str
        The factors, in order.
    factor_classes_ : dict of str to ndarray
        Each factor's sorted classes.
    {COMMON_ATTRIBUTES}

    See Also
    --------
    MultiOutputNNClassifier : Named heads of mixed kinds, each trained on its own target.

    Notes
    -----
    A factor with a single class in the training data gets a warning and is predicted
    as that class (its softmax has one unit).

    Examples
    --------
    >>> from skmultihead import FactoredLabelNN
    >>> from skmultihead.datasets import make_distance_size
    >>> X, y = make_distance_size(200, random_state=0)
    >>> y[:2].tolist()
    ['near-large', 'near-large']
    >>> est = FactoredLabelNN(
    ...     separator="-", factor_names=["distance", "size"], hidden_layer_sizes=(8,), epochs=2, random_state=0
    ... ).fit(X, y)
    >>> {{factor: classes.tolist() for factor, classes in est.factor_classes_.items()}}
    {{'distance': ['far', 'near'], 'size': ['large', 'medium', 'small']}}
    >>> est.classes_.tolist()
    ['far-large', 'far-medium', 'far-small', 'near-large', 'near-medium', 'near-small']
    >>> est.predict_proba(X).shape
    (200, 6)
    >>> sorted(est.predict_heads(X))
    ['distance', 'joint', 'size']
    """

    _parameter_constraints = {
        **{name: c for name, c in COMMON.items() if name != "heads"},
        "separator": [NONE, InstanceOf(str, "a str")],
        "factor_names": [NONE, SequenceOf(InstanceOf(str, "a str"), "a list of str (one per factor)")],
        "factor_shape": [NONE, SequenceOf(POSITIVE_INT, "a tuple of ints >= 1 (classes per factor)")],
        "joint_classes": [NONE, SequenceOf(Satisfies(lambda v: True, "any"), "an array-like of the joint labels")],
        "factor_features": [NONE, InstanceOf(dict, "a dict {factor: columns}")],
        "shared_trunk": [BOOL],
        "factor_hidden_layer_sizes": SIZES,
    }

    def __init__(
        self,
        separator=None,
        *,
        factor_names=None,
        factor_shape=None,
        joint_classes=None,
        factor_features=None,
        shared_trunk=True,
        factor_hidden_layer_sizes=(32,),
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
        loss_weights=None,
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

    # -- targets and heads -----------------------------------------------------------------
    def _split_targets(self, y, reset, classes=None, unseen="raise"):
        """See `_contract`; ``unseen="wrong"`` (to score) gives a row whose labels were not
        in the training data the joint position -1 instead of raising."""
        y, labels = from_positions(y, self.joint_classes)
        if reset:
            self._position_labels = labels
        columns, layout = split_factors(
            y,
            self.separator,
            self.factor_names,
            self.factor_shape,
            layout=None if reset else self.target_layout_,
            classes=(labels if classes is None else classes) if reset else None,
        )
        if JOINT in columns:
            raise ValueError(f"a factor may not be named {JOINT!r}: that name is the joint output's.")
        if reset:
            self.target_layout_ = layout
        return {**columns, JOINT: joint_codes(columns, layout, unseen)}

    def _fit_heads(self, columns, classes=None):
        layout = self.target_layout_
        self.factor_names_ = list(layout.names)
        self.factor_classes_ = dict(zip(layout.names, layout.classes))
        warn_single_class(self.factor_classes_)
        heads = {name: Head("multiclass", classes=classes) for name, classes in self.factor_classes_.items()}
        heads[JOINT] = Head("multiclass", classes=np.arange(int(np.prod(layout.shape))))
        self.joint_classes_ = joint_classes(layout)
        self.classes_ = self.joint_classes_
        if self._position_labels is not None:  # the columns of predict_proba: the given joint classes
            self._listed = np.array(positions(self.joint_classes_, self._position_labels.tolist()))
            self.classes_ = np.arange(len(self._listed))
        return {name: head.fit(columns[name], name) for name, head in heads.items()}

    def _weight_keys(self, columns):
        return [name for name in columns if name != JOINT]

    def _loss_weights(self, head_names):
        return {JOINT: 0.0, **super()._loss_weights(head_names)}

    def _graph_options(self):
        return {
            "head_columns": self._factor_columns(),
            "head_hidden_layer_sizes": as_sizes(self.factor_hidden_layer_sizes),
            "shared_trunk": bool(self.shared_trunk),
            "joint": JOINT,
        }

    def _factor_columns(self):
        """``factor_features`` as column indices of X, checked."""
        features = check_factor_features(self.factor_features, self.factor_names_, self.shared_trunk)
        names = list(getattr(self, "feature_names_in_", []))
        return {
            factor: [column_index(c, self.n_features_in_, names, f"factor_features[{factor!r}]") for c in columns]
            for factor, columns in features.items()
        }

    @property
    def _shared_trunk(self):
        return bool(self.shared_trunk)

    # -- predictions -----------------------------------------------------------------------
    def predict_proba(self, X):
        """Joint class probabilities, shape (n_samples, n_joint_classes), columns in
        ``classes_`` order: the product of the factors' probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_joint_classes)
            Probability of each joint class.

        Examples
        --------
        >>> from skmultihead import FactoredLabelNN
        >>> from skmultihead.datasets import make_distance_size
        >>> X, y = make_distance_size(200, random_state=0)
        >>> est = FactoredLabelNN(separator="-", hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
        >>> est.predict_proba(X).shape
        (200, 6)
        """
        joint = self._predict_raw(X)[JOINT].astype(float)
        if self._position_labels is not None:
            joint = joint[:, self._listed]
        return joint / joint.sum(axis=1, keepdims=True)

    def predict_head_proba(self, X):
        """Class probabilities by head: ``{factor: (n_samples, n_classes), "joint":
        (n_samples, n_joint_classes)}``, columns in each factor's classes (``factor_classes_``)
        and ``classes_`` order.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        proba : dict of str to ndarray of shape (n_samples, n_classes)
            Each factor's class probabilities, and the joint ones under ``"joint"``.

        Examples
        --------
        >>> from skmultihead import FactoredLabelNN
        >>> from skmultihead.datasets import make_distance_size
        >>> X, y = make_distance_size(200, random_state=0)
        >>> est = FactoredLabelNN(separator="-", hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
        >>> {head: proba.shape for head, proba in est.predict_head_proba(X).items()}
        {'factor_0': (200, 2), 'factor_1': (200, 3), 'joint': (200, 6)}
        """
        raw = self._predict_raw(X)
        factors = {name: self.heads_[name].predict_proba(raw[name]) for name in self.factor_names_}
        joint = raw[JOINT].astype(float)
        return {**factors, JOINT: joint / joint.sum(axis=1, keepdims=True)}

    def predict_members(self, X):
        """Each ensemble member's probabilities, for uncertainty: ``{head: array of shape
        (ensemble_size, n_samples, n_classes)}`` for each factor and ``"joint"``. Their mean
        over the first axis is `predict_head_proba`; their standard deviation is the
        members' spread.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        members : dict of str to ndarray of shape (ensemble_size, n_samples, n_classes)
            Each member's class probabilities, by factor and ``"joint"``.

        Examples
        --------
        >>> from skmultihead import FactoredLabelNN
        >>> from skmultihead.datasets import make_distance_size
        >>> X, y = make_distance_size(200, random_state=0)
        >>> est = FactoredLabelNN(separator="-", hidden_layer_sizes=(8,), ensemble_size=2, epochs=2, random_state=0)
        >>> members = est.fit(X, y).predict_members(X)
        >>> {head: proba.shape for head, proba in members.items()}
        {'factor_0': (2, 200, 2), 'factor_1': (2, 200, 3), 'joint': (2, 200, 6)}
        """
        members = self._member_outputs(X)
        factors = {
            name: np.stack([self.heads_[name].predict_proba(m) for m in members[name]]) for name in self.factor_names_
        }
        joint = members[JOINT].astype(float)
        return {**factors, JOINT: joint / joint.sum(axis=2, keepdims=True)}

    def _join_heads(self, heads, index=None):
        """``{..., "joint": joint labels}`` in the container kind ``y`` had at fit (as `predict`)."""
        columns = factor_labels(positions(self.joint_classes_, heads[JOINT]), self.target_layout_)
        return join_factors(columns, self.target_layout_, index=index)

    def _head_classes(self):
        return {**self.factor_classes_, JOINT: self.joint_classes_}

    def _view_labels(self, head, labels):
        """Tuple joint classes (DataFrame and 2-D targets) as strings for the ``"joint"``
        view: the factors' labels joined with ``separator`` ("-" when None)."""
        if head != JOINT or not isinstance(self.joint_classes_[0], tuple):
            return labels
        joiner = "-" if self.separator is None else self.separator

        def name(label):
            return joiner.join(map(str, label)) if isinstance(label, tuple) else label

        if len({name(c) for c in self.joint_classes_}) < len(self.joint_classes_):
            raise ValueError(
                f"the 'joint' view names each joint class by its factors' labels joined with {joiner!r}, which "
                "gives two joint classes the same name; set separator to a string no factor label contains."
            )
        return np.array([name(label) for label in labels], dtype=object)

    def _head_targets(self, y):
        columns = self._split_targets(y, reset=False)
        codes, known = columns[JOINT], ~pd.isna(columns[JOINT])
        joint = self.joint_classes_[np.where(known, codes, 0).astype(int)]
        if not known.all():  # no joint class where a factor is missing
            joint = np.where(known, joint.astype(object), None)
        return {**{name: columns[name] for name in self.factor_names_}, JOINT: joint}

    def _predict_columns(self, X):
        """Each factor's part of the most probable joint class."""
        codes = self.predict_proba(X).argmax(axis=1)
        return factor_labels(codes if self._position_labels is None else self._listed[codes], self.target_layout_)

    def _predict_factor_columns(self, X, raw=None):
        """Each factor's most probable class (from the network's outputs ``raw`` when given)."""
        raw = self._predict_raw(X) if raw is None else raw
        return {name: self.heads_[name].decode(raw[name]) for name in self.factor_names_}

    def predict(self, X):
        """The most probable joint class, in y's form. With one member (``ensemble_size=1``)
        it is the most probable class of each factor, since the joint distribution is
        their product.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        y_pred : ndarray, DataFrame or list
            The predicted joint classes, in the form ``y`` had at fit.

        Examples
        --------
        >>> from skmultihead import FactoredLabelNN
        >>> from skmultihead.datasets import make_distance_size
        >>> X, y = make_distance_size(200, random_state=0)
        >>> est = FactoredLabelNN(separator="-", hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
        >>> est.predict(X).shape
        (200,)
        >>> set(est.predict(X)) <= set(est.classes_)
        True
        """
        if vars(self).get("_position_labels") is not None:  # fitted on positions (joint_classes)
            return self.predict_proba(X).argmax(axis=1)
        return join_factors(self._predict_columns(X), self.target_layout_, index=row_index(X))

    def predict_heads(self, X):
        """Predictions by head: ``{factor: its most probable class, "joint": the most
        probable joint class (of ``classes_``)}``, arrays of shape (n_samples,).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        predictions : dict of str to ndarray of shape (n_samples,)
            Each factor's most probable class, and the joint prediction under ``"joint"``.

        Examples
        --------
        >>> from skmultihead import FactoredLabelNN
        >>> from skmultihead.datasets import make_distance_size
        >>> X, y = make_distance_size(200, random_state=0)
        >>> est = FactoredLabelNN(separator="-", hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
        >>> {head: pred.shape for head, pred in est.predict_heads(X).items()}
        {'factor_0': (200,), 'factor_1': (200,), 'joint': (200,)}
        """
        raw = self._predict_raw(X)
        return {**self._predict_factor_columns(X, raw), JOINT: self.joint_classes_[raw[JOINT].argmax(axis=1)]}

    def score(self, X, y, sample_weight=None):
        """Joint accuracy: the fraction of samples whose every factor is right.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        y : target container
            True joint classes, in the form ``y`` had at fit.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        score : float
            The joint accuracy.

        Examples
        --------
        >>> from skmultihead import FactoredLabelNN
        >>> from skmultihead.datasets import make_distance_size
        >>> X, y = make_distance_size(200, random_state=0)
        >>> est = FactoredLabelNN(separator="-", hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
        >>> 0.0 <= est.score(X, y) <= 1.0
        True
        """
        self._check_fitted()
        truth, predicted = self._split_targets(y, reset=False, unseen="wrong"), self._predict_columns(X)
        right = np.all([truth[name] == predicted[name] for name in self.factor_names_], axis=0)
        labeled = labeled_rows(right, truth[JOINT], sample_weight, what="the joint class")
        return float("nan") if labeled is None else float(np.average(labeled[0], weights=labeled[2]))

    def score_heads(self, X, y, sample_weight=None):
        """Accuracy by head: ``{factor: accuracy of its most probable class, "joint": score}``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        y : target container
            True joint classes, in the form ``y`` had at fit.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        scores : dict of str to float
            Each factor's accuracy, and the joint accuracy under ``"joint"``.

        Examples
        --------
        >>> from skmultihead import FactoredLabelNN
        >>> from skmultihead.datasets import make_distance_size
        >>> X, y = make_distance_size(200, random_state=0)
        >>> est = FactoredLabelNN(separator="-", hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
        >>> sorted(est.score_heads(X, y))
        ['factor_0', 'factor_1', 'joint']
        """
        self._check_fitted()
        truth, predicted = self._split_targets(y, reset=False, unseen="wrong"), self._predict_factor_columns(X)
        factors = {
            name: labeled_accuracy(truth[name], predicted[name], sample_weight, f"factor {name!r}")
            for name in self.factor_names_
        }
        return {**factors, JOINT: self.score(X, y, sample_weight)}
