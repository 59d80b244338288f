"""Pool: compiled networks reused across fits of the same architecture.

The first fit of a new Keras model traces (TensorFlow) or compiles (JAX) its train step,
a fixed cost however small the data, and with TensorFlow memory that is never given back
(figures in benchmarks/README.md).
A grid search fits the same architecture again and again, so a fit takes an idle compiled
model of the same architecture and compile settings from this pool, loads into it the
variables of the freshly built model (initial weights, dropout seeds) and its optimizer's
initial state (kept when the model was first built), and trains it with the training
functions it already has. Training is therefore the same as on the fresh model.

Building that fresh model costs more than a small fit's training. With a seed, the
initial state follows from the seed and the arguments the model is built and compiled from
(`start_key`): the pool keeps the initial state of the last starts it saw, and a fit with a
known start (every fold of a cross-validation, a grid search with a fixed ``random_state``)
loads it into a reused model without building one. A refit reuses the estimator's own model. A model goes back
to the pool at the end of a fit whose estimator predicts in numpy (the estimator keeps the
values of its variables, "parked", and takes a model again for ``model_`` or a warm start),
or when the estimator owning it is refitted with another model or garbage-collected; never
when a user may hold it (see `Lease`) and never after a failed fit.
"""

import json
import threading
import weakref
from collections import OrderedDict

import keras
import numpy as np
from sklearn.base import BaseEstimator

from ._unimported import tensorflow_unimported

MAX_IDLE = 8  # idle models kept, all architectures together
MAX_STARTS = 16  # initial states kept by start key
_KERAS_OBJECTS = (keras.losses.Loss, keras.metrics.Metric, keras.initializers.Initializer,
                  keras.regularizers.Regularizer, keras.constraints.Constraint)
_INITIAL_OPTIMIZER = weakref.WeakKeyDictionary()  # model -> its optimizer variables' initial values
_KEYS = weakref.WeakKeyDictionary()  # trained model -> its key
_BUILT_UNDER = weakref.WeakKeyDictionary()  # model -> the Keras distribution at its build (see distribution_key)


def network_key(model):
    """The architecture and compile settings, without seeds (the state is loaded anyway)
    and the optimizer's automatic name (adam_1, adam_2, ...)."""
    if model in _KEYS:
        return _KEYS[model]
    with tensorflow_unimported():
        compile_config, model_config = model.get_compile_config(), model.get_config()
    compile_config["optimizer"]["config"].pop("name", None)
    config = {"model": _anonymous(model_config), "compile": compile_config, "distribution": _BUILT_UNDER.get(model)}
    key = json.dumps(_without_seeds(config), sort_keys=True, default=str)
    if model.optimizer.built:  # a trained network: its configuration no longer changes
        _KEYS[model] = key
    return key


