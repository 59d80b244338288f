"""Initial weights drawn by numpy from a layer's seed.

Keras's initializers draw on each backend with its own random generator; on JAX each
kernel shape then costs an XLA compile of the draw (~0.3 s each in a new process, most of
a first fit's time). Drawn by numpy, a kernel costs microseconds, compiles nothing, and the
same ``random_state`` gives the same initial weights on every backend.
"""

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="skmultihead")
class SeededUniform(keras.initializers.Initializer):
    """Values uniform in ``[-limit, limit]`` drawn by numpy from ``seed`` (None: a fresh
    draw); ``limit=None`` is Glorot's, ``sqrt(6 / (fan_in + fan_out))`` of a 2-D kernel."""

    def __init__(self, seed=None, limit=None):
        self.seed = None if seed is None else int(seed)
        self.limit = None if limit is None else float(limit)

    def __call__(self, shape, dtype=None):
        limit = self.limit if self.limit is not None else float(np.sqrt(6.0 / (shape[-2] + shape[-1])))
        dtype = keras.backend.standardize_dtype(dtype or keras.config.floatx())
        values = np.random.default_rng(self.seed).uniform(-limit, limit, size=shape).astype(dtype)
        return keras.ops.convert_to_tensor(values, dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "limit": self.limit}
