"""MultiOutputNNClassifier: behaviour on data with a learnable signal."""

import pickle

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    get_scorer,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_predict, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from skmultihead import FactoredLabelNN, Head, MultiLabelNN, MultiOutputNNClassifier, head_scorer
from skmultihead._base import AUTO_STEPS_PER_EXECUTION
from skmultihead.datasets import make_social_media

FAST = dict(hidden_layer_sizes=(32,), epochs=30, optimizer__learning_rate=0.01, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, Y = make_social_media(800, n_features=8, random_state=0)
    X.index = X.index + 1000  # a non-default index, to see it come back
    return X[:600], Y[:600], X[600:], Y[600:]


@pytest.fixture(scope="module")
def fitted(data):
    X, Y, _, _ = data
    return MultiOutputNNClassifier(loss_weights={"age": 0.25, "gender": 10.0}, **FAST).fit(X, Y)


def test_learns_every_head(fitted, data):
    _, _, Xv, Yv = data
    scores = fitted.score_heads(Xv, Yv)
    assert scores["age"] > 0.7  # R²
    assert scores["income"] > 0.3  # 10 balanced classes: chance is 0.1
    assert scores["gender"] > 0.8
    assert fitted.score(Xv, Yv) == pytest.approx(np.mean(list(scores.values())))


def test_predict_returns_the_fit_container(fitted, data):
    _, Y, Xv, _ = data
    pred = fitted.predict(Xv)
    assert isinstance(pred, pd.DataFrame)
    assert list(pred.columns) == list(Y.columns)
    pd.testing.assert_index_equal(pred.index, Xv.index)
    assert pred.dtypes.to_dict() == Y.dtypes.to_dict()
    assert set(pred["gender"]) <= {"f", "m"} and set(pred["income"]) <= set(Y["income"])


def test_predict_proba_list_and_by_head(fitted, data):
    _, _, Xv, _ = data
    probas = fitted.predict_proba(Xv)
    by_head = fitted.predict_head_proba(Xv)
    assert list(by_head) == ["income", "gender"]
    assert [p.shape for p in probas] == [(len(Xv), 10), (len(Xv), 2)]
    for p, q, classes in zip(probas, by_head.values(), fitted.classes_):
        np.testing.assert_allclose(p, q)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
        assert p.shape[1] == len(classes)
    np.testing.assert_array_equal(fitted.classes_[1], ["f", "m"])
    # predict is the most probable class of each head
    labels = fitted.classes_[0][probas[0].argmax(axis=1)]
    np.testing.assert_array_equal(fitted.predict(Xv)["income"], labels)


def test_history_has_each_heads_loss_and_metric(fitted):
    h = fitted.history_
    for key in ("loss", "age_loss", "age_mae", "income_loss", "income_accuracy", "gender_loss", "gender_accuracy"):
        assert len(h[key]) == 30, key
    # the total loss is the loss-weighted sum of the heads' losses
    total = 0.25 * h["age_loss"][-1] + h["income_loss"][-1] + 10.0 * h["gender_loss"][-1]
    assert h["loss"][-1] == pytest.approx(total, rel=1e-3)
    assert h["income_accuracy"][-1] > h["income_accuracy"][0]


def test_tags_and_estimator_type():
    est = MultiOutputNNClassifier()
    tags = get_tags(est)
    assert tags.target_tags.multi_output and tags.target_tags.required
    # mixes classification and regression heads: deliberately not a classifier (see class docstring)
    assert tags.estimator_type is None and not is_classifier(est)


@pytest.mark.parametrize("kind", ["dict", "array", "list"])
def test_other_target_containers(kind, data):
    X, Y, Xv, _ = data
    income_codes = Y["income"].str[1:].astype(int).to_numpy()
    gender_bool = (Y["gender"] == "f").to_numpy()
    y = {
        "dict": {"income": income_codes, "gender": gender_bool},
        "array": np.column_stack([income_codes, gender_bool.astype(int)]),
        "list": [income_codes, gender_bool],
    }[kind]
    est = MultiOutputNNClassifier(**FAST).fit(X, y)
    pred = est.predict(Xv)
    if kind == "dict":
        assert list(pred) == ["income", "gender"] and pred["gender"].dtype == bool
    elif kind == "array":
        assert pred.shape == (len(Xv), 2) and pred.dtype.kind == "i"
    else:
        assert isinstance(pred, list) and len(pred) == 2 and pred[1].dtype == bool
    assert est.score(X, y) > 0.6


def test_2d_head_targets_multilabel_and_one_hot(data):
    X, Y, Xv, _ = data
    tags = np.column_stack([X.x4 > 0, X.x5 > 0, X.x0 > 0]).astype(int)
    one_hot = pd.get_dummies(Y["income"]).to_numpy().astype(int)
    est = MultiOutputNNClassifier(heads={"income": "multiclass"}, **FAST)
    est.fit(X, {"tags": tags, "income": one_hot})
    assert est.heads_["tags"].kind_ == "multilabel" and est.heads_["income"].one_hot_
    pred = est.predict(Xv)
    assert pred["tags"].shape == (len(Xv), 3) and set(np.unique(pred["tags"])) <= {0, 1}
    assert pred["income"].shape == (len(Xv), 10) and (pred["income"].sum(axis=1) == 1).all()
    assert est.score_heads(X, {"tags": tags, "income": one_hot})["tags"] > 0.7  # subset accuracy


def test_categorical_labels_and_declared_regression(data):
    X, Y, Xv, _ = data
    y = pd.DataFrame(
        {
            "gender": Y["gender"].astype("category"),
            "years": Y["age"].round().astype(int),  # integers that are a quantity, not classes
        }
    )
    est = MultiOutputNNClassifier(heads={"years": "regression"}, **FAST).fit(X, y)
    assert est.heads_["years"].kind_ == "regression"
    pred = est.predict(Xv)
    assert isinstance(pred["gender"].dtype, pd.CategoricalDtype)
    assert pred["years"].dtype.kind == "f"
    assert est.score_heads(X, y)["years"] > 0.7


def test_head_spec_with_own_units_loss_and_metrics(data):
    X, Y, _, _ = data
    heads = {"age": Head("regression", units=(8,), loss="mean_absolute_error", metrics=["mse"])}
    est = MultiOutputNNClassifier(heads=heads, **FAST).fit(X, Y[["age", "gender"]])
    assert est.model_.get_layer("age_hidden_0").units == 8
    assert "age_mse" in est.history_
    assert est.score_heads(X, Y[["age", "gender"]])["age"] > 0.7
    assert not hasattr(heads["age"], "kind_")  # the user's spec is not fitted in place


def test_trunk_layers_and_dropout_per_layer(data):
    X, Y, _, _ = data
    est = MultiOutputNNClassifier(hidden_layer_sizes=(16, 8), activation="tanh", dropout=(0.2, 0.0), epochs=1).fit(X, Y)
    dense = [est.model_.get_layer(f"trunk_{i}") for i in range(2)]
    assert [layer.units for layer in dense] == [16, 8]
    assert all(layer.activation.__name__ == "tanh" for layer in dense)
    assert est.model_.get_layer("trunk_dropout_0").rate == 0.2
    assert "trunk_dropout_1" not in [layer.name for layer in est.model_.layers]


def test_loss_weight_zero_leaves_a_head_untrained(data):
    X, Y, Xv, Yv = data
    est = MultiOutputNNClassifier(loss_weights__gender=0.0, **FAST).fit(X, Y)
    trained = MultiOutputNNClassifier(**FAST).fit(X, Y)
    assert est.score_heads(Xv, Yv)["gender"] < trained.score_heads(Xv, Yv)["gender"] - 0.15


def test_sample_weight_applies_to_every_head(data):
    X, Y, _, _ = data
    rng = np.random.RandomState(1)
    noisy = rng.rand(len(X)) < 0.5
    Yn = Y.copy()
    # on the noisy half the labels are scrambled
    Yn.loc[noisy, "gender"] = rng.permutation(Yn.loc[noisy, "gender"].to_numpy())
    Yn.loc[noisy, "income"] = rng.permutation(Yn.loc[noisy, "income"].to_numpy())
    weighted = MultiOutputNNClassifier(**FAST).fit(X, Yn, sample_weight=(~noisy).astype(float))
    clean = X[~noisy], Y[~noisy]
    unweighted = MultiOutputNNClassifier(**FAST).fit(X, Yn)
    w, u = weighted.score_heads(*clean), unweighted.score_heads(*clean)
    assert w["gender"] > u["gender"] and w["income"] > u["income"]


def test_random_state_gives_equal_predictions(data):
    X, Y, Xv, _ = data
    params = dict(FAST, dropout=0.1, epochs=3)
    a = MultiOutputNNClassifier(**params).fit(X, Y).predict_proba(Xv)
    b = MultiOutputNNClassifier(**params).fit(X, Y).predict_proba(Xv)
    c = MultiOutputNNClassifier(**dict(params, random_state=1)).fit(X, Y).predict_proba(Xv)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    assert not np.allclose(a[0], c[0])


def test_routed_parameters_reach_keras(data, capfd):
    X, Y, _, _ = data
    stop = keras.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=0)
    est = MultiOutputNNClassifier(
        hidden_layer_sizes=(8,),
        epochs=5,
        optimizer="sgd",
        optimizer__learning_rate=0.05,
        fit__validation_split=0.25,
        callbacks=[stop],
        verbose=1,
        random_state=0,
    ).fit(X, Y)
    assert type(est.model_.optimizer).__name__ == "SGD"
    assert float(est.model_.optimizer.learning_rate) == pytest.approx(0.05)
    assert "val_gender_accuracy" in est.history_
    assert len(est.history_["loss"]) == 2  # stopped early by the callback
    assert "Epoch 1/5" in capfd.readouterr().out  # verbose=1: Keras's progress output
    # a callback class is built from its routed arguments
    routed = MultiOutputNNClassifier(
        hidden_layer_sizes=(8,),
        epochs=5,
        callbacks=[keras.callbacks.EarlyStopping],
        callbacks__0__monitor="loss",
        callbacks__0__min_delta=100.0,
        callbacks__0__patience=0,
    ).fit(X, Y)
    assert len(routed.history_["loss"]) == 2


