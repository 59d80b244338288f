"""Predict path: the trained network's forward pass in numpy.

A call into Keras has a fixed cost of framework work however few the rows, far more
than the same arithmetic in numpy. A graph made only of the layers below
(what the estimators build from dense layers, and embedding branches that average their
tokens) runs in numpy with the trained weights, in X's precision as scikit-learn's MLP does
(float32 for float32 X, float64 otherwise; an embedding average is float32, as Keras
computes it); a graph with any other layer keeps the Keras call.

`forward_plan` reads the graph once into plain data (steps naming their layer kind,
settings and the indices of their weights among the network's variables), which pickles
and saves as it is; `Forward` runs a plan on variable values with numpy alone, so a saved
or unpickled estimator predicts without a deep-learning framework.

Rows go through in chunks of at most ``CHUNK_ROWS``, each dense layer writing into a
buffer of its own that later calls reuse: allocating a fresh large array per layer and
call costs as much as the arithmetic where the allocator hands large blocks back to the
system each time (seen in a process that has imported JAX).
"""

import threading

import numpy as np
from scipy.special import expit

from ._mixture import combine_members
from ._unimported import tensorflow_unimported

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


# -- the plan: read from the Keras graph (needs Keras) -----------------------------------------
def _layer_step(layer, index, node):
    """``{"op": kind, "weights": [variable indices], ...settings}`` for ``layer`` at
    ``node`` (with ``"tensors"``: the inputs it reads instead of the node's), or None if
    numpy does not compute it here."""
    import keras

    from ._model import Columns, EnsembleDistribution, JointDistribution, PerLabelDense

    def activation():
        name = keras.activations.serialize(layer.activation)
        return name if isinstance(name, str) and name in _ACTIVATIONS else None

    if isinstance(layer, (keras.layers.Dense, PerLabelDense)):
        if activation() is None:
            return None
        weights = [layer.kernel] + ([layer.bias] if getattr(layer, "use_bias", True) else [])
        op = "dense" if isinstance(layer, keras.layers.Dense) else "per_label_dense"
        return {"op": op, "activation": activation(), "weights": [index[id(w)] for w in weights]}
    if isinstance(layer, keras.layers.Dropout):
        return {"op": "identity"}
    if isinstance(layer, keras.layers.Concatenate) and layer.axis in (-1, 1):
        return {"op": "concatenate"}
    if isinstance(layer, keras.layers.Average):
        return {"op": "average"}
    if isinstance(layer, EnsembleDistribution):
        return {"op": "ensemble_" + layer.kind}
    if isinstance(layer, Columns):
        return {"op": "columns", "columns": list(layer.columns)}
    if isinstance(layer, JointDistribution):
        return {"op": "joint"}
    if isinstance(layer, keras.layers.Embedding):
        return {"op": "embedding", "weights": [index[id(layer.embeddings)]]}
    if isinstance(layer, keras.layers.GlobalAveragePooling1D) and layer.data_format == "channels_last":
        embedded = node.input_tensors[0]  # (the others: the mask Keras passes along)
        source, source_node, _ = embedded._keras_history
        if isinstance(source, keras.layers.Embedding) and source.mask_zero:  # the mean over real tokens
            (ids,) = source._inbound_nodes[source_node].input_tensors
            return {"op": "masked_mean", "tensors": [embedded, ids]}
        return {"op": "mean", "tensors": [embedded]}
    return None


def forward_plan(model):
    """``model``'s forward pass as plain data (see the module docstring), or None when a
    layer on the way is one numpy does not compute here."""
    with tensorflow_unimported():  # activations are read through Keras's serialization
        return _plan(model)


def _plan(model):
    outputs = model.output
    if not isinstance(outputs, dict):
        return None
    index = {id(variable): i for i, variable in enumerate(model.variables)}
    keys = {}  # id(tensor) -> its number in the plan
    inputs = {}
    for tensor in model.inputs:
        inputs[tensor._keras_history[0].name] = keys[id(tensor)] = len(keys)
    steps = []

    def visit(tensor):
        if id(tensor) in keys:
            return True
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        step = _layer_step(layer, index, node)
        if step is None:
            return False
        tensors = step.pop("tensors", node.input_tensors)
        if not all(visit(parent) for parent in tensors):
            return False
        keys[id(tensor)] = len(keys)
        steps.append({**step, "inputs": [keys[id(t)] for t in tensors], "output": keys[id(tensor)]})
        return True

    if not all(visit(tensor) for tensor in outputs.values()):
        return None
    shapes = {i: list(v.shape) for i, v in enumerate(model.variables)}
    used = sorted({i for step in steps for i in step.get("weights", [])})
    return {
        "inputs": inputs,
        "outputs": {name: keys[id(tensor)] for name, tensor in outputs.items()},
        "steps": steps,
        "shapes": {str(i): shapes[i] for i in used},
    }


