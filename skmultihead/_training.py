"""Training: the network's own train step, a whole epoch per call of one compiled function.

Keras's generic ``Model.fit`` wraps every call of the train step in a data pipeline, an
epoch iterator and the callback machinery; on small in-memory data that costs far more
than the arithmetic. Here the compiled train step (the network's per-head losses, loss
weights and metrics, as compiled) runs over in-memory arrays for a whole epoch per call:

- TensorFlow: one ``tf.function`` loops over the epoch's batches and calls
  ``model.train_step``; the number of rows and the batch size are inputs to it, so a
  partial last batch, a new number of rows or another batch size reuse the same trace.
- JAX: one jitted function runs up to ``steps_per_call`` batches of a fixed shape through
  Keras's stateless pieces (``compute_loss_and_updates``, ``optimizer.stateless_apply``,
  ``compute_metrics``). A partial last batch is padded to the full batch size: padded rows
  weigh 0, and the real rows' loss weights are scaled by ``batch_size / rows`` so the loss
  and its gradient are exactly those of the unpadded batch (Keras divides a batch's loss by
  its number of rows); the loss trackers are weighted by the real rows, as in Keras.
  Shapes never change, so nothing is compiled again (fewer rows than a batch are one
  padded batch). (Dropout in that last batch draws
  other masks than Keras's would. A network with BatchNormalization, whose batch
  statistics the padded rows would change, trains through Keras's ``fit``.)
- PyTorch: a Python loop calls ``model.train_step`` on each batch (Keras compiles nothing
  there; the loop saves ``fit``'s per-batch iterator and callback work).

Under an active Keras distribution (``keras.distribution``, JAX only; `check_distribution`),
the network's variables are laid out by it when built, and the JAX engine splits each
batch across the devices of its batch dimension: XLA then sums the gradients across them.

Epochs, shuffling (from the caller's generator; nothing global is touched), validation,
``history``, epoch-level callbacks and non-finite losses are handled here. Callbacks that
override a batch-level hook need Keras's ``fit`` (see `needs_keras_fit`); it then runs
over the same batches in the same order, so training is the same.
"""

import collections
import math
import time
import warnings
import weakref

import keras
import numpy as np

TRACES = collections.Counter()  # compiled functions traced, by kind: tests count them
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")
_ENGINES = weakref.WeakKeyDictionary()  # model -> {key: engine}


class NonFiniteLoss(ValueError):
    """A loss became NaN or infinite during training."""


def check_distribution():
    """The active Keras distribution (None if none), checked: it trains on the JAX backend only."""
    distribution = keras.distribution.distribution()
    if distribution is not None and keras.backend.backend() != "jax":
        raise ValueError(
            f"a Keras distribution ({type(distribution).__name__}) is active, but it trains on the JAX backend "
            f"only and the backend is {keras.backend.backend()!r}: set KERAS_BACKEND=jax, or fit outside the "
            "distribution's scope."
        )
    return distribution


def needs_keras_fit(callbacks):
    """Whether a callback overrides a batch-level hook (only Keras's ``fit`` calls them)."""
    base = keras.callbacks.Callback
    return any(getattr(type(c), hook) is not getattr(base, hook) for c in callbacks for hook in _BATCH_HOOKS)