@pytest.mark.backend
def test_steps_per_execution_trains_the_same(data):
    X, Y, Xv, _ = data
    params = dict(FAST, dropout=0.1, epochs=3, batch_size=64)  # 10 batches an epoch, the last one partial
    one = MultiOutputNNClassifier(**params, steps_per_execution=1).fit(X, Y)
    auto = MultiOutputNNClassifier(**params).fit(X, Y)
    torch = keras.backend.backend() == "torch"
    assert one.model_.steps_per_execution == 1
    assert auto.model_.steps_per_execution == (1 if torch else AUTO_STEPS_PER_EXECUTION)
    for p, q in zip(one.predict_proba(Xv), auto.predict_proba(Xv)):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
    assert one.history_["loss"] == pytest.approx(auto.history_["loss"], rel=1e-6)

    class CountBatches(keras.callbacks.Callback):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

    counter = CountBatches()
    counted = MultiOutputNNClassifier(**params, callbacks=[counter]).fit(X, Y)
    assert counted.model_.steps_per_execution == 1 and counter.batches == 30  # a batch hook sees every batch


@pytest.mark.backend
def test_steps_per_execution_above_1_under_pytorch(data):
    X, Y, _, _ = data
    est = MultiOutputNNClassifier(hidden_layer_sizes=(4,), epochs=1, steps_per_execution=4)
    if keras.backend.backend() == "torch":
        with pytest.raises(ValueError, match="steps_per_execution must be 1 with the PyTorch backend; got 4"):
            est.fit(X, Y)
        assert not hasattr(est, "model_")
    else:
        assert est.fit(X, Y).model_.steps_per_execution == 4


