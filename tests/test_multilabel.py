"""MultiLabelNN: behaviour on data with a learnable signal."""

import pickle

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone, is_classifier
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import f1_score, recall_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.utils import get_tags

from skmultihead import MultiLabelNN
from skmultihead._model import PerLabelDense
from skmultihead._thresholds import best_f1_thresholds, holdout_rows
from skmultihead.datasets import make_tagged_items

FAST = dict(hidden_layer_sizes=(32,), epochs=30, optimizer__learning_rate=0.01, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, Y = make_tagged_items(1000, n_features=30, n_labels=5, n_informative=6, noise=0.3, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])], index=np.arange(1000) + 500)
    return X[:800], Y[:800], X[800:], Y[800:]


@pytest.fixture(scope="module")
def fitted(data):
    X, Y, _, _ = data
    return MultiLabelNN(**FAST).fit(X, Y)


def test_learns_every_label(fitted, data):
    _, Y, Xv, Yv = data
    predicted = fitted.predict(Xv)
    per_label_auc = roc_auc_score(Yv, fitted.predict_proba(Xv), average=None)
    assert per_label_auc.min() > 0.85, per_label_auc  # the rarest tag is 5% of rows
    assert fitted.score(Xv, Yv) == pytest.approx(f1_score(Yv, predicted, average="micro"))
    assert fitted.score(Xv, Yv) > 0.65
    assert fitted.history_["loss"][-1] < fitted.history_["loss"][0]
    assert set(fitted.history_) == {"loss", "accuracy"}  # one output: Keras drops its name


def test_predict_proba_and_predict_agree(fitted, data):
    _, Y, Xv, _ = data
    proba = fitted.predict_proba(Xv)
    assert proba.shape == (len(Xv), Y.shape[1])
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(fitted.classes_, Y.columns)
    predicted = fitted.predict(Xv)
    assert isinstance(predicted, pd.DataFrame)
    pd.testing.assert_index_equal(predicted.index, Xv.index)
    assert list(predicted.columns) == list(Y.columns) and (predicted.dtypes == Y.dtypes).all()
    np.testing.assert_array_equal(predicted.to_numpy(), (proba >= 0.5).astype(int))


def _label_sets(Y):
    return [{label for label, v in row.items() if v} for _, row in Y.iterrows()]


def _as_kind(kind, Y):
    """The indicator frame ``Y`` in the target container ``kind``."""
    if kind in ("sets", "lists", "tuples"):
        convert = {"sets": set, "lists": sorted, "tuples": lambda s: tuple(sorted(s))}[kind]
        return [convert(s) for s in _label_sets(Y)]
    return {
        "int array": lambda: Y.to_numpy(),
        "bool array": lambda: Y.to_numpy().astype(bool),
        "list of rows": lambda: Y.to_numpy().tolist(),
        "csr": lambda: sparse.csr_matrix(Y.to_numpy()),
        "csc array": lambda: sparse.csc_array(Y.to_numpy().astype("float32")),
        "bool frame": lambda: Y.astype(bool),
    }[kind]()


@pytest.mark.parametrize(
    "kind",
    ["int array", "bool array", "list of rows", "csr", "csc array", "bool frame", "sets", "lists", "tuples"],
)
def test_target_kinds_round_trip(kind, data):
    X, Y, Xv, Yv = data
    X, Y = X[:300], Y[:300]
    y = _as_kind(kind, Y)
    est = MultiLabelNN(**FAST).fit(X, y)
    predicted = est.predict(Xv[:20])
    indicator = (est.predict_proba(Xv[:20]) >= 0.5).astype(int)
    if kind in ("sets", "lists", "tuples"):
        np.testing.assert_array_equal(est.classes_, sorted(Y.columns))
        assert type(predicted) is list and all(type(row) is type(y[0]) for row in predicted)
        expected = [{label for label, v in zip(est.classes_, row) if v} for row in indicator]
        assert [set(row) for row in predicted] == expected
    elif kind == "bool frame":
        assert (predicted.dtypes == bool).all()
        np.testing.assert_array_equal(predicted.to_numpy(), indicator.astype(bool))
    elif kind in ("csr", "csc array"):
        assert type(predicted) is type(y) and predicted.dtype == y.dtype
        np.testing.assert_array_equal(predicted.toarray(), indicator)
        np.testing.assert_array_equal(est.classes_, np.arange(Y.shape[1]))
    else:
        assert isinstance(predicted, np.ndarray) and predicted.dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(predicted, indicator)
    # the score is the micro F1 against Xv's own labels, given in the same container
    expected = f1_score(Yv.to_numpy(), (est.predict_proba(Xv) >= 0.5).astype(int), average="micro")
    assert est.score(Xv, _as_kind(kind, Yv)) == pytest.approx(expected)
    assert expected > 0.55, expected  # learned through this container (other rows' labels score ~0.3)