def split_validation(arrays, validation_split):
    """(training rows, validation rows) of ``arrays``: the last ``validation_split`` of the
    rows, unshuffled, as Keras's ``validation_split`` takes them."""
    n = n_rows(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    return [_take(a, slice(0, split_at)) for a in arrays], [_take(a, slice(split_at, n)) for a in arrays]


def n_rows(x):
    """Number of rows of ``{name: array}``."""
    return len(next(iter(x.values())))


def _take(structure, rows):
    if isinstance(structure, dict):
        return {k: v[rows] for k, v in structure.items()}
    return structure[rows]


def train(
    model,
    x,
    y,
    weights,
    *,
    epochs,
    initial_epoch=0,
    batch_size,
    shuffle=True,
    rng,
    validation=None,
    validation_batch_size=None,
    validation_freq=1,
    callbacks=(),
    verbose=0,
    steps_per_call=64,
    keras_fit=False,
):
    """Train ``model`` for epochs ``initial_epoch .. epochs - 1``; return the epoch logs.

    Parameters
    ----------
    model : keras.Model
        Compiled.
    x, y : dict of str to ndarray
        Inputs and targets by name, one row per sample.
    weights : ndarray of shape (n_samples,) or dict of str to ndarray
        Weight of each row in every loss and weighted metric, or in each output's.
    rng : numpy.random.RandomState
        Draws each epoch's order of the rows when ``shuffle``.
    validation : tuple (x, y, weights), optional
        Evaluated after the epochs ``validation_freq`` selects; logged with ``val_``.
    callbacks : sequence of keras.callbacks.Callback
        Called at train and epoch begin and end.
    steps_per_call : int
        Batches per call of the compiled function (JAX; TensorFlow runs a whole epoch).
    keras_fit : bool
        Run Keras's ``fit`` over the same batches instead (for batch-level callbacks).

    Returns
    -------
    dict of str to list of float
        Each logged loss and metric per epoch, as Keras's ``History`` records them.

    Raises
    ------
    NonFiniteLoss
        When a loss becomes NaN or infinite; training stops after that epoch.
    """
    if isinstance(weights, dict) and validation is not None and not isinstance(validation[2], dict):
        # the same structure as in training
        validation = (*validation[:2], {name: validation[2] for name in weights})
    batches = _Batches(x, y, weights, batch_size, shuffle, rng)
    if keras_fit or _batch_statistics_on_jax(model):
        return _keras_fit(model, batches, epochs, initial_epoch, validation, validation_batch_size,
                          validation_freq, callbacks, verbose)
    engine = _engine(model, x, y, weights, batch_size, steps_per_call)
    loop = _Loop(model, engine, engine.prepare(x, y, weights), batches, callbacks, verbose, epochs)
    if validation is not None:
        val_batch_size = validation_batch_size or batch_size
        val_engine = _engine(model, *validation, val_batch_size, steps_per_call)
        loop.validate_with(val_engine, val_engine.prepare(*validation), val_batch_size, validation_freq)
    return loop.run(initial_epoch, epochs)


class _Loop:
    """Epochs of an engine over the training rows: validation, callbacks, history, checks."""

    def __init__(self, model, engine, data, batches, callbacks, verbose, epochs):
        self.model, self.engine, self.data, self.batches, self.verbose = model, engine, data, batches, verbose
        steps = math.ceil(n_rows(batches.x) / batches.batch_size)
        self.callbacks = keras.callbacks.CallbackList(list(callbacks), model=model, epochs=epochs, steps=steps,
                                                      verbose=verbose)
        self.validation = None
        self.history = {}

    def validate_with(self, engine, data, batch_size, freq):
        self.validation = engine, data, batch_size, freq

    def run(self, initial_epoch, epochs):
        model, logs, epoch = self.model, None, initial_epoch
        model.stop_training = False
        self.callbacks.on_train_begin()
        try:
            for epoch in range(initial_epoch, epochs):
                logs = self._epoch(epoch, epochs)
                if model.stop_training:
                    break
        except KeyboardInterrupt:
            warnings.warn(
                f"training interrupted in epoch {epoch + 1} of {epochs}; the network keeps the weights it had "
                "then, and history_ the epochs that finished.",
                UserWarning,
                stacklevel=3,
            )
        model.optimizer.finalize_variable_values(model.trainable_weights)
        self.callbacks.on_train_end(logs=logs)
        return self.history

    def _epoch(self, epoch, epochs):
        start = time.perf_counter()
        self.callbacks.on_epoch_begin(epoch)
        try:
            logs = self.engine.train_epoch(self.data, self.batches.order(), self.batches.batch_size)
        except RuntimeError as error:  # PyTorch's losses refuse NaN predictions
            variables = self.model.trainable_variables
            if all(np.isfinite(keras.ops.convert_to_numpy(v.value)).all() for v in variables):
                raise
            raise NonFiniteLoss(_diverged(epoch, f"the weights became NaN or infinite ({error})")) from error
        if self.validation is not None and _should_eval(epoch, self.validation[3]):
            engine, data, batch_size, _ = self.validation
            logs.update({f"val_{name}": value for name, value in engine.evaluate(data, batch_size).items()})
        self.callbacks.on_epoch_end(epoch, logs)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))
        if self.verbose:
            _print_epoch(epoch, epochs, time.perf_counter() - start, logs)
        check_finite(logs, epoch)
        return logs


