"""Views: one head of a fitted multi-head estimator as a fitted single-output estimator.

A head is a head of `MultiOutputNNClassifier`, a label of `MultiLabelNN`, or a factor or
the ``"joint"`` of `FactoredLabelNN` (the keys of ``predict_heads``). The view shares the
estimator's network: nothing is copied, and it follows the estimator when that is refitted.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.pipeline import Pipeline

from ._kinds import middle_quantile
from ._messages import quoted, suggest
from ._missing import labeled_rows


def head_view(estimator, head, quantile=None):
    """``estimator``'s head ``head`` as a `HeadClassifier` or `HeadRegressor` (predicting
    the level ``quantile`` of a ``"quantile"`` head, when given).

    ``estimator`` is a fitted multi-head estimator or a Pipeline ending in one.
    """
    classes = _final_step(estimator)._head_classes()
    if head not in classes:
        heads = list(classes)
        raise ValueError(
            f"{head!r} is not a head of this {type(_final_step(estimator)).__name__}; the heads are "
            f"{quoted(heads)}.{suggest(head, heads)}"
        )
    if classes[head] is not None:
        return HeadClassifier(estimator, head)
    return HeadRegressor(estimator, head, quantile)


def _final_step(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


class _LabeledScore:
    """``score`` on the rows whose target has a label (NaN, with a warning, when none has)."""

    def score(self, X, y, sample_weight=None):
        """The score of scikit-learn's mixin (accuracy or R²) on the rows that have a target.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        y : array-like of shape (n_samples,)
            The head's true targets; missing ones (NaN, None) are left out.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        score : float
        """
        y = _final_step(self.estimator)._view_labels(self.head, y)
        labeled = labeled_rows(X, y, sample_weight, what=f"head {self.head!r}")
        return float("nan") if labeled is None else super().score(*labeled)


class _HeadView(BaseEstimator):
    def __init__(self, estimator, head):
        self.estimator = estimator
        self.head = head

    @property
    def n_features_in_(self):
        return self.estimator.n_features_in_

    @property
    def feature_names_in_(self):
        return self.estimator.feature_names_in_

    def __sklearn_is_fitted__(self):
        return getattr(_final_step(self.estimator), "initialized_", False)

    def fit(self, X, y=None, **params):
        """Refused: a view is fitted with its estimator; see the class description."""
        raise TypeError(
            f"{type(self).__name__} is a view of head {self.head!r} of a fitted estimator and is not fitted on "
            "its own: fit the multi-head estimator, or wrap the view in sklearn.frozen.FrozenEstimator for a "
            "meta-estimator that fits what it is given."
        )

    def _final(self, X):
        """The multi-head estimator and its input X (after a Pipeline's transformers)."""
        estimator = _final_step(self.estimator)
        if estimator is not self.estimator:
            X = self.estimator[:-1].transform(X)
        estimator._check_fitted()
        return estimator, X

    def predict(self, X):
        """The head's predictions for ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as the estimator takes them.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        estimator, X = self._final(X)
        return estimator._view_labels(self.head, estimator.predict_heads(X)[self.head])


class HeadClassifier(_LabeledScore, ClassifierMixin, _HeadView):
    """A classification head of a fitted multi-head estimator, as a fitted classifier.

    Made by ``estimator.head_estimator(head)``; it shares the estimator's network and
    cannot be fitted on its own (``FrozenEstimator`` wraps it for meta-estimators such as
    ``CalibratedClassifierCV`` and ``TunedThresholdClassifierCV``).

    Parameters
    ----------
    estimator : fitted estimator
        A multi-head estimator, or a Pipeline ending in one.
    head : str
        The head: a head, a label of `MultiLabelNN`, a factor or ``"joint"``.

    Attributes
    ----------
    classes_ : ndarray
        The head's class labels (0 and 1 for a label of `MultiLabelNN`; for the
        ``"joint"`` of a `FactoredLabelNN` fitted on a DataFrame or 2-D target, each joint
        class's factor labels joined with its ``separator``, "-" by default).
    n_features_in_, feature_names_in_
        The estimator's.

    Examples
    --------
    >>> from sklearn.metrics import RocCurveDisplay
    >>> from skmultihead import MultiOutputNNClassifier
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
    >>> gender = est.head_estimator("gender")
    >>> gender.classes_.tolist(), gender.predict_proba(X).shape
    (['f', 'm'], (200, 2))
    """

    @property
    def classes_(self):
        final = _final_step(self.estimator)
        return final._view_labels(self.head, final._head_classes()[self.head])

    def predict_proba(self, X):
        """The head's class probabilities for ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as the estimator takes them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in ``classes_`` order.
        """
        estimator, X = self._final(X)
        return estimator.predict_head_proba(X)[self.head]


class HeadRegressor(_LabeledScore, RegressorMixin, _HeadView):
    """A regression head of a fitted multi-head estimator, as a fitted regressor.

    Made by ``estimator.head_estimator(head)``; it shares the estimator's network and
    cannot be fitted on its own.

    Parameters
    ----------
    estimator : fitted estimator
        A multi-head estimator, or a Pipeline ending in one.
    head : str
        The regression head.
    quantile : float, optional
        For a ``"quantile"`` head: the level it predicts (default: the median).

    Examples
    --------
    >>> from skmultihead import MultiOutputNNClassifier
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
    >>> est.head_estimator("age").predict(X).shape
    (200,)
    """

    def __init__(self, estimator, head, quantile=None):
        super().__init__(estimator, head)
        self.quantile = quantile

    def predict(self, X, return_std=False):
        """The head's predictions for ``X``, as scikit-learn's regressors give them (for a
        ``"quantile"`` head, its median or the level ``quantile``).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as the estimator takes them.
        return_std : bool, default=False
            Also the standard deviation of each prediction (a ``distribution="normal"`` head).

        Returns
        -------
        ndarray of shape (n_samples,), or (mean, std) with ``return_std``
        """
        estimator, X = self._final(X)
        head = estimator.heads_[self.head]
        if head.kind_ == "quantile" or self.quantile is not None:
            return self._quantile(estimator, X)
        if not return_std:
            return estimator.predict_heads(X)[self.head]
        if head.distribution is None:
            raise ValueError(
                f"return_std=True: head {self.head!r} has no distribution (give Head(distribution='normal'))."
            )
        return estimator.predict_heads(X, return_std=True)[self.head]

    def _quantile(self, estimator, X):
        """The level ``quantile`` of a quantile head (default: its median)."""
        head = estimator.heads_[self.head]
        levels = [float(q) for q in (head.quantiles or ())]
        level = levels[middle_quantile(levels)] if self.quantile is None else self.quantile
        if float(level) not in levels:
            raise ValueError(f"head {self.head!r} learns quantiles {levels}; it has none at {self.quantile!r}.")
        return np.asarray(estimator.predict_heads(X)[self.head])[:, levels.index(float(level))]

