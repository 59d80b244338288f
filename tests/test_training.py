"""The training loop: the same training as Keras's fit, without retracing, with callbacks,
non-finite losses as errors, exploding ones as warnings, interrupts that stop the fit and
no global random state touched."""

import copy
import gc
import os
import random
import subprocess
import sys
import threading
import time
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import cross_val_score

from skmultihead import MultiLabelNN, MultiOutputNNClassifier, _training
from skmultihead._training import TRACES
from skmultihead.datasets import make_social_media, make_tagged_items

pytestmark = pytest.mark.backend  # run under every backend (scripts/test.sh)

QUICK = dict(hidden_layer_sizes=(16,), batch_size=32, epochs=3, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_social_media(300, random_state=0)


def _weights(estimator):
    return [keras.ops.convert_to_numpy(v.value) for v in estimator._network.trainable_variables]


class CountBatches(keras.callbacks.Callback):
    """Overrides a batch-level hook: the fit then runs through Keras's fit."""

    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


@pytest.mark.parametrize("estimator", ["multioutput", "multilabel"])
def test_one_epoch_of_the_loop_equals_one_epoch_of_keras_fit(data, estimator):
    if estimator == "multioutput":
        X, Y = data
        make = lambda **kw: MultiOutputNNClassifier(**dict(QUICK, shuffle=False, **kw))  # noqa: E731
    else:
        X, Y = make_tagged_items(300, n_features=8, n_labels=4, n_informative=3, random_state=0)
        make = lambda **kw: MultiLabelNN(**dict(QUICK, shuffle=False, head_layout="separate", **kw))  # noqa: E731
    weights = np.random.RandomState(1).uniform(0.2, 2.0, len(X))  # 300 rows: a last batch of 12
    loop = make(epochs=1).fit(X, Y, sample_weight=weights)
    keras_side = make().initialize(X, Y)  # the same initial weights, untrained
    network = keras_side._network
    columns = keras_side._split_targets(Y, reset=False)
    targets = keras_side._network_targets({n: h.encode(columns[n]) for n, h in keras_side.heads_.items()}, masks=None)
    history = network.fit(
        keras_side._model_inputs(np.asarray(X, "float64")), targets, sample_weight=weights.astype("float32"),
        batch_size=32, epochs=1, shuffle=False, verbose=0,
    )
    for ours, theirs in zip(_weights(loop), _weights(keras_side), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert set(loop.history_) == set(history.history)
    for name, values in history.history.items():
        assert loop.history_[name] == pytest.approx(values, rel=1e-5), name


def test_keras_fit_for_batch_callbacks_trains_on_the_same_batches(data):
    X, Y = data
    counter = CountBatches()
    loop = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    through_keras = MultiOutputNNClassifier(**dict(QUICK, callbacks=[counter])).fit(X, Y)
    assert counter.batches == 3 * 10  # 300 rows in batches of 32, 3 epochs
    for ours, theirs in zip(_weights(loop), _weights(through_keras), strict=True):  # shuffled alike
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert loop.history_.keys() == through_keras.history_.keys()


@pytest.mark.parametrize("jit_compile", [False, "auto"])
def test_no_new_trace_for_a_partial_batch_or_another_number_of_rows(data, jit_compile):
    # with XLA (TensorFlow) the rows are padded to a power of two, at least 1024 (MIN_PADDED_ROWS)
    X, Y = data
    quick = dict(QUICK, hidden_layer_sizes=(7,), validation_split=0.1, jit_compile=jit_compile)  # a new network
    est = MultiOutputNNClassifier(**quick).fit(X.iloc[:200], Y.iloc[:200])
    traces = dict(TRACES)
    est.fit(X.iloc[:257], Y.iloc[:257])
    assert dict(TRACES) == traces
    del est
    gc.collect()  # its network goes back to the pool, for the folds' clones
    cross_val_score(MultiOutputNNClassifier(**quick), X, Y, cv=3)  # 200 rows per fold
    assert dict(TRACES) == traces
    MultiOutputNNClassifier(**quick).fit(X, Y)  # 270 training rows: the same 1024 padded rows
    assert dict(TRACES) == traces
    MultiOutputNNClassifier(**quick).fit(pd.concat([X] * 4), pd.concat([Y] * 4))  # 1080 training rows
    if jit_compile == "auto" and keras.backend.backend() == "tensorflow":
        traces["train"] += 1  # padded to 2048, a new shape for XLA
    assert dict(TRACES) == traces


def test_shuffling_follows_random_state_and_changes_training(data):
    X, Y = data
    a = MultiOutputNNClassifier(**QUICK).fit(X, Y).predict_head_proba(X)["income"]
    b = MultiOutputNNClassifier(**QUICK).fit(X, Y).predict_head_proba(X)["income"]
    unshuffled = MultiOutputNNClassifier(**dict(QUICK, shuffle=False)).fit(X, Y).predict_head_proba(X)["income"]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, unshuffled, atol=1e-4)


def test_validation_data_gives_each_heads_validation_metrics(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK).fit(X.iloc[:200], Y.iloc[:200], validation_data=(X.iloc[200:], Y.iloc[200:]))
    heads = list(est.heads_)
    assert {f"val_{h}_loss" for h in heads} <= set(est.history_) and len(est.history_["val_loss"]) == 3
    # validating does not change training
    last = MultiOutputNNClassifier(**QUICK).fit(X.iloc[:200], Y.iloc[:200])
    assert est.history_["loss"] == pytest.approx(last.history_["loss"], rel=1e-6)


def test_early_stopping_restores_the_best_weights_and_predict_follows(data):
    X, Y = data
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0, restore_best_weights=True)
    est = MultiOutputNNClassifier(**dict(QUICK, epochs=20, validation_split=0.2, callbacks=[stop])).fit(X, Y)
    assert len(est.history_["loss"]) == 2 and stop.best_epoch == 0
    outputs = est.model_({"features": X.to_numpy("float32")})
    np.testing.assert_allclose(est.predict_head_proba(X)["income"], keras.ops.convert_to_numpy(outputs["income"]), atol=1e-5)


