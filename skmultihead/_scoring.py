"""Scoring: scikit-learn scorers for one head of a multi-head estimator."""

from sklearn.base import BaseEstimator
from sklearn.metrics import get_scorer, make_scorer
from sklearn.pipeline import Pipeline

from ._messages import quoted
from ._targets import split_targets


def _final_step(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


class _HeadView(BaseEstimator):
    """One head of a fitted multi-head estimator (or a Pipeline ending in one), seen as a
    single-output classifier or regressor, so scikit-learn's scorers apply unchanged."""

    def __init__(self, estimator, head):
        self.estimator = estimator
        self.head = head
        heads = _final_step(estimator).heads_
        if head not in heads:
            raise ValueError(f"head_scorer names head {head!r}; the heads are {quoted(heads)}.")
        self.head_ = heads[head]
        if self.head_.is_classifier_:
            self.classes_ = self.head_.classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if self.head_.is_classifier_ else "regressor"
        return tags

    def _final(self, X):
        """The multi-head estimator and its input X (after a Pipeline's transformers)."""
        if isinstance(self.estimator, Pipeline):
            return self.estimator[-1], self.estimator[:-1].transform(X)
        return self.estimator, X

    def predict(self, X):
        estimator, X = self._final(X)
        return split_targets(estimator.predict(X))[0][self.head]

    def predict_proba(self, X):
        estimator, X = self._final(X)
        return estimator.predict_head_proba(X)[self.head]


class _HeadScorer:
    def __init__(self, head, scorer):
        self.head = head
        self.scorer = scorer

    def __call__(self, estimator, X, y, sample_weight=None):
        view = _HeadView(estimator, self.head)
        y_head = split_targets(y)[0].get(self.head)
        if y_head is None:
            raise ValueError(f"head_scorer for head {self.head!r}: y has no target for that head.")
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return self.scorer(view, X, y_head, **kwargs)

    def __repr__(self):
        return f"head_scorer({self.head!r}, {self.scorer!r})"


def head_scorer(head, metric, **kwargs):
    """A scorer for one head, for ``scoring=`` in GridSearchCV and cross_validate.

    Parameters
    ----------
    head : str
        The head's name.
    metric : str or callable
        A scikit-learn scorer name ("accuracy", "balanced_accuracy", "f1_macro",
        "roc_auc", "neg_log_loss", "r2", "neg_mean_absolute_error", ...), a scorer, or a
        metric ``f(y_true, y_pred) -> float`` (greater is better; wrapped with
        ``make_scorer(metric, **kwargs)``).
    **kwargs
        Passed to ``make_scorer`` with a metric callable (``greater_is_better``,
        ``response_method``, metric arguments); an error with a name or scorer.

    Returns
    -------
    callable
        ``scorer(estimator, X, y)``, where ``y`` is the full target container.
    """
    if kwargs and not (callable(metric) and not hasattr(metric, "_score_func")):
        raise TypeError(
            f"head_scorer takes keyword arguments {sorted(kwargs)} only with a metric callable, "
            "which they configure through make_scorer; a scorer name or scorer is used as it is."
        )
    if isinstance(metric, str):
        scorer = get_scorer(metric)
    elif hasattr(metric, "_score_func"):
        scorer = metric
    elif callable(metric):
        scorer = make_scorer(metric, **kwargs)
    else:
        raise TypeError(f"head_scorer metric must be a scorer name or a callable; got {type(metric).__name__}.")
    return _HeadScorer(head, scorer)


