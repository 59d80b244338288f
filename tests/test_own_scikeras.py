"""model= building the whole network, against scikeras's own KerasClassifier: the same
builder (initializers with fixed seeds), no shuffling, no dropout, trains to the same
predictions; and what a builder asking for ``meta`` or ``compile_kwargs`` is given."""

import keras
import numpy as np
import pandas as pd
import pytest
from scikeras.wrappers import KerasClassifier

from skmultihead import MultiOutputNNClassifier
from skmultihead.datasets import make_social_media

SEEDED = keras.initializers.GlorotUniform
# keras's own fit (scikeras's side) under TensorFlow with numpy 2; nothing of ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def get_model(meta, compile_kwargs, output="output_0", units=8, sigmoid=False, compiled=True):
    """One hidden layer, one output named ``output`` (the head), in scikeras's convention:
    sizes from ``meta``, compiled with the optimizer ``compile_kwargs`` gives."""
    inputs = keras.Input((meta["n_features_in_"],), name="features")
    hidden = keras.layers.Dense(units, activation="relu", kernel_initializer=SEEDED(seed=0))(inputs)
    units_out, activation = (1, "sigmoid") if sigmoid else (meta["n_classes_"], "softmax")
    out = keras.layers.Dense(units_out, activation=activation, kernel_initializer=SEEDED(seed=1), name=output)(hidden)
    model = keras.Model(inputs, out)
    if compiled:
        loss = "binary_crossentropy" if sigmoid else "sparse_categorical_crossentropy"
        model.compile(optimizer=compile_kwargs["optimizer"], loss=loss)
    return model


def data(n_classes, labels=None, name=None, n=120):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 5)).astype("float32")
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    if n_classes == 3:
        y = y + (X[:, 2] > 0.5)
    if labels is not None:
        y = np.asarray(labels, dtype=object)[y]
    return X, (y if name is None else pd.Series(y, name=name))


CASES = {
    # integer labels 0..2, softmax, sparse categorical cross-entropy, plain SGD
    "multiclass, sgd": (data(3), dict(optimizer="sgd", optimizer__learning_rate=0.1), {}),
    # string labels in a named Series (the head is "answer"), one sigmoid unit, Adam
    "binary sigmoid, adam": (
        data(2, labels=["no", "yes"], name="answer"),
        dict(optimizer="adam", optimizer__learning_rate=0.05),
        dict(model__output="answer", model__sigmoid=True),
    ),
    # a binary target read from 2 softmax units
    "binary softmax, rmsprop": (
        data(2, labels=["a", "b"]), dict(optimizer="rmsprop", optimizer__learning_rate=0.01), {}
    ),
    # not compiled by the builder: scikeras compiles with its loss, skmultihead with the head kind's
    "multiclass, uncompiled": (data(3, labels=["x", "y", "z"]), dict(optimizer="adam"), dict(model__compiled=False)),
}


@pytest.mark.backend
@pytest.mark.parametrize("batch_size", ["full", 50])
@pytest.mark.parametrize("case", list(CASES))
def test_the_same_builder_trains_as_scikeras_trains_it(case, batch_size):
    (X, y), optimizer, routed = CASES[case]
    sigmoid = routed.get("model__sigmoid", False)
    loss = "binary_crossentropy" if sigmoid else "sparse_categorical_crossentropy"
    training = dict(epochs=3, batch_size=len(X) if batch_size == "full" else batch_size, shuffle=False, verbose=0)

    theirs = KerasClassifier(model=get_model, loss=loss, **optimizer, **routed, **training).fit(X, y)
    ours = MultiOutputNNClassifier(model=get_model, random_state=0, **optimizer, **routed, **training).fit(X, y)

    assert type(ours.model_.optimizer) is type(theirs.model_.optimizer)
    # on TensorFlow plain Adam updates with the fused kernel, where 1 - beta_1 rounds apart in float32
    fused = keras.backend.backend() == "tensorflow" and optimizer["optimizer"] == "adam"
    rtol, atol = (1e-4, 1e-5) if fused else (1e-5, 1e-6)
    np.testing.assert_allclose(ours.history_["loss"], theirs.history_["loss"], rtol=rtol)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=rtol, atol=atol)
    np.testing.assert_array_equal(np.asarray(ours.predict(X)), theirs.predict(X))
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)