def test_reduce_lr_on_plateau_model_checkpoint_csv_logger_and_lambda(data, tmp_path):
    X, Y = data
    seen = []
    callbacks = [
        keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0),
        keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="loss"),
        keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(dict(logs))),
    ]
    est = MultiOutputNNClassifier(**dict(QUICK, callbacks=callbacks, optimizer__learning_rate=0.01)).fit(X, Y)
    # each epoch logs the rate it trained with, then the callback halves it (not after the first epoch)
    assert est.history_["learning_rate"] == pytest.approx([0.01, 0.01, 0.005])
    assert float(keras.ops.convert_to_numpy(est._network.optimizer.learning_rate)) == pytest.approx(0.0025)
    # the checkpoint holds the trained network (saved after every epoch: the last one's weights)
    saved = keras.saving.load_model(tmp_path / "best.keras")
    income = keras.ops.convert_to_numpy(saved({"features": X.to_numpy("float32")})["income"])
    np.testing.assert_allclose(income, est.predict_head_proba(X)["income"], atol=1e-5)
    logged = pd.read_csv(tmp_path / "log.csv")
    assert logged["loss"].tolist() == pytest.approx(est.history_["loss"])
    assert [logs["loss"] for logs in seen] == pytest.approx(est.history_["loss"])


def test_terminate_on_nan_runs_through_keras_fit_and_the_error_names_the_heads(data):
    X, Y = data
    est = MultiOutputNNClassifier(**dict(QUICK, optimizer__learning_rate=1e30, callbacks=[keras.callbacks.TerminateOnNaN()]))
    with pytest.raises(ValueError, match=r"training diverged in epoch 1: .*(loss = (nan|inf)|NaN or infinite).*learning rate"):
        est.fit(X * 1e20, Y)
    assert not hasattr(est, "model_")


