"""Training engines: one per Keras backend, each running the network's compiled train step
over in-memory arrays, many batches per call (the loop around them is `_training`).

- TensorFlow: one ``tf.function`` loops over the given rows' batches. By default XLA
  compiles it as one program (`_tf_step.padded_epoch`): each batch of a fixed number of
  rows, the last one padded as JAX's are (`_padded`), the data's rows padded to a power of
  two so that a few compiles serve any number of rows. Where XLA cannot serve the network
  (`why_not_xla`) or ``jit_compile`` is False, the loop is a graph running the lean train
  step of `_tf_step` (a network whose class overrides Keras's train step: ``model.train_step``)
  on unpadded batches: any number of rows and batch size reuse one trace.
- JAX: one jitted function runs up to ``steps_per_call`` batches of a fixed shape through
  Keras's stateless pieces (``compute_loss_and_updates``, ``optimizer.stateless_apply``,
  ``compute_metrics``). A partial last batch is padded to the full batch size (`_padded`):
  shapes never change, so nothing is compiled again (fewer rows than a batch are one
  padded batch). (Dropout in that last batch draws other masks than Keras's would. A
  network with BatchNormalization, whose batch statistics the padded rows would change,
  trains through Keras's ``fit``.)
- PyTorch: a Python loop calls ``model.train_step`` on each batch (Keras compiles nothing
  there; the loop saves ``fit``'s per-batch iterator and callback work).

Under an active Keras distribution (``keras.distribution``, JAX only; `check_distribution`),
the network's variables are laid out by it when built, and the JAX engine splits each
batch across the devices of its batch dimension: XLA then sums the gradients across them.

Every engine has ``prepare(x, y, weights)`` (the data as it reads them),
``train_epoch(data, order, batch_size, reset=True)`` (train on the rows ``order`` in
batches; the logs since the last reset of the metrics, which ``reset=False`` skips),
``first_epoch(data, order, batch_size)`` (the same, and the logs of the first batch, which
the divergence check compares with) and ``evaluate(data, batch_size)``.
"""

import collections
import math
import weakref

import keras
import numpy as np

from ._losses import MaskedLoss
from ._missing import take_rows
from ._padded import reweigh_trackers, update_compiled_metrics

TRACES = collections.Counter()  # compiled functions traced, by kind: tests count them
_ENGINES = weakref.WeakKeyDictionary()  # model -> {key: engine}
KERAS_TRAIN_STEP = False  # True: TensorFlow trains through Keras's train_step, not `_tf_step` (tests compare them)
# XLA's data: rows padded to a power of two, at least this many. A padded row costs memory only
# (an epoch runs the real rows' batches), and one shape then serves every small data set: the
# folds of a search and its refit on all rows share one compile.
MIN_PADDED_ROWS = 1024


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


def lean_step_applies(model):
    """Whether the network's class keeps Keras's train step (TensorFlow then runs `_tf_step`'s)."""
    return not KERAS_TRAIN_STEP and all(
        getattr(type(model), name) is getattr(keras.Model, name)
        for name in ("train_step", "compute_loss", "compute_metrics")
    )


def why_not_xla(model):
    """Why TensorFlow cannot train ``model`` as one XLA-compiled epoch (None if it can)."""
    if not lean_step_applies(model) or type(model).test_step is not keras.Model.test_step:
        return f"its class ({type(model).__name__}) overrides Keras's train or test step"
    layers = list(model._flatten_layers())
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers):
        return "a BatchNormalization layer's batch statistics would count the padded rows of the last batch"
    unsupported = [layer.name for layer in layers if not layer.supports_jit]
    if unsupported:
        return f"XLA cannot compile layer(s) {unsupported}"
    if _op_determinism_enabled():
        return "TensorFlow's op determinism is enabled, which XLA does not support for every op"
    return None


def _op_determinism_enabled():
    """Whether ``tf.config.experimental.enable_op_determinism()`` was called; TensorFlow's
    query is private, so a TensorFlow without it reads as False (XLA then names the op)."""
    try:
        from tensorflow.python.framework.config import is_op_determinism_enabled
    except ImportError:
        return False
    return is_op_determinism_enabled()