def test_class_labels_one_per_sample(data):
    X, Y, Xv, Yv = data
    y = np.where(Y.tag_00 == 1, "a", np.where(X.f0 > 0, "b", "c"))
    est = MultiLabelNN(**FAST).fit(X, y)
    np.testing.assert_array_equal(est.classes_, ["a", "b", "c"])
    proba = est.predict_proba(Xv)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = est.predict(Xv)
    np.testing.assert_array_equal(predicted, est.classes_[proba.argmax(axis=1)])
    y_valid = np.where(Yv.tag_00 == 1, "a", np.where(Xv.f0 > 0, "b", "c"))
    assert est.score(Xv, y_valid) == pytest.approx(np.mean(predicted == y_valid)) and est.score(Xv, y_valid) > 0.75
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        est.fit(X[:50], y[:50, None])


@pytest.mark.parametrize("head_layout", ["separate", "per_label_hidden"])
def test_layouts_give_each_label_its_own_weights_and_learn(head_layout, data):
    X, Y, Xv, Yv = data
    est = MultiLabelNN(head_layout, label_hidden_layer_sizes=(4,), **FAST).fit(X, Y)
    output = est.model_.get_layer("labels")
    k = len(Y.columns)
    assert output.kernel.shape == (k, 4 if head_layout == "per_label_hidden" else est.hidden_layer_sizes[-1], 1)
    assert ("labels_hidden_0" in {layer.name for layer in est.model_.layers}) == (head_layout == "per_label_hidden")
    assert list(est.model_.output_names) == ["labels"]
    assert est.score(Xv, Yv) > 0.65
    # each label is its own binary classifier: its probability from its own weights alone
    tag = Y.columns[2]
    single = est.label_model(tag)
    probability = keras.ops.convert_to_numpy(single({"features": Xv.to_numpy("float32")}))
    np.testing.assert_allclose(probability[:, 0], est.predict_proba(Xv)[:, 2], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="'tag_3' is not a label.*Did you mean"):
        est.label_model("tag_3")


def test_per_label_dense_is_separate_dense_layers():
    layer = PerLabelDense(3, 2, "tanh", seed=0)
    shared = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(shared))
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    for j in range(3):  # label j: a Dense layer of its own
        np.testing.assert_allclose(out[:, j], np.tanh(shared @ kernel[j] + bias[j]), rtol=1e-5, atol=1e-6)
    own = np.random.default_rng(1).normal(size=(5, 3, 2)).astype("float32")  # each label's own input
    one_unit = PerLabelDense(3, 1, "sigmoid", seed=0)
    out = keras.ops.convert_to_numpy(one_unit(own))
    assert out.shape == (5, 3)
    for j in range(3):
        expected = 1 / (1 + np.exp(-(own[:, j] @ one_unit.kernel.numpy()[j] + one_unit.bias.numpy()[j])))
        np.testing.assert_allclose(out[:, j], expected[:, 0], rtol=1e-5, atol=1e-6)


