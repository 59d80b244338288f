"""Predict path: the trained network's forward pass in numpy.

A call into Keras costs about a millisecond of framework work however few the rows; the
same arithmetic in numpy costs microseconds. A graph made only of the layers below
(what the estimators build from dense layers) runs in numpy with the trained weights, in
X's precision as scikit-learn's MLP does (float32 for float32 X, float64 otherwise); a
graph with any other layer keeps the Keras call.
"""

import keras
import numpy as np
from scipy.special import expit, softmax

from ._model import Columns, JointDistribution, PerLabelDense


def _relu(z):
    return np.maximum(z, 0.0, out=z)


_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": _relu,
    "sigmoid": expit,
    "softmax": lambda z: softmax(z, axis=-1),
    "tanh": np.tanh,
}


def _outer(*distributions):
    joint = distributions[0]
    for p in distributions[1:]:
        joint = (joint[:, :, None] * p[:, None, :]).reshape(len(joint), -1)
    return joint


def _numpy_layer(layer):
    """A numpy function computing ``layer`` at inference, or None if it has none here."""
    if isinstance(layer, keras.layers.Dense):
        activation = _ACTIVATIONS.get(keras.activations.serialize(layer.activation))
        if activation is None:
            return None
        kernel = layer.kernel.numpy()
        params = _in_both_precisions(kernel, layer.bias.numpy() if layer.use_bias else np.zeros(kernel.shape[1]))

        def dense(x):
            kernel, bias = params[x.dtype.type]
            return activation(x @ kernel + bias)

        return dense
    if isinstance(layer, PerLabelDense):
        return _per_label_dense(layer)
    if isinstance(layer, keras.layers.Dropout):
        return lambda x: x
    if isinstance(layer, keras.layers.Concatenate) and layer.axis in (-1, 1):
        return lambda *xs: np.concatenate(xs, axis=1)
    if isinstance(layer, keras.layers.Average):
        return lambda *xs: np.mean(xs, axis=0)
    if isinstance(layer, Columns):
        columns = np.asarray(layer.columns)
        return lambda x: x[:, columns]
    if isinstance(layer, JointDistribution):
        return _outer
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

    def forward(x):
        kernel, shared, bias = params[x.dtype.type]
        if x.ndim == 2:
            z = (x @ shared).reshape(len(x), n_labels, units)
        else:
            z = np.matmul(x.transpose(1, 0, 2), kernel).transpose(1, 0, 2)
        z = activation(z + bias)
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

    def forward(arrays):
        values = {}
        for name, key in inputs.items():
            X = np.asarray(arrays[name])
            values[key] = X if X.dtype == np.float32 else X.astype(np.float64)
        for function, keys, key in steps:
            values[key] = function(*(values[k] for k in keys))
        return {name: values[key] for name, key in output_keys.items()}

    return forward
