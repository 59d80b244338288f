"""scikit-learn's early stopping: named and behaving as in MLPClassifier."""

import re

import keras
import numpy as np
import pytest
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, KFold

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier, head_scorer
from skmultihead._early_stopping import held_out_rows
from skmultihead.datasets import make_social_media, make_tagged_items


@pytest.fixture(scope="module")
def data():
    return make_social_media(300, n_features=20, noise=1.0, random_state=0)


def overfitting(**params):
    defaults = dict(hidden_layer_sizes=(128, 128), epochs=150, batch_size=32, optimizer__learning_rate=0.01,
                    random_state=0)
    return MultiOutputNNClassifier(**{**defaults, **params})


def test_it_stops_before_epochs_and_keeps_the_best_epochs_weights(data):
    X, Y = data
    est = overfitting(early_stopping=True, n_iter_no_change=3).fit(X, Y)
    assert est.n_iter_ < 150 and len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    best = int(np.argmax(est.validation_scores_))
    assert est.n_iter_ - 1 - best > 3  # stopped once 3 epochs passed without improving by tol (as MLP: > n)
    # the kept weights are those of the best epoch: their validation loss is the best score
    np.testing.assert_allclose(-est.history_["val_loss"][best], est.best_validation_score_, rtol=1e-6)
    plain = overfitting(epochs=5).fit(X, Y)
    assert plain.n_iter_ == 5 and plain.validation_scores_ is None and plain.best_validation_score_ is None
    assert plain.loss_curve_ == plain.history_["loss"]


def test_a_scorer_and_a_head_scorer_as_the_validation_score(data):
    X, Y = data
    scorer = head_scorer("gender", "accuracy")
    est = overfitting(early_stopping=True, n_iter_no_change=2, scoring=scorer).fit(X, Y)
    assert est.n_iter_ < 150 and all(0 <= s <= 1 for s in est.validation_scores_)
    polars = pytest.importorskip("polars")
    by_polars = overfitting(early_stopping=True, n_iter_no_change=2, scoring=scorer).fit(X, polars.from_pandas(Y))
    assert by_polars.validation_scores_ == est.validation_scores_
    tags_X, tags_Y = make_tagged_items(200, n_features=10, n_labels=3, n_informative=5, random_state=0)
    tags = MultiLabelNN(hidden_layer_sizes=(16,), epochs=30, early_stopping=True, n_iter_no_change=2,
                        scoring="f1_micro", random_state=0).fit(tags_X, tags_Y)
    assert len(tags.validation_scores_) == tags.n_iter_


def test_the_held_out_rows_are_weighed_by_sample_weight_as_in_mlp(data):
    X, Y = data
    quick = dict(early_stopping=True, epochs=4, n_iter_no_change=10)
    plain = overfitting(**quick).fit(X, Y)
    doubled = overfitting(**quick).fit(X, Y, sample_weight=np.full(len(X), 2.0))
    # Adam takes nearly the same steps on a doubled loss (but for its epsilon); each held-out row counts twice
    np.testing.assert_allclose(doubled.validation_scores_, 2 * np.array(plain.validation_scores_), rtol=2e-2)
    women = (Y["gender"] == "f").to_numpy(float)  # the held-out men weigh nothing in the score either
    scorer = head_scorer("gender", "accuracy")
    est = overfitting(**quick, scoring=scorer).fit(X, Y, sample_weight=women)
    held = held_out_rows(len(X), 0.1, Y["gender"].astype(str).to_numpy(), est._seed)[1]
    weighted = accuracy_score(Y["gender"].iloc[held], est.predict(X.iloc[held])["gender"], sample_weight=women[held])
    assert est.best_validation_score_ == pytest.approx(weighted)


def test_with_warm_start_grid_search_and_keras_callbacks(data):
    X, Y = data
    est = overfitting(early_stopping=True, n_iter_no_change=2, warm_start=True).fit(X, Y)
    first = est.n_iter_
    est.fit(X, Y)
    assert est.n_iter_ > first and len(est.validation_scores_) == est.n_iter_ - first
    search = GridSearchCV(overfitting(early_stopping=True), {"n_iter_no_change": [1, 5]}, cv=KFold(2)).fit(X, Y)
    assert search.best_estimator_.n_iter_ < 150
    seen = []
    logger = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    est = overfitting(early_stopping=True, n_iter_no_change=2, callbacks=[logger]).fit(X, Y)
    assert len(seen) == est.n_iter_
    assert logger.model is None  # a parameter: fit leaves it without the network (pickles stay small)


def test_bad_settings_name_the_parameter(data):
    X, Y = data
    cases = [
        (dict(validation_fraction=0.001), "validation_fraction=0.001 of 300 rows leaves 1 for validation"),
        (dict(scoring="acuracy"), "scoring='acuracy' is neither 'loss' nor a scikit-learn scorer name"),
        (dict(scoring=head_scorer("gendr", "accuracy")), "scoring is head_scorer('gendr', ...), but the heads are"),
        (dict(validation_split=0.2), "early_stopping holds out validation_fraction of the rows itself"),
        (dict(fit__validation_freq=2), "early_stopping holds out validation_fraction of the rows itself"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            overfitting(early_stopping=True, **params).fit(X, Y)
    with pytest.raises(ValueError, match="'validation_fraction' must be a float in"):
        overfitting(early_stopping=True, validation_fraction=1.0).fit(X, Y)
    with pytest.raises(ValueError, match="partial_fit trains one epoch .* early_stopping applies to fit"):
        overfitting(early_stopping=True).partial_fit(X, Y)
    single = Y["gender"].copy()
    single.iloc[0] = "x"  # a class with one row cannot be in both parts
    with pytest.raises(ValueError, match="early_stopping holds out validation_fraction=0.1 of the rows, stratified"):
        overfitting(early_stopping=True).fit(X, single)
    joint = Y["income"] + "-" + Y["gender"]
    joint.iloc[0] = "i0-x"  # a joint class of FactoredLabelNN, named by its labels (not its code)
    with pytest.raises(ValueError, match=r"Classes with too few members are: \['i0-x'\]"):
        FactoredLabelNN(separator="-", early_stopping=True, epochs=2).fit(X, joint)
