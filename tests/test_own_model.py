"""model= building the whole network: a Keras model the user wrote, with outputs named after
the heads, gets the estimators' API."""

import pickle
import re

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier, head_scorer
from skmultihead.datasets import make_distance_size, make_social_media, make_tagged_items
from skmultihead.model_selection import cross_val_predict

QUICK = dict(epochs=3, random_state=0)


def social(meta, compile_kwargs, units=16, gender_units=1):
    inputs = keras.Input((meta["n_features_in_"],), name="activity")
    hidden = keras.layers.Dense(units, activation="relu")(inputs)
    income = meta["heads"]["income"]["n_outputs"]
    return keras.Model(inputs, {
        "age": keras.layers.Dense(1, name="age")(hidden),
        "income": keras.layers.Dense(income, activation="softmax", name="income")(hidden),
        "gender": keras.layers.Dense(gender_units, activation="sigmoid" if gender_units == 1 else "softmax",
                                     name="gender")(hidden),
    })


def compiled_social(**compile_args):
    """`social` as a Keras model instance, compiled by its user: MAE for age, with an MSE metric."""
    network = social({"n_features_in_": 20, "heads": {"income": {"n_outputs": 10}}}, None, units=8)
    network.compile(loss={"age": "mean_absolute_error", "income": "sparse_categorical_crossentropy",
                          "gender": "binary_crossentropy"}, metrics={"age": ["mse"]}, **compile_args)
    return network


@pytest.fixture(scope="module")
def data():
    return make_social_media(240, random_state=0)


def test_a_builder_gets_meta_compile_kwargs_and_routed_arguments(data):
    X, Y = data
    seen = {}

    def build(meta, compile_kwargs, units=4):
        seen.update(meta=meta, compile_kwargs=compile_kwargs, units=units)
        return social(meta, compile_kwargs, units)

    est = MultiOutputNNClassifier(model=build, model__units=12, **QUICK).fit(X, Y)
    assert seen["units"] == 12 and seen["meta"]["n_features_in_"] == 20
    assert seen["meta"]["heads"]["income"]["kind"] == "multiclass"
    assert list(seen["meta"]["heads"]["gender"]["classes"]) == ["f", "m"]
    assert isinstance(seen["compile_kwargs"]["optimizer"], keras.optimizers.Optimizer)
    dense = [layer for layer in est.model_.layers if isinstance(layer, keras.layers.Dense)]
    assert dense[0].units == 12  # the user's network, not one built from hidden_layer_sizes
    predicted = est.predict(X)
    assert list(predicted.columns) == ["age", "income", "gender"] and set(predicted["gender"]) <= {"f", "m"}
    assert [p.shape for p in est.predict_proba(X)] == [(len(X), 10), (len(X), 2)]
    assert set(est.score_heads(X, Y)) == {"age", "income", "gender"}


def test_the_network_learns_and_every_tool_downstream_works(data):
    X, Y = data
    est = MultiOutputNNClassifier(model=social, model__units=32, epochs=60, optimizer__learning_rate=0.01,
                                  random_state=0).fit(X, Y)
    assert est.score_heads(X, Y)["gender"] > 0.75 and est.score_heads(X, Y)["age"] > 0.3
    assert est.head_estimator("gender").score(X, Y["gender"]) == pytest.approx(est.score_heads(X, Y)["gender"])
    assert head_scorer("age", "r2")(est, X, Y) == pytest.approx(est.score_heads(X, Y)["age"])
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(est)).predict(X), est.predict(X))
    out_of_fold = cross_val_predict(MultiOutputNNClassifier(model=social, **QUICK), X, Y, cv=KFold(2))
    assert list(out_of_fold.columns) == ["age", "income", "gender"]
    search = GridSearchCV(MultiOutputNNClassifier(model=social, **QUICK),
                          {"model__units": [4, 8], "loss_weights__gender": [1.0, 3.0]}, cv=KFold(2),
                          scoring=head_scorer("gender", "accuracy")).fit(X, Y)
    assert len(search.cv_results_["params"]) == 4 and search.best_estimator_.model_ is not None
    assert clone(est).get_params()["model"] is social


def test_two_softmax_units_serve_a_binary_head(data):
    X, Y = data
    est = MultiOutputNNClassifier(model=social, model__gender_units=2, **QUICK).fit(X, Y)
    assert est.heads_["gender"].n_outputs_ == 2 and est.predict_proba(X)[1].shape == (len(X), 2)
    assert set(est.predict(X)["gender"]) <= {"f", "m"}


def test_a_compiled_model_instance_keeps_its_compile_and_is_never_trained_in_place(data):
    X, Y = data
    network = compiled_social(loss_weights={"age": 0.0})
    before = [np.array(w) for w in network.get_weights()]
    est = MultiOutputNNClassifier(model=network, **QUICK).fit(X, Y)
    assert "age_mse" in est.history_ and est._network.loss["age"] == "mean_absolute_error"
    assert all((a == b).all() for a, b in zip(before, network.get_weights()))  # the instance is untouched
    assert est.model_ is not network
    # its loss weight of 0: the age head's layer never moves ... unless loss_weights= says otherwise
    weighted = MultiOutputNNClassifier(model=network, loss_weights={"age": 2.0}, **QUICK).fit(X, Y)
    assert weighted.history_["loss"] != est.history_["loss"]


