"""One head as a fitted scikit-learn estimator, in scikit-learn's displays and meta-estimators."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    PredictionErrorDisplay,
    RocCurveDisplay,
    average_precision_score,
    confusion_matrix,
    get_scorer,
    log_loss,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import TunedThresholdClassifierCV

from skmultihead import (
    FactoredLabelNN,
    HeadClassifier,
    HeadRegressor,
    MultiLabelNN,
    MultiOutputNNClassifier,
    head_scorer,
)
from skmultihead.datasets import make_distance_size, make_social_media, make_tagged_items

QUICK = dict(hidden_layer_sizes=(16,), epochs=30, optimizer__learning_rate=0.01, random_state=0)


@pytest.fixture(scope="module")
def social():
    X, Y = make_social_media(400, random_state=0)
    est = MultiOutputNNClassifier(**QUICK).fit(X[:300], Y[:300])
    return est, X[300:], Y[300:]


def test_a_view_is_a_fitted_estimator_sharing_the_network(social):
    est, X, Y = social
    gender, age = est.head_estimator("gender"), est.head_estimator("age")
    assert isinstance(gender, HeadClassifier) and is_classifier(gender) and is_regressor(age)
    assert gender.classes_.tolist() == ["f", "m"] and gender.n_features_in_ == X.shape[1]
    assert list(gender.feature_names_in_) == list(X.columns)
    np.testing.assert_array_equal(gender.predict(X), est.predict(X)["gender"])
    np.testing.assert_array_equal(gender.predict_proba(X), est.predict_head_proba(X)["gender"])
    assert gender.score(X, Y["gender"]) == pytest.approx(est.score_heads(X, Y)["gender"])
    assert age.score(X, Y["age"]) == pytest.approx(r2_score(Y["age"], est.predict(X)["age"]))
    assert gender.estimator is est  # shared, not copied
    with pytest.raises(TypeError, match="view of head 'gender'.*FrozenEstimator"):
        gender.fit(X, Y["gender"])
    with pytest.raises(ValueError, match="'sx' is not a head"):
        est.head_estimator("sx")


def test_displays_show_the_heads_own_figures(social):
    est, X, Y = social
    gender, income, age = (est.head_estimator(h) for h in ("gender", "income", "age"))
    proba = gender.predict_proba(X)[:, 1]
    roc = RocCurveDisplay.from_estimator(gender, X, Y["gender"])
    assert roc.roc_auc == pytest.approx(roc_auc_score(Y["gender"] == "m", proba))
    pr = PrecisionRecallDisplay.from_estimator(gender, X, Y["gender"])
    assert pr.average_precision == pytest.approx(average_precision_score(Y["gender"] == "m", proba))
    matrix = ConfusionMatrixDisplay.from_estimator(income, X, Y["income"])
    np.testing.assert_array_equal(
        matrix.confusion_matrix, confusion_matrix(Y["income"], income.predict(X), labels=income.classes_)
    )
    errors = PredictionErrorDisplay.from_estimator(age, X, Y["age"])
    np.testing.assert_allclose(errors.y_pred, est.predict(X)["age"])
    plt.close("all")


def test_calibration_and_a_tuned_threshold_on_a_frozen_view(social):
    est, X, Y = social
    gender = est.head_estimator("gender")
    calibrated = CalibratedClassifierCV(FrozenEstimator(gender), method="sigmoid").fit(X, Y["gender"])
    assert calibrated.classes_.tolist() == ["f", "m"]
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # a monotone map of the head's probability: the ranking, hence the AUC, is the head's
    assert roc_auc_score(Y["gender"] == "m", proba[:, 1]) == pytest.approx(
        roc_auc_score(Y["gender"] == "m", gender.predict_proba(X)[:, 1])
    )
    tuned = TunedThresholdClassifierCV(FrozenEstimator(gender), scoring="balanced_accuracy", cv="prefit",
                                       refit=False).fit(X, Y["gender"])
    expected = np.where(gender.predict_proba(X)[:, 1] >= tuned.best_threshold_, "m", "f")
    np.testing.assert_array_equal(tuned.predict(X), expected)


def test_permutation_importance_and_partial_dependence(social):
    est, X, Y = social
    gender = est.head_estimator("gender")  # gender follows x4 - 0.5 x5 (make_social_media)
    result = permutation_importance(gender, X, Y["gender"], n_repeats=5, random_state=0)
    ranked = X.columns[np.argsort(-result.importances_mean)]
    assert ranked[0] == "x4" and result.importances_mean[4] > 0.05
    assert result.importances_mean[6:].mean() < result.importances_mean[4] / 5  # x6, x7, ...: noise
    age = est.head_estimator("age")
    dependence = partial_dependence(age, X, features=["x0"], grid_resolution=5, kind="average")
    grid = dependence["grid_values"][0]
    expected = [est.predict(X.assign(x0=value))["age"].mean() for value in grid]
    np.testing.assert_allclose(dependence["average"][0], expected, rtol=1e-5)


def test_a_label_and_a_factor_or_the_joint_as_views():
    Xm, Ym = make_tagged_items(200, n_features=8, n_labels=3, n_informative=3, random_state=0)
    multilabel = MultiLabelNN(**QUICK).fit(Xm, Ym)
    label = multilabel.head_estimator(Ym.columns[0])
    assert label.classes_.tolist() == [0, 1]
    np.testing.assert_allclose(label.predict_proba(Xm)[:, 1], multilabel.predict_proba(Xm)[:, 0])
    X, Y = make_social_media(200, random_state=0)
    joint = Y["gender"].astype(str) + "_" + Y["income"].astype(str)
    factored = FactoredLabelNN(separator="_", factor_names=["gender", "income"], **QUICK).fit(X, joint)
    view = factored.head_estimator("joint")
    assert view.classes_.tolist() == factored.classes_.tolist()
    np.testing.assert_array_equal(view.predict(X), factored.predict(X))
    assert factored.head_estimator("gender").score(X, Y["gender"]) == pytest.approx(
        factored.score_heads(X, joint)["gender"]
    )
    assert isinstance(factored.head_estimator("income"), HeadClassifier)
    assert not isinstance(view, HeadRegressor)


def test_the_joint_of_factors_given_as_columns_is_a_view_with_joined_labels():
    # a DataFrame (or 2-D) target's joint classes are tuples, which scikit-learn's metrics refuse
    # as labels: the view and the scorer name each by its factors' labels joined
    X, y = make_distance_size(300, random_state=0)
    factors = pd.DataFrame([label.split("-") for label in y], columns=["distance", "size"])
    est = FactoredLabelNN(**QUICK).fit(X[:200], factors[:200])
    X_test, y_test = X[200:], factors[200:]
    view = est.head_estimator("joint")
    assert view.classes_.tolist() == ["-".join(c) for c in est.joint_classes_]
    predicted = est.predict(X_test)
    np.testing.assert_array_equal(view.predict(X_test), predicted["distance"] + "-" + predicted["size"])
    joint_accuracy = (predicted == y_test).all(axis=1).mean()
    assert joint_accuracy > 0.5  # 6 joint classes
    assert head_scorer("joint", "accuracy")(est, X_test, y_test) == pytest.approx(joint_accuracy)
    assert view.score(X_test, [tuple(row) for row in y_test.to_numpy()]) == pytest.approx(joint_accuracy)
    joint_truth = y_test["distance"] + "-" + y_test["size"]
    proba = est.predict_head_proba(X_test)["joint"]
    expected = -log_loss(joint_truth, proba, labels=view.classes_)
    assert head_scorer("joint", "neg_log_loss")(est, X_test, y_test) == pytest.approx(expected, rel=1e-5)
    matrix = ConfusionMatrixDisplay.from_estimator(view, X_test, joint_truth).confusion_matrix
    assert np.trace(matrix) == round(joint_accuracy * len(y_test))
    plt.close("all")
    with_separator = FactoredLabelNN(separator=" & ", **QUICK).fit(X[:200], factors[:200])
    assert with_separator.head_estimator("joint").classes_[0] == " & ".join(with_separator.joint_classes_[0])


def test_a_joint_view_whose_joined_labels_collide_names_the_separator():
    X = np.random.RandomState(0).normal(size=(80, 3))
    factors = pd.DataFrame({"a": ["x-y", "x"] * 40, "b": ["z", "y-z"] * 20 + ["y-z", "z"] * 20})
    est = FactoredLabelNN(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, factors)
    for call in (lambda: est.head_estimator("joint").classes_, lambda: head_scorer("joint", "accuracy")(est, X, factors)):
        with pytest.raises(ValueError, match="joined with '-'.*set separator to a string no factor label contains"):
            call()


def test_one_classification_target_is_a_plain_classifier_in_meta_estimators():
    X, Y = make_social_media(400, random_state=0)
    X_train, y_train, X_test, y_test = X[:300], Y["gender"][:300], X[300:], Y["gender"][300:]
    est = MultiOutputNNClassifier(**QUICK)
    assert not is_classifier(est)  # unfitted, its heads are not known yet
    fitted = clone(est).fit(X_train, y_train)
    assert is_classifier(fitted) and fitted.classes_.tolist() == ["f", "m"] and fitted.predict_proba(X_test).shape == (100, 2)
    assert not is_classifier(clone(est).fit(X_train, Y[:300]))  # several heads: no single classifier
    auc = roc_auc_score(y_test == "m", fitted.predict_proba(X_test)[:, 1])
    assert auc > 0.9
    scorer = get_scorer("roc_auc")
    assert scorer(fitted, X_test, y_test) == pytest.approx(auc)
    calibrated = CalibratedClassifierCV(est, cv=2, method="sigmoid").fit(X_train, y_train)
    assert calibrated.classes_.tolist() == ["f", "m"]
    assert roc_auc_score(y_test == "m", calibrated.predict_proba(X_test)[:, 1]) > 0.85
    tuned = TunedThresholdClassifierCV(est, cv=2, scoring="balanced_accuracy").fit(X_train, y_train)
    expected = np.where(tuned.estimator_.predict_proba(X_test)[:, 1] >= tuned.best_threshold_, "m", "f")
    np.testing.assert_array_equal(tuned.predict(X_test), expected)
    stack = StackingClassifier([("nn", est)], LogisticRegression(), cv=2).fit(X_train, y_train)
    assert stack.score(X_test, y_test) > 0.8


def test_factored_label_nn_in_stacking_and_soft_voting_with_its_joint_classes():
    X, y = make_distance_size(400, random_state=0)
    X_train, X_test, y_train, y_test = X[:300], X[300:], y[:300], y[300:]
    labels = np.unique(y)
    factored = FactoredLabelNN(separator="-", joint_classes=labels, **QUICK)
    # without joint_classes the integers scikit-learn hands its estimators cannot be split: it says so
    stack = StackingClassifier([("factored", clone(factored).set_params(joint_classes=None))], LogisticRegression())
    with pytest.raises(ValueError, match=r"encode the labels as integers.*joint_classes=np.unique\(y\)"):
        stack.fit(X_train, y_train)
    voting = VotingClassifier([("factored", factored), ("lr", LogisticRegression())], voting="soft")
    voting.fit(X_train, y_train)
    member = voting.named_estimators_["factored"]
    assert member.classes_.tolist() == list(range(len(labels)))
    # the member trained on the labels the integers stand for: as a fit on the labels themselves
    direct = clone(factored).set_params(joint_classes=None).fit(X_train, y_train)
    columns = [direct.classes_.tolist().index(label) for label in labels]
    np.testing.assert_allclose(member.predict_proba(X_test), direct.predict_proba(X_test)[:, columns], rtol=1e-5)
    np.testing.assert_array_equal(labels[member.predict(X_test)], direct.predict(X_test))
    assert set(voting.predict(X_test)) <= set(labels) and voting.score(X_test, y_test) > 0.6  # chance: 1/6
    stack = StackingClassifier([("factored", factored)], LogisticRegression(), cv=3).fit(X_train, y_train)
    assert stack.score(X_test, y_test) > 0.6
    assert member.score(X_test, np.searchsorted(labels, y_test)) == pytest.approx(direct.score(X_test, y_test))
    # a factor class seen in no fold's rows is still one of its classes, given by the joint labels
    more = np.unique([*labels, "far-tiny"])
    rare = FactoredLabelNN(separator="-", joint_classes=more, **dict(QUICK, epochs=2))
    rare.fit(X_train, np.searchsorted(more, y_train))
    assert "tiny" in rare.factor_classes_["factor_1"].tolist() and rare.predict_proba(X_test).shape == (100, 7)
