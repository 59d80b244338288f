"""Training engines: one per Keras backend, each running the network's compiled train step
over in-memory arrays, many batches per call (the loop around them is `_training`).

- TensorFlow: one ``tf.function`` loops over the given rows' batches and runs the lean
  train step of `_tf_step` on each (a network whose class overrides Keras's train step:
  ``model.train_step``); the number of rows and the batch size are inputs to it, so a
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

Every engine has ``prepare(x, y, weights)`` (the data as it reads them),
``train_epoch(data, order, batch_size, reset=True)`` (train on the rows ``order`` in
batches; the logs since the last reset of the metrics, which ``reset=False`` skips) and
``evaluate(data, batch_size)``.
"""

import collections
import math
import weakref

import keras
import numpy as np

from ._losses import MaskedLoss
from ._missing import take_rows

TRACES = collections.Counter()  # compiled functions traced, by kind: tests count them
_ENGINES = weakref.WeakKeyDictionary()  # model -> {key: engine}
KERAS_TRAIN_STEP = False  # True: TensorFlow trains through Keras's train_step, not `_tf_step` (tests compare them)


def is_masked(model):
    """Whether the network's losses are masked (compiled with ``masked=True``)."""
    losses = model.loss.values() if isinstance(model.loss, dict) else [model.loss]
    return any(isinstance(loss, MaskedLoss) for loss in losses)


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


def n_rows(x):
    """Number of rows of ``{name: array}``."""
    return len(next(iter(x.values())))


def engine_for(model, x, y, weights, batch_size, steps_per_call):
    """The compiled functions of ``model`` for data shaped as ``x``, ``y`` and ``weights``
    (cached; on JAX also by batch size, which fixes the compiled shapes)."""
    from ._pool import distribution_key

    backend = keras.backend.backend()
    signature = tuple(
        (kind, name, a.shape[1:], str(a.dtype)) for kind, d in (("x", x), ("y", y)) for name, a in sorted(d.items())
    )
    weight_shapes = (  # per output or one array; a weight per row, or per entry of a row
        tuple((name, np.shape(w)[1:]) for name, w in sorted(weights.items())) if isinstance(weights, dict)
        else np.shape(weights)[1:]
    )
    key = (backend, batch_size if backend == "jax" else None, steps_per_call, signature, weight_shapes,
           distribution_key())
    engines = _ENGINES.setdefault(model, {})
    if key not in engines:
        _build_for_training(model, x, y, weights)
        engine_class = {"tensorflow": _TensorFlowEngine, "jax": _JaxEngine, "torch": _TorchEngine}[backend]
        engines[key] = engine_class(model, batch_size, steps_per_call)
    return engines[key]


def _build_for_training(model, x, y, weights):
    """Create the optimizer's and the compiled metrics' variables, as ``fit`` does first."""
    first = take_rows(x, slice(0, 1)), take_rows(y, slice(0, 1)), _float32(take_rows(weights, slice(0, 1)))
    model._symbolic_build(data_batch=first)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


class _TensorFlowEngine:
    """One ``tf.function`` looping over batches gathered in the given order (any number
    of rows and batch size: one trace)."""

    def __init__(self, model, batch_size, steps_per_call):
        import tensorflow as tf

        self.model, self._tf = model, tf
        self._train = self._test = None

    def prepare(self, x, y, weights):
        tf = self._tf
        data = tf.nest.map_structure(tf.convert_to_tensor, (x, y, _float32(weights)))
        if self._train is None:
            from ._tf_step import epoch_of_lean_steps, lean_step_applies

            spec = tf.nest.map_structure(lambda t: tf.TensorSpec((None, *t.shape[1:]), t.dtype), data)
            signature = [spec, tf.TensorSpec((None,), tf.int32), tf.TensorSpec((), tf.int32),
                         tf.TensorSpec((), tf.bool)]  # data, order of the rows, batch size, reset the metrics
            model = self.model
            lean = lean_step_applies(model) and not KERAS_TRAIN_STEP
            train = (lambda *args: epoch_of_lean_steps(model, *args)) if lean else self._batches(model.train_step)
            self._train = tf.function(self._epoch_function(train, "train"), input_signature=signature)
            self._test = tf.function(self._epoch_function(self._batches(model.test_step), "test"),
                                     input_signature=signature)
        return data

    def _batches(self, step):
        """A loop calling ``step`` on each batch of the rows ``order``."""
        tf = self._tf

        def loop(data, order, batch_size):
            n = tf.shape(order)[0]

            def body(i):
                rows = order[i * batch_size : tf.minimum((i + 1) * batch_size, n)]
                step(tf.nest.map_structure(lambda a: tf.gather(a, rows), data))
                return (i + 1,)

            tf.while_loop(lambda i: i * batch_size < n, body, (tf.constant(0),))

        return loop

    def _epoch_function(self, loop, kind):
        tf, model = self._tf, self.model

        @tf.autograph.experimental.do_not_convert
        def run(data, order, batch_size, reset):
            TRACES[kind] += 1

            def reset_metrics():
                for metric in model.metrics:
                    metric.reset_state()
                return tf.constant(True)

            tf.cond(reset, reset_metrics, lambda: tf.constant(False))  # an input: one trace either way
            loop(data, order, batch_size)
            return model.get_metrics_result()

        return run

    def train_epoch(self, data, order, batch_size, reset=True):
        tf = self._tf
        return _floats(self._train(data, tf.constant(order, "int32"), tf.constant(batch_size, "int32"),
                                   tf.constant(reset)))

    def evaluate(self, data, batch_size):
        tf = self._tf
        rows = tf.range(tf.shape(next(iter(data[0].values())))[0])
        return _floats(self._test(data, rows, tf.constant(batch_size), tf.constant(True)))