def test_verbose_prints_one_line_per_epoch_with_each_heads_losses(data, capsys):
    X, Y = data
    est = MultiOutputNNClassifier(**dict(QUICK, verbose=1)).fit(X, Y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Epoch 1/3")
    assert all(f"{head}_loss: " in lines[-1] for head in est.heads_)


class Interrupt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt, as Ctrl-C would, at the end of epoch ``at``."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


class InterruptInKerasFit(Interrupt):
    def on_train_batch_end(self, batch, logs=None):  # a batch-level hook: Keras's fit
        pass


@pytest.mark.parametrize("interrupt", [Interrupt, InterruptInKerasFit], ids=["loop", "keras_fit"])
def test_a_keyboard_interrupt_stops_the_fit_and_leaves_a_new_estimator_unfitted(data, interrupt):
    X, Y = data
    est = MultiOutputNNClassifier(**dict(QUICK, callbacks=[interrupt(at=1)]))
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, Y)
    assert not hasattr(est, "history_")
    with pytest.raises(NotFittedError):
        est.predict(X)


@pytest.mark.parametrize("interrupt", [Interrupt, InterruptInKerasFit], ids=["loop", "keras_fit"])
def test_an_interrupted_refit_or_partial_fit_leaves_the_estimator_as_it_was(data, interrupt):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    history, proba = copy.deepcopy(est.history_), est.predict_head_proba(X)
    for at, refit in ((1, est.fit), (3, est.partial_fit)):  # partial_fit trains epoch 4 of the network
        est.set_params(callbacks=[interrupt(at=at)])
        with pytest.raises(KeyboardInterrupt):
            refit(X, Y)
        assert est.history_ == history
        for head, values in est.predict_head_proba(X).items():
            np.testing.assert_array_equal(values, proba[head])
    est.set_params(callbacks=None).partial_fit(X, Y)  # and it trains on from there
    assert len(est.history_["loss"]) == 4 and est.history_["loss"][:3] == history["loss"]


@pytest.mark.parametrize("callbacks", [[], [CountBatches()]], ids=["loop", "keras_fit"])
def test_a_loss_that_explodes_but_stays_finite_warns_naming_the_head(data, callbacks):
    X, Y = data
    exploding = MultiOutputNNClassifier(**dict(QUICK, optimizer__learning_rate=1e4, callbacks=callbacks))
    with pytest.warns(ConvergenceWarning, match=r"training diverged: .*the loss of head 'age' rose from [0-9.]+ to "
                      r"[0-9.]+e\+[0-9]+.*lower optimizer__learning_rate"):
        exploding.fit(X, Y)
    assert np.isfinite(exploding.history_["age_loss"]).all()
    with pytest.warns(ConvergenceWarning, match=r"training diverged: the loss rose from [0-9.]+ to [0-9.]+e\+"):
        exploding.fit(X, Y["age"])  # one output: its loss is the total loss
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MultiOutputNNClassifier(**dict(QUICK, callbacks=callbacks)).fit(X, Y)


def test_fit_leaves_the_global_random_generators_alone(data):
    X, Y = data
    np.random.seed(7)
    random.seed(7)
    expected = np.random.rand(200), random.random()
    drawn, fitting = [], threading.Event()

    def draw():
        fitting.wait()
        for _ in range(200):
            drawn.append(np.random.rand())
            time.sleep(0.002)

    np.random.seed(7)
    random.seed(7)
    thread = threading.Thread(target=draw)
    thread.start()
    fitting.set()
    MultiOutputNNClassifier(**dict(QUICK, epochs=5)).fit(X, Y)
    thread.join()
    np.testing.assert_array_equal(drawn, expected[0])
    assert random.random() == expected[1]


def test_a_custom_trunk_with_unseeded_layers_is_reproducible(data):
    X, Y = data

    def trunk(inputs):
        x = keras.layers.Dense(8, activation="relu")(inputs["features"])
        # Keras's PyTorch backend runs an unseeded Dropout on PyTorch's global generator
        return x if keras.backend.backend() == "torch" else keras.layers.Dropout(0.2)(x)

    a, b = (MultiOutputNNClassifier(**dict(QUICK, model=trunk)).fit(X, Y) for _ in range(2))
    np.testing.assert_array_equal(a.predict_head_proba(X)["income"], b.predict_head_proba(X)["income"])