def test_warm_start_and_partial_fit_continue_training(data):
    X, Y, _, _ = data
    est = MultiOutputNNClassifier(**dict(FAST, epochs=2, warm_start=True)).fit(X, Y)
    model = est.model_
    est.fit(X, Y)
    assert est.model_ is model and len(est.history_["loss"]) == 4
    est.partial_fit(X, Y)
    assert len(est.history_["loss"]) == 5
    assert est.history_["loss"][-1] < est.history_["loss"][0]


def test_a_warm_start_trains_at_the_learning_rate_set_and_refuses_another_architecture(data):
    X, Y, _, _ = data
    curves = []
    for rate in (1e-3, 0.05):
        est = MultiOutputNNClassifier(**dict(FAST, epochs=2, warm_start=True)).fit(X, Y)
        est.set_params(optimizer__learning_rate=rate).fit(X, Y)
        assert float(keras.ops.convert_to_numpy(est.model_.optimizer.learning_rate)) == pytest.approx(rate)
        curves.append(est.loss_curve_)
    np.testing.assert_array_equal(curves[0][:2], curves[1][:2])
    assert not np.allclose(curves[0][2:], curves[1][2:], rtol=1e-3)
    history, sizes = dict(est.history_), est.hidden_layer_sizes
    for change in ({"hidden_layer_sizes": (8, 8)}, {"optimizer": "sgd"}):
        with pytest.raises(ValueError, match=f"{next(iter(change))} changed since it was built; set warm_start=False"):
            est.set_params(**change).fit(X, Y)
        est.set_params(hidden_layer_sizes=sizes, optimizer="adam")
    assert est.history_ == history
    assert est.fit(X, Y).current_epoch == 6


