"""FactoredLabelNN: behaviour on data with a learnable signal."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.utils import get_tags

from skmultihead import FactoredLabelNN
from skmultihead.datasets import make_distance_size

FAST = dict(hidden_layer_sizes=(16,), epochs=30, optimizer__learning_rate=0.01, random_state=0)
FEATURES = {"distance": ["parallax", "haze"], "size": ["width", "height", "depth"]}
NAMES = ["distance", "size"]


@pytest.fixture(scope="module")
def data():
    X, y = make_distance_size(1000, random_state=0)
    X.index = X.index + 100
    return X[:800], y[:800], X[800:], y[800:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _, _ = data
    return FactoredLabelNN("-", factor_names=["distance", "size"], factor_features=FEATURES, **FAST).fit(X, y)


def test_learns_each_factor_and_the_joint_class(fitted, data):
    _, _, Xv, yv = data
    factors = fitted.score_heads(Xv, yv)
    assert factors["distance"] > 0.8 and factors["size"] > 0.8, factors  # chance: 0.5 and 0.33
    assert factors["joint"] == fitted.score(Xv, yv)
    predicted = fitted.predict(Xv)
    assert fitted.score(Xv, yv) == pytest.approx(accuracy_score(yv, predicted))
    assert fitted.score(Xv, yv) > 0.75


def test_classes_are_the_row_major_product(fitted):
    assert fitted.factor_names_ == ["distance", "size"]
    np.testing.assert_array_equal(fitted.factor_classes_["size"], ["large", "medium", "small"])
    expected = [f"{d}-{s}" for d in ("far", "near") for s in ("large", "medium", "small")]
    assert fitted.classes_.tolist() == expected


def test_joint_is_the_outer_product_inside_the_graph(fitted, data):
    _, _, Xv, _ = data
    joint = fitted.predict_proba(Xv)
    factors = fitted.predict_head_proba(Xv)
    np.testing.assert_array_equal(factors["joint"], joint)
    product = (factors["distance"][:, :, None] * factors["size"][:, None, :]).reshape(len(Xv), -1)
    np.testing.assert_allclose(joint, product, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(joint.sum(axis=1), 1.0)
    assert set(fitted.model_.output_names) == {"distance", "size", "joint"}
    assert type(fitted.model_.get_layer("joint")).__name__ == "JointDistribution"
    np.testing.assert_array_equal(fitted.predict(Xv), fitted.classes_[joint.argmax(axis=1)])
    heads = fitted.predict_heads(Xv)
    assert list(heads) == ["distance", "size", "joint"]
    np.testing.assert_array_equal(fitted.predict(Xv), heads["distance"] + "-" + heads["size"])
    np.testing.assert_array_equal(heads["joint"], fitted.predict(Xv))
    # the former names are gone
    assert not any(hasattr(fitted, old) for old in ("predict_factors", "predict_factor_proba", "score_factors"))

def test_a_joint_class_absent_from_training_is_predicted(data):
    X, y, Xv, yv = data
    seen = y != "far-small"
    # each factor from its own features only: nothing can tie "far" to "not small"
    est = FactoredLabelNN("-", factor_names=NAMES, factor_features=FEATURES, shared_trunk=False, **FAST)
    est.fit(X[seen], y[seen])
    assert "far-small" in est.classes_
    held_out = yv == "far-small"
    assert held_out.sum() > 20
    assert np.mean(est.predict(Xv[held_out]) == "far-small") > 0.7


def test_factor_features_without_a_shared_trunk_read_only_their_columns(data):
    X, y, Xv, yv = data
    est = FactoredLabelNN("-", factor_names=NAMES, factor_features=FEATURES, shared_trunk=False, **FAST).fit(X, y)
    assert not any(layer.name.startswith("trunk") for layer in est.model_.layers)
    assert est.score(Xv, yv) > 0.75
    shuffled = Xv.copy()
    shuffled[["width", "height", "depth", "noise_0"]] = shuffled[["width", "height", "depth", "noise_0"]].to_numpy()[::-1]
    np.testing.assert_allclose(
        est.predict_head_proba(shuffled)["distance"], est.predict_head_proba(Xv)["distance"], rtol=1e-6
    )
    # integer column indices for arrays
    by_index = FactoredLabelNN("-", factor_features={"factor_0": [0, 1]}, **dict(FAST, epochs=2)).fit(X.to_numpy(), y)
    assert by_index.model_.get_layer("factor_0_columns").columns == [0, 1]


def _target(kind, y, index):
    """The joint labels ``y`` in the target container ``kind``."""
    distance, size = np.array([label.split("-") for label in y]).T
    if kind == "dataframe":
        return pd.DataFrame({"distance": distance, "size": pd.Categorical(size)}, index=index)
    if kind == "tuples":
        return list(zip(distance, size))
    if kind == "array":
        return np.column_stack([distance == "near", np.searchsorted(["large", "medium", "small"], size)]).astype(int)
    if kind == "one_hot":
        return np.eye(6, dtype=int)[np.searchsorted(["far", "near"], distance) * 3 + np.searchsorted(["large", "medium", "small"], size)]
    return size


def _rows(target):
    """Each row of a target container as a tuple, to compare rows across containers."""
    array = target.to_numpy() if isinstance(target, pd.DataFrame) else np.asarray(target, dtype=object)
    return [tuple(np.atleast_1d(row)) for row in array]


@pytest.mark.parametrize("kind", ["dataframe", "tuples", "array", "one_hot", "single"])
def test_target_kinds_round_trip(kind, data):
    X, y, Xv, yv = data
    target = _target(kind, y, X.index)
    est = FactoredLabelNN(factor_shape=(2, 3) if kind == "one_hot" else None, **FAST).fit(X, target)
    predicted = est.predict(Xv)
    if kind == "dataframe":
        assert list(predicted.columns) == ["distance", "size"] and predicted["size"].dtype == "category"
        pd.testing.assert_index_equal(predicted.index, Xv.index)
        assert est.classes_[0] == ("far", "large")
    elif kind == "tuples":
        assert type(predicted) is list and type(predicted[0]) is tuple and len(est.classes_) == 6
    elif kind == "array":
        assert predicted.shape == (200, 2) and predicted.dtype == target.dtype
    elif kind == "one_hot":
        assert predicted.shape == (200, 6) and (predicted.sum(axis=1) == 1).all()
        np.testing.assert_array_equal(est.classes_, np.arange(6))
        np.testing.assert_array_equal(predicted.argmax(axis=1), est.predict_proba(Xv).argmax(axis=1))
    else:
        assert est.factor_names_ == ["factor_0"] and est.classes_.tolist() == ["large", "medium", "small"]
    # the score is the share of rows predicted whole, against Xv's own targets in the same container
    truth = _target(kind, yv, Xv.index)
    exact = np.mean([p == t for p, t in zip(_rows(predicted), _rows(truth), strict=True)])
    assert est.score(Xv, truth) == pytest.approx(exact)
    assert exact > 0.65, exact  # learned through this container (chance: 1/6, or 1/3 for "single")


def test_loss_weights_per_factor_and_joint(data):
    X, y, Xv, yv = data
    est = FactoredLabelNN("-", factor_names=["distance", "size"], loss_weights__size=0.0, **FAST).fit(X, y)
    scores = est.score_heads(Xv, yv)
    assert scores["distance"] > 0.85 and scores["size"] < 0.6  # size untrained: chance is 1/3
    assert {"loss", "distance_loss", "size_loss", "joint_loss", "joint_accuracy"} <= set(est.history_)
    # the total loss is the weighted sum: joint weighs 0 unless asked
    h = est.history_
    np.testing.assert_allclose(h["loss"], h["distance_loss"], rtol=1e-4)
    joint = FactoredLabelNN("-", factor_names=["distance", "size"], loss_weights={"joint": 0.5}, **dict(FAST, epochs=3))
    h = joint.fit(X, y).history_
    np.testing.assert_allclose(h["loss"], np.add(h["distance_loss"], h["size_loss"]) + 0.5 * np.array(h["joint_loss"]), rtol=1e-4)


def test_is_an_ordinary_classifier_to_scikit_learn(fitted, data):
    X, y, _, _ = data
    assert is_classifier(fitted) and get_tags(fitted).estimator_type == "classifier"
    est = FactoredLabelNN("-", factor_names=NAMES, factor_features=FEATURES, **dict(FAST, epochs=15))
    result = cross_validate(est, X, y, cv=StratifiedKFold(3), scoring=["accuracy", "neg_log_loss", "roc_auc_ovr"])
    assert np.all(result["test_accuracy"] > 0.6)
    assert np.all(result["test_neg_log_loss"] > -1.0)  # chance: -log(6) = -1.79
    assert np.all(result["test_roc_auc_ovr"] > 0.85)


def test_pickle_clone_and_random_state(fitted, data):
    X, y, Xv, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.predict_proba(Xv), fitted.predict_proba(Xv), rtol=1e-6)
    assert clone(fitted).get_params() == fitted.get_params()
    a = FactoredLabelNN("-", **dict(FAST, epochs=2)).fit(X, y)
    b = FactoredLabelNN("-", **dict(FAST, epochs=2)).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(Xv), b.predict_proba(Xv))


def test_single_class_factor_warns_and_is_predicted(data):
    X, y, Xv, _ = data
    near = np.array([label.startswith("near") for label in y])
    with pytest.warns(UserWarning, match=r"factor\(s\) \{'factor_0': 'near'\} have a single class"):
        est = FactoredLabelNN("-", **dict(FAST, epochs=5)).fit(X[near], y[near])
    assert all(label.startswith("near-") for label in est.predict(Xv))
    np.testing.assert_allclose(est.predict_head_proba(Xv)["factor_0"], 1.0)


def test_partial_fit_with_every_class():
    X = np.random.RandomState(0).normal(size=(30, 3))
    est = FactoredLabelNN("-", hidden_layer_sizes=(4,), random_state=0)
    est.partial_fit(X, ["a-x", "b-y"] * 15, classes=["a-x", "a-y", "b-x", "b-y", "c-x"])
    assert est.classes_.tolist() == ["a-x", "a-y", "b-x", "b-y", "c-x", "c-y"]
    est.partial_fit(X, ["c-x"] * 30)
    assert len(est.history_["loss"]) == 2


def test_bad_input_errors(fitted, data):
    X, y, Xv, yv = data
    est = FactoredLabelNN("-", **dict(FAST, epochs=1))
    bad = y.copy()
    bad[5] = "near-large-extra"
    with pytest.raises(ValueError, match=r"label 'near-large-extra' \(row 5\) splits into 3 parts by '-', but the other labels split into 2"):
        est.fit(X, bad)
    with pytest.raises(ValueError, match=r"factor_shape \(2, 4\) describes one-hot joint rows of 8 columns \(their product\); y has shape \(800, 6\)"):
        FactoredLabelNN(factor_shape=(2, 4)).fit(X, np.eye(6, dtype=int)[np.arange(800) % 6])
    with pytest.raises(ValueError, match="factor_features names factor 'dist', which is not a factor; the factors are 'distance', 'size'. Did you mean 'distance'"):
        FactoredLabelNN("-", factor_names=["distance", "size"], factor_features={"dist": ["haze"]}).fit(X, y)
    with pytest.raises(ValueError, match=r"factor_features\['size'\] names column 'widht', which is not in X; .*Did you mean 'width'"):
        FactoredLabelNN("-", factor_names=["distance", "size"], factor_features={"size": ["widht"]}).fit(X, y)
    with pytest.raises(ValueError, match=r"factor_features\['factor_0'\] has column index 12; X has 9 columns"):
        FactoredLabelNN("-", factor_features={"factor_0": [12]}).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="with shared_trunk=False every factor reads only its factor_features; 'size' has none"):
        FactoredLabelNN("-", factor_names=["distance", "size"], factor_features={"distance": ["haze"]}, shared_trunk=False).fit(X, y)
    with pytest.raises(ValueError, match="a factor may not be named 'joint'"):
        FactoredLabelNN("-", factor_names=["joint", "size"]).fit(X, y)
    with pytest.raises(ValueError, match="separator '-' splits string labels; y holds int"):
        est.fit(X, np.arange(800) % 3)
    with pytest.raises(ValueError, match="factor_names has 3 names but y has 2 factors"):
        FactoredLabelNN("-", factor_names=["a", "b", "c"]).fit(X, y)
    unseen = np.where(yv == "near-large", "near-huge", yv)  # scored as wrong, as accuracy_score counts them
    assert fitted.score(Xv, unseen) == pytest.approx(accuracy_score(unseen, fitted.predict(Xv)))
    assert fitted.score_heads(Xv, unseen)["size"] == pytest.approx(
        np.mean([p.split("-")[1] == t.split("-")[1] for p, t in zip(fitted.predict(Xv), unseen)])
    )
    with pytest.raises(ValueError, match=r"factor 'size' has labels \['huge'\] that were not in the training data"):
        fitted.partial_fit(Xv, unseen)  # training on a new label is an error
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        FactoredLabelNN().fit(X, X.haze)