def test_fixed_thresholds_float_array_dict(fitted, data):
    X, Y, Xv, _ = data
    proba = fitted.predict_proba(Xv)
    cases = {
        0.3: np.full(5, 0.3),
        (0.1, 0.2, 0.3, 0.4, 0.9): np.array([0.1, 0.2, 0.3, 0.4, 0.9]),
        "dict": np.array([0.5, 0.5, 0.8, 0.5, 0.5]),
    }
    for threshold, expected in cases.items():
        value = {"tag_02": 0.8} if threshold == "dict" else threshold
        est = clone(fitted).set_params(threshold=value, epochs=1).fit(X, Y)
        np.testing.assert_array_equal(est.thresholds_, expected)
        proba = est.predict_proba(Xv)
        np.testing.assert_array_equal(est.predict(Xv).to_numpy(), (proba >= expected).astype(int))


def test_auto_thresholds_tuned_on_held_out_rows(data):
    X, Y, Xv, Yv = data
    est = MultiLabelNN(threshold="auto", threshold_holdout=0.25, **FAST).fit(X, Y)
    assert est.thresholds_.shape == (5,) and not np.allclose(est.thresholds_, 0.5)
    # the network trained on the other 75%: as many steps per epoch as 600 rows make
    train, held = holdout_rows(Y.to_numpy(), 0.25, 0)
    assert len(held) == 200 and len(train) == 600
    refit = MultiLabelNN(threshold=0.5, **FAST).fit(X.iloc[train], Y.iloc[train])
    np.testing.assert_allclose(est.predict_proba(Xv), refit.predict_proba(Xv), rtol=1e-4, atol=1e-6)
    # the thresholds are the F1-best ones on the held-out rows
    held_proba = refit.predict_proba(X.iloc[held])
    np.testing.assert_allclose(est.thresholds_, best_f1_thresholds(Y.to_numpy()[held], held_proba), atol=1e-6)
    # tuned thresholds help the rare labels: macro-F1 on new rows is not lower
    fixed = f1_score(Yv, refit.predict(Xv), average="macro")
    assert f1_score(Yv, est.predict(Xv), average="macro") >= fixed - 0.01


def test_best_f1_thresholds_beat_every_other_cut():
    rng = np.random.RandomState(0)
    truth = (rng.rand(200, 3) < [0.1, 0.3, 0.6]).astype(int)
    proba = np.clip(truth * 0.3 + rng.rand(200, 3) * 0.7, 0, 1)
    thresholds = best_f1_thresholds(truth, proba)
    for j in range(3):
        best = f1_score(truth[:, j], proba[:, j] >= thresholds[j])
        for cut in np.linspace(0, 1, 201):
            assert best >= f1_score(truth[:, j], proba[:, j] >= cut, zero_division=0) - 1e-12
    assert best_f1_thresholds(np.zeros((5, 1), int), rng.rand(5, 1))[0] == 0.5  # no positives: 0.5


def test_holdout_rows_send_every_labels_positives_to_both_parts():
    rng = np.random.RandomState(1)
    indicator = (rng.rand(500, 6) < [0.01, 0.02, 0.05, 0.1, 0.3, 0.5]).astype(int)
    train, held = holdout_rows(indicator, 0.2, seed=0)
    assert len(held) == 100 and sorted(np.r_[train, held]) == list(range(500))
    for j in range(6):
        positives = indicator[:, j].sum()
        if positives >= 2:
            assert 1 <= indicator[held, j].sum() <= positives - 1


def test_class_weight_balanced_raises_recall_of_a_rare_label(data):
    X, Y, Xv, Yv = data
    plain = MultiLabelNN(**FAST).fit(X, Y)
    balanced = MultiLabelNN(class_weight="balanced", **FAST).fit(X, Y)
    n_positive = Y.to_numpy().sum(axis=0)
    np.testing.assert_allclose(balanced.label_weights_[1], 800 / (2 * n_positive))
    np.testing.assert_allclose(balanced.label_weights_[0], 800 / (2 * (800 - n_positive)))
    rare = Y.columns[n_positive.argmin()]
    assert recall_score(Yv[rare], balanced.predict(Xv)[rare]) > recall_score(Yv[rare], plain.predict(Xv)[rare])
    by_label = MultiLabelNN(class_weight={"tag_01": 5.0, "tag_02": {0: 0.5, 1: 2.0}}, **FAST).fit(X[:100], Y[:100])
    np.testing.assert_array_equal(by_label.label_weights_, [[1, 1, 0.5, 1, 1], [1, 5, 2, 1, 1]])