def test_pickle_joblib_clone_round_trip(fitted, data, tmp_path):
    _, _, Xv, _ = data
    expected = fitted.predict_proba(Xv)
    for restored in (pickle.loads(pickle.dumps(fitted)), joblib.load(joblib.dump(fitted, tmp_path / "m.joblib")[0])):
        for p, q in zip(restored.predict_proba(Xv), expected):
            np.testing.assert_array_equal(p, q)
        pd.testing.assert_frame_equal(restored.predict(Xv), fitted.predict(Xv))
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params() and not hasattr(twin, "model_")
    assert twin.set_params(loss_weights__gender=2.0).get_params()["loss_weights__gender"] == 2.0


def test_repr_and_get_params_show_routed_parameters():
    est = MultiOutputNNClassifier(epochs=3, optimizer__learning_rate=0.01)
    assert "optimizer__learning_rate=0.01" in repr(est)
    assert est.get_params()["optimizer__learning_rate"] == 0.01


def test_grid_search_mixed_target_default_scorer(data):
    X, Y, _, _ = data
    pipe = make_pipeline(StandardScaler(), MultiOutputNNClassifier(**dict(FAST, epochs=5)))
    search = GridSearchCV(pipe, {"multioutputnnclassifier__loss_weights__gender": [1.0, 10.0]}, cv=5, n_jobs=2)
    search.fit(X, Y)  # Y mixes a float column with string labels
    splits = np.array([search.cv_results_[f"split{i}_test_score"] for i in range(5)])
    # the routed weight reaches each fold's network: same seed, other weight, other scores in every fold
    assert (np.abs(splits[:, 0] - splits[:, 1]) > 1e-4).all(), splits
    # the default score (mean of the heads' scores) of what was learned: an untrained network scores ~0.2
    assert (search.cv_results_["mean_test_score"] > 0.45).all(), search.cv_results_["mean_test_score"]
    # the refitted best pipeline trains with the best weight: its total loss weighs gender by it
    weight = search.best_params_["multioutputnnclassifier__loss_weights__gender"]
    h = search.best_estimator_[-1].history_
    assert h["loss"][-1] == pytest.approx(h["age_loss"][-1] + h["income_loss"][-1] + weight * h["gender_loss"][-1], rel=1e-3)


def test_randomized_search_with_head_scorers_and_refit(data):
    X, Y, _, _ = data
    scoring = {"gender_auc": head_scorer("gender", "roc_auc"), "age_r2": head_scorer("age", "r2")}
    search = RandomizedSearchCV(
        MultiOutputNNClassifier(**dict(FAST, epochs=5)),
        {"loss_weights__gender": [0.0, 5.0], "hidden_layer_sizes": [(16,), (32,)]},
        n_iter=2,
        cv=3,
        scoring=scoring,
        refit="gender_auc",
        random_state=0,
    ).fit(X, Y)
    results = search.cv_results_
    weights = [p["loss_weights__gender"] for p in results["params"]]
    assert sorted(weights) == [0.0, 5.0]  # random_state=0 draws both gender weights
    for weight, auc, r2 in zip(weights, results["mean_test_gender_auc"], results["mean_test_age_r2"], strict=True):
        # gender weighted 0 is never trained (AUC ~0.5); age trains in both (a mean predictor has R² ~0)
        assert (auc > 0.8) if weight else (auc < 0.65), (weight, auc)
        assert r2 > 0.2, (weight, r2)
    # refit="gender_auc" keeps the candidate that trained gender, and its score is that head's AUC
    assert search.best_params_["loss_weights__gender"] == 5.0
    _, _, Xv, Yv = data
    proba = search.best_estimator_.predict_head_proba(Xv)["gender"][:, 1]
    assert search.score(Xv, Yv) == pytest.approx(roc_auc_score(Yv["gender"] == "m", proba))