def test_a_regression_target_beyond_float32_is_refused_before_training(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    expected, traces = est.predict(X), dict(TRACES)
    huge = Y.assign(age=Y["age"] * 1e300)
    with pytest.raises(ValueError, match=r"regression head 'age' holds values up to [0-9.]+e\+30[0-9], beyond .*float32"):
        est.fit(X, huge)
    pd.testing.assert_frame_equal(est.predict(X), expected)
    assert dict(TRACES) == traces


def test_the_same_random_state_gives_the_same_predictions_in_another_process(data, tmp_path):
    X, Y = data
    script = (
        "import sys, numpy as np\n"
        "from skmultihead import MultiOutputNNClassifier\n"
        "from skmultihead.datasets import make_social_media\n"
        "X, Y = make_social_media(300, random_state=0)\n"
        f"est = MultiOutputNNClassifier(**{dict(QUICK, dropout=0.2)!r}).fit(X, Y)\n"
        "np.save(sys.argv[1], est.predict_head_proba(X)['income'])\n"
    )
    path = tmp_path / "proba.npy"
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    here = MultiOutputNNClassifier(**dict(QUICK, dropout=0.2)).fit(X, Y).predict_head_proba(X)["income"]
    np.testing.assert_array_equal(np.load(path), here)


def test_batch_size_given_to_fit_or_routed_sets_the_batches(data):
    X, Y = data
    counters = CountBatches(), CountBatches()
    MultiOutputNNClassifier(**dict(QUICK, epochs=1, callbacks=[counters[0]])).fit(X, Y, batch_size=100)
    MultiOutputNNClassifier(**dict(QUICK, epochs=1, callbacks=[counters[1]], fit__batch_size=150)).fit(X, Y)
    assert [c.batches for c in counters] == [3, 2]
    with pytest.raises(TypeError, match="unknown fit setting 'class_weights'. Did you mean 'class_weight'"):
        MultiOutputNNClassifier(**QUICK).fit(X, Y, class_weights={0: 1.0})


def test_batch_normalization_trains_as_with_keras_fit(data):
    X, Y = data

    def trunk(inputs):
        return keras.layers.BatchNormalization()(keras.layers.Dense(8, activation="relu")(inputs["features"]))

    counter = CountBatches()  # forces Keras's fit
    loop = MultiOutputNNClassifier(**dict(QUICK, model=trunk)).fit(X, Y)
    through_keras = MultiOutputNNClassifier(**dict(QUICK, model=trunk, callbacks=[counter])).fit(X, Y)
    for ours, theirs in zip(_weights(loop), _weights(through_keras), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    moving = [keras.ops.convert_to_numpy(v.value) for v in loop._network.non_trainable_variables if "moving" in v.path]
    expected = [keras.ops.convert_to_numpy(v.value) for v in through_keras._network.non_trainable_variables
                if "moving" in v.path]
    for ours, theirs in zip(moving, expected, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_class_weight_weighs_each_heads_rows_by_class(data):
    X, Y = data
    plain = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    weighted = MultiOutputNNClassifier(**QUICK).fit(X, Y, class_weight={"gender": {"f": 5.0, "m": 1.0}})
    recall_f = [np.mean(est.predict(X)["gender"][Y["gender"] == "f"] == "f") for est in (plain, weighted)]
    assert recall_f[1] > recall_f[0]
    # the same as weighing gender's loss by hand: equal to sample weights when gender is the only head
    gender = Y["gender"].to_numpy()
    by_class = MultiOutputNNClassifier(**QUICK).fit(X, gender, class_weight={"f": 5.0, "m": 1.0})
    by_sample = MultiOutputNNClassifier(**QUICK).fit(X, gender, sample_weight=np.where(gender == "f", 5.0, 1.0))
    np.testing.assert_allclose(by_class.predict_proba(X), by_sample.predict_proba(X), atol=1e-6)
    # per-output weights train alike in the loop and in Keras's fit over the same batches (SGD: Keras's
    # update on both paths, where TensorFlow's loop updates plain Adam with the fused kernel)
    per_head = {"income": {"i1": 3.0}, "gender": {"f": 2.0}}
    sgd = dict(QUICK, optimizer="sgd", optimizer__learning_rate=0.1)
    loop = MultiOutputNNClassifier(**sgd).fit(X, Y, class_weight=per_head)
    through_keras = MultiOutputNNClassifier(**dict(sgd, callbacks=[CountBatches()])).fit(X, Y, class_weight=per_head)
    for ours, theirs in zip(_weights(loop), _weights(through_keras), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    unweighted = MultiOutputNNClassifier(**sgd).fit(X, Y)
    assert not np.allclose(loop.predict_head_proba(X)["income"], unweighted.predict_head_proba(X)["income"], atol=1e-3)
    # "balanced" weighs each class by n_samples / (n_classes * its count): income in uneven tiers
    # (the ten deciles are even, where "balanced" weighs every class 1)
    income = np.where(Y["income"].isin(["i0", "i1", "i2"]), "low", np.where(Y["income"] == "i9", "top", "mid"))
    tiers = Y.assign(income=income)  # 90 low, 180 mid, 30 top
    by_hand = {label: len(income) / (3 * np.sum(income == label)) for label in ("low", "mid", "top")}
    balanced = MultiOutputNNClassifier(**QUICK).fit(X, tiers, class_weight={"income": "balanced"})
    weighed_by_hand = MultiOutputNNClassifier(**QUICK).fit(X, tiers, class_weight={"income": by_hand})
    np.testing.assert_allclose(
        balanced.predict_head_proba(X)["income"], weighed_by_hand.predict_head_proba(X)["income"], atol=1e-6
    )
    # with a validation split too: validated per head, and trained otherwise than without weights
    split = dict(QUICK, validation_split=0.2)
    balanced = MultiOutputNNClassifier(**split).fit(X, tiers, class_weight={"income": "balanced"})
    assert "val_income_loss" in balanced.history_
    unweighted = MultiOutputNNClassifier(**split).fit(X, tiers)
    assert not np.allclose(balanced.predict_head_proba(X)["income"], unweighted.predict_head_proba(X)["income"], atol=1e-3)
    # "balanced" counts the training rows only (the last 20% validate), and as in Keras the
    # validation loss is not class-weighted
    training = income[: int(len(income) * 0.8)]
    by_hand = {label: len(training) / (3 * np.sum(training == label)) for label in ("low", "mid", "top")}
    weighed_by_hand = MultiOutputNNClassifier(**split).fit(X, tiers, class_weight={"income": by_hand})
    np.testing.assert_allclose(
        balanced.predict_head_proba(X)["income"], weighed_by_hand.predict_head_proba(X)["income"], atol=1e-6
    )
    start = len(income) - len(income) // 5  # the validation rows
    x_val, targets = balanced._validation_arrays(X.iloc[start:], tiers.iloc[start:])[:2]
    unweighted_loss = balanced._network.evaluate(x_val, targets, batch_size=len(income), verbose=0, return_dict=True)
    assert balanced.history_["val_loss"][-1] == pytest.approx(unweighted_loss["loss"], rel=1e-5)
    with pytest.raises(ValueError, match=r"class_weight names head 'age', which is regression"):
        MultiOutputNNClassifier(**QUICK).fit(X, Y, class_weight={"age": {1: 2.0}})
    with pytest.raises(ValueError, match=r"class_weight must be \{head: .* 2 binary or multiclass heads"):
        MultiOutputNNClassifier(**QUICK).fit(X, Y, class_weight="balanced")


def test_other_loss_weights_reuse_the_train_step_and_train_as_compiled_constants(data):
    X, Y = data
    weights = {"age": 0.25, "gender": 3.0, "income": 0.0}
    make = lambda **kw: MultiOutputNNClassifier(**dict(QUICK, shuffle=False, **kw))  # noqa: E731
    make(loss_weights={"gender": 0.5}).fit(X, Y)
    traces = dict(TRACES)
    ours = make(loss_weights=weights).fit(X, Y)
    assert dict(TRACES) == traces  # the network and its train step of the first fit, weights as values
    start = make(loss_weights=weights).initialize(X, Y)._network  # the same initial weights
    twin = keras.models.clone_model(start)
    twin.set_weights(start.get_weights())
    twin.compile(optimizer=keras.optimizers.Adam(), loss=dict(start.loss), loss_weights=weights)  # constants
    columns = ours._split_targets(Y, reset=False)
    targets = {n: h.encode(columns[n]) for n, h in ours.heads_.items()}
    history = twin.fit(ours._model_inputs(np.asarray(X, "float64")), targets, batch_size=32, epochs=3, shuffle=False,
                       verbose=0)
    for mine, theirs in zip(_weights(ours), [keras.ops.convert_to_numpy(v) for v in twin.trainable_variables],
                            strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    for name, values in history.history.items():  # each head's unweighted loss; the weighted total
        assert ours.history_[name] == pytest.approx(values, rel=1e-5), name
    assert ours.history_["income_loss"][-1] > 0  # weighed 0, still computed and recorded


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_lean_tensorflow_step_trains_as_keras_train_step(data, optimizer, jit_compile, monkeypatch):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the lean step is TensorFlow's")
    from skmultihead import _engines
    from skmultihead._pool import POOL

    X, Y = data
    params = dict(QUICK, hidden_layer_sizes=(13,), optimizer=optimizer, optimizer__momentum=0.9) if optimizer == "sgd" \
        else dict(QUICK, hidden_layer_sizes=(13,))
    runs = {}
    for keras_step in (True, False):
        monkeypatch.setattr(_engines, "KERAS_TRAIN_STEP", keras_step)
        POOL.clear()  # a new network: its engine chooses the step
        fit_params = dict(params, jit_compile=jit_compile and not keras_step)
        runs[keras_step] = MultiOutputNNClassifier(**fit_params).fit(X, Y, sample_weight=np.linspace(0.5, 2.0, len(X)))
    # SGD updates through Keras's optimizer: the same weights (XLA fuses the arithmetic: a float32 rounding
    # apart). Adam's fused update is Keras's formula, but 1 - beta_1 is rounded in float32 by TensorFlow's
    # kernel (1 - 0.9f), by Keras in float64. 300 rows: a partial last batch, padded under XLA
    tolerance = (1e-6 if jit_compile else 0.0) if optimizer == "sgd" else 1e-4
    for ours, theirs in zip(_weights(runs[False]), _weights(runs[True]), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=tolerance)
    assert runs[False].history_.keys() == runs[True].history_.keys()
    for name, values in runs[True].history_.items():  # metrics updated once per epoch, on every batch's predictions
        assert runs[False].history_[name] == pytest.approx(values, rel=1e-5 if optimizer == "sgd" else 1e-3), name


def test_the_xla_epoch_trains_as_the_graph_epoch(data):
    # padded last batches (270 training rows, batch 32; 30 validation rows), missing labels (masked
    # losses), per-output weights (class_weight), validation and metrics: the same training
    if keras.backend.backend() != "tensorflow":
        pytest.skip("XLA epochs are TensorFlow's (JAX's engine pads its batches as well)")
    X, Y = data
    Y = Y.astype(object)
    Y.iloc[::3, Y.columns.get_loc("age")] = np.nan
    Y.iloc[1::4, Y.columns.get_loc("income")] = None
    params = dict(QUICK, hidden_layer_sizes=(11,), optimizer="sgd", optimizer__learning_rate=0.05,
                  missing_targets="mask", validation_split=0.1)
    runs = {jit: MultiOutputNNClassifier(**params, jit_compile=jit).fit(X, Y, class_weight={"gender": {"f": 3.0}})
            for jit in (True, False)}
    for ours, theirs in zip(_weights(runs[True]), _weights(runs[False]), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)  # XLA fuses the arithmetic: roundings apart
    assert runs[True].history_.keys() == runs[False].history_.keys()
    assert "val_gender_accuracy" in runs[True].history_
    for name, values in runs[False].history_.items():
        assert runs[True].history_[name] == pytest.approx(values, rel=1e-5), name


def test_the_xla_epoch_gives_the_first_batchs_logs_in_the_same_call(data, monkeypatch):
    # the divergence check compares the last epoch with the first batch: XLA returns its logs from
    # the epoch's one call, the graph epoch trains the first batch in a call of its own
    if keras.backend.backend() != "tensorflow":
        pytest.skip("XLA epochs are TensorFlow's")
    X, Y = data
    starts, train_epoch = {}, _training._Loop._train_epoch

    def spy(loop, order):
        logs = train_epoch(loop, order)
        starts.setdefault(loop.engine.xla, dict(loop.start))
        return logs

    monkeypatch.setattr(_training._Loop, "_train_epoch", spy)
    for jit_compile in (True, False):
        MultiOutputNNClassifier(**dict(QUICK, hidden_layer_sizes=(9,), optimizer="sgd", jit_compile=jit_compile)).fit(X, Y)
    assert set(starts[True]) == set(starts[False]) >= {"loss", "age_loss", "income_accuracy"}
    assert starts[True] == pytest.approx(starts[False], rel=1e-6)


def test_jit_compile_true_names_what_xla_cannot_compile(data):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("jit_compile chooses TensorFlow's engine")
    X, Y = data

    def normalized(inputs):
        return keras.layers.Dense(8, activation="relu")(keras.layers.BatchNormalization()(inputs["features"]))

    with pytest.raises(ValueError, match="jit_compile=True, but .* BatchNormalization layer's batch statistics"):
        MultiOutputNNClassifier(**dict(QUICK, model=normalized, jit_compile=True)).fit(X, Y)
    auto = MultiOutputNNClassifier(**dict(QUICK, model=normalized)).fit(X, Y)  # "auto": the graph epoch
    assert auto.score(X, Y) > 0


def test_op_determinism_keeps_the_graph_epoch():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("jit_compile chooses TensorFlow's engine")
    # enabling op determinism cannot be undone in a process: a new one
    code = (
        "import numpy as np, tensorflow as tf, pytest\n"
        "from skmultihead import MultiOutputNNClassifier\n"
        "from skmultihead.datasets import make_social_media\n"
        "tf.config.experimental.enable_op_determinism()\n"
        "X, Y = make_social_media(60, random_state=0)\n"
        "with pytest.raises(ValueError, match=\"jit_compile=True, but .* op determinism is enabled\"):\n"
        "    MultiOutputNNClassifier(hidden_layer_sizes=(4,), epochs=1, jit_compile=True).fit(X, Y)\n"
        "est = MultiOutputNNClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, Y)\n"
        "from skmultihead._engines import uses_xla\n"
        "assert not uses_xla(est.model_, 'auto')  # auto: the graph epoch\n"
    )
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def test_fused_adam_is_keras_adams_update():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the fused update is TensorFlow's")
    import tensorflow as tf

    from skmultihead._tf_step import fused_adam

    rng = np.random.RandomState(0)
    start = [rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=3).astype("float32")]
    grads = [[tf.constant(rng.normal(size=w.shape).astype("float32")) for w in start] for _ in range(3)]
    results = []
    for fused in (True, False):
        variables = [keras.Variable(w) for w in start]
        optimizer = keras.optimizers.Adam(learning_rate=0.01)
        optimizer.build(variables)
        apply = fused_adam(optimizer, variables) if fused else None
        for g in grads:
            apply(g, variables) if fused else optimizer.apply(g, variables)
        results.append(([v.numpy() for v in variables], int(optimizer.iterations.numpy())))
    for ours, theirs in zip(results[0][0], results[1][0], strict=True):  # a float32 rounding or two apart
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=5e-7)
    assert results[0][1] == results[1][1] == 3
    assert fused_adam(keras.optimizers.Adam(weight_decay=0.1), variables) is None  # extras: Keras's update
    assert fused_adam(keras.optimizers.Adam(clipnorm=1.0), variables) is None
    assert fused_adam(keras.optimizers.SGD(), variables) is None


def test_initial_weights_are_drawn_by_numpy_from_the_seed_alike_on_every_backend(data):
    X, Y = data
    network = MultiOutputNNClassifier(**QUICK).initialize(X, Y)._network
    kernels = [layer for layer in network.layers if isinstance(layer, keras.layers.Dense)]
    assert kernels
    for layer in kernels:
        initializer = layer.kernel_initializer
        fan_in, fan_out = layer.kernel.shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))  # Glorot's uniform limit
        expected = np.random.default_rng(initializer.seed).uniform(-limit, limit, (fan_in, fan_out)).astype("float32")
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.kernel), expected)
    first = [keras.ops.convert_to_numpy(v) for v in network.trainable_variables]
    again = MultiOutputNNClassifier(**QUICK).initialize(X, Y)._network
    for ours, theirs in zip(first, again.trainable_variables, strict=True):
        np.testing.assert_array_equal(ours, keras.ops.convert_to_numpy(theirs))