def test_weighted_loss_equals_keras_binary_crossentropy_with_unit_weights():
    import keras

    from skmultihead._losses import WeightedBinaryCrossentropy

    rng = np.random.RandomState(0)
    y_true = (rng.rand(8, 3) < 0.5).astype("float32")
    y_pred = rng.uniform(0.05, 0.95, size=(8, 3)).astype("float32")
    ours = WeightedBinaryCrossentropy([1, 1, 1], [1, 1, 1])(y_true, y_pred)
    reference = keras.losses.BinaryCrossentropy()(y_true, y_pred)
    assert float(ours) == pytest.approx(float(reference), rel=1e-5)
    # a label weighted 0 does not count; weight 2 on positives doubles their terms
    elementwise = keras.ops.convert_to_numpy(keras.ops.binary_crossentropy(y_true, y_pred))
    weighted = WeightedBinaryCrossentropy([2, 1, 0], [1, 1, 0])(y_true, y_pred)
    expected = ((elementwise[:, :2] * np.c_[1 + y_true[:, 0], np.ones(8)]).sum(axis=1) / 3).mean()
    assert float(weighted) == pytest.approx(expected, rel=1e-5)


def test_constant_label_warns_and_is_predicted_constant(data):
    X, Y, Xv, _ = data
    Y = Y.assign(always=1, never=0)
    with pytest.warns(UserWarning, match=r"label\(s\) \{'always': 1, 'never': 0\} are constant"):
        est = MultiLabelNN(class_weight="balanced", **dict(FAST, epochs=2)).fit(X, Y)
    proba = est.predict_proba(Xv)
    assert (proba[:, -2] == 1).all() and (proba[:, -1] == 0).all()
    assert (est.predict(Xv)["always"] == 1).all() and (est.predict(Xv)["never"] == 0).all()
    np.testing.assert_array_equal(est.label_weights_[:, -2:], 0)
    assert est.constant_labels_ == {"always": 1, "never": 0}


def test_sample_weight_zero_silences_corrupted_rows(data):
    X, Y, Xv, Yv = data
    corrupted = Y.copy()
    corrupted.iloc[400:] = 1 - corrupted.iloc[400:]
    weights = np.r_[np.ones(400), np.zeros(400)]
    weighted = MultiLabelNN(**FAST).fit(X, corrupted, sample_weight=weights)
    unweighted = MultiLabelNN(**FAST).fit(X, corrupted)
    assert weighted.score(Xv, Yv) > 0.65 > unweighted.score(Xv, Yv)


def test_partial_fit_with_classes_of_every_call():
    X = np.random.RandomState(0).normal(size=(40, 4))
    est = MultiLabelNN(hidden_layer_sizes=(4,), random_state=0)
    est.partial_fit(X[:20], [{"a"}] * 10 + [{"b"}] * 10, classes=["a", "b", "c"])
    np.testing.assert_array_equal(est.classes_, ["a", "b", "c"])
    est.partial_fit(X[20:], [{"c"}] * 20)
    assert len(est.history_["loss"]) == 2
    with pytest.raises(ValueError, match=r"y\[0\] has label\(s\) \['d'\] that were not in the training data"):
        est.partial_fit(X[:1], [{"d"}])


def test_tags_and_is_classifier():
    est = MultiLabelNN()
    tags = get_tags(est)
    assert is_classifier(est) and tags.estimator_type == "classifier"
    assert tags.classifier_tags.multi_label and tags.target_tags.multi_output and tags.target_tags.required


