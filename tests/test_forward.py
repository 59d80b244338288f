"""The numpy predict path gives what the Keras model gives."""

from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest

from skmultihead import FactoredLabelNN, Head, MultiLabelNN, MultiOutputNNClassifier
from skmultihead import _forward
from skmultihead._forward import Forward, forward_plan
from skmultihead._pool import copy_values
from skmultihead.datasets import make_distance_size, make_social_media, make_tagged_items

pytestmark = pytest.mark.backend  # run under every backend (scripts/test.sh)

QUICK = dict(hidden_layer_sizes=(16, 8), dropout=0.1, epochs=2, random_state=0)


def _keras_outputs(est, X):
    outputs = est.model_({"features": np.asarray(X, dtype="float32")}, training=False)
    return {name: keras.ops.convert_to_numpy(output) for name, output in outputs.items()}


def _fitted_estimators():
    X, Y = make_social_media(300, random_state=0)
    yield MultiOutputNNClassifier(heads={"age": Head("regression", units=(4,))}, **QUICK).fit(X, Y), X
    aux = {"aux": {"target": "income"}}
    yield MultiOutputNNClassifier(ensemble_size=3, aux_heads=aux, **QUICK).fit(X, Y), X  # members, aux outputs
    Xm, Ym = make_tagged_items(300, n_features=12, n_labels=4, n_informative=4, random_state=0)
    for layout in ("dense", "separate", "per_label_hidden"):
        yield MultiLabelNN(layout, **QUICK).fit(Xm, Ym), Xm
    Xf, yf = make_distance_size(300, random_state=0)
    features = {"factor_0": ["parallax", "haze"], "factor_1": ["width", "height"]}
    yield FactoredLabelNN("-", factor_features=features, **QUICK).fit(Xf, yf), Xf
    yield FactoredLabelNN("-", factor_features=features, shared_trunk=False, **QUICK).fit(Xf, yf), Xf


def numpy_forward(model):
    plan = forward_plan(model)
    return None if plan is None else Forward(plan, copy_values(model.variables))


def test_numpy_forward_matches_the_keras_model():
    for est, X in _fitted_estimators():
        forward = numpy_forward(est.model_)
        assert forward is not None, type(est).__name__
        ours = forward({"features": np.asarray(X, dtype="float32")})
        for name, expected in _keras_outputs(est, X).items():
            np.testing.assert_allclose(ours[name], expected, rtol=1e-5, atol=1e-6, err_msg=name)


def test_an_embedding_branch_averaging_its_tokens_runs_in_numpy():
    from skmultihead import DenseBranch, EmbeddingBranch
    from skmultihead.datasets import make_headlines

    X, Y = make_headlines(150, max_words=8, random_state=0)
    X.iloc[:5, 3:8] = 0  # shorter headlines: padding the average leaves out
    branches = {"headline": EmbeddingBranch(1000, 4), "remainder": DenseBranch((4,))}
    inputs = {"headline": [f"tok_{i}" for i in range(8)]}
    est = MultiOutputNNClassifier(inputs=inputs, remainder="passthrough", branches=branches, **QUICK).fit(X, Y)
    forward = numpy_forward(est.model_)
    assert forward is not None
    for dtype in ("float32", "float64"):
        arrays = est._model_inputs(np.asarray(X, dtype=dtype))
        ours, expected = forward(arrays), est.model_.predict(arrays, verbose=0)
        for name in expected:
            np.testing.assert_allclose(ours[name], expected[name], rtol=1e-5, atol=1e-6, err_msg=name)
    gru = MultiOutputNNClassifier(
        inputs=inputs, remainder="passthrough", **dict(QUICK, epochs=1),
        branches={**branches, "headline": EmbeddingBranch(1000, 4, encoder="gru", units=4)},
    ).fit(X, Y)
    assert numpy_forward(gru.model_) is None  # a recurrent encoder keeps the Keras call