def test_a_single_head_builder_gets_scikeras_own_meta():
    X, y = data(3, labels=["x", "y", "z"])
    seen = {}

    def recording(meta, compile_kwargs):
        seen.setdefault("scikeras" if "ours" in seen else "ours", meta)
        return get_model(meta, compile_kwargs)

    MultiOutputNNClassifier(model=recording, epochs=1, verbose=0).fit(X, y)
    KerasClassifier(model=recording, loss="sparse_categorical_crossentropy", epochs=1, verbose=0).fit(X, y)
    ours, theirs = seen["ours"], seen["scikeras"]
    for key in ("n_features_in_", "n_classes_", "target_type_", "n_outputs_expected_"):
        assert ours[key] == theirs[key], key
    np.testing.assert_array_equal(ours["classes_"], theirs["classes_"])
    assert ours["heads"] == {"output_0": {"kind": "multiclass", "classes": ours["heads"]["output_0"]["classes"],
                                          "n_outputs": 3}}
    np.testing.assert_array_equal(ours["heads"]["output_0"]["classes"], ["x", "y", "z"])


def test_a_builder_asking_for_meta_gets_every_head():
    X, Y = make_social_media(60, random_state=0)
    seen = []

    def get_heads_model(meta, compile_kwargs, units=4):
        seen.append((meta, compile_kwargs, units))
        inputs = keras.Input((meta["n_features_in_"],), name="features")
        hidden = keras.layers.Dense(units, activation="relu")(inputs)
        heads = meta["heads"]
        outputs = {
            "age": keras.layers.Dense(heads["age"]["n_outputs"], name="age")(hidden),
            "income": keras.layers.Dense(heads["income"]["n_outputs"], activation="softmax", name="income")(hidden),
            "gender": keras.layers.Dense(heads["gender"]["n_outputs"], activation="sigmoid", name="gender")(hidden),
        }
        return keras.Model(inputs, outputs)

    est = MultiOutputNNClassifier(model=get_heads_model, model__units=3, loss_weights={"gender": 2.0}, epochs=1)
    est.fit(X, Y)
    meta, compile_kwargs, units = seen[0]
    assert units == 3
    assert meta["n_features_in_"] == 20 and list(meta["feature_names_in_"]) == list(X.columns)
    heads = meta["heads"]
    assert list(heads) == ["age", "income", "gender"]
    assert {name: (head["kind"], head["n_outputs"]) for name, head in heads.items()} == {
        "age": ("regression", 1),
        "income": ("multiclass", 10),
        "gender": ("binary", 1),
    }
    assert heads["age"]["classes"] is None
    np.testing.assert_array_equal(heads["income"]["classes"], [f"i{k}" for k in range(10)])
    np.testing.assert_array_equal(heads["gender"]["classes"], ["f", "m"])
    # scikeras's single-target keys are for a single head only
    assert not {"classes_", "n_classes_", "target_type_", "n_outputs_expected_"} & set(meta)
    assert isinstance(compile_kwargs["optimizer"], keras.optimizers.Optimizer)
    assert set(compile_kwargs["loss"]) == {"age", "income", "gender"}
    assert compile_kwargs["loss_weights"]["gender"] == 2.0
    assert set(est.predict(X).columns) == {"age", "income", "gender"}


@pytest.mark.parametrize("given", ["builder", "instance"])
def test_random_state_seeds_the_layers_a_builder_leaves_unseeded(given):
    # as scikeras's random_state does: the same random_state, the same initial network
    X, y = data(3)

    def unseeded(meta):
        inputs = keras.Input((meta["n_features_in_"],), name="features")
        hidden = keras.layers.Dense(8, activation="relu")(inputs)
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="output_0")(hidden))

    model = unseeded if given == "builder" else unseeded({"n_features_in_": X.shape[1]})
    first, second = (MultiOutputNNClassifier(model=model, random_state=0).initialize(X, y) for _ in range(2))
    for a, b in zip(first.model_.get_weights(), second.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
