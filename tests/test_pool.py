"""Compiled networks are reused across fits of the same architecture, without changing results."""

import gc
import os
import pickle
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from skmultihead import Head, MultiLabelNN, MultiOutputNNClassifier
from skmultihead._pool import POOL, ModelPool, start_key
from skmultihead._training import TRACES
from skmultihead.datasets import make_social_media, make_tagged_items

pytestmark = pytest.mark.backend  # run under every backend (scripts/test.sh)

QUICK = dict(hidden_layer_sizes=(16,), dropout=0.1, epochs=3, random_state=0)


@pytest.fixture
def data():
    gc.collect()
    POOL.clear()
    yield make_social_media(300, random_state=0)
    POOL.clear()


def test_a_reused_network_trains_exactly_as_a_new_one(data):
    X, Y = data
    first = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    expected = first.predict_head_proba(X)["income"]
    network = first._network
    del first
    gc.collect()
    assert len(POOL) == 1
    second = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    assert second._network is network and len(POOL) == 0
    np.testing.assert_array_equal(second.predict_head_proba(X)["income"], expected)
    # another seed on the same network: other initial weights, as a new network would have
    other = MultiOutputNNClassifier(**dict(QUICK, random_state=1)).fit(X, Y)
    assert not np.allclose(other.predict_head_proba(X)["income"], expected)


@pytest.fixture
def builds(monkeypatch):
    """Counts the networks built."""
    import skmultihead._model as model

    count = []
    build = model.build_model
    monkeypatch.setattr(model, "build_model", lambda *a, **k: count.append(1) or build(*a, **k))
    return count


def test_a_known_start_reuses_a_network_without_building_one(data, builds):
    X, Y = data
    expected = MultiOutputNNClassifier(**QUICK).fit(X, Y).predict_head_proba(X)["income"]
    gc.collect()
    again = MultiOutputNNClassifier(**QUICK).fit(X, Y)  # same seed and arguments: the start is known
    assert len(builds) == 1
    np.testing.assert_array_equal(again.predict_head_proba(X)["income"], expected)
    del again
    gc.collect()
    MultiOutputNNClassifier(**dict(QUICK, random_state=None)).fit(X, Y)  # random weights: built
    MultiOutputNNClassifier(**dict(QUICK, random_state=1)).fit(X, Y)  # another seed: built
    assert len(builds) == 3
    # what is derived from the data is part of the start: balanced class weights per fold
    Xm, Ym = make_tagged_items(200, n_features=8, n_labels=3, n_informative=3, random_state=0)
    first = MultiLabelNN(class_weight="balanced", **QUICK).fit(Xm[:100], Ym[:100])
    loss = first._network.loss["labels"].get_config()
    del first
    gc.collect()
    other_fold = MultiLabelNN(class_weight="balanced", **QUICK).fit(Xm[100:], Ym[100:])
    assert len(builds) == 5 and other_fold._network.loss["labels"].get_config() != loss


def test_a_custom_trunk_is_built_for_every_fit(data, builds):
    X, Y = data

    def trunk(inputs):
        return keras.layers.Dense(8, activation="relu", name="t")(inputs["features"])

    for _ in range(2):
        MultiOutputNNClassifier(model=trunk, **QUICK).fit(X, Y)
        gc.collect()
    assert len(builds) == 2 and len(POOL) == 1


def test_refitting_reuses_the_estimators_own_network_without_a_new_trace(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    first, network, traces = est.predict_head_proba(X)["income"], est._network, sum(TRACES.values())
    est.fit(X, Y)
    assert est._network is network and sum(TRACES.values()) == traces and len(POOL) == 0
    np.testing.assert_allclose(est.predict_head_proba(X)["income"], first, atol=1e-6)  # same seed, same fit


def test_a_network_handed_out_is_never_reused(data):
    X, Y = data
    a = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    held, proba = a.model_, a.predict_head_proba(X)["income"]
    weights = [w.copy() for w in held.get_weights()]
    a.fit(X, Y)  # a refit no longer trains what the user holds
    assert a.model_ is not held
    del a
    gc.collect()
    b = MultiOutputNNClassifier(**dict(QUICK, random_state=3)).fit(X, Y)
    assert b._network is not held
    for before, after in zip(weights, held.get_weights()):
        np.testing.assert_array_equal(before, after)
    outputs = held({"features": X.to_numpy("float32")})
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outputs["income"]), proba, atol=1e-5)