class _JaxEngine:
    """A jitted function runs up to ``steps_per_call`` batches of fixed shape (see the
    module docstring for the padded last batch); the state lives outside the variables
    during a call and is written back after it; the metrics' stays outside (``_metrics``,
    after the last training call: ``reset=False`` goes on from there)."""

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
        self._masked = is_masked(model)
        self._train = jax.jit(self._chunk_function(self._train_step, "train"))
        self._test = jax.jit(self._chunk_function(self._test_step, "test"))
        self._results = jax.jit(self._metric_results)
        self._metrics_reset = self._metrics = None

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
            # a loss averaged over the batch is scaled to the real rows; a masked loss averages
            # over its labeled rows, and the padded rows' targets (zeros) carry no label
            scale = np.repeat(size / np.maximum(real, 1) if not self._masked else np.ones_like(real), size)
            shaped = lambda a: a.reshape(self.steps_per_call, size, *a.shape[1:])  # noqa: E731
            scale = shaped(scale.astype("float32"))

            def scaled(w):  # a weight per row, or per entry of a row
                return w * scale.reshape(scale.shape + (1,) * (w.ndim - 2))

            def padded(w):
                out = np.zeros((per_call, *w.shape[1:]), w.dtype)
                out[:n] = w[rows]
                return shaped(out)

            metric_weights = keras.tree.map_structure(padded, weights)
            batches = (
                {k: shaped(v[taken]) for k, v in x.items()},
                {k: padded(v) for k, v in y.items()},
                keras.tree.map_structure(scaled, metric_weights),
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

    def _run(self, function, data, order, training, metrics):
        """Run ``function`` over the batches of ``order`` from these metric variable values;
        return the metric values after them, and their results."""
        model = self.model
        groups = [model.trainable_variables, model.non_trainable_variables]
        if training:
            groups.append(model.optimizer.variables)
        state = [[v.value for v in group] for group in groups]
        state.insert(2, metrics)
        for chunk in self._chunks(data, order):
            state = function(state, *chunk)
        metrics = state.pop(2)
        for group, values in zip(groups, state):
            for variable, value in zip(group, values):
                variable.assign(value)
        return metrics, _floats(self._jax.device_get(self._results(metrics)))

    def _reset_metrics(self):
        """The metric variables' values after a reset (kept: resetting is not free), with
        the loss weights as they are now (`_loss_weights`: a reset keeps them)."""
        variables = self.model.metrics_variables
        if self._metrics_reset is None:
            self.model.reset_metrics()
            self._metrics_reset = [v.value for v in variables]
        weights = {id(v) for v in self.model.skmultihead_loss_weights.variables}
        return [v.value if id(v) in weights else value for v, value in zip(variables, self._metrics_reset)]

    def _metric_results(self, metrics):
        """``model.get_metrics_result()`` for these metric variable values (the metric
        variables themselves are not written back)."""
        with keras.StatelessScope(state_mapping=list(zip(self.model.metrics_variables, metrics))):
            return self.model.get_metrics_result()

    def train_epoch(self, data, order, batch_size, reset=True):  # batch_size: the engine's own
        metrics = self._reset_metrics() if reset else self._metrics
        self._metrics, logs = self._run(self._train, data, order, True, metrics)
        return logs

    def evaluate(self, data, batch_size):
        return self._run(self._test, data, np.arange(n_rows(data[0])), False, self._reset_metrics())[1]


class _TorchEngine:
    """A Python loop calling the train step on each batch (PyTorch compiles nothing)."""

    def __init__(self, model, batch_size, steps_per_call):
        self.model = model

    def prepare(self, x, y, weights):
        return keras.tree.map_structure(keras.ops.convert_to_tensor, (x, y, _float32(weights)))

    def _run(self, step, data, order, batch_size, reset=True):
        import torch

        model = self.model
        if reset:
            model.reset_metrics()
        order = torch.as_tensor(order, device=next(iter(data[0].values())).device)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            step(keras.tree.map_structure(lambda a: a[rows], data))
        return _floats(model.get_metrics_result())

    def train_epoch(self, data, order, batch_size, reset=True):
        self.model.train()
        return self._run(self.model.train_step, data, order, batch_size, reset)

    def evaluate(self, data, batch_size):
        import torch

        self.model.eval()
        with torch.no_grad():
            return self._run(self.model.test_step, data, np.arange(n_rows(data[0])), batch_size)


def _float32(weights):
    return keras.tree.map_structure(lambda w: np.asarray(w, "float32"), weights)


def _floats(logs):
    return {name: float(value) for name, value in logs.items()}