def _anonymous(config):
    """A functional model's config with its inner layers named by position: a builder of the
    user's names its layers anew at each call (dense_3, then dense_7), while the names of
    inputs and outputs, which the estimator feeds and reads, are kept."""
    layers = config.get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list):
        return config
    ends = {ref[0] for part in ("input_layers", "output_layers") for ref in _references(config.get(part))}
    names = {layer.get("name"): f"layer_{i}" for i, layer in enumerate(layers) if layer.get("name") not in ends}

    def rename(value):
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [rename(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    return {**rename(config), "name": None}


def _references(structure):
    """The ``[layer name, node, tensor]`` references in a config's inputs or outputs."""
    if isinstance(structure, dict):
        return [ref for value in structure.values() for ref in _references(value)]
    if isinstance(structure, (list, tuple)) and structure and isinstance(structure[0], str):
        return [structure]
    return [ref for value in (structure or []) for ref in _references(value)]


def _without_seeds(config):
    if isinstance(config, dict):
        return {k: _without_seeds(v) for k, v in config.items() if k != "seed"}
    if isinstance(config, list):
        return [_without_seeds(v) for v in config]
    return config


def copy_values(variables):
    """Numpy copies of the variables' values."""
    if keras.backend.backend() == "tensorflow":  # one raw op each (see assign_values)
        import tensorflow as tf

        return [np.array(tf.raw_ops.ReadVariableOp(resource=v.handle, dtype=v.dtype))  # TensorFlow's dtype: fast path
                for v in (variable.value for variable in variables)]
    return [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]


def assign_values(variables, values):
    """Give the variables the values given (arrays of their shapes)."""
    if keras.backend.backend() == "tensorflow":  # Keras's assign costs ~5x the op itself: most of a small fit's set-up
        import tensorflow as tf

        for variable, value in zip(variables, values, strict=True):
            tf.raw_ops.AssignVariableOp(resource=variable.value.handle, value=np.asarray(value, variable.dtype))
        return
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def build_and_keep_optimizer(fresh):
    """``fresh`` with its optimizer built; the optimizer's initial values are kept to reset
    it whenever the model is reused."""
    fresh.optimizer.build(fresh.trainable_variables)
    _INITIAL_OPTIMIZER[fresh] = copy_values(fresh.optimizer.variables)
    network_key(fresh)  # kept from now on: training may change the learning rate it reads
    return fresh


def start_key(seed, *arguments):
    """Text that fixes a network and its initial state: the seed and the arguments it is
    built and compiled from. None when the seed is None (the weights are random) or an
    argument is not plain data (a callable: what it builds cannot be read from it)."""
    if seed is None:
        return None
    try:
        policy = keras.config.dtype_policy().name  # layers built meanwhile take it
        head = [keras.backend.backend(), keras.config.floatx(), policy, distribution_key(), seed]
        with tensorflow_unimported():
            return json.dumps([*head, *arguments], default=_plain)
    except (TypeError, ValueError):
        return None


def build_signature(build_args, compile_args, optimizer, optimizer_arguments):
    """``{argument: its JSON text}`` of what a network is built and compiled from: the
    arguments of `build_model` and `compile_model`, and the ``optimizer`` parameter with
    its routed arguments, but the learning rate (a variable a warm start sets); None for an
    argument that is not plain data. Builds no optimizer: it runs at every fit."""
    left_out = ("random_state", "steps_per_execution")  # the seed; a setting that follows the callbacks

    def text(value):
        try:
            with tensorflow_unimported():
                return json.dumps(value, default=_plain, sort_keys=True)
        except (TypeError, ValueError):
            return None

    def without_rate(config):
        return {k: v for k, v in config.items() if k not in ("name", "learning_rate")}

    signature = {name: text(value) for name, value in {**build_args, **compile_args}.items() if name not in left_out}
    if isinstance(optimizer, keras.optimizers.Optimizer):  # an instance: its class and configuration
        optimizer = [_plain(type(optimizer)), without_rate(optimizer.get_config())]
    return {**signature, "optimizer": text([optimizer, without_rate(optimizer_arguments)])}


def distribution_key():
    """The active Keras distribution, described with its devices (None: none); it lays
    out the variables."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return None
    mesh = distribution.device_mesh
    return f"{distribution!r} {list(mesh.axis_names)} {[str(d) for d in np.ravel(mesh.devices)]}"


def _plain(value):
    """``value`` as JSON data, for `start_key`; TypeError when it is not plain data."""
    if isinstance(value, type):
        if value.__module__ == "__main__" or "<locals>" in value.__qualname__:
            raise TypeError(f"{value.__qualname__} may be redefined under the same name")
        return f"{value.__module__}.{value.__qualname__}"
    if hasattr(value, "network_spec"):
        return [_plain(type(value)), value.network_spec()]
    if isinstance(value, BaseEstimator):
        return [_plain(type(value)), value.get_params(deep=False)]
    if isinstance(value, keras.optimizers.Optimizer):  # without its automatic name (adam_1, adam_2, ...)
        return [_plain(type(value)), {k: v for k, v in value.get_config().items() if k != "name"}]
    if isinstance(value, _KERAS_OBJECTS):
        return keras.saving.serialize_keras_object(value)
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not plain data")


def load_state(model, variables):
    """``model`` with the given values of its variables (initial weights, seeds) and its
    optimizer's initial state."""
    assign_values(model.variables, variables)
    assign_values(model.optimizer.variables, _INITIAL_OPTIMIZER[model])
    return model


class Lease:
    """A model held by one estimator. When the lease ends (the estimator parks its network
    after a fit, is refitted with another model or is collected) the model goes back to the
    pool, unless it is `exposed`: handed out to a user (``model_``, ``label_model``; then also
    `handed_out`, and its weights may change under the estimator)."""

    def __init__(self, model):
        self.model, self.exposed, self.handed_out = model, False, False

    def end(self):
        if not self.exposed:
            POOL.release(self.model)


class ModelPool:
    """Idle compiled models by architecture; see the module docstring."""

    def __init__(self, max_idle=MAX_IDLE):
        self.max_idle = max_idle
        self._idle = OrderedDict()  # key -> [models], least recently released first
        self._returned = []  # released, not yet sorted by key
        self._starts = OrderedDict()  # start key -> (key, initial variable values)
        self._lock = threading.Lock()

    def acquire(self, build, start=None, own=None):
        """A compiled model in the initial state of the one ``build()`` returns: ``own``
        (the caller's previous model, when of the same architecture), an idle one, or the
        built one. A known ``start`` (see `start_key`) spares building the model."""
        self._sort_returned()
        with self._lock:
            known = self._starts.get(start)
            if known is not None:
                self._starts.move_to_end(start)  # least recently used first out
        if known is not None:
            key, values = known
            model = self._take(key, own)
            if model is not None:
                return load_state(model, values)
        fresh = build()
        distribution = distribution_key()
        if distribution is not None:
            _BUILT_UNDER[fresh] = distribution
        key = network_key(fresh)
        if start is not None:
            with self._lock:
                self._starts[start] = key, copy_values(fresh.variables)
                while len(self._starts) > MAX_STARTS:
                    self._starts.popitem(last=False)
        model = self._take(key, own)
        return build_and_keep_optimizer(fresh) if model is None else load_state(model, copy_values(fresh.variables))

    def take(self, key):
        """An idle model of architecture ``key`` (see `network_key`) as it was left, or None."""
        self._sort_returned()
        return None if key is None else self._take(key, None)

    def _take(self, key, own):
        """``own`` when its key is ``key``, else an idle model of that key, else None."""
        if own is not None and network_key(own) == key:
            return own
        with self._lock:
            models = self._idle.get(key)
            model = models.pop() if models else None
            if models == []:
                del self._idle[key]
        return model

    def release(self, model):
        """Take back a model nobody trains or predicts with any more.

        Only queues it: a garbage-collection finalizer may call this at any moment, even
        while a backend traces a function, when reading the model's configuration fails.
        """
        with self._lock:
            self._returned.append(model)

    def _sort_returned(self):
        with self._lock:
            returned, self._returned = self._returned, []
        for model in returned:
            if getattr(model, "optimizer", None) is None or not model.compiled:
                continue
            key = network_key(model)
            with self._lock:
                self._idle.setdefault(key, []).append(model)
                self._idle.move_to_end(key)
                while sum(len(m) for m in self._idle.values()) > self.max_idle:
                    oldest = next(iter(self._idle))
                    self._idle[oldest].pop(0)
                    if not self._idle[oldest]:
                        del self._idle[oldest]

    def clear(self):
        """Drop every idle model and known start."""
        with self._lock:
            self._idle.clear()
            self._returned.clear()
            self._starts.clear()

    def __len__(self):
        self._sort_returned()
        with self._lock:
            return sum(len(models) for models in self._idle.values())


POOL = ModelPool()
