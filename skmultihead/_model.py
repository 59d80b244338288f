"""Model: the Keras functional graph, features -> trunk -> one named output per head."""

import re

import keras
import numpy as np

from ._heads import HEAD_KINDS


def layer_rates(dropout, hidden_layer_sizes):
    """One dropout rate per hidden layer from a float or a sequence."""
    if np.ndim(dropout) == 0:
        rates = [float(dropout)] * len(hidden_layer_sizes)
    else:
        rates = [float(r) for r in dropout]
        if len(rates) != len(hidden_layer_sizes):
            raise ValueError(
                f"dropout has {len(rates)} rates but hidden_layer_sizes has {len(hidden_layer_sizes)} layers; "
                "give one float or one rate per layer."
            )
    if not all(0.0 <= r < 1.0 for r in rates):
        raise ValueError(f"dropout rates must be in [0, 1); got {dropout!r}.")
    return rates


class _Seeds:
    """Integer seeds for layers, drawn from ``random_state`` (None: unseeded)."""

    def __init__(self, random_state):
        self._rng = None if random_state is None else np.random.RandomState(random_state)

    def __call__(self):
        return None if self._rng is None else int(self._rng.randint(2**31 - 1))


def build_model(
    n_features,
    heads,
    *,
    hidden_layer_sizes,
    activation,
    dropout,
    random_state,
    head_columns=None,
    head_hidden_layer_sizes=(),
    shared_trunk=True,
    joint=None,
):
    """Build the uncompiled Keras model.

    Parameters
    ----------
    n_features : int
        Width of the input.
    heads : dict
        ``{name: fitted Head}``; each becomes an output named after it. A ``separate``
        multilabel head concatenates one one-unit layer per label, named ``<head>_<label>``
        (layers, not model outputs: Keras would then need a target for each).
    hidden_layer_sizes : sequence of int
        Units of the shared trunk's dense layers.
    activation : str
        Activation of the hidden layers.
    dropout : float or sequence of float
        Dropout after each hidden layer of the trunk.
    random_state : int or None
        Seeds every initializer and dropout layer.
    head_columns : dict, optional
        ``{head: column indices}``: the head also reads these columns of the input through
        a sub-network of its own (``head_hidden_layer_sizes``, layers ``<head>_features_<j>``).
    head_hidden_layer_sizes : sequence of int, default=()
        Units of each such sub-network.
    shared_trunk : bool, default=True
        Whether heads read the shared trunk; False: a head reads only its own columns.
    joint : str, optional
        A head whose output is the joint distribution of all the other (softmax) heads:
        their outer product, flattened row-major (the first head varies slowest).
    """
    seeds = _Seeds(random_state)
    features = keras.Input((n_features,), name="features")
    head_columns = head_columns or {}
    trunk = None
    if shared_trunk:
        rates = layer_rates(dropout, hidden_layer_sizes)
        trunk = _stack(features, hidden_layer_sizes, activation, "trunk", seeds, rates)
    outputs = {}
    for name, head in heads.items():
        if name == joint:
            continue
        x = trunk
        if name in head_columns:
            own = Columns(head_columns[name], name=f"{name}_columns")(features)
            own = _stack(own, head_hidden_layer_sizes, activation, f"{name}_features", seeds)
            x = own if trunk is None else keras.layers.Concatenate(name=f"{name}_inputs")([trunk, own])
        if head.separate:
            branches = [
                _head_output(x, head.units, 1, activation, head.activation_, label_name, seeds)
                for label_name in label_layer_names(name, head.classes_)
            ]
            outputs[name] = keras.layers.Concatenate(name=name)(branches)
        else:
            outputs[name] = _head_output(x, head.units, head.n_outputs_, activation, head.activation_, name, seeds)
    if joint is not None:
        outputs[joint] = JointDistribution(name=joint)(list(outputs.values()))
    return keras.Model(features, outputs, name="skmultihead")