def test_pickle_joblib_clone_round_trip(fitted, data, tmp_path):
    _, _, Xv, _ = data
    expected = fitted.predict_proba(Xv)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(fitted)).predict_proba(Xv), expected, rtol=1e-6)
    joblib.dump(fitted, tmp_path / "model.joblib")
    np.testing.assert_allclose(joblib.load(tmp_path / "model.joblib").predict_proba(Xv), expected, rtol=1e-6)
    balanced = MultiLabelNN(class_weight="balanced", head_layout="separate", hidden_layer_sizes=(4,), epochs=1)
    balanced.fit(Xv, fitted.predict(Xv))
    restored = pickle.loads(pickle.dumps(balanced))  # the weighted loss is rebuilt from its config
    np.testing.assert_allclose(restored.predict_proba(Xv), balanced.predict_proba(Xv), rtol=1e-6)
    assert clone(fitted).get_params() == fitted.get_params() and not hasattr(clone(fitted), "model_")


def test_random_state_gives_equal_predictions(data):
    X, Y, Xv, _ = data
    a = MultiLabelNN(threshold="auto", **dict(FAST, epochs=3)).fit(X, Y)
    b = MultiLabelNN(threshold="auto", **dict(FAST, epochs=3)).fit(X, Y)
    np.testing.assert_array_equal(a.predict_proba(Xv), b.predict_proba(Xv))
    np.testing.assert_array_equal(a.thresholds_, b.thresholds_)
    # a refit tunes anew, the scorer of its early stopping predicting at 0.5 meanwhile, as a new estimator's
    stopping = dict(early_stopping=True, scoring="f1_micro", n_iter_no_change=2)
    fresh = MultiLabelNN(threshold="auto", **dict(FAST, epochs=3), **stopping).fit(X, Y.iloc[:, :3])
    refit = a.set_params(**stopping).fit(X, Y.iloc[:, :3])  # fewer labels than its last fit
    np.testing.assert_array_equal(refit.validation_scores_, fresh.validation_scores_)


# the lowest each scorer reaches when the labels are learned (chance: AUC 0.5, AP ~0.2)
SCORERS = {"f1_micro": 0.5, "f1_macro": 0.4, "f1_samples": 0.4, "roc_auc": 0.8, "average_precision": 0.5}


def test_cross_validate_with_multilabel_scorers(data):
    X, Y, _, _ = data
    result = cross_validate(MultiLabelNN(**FAST), X, Y, cv=KFold(3), scoring=list(SCORERS))
    for name, lowest in SCORERS.items():
        assert np.all((result[f"test_{name}"] > lowest) & (result[f"test_{name}"] <= 1)), (name, result[f"test_{name}"])


def test_multilabel_stratified_kfold(data):
    iterstrat = pytest.importorskip("iterstrat.ml_stratifiers")
    X, Y, _, _ = data
    cv = iterstrat.MultilabelStratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    result = cross_validate(MultiLabelNN(**FAST), X, Y, cv=cv, scoring="f1_macro")
    assert np.all(result["test_score"] > 0.4)


def test_grid_search_over_threshold_layout_and_trunk(data):
    X, Y, _, _ = data
    grid = {
        "threshold": [0.5, "auto"],
        "head_layout": ["dense", "separate"],
        "hidden_layer_sizes": [(8,), (32,)],
    }
    search = GridSearchCV(MultiLabelNN(**dict(FAST, epochs=8)), grid, cv=2, n_jobs=2, scoring="f1_macro")
    search.fit(X[:400], Y[:400])
    scores = {
        (p["head_layout"], p["hidden_layer_sizes"], p["threshold"]): score
        for p, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True)
    }
    # the searched threshold reaches each fit: after 8 epochs on 200 rows, tuned thresholds
    # find the rare labels that 0.5 misses (an ignored threshold would score the pairs alike)
    for layout in grid["head_layout"]:
        for sizes in grid["hidden_layer_sizes"]:
            assert scores[layout, sizes, "auto"] > scores[layout, sizes, 0.5] + 0.03, (layout, sizes, scores)
    # the best estimator (so an "auto" one) is refitted with the best parameters
    best, params = search.best_estimator_, search.best_params_
    assert best.model_.get_layer("trunk_0").units == params["hidden_layer_sizes"][0]
    assert isinstance(best.model_.get_layer("labels"), PerLabelDense) == (params["head_layout"] == "separate")
    assert not np.allclose(best.thresholds_, 0.5)
    assert best.predict(X[:5]).shape == (5, 5)