@pytest.mark.parametrize(
    "head, metric, expected",
    [
        ("age", "neg_mean_absolute_error", lambda y, pred, proba: -mean_absolute_error(y, pred)),
        ("age", "r2", lambda y, pred, proba: r2_score(y, pred)),
        ("income", "accuracy", lambda y, pred, proba: accuracy_score(y, pred)),
        ("income", "balanced_accuracy", lambda y, pred, proba: balanced_accuracy_score(y, pred)),
        ("income", "f1_macro", lambda y, pred, proba: f1_score(y, pred, average="macro")),
        ("income", "neg_log_loss", lambda y, pred, proba: -log_loss(y, proba)),
        ("gender", "roc_auc", lambda y, pred, proba: roc_auc_score(y == "m", proba[:, 1])),
    ],
)
def test_head_scorer_matches_the_metric(fitted, data, head, metric, expected):
    _, _, Xv, Yv = data
    proba = fitted.predict_head_proba(Xv).get(head)
    want = expected(Yv[head].to_numpy(), fitted.predict(Xv)[head].to_numpy(), proba)
    assert head_scorer(head, metric)(fitted, Xv, Yv) == pytest.approx(want)
    assert head_scorer(head, get_scorer(metric))(fitted, Xv, Yv) == pytest.approx(want)


def test_head_scorer_from_a_metric_callable(fitted, data):
    _, _, Xv, Yv = data
    scorer = head_scorer("age", mean_absolute_error, greater_is_better=False)
    assert scorer(fitted, Xv, Yv) == pytest.approx(-mean_absolute_error(Yv["age"], fitted.predict(Xv)["age"]))
    with pytest.raises(TypeError, match="keyword arguments \\['average'\\] only with a metric callable"):
        head_scorer("income", "f1", average="macro")


def test_cross_validate_with_head_scorers(data):
    X, Y, _, _ = data
    result = cross_validate(
        MultiOutputNNClassifier(**FAST),
        X,
        Y,
        cv=3,
        scoring={"age_mae": head_scorer("age", "neg_mean_absolute_error"), "income_acc": head_scorer("income", "accuracy")},
    )
    assert (result["test_age_mae"] > -6).all()  # age has sd ~11; a mean predictor scores ~ -9
    assert (result["test_income_acc"] > 0.25).all()


def test_head_scorer_single_target_and_pipeline(data):
    X, Y, Xv, Yv = data
    pipe = make_pipeline(StandardScaler(), MultiOutputNNClassifier(**FAST)).fit(X, Y["gender"])
    assert pipe.predict_proba(Xv).shape == (len(Xv), 2)  # one 1-D target: one array, as any classifier
    auc = head_scorer("gender", "roc_auc")(pipe, Xv, Yv["gender"])
    assert auc == pytest.approx(roc_auc_score(Yv["gender"] == "m", pipe.predict_proba(Xv)[:, 1]))
    assert auc > 0.9


def test_head_scorer_unknown_head(fitted, data):
    _, _, Xv, Yv = data
    with pytest.raises(ValueError, match="'gendr' is not a head of this MultiOutputNNClassifier; the heads are 'age', 'income', 'gender'"):
        head_scorer("gendr", "accuracy")(fitted, Xv, Yv)


def test_cross_val_predict_proba(data):
    X, Y, _, _ = data
    probas = cross_val_predict(
        MultiOutputNNClassifier(**dict(FAST, epochs=5)), X, Y[["income", "gender"]], cv=3, method="predict_proba"
    )
    assert [p.shape for p in probas] == [(len(X), 10), (len(X), 2)]
    np.testing.assert_allclose(probas[1].sum(axis=1), 1.0, rtol=1e-5)


# -- bad input: each a clear error naming the problem ------------------------------------------


