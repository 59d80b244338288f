"""Loss weights as run-time values of the compiled train step, not constants of its graph.

A network's outputs are weighed by non-trainable variables, held by a `LossWeights`
object tracked as one of the model's metrics: its variables are then part of the state
every backend's compiled step reads (on JAX the metric variables are an argument of the
jitted step), so a fit with other ``loss_weights`` reuses the network and its train step
with no new trace. Keras's compiled loss still records each output's unweighted loss and
multiplies it by the output's weight (here a variable) before summing them.
"""

import keras

from ._pool import assign_values
from ._spec import member_name


class LossWeights(keras.metrics.Metric):
    """One variable per output with a loss, its weight; ``defaults`` are the weights a
    user's own compiled network gave (for outputs the estimator gives none). Not a metric:
    resetting the metrics keeps the values and it reports nothing."""

    def __init__(self, outputs, defaults=None, name="skmultihead_loss_weights"):
        super().__init__(name=name)
        self.defaults = dict(defaults or {})
        self.values = {
            output: self.add_variable(shape=(), initializer="ones", dtype="float32", name=f"loss_weight_{i}")
            for i, output in enumerate(outputs)
        }

    def update_state(self, *args, **kwargs):
        pass

    def reset_state(self):
        pass

    def result(self):
        return {}


def attach_loss_weights(model, outputs, defaults=None):
    """Weigh the losses of ``model`` (compiled, its loss not yet built) by variables, one per
    output (see `LossWeights`)."""
    holder = LossWeights(outputs, defaults)
    model._compile_loss._user_loss_weights = dict(holder.values)  # read when the loss is built
    model.skmultihead_loss_weights = holder  # tracked as a metric: its variables join the train step's state
    return holder


def output_loss_weights(heads, loss_weights, defaults=None, aux_heads=(), ensemble_size=1, ensemble_loss="members"):
    """``{output: weight}`` of every output with a loss: a head's weight from ``loss_weights``,
    else ``defaults`` (a user's compiled network's), else 1; an auxiliary head's own. In an
    ensemble, "members" divides a head's weight among its members (the mean output weighs
    0); "mean" weighs the mean output only."""
    defaults = defaults or {}
    weights = {name: float(loss_weights.get(name, defaults.get(name, 1.0))) for name in heads}
    weights.update({aux.name: float(aux.weight) for aux in aux_heads})
    if ensemble_size > 1:
        on_members = ensemble_loss == "members"
        for name in list(weights):
            for i in range(ensemble_size):
                weights[member_name(i, name)] = weights[name] / ensemble_size if on_members else 0.0
            weights[name] = 0.0 if on_members else weights[name]
    return weights


def set_loss_weights(model, heads, loss_weights, **options):
    """Give the network's weight variables the values `output_loss_weights` computes."""
    holder = model.skmultihead_loss_weights
    weights = output_loss_weights(heads, loss_weights, holder.defaults, **options)
    assign_values([holder.values[output] for output in weights], list(weights.values()))