# -- running a plan (numpy alone) ----------------------------------------------------------------
def _in_both_precisions(*arrays):
    """``{np.float32: arrays as float32, np.float64: the float32 values as float64}``."""
    single = tuple(np.array(a, dtype=np.float32) for a in arrays)  # copies: the weights as trained now
    return {np.float32: single, np.float64: tuple(a.astype(np.float64) for a in single)}


def _dense(activation, kernel, bias=None):
    params = _in_both_precisions(kernel, np.zeros(kernel.shape[1]) if bias is None else bias)

    def dense(buffers, x):
        kernel, bias = params[x.dtype.type]
        z = np.matmul(x, kernel, out=buffers.take(dense, len(x), kernel.shape[1], x.dtype))
        z += bias
        return activation(z)

    return dense


def _per_label_dense(activation, kernel, bias):
    n_labels, d, units = kernel.shape  # (labels, d, units)
    shared = kernel.transpose(1, 0, 2).reshape(d, n_labels * units)  # all labels in one matrix
    params = _in_both_precisions(kernel, shared, bias)

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


def _step_function(step, values):
    op = step["op"]
    if op in ("dense", "per_label_dense"):
        weights = [values[i] for i in step["weights"]]
        build = _dense if op == "dense" else _per_label_dense
        return build(_ACTIVATIONS[step["activation"]], *weights)
    if op == "identity":
        return lambda buffers, x: x
    if op == "concatenate":
        return lambda buffers, *xs: np.concatenate(xs, axis=1)
    if op == "average":
        return lambda buffers, *xs: np.mean(xs, axis=0)
    if op in ("ensemble_normal", "ensemble_quantile"):
        kind = op.removeprefix("ensemble_")
        return lambda buffers, *xs: combine_members(xs, kind).astype(xs[0].dtype, copy=False)
    if op == "columns":
        columns = np.asarray(step["columns"], dtype=np.intp)
        return lambda buffers, x: x[:, columns]
    if op == "joint":
        return lambda buffers, *distributions: _outer(*distributions)
    if op == "embedding":
        table = np.array(values[step["weights"][0]], dtype=np.float32)
        return lambda buffers, ids: table[ids.astype(np.intp, copy=False)]  # float ids cast, as Keras does
    if op == "mean":
        return lambda buffers, x: x.mean(axis=1)
    if op == "masked_mean":
        return _masked_mean
    raise ValueError(f"unknown step {op!r} in a forward plan")


def _masked_mean(buffers, embedded, ids):
    """The mean of each row's embedded tokens whose id is not 0 (Keras's masked average:
    NaN for a row without any)."""
    mask = (ids != 0).astype(embedded.dtype)[:, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (embedded * mask).sum(axis=1) / mask.sum(axis=1)


class Forward:
    """``forward({input name: array}) -> {output name: array}``: a `forward_plan` run in
    numpy on ``values``, the network's variable values (copied)."""

    def __init__(self, plan, values):
        self.plan = plan
        self._steps = [(_step_function(s, values), s["inputs"], s["output"]) for s in plan["steps"]]
        self._buffers = _Buffers()

    def _chunk(self, values):
        for function, keys, key in self._steps:
            values[key] = function(self._buffers, *(values[k] for k in keys))
        return {name: np.array(values[key]) for name, key in self.plan["outputs"].items()}  # out of the buffers

    def __call__(self, arrays):
        X = {}
        for name, key in self.plan["inputs"].items():
            array = np.asarray(arrays[name])
            X[key] = array if array.dtype.kind in "iu" or array.dtype == np.float32 else array.astype(np.float64)
        n_rows = len(next(iter(X.values())))
        if n_rows <= CHUNK_ROWS:
            return self._chunk(X)
        chunks = [
            self._chunk({key: array[start : start + CHUNK_ROWS] for key, array in X.items()})
            for start in range(0, n_rows, CHUNK_ROWS)
        ]
        return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in self.plan["outputs"]}