def uses_xla(model, jit_compile):
    """Whether TensorFlow trains ``model`` by XLA: ``jit_compile`` True (an error where it
    cannot), False, or "auto" (where it can)."""
    if jit_compile is False or keras.backend.backend() != "tensorflow":
        return False
    reason = why_not_xla(model)
    if reason is not None and jit_compile is True:
        raise ValueError(f"jit_compile=True, but this network cannot be compiled by XLA: {reason}. "
                         "Set jit_compile='auto' or False.")
    return reason is None


def engine_for(model, x, y, weights, batch_size, steps_per_call, jit_compile="auto"):
    """The compiled functions of ``model`` for data shaped as ``x``, ``y`` and ``weights``
    (cached; on JAX also by batch size, which fixes the compiled shapes; on TensorFlow by
    whether XLA compiles them, `uses_xla`)."""
    from ._pool import distribution_key

    backend = keras.backend.backend()
    xla = uses_xla(model, jit_compile)
    signature = tuple(
        (kind, name, a.shape[1:], str(a.dtype)) for kind, d in (("x", x), ("y", y)) for name, a in sorted(d.items())
    )
    weight_shapes = (  # per output or one array; a weight per row, or per entry of a row
        tuple((name, np.shape(w)[1:]) for name, w in sorted(weights.items())) if isinstance(weights, dict)
        else np.shape(weights)[1:]
    )
    key = (backend, batch_size if backend == "jax" else None, steps_per_call, signature, weight_shapes,
           distribution_key(), xla)
    engines = _ENGINES.setdefault(model, {})
    if key not in engines:
        _build_for_training(model, x, y, weights)
        engine_class = {"tensorflow": _TensorFlowEngine, "jax": _JaxEngine, "torch": _TorchEngine}[backend]
        engines[key] = engine_class(model, batch_size, steps_per_call, *(xla,) * (backend == "tensorflow"))
    return engines[key]


def _build_for_training(model, x, y, weights):
    """Create the optimizer's and the compiled metrics' variables, as ``fit`` does first."""
    first = take_rows(x, slice(0, 1)), take_rows(y, slice(0, 1)), _float32(take_rows(weights, slice(0, 1)))
    model._symbolic_build(data_batch=first)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


class _Engine:
    """What every engine has: `first_epoch` from two calls of ``train_epoch``."""

    def first_epoch(self, data, order, batch_size):
        """Train the first epoch of a fit: (the logs of its first batch, the epoch's logs)."""
        start = self.train_epoch(data, order[:batch_size], batch_size)
        if len(order) <= batch_size:
            return start, dict(start)
        return start, self.train_epoch(data, order[batch_size:], batch_size, reset=False)


