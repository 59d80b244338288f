"""Model selection for multi-head estimators: out-of-fold predictions for any mix of heads.

scikit-learn's ``cross_val_predict`` label-encodes every column of ``y`` for
``method="predict_proba"``, so a regression head becomes a many-class target and head
names are lost. This one fits each fold's clone on the full target container and keeps
what the estimator returns: the container kind of ``y`` for ``predict``, a dict of
per-head probability arrays for ``predict_proba``.
"""

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, indexable

from ._inputs import row_index
from ._targets import as_pandas, target_rows

METHODS = ("predict", "predict_proba", "predict_heads")


def cross_val_predict(
    estimator, X, y, *, groups=None, cv=None, n_jobs=None, verbose=0, params=None, pre_dispatch="2*n_jobs",
    method="predict",
):
    """Each row's prediction by the fold's estimator that did not see it.

    Parameters
    ----------
    estimator : MultiOutputNNClassifier, MultiLabelNN or FactoredLabelNN
        Cloned and fitted on each fold's training rows.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features.
    y : target container
        Targets, as the estimator's ``fit`` takes them.
    groups : array-like of shape (n_samples,), optional
        Group labels, for a group splitter.
    cv : int, splitter or iterable, default=None
        As in scikit-learn: None is 5 folds (stratified for a classifier with 1-D classes).
    n_jobs : int, default=None
        Folds fitted in parallel (joblib).
    verbose : int, default=0
        joblib's verbosity.
    params : dict, optional
        Passed to ``fit``; arrays of one entry per row (``sample_weight``) are split with
        the rows.
    pre_dispatch : int or str, default="2*n_jobs"
        joblib's pre-dispatch.
    method : {"predict", "predict_proba", "predict_heads"}, default="predict"
        ``"predict"``: the estimator's predictions, in ``y``'s container kind with its
        head names (and ``X``'s index for DataFrames). ``"predict_proba"``: ``{head:
        (n_samples, n_classes)}`` for each classification head (as ``predict_head_proba``),
        columns in the sorted classes of all folds (0 for a class a fold did not see).
        ``"predict_heads"``: ``{head: ndarray}`` of ``predict_heads``, where a quantile
        head gives all its quantiles, ``(n_samples, n_quantiles)``.

    Returns
    -------
    container or dict of str to ndarray

    Examples
    --------
    >>> from skmultihead import MultiOutputNNClassifier
    >>> from skmultihead.model_selection import cross_val_predict
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0)
    >>> cross_val_predict(est, X, Y, cv=3).columns.tolist()
    ['age', 'income', 'gender']
    >>> proba = cross_val_predict(est, X, Y, cv=3, method="predict_proba")
    >>> sorted(proba), proba["gender"].shape
    (['gender', 'income'], (200, 2))
    """
    if method not in METHODS:
        raise ValueError(f"cross_val_predict: method must be one of {METHODS}; got {method!r}.")
    y = as_pandas(y)
    X, groups = indexable(X, groups)
    splitter = check_cv(cv, _stratifiable(y), classifier=is_classifier(estimator))
    folds = list(splitter.split(X, _stratifiable(y), groups))
    n = _num_rows(X)
    params = params or {}
    results = Parallel(n_jobs=n_jobs, verbose=verbose, pre_dispatch=pre_dispatch)(
        delayed(_fit_and_predict)(clone(estimator), X, y, train, test, params, n, method) for train, test in folds
    )
    tested = np.concatenate([test for _, test in folds])
    if len(np.unique(tested)) != n or len(tested) != n:
        raise ValueError("cross_val_predict needs folds whose test rows cover every row exactly once (a partition).")
    if method in ("predict", "predict_heads"):
        heads = {name: _stitch([r[1][name] for r in results], folds, n) for name in results[0][1]}
        return heads if method == "predict_heads" else results[0][0]._join_heads(heads, index=row_index(X))
    return {name: _stitch_proba([r[1][name] for r in results], [r[2][name] for r in results], folds, n)
            for name in results[0][1]}


def _fit_and_predict(estimator, X, y, train, test, params, n, method):
    fit_params = {k: _safe_indexing(v, train) if _num_rows(v, default=-1) == n else v for k, v in params.items()}
    estimator.fit(_safe_indexing(X, train), target_rows(y, train, n), **fit_params)
    X_test = _safe_indexing(X, test)
    if method in ("predict", "predict_heads"):
        return estimator, estimator.predict_heads(X_test), None
    classes = estimator._head_classes()
    proba = estimator.predict_head_proba(X_test)
    return estimator, proba, {name: classes[name] for name in proba}


def _stitch(parts, folds, n):
    """The folds' test-row arrays in row order."""
    first = np.asarray(parts[0])
    out = np.empty((n, *first.shape[1:]), dtype=np.result_type(*[np.asarray(p).dtype for p in parts]))
    for (_, test), part in zip(folds, parts):
        out[test] = part
    return out


def _stitch_proba(parts, classes, folds, n):
    """Per-fold probabilities in the sorted union of the folds' classes."""
    every = np.unique(np.concatenate([np.asarray(c) for c in classes]))
    out = np.zeros((n, len(every)))
    for (_, test), part, fold_classes in zip(folds, parts, classes):
        columns = np.searchsorted(every, fold_classes)
        out[np.ix_(test, columns)] = part
    return out


def _stratifiable(y):
    """``y`` when it is one 1-D column (a splitter may stratify on it), else None."""
    if isinstance(y, pd.Series) or (isinstance(y, np.ndarray) and y.ndim == 1):
        return y
    return None


def _num_rows(value, default=None):
    if hasattr(value, "shape") and len(getattr(value, "shape", ())) > 0:
        return value.shape[0]
    if isinstance(value, (list, tuple)):
        return len(value)
    return default