def test_bad_input_errors(fitted, data):
    X, Y, Xv, Yv = data
    est = MultiOutputNNClassifier(hidden_layer_sizes=(4,), epochs=1)
    with pytest.raises(ValueError, match="X has 600 rows but y has 599"):
        est.fit(X, Y[:-1])
    Xnan = X.copy()
    Xnan.iloc[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(Xnan, Y)
    Xinf = X.copy()
    Xinf.iloc[3, 2] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        est.fit(Xinf, Y)
    Xstr = X.assign(city="paris")
    with pytest.raises(TypeError, match="X column 'city' is not numeric.*OneHotEncoder"):
        est.fit(Xstr, Y)
    with pytest.raises(ValueError, match="X has 7 features, but MultiOutputNNClassifier is expecting 8"):
        fitted.predict(Xv.iloc[:, :7].to_numpy())
    unfitted = [MultiOutputNNClassifier(), MultiLabelNN(), FactoredLabelNN(separator="-")]
    for method in ("predict", "predict_proba", "predict_heads", "predict_head_proba", "score", "score_heads",
                   "score_aux"):
        for blank in unfitted:
            with pytest.raises(NotFittedError, match="not fitted yet"):
                getattr(blank, method)(*((Xv, Yv) if method.startswith("score") else (Xv,)))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        clone(fitted.head_estimator("age")).predict(Xv)
    with pytest.raises(ValueError, match="y has heads 'age', 'income' but the model was fitted with .*missing: 'gender'"):
        fitted.score(Xv, Yv[["age", "income"]])
    with pytest.raises(ValueError, match="head 'gender' has only 1 class \\('f'\\)"):
        est.fit(X, Y.assign(gender="f"))
    with pytest.raises(ValueError, match="heads names head 'gendr', which is not in y; .*Did you mean 'gender'"):
        MultiOutputNNClassifier(heads={"gendr": "binary"}).fit(X, Y)
    with pytest.raises(ValueError, match="loss_weights names head 'gendr', .* heads are 'age', 'income', 'gender'. Did you mean 'gender'"):
        MultiOutputNNClassifier(loss_weights={"gendr": 2.0}).fit(X, Y)
    with pytest.raises(ValueError, match="loss_weights names head 'incom'.*Did you mean 'income'"):
        MultiOutputNNClassifier(loss_weights__incom=2.0).fit(X, Y)
    with pytest.raises(ValueError, match="head 'age' has unknown kind 'continuous'"):
        MultiOutputNNClassifier(heads={"age": "continuous"}).fit(X, Y)
    with pytest.raises(ValueError, match="loss_weights for head 'gender' must be a number >= 0; got -1"):
        MultiOutputNNClassifier(loss_weights={"gender": -1}).fit(X, Y)
    with pytest.raises(TypeError, match="heads\\['age'\\] must be a kind \\(str\\) or a Head; got int"):
        MultiOutputNNClassifier(heads={"age": 3}).fit(X, Y)
    with pytest.raises(ValueError, match="head_scorer for head 'age': y has no target for that head"):
        head_scorer("age", "r2")(fitted, Xv, Yv[["income", "gender"]])
    with pytest.raises(TypeError, match="y of type set is not accepted"):
        est.fit(X, set(range(600)))
    with pytest.raises(ValueError, match="the target of head 'income' has 1 missing value"):
        est.fit(X, Y.assign(income=Y["income"].where(Y.index != 5)))


def test_misspelled_parameters_get_a_suggestion(data):
    X, Y, _, _ = data
    with pytest.raises(ValueError, match="unknown parameter 'hiden_layer_sizes'. Did you mean 'hidden_layer_sizes'"):
        MultiOutputNNClassifier(hiden_layer_sizes=(4,)).fit(X, Y)
    with pytest.raises(ValueError, match="unknown parameter 'optimzer__learning_rate'.*Did you mean 'optimizer'"):
        MultiOutputNNClassifier(optimzer__learning_rate=0.1).fit(X, Y)
    with pytest.raises(ValueError, match="Invalid parameter 'epoch' for MultiOutputNNClassifier. Did you mean 'epochs'"):
        MultiOutputNNClassifier().set_params(epoch=3)
    with pytest.raises(ValueError, match="dropout has 1 rates but hidden_layer_sizes has 2 layers"):
        MultiOutputNNClassifier(hidden_layer_sizes=(4, 4), dropout=[0.1]).fit(X, Y)


def test_failed_fit_keeps_the_fitted_model(data):
    X, Y, Xv, _ = data
    est = MultiOutputNNClassifier(**dict(FAST, epochs=2)).fit(X, Y)
    before = est.predict(Xv)
    with pytest.raises(ValueError):
        est.set_params(loss_weights={"nope": 1.0}).fit(X, Y)
    pd.testing.assert_frame_equal(est.predict(Xv), before)
