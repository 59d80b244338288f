"""Keras serialization on the JAX and PyTorch backends without importing TensorFlow.

Keras's ``serialize_keras_object`` asks whether TensorFlow is available, to recognize its
shapes and dtypes, and that question imports TensorFlow: seconds in a new process on the
other backends (the first fit on JAX paid 2.3 s of its 4.7 s for it). While TensorFlow is
not imported no object can be one of its types, so within `tensorflow_unimported` the
answer is no. (It sets an attribute of Keras's lazy module: Keras is pinned below 3.16.)
"""

import contextlib
import sys


@contextlib.contextmanager
def tensorflow_unimported():
    """Within this block Keras's serialization takes TensorFlow as unavailable, unless it is
    imported already."""
    import keras

    lazy = keras.src.utils.module_utils.tensorflow
    if lazy._available is not None or "tensorflow" in sys.modules:
        yield
        return
    lazy._available = False
    try:
        yield
    finally:
        lazy._available = None
