"""Scoring: scikit-learn scorers for one head of a multi-head estimator.

A head is a head of `MultiOutputNNClassifier`, a label of `MultiLabelNN`, or a factor or
the ``"joint"`` of `FactoredLabelNN` (the keys of ``predict_heads``).
"""

import numpy as np
from sklearn.metrics import get_scorer, make_scorer, mean_pinball_loss
from sklearn.utils.metadata_routing import MetadataRequest

from ._missing import labeled_rows
from ._views import _final_step, head_view


class HeadScorer:
    """A scikit-learn scorer of one head, as `head_scorer` returns it.

    Takes ``sample_weight`` as scikit-learn's scorers do: given directly, or through
    metadata routing once requested with ``set_score_request(sample_weight=True)``.
    Rows whose target for the head is missing are left out; with none labeled, the score
    is NaN (with a warning).

    Parameters
    ----------
    head : str
        The head it scores.
    scorer : callable
        A scikit-learn scorer, applied to the head seen as a single-output estimator.
    name : str
        Its ``__name__``, which plots take as the score's name.

    Examples
    --------
    >>> import numpy as np, sklearn
    >>> from sklearn.model_selection import cross_validate
    >>> from skmultihead import MultiOutputNNClassifier, head_scorer
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> weights = np.where(Y["gender"] == "f", 2.0, 1.0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0)
    ...     scorer = head_scorer("gender", "accuracy").set_score_request(sample_weight=True)
    ...     result = cross_validate(est.set_fit_request(sample_weight=True), X, Y, cv=2,
    ...                             scoring={"gender": scorer}, params={"sample_weight": weights})
    >>> result["test_gender"].shape
    (2,)
    """

    def __init__(self, head, scorer, name):
        self.head, self.scorer, self.__name__ = head, scorer, name
        self._metadata_request = MetadataRequest(owner=self)

    def __call__(self, estimator, X, y, sample_weight=None):
        view = head_view(estimator, self.head, self._quantile(estimator))
        final = _final_step(estimator)
        y_head = final._head_targets(y).get(self.head)
        if y_head is None:
            raise ValueError(f"head_scorer for head {self.head!r}: y has no target for that head.")
        y_head = final._view_labels(self.head, y_head)
        labeled = labeled_rows(X, y_head, sample_weight, what=f"head {self.head!r}")
        if labeled is None:
            return float("nan")
        X, y_head, sample_weight = labeled
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return self.scorer(view, X, y_head, **kwargs)

    def _quantile(self, estimator):
        """The level a pinball-loss scorer of a ``"quantile"`` head scores (its ``alpha``)."""
        head = _final_step(estimator).heads_.get(self.head)
        if getattr(head, "kind_", None) != "quantile" or getattr(self.scorer, "_score_func", None) is not (
            mean_pinball_loss
        ):
            return None
        return self.scorer._kwargs.get("alpha", 0.5)

    def set_score_request(self, *, sample_weight=None):
        """Whether the scorer receives ``sample_weight`` through metadata routing, as
        ``make_scorer(...).set_score_request``.

        Parameters
        ----------
        sample_weight : bool, None or str, default=None
            True: passed on when given; False: not passed; None: an error when given; a
            str: the name it is given under.

        Returns
        -------
        self : HeadScorer
        """
        self._metadata_request = MetadataRequest(owner=self)
        self._metadata_request.score.add_request(param="sample_weight", alias=sample_weight)
        return self

    def get_metadata_routing(self):
        """The scorer's metadata request (scikit-learn's routing reads it).

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRequest
        """
        return self._metadata_request

    def __repr__(self):
        return f"head_scorer({self.head!r}, {self.scorer!r})"


def head_scorer(head, metric, **kwargs):
    """A scorer for one head, for ``scoring=`` in GridSearchCV and cross_validate.

    Parameters
    ----------
    head : str
        The head: a head of `MultiOutputNNClassifier`, a label of `MultiLabelNN`, or a
        factor or ``"joint"`` of `FactoredLabelNN`.
    metric : str or callable
        A scikit-learn scorer name ("accuracy", "balanced_accuracy", "f1_macro",
        "roc_auc", "neg_log_loss", "r2", "neg_mean_absolute_error", ...), a scorer, or a
        metric ``f(y_true, y_pred) -> float`` (greater is better; wrapped with
        ``make_scorer(metric, **kwargs)``). For a ``distribution="normal"`` head,
        ``"log_likelihood"``: the mean Gaussian log-likelihood of the targets. For a
        ``"quantile"`` head, a pinball-loss scorer (``make_scorer(mean_pinball_loss,
        alpha=0.05, greater_is_better=False)``) scores the quantile ``alpha``.
    **kwargs
        Passed to ``make_scorer`` with a metric callable (``greater_is_better``,
        ``response_method``, metric arguments); an error with a name or scorer.

    Returns
    -------
    HeadScorer
        ``scorer(estimator, X, y, sample_weight=None)``, where ``y`` is the full target
        container; its ``__name__`` (e.g. ``"age neg_mean_absolute_error"``) labels plots.

    Examples
    --------
    >>> from sklearn.model_selection import cross_validate
    >>> from skmultihead import MultiOutputNNClassifier, head_scorer
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0)
    >>> scoring = {"income": head_scorer("income", "accuracy"), "age": head_scorer("age", "r2")}
    >>> scores = cross_validate(est, X, Y, cv=2, scoring=scoring)
    >>> scores["test_income"].shape, scores["test_age"].shape
    ((2,), (2,))
    """
    if kwargs and not (callable(metric) and not hasattr(metric, "_score_func")):
        raise TypeError(
            f"head_scorer takes keyword arguments {sorted(kwargs)} only with a metric callable, "
            "which they configure through make_scorer; a scorer name or scorer is used as it is."
        )
    if isinstance(metric, str) and metric == "log_likelihood":
        scorer, name = _log_likelihood, metric
    elif isinstance(metric, str):
        scorer, name = get_scorer(metric), metric
    elif hasattr(metric, "_score_func"):
        scorer, name = metric, metric._score_func.__name__
    elif callable(metric):
        scorer, name = make_scorer(metric, **kwargs), getattr(metric, "__name__", type(metric).__name__)
    else:
        raise TypeError(f"head_scorer metric must be a scorer name or a callable; got {type(metric).__name__}.")
    return HeadScorer(head, scorer, f"{head} {name}")


def _log_likelihood(view, X, y, sample_weight=None):
    """The mean Gaussian log-likelihood of ``y`` under a ``distribution="normal"`` head's
    predicted mean and standard deviation (higher is better)."""
    mean, std = view.predict(X, return_std=True)
    y = np.asarray(y, dtype=float).reshape(np.shape(mean))
    log_likelihood = -0.5 * np.log(2 * np.pi * std**2) - 0.5 * ((y - mean) / std) ** 2
    return float(np.average(log_likelihood.reshape(len(y), -1).mean(axis=1), weights=sample_weight))