def test_outputs_are_checked_against_y_before_training(data):
    X, Y = data

    def outputs(**layers):
        def build():
            inputs = keras.Input((20,))
            hidden = keras.layers.Dense(4)(inputs)
            return keras.Model(inputs, {name: layer(hidden) for name, layer in layers.items()})
        return build

    good = dict(age=keras.layers.Dense(1, name="age"), income=keras.layers.Dense(10, activation="softmax",
                                                                               name="income"))
    cases = [
        (outputs(**good), "model has no output 'gender' for head 'gender' (binary: 1 unit(s) with activation "
                          "'sigmoid' for classes 'f', 'm' (or 2 softmax units)); its outputs are 'age', 'income'"),
        (outputs(**good, gender=keras.layers.Dense(3, activation="softmax", name="gender")),
         "model output 'gender' has 3 unit(s) with activation 'softmax'; head 'gender' needs binary"),
        (outputs(**good, gender=keras.layers.Dense(1, activation="sigmoid", name="gender"),
                 extra=keras.layers.Dense(1, name="extra")), "model has output(s) 'extra', which are not heads"),
        (outputs(age=keras.layers.Dense(1, activation="sigmoid", name="age"), income=good["income"],
                 gender=keras.layers.Dense(1, activation="sigmoid", name="gender")),
         "model output 'age' has 1 unit(s) with activation 'sigmoid'; head 'age' needs regression"),
    ]
    for build, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            MultiOutputNNClassifier(model=build, **QUICK).fit(X, Y)
    with pytest.raises(TypeError, match="returned str; a callable given as model returns a keras.Model"):
        MultiOutputNNClassifier(model=lambda: "network", **QUICK).fit(X, Y)
    two_inputs = outputs(**good)
    with pytest.raises(ValueError, match="ensemble_size and branches build a network from parameters"):
        MultiOutputNNClassifier(model=two_inputs, ensemble_size=2, **QUICK).fit(X, Y)


def test_several_inputs_are_matched_by_inputs_groups(data):
    X, Y = data

    def build(meta):
        first, second = keras.Input((10,), name="first"), keras.Input((10,), name="second")
        hidden = keras.layers.Concatenate()([keras.layers.Dense(4)(first), keras.layers.Dense(4)(second)])
        return keras.Model([first, second], {
            "age": keras.layers.Dense(1, name="age")(hidden),
            "income": keras.layers.Dense(10, activation="softmax", name="income")(hidden),
            "gender": keras.layers.Dense(1, activation="sigmoid", name="gender")(hidden),
        })

    groups = {"first": list(X.columns[:10]), "second": list(X.columns[10:])}
    est = MultiOutputNNClassifier(model=build, inputs=groups, **QUICK).fit(X, Y)
    assert est.predict(X).shape == (len(X), 3)
    with pytest.raises(ValueError, match="model has inputs 'first', 'second'; inputs= must group X's columns"):
        MultiOutputNNClassifier(model=build, **QUICK).fit(X, Y)
    narrow = {"first": list(X.columns[:5]), "second": list(X.columns[5:])}
    with pytest.raises(ValueError, match=r"model input 'first' has shape \(10,\), but X gives it 5 column"):
        MultiOutputNNClassifier(model=build, inputs=narrow, **QUICK).fit(X, Y)


