"""Predict path: the trained network's forward pass in numpy.

A call into Keras has a fixed cost of framework work however few the rows, far more
than the same arithmetic in numpy. A graph made only of the layers below
(what the estimators build from dense layers) runs in numpy with the trained weights, in
X's precision as scikit-learn's MLP does (float32 for float32 X, float64 otherwise); a
graph with any other layer keeps the Keras call.

Rows go through in chunks of at most ``CHUNK_ROWS``, each dense layer writing into a
buffer of its own that later calls reuse: allocating a fresh large array per layer and
call costs as much as the arithmetic where the allocator hands large blocks back to the
system each time (seen in a process that has imported JAX).
"""

import threading

import keras
import numpy as np
from scipy.special import expit

from ._model import Columns, JointDistribution, PerLabelDense

CHUNK_ROWS = 1024


def _softmax(z):
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


# each computes in place, on the buffer just written
_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0, out=z),
    "sigmoid": lambda z: expit(z, out=z),
    "softmax": _softmax,
    "tanh": lambda z: np.tanh(z, out=z),
}


class _Buffers(threading.local):
    """Per-thread output arrays of the dense layers, kept between calls."""

    def __init__(self):
        self.arrays = {}

    def take(self, owner, rows, width, dtype):
        """A C-contiguous (rows, width) array of ``dtype`` owned by ``owner``; its
        contents are left from the last call."""
        array = self.arrays.get((owner, dtype))
        if array is None or len(array) < rows:
            array = self.arrays[(owner, dtype)] = np.empty((rows, width), dtype)
        return array[:rows]


def _outer(*distributions):
    joint = distributions[0]
    for p in distributions[1:]:
        joint = (joint[:, :, None] * p[:, None, :]).reshape(len(joint), -1)
    return joint


def _numpy_layer(layer):
    """``f(buffers, *inputs)`` computing ``layer`` at inference in numpy, or None if
    there is none here."""
    if isinstance(layer, keras.layers.Dense):
        activation = _ACTIVATIONS.get(keras.activations.serialize(layer.activation))
        if activation is None:
            return None
        kernel = layer.kernel.numpy()
        params = _in_both_precisions(kernel, layer.bias.numpy() if layer.use_bias else np.zeros(kernel.shape[1]))

        def dense(buffers, x):
            kernel, bias = params[x.dtype.type]
            z = np.matmul(x, kernel, out=buffers.take(dense, len(x), kernel.shape[1], x.dtype))
            z += bias
            return activation(z)

        return dense
    if isinstance(layer, PerLabelDense):
        return _per_label_dense(layer)
    if isinstance(layer, keras.layers.Dropout):
        return lambda buffers, x: x
    if isinstance(layer, keras.layers.Concatenate) and layer.axis in (-1, 1):
        return lambda buffers, *xs: np.concatenate(xs, axis=1)
    if isinstance(layer, keras.layers.Average):
        return lambda buffers, *xs: np.mean(xs, axis=0)
    if isinstance(layer, Columns):
        columns = np.asarray(layer.columns)
        return lambda buffers, x: x[:, columns]
    if isinstance(layer, JointDistribution):
        return lambda buffers, *distributions: _outer(*distributions)
    return None


def _in_both_precisions(*arrays):
    """``{np.float32: arrays as float32, np.float64: the float32 values as float64}``."""
    single = tuple(np.array(a, dtype=np.float32) for a in arrays)  # copies: the weights as trained now
    return {np.float32: single, np.float64: tuple(a.astype(np.float64) for a in single)}


def _per_label_dense(layer):
    activation = _ACTIVATIONS.get(keras.activations.serialize(layer.activation))
    if activation is None:
        return None
    kernel = layer.kernel.numpy()  # (labels, d, units)
    n_labels, d, units = kernel.shape
    shared = kernel.transpose(1, 0, 2).reshape(d, n_labels * units)  # all labels in one matrix
    params = _in_both_precisions(kernel, shared, layer.bias.numpy())

    def forward(buffers, x):
        kernel, shared, bias = params[x.dtype.type]
        if x.ndim == 2:
            z = np.matmul(x, shared, out=buffers.take(forward, len(x), shared.shape[1], x.dtype))
            z = z.reshape(len(x), n_labels, units)
        else:
            z = np.matmul(x.transpose(1, 0, 2), kernel).transpose(1, 0, 2)
        z += bias
        z = activation(z)
        return z[:, :, 0] if units == 1 else z

    return forward


class _Unsupported(Exception):
    pass


def numpy_forward(model, outputs=None):
    """``forward({input name: array}) -> {name: array}`` computing ``model``'s outputs (or
    the given ``{name: tensor}`` of its graph) in numpy.

    Returns None when a layer on the way is one numpy does not compute here.
    """
    outputs = model.output if outputs is None else outputs
    if not isinstance(outputs, dict):
        return None
    inputs = {tensor._keras_history[0].name: id(tensor) for tensor in model.inputs}
    steps, done = [], set(inputs.values())

    def visit(tensor):
        if id(tensor) in done:
            return
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        for parent in node.input_tensors:
            visit(parent)
        function = _numpy_layer(layer)
        if function is None:
            raise _Unsupported
        steps.append((function, [id(t) for t in node.input_tensors], id(tensor)))
        done.add(id(tensor))

    try:
        for tensor in outputs.values():
            visit(tensor)
    except _Unsupported:
        return None
    output_keys = {name: id(tensor) for name, tensor in outputs.items()}
    buffers = _Buffers()

    def forward_chunk(arrays):
        values = dict(arrays)
        for function, keys, key in steps:
            values[key] = function(buffers, *(values[k] for k in keys))
        return {name: np.array(values[key]) for name, key in output_keys.items()}  # copies out of the buffers

    def forward(arrays):
        X = {}
        for name, key in inputs.items():
            array = np.asarray(arrays[name])
            X[key] = array if array.dtype == np.float32 else array.astype(np.float64)
        n_rows = len(next(iter(X.values())))
        if n_rows <= CHUNK_ROWS:
            return forward_chunk(X)
        chunks = [
            forward_chunk({key: array[start : start + CHUNK_ROWS] for key, array in X.items()})
            for start in range(0, n_rows, CHUNK_ROWS)
        ]
        return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in output_keys}

    return forward