class _TensorFlowEngine(_Engine):
    """One ``tf.function`` per kind (train, test) looping over the batches of the given
    rows: compiled by XLA (``xla``: a whole epoch, `_tf_step.padded_epoch`; the rows are
    padded to a power of two, at least ``MIN_PADDED_ROWS``, so that a few shapes serve
    every number of rows), or a graph looping over them unpadded (any number of rows and
    batch size: one trace)."""

    def __init__(self, model, batch_size, steps_per_call, xla=False):
        import tensorflow as tf

        self.model, self.xla, self._tf = model, xla, tf
        self._functions, self._concrete = {}, {}

    def prepare(self, x, y, weights):
        n = n_rows(x)
        arrays = (x, y, _float32(weights))
        if self.xla:
            size = max(MIN_PADDED_ROWS, _power_of_two(n))
            arrays = keras.tree.map_structure(lambda a: _pad_rows(a, size), arrays)
        return _Data(self._tf.nest.map_structure(self._tf.convert_to_tensor, arrays), n)

    def _function(self, kind, tensors, batch_size=None):
        """The compiled epoch of ``kind`` ("train" or "test") for data like ``tensors``; with
        XLA, for this static batch size."""
        key = kind, batch_size
        if key not in self._functions:
            tf, model = self._tf, self.model
            if self.xla:
                from ._tf_step import padded_epoch

                masked = is_masked(model)

                def loop(data, order, count):  # returns the logs after the first batch
                    return padded_epoch(model, data, order, count, batch_size, kind == "train", masked)
            elif kind == "train" and lean_step_applies(model):
                from ._tf_step import epoch_of_lean_steps

                def loop(data, order, size):
                    epoch_of_lean_steps(model, data, order, size)
            else:
                loop = self._batches(model.train_step if kind == "train" else model.test_step)
            signature = None if self.xla else [  # without XLA: any number of rows and batch size, one trace
                tf.nest.map_structure(lambda t: tf.TensorSpec((None, *t.shape[1:]), t.dtype), tensors),
                tf.TensorSpec((None,), tf.int32), tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.bool),
            ]
            self._functions[key] = tf.function(self._epoch_function(loop, kind), jit_compile=self.xla,
                                               input_signature=signature)
        return self._functions[key]

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
        def run(data, order, size, reset):
            TRACES[kind] += 1

            def reset_metrics():
                for metric in model.metrics:
                    metric.reset_state()
                return tf.constant(True)

            tf.cond(reset, reset_metrics, lambda: tf.constant(False))  # an input: one trace either way
            first = loop(data, order, size)
            return model.get_metrics_result(), {} if first is None else first

        return run

    def _run(self, kind, data, order, batch_size, reset):
        """The logs after the rows ``order``, and (XLA) those after their first batch."""
        tf = self._tf
        if not self.xla:
            return self._function(kind, data.tensors)(data.tensors, tf.constant(order, "int32"),
                                                      tf.constant(batch_size, "int32"), tf.constant(reset))
        padded_size = n_rows(data.tensors[0])
        static = batch_size if batch_size < data.n_rows else _power_of_two(data.n_rows)  # one batch of all rows
        padded = np.zeros(-(-padded_size // static) * static, "int32")
        padded[: len(order)] = order
        args = data.tensors, tf.constant(padded), tf.constant(len(order), "int32"), tf.constant(reset)
        key = kind, static, padded_size
        if key not in self._concrete:  # called directly, it spares tf.function's matching of the arguments
            self._concrete[key] = self._function(kind, data.tensors, static).get_concrete_function(*args)
        return self._concrete[key](*args)

    def train_epoch(self, data, order, batch_size, reset=True):
        return _floats(self._run("train", data, order, batch_size, reset)[0])

    def first_epoch(self, data, order, batch_size):
        if not self.xla:
            return super().first_epoch(data, order, batch_size)
        logs, start = self._run("train", data, order, batch_size, True)
        return _floats(start), _floats(logs)

    def evaluate(self, data, batch_size):
        return _floats(self._run("test", data, np.arange(data.n_rows), batch_size, True)[0])


class _Data(collections.namedtuple("_Data", "tensors n_rows")):
    """The data as an engine reads it (``(x, y, weights)``, its rows maybe padded) and its number of rows."""


def _power_of_two(n):
    """The smallest power of two at least ``n`` (1 for 0)."""
    return 1 << max(n - 1, 0).bit_length()


def _pad_rows(array, size):
    out = np.zeros((size, *array.shape[1:]), array.dtype)
    out[: len(array)] = array
    return out


class _JaxEngine(_Engine):
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
        """Metric variables after a batch of ``rows`` real rows (`_padded`): the loss
        trackers re-weighted by the real rows, the compiled metrics updated on them."""
        import jax.numpy as jnp

        model = self.model
        metrics = reweigh_trackers(before, after_loss, rows, self.batch_size)
        variables = model.metrics_variables
        with keras.StatelessScope(state_mapping=list(zip(variables, metrics))) as scope:
            model._loss_tracker.update_state(loss, sample_weight=rows)
            if model._compile_metrics is not None:
                real = jnp.arange(self.batch_size) < rows
                update_compiled_metrics(model._compile_metrics, y, y_pred, metric_weights, real)
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


class _TorchEngine(_Engine):
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

