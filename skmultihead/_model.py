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


def build_model(n_features, heads, *, hidden_layer_sizes, activation, dropout, random_state):
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
        Dropout after each hidden layer.
    random_state : int or None
        Seeds every initializer and dropout layer.
    """
    seeds = _Seeds(random_state)
    rates = layer_rates(dropout, hidden_layer_sizes)
    features = keras.Input((n_features,), name="features")
    x = features
    for i, (units, rate) in enumerate(zip(hidden_layer_sizes, rates)):
        x = _dense(units, activation, f"trunk_{i}", seeds)(x)
        if rate:
            x = keras.layers.Dropout(rate, seed=seeds(), name=f"trunk_dropout_{i}")(x)
    outputs = {}
    for name, head in heads.items():
        if head.separate:
            branches = [
                _head_output(x, head.units, 1, activation, head.activation_, label_name, seeds)
                for label_name in label_layer_names(name, head.classes_)
            ]
            outputs[name] = keras.layers.Concatenate(name=name)(branches)
        else:
            outputs[name] = _head_output(x, head.units, head.n_outputs_, activation, head.activation_, name, seeds)
    return keras.Model(features, outputs)


def _head_output(x, hidden_units, n_outputs, activation, output_activation, name, seeds):
    for j, units in enumerate(hidden_units):
        x = _dense(units, activation, f"{name}_hidden_{j}", seeds)(x)
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
