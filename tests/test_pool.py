"""Compiled networks are reused across fits of the same architecture, without changing results."""

import gc
import pickle

import keras
import numpy as np
import pytest

from skmultihead import MultiLabelNN, MultiOutputNNClassifier
from skmultihead._pool import POOL, ModelPool
from skmultihead.datasets import make_social_media, make_tagged_items

QUICK = dict(hidden_layer_sizes=(16,), dropout=0.1, epochs=3, random_state=0)


@pytest.fixture
def data():
    POOL.clear()
    yield make_social_media(300, random_state=0)
    POOL.clear()


def test_a_reused_network_trains_exactly_as_a_new_one(data):
    X, Y = data
    first = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    expected = first.predict_head_proba(X)["income"]
    network = first.model_
    del first
    gc.collect()
    assert len(POOL) == 1
    second = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    assert second.model_ is network and len(POOL) == 0
    np.testing.assert_array_equal(second.predict_head_proba(X)["income"], expected)
    # another seed on the same network: other initial weights, as a new network would have
    other = MultiOutputNNClassifier(**dict(QUICK, random_state=1)).fit(X, Y)
    assert not np.allclose(other.predict_head_proba(X)["income"], expected)


def test_refitting_gives_the_old_network_back(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    old = est.model_
    est.fit(X, Y)
    assert est.model_ is not old and len(POOL) == 1
    est.fit(X, Y)  # takes the old one, gives the last one back
    assert est.model_ is old and len(POOL) == 1


def test_a_failed_fit_keeps_its_network_and_leaks_none(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    network = est.model_
    with pytest.raises(ValueError, match="loss_weights names head 'agee'"):
        est.set_params(loss_weights={"agee": 1.0}).fit(X, Y)
    assert est.model_ is network and len(POOL) == 0


def test_other_architectures_and_loss_settings_do_not_share(data):
    X, Y = data
    Xm, Ym = make_tagged_items(200, n_features=8, n_labels=3, n_informative=3, random_state=0)
    MultiLabelNN(**QUICK).fit(Xm, Ym)
    gc.collect()
    assert len(POOL) == 1
    balanced = MultiLabelNN(class_weight="balanced", **QUICK).fit(Xm, Ym)  # its loss differs
    wider = MultiLabelNN(**dict(QUICK, hidden_layer_sizes=(32,))).fit(Xm, Ym)
    one_step = MultiLabelNN(steps_per_execution=1, **QUICK).fit(Xm, Ym)
    # "auto" is 1 under PyTorch only: elsewhere the idle network runs other steps per call
    assert len(POOL) == (0 if keras.backend.backend() == "torch" else 1)
    assert balanced.model_ is not wider.model_ and one_step.model_.steps_per_execution == 1


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
    networks = [MultiOutputNNClassifier(**dict(QUICK, hidden_layer_sizes=(n,))).fit(X, Y).model_ for n in (4, 5, 6)]
    for network in networks:
        pool.release(network)
    assert len(pool) == 2
