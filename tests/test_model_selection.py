"""Out-of-fold predictions for any mix of heads."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold
from sklearn.model_selection import cross_val_predict as sklearn_cross_val_predict
from sklearn.utils import _safe_indexing

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier
from skmultihead.datasets import make_social_media, make_tagged_items
from skmultihead.model_selection import cross_val_predict

QUICK = dict(hidden_layer_sizes=(8,), epochs=3, random_state=0)


def by_hand(estimator, X, y, cv, method):
    """A loop over the same folds: each test row's prediction by its fold's estimator."""
    out = {}
    for train, test in cv.split(X):
        fitted = clone(estimator).fit(_safe_indexing(X, train), _safe_indexing(y, train))
        X_test = _safe_indexing(X, test)
        got = fitted.predict_heads(X_test) if method == "predict" else fitted.predict_head_proba(X_test)
        for head, values in got.items():
            out.setdefault(head, [None] * len(X))
            for row, value in zip(test, values):
                out[head][row] = value
    return {head: np.array(values) for head, values in out.items()}


def test_mixed_heads_keep_names_container_and_index():
    X, Y = make_social_media(150, random_state=0)
    X.index, Y.index = X.index + 1000, Y.index + 1000
    cv = KFold(3, shuffle=True, random_state=0)
    est = MultiOutputNNClassifier(**QUICK)
    predicted = cross_val_predict(est, X, Y, cv=cv)
    assert isinstance(predicted, pd.DataFrame) and list(predicted.columns) == ["age", "income", "gender"]
    pd.testing.assert_index_equal(predicted.index, X.index)
    expected = by_hand(est, X, Y, cv, "predict")
    for head in Y.columns:
        np.testing.assert_array_equal(predicted[head].to_numpy(), expected[head])
    proba = cross_val_predict(est, X, Y, cv=cv, method="predict_proba")
    assert set(proba) == {"income", "gender"}  # the regression head has no probabilities
    expected = by_hand(est, X, Y, cv, "predict_proba")
    for head in proba:
        np.testing.assert_allclose(proba[head], expected[head], rtol=1e-6)


def test_sample_weight_follows_the_rows_and_a_dict_target():
    X, Y = make_social_media(120, random_state=0)
    weights = np.linspace(0.5, 2.0, len(X))
    cv = KFold(2)
    got = cross_val_predict(MultiOutputNNClassifier(**QUICK), X, {c: Y[c].to_numpy() for c in Y}, cv=cv,
                            params={"sample_weight": weights})
    assert isinstance(got, dict) and list(got) == ["age", "income", "gender"]
    train, test = next(cv.split(X))
    fold = MultiOutputNNClassifier(**QUICK).fit(X.iloc[train], Y.iloc[train], sample_weight=weights[train])
    np.testing.assert_allclose(got["age"][test], fold.predict(X.iloc[test])["age"], rtol=1e-6)


def test_multilabel_and_factored_targets():
    Xm, Ym = make_tagged_items(120, n_features=8, n_labels=3, n_informative=3, random_state=0)
    cv = KFold(3)
    predicted = cross_val_predict(MultiLabelNN(**QUICK), Xm, Ym, cv=cv)
    assert isinstance(predicted, pd.DataFrame) and list(predicted.columns) == list(Ym.columns)
    expected = by_hand(MultiLabelNN(**QUICK), Xm, Ym, cv, "predict")
    np.testing.assert_array_equal(predicted.to_numpy(), np.column_stack([expected[c] for c in Ym.columns]))
    X, Y = make_social_media(120, random_state=0)
    joint = Y["gender"].astype(str) + "_" + Y["income"].astype(str)
    est = FactoredLabelNN(separator="_", **QUICK)
    predicted = cross_val_predict(est, X, joint, cv=cv)
    np.testing.assert_array_equal(np.asarray(predicted), by_hand(est, X, joint, cv, "predict")["joint"])
    by_column = cross_val_predict(est, X, Y[["gender", "income"]], cv=cv)  # factors as DataFrame columns
    assert list(by_column.columns) == ["gender", "income"]
    np.testing.assert_array_equal(by_column["gender"] + "_" + by_column["income"], np.asarray(predicted))
    proba = cross_val_predict(est, X, joint, cv=cv, method="predict_proba")
    assert proba["joint"].shape[0] == len(X) and set(proba) == {"factor_0", "factor_1", "joint"}
    with pytest.raises(ValueError, match="method must be one of"):
        cross_val_predict(est, X, joint, method="decision_function")


def test_scikit_learns_own_cross_val_predict_works_for_classification_heads():
    X, Y = make_social_media(120, random_state=0)
    cv = KFold(2)
    est = MultiOutputNNClassifier(**QUICK)
    theirs = sklearn_cross_val_predict(est, X, Y[["income", "gender"]], cv=cv)
    ours = cross_val_predict(est, X, Y[["income", "gender"]], cv=cv)
    np.testing.assert_array_equal(np.asarray(theirs), ours.to_numpy())