def test_multilabel_and_factored_networks_of_ones_own():
    X, Y = make_tagged_items(200, n_features=12, n_labels=4, n_informative=6, random_state=0)

    def per_label(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dense(16, activation="relu")(inputs)
        labels = meta["heads"]["labels"]["classes"]
        return keras.Model(inputs, [keras.layers.Dense(1, activation="sigmoid", name=str(label))(hidden)
                                    for label in labels])

    tags = MultiLabelNN(model=per_label, threshold=0.5, **QUICK).fit(X, Y)
    assert tags.predict_proba(X).shape == (len(X), 4) and list(tags.predict(X).columns) == list(Y.columns)

    Xf, y = make_distance_size(200, random_state=0)

    def factors(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dense(16, activation="relu")(inputs)
        return keras.Model(inputs, {name: keras.layers.Dense(head["n_outputs"], activation="softmax", name=name)(hidden)
                                    for name, head in meta["heads"].items() if name != "joint"})

    joint = FactoredLabelNN("-", factor_names=["distance", "size"], model=factors, **QUICK).fit(Xf, y)
    assert joint.predict_proba(Xf).shape == (len(Xf), 6) and set(joint.model_.output_names) >= {"joint"}
    np.testing.assert_allclose(joint.predict_proba(Xf).sum(axis=1), 1.0, rtol=1e-5)


@keras.saving.register_keras_serializable(package="test_own_model")
def registered(meta, units=8):
    return social(meta, None, units)


def test_a_registered_builder_saves_and_loads(data, tmp_path):
    import skmultihead

    X, Y = data
    est = MultiOutputNNClassifier(model=registered, **QUICK).fit(X, Y)
    assert est._forward_plan is not None  # its layers are ones the numpy forward pass computes
    est.save(tmp_path / "own.skmh")
    pd.testing.assert_frame_equal(skmultihead.load(tmp_path / "own.skmh").predict(X), est.predict(X))
    unregistered = MultiOutputNNClassifier(model=social, **QUICK).fit(X, Y)
    with pytest.raises(TypeError, match="cannot save parameter 'model'.*register_keras_serializable"):
        unregistered.save(tmp_path / "other.skmh")


def test_a_builder_and_its_arguments_are_the_architecture_the_pool_reuses(data):
    from skmultihead._pool import POOL
    from skmultihead._training import TRACES

    X, Y = data
    POOL.clear()
    MultiOutputNNClassifier(model=social, model__units=6, **QUICK).fit(X, Y)
    traces = sum(TRACES.values())
    again = MultiOutputNNClassifier(model=social, model__units=6, epochs=3, random_state=1).fit(X, Y)
    assert sum(TRACES.values()) == traces  # the same architecture: its network and train step reused
    MultiOutputNNClassifier(model=social, model__units=7, **QUICK).fit(X, Y)
    assert sum(TRACES.values()) > traces  # other arguments: another network
    assert np.isfinite(again.history_["loss"]).all()


def test_auxiliary_outputs_and_learning_curves(data):
    import matplotlib

    matplotlib.use("Agg")
    from skmultihead import HistoryDisplay

    X, Y = data

    def with_aux(meta):
        network = social(meta, None)
        hidden = network.layers[1].output
        outputs = {**network.output, "age_early": keras.layers.Dense(1, name="age_early")(hidden)}
        return keras.Model(network.inputs, outputs)

    est = MultiOutputNNClassifier(model=with_aux, aux_heads={"age_early": {"target": "age", "weight": 0.5}},
                                  **QUICK).fit(X, Y)
    assert "age_early_loss" in est.history_ and set(est.score_aux(X, Y)) == {"age_early"}
    display = HistoryDisplay.from_estimator(est)
    assert display.figure_ is not None


def test_an_unnamed_input_is_fed_without_warnings_and_reused(data):
    import warnings

    from skmultihead._training import TRACES

    X, Y = data

    def unnamed(meta):
        inputs = keras.Input((meta["n_features_in_"],))  # Keras names it input_layer, input_layer_1, ...
        hidden = keras.layers.Dense(5, activation="relu")(inputs)
        return keras.Model(inputs, {"age": keras.layers.Dense(1, name="age")(hidden),
                                    "income": keras.layers.Dense(10, activation="softmax", name="income")(hidden),
                                    "gender": keras.layers.Dense(1, activation="sigmoid", name="gender")(hidden)})

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*must match the names of the corresponding tensors")
        first = MultiOutputNNClassifier(model=unnamed, **QUICK).fit(X, Y)
        traces = sum(TRACES.values())
        MultiOutputNNClassifier(model=unnamed, **QUICK).fit(X, Y)
    assert sum(TRACES.values()) == traces and list(first.input_columns_) == ["features"]


def test_the_example_runs():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).parents[1] / "examples" / "own_model.py"
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "own Keras model" in result.stdout and "from parameters" in result.stdout


def test_a_model_instance_saves_as_its_declared_network(data, tmp_path):
    import json
    import zipfile

    import skmultihead

    X, Y = data
    network = compiled_social()
    est = MultiOutputNNClassifier(model=network, **QUICK).fit(X, Y)
    est.save(tmp_path / "own.skmh")
    loaded = skmultihead.load(tmp_path / "own.skmh")
    pd.testing.assert_frame_equal(loaded.predict(X), est.predict(X))
    assert type(loaded.model).__name__ == "SavedNetwork"
    assert "age_mse" in loaded.fit(X, Y).history_  # rebuilt from its config, compiled as the user did
    loaded.fit(X, Y)
    clone(loaded).fit(X, Y)  # built again as often as needed
    # the saved network may stand only where the model parameter does
    with zipfile.ZipFile(tmp_path / "own.skmh") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    state = json.loads(members["state.json"])
    state["optimizer"] = state.pop("model")
    members["state.json"] = json.dumps(state).encode()
    with zipfile.ZipFile(tmp_path / "moved.skmh", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(skmultihead.UnsafeFileError, match="a saved network stands at optimizer"):
        skmultihead.load(tmp_path / "moved.skmh")


def test_a_model_that_cannot_be_cloned_is_refused(data):
    X, Y = data

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return {"age": self.dense(inputs)}

    with pytest.raises(ValueError, match="model: the Keras model given cannot be cloned from its config"):
        MultiOutputNNClassifier(model=Subclassed(), **QUICK).fit(X, Y[["age"]])