def test_a_layer_numpy_does_not_run_keeps_the_keras_call():
    X, Y = make_social_media(200, random_state=0)
    est = MultiOutputNNClassifier(activation="gelu", **QUICK).fit(X, Y)
    assert numpy_forward(est.model_) is None
    expected = _keras_outputs(est, X)["income"]
    np.testing.assert_allclose(est.predict_head_proba(X)["income"], expected / expected.sum(1, keepdims=True), rtol=1e-6)


def test_refit_and_warm_start_rebuild_the_numpy_weights():
    X, Y = make_social_media(200, random_state=0)
    est = MultiOutputNNClassifier(warm_start=True, **QUICK).fit(X, Y)
    before = est.predict_head_proba(X)["income"]
    est.fit(X, Y)  # trains further: the numpy path must see the new weights
    after = est.predict_head_proba(X)["income"]
    assert not np.allclose(before, after)
    expected = _keras_outputs(est, X)["income"]
    np.testing.assert_allclose(after, expected / expected.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("rows", [1, 3, 50])
def test_a_row_gets_the_same_prediction_in_any_batch(rows):
    X, Y = make_social_media(200, random_state=0)
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    alone = np.vstack([est.predict_head_proba(X[i : i + 1])["income"] for i in range(rows)])
    np.testing.assert_allclose(alone, est.predict_head_proba(X[:rows])["income"], rtol=1e-12)


def test_chunks_reused_buffers_and_threads_keep_every_call_separate(monkeypatch):
    monkeypatch.setattr(_forward, "CHUNK_ROWS", 64)
    X, Y = make_tagged_items(300, n_features=12, n_labels=4, n_informative=4, random_state=0)
    est = MultiLabelNN("separate", **QUICK).fit(X, Y)  # Dense and PerLabelDense layers
    forward = numpy_forward(est.model_)
    expected = _keras_outputs(est, X)["labels"]
    X = np.asarray(X, dtype=np.float64)  # buffers of its own precision

    def labels(rows):
        return forward({"features": X[rows]})["labels"]

    one_chunk, chunks = labels(slice(0, 40)), labels(slice(0, 200))  # 200 rows: chunks of 64, 64, 64, 8
    labels(slice(200, 203)), labels(slice(0, 300))  # other row counts write into the same buffers
    np.testing.assert_allclose(one_chunk, expected[:40], rtol=1e-5, atol=1e-6)  # what a call returned stays
    np.testing.assert_allclose(chunks, expected[:200], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(labels(slice(0, 300)), expected, rtol=1e-5, atol=1e-6)
    blocks = [slice(start, start + 50) for start in range(0, 300, 50)] * 5
    with ThreadPoolExecutor(4) as pool:
        for rows, got in zip(blocks, pool.map(labels, blocks)):
            np.testing.assert_allclose(got, expected[rows], rtol=1e-5, atol=1e-6)


def test_predictions_follow_weights_set_on_model_(tmp_path):
    X, Y = make_social_media(200, random_state=0)
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    other = MultiOutputNNClassifier(**dict(QUICK, random_state=1)).fit(X, Y)
    before = est.predict_head_proba(X)["income"]
    est.model_.set_weights(other.model_.get_weights())
    np.testing.assert_allclose(est.predict_head_proba(X)["income"], other.predict_head_proba(X)["income"], rtol=1e-6)
    assert not np.allclose(est.predict_head_proba(X)["income"], before)
    path = tmp_path / "first.weights.h5"
    MultiOutputNNClassifier(**QUICK).fit(X, Y).model_.save_weights(path)
    est.model_.load_weights(path)
    np.testing.assert_allclose(est.predict_head_proba(X)["income"], before, rtol=1e-6)
    expected = _keras_outputs(est, X)["income"]
    np.testing.assert_allclose(est.predict_head_proba(X)["income"], expected / expected.sum(1, keepdims=True), rtol=1e-5)
