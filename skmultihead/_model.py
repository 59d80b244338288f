"""Model: the Keras functional graph, features -> trunk -> one named output per head."""

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
        ``{name: fitted Head}``; each becomes an output named after it.
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
        h = x
        for j, units in enumerate(head.units):
            h = _dense(units, activation, f"{name}_hidden_{j}", seeds)(h)
        outputs[name] = _dense(head.n_outputs_, head.activation_, name, seeds)(h)
    return keras.Model(features, outputs)


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


def _metrics(head):
    if head.metrics is not None:
        return list(head.metrics)
    class_name, name = HEAD_KINDS[head.kind_]["metric"]
    return [getattr(keras.metrics, class_name)(name=name)]