def test_a_label_model_keeps_its_network_out_of_the_pool(data):
    Xm, Ym = make_tagged_items(200, n_features=8, n_labels=3, n_informative=3, random_state=0)
    est = MultiLabelNN(**QUICK).fit(Xm, Ym)
    label = est.label_model(est.classes_[0])
    expected = est.predict_proba(Xm)[:, 0]
    del est
    gc.collect()
    assert len(POOL) == 0
    # a fit of the same architecture (another seed: other weights) takes no part of it
    MultiLabelNN(**dict(QUICK, random_state=1)).fit(Xm, Ym)
    output = keras.ops.convert_to_numpy(label({"features": np.asarray(Xm, "float32")}))
    np.testing.assert_allclose(output.reshape(-1), expected, atol=1e-5)


def test_an_unchanged_fitted_estimator_keeps_its_weights_when_another_fits(data):
    X, Y = data
    a = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    expected = a.predict(X)
    MultiOutputNNClassifier(**dict(QUICK, random_state=5)).fit(X, Y)
    pd.testing.assert_frame_equal(a.predict(X), expected)


def test_a_failed_fit_keeps_its_network_and_leaks_none(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    network, expected = est._network, est.predict(X)
    with pytest.raises(ValueError, match="loss_weights names head 'agee'"):
        est.set_params(loss_weights={"agee": 1.0}).fit(X, Y)
    assert est._network is network and len(POOL) == 0
    with pytest.raises(ValueError, match="training diverged"):  # fails while training its own network
        est.set_params(loss_weights=None, optimizer__learning_rate=1e30).fit(X * 1e20, Y)
    assert est._network is network and len(POOL) == 0
    pd.testing.assert_frame_equal(est.predict(X), expected)
    fresh = MultiOutputNNClassifier(**dict(QUICK, hidden_layer_sizes=(7,), optimizer__learning_rate=1e30))
    with pytest.raises(ValueError, match="training diverged"):
        fresh.fit(X * 1e20, Y)
    gc.collect()
    assert len(POOL) == 0 and not hasattr(fresh, "model_")


def test_an_optimizer_instance_is_rebuilt_for_every_fit(data):
    X, Y = data
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    est = MultiOutputNNClassifier(**dict(QUICK, optimizer=optimizer)).fit(X, Y)
    first = est.predict_head_proba(X)["income"]
    est.fit(X, Y)
    np.testing.assert_allclose(est.predict_head_proba(X)["income"], first, atol=1e-6)
    assert est._network.optimizer is not optimizer and not optimizer.built
    network = est._network
    del est
    gc.collect()
    # the pool still works: a fit with an equal optimizer takes the released network and trains as before
    again = MultiOutputNNClassifier(**dict(QUICK, optimizer=keras.optimizers.Adam(learning_rate=0.01))).fit(X, Y)
    assert again._network is network and len(POOL) == 0
    np.testing.assert_allclose(again.predict_head_proba(X)["income"], first, atol=1e-6)


def test_other_architectures_and_loss_settings_do_not_share(data):
    X, Y = data
    Xm, Ym = make_tagged_items(200, n_features=8, n_labels=3, n_informative=3, random_state=0)
    MultiLabelNN(**QUICK).fit(Xm, Ym)
    gc.collect()
    assert len(POOL) == 1
    balanced = MultiLabelNN(class_weight="balanced", **QUICK).fit(Xm, Ym)  # its loss differs
    wider = MultiLabelNN(**dict(QUICK, hidden_layer_sizes=(32,))).fit(Xm, Ym)
    one_step = MultiLabelNN(steps_per_execution=1, **QUICK).fit(Xm, Ym)
    # each waits in the pool; "auto" is 1 under PyTorch only: elsewhere one_step's network is another
    assert len(POOL) == (3 if keras.backend.backend() == "torch" else 4)
    assert balanced._network is not wider._network and one_step._network.steps_per_execution == 1


def test_a_fitted_estimator_predicting_in_numpy_returns_its_network_to_the_pool(data):
    X, Y = data
    a = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    assert a._holder.lease is None and len(POOL) == 1  # its weights are kept as arrays
    expected, traces = a.predict(X), sum(TRACES.values())
    MultiOutputNNClassifier(**dict(QUICK, random_state=1)).fit(X, Y)  # takes that network: no trace
    assert sum(TRACES.values()) == traces and len(POOL) == 1
    pd.testing.assert_frame_equal(a.predict(X), expected)
    # a warm start takes a network again, in the parked state (optimizer included): it trains
    # as the warm start of an estimator that kept its network (handed out, so never parked)
    held = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    held.model_
    for est in (a, held):
        est.set_params(warm_start=True, epochs=1).fit(X, Y)
    np.testing.assert_allclose(a.predict_head_proba(X)["income"], held.predict_head_proba(X)["income"], atol=1e-6)


def test_pickled_copies_own_their_network(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    copy = pickle.loads(pickle.dumps(est))
    assert copy.model_ is not est.model_
    del copy
    gc.collect()
    assert len(POOL) == 0


def test_the_pool_keeps_a_bounded_number_of_idle_networks(data):
    X, Y = data
    pool = ModelPool(max_idle=2)
    networks = [MultiOutputNNClassifier(**dict(QUICK, hidden_layer_sizes=(n,))).fit(X, Y)._network for n in (4, 5, 6)]
    for network in networks:
        pool.release(network)
    assert len(pool) == 2


class SigmoidHead(Head):
    """A Head subclass: the same parameters, another network."""

    @property
    def activation_(self):
        return "sigmoid"


def test_start_keys_tell_apart_what_changes_the_network():
    y = np.array(["a", "b", "a"])
    head = Head().fit(y, "h")
    assert start_key(0, head) == start_key(0, Head().fit(y, "h")) and start_key(None, head) is None
    assert start_key(0, head) != start_key(1, head)
    assert start_key(0, SigmoidHead().fit(y, "h")) != start_key(0, head)
    policy = keras.config.dtype_policy().name
    keras.config.set_dtype_policy("mixed_float16")
    try:
        assert start_key(0, head) != start_key(0, head).replace("mixed_float16", policy)
    finally:
        keras.config.set_dtype_policy(policy)

    class Redefinable(Head):  # a class of a notebook cell or a factory: no start is kept for it
        pass

    assert start_key(0, Redefinable().fit(y, "h")) is None


def test_a_fit_on_another_backend_does_not_import_tensorflow():
    if keras.backend.backend() == "tensorflow":
        pytest.skip("TensorFlow is the backend")
    code = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "from skmultihead import MultiOutputNNClassifier\n"
        "from skmultihead.datasets import make_social_media\n"
        "X, Y = make_social_media(100, random_state=0)\n"
        "est = MultiOutputNNClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, Y)\n"
        "est.predict(X); MultiOutputNNClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, Y)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KERAS_BACKEND": keras.backend.backend()})
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr[-2000:]


def test_a_network_whose_learning_rate_a_callback_lowered_trains_a_later_fit_at_its_own_rate(data):
    X, Y = data
    later = dict(QUICK, random_state=1, optimizer__learning_rate=5e-4)
    expected = MultiOutputNNClassifier(**later).fit(X, Y).loss_curve_
    POOL.clear()
    # ends at a learning rate of 5e-4 (halved after its second epoch), the rate the later fit asks for
    reduce = dict(callbacks=[keras.callbacks.ReduceLROnPlateau], callbacks__0__monitor="loss", callbacks__0__factor=0.5,
                  callbacks__0__patience=0, callbacks__0__min_delta=10.0)
    MultiOutputNNClassifier(**dict(QUICK, epochs=2), **reduce).fit(X, Y)
    gc.collect()
    np.testing.assert_allclose(MultiOutputNNClassifier(**later).fit(X, Y).loss_curve_, expected, rtol=1e-6)
