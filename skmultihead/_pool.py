"""Pool: compiled networks reused across fits of the same architecture.

The first fit of a new Keras model traces (TensorFlow) or compiles (JAX) its train step:
about 0.7 s however small the data, and with TensorFlow ~10 MiB that is never given back.
A grid search fits the same architecture again and again, so a fit takes an idle compiled
model of the same architecture and compile settings from this pool, loads into it the
variables of the freshly built model (initial weights, dropout seeds) and of a fresh
optimizer, and trains it with the train step it already has. Training is therefore the
same as on the fresh model. A refit reuses the estimator's own model. A model goes back
to the pool when the estimator owning it is refitted with another model or
garbage-collected, never when a user may hold it (see `Lease`) and never after a failed fit.
"""

import json
import threading
from collections import OrderedDict

MAX_IDLE = 8  # idle models kept, all architectures together


def _key(model):
    """The architecture and compile settings, without seeds (the state is loaded anyway)
    and the optimizer's automatic name (adam_1, adam_2, ...)."""
    compile_config = model.get_compile_config()
    compile_config["optimizer"]["config"].pop("name", None)
    config = {"model": model.get_config(), "compile": compile_config}
    return json.dumps(_without_seeds(config), sort_keys=True, default=str)


def _without_seeds(config):
    if isinstance(config, dict):
        return {k: _without_seeds(v) for k, v in config.items() if k != "seed"}
    if isinstance(config, list):
        return [_without_seeds(v) for v in config]
    return config


def load_state(model, fresh):
    """``model`` with ``fresh``'s variables (weights, seeds) and a fresh optimizer state."""
    for target, source in zip(model.variables, fresh.variables):
        target.assign(source)
    fresh.optimizer.build(fresh.trainable_variables)
    for target, source in zip(model.optimizer.variables, fresh.optimizer.variables):
        target.assign(source)
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
        return fresh if model is None else load_state(model, fresh)

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