def check_finite(logs, epoch):
    """Raise `NonFiniteLoss` naming the losses of ``logs`` that are NaN or infinite."""
    bad = [name for name, value in logs.items() if name.endswith("loss") and not np.isfinite(value)]
    if bad:
        raise NonFiniteLoss(_diverged(epoch, ", ".join(f"{b} = {logs[b]}" for b in bad)))


def _diverged(epoch, what):
    return (
        f"training diverged in epoch {epoch + 1}: {what}. Likely causes: a learning rate too high "
        "(lower optimizer__learning_rate), unscaled inputs (scale X, e.g. with StandardScaler), or "
        "targets of very large values."
    )


def _batch_statistics_on_jax(model):
    return keras.backend.backend() == "jax" and any(
        isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers
    )


def _should_eval(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


def _print_epoch(epoch, epochs, seconds, logs):
    values = " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())
    print(f"Epoch {epoch + 1}/{epochs} - {seconds:.2f}s - {values}", flush=True)


class _Batches:
    """The training rows, and each epoch's order of them."""

    def __init__(self, x, y, weights, batch_size, shuffle, rng):
        self.x, self.y, self.weights = x, y, weights
        self.batch_size, self.shuffle, self.rng = batch_size, shuffle, rng

    def order(self):
        n = n_rows(self.x)
        return self.rng.permutation(n) if self.shuffle else np.arange(n)


def _engine(model, x, y, weights, batch_size, steps_per_call):
    """The compiled functions of ``model`` for data shaped as ``x``, ``y`` and ``weights``
    (cached; on JAX also by batch size, which fixes the compiled shapes)."""
    from ._pool import distribution_key

    backend = keras.backend.backend()
    signature = tuple(
        (kind, name, a.shape[1:], str(a.dtype)) for kind, d in (("x", x), ("y", y)) for name, a in sorted(d.items())
    )
    key = (backend, batch_size if backend == "jax" else None, steps_per_call, signature,
           tuple(sorted(weights)) if isinstance(weights, dict) else None, distribution_key())
    engines = _ENGINES.setdefault(model, {})
    if key not in engines:
        _build_for_training(model, x, y, weights)
        engine_class = {"tensorflow": _TensorFlowEngine, "jax": _JaxEngine, "torch": _TorchEngine}[backend]
        engines[key] = engine_class(model, batch_size, steps_per_call)
    return engines[key]


def _build_for_training(model, x, y, weights):
    """Create the optimizer's and the compiled metrics' variables, as ``fit`` does first."""
    first = _take(x, slice(0, 1)), _take(y, slice(0, 1)), _float32(_take(weights, slice(0, 1)))
    model._symbolic_build(data_batch=first)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


class _TensorFlowEngine:
    """One ``tf.function`` per epoch, looping over batches gathered in the given order
    (any number of rows and batch size: one trace)."""

    def __init__(self, model, batch_size, steps_per_call):
        import tensorflow as tf

        self.model, self._tf = model, tf
        self._train = self._test = None

    def prepare(self, x, y, weights):
        tf = self._tf
        data = tf.nest.map_structure(tf.convert_to_tensor, (x, y, _float32(weights)))
        if self._train is None:
            spec = tf.nest.map_structure(lambda t: tf.TensorSpec((None, *t.shape[1:]), t.dtype), data)
            signature = [spec, tf.TensorSpec((None,), tf.int32), tf.TensorSpec((), tf.int32)]
            self._train = tf.function(self._epoch_function(self.model.train_step, "train"), input_signature=signature)
            self._test = tf.function(self._epoch_function(self.model.test_step, "test"), input_signature=signature)
        return data

    def _epoch_function(self, step, kind):
        tf, model = self._tf, self.model

        @tf.autograph.experimental.do_not_convert
        def run(data, order, batch_size):
            TRACES[kind] += 1
            for metric in model.metrics:
                metric.reset_state()
            n = tf.shape(order)[0]

            def body(i):
                rows = order[i * batch_size : tf.minimum((i + 1) * batch_size, n)]
                step(tf.nest.map_structure(lambda a: tf.gather(a, rows), data))
                return (i + 1,)

            tf.while_loop(lambda i: i * batch_size < n, body, (tf.constant(0),))
            return model.get_metrics_result()

        return run

    def train_epoch(self, data, order, batch_size):
        return _floats(self._train(data, self._tf.constant(order, "int32"), self._tf.constant(batch_size, "int32")))

    def evaluate(self, data, batch_size):
        tf = self._tf
        return _floats(self._test(data, tf.range(tf.shape(next(iter(data[0].values())))[0]), tf.constant(batch_size)))


class _JaxEngine:
    """A jitted function runs up to ``steps_per_call`` batches of fixed shape (see the
    module docstring for the padded last batch); the state lives outside the variables
    during an epoch and is written back after it."""

    def __init__(self, model, batch_size, steps_per_call):
        import jax

        self.model, self.batch_size, self.steps_per_call, self._jax = model, batch_size, steps_per_call, jax
        self._distribution = check_distribution()
        if self._distribution is not None:
            mesh = self._distribution.device_mesh
            shards = mesh.shape[list(mesh.axis_names).index(self._distribution.batch_dim_name)]
            if batch_size % shards:
                raise ValueError(
                    f"batch_size {batch_size} does not divide among the {shards} devices of the active "
                    f"{type(self._distribution).__name__}; give a batch_size that is a multiple of {shards}."
                )
        self._train = jax.jit(self._chunk_function(self._train_step, "train"))
        self._test = jax.jit(self._chunk_function(self._test_step, "test"))
        self._results = jax.jit(self._metric_results)
        self._metrics_reset = None

    def prepare(self, x, y, weights):
        return x, y, _float32(weights)

    def _chunk_function(self, step, kind):
        jax = self._jax

        def run(state, x, y, loss_weights, metric_weights, rows, n_steps):
            TRACES[kind] += 1

            def body(i, state):
                batch = jax.tree_util.tree_map(lambda a: a[i], (x, y, loss_weights, metric_weights, rows))
                return step(state, *batch)

            return jax.lax.fori_loop(0, n_steps, body, state)

        return run

    def _train_step(self, state, x, y, loss_weights, metric_weights, rows):
        model = self.model
        trainable, non_trainable, metrics, optimizer = state
        grad_fn = self._jax.value_and_grad(model.compute_loss_and_updates, has_aux=True)
        (_, (loss, y_pred, non_trainable, after_loss)), grads = grad_fn(
            trainable, non_trainable, metrics, x, y, loss_weights, training=True, optimizer_variables=optimizer
        )
        trainable, optimizer = model.optimizer.stateless_apply(optimizer, grads, trainable)
        metrics = self._update_metrics(metrics, after_loss, loss, x, y, y_pred, metric_weights, rows)
        return [trainable, non_trainable, metrics, optimizer]

    def _test_step(self, state, x, y, loss_weights, metric_weights, rows):
        trainable, non_trainable, metrics = state
        _, (loss, y_pred, _, after_loss) = self.model.compute_loss_and_updates(
            trainable, non_trainable, metrics, x, y, loss_weights, training=False
        )
        return [trainable, non_trainable, self._update_metrics(metrics, after_loss, loss, x, y, y_pred,
                                                               metric_weights, rows)]

    def _update_metrics(self, before, after_loss, loss, x, y, y_pred, metric_weights, rows):
        """Metric variables after a batch of ``rows`` real rows: the per-head loss trackers
        (updated in the loss, weighted by the padded batch) re-weighted by the real rows,
        the total loss tracker weighted and the compiled metrics updated as in Keras."""
        import jax.numpy as jnp

        model, fraction = self.model, rows / self.batch_size
        metrics = [
            jnp.where(rows == self.batch_size, a, b + ((a - b) * fraction).astype(a.dtype))
            for b, a in zip(before, after_loss)
        ]
        variables = model.metrics_variables
        with keras.StatelessScope(state_mapping=list(zip(variables, metrics))) as scope:
            model._loss_tracker.update_state(loss, sample_weight=rows)
            compiled = model._compile_metrics
            if compiled is not None:
                # as CompileMetrics.update_state, with padded rows weighing 0 in the unweighted metrics too
                real = (jnp.arange(self.batch_size) < rows).astype("float32")
                y, y_pred = compiled._flatten_y(y), compiled._flatten_y(y_pred)
                if isinstance(metric_weights, dict):
                    metric_weights = compiled._flatten_y(metric_weights)
                else:
                    metric_weights = [metric_weights] * len(y)
                for metric, truth, predicted in zip(compiled._flat_metrics, y, y_pred):
                    if metric:
                        metric.update_state(truth, predicted, sample_weight=real)
                for metric, truth, predicted, weights in zip(compiled._flat_weighted_metrics, y, y_pred, metric_weights):
                    if metric:
                        metric.update_state(truth, predicted, sample_weight=weights)
        updated = [scope.get_current_value(v) for v in variables]
        return [value if new is None else new for new, value in zip(updated, metrics)]

    def _chunks(self, data, order):
        """Arguments of each call: ``steps_per_call`` batches of ``batch_size`` rows,
        the last real batch padded (rows weigh 0) and the calls after it empty."""
        x, y, weights = data
        size, per_call = self.batch_size, self.batch_size * self.steps_per_call
        for start in range(0, len(order), per_call):
            rows = order[start : start + per_call]
            n = len(rows)
            taken = np.zeros(per_call, dtype=np.int64)
            taken[:n] = rows
            real = np.clip(n - np.arange(self.steps_per_call) * size, 0, size)
            scale = np.repeat(size / np.maximum(real, 1), size).astype("float32")
            shaped = lambda a: a.reshape(self.steps_per_call, size, *a.shape[1:])  # noqa: E731

            def padded(w):
                out = np.zeros(per_call, "float32")
                out[:n] = w[rows]
                return shaped(out)

            metric_weights = keras.tree.map_structure(padded, weights)
            batches = (
                {k: shaped(v[taken]) for k, v in x.items()},
                {k: shaped(v[taken]) for k, v in y.items()},
                keras.tree.map_structure(lambda w: w * shaped(scale), metric_weights),
                metric_weights,
            )
            yield (*self._split_batches(batches), real.astype("int32"), np.int32(math.ceil(n / size)))

    def _split_batches(self, arrays):
        """Arrays of shape (steps, batch, ...) laid out across the active distribution's
        devices along the batch axis (unchanged without a distribution)."""
        if self._distribution is None:
            return arrays
        mesh, batch = self._distribution.device_mesh, self._distribution.batch_dim_name

        def split(array):
            layout = keras.distribution.TensorLayout([None, batch] + [None] * (array.ndim - 2), mesh)
            return keras.distribution.distribute_tensor(array, layout)

        return keras.tree.map_structure(split, arrays)

    def _run(self, function, data, order, training):
        model = self.model
        groups = [model.trainable_variables, model.non_trainable_variables]
        if training:
            groups.append(model.optimizer.variables)
        state = [[v.value for v in group] for group in groups]
        state.insert(2, self._reset_metrics())
        for chunk in self._chunks(data, order):
            state = function(state, *chunk)
        metrics = state.pop(2)
        for group, values in zip(groups, state):
            for variable, value in zip(group, values):
                variable.assign(value)
        return _floats(self._jax.device_get(self._results(metrics)))

    def _reset_metrics(self):
        """The metric variables' values after a reset (kept: resetting is not free)."""
        if self._metrics_reset is None:
            self.model.reset_metrics()
            self._metrics_reset = [v.value for v in self.model.metrics_variables]
        return self._metrics_reset

    def _metric_results(self, metrics):
        """``model.get_metrics_result()`` for these metric variable values (the metric
        variables themselves are not written back)."""
        with keras.StatelessScope(state_mapping=list(zip(self.model.metrics_variables, metrics))):
            return self.model.get_metrics_result()

    def train_epoch(self, data, order, batch_size):  # batch_size: the engine's own
        return self._run(self._train, data, order, training=True)

    def evaluate(self, data, batch_size):
        return self._run(self._test, data, np.arange(n_rows(data[0])), training=False)


class _TorchEngine:
    """A Python loop calling the train step on each batch (PyTorch compiles nothing)."""

    def __init__(self, model, batch_size, steps_per_call):
        self.model = model

    def prepare(self, x, y, weights):
        return keras.tree.map_structure(keras.ops.convert_to_tensor, (x, y, _float32(weights)))

    def _run(self, step, data, order, batch_size):
        import torch

        model = self.model
        model.reset_metrics()
        order = torch.as_tensor(order, device=next(iter(data[0].values())).device)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            step(keras.tree.map_structure(lambda a: a[rows], data))
        return _floats(model.get_metrics_result())

    def train_epoch(self, data, order, batch_size):
        self.model.train()
        return self._run(self.model.train_step, data, order, batch_size)

    def evaluate(self, data, batch_size):
        import torch

        self.model.eval()
        with torch.no_grad():
            return self._run(self.model.test_step, data, np.arange(n_rows(data[0])), batch_size)


def _float32(weights):
    return keras.tree.map_structure(lambda w: np.asarray(w, "float32"), weights)


def _floats(logs):
    return {name: float(value) for name, value in logs.items()}


def _keras_fit(model, batches, epochs, initial_epoch, validation, validation_batch_size, validation_freq,
               callbacks, verbose):
    """Keras's ``fit`` over the same batches, in the same order, as the loop."""
    history = model.fit(
        _BatchSequence(batches),
        epochs=epochs,
        initial_epoch=initial_epoch,
        validation_data=validation,
        validation_batch_size=validation_batch_size or batches.batch_size,
        validation_freq=validation_freq,
        callbacks=[*callbacks, _CheckFinite()],
        verbose=2 if verbose else 0,
        shuffle=False,
    )
    return {name: [float(v) for v in values] for name, values in history.history.items()}


class _BatchSequence(keras.utils.PyDataset):
    """The loop's batches for Keras's ``fit``, each epoch in the order the loop draws.

    Keras asks for batches 0, 1, ... in turn, but may peek at batch 0 before training and
    fetch the next epoch's first batches before its epoch hooks run: a new epoch (a new
    order) begins when batch 0 is asked for after the last batch.
    """

    def __init__(self, batches):
        super().__init__()
        self.batches, self._order, self._last = batches, batches.order(), None

    def __len__(self):
        return math.ceil(len(self._order) / self.batches.batch_size)

    def __getitem__(self, i):
        if i == 0 and self._last == len(self) - 1:
            self._order = self.batches.order()
        self._last = i
        size, b = self.batches.batch_size, self.batches
        rows = self._order[i * size : (i + 1) * size]
        return _take(b.x, rows), _take(b.y, rows), _take(b.weights, rows)


class _CheckFinite(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        check_finite(logs or {}, epoch)