def test_bad_input_errors(fitted, data):
    X, Y, Xv, Yv = data
    est = MultiLabelNN(**dict(FAST, epochs=1))
    with pytest.raises(ValueError, match=r"holds only 0 and 1; label 'tag_01' has \[2\]"):
        est.fit(X, Y.assign(tag_01=Y.tag_01 * 2))
    bad = Y.to_numpy().copy()
    bad[7, 3] = -1
    with pytest.raises(ValueError, match=r"holds only 0 and 1; label 3 \(column 3\) has \[-1\]"):
        est.fit(X, bad)
    with pytest.raises(ValueError, match=r"y has 1 class/label \(\['tag_00'\]\); a multilabel target needs at least two"):
        est.fit(X, Y[["tag_00"]])
    with pytest.raises(ValueError, match=r"y has 1 class/label \(\['x'\]\)"):
        est.fit(X[:3], [{"x"}, set(), {"x"}])
    with pytest.raises(TypeError, match=r"y\[1\] holds \['b'\], which is not hashable"):
        est.fit(X[:3], [{"a"}, ("a", ["b"]), ()])
    with pytest.raises(TypeError, match=r"y\[1\] is a str; each row of a label-set target is a set"):
        est.fit(X[:3], [{"a"}, "b", {"b"}])
    with pytest.raises(ValueError, match="y has 4 labels but the model was fitted with 5"):
        fitted.score(Xv, Yv.to_numpy()[:, :4])
    with pytest.raises(ValueError, match=r"y has label columns .*'tag_9'.* but the model was fitted with"):
        fitted.score(Xv, Yv.rename(columns={"tag_04": "tag_9"}))
    with pytest.raises(ValueError, match=r"thresholds must be in \[0, 1\]; label 'tag_01' has 1.5"):
        est.set_params(threshold={"tag_01": 1.5}).fit(X, Y)
    with pytest.raises(ValueError, match="threshold has 3 values but the model has 5 labels"):
        est.set_params(threshold=[0.5, 0.5, 0.5]).fit(X, Y)
    with pytest.raises(ValueError, match="threshold names label 'tag_5', which is not a label"):
        est.set_params(threshold={"tag_5": 0.3}).fit(X, Y)
    est.set_params(threshold=0.5)
    with pytest.raises(ValueError, match="class_weight names label 'tag_7', which is not a label"):
        est.set_params(class_weight={"tag_7": 2.0}).fit(X, Y)
    with pytest.raises(ValueError, match=r"class_weight\['tag_0'\] has keys \[2\]; use 0 and 1"):
        MultiLabelNN(class_weight={"tag_0": {2: 1.0}}).fit(X, Y.rename(columns={"tag_00": "tag_0"}))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MultiLabelNN().fit(X, X.f0)
    with pytest.raises(ValueError, match="label column 'tag_00' has dtype str; label columns hold 0/1 or booleans"):
        MultiLabelNN().fit(X, Y.assign(tag_00="yes"))


def test_failed_fit_keeps_the_fitted_model(fitted, data):
    X, Y, Xv, _ = data
    est = pickle.loads(pickle.dumps(fitted))
    before = est.predict_proba(Xv)
    with pytest.raises(ValueError, match="holds only 0 and 1"):
        est.fit(X, Y * 3)
    np.testing.assert_array_equal(est.predict_proba(Xv), before)
    np.testing.assert_array_equal(est.thresholds_, fitted.thresholds_)