def _stack(x, sizes, activation, prefix, seeds, rates=None):
    """Dense layers ``<prefix>_<i>``, each followed by dropout when its rate is not 0."""
    for i, units in enumerate(sizes):
        x = _dense(units, activation, f"{prefix}_{i}", seeds)(x)
        if rates is not None and rates[i]:
            x = keras.layers.Dropout(rates[i], seed=seeds(), name=f"{prefix}_dropout_{i}")(x)
    return x


@keras.saving.register_keras_serializable(package="skmultihead")
class Columns(keras.layers.Layer):
    """The given columns of a 2-D input."""

    def __init__(self, columns, **kwargs):
        super().__init__(**kwargs)
        self.columns = [int(c) for c in columns]

    def call(self, x):
        return keras.ops.take(x, self.columns, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.columns))

    def get_config(self):
        return {**super().get_config(), "columns": self.columns}


@keras.saving.register_keras_serializable(package="skmultihead")
class JointDistribution(keras.layers.Layer):
    """Outer product of independent distributions, flattened row-major: p(a, b) = p(a) p(b)."""

    def call(self, distributions):
        joint = distributions[0]
        for p in distributions[1:]:
            joint = keras.ops.reshape(joint[:, :, None] * p[:, None, :], (-1, joint.shape[1] * p.shape[1]))
        return joint

    def compute_output_shape(self, input_shapes):
        return (input_shapes[0][0], int(np.prod([shape[1] for shape in input_shapes])))


def _head_output(x, hidden_units, n_outputs, activation, output_activation, name, seeds):
    x = _stack(x, hidden_units, activation, f"{name}_hidden", seeds)
    return _dense(n_outputs, output_activation, name, seeds)(x)


def label_layer_names(head_name, labels):
    """Keras names of a separate head's per-label output layers: ``<head>_<label>``, made safe
    for Keras (letters, digits, ``_``, ``.``, ``-``) and unique."""
    names = []
    for label in labels:
        base = f"{head_name}_{re.sub(r'[^0-9A-Za-z_.-]+', '_', str(label))}"
        name, k = base, 1
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


def _dense(units, activation, name, seeds):
    return keras.layers.Dense(
        int(units), activation=activation, name=name, kernel_initializer=keras.initializers.GlorotUniform(seeds())
    )


def compile_model(model, heads, *, optimizer, loss_weights, run_eagerly=False):
    """Compile with each head's loss, weight and metrics."""
    model.compile(
        optimizer=optimizer,
        loss={name: head.loss_ for name, head in heads.items()},
        loss_weights={name: float(loss_weights.get(name, 1.0)) for name in heads},
        metrics={name: _metrics(head) for name, head in heads.items()},
        run_eagerly=run_eagerly,
    )
    return model


@keras.saving.register_keras_serializable(package="skmultihead")
class WeightedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy of each label, weighted by its target, averaged over labels.

    A label's positive examples weigh ``positive_weights[j]``, its negatives
    ``negative_weights[j]`` (Keras's ``class_weight`` does not apply to multi-output
    models). With all weights 1 this is Keras's ``binary_crossentropy``.
    """

    def __init__(self, positive_weights, negative_weights, name="weighted_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positive_weights = [float(w) for w in positive_weights]
        self.negative_weights = [float(w) for w in negative_weights]

    def call(self, y_true, y_pred):
        y_true = keras.ops.cast(y_true, y_pred.dtype)
        positive = keras.ops.convert_to_tensor(self.positive_weights, y_pred.dtype)
        negative = keras.ops.convert_to_tensor(self.negative_weights, y_pred.dtype)
        weights = y_true * positive + (1.0 - y_true) * negative
        return keras.ops.mean(weights * keras.ops.binary_crossentropy(y_true, y_pred), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(positive_weights=self.positive_weights, negative_weights=self.negative_weights)
        return config


def _metrics(head):
    if head.metrics is not None:
        return list(head.metrics)
    class_name, name = HEAD_KINDS[head.kind_]["metric"]
    return [getattr(keras.metrics, class_name)(name=name)]
