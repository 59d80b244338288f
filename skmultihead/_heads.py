"""Heads: what each output of the network is, and how its target is encoded and decoded.

A `Head` is a specification (kind, own hidden units, loss, metrics). `fit` learns the
encoding from the head's target: class labels for classification heads, mean and scale for
regression heads (targets are standardized inside the network and transformed back at
predict, so the losses of different heads are on comparable scales). The kinds themselves
(`HEAD_KINDS`, the kind a target implies, the checks against a kind) are in `_kinds`.
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score, r2_score

from ._kinds import (
    CLASSIFICATION,
    GAUSSIAN_EPSILON,
    HEAD_KINDS,
    check_kind,
    check_no_missing,
    class_codes,
    infer_kind,
    middle_quantile,
    quantile_values,
    regression_values,
    scaling_values,
    unique_labels,
)
from ._messages import quoted
from ._missing import labeled_rows
from ._plain import plain, unplain


class Head(BaseEstimator):
    """Specification of one output head.

    Its methods (``fit``, ``encode``, ``decode``, ...) are what the estimators call; a user
    normally only constructs a `Head` and passes it in ``heads``.

    Parameters
    ----------
    kind : {"binary", "multiclass", "multilabel", "regression", "quantile"} or None, default=None
        None infers the kind from the target: float values give a regression head (except
        0.0/1.0 only, which is binary); other values give a binary head (two classes) or a
        multiclass head; a 2-D 0/1 target gives a multilabel head. Declare
        ``"multiclass"`` for a 2-D one-hot target and ``"regression"`` for integer values
        that are quantities, not classes.
    units : tuple of int, default=()
        Sizes of dense layers of this head's own, between the shared trunk and its output.
    activation : str, optional
        Output activation; defaults to the kind's (sigmoid, softmax or linear).
    loss : str or keras.losses.Loss, optional
        Loss of this head; defaults to the kind's (binary or sparse categorical
        cross-entropy, mean squared error of the standardized target).
    metrics : list, optional
        Keras metrics of this head; defaults to accuracy (classification) or mean absolute
        error of the standardized target (regression).
    separate : bool, default=False
        Multilabel heads only: give each label a branch of its own (its own ``units``
        hidden layers and one-unit sigmoid output, in `PerLabelDense` layers) for the head's
        output. False: one dense output layer for all labels (after the
        head's ``units`` layers, shared by the labels).
    classes : sequence, optional
        Class labels of a binary or multiclass head (they may include labels the target
        lacks; a multiclass head may have a single class), or the names of a multilabel
        head's columns (they name its per-label layers when ``separate``). Default: the
        sorted labels of the target; column indices for 2-D targets.
    scaling : (mean, scale), optional
        Regression heads only: the standardization of the target, the network learning
        ``(y - mean) / scale``; numbers, or one per column of a 2-D target. Give it (and
        ``classes``) up front to train with ``partial_fit`` on chunks of data: default, the
        mean and standard deviation of the first target the head is fitted on.
    quantiles : sequence of float, optional
        A ``"quantile"`` head's levels in (0, 1), sorted: it learns those quantiles of the
        target (pinball loss), which never cross; ``predict`` gives the median (or the
        middle level), ``predict_heads`` all of them.
    distribution : {"normal"}, optional
        Regression heads only: the head learns a mean and a standard deviation per row
        (positive by construction), trained on the Gaussian negative log-likelihood;
        ``predict_heads(X, return_std=True)`` gives both, in the target's units.

    Attributes
    ----------
    kind_ : str
        The declared or inferred kind.
    classes_ : ndarray
        Class labels (classification heads), sorted; for multilabel heads the label names.
    mean_, scale_ : ndarray
        Standardization of a regression target.
    n_outputs_ : int
        Units of the output layer.

    See Also
    --------
    HEAD_KINDS : Each kind's output activation, loss and metric.

    Examples
    --------
    >>> from skmultihead import HEAD_KINDS, Head, MultiOutputNNClassifier
    >>> from skmultihead.datasets import make_social_media
    >>> sorted(HEAD_KINDS)
    ['binary', 'multiclass', 'multilabel', 'quantile', 'regression']
    >>> X, Y = make_social_media(200, random_state=0)
    >>> heads = {"income": Head("multiclass", units=(8,)), "age": "regression"}
    >>> est = MultiOutputNNClassifier(heads, hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
    >>> est.heads_["income"].kind_, est.heads_["income"].n_outputs_
    ('multiclass', 10)
    >>> [layer.name for layer in est.model_.layers if layer.name.startswith("income")]
    ['income_hidden_0', 'income']
    """

    def __init__(
        self, kind=None, *, units=(), activation=None, loss=None, metrics=None, separate=False, classes=None,
        scaling=None, distribution=None, quantiles=None,
    ):
        self.kind = kind
        self.units = units
        self.activation = activation
        self.loss = loss
        self.metrics = metrics
        self.separate = separate
        self.classes = classes
        self.scaling = scaling
        self.distribution = distribution
        self.quantiles = quantiles

    # -- fitting -------------------------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        if "dtype_" in state:  # the target's dtype as plain data (see `_plain`)
            state["dtype_"] = plain(state["dtype_"])
        return state

    def __setstate__(self, state):
        state = {"distribution": None, "quantiles": None, **state}  # heads pickled before these existed
        super().__setstate__({**state, "dtype_": unplain(state["dtype_"])} if "dtype_" in state else state)

    def fit(self, y, name):
        """Learn the encoding of this head's target: its kind, classes or standardization.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_columns)
            The head's training target.
        name : str
            The head's name, used in error messages.

        Returns
        -------
        self : Head
            The fitted head.

        Raises
        ------
        ValueError
            If ``y`` has missing values, more than 2 dimensions, or does not fit the
            declared kind or ``classes``.

        Examples
        --------
        >>> from skmultihead import Head
        >>> head = Head().fit(["b", "a", "b", "c"], "color")
        >>> head.kind_, head.classes_.tolist(), head.n_outputs_
        ('multiclass', ['a', 'b', 'c'], 3)
        >>> Head().fit([1.5, 2.0, 3.5], "age").kind_
        'regression'
        """
        self.name_ = name
        y = np.asarray(y)
        check_no_missing(y, name)
        if y.ndim == 2 and y.shape[1] == 1 and self.kind != "multilabel":
            y = y[:, 0]
        if y.ndim not in (1, 2):
            raise ValueError(f"the target of head {name!r} has {y.ndim} dimensions; a head's target is 1-D or 2-D.")
        kind = self.kind or infer_kind(y, name, self.classes)
        check_kind(kind, name, self.separate, self.classes, self.scaling, self.distribution, self.quantiles)
        self.kind_ = kind
        self.ndim_ = y.ndim
        self.dtype_ = y.dtype
        getattr(self, f"_fit_{kind}")(y)
        return self

    def _fit_binary(self, y):
        self._require_ndim(y, 1, "binary heads take a 1-D target")
        self.classes_ = self._classes(y)
        if len(self.classes_) > 2:
            raise ValueError(
                f"head {self.name_!r} is binary but its target has {len(self.classes_)} classes "
                f"({quoted(self.classes_[:5])}, ...); declare it 'multiclass'."
            )
        self.n_outputs_ = 1

    def _fit_multiclass(self, y):
        self.one_hot_ = y.ndim == 2
        if self.one_hot_:
            if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
                raise ValueError(
                    f"head {self.name_!r} is multiclass with a 2-D target, which must be one-hot rows "
                    "(0/1 with exactly one 1 per row)."
                )
        self.classes_ = self._classes(y)
        self.n_outputs_ = len(self.classes_)

    def _fit_multilabel(self, y):
        self._require_ndim(y, 2, "multilabel heads take a 2-D 0/1 indicator target")
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"head {self.name_!r} is multilabel; its indicator target must hold only 0 and 1.")
        self.classes_ = self._classes(y)
        self.n_outputs_ = y.shape[1]

    def _fit_regression(self, y):
        y = regression_values(y, self.name_, self.kind_)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        if self.distribution is not None:  # a mean and a (raw) scale per column
            self.n_outputs_ *= 2
        if self.scaling is None:
            self.mean_ = y.mean(axis=0)
            scale = y.std(axis=0)
            self.scale_ = np.where(scale > 0, scale, 1.0)
            return
        shape = () if y.ndim == 1 else (y.shape[1],)
        self.mean_, self.scale_ = scaling_values(self.scaling, shape, self.name_, y.shape[1] if y.ndim == 2 else 1)

    def _fit_quantile(self, y):
        self._require_ndim(y, 1, "quantile heads take a 1-D target")
        self._fit_regression(y)
        self.n_outputs_ = len(self.quantiles)

    def _classes(self, y):
        """The given classes (checked against the target), else the target's own."""
        if y.ndim == 2:
            if self.classes is None:
                return np.arange(y.shape[1])
            classes = np.asarray(self.classes)
            if classes.shape != (y.shape[1],):
                raise ValueError(f"head {self.name_!r} has {len(classes)} classes for a target of {y.shape[1]} columns.")
            return classes
        if self.classes is None:
            return self._unique_classes(y)
        classes = np.unique(np.asarray(self.classes))
        unknown = np.setdiff1d(y, classes)
        if unknown.size:
            raise ValueError(f"head {self.name_!r} has labels {quoted(unknown[:5])} that are not in its classes {quoted(classes)}.")
        return classes

    def _unique_classes(self, y):
        classes = unique_labels(y)
        if len(classes) < 2:
            raise ValueError(
                f"head {self.name_!r} has only 1 class ({classes[0]!r}) in the training data; "
                "a classification head needs at least two classes."
            )
        return classes

    def _require_ndim(self, y, ndim, why):
        if y.ndim != ndim:
            raise ValueError(f"head {self.name_!r}: {why}; got a {y.ndim}-D target.")

    # -- what the network is given and what it returns ------------------------------------
    @property
    def activation_(self):
        """Activation of the head's output layer: ``activation`` or the kind's default.

        Returns
        -------
        activation : str
            The activation name.

        Examples
        --------
        >>> from skmultihead import Head
        >>> Head().fit([0, 1, 1], "clicked").activation_
        'sigmoid'
        """
        return self.activation or HEAD_KINDS[self.kind_]["activation"]

    @property
    def loss_(self):
        """Loss of the head: ``loss`` or the kind's default.

        Returns
        -------
        loss : str or keras.losses.Loss
            The loss.

        Examples
        --------
        >>> from skmultihead import Head
        >>> Head().fit(["a", "b", "c"], "color").loss_
        'sparse_categorical_crossentropy'
        """
        if self.loss is None and self.distribution is not None:
            return "skmultihead>gaussian_nll"  # see `_losses`
        if self.loss is None and self.kind_ == "quantile":  # a Keras config: `_losses.PinballLoss`
            return {"class_name": "skmultihead>PinballLoss", "config": {"quantiles": list(map(float, self.quantiles))}}
        return self.loss or HEAD_KINDS[self.kind_]["loss"]

    def network_spec(self):
        """What the network takes from this head: parameters, kind, output units, classes.

        The regression scaling is left out; it stays outside the network.

        Returns
        -------
        spec : dict
            The head's parameters and ``kind_``, ``n_outputs_`` and ``classes_`` (None for
            regression heads).

        Examples
        --------
        >>> from skmultihead import Head
        >>> spec = Head(units=(4,)).fit([0, 1, 1], "clicked").network_spec()
        >>> spec["kind_"], spec["n_outputs_"], spec["units"], spec["classes_"].tolist()
        ('binary', 1, (4,), [0, 1])
        """
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "scaling"}
        fitted = {"kind_": self.kind_, "n_outputs_": self.n_outputs_, "classes_": getattr(self, "classes_", None)}
        return {**params, **fitted}

    @property
    def is_classifier_(self):
        """Whether the head is a classification head (binary, multiclass or multilabel).

        Returns
        -------
        is_classifier : bool
            False for regression heads.

        Examples
        --------
        >>> from skmultihead import Head
        >>> Head().fit([0, 1, 1], "clicked").is_classifier_
        True
        >>> Head().fit([1.5, 2.0, 3.5], "age").is_classifier_
        False
        """
        return self.kind_ in CLASSIFICATION

    def encode(self, y):
        """The target as the network is trained on it.

        Class labels become class indices (float32 for binary heads, int32 for multiclass
        heads), multilabel indicators float32, regression targets standardized float32.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_columns)
            Target values in the form of the training target.

        Returns
        -------
        encoded : ndarray
            The encoded target.

        Raises
        ------
        ValueError
            If ``y`` has missing values, labels not seen in `fit`, or the wrong number of
            columns.

        Examples
        --------
        >>> from skmultihead import Head
        >>> head = Head().fit(["b", "a", "b", "c"], "color")
        >>> codes = head.encode(["a", "c"])
        >>> codes.tolist(), codes.dtype.name
        ([0, 2], 'int32')
        """
        y = np.asarray(y)
        check_no_missing(y, self.name_)
        if y.ndim == 2 and y.shape[1] == 1 and self.ndim_ == 1:
            y = y[:, 0]
        if self.kind_ in ("regression", "quantile"):
            return ((y.astype(float) - self.mean_) / self.scale_).astype("float32")
        if self.kind_ == "multilabel" or getattr(self, "one_hot_", False):
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"head {self.name_!r} was fitted on a target of {len(self.classes_)} columns; "
                    f"got shape {y.shape}."
                )
            return y.argmax(axis=1).astype("int32") if self.kind_ == "multiclass" else y.astype("float32")
        codes = class_codes(y, self.classes_)
        if (codes < 0).any():
            raise ValueError(f"head {self.name_!r} got labels {quoted(np.unique(y[codes < 0])[:5])} that were not "
                             f"in the training data; its classes are {quoted(self.classes_)}.")
        return codes.astype("float32" if self.kind_ == "binary" else "int32")

    def predict_proba(self, raw):
        """Class probabilities from the network's output, columns in ``classes_`` order.

        Parameters
        ----------
        raw : array-like of shape (n_samples, n_outputs)
            The head's output from the network.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Binary heads: the probabilities of both classes; multiclass heads: rows
            renormalized to sum to 1; multilabel heads: each label's probability.

        Examples
        --------
        >>> import numpy as np
        >>> from skmultihead import Head
        >>> head = Head().fit([0, 1, 1], "clicked")
        >>> head.predict_proba(np.array([[0.25], [0.75]])).tolist()
        [[0.75, 0.25], [0.25, 0.75]]
        """
        raw = np.asarray(raw, dtype=float)
        if self.kind_ == "binary":
            p = raw.reshape(-1)
            return np.column_stack([1.0 - p, p])
        if self.kind_ == "multiclass":
            return raw / raw.sum(axis=1, keepdims=True)  # exact sums after float32 softmax
        return raw

    def decode(self, raw):
        """Predictions in the form of the training target, from the network's output.

        Parameters
        ----------
        raw : array-like of shape (n_samples, n_outputs)
            The head's output from the network.

        Returns
        -------
        prediction : ndarray of shape (n_samples,) or (n_samples, n_columns)
            Class labels (one-hot rows or 0/1 indicators for 2-D targets), or regression
            values on the target's scale.

        Examples
        --------
        >>> import numpy as np
        >>> from skmultihead import Head
        >>> head = Head().fit(["b", "a", "b", "c"], "color")
        >>> head.decode(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])).tolist()
        ['a', 'c']
        """
        raw = np.asarray(raw)
        if self.kind_ == "quantile":
            return self.quantiles_of(raw)[:, middle_quantile(self.quantiles)]
        if self.kind_ == "regression":
            values = raw[:, : raw.shape[1] // 2] if self.distribution is not None else raw
            values = values * self.scale_ + self.mean_
            return values.reshape(-1) if self.ndim_ == 1 else values
        if self.kind_ == "multilabel":
            return (raw >= 0.5).astype(self.dtype_)
        if self.kind_ == "binary":
            return self.classes_[(raw.reshape(-1) >= 0.5).astype(int)]
        codes = raw.argmax(axis=1)
        if self.one_hot_:
            return np.eye(len(self.classes_), dtype=self.dtype_)[codes]
        return self.classes_[codes]

    def quantiles_of(self, raw):
        """A ``"quantile"`` head's quantiles, shape (n_samples, n_quantiles), in the target's
        units, from the network's output ``raw``."""
        return quantile_values(raw) * self.scale_ + self.mean_

    def std(self, raw):
        """The standard deviation a ``distribution="normal"`` head predicts, in the
        target's units, from the network's output ``raw`` (means, then raw scales)."""
        raw = np.asarray(raw, dtype=float)
        std = (np.logaddexp(0.0, raw[:, raw.shape[1] // 2 :]) + GAUSSIAN_EPSILON) * self.scale_  # softplus
        return std.reshape(-1) if self.ndim_ == 1 else std

    def score(self, y, prediction, sample_weight=None):
        """Accuracy (classification; subset accuracy for multilabel) or R² (regression), on
        the rows that have a target (NaN, with a warning, when none has).

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_columns)
            True target values.
        prediction : ndarray
            Predictions, as returned by `decode`.
        sample_weight : array-like of shape (n_samples,), optional
            Sample weights.

        Returns
        -------
        score : float
            The accuracy or R².

        Examples
        --------
        >>> from skmultihead import Head
        >>> head = Head().fit(["b", "a", "b", "c"], "color")
        >>> float(head.score(["a", "c"], head.decode([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])))
        1.0
        """
        labeled = labeled_rows(prediction, np.asarray(y).reshape(np.shape(prediction)), sample_weight,
                               what=f"head {self.name_!r}")
        if labeled is None:
            return float("nan")
        prediction, y, sample_weight = labeled
        if self.kind_ in ("regression", "quantile"):  # R² of the mean or median
            return r2_score(np.asarray(y, dtype=float), prediction, sample_weight=sample_weight)
        return accuracy_score(y, prediction, sample_weight=sample_weight)
