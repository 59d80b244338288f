"""Pool: compiled networks reused across fits of the same architecture.

The first fit of a new Keras model traces (TensorFlow) or compiles (JAX) its train step:
about 0.7 s however small the data, and with TensorFlow ~10 MiB that is never given back.
A grid search fits the same architecture again and again, so a fit takes an idle compiled
model of the same architecture and compile settings from this pool, loads into it the
variables of the freshly built model (initial weights, dropout seeds) and its optimizer's
initial state (kept when the model was first built), and trains it with the training
functions it already has. Training is therefore the
same as on the fresh model. A refit reuses the estimator's own model. A model goes back
to the pool when the estimator owning it is refitted with another model or
garbage-collected, never when a user may hold it (see `Lease`) and never after a failed fit.
"""

import json
import threading
import weakref
from collections import OrderedDict

import keras
import numpy as np

MAX_IDLE = 8  # idle models kept, all architectures together
_INITIAL_OPTIMIZER = weakref.WeakKeyDictionary()  # model -> its optimizer variables' initial values
_KEYS = weakref.WeakKeyDictionary()  # trained model -> its key


def _key(model):
    """The architecture and compile settings, without seeds (the state is loaded anyway)
    and the optimizer's automatic name (adam_1, adam_2, ...)."""
    if model in _KEYS:
        return _KEYS[model]
    compile_config = model.get_compile_config()
    compile_config["optimizer"]["config"].pop("name", None)
    config = {"model": model.get_config(), "compile": compile_config}
    key = json.dumps(_without_seeds(config), sort_keys=True, default=str)
    if model.optimizer.built:  # a trained network: its configuration no longer changes
        _KEYS[model] = key
    return key


def _without_seeds(config):
    if isinstance(config, dict):
        return {k: _without_seeds(v) for k, v in config.items() if k != "seed"}
    if isinstance(config, list):
        return [_without_seeds(v) for v in config]
    return config


def copy_values(variables):
    """Numpy copies of the variables' values."""
    return [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]


def build_optimizer(fresh):
    """``fresh`` with its optimizer built; the optimizer's initial values are kept to reset
    it whenever the model is reused."""
    fresh.optimizer.build(fresh.trainable_variables)
    _INITIAL_OPTIMIZER[fresh] = copy_values(fresh.optimizer.variables)
    return fresh


def load_state(model, fresh):
    """``model`` with ``fresh``'s variables (initial weights, seeds) and its optimizer's
    initial state."""
    for target, source in zip(model.variables, fresh.variables):
        target.assign(source)
    for target, value in zip(model.optimizer.variables, _INITIAL_OPTIMIZER[model]):
        target.assign(value)
    return model


class Lease:
    """A model held by one estimator. When the lease ends (the estimator is refitted with
    another model or collected) the model goes back to the pool, unless a user may hold it:
    `exposed` is set whenever the model is handed out (``model_``, ``label_model``)."""

    def __init__(self, model, exposed=False):
        self.model, self.exposed = model, exposed

    def end(self):
        if not self.exposed:
            POOL.release(self.model)


class ModelPool:
    """Idle compiled models by architecture; see the module docstring."""

    def __init__(self, max_idle=MAX_IDLE):
        self.max_idle = max_idle
        self._idle = OrderedDict()  # key -> [models], least recently released first
        self._returned = []  # released, not yet sorted by key
        self._lock = threading.Lock()

    def acquire(self, fresh, own=None):
        """A compiled model with ``fresh``'s architecture and initial state: ``own`` (the
        caller's previous model, when of the same architecture), an idle one, or ``fresh``
        itself; a reused model is loaded with ``fresh``'s state."""
        self._sort_returned()
        key = _key(fresh)
        if own is not None and _key(own) == key:
            return load_state(own, fresh)
        with self._lock:
            models = self._idle.get(key)
            model = models.pop() if models else None
            if models == []:
                del self._idle[key]
        return build_optimizer(fresh) if model is None else load_state(model, fresh)

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
            key = _key(model)
            with self._lock:
                self._idle.setdefault(key, []).append(model)
                self._idle.move_to_end(key)
                while sum(len(m) for m in self._idle.values()) > self.max_idle:
                    oldest = next(iter(self._idle))
                    self._idle[oldest].pop(0)
                    if not self._idle[oldest]:
                        del self._idle[oldest]

    def clear(self):
        """Drop every idle model."""
        with self._lock:
            self._idle.clear()
            self._returned.clear()

    def __len__(self):
        self._sort_returned()
        with self._lock:
            return sum(len(models) for models in self._idle.values())


POOL = ModelPool()
