"""head_scorer: one head's score, on every estimator, in scikit-learn's tools."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import sklearn
from sklearn.metrics import accuracy_score, mean_absolute_error, roc_auc_score
from sklearn.model_selection import GridSearchCV, LearningCurveDisplay, cross_validate, learning_curve

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier, head_scorer
from skmultihead.datasets import make_social_media, make_tagged_items

QUICK = dict(hidden_layer_sizes=(16,), epochs=5, random_state=0)


@pytest.fixture(scope="module")
def social():
    return make_social_media(300, random_state=0)


def test_a_label_of_multilabel_nn_and_a_factor_or_the_joint_of_factored_label_nn(social):
    Xm, Ym = make_tagged_items(300, n_features=8, n_labels=3, n_informative=3, random_state=0)
    multilabel = MultiLabelNN(**QUICK).fit(Xm[:200], Ym[:200])
    label = Ym.columns[0]
    proba = multilabel.predict_proba(Xm[200:])[:, 0]
    assert head_scorer(label, "roc_auc")(multilabel, Xm[200:], Ym[200:]) == pytest.approx(
        roc_auc_score(Ym[200:][label], proba)
    )
    X, Y = social
    joint = Y["gender"].astype(str) + "_" + Y["income"].astype(str)
    factored = FactoredLabelNN(separator="_", factor_names=["gender", "income"], **QUICK).fit(X[:200], joint[:200])
    heads = factored.predict_heads(X[200:])
    for head, truth in (("gender", Y["gender"][200:]), ("joint", joint[200:])):
        assert head_scorer(head, "accuracy")(factored, X[200:], joint[200:]) == pytest.approx(
            accuracy_score(truth, heads[head])
        )
    with pytest.raises(ValueError, match="'gendr' is not a head of this FactoredLabelNN.*Did you mean 'gender'"):
        head_scorer("gendr", "accuracy")(factored, X, joint)


def test_name_and_repr_label_a_learning_curve(social):
    X, Y = social
    scorer = head_scorer("age", "neg_mean_absolute_error")
    assert scorer.__name__ == "age neg_mean_absolute_error"
    assert repr(scorer).startswith("head_scorer('age', make_scorer(mean_absolute_error")
    assert head_scorer("age", mean_absolute_error, greater_is_better=False).__name__ == "age mean_absolute_error"
    est = MultiOutputNNClassifier(**QUICK)
    sizes, train, test = learning_curve(est, X, Y, train_sizes=[0.5, 1.0], cv=2, scoring=scorer)
    assert train.shape == test.shape == (2, 2) and (test < 0).all()
    display = LearningCurveDisplay.from_estimator(est, X, Y, train_sizes=[0.5, 1.0], cv=2, scoring=scorer)
    assert display.score_name == display.ax_.get_ylabel() == "Age neg mean absolute error"  # from __name__
    np.testing.assert_allclose(display.test_scores, test, rtol=1e-5)  # the same folds and fits


def test_grid_search_refits_on_a_head_scorer(social):
    X, Y = social
    scoring = {"gender_acc": head_scorer("gender", "accuracy"), "age_mae": head_scorer("age", "neg_mean_absolute_error")}
    search = GridSearchCV(MultiOutputNNClassifier(**QUICK), {"loss_weights__gender": [0.0, 5.0]}, cv=2,
                          scoring=scoring, refit="gender_acc").fit(X, Y)
    best = int(np.argmax(search.cv_results_["mean_test_gender_acc"]))
    assert search.best_index_ == best and search.best_params_ == search.cv_results_["params"][best]
    # without weight on gender the head learns nothing, so the weighted candidate wins
    assert search.best_params_ == {"loss_weights__gender": 5.0}


def test_sample_weight_reaches_the_scorer_through_metadata_routing(social):
    X, Y = social
    weights = np.where(Y["gender"] == "f", 3.0, 0.5)
    scorer = head_scorer("gender", "accuracy")
    with sklearn.config_context(enable_metadata_routing=True):
        est = MultiOutputNNClassifier(**QUICK).set_fit_request(sample_weight=False)
        result = cross_validate(est, X, Y, cv=2, params={"sample_weight": weights}, return_estimator=True,
                                return_indices=True, scoring={"w": scorer.set_score_request(sample_weight=True)})
    for fold, (model, rows) in enumerate(zip(result["estimator"], result["indices"]["test"])):
        predicted = model.predict_heads(X.iloc[rows])["gender"]
        expected = accuracy_score(Y["gender"].iloc[rows], predicted, sample_weight=weights[rows])
        assert result["test_w"][fold] == pytest.approx(expected)
        assert expected != pytest.approx(accuracy_score(Y["gender"].iloc[rows], predicted))
