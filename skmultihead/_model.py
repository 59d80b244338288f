"""Model: the Keras functional graph, inputs -> branches -> trunk -> one named output per head
(and auxiliary outputs; members averaged in an ensemble)."""

import contextlib
import random

import keras
import numpy as np

from ._initializers import SeededUniform
from ._kinds import HEAD_KINDS
from ._loss_weights import attach_loss_weights
from ._losses import MaskedLoss, MaskedMetric
from ._mixture import combine, combined_kind
from ._spec import layer_rates, member_name


@contextlib.contextmanager
def seeded_defaults(seed):
    """Layers built meanwhile without a seed (a custom trunk's, a callable branch's) draw
    their seeds from ``random.Random(seed)`` instead of Python's global generator, which
    stays untouched. None: unchanged."""
    from keras.src.random import seed_generator  # Keras draws default seeds from its `python_random`

    if seed is None:
        yield
        return
    global_random = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = global_random


class Seeds:
    """Integer seeds for layers, drawn from ``random_state`` (None: unseeded)."""

    def __init__(self, random_state):
        self._rng = None if random_state is None else np.random.RandomState(random_state)

    def __call__(self):
        return None if self._rng is None else int(self._rng.randint(2**31 - 1))


def build_model(
    input_columns,
    heads,
    *,
    branches,
    hidden_layer_sizes,
    activation,
    dropout,
    random_state,
    trunk=None,
    aux_heads=(),
    ensemble_size=1,
    head_columns=None,
    head_hidden_layer_sizes=(),
    shared_trunk=True,
    joint=None,
):
    """Build the uncompiled Keras model.

    Parameters
    ----------
    input_columns : dict
        ``{input name: X column indices}``; each becomes a ``keras.Input`` of that name
        (int32 when its branch reads token ids).
    heads : dict
        ``{name: fitted Head}``; each becomes an output named after it. A ``separate``
        multilabel head gives each label its own weights in `PerLabelDense` layers (one
        output for all labels, not one per label: Keras would then need a target for each).
    branches : dict
        ``{input name: branch}`` (see `_branches`); their outputs are concatenated.
    hidden_layer_sizes : sequence of int
        Units of the shared trunk's dense layers, on the joined branches.
    activation : str
        Activation of the hidden layers.
    dropout : float or sequence of float
        Dropout after each hidden layer of the trunk.
    random_state : int or None
        Seeds every initializer and dropout layer.
    trunk : callable, optional
        A custom trunk ``trunk(dict of input tensors) -> tensor`` in place of the
        branches and the dense trunk.
    aux_heads : sequence of AuxHead
        Auxiliary outputs, each named after its AuxHead.
    ensemble_size : int, default=1
        Independent members (layers prefixed ``member<i>_``). Each member's outputs are
        model outputs too (``member<i>_<name>``, for their own losses); each named output
        is then the mean of the members' outputs.
    head_columns : dict, optional
        ``{head: X column indices}``: the head also reads these columns through a
        sub-network of its own (``head_hidden_layer_sizes``, layers ``<head>_features_<j>``).
    head_hidden_layer_sizes : sequence of int, default=()
        Units of each such sub-network.
    shared_trunk : bool, default=True
        Whether heads read the shared trunk; False: a head reads only its own columns.
    joint : str, optional
        A head whose output is the joint distribution of all the other (softmax) heads:
        their outer product, flattened row-major (the first head varies slowest).
    """
    seeds = Seeds(random_state)
    inputs = {
        name: keras.Input((len(columns),), dtype="int32" if branches[name].token_ids else "float32", name=name)
        for name, columns in input_columns.items()
    }
    rates = layer_rates(dropout, hidden_layer_sizes)
    members = [
        _member(
            inputs,
            heads,
            prefix=member_name(i, "") if ensemble_size > 1 else "",
            branches=branches,
            trunk=trunk,
            trunk_layers=(hidden_layer_sizes, rates) if shared_trunk else None,
            activation=activation,
            seeds=seeds,
            aux_heads=aux_heads,
            head_columns={h: _locate(c, input_columns, branches, h) for h, c in (head_columns or {}).items()},
            head_hidden_layer_sizes=head_hidden_layer_sizes,
            joint=joint,
        )
        for i in range(ensemble_size)
    ]
    if ensemble_size == 1:
        return keras.Model(inputs, members[0], name="skmultihead")
    combined = _combined_kinds(heads, aux_heads)
    outputs = {
        name: (EnsembleDistribution(combined[name], name=name) if name in combined else keras.layers.Average(name=name))(
            [m[name] for m in members]
        )
        for name in members[0]
    }
    for i, member in enumerate(members):
        outputs.update({member_name(i, name): tensor for name, tensor in member.items()})
    return keras.Model(inputs, outputs, name="skmultihead")


def _combined_kinds(heads, aux_heads):
    """``{output: "normal" | "quantile"}``: the outputs whose members are combined as
    distributions or quantiles (`_mixture`), not averaged."""
    kinds = {name: kind for name, head in heads.items() if (kind := combined_kind(head)) is not None}
    kinds.update({aux.name: kinds[aux.target] for aux in aux_heads if aux.target in kinds})
    return kinds


def _member(inputs, heads, *, prefix, branches, trunk, trunk_layers, activation, seeds, aux_heads, head_columns,
            head_hidden_layer_sizes, joint):
    """One member's outputs ``{name: tensor}``; its layers are named ``<prefix><name>``."""
    x, branch_outputs = _trunk(inputs, prefix, branches, trunk, trunk_layers, activation, seeds)
    outputs = {}
    for name, head in heads.items():
        if name == joint:
            continue
        head_input = x
        if name in head_columns:
            own = _select(inputs, head_columns[name], f"{prefix}{name}_columns")
            own = stack(own, head_hidden_layer_sizes, activation, f"{prefix}{name}_features", seeds)
            head_input = own if x is None else keras.layers.Concatenate(name=f"{prefix}{name}_inputs")([x, own])
        if head.separate:
            outputs[name] = _per_label_output(head_input, head, activation, prefix + name, seeds)
        else:
            outputs[name] = _head_output(
                head_input, head.units, head.n_outputs_, activation, head.activation_, prefix + name, seeds
            )
    if joint is not None:
        outputs[joint] = JointDistribution(name=prefix + joint)(list(outputs.values()))
    for aux in aux_heads:
        source = x if aux.source == "trunk" else branch_outputs[aux.source]
        target = heads[aux.target]
        outputs[aux.name] = _head_output(source, (), target.n_outputs_, activation, target.activation_,
                                         prefix + aux.name, seeds)
    return outputs


def _trunk(inputs, prefix, branches, trunk, trunk_layers, activation, seeds):
    """(the trunk's output, or None without a shared trunk; ``{input: its branch's output}``)."""
    if trunk is not None:
        return check_keras_tensor(trunk(dict(inputs)), "model", "the dict of input tensors"), {}
    branch_outputs = {
        name: branches[name].build(tensor, prefix + name, activation=activation, seeds=seeds)
        for name, tensor in inputs.items()
    }
    if trunk_layers is None:
        return None, branch_outputs
    joined = list(branch_outputs.values())
    x = joined[0] if len(joined) == 1 else keras.layers.Concatenate(name=f"{prefix}branches")(joined)
    return stack(x, trunk_layers[0], activation, f"{prefix}trunk", seeds, trunk_layers[1]), branch_outputs


def _locate(columns, input_columns, branches, head):
    """``{input: positions}`` of X columns ``columns`` within the inputs holding them."""
    where = {c: (name, i) for name, cols in input_columns.items() for i, c in enumerate(cols)}
    located = {}
    for column in columns:
        if column not in where:
            raise ValueError(f"head {head!r} reads X column {column}, which no input holds (remainder='drop').")
        name, position = where[column]
        if branches[name].token_ids:
            raise ValueError(f"head {head!r} reads X column {column} of token input {name!r}; it needs numeric columns.")
        located.setdefault(name, []).append(position)
    return located


def _select(inputs, located, name):
    parts = [
        Columns(positions, name=name if len(located) == 1 else f"{name}_{input_name}")(inputs[input_name])
        for input_name, positions in located.items()
    ]
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=name)(parts)


def check_keras_tensor(value, what, given):
    """``value`` if it is a 2-D Keras tensor, else a clear error about ``what`` returned it."""
    if not isinstance(value, keras.KerasTensor):
        raise TypeError(
            f"{what} must return one Keras tensor, built from {given}; it returned {type(value).__name__}."
        )
    if len(value.shape) != 2:
        raise ValueError(
            f"{what} returned a tensor of shape {tuple(value.shape)}; it must be 2-D (samples, features), "
            "e.g. end it with keras.layers.Flatten()."
        )
    return value


def stack(x, sizes, activation, prefix, seeds, rates=None):
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


@keras.saving.register_keras_serializable(package="skmultihead")
class EnsembleDistribution(keras.layers.Layer):
    """The members' outputs of a Gaussian (``kind="normal"``) or quantile head combined
    (see `_mixture`)."""

    def __init__(self, kind, **kwargs):
        super().__init__(**kwargs)
        if kind not in ("normal", "quantile"):
            raise ValueError(f"kind must be 'normal' or 'quantile'; got {kind!r}.")
        self.kind = kind

    def call(self, raws):
        return combine(list(raws), self.kind, keras.ops, keras.ops.softplus)

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}


def _head_output(x, hidden_units, n_outputs, activation, output_activation, name, seeds):
    x = stack(x, hidden_units, activation, f"{name}_hidden", seeds)
    return _dense(n_outputs, output_activation, name, seeds)(x)


def _per_label_output(x, head, activation, name, seeds):
    """A separate multilabel head: each label's own hidden layers (``head.units``) and
    one-unit output, all labels in one `PerLabelDense` layer per depth."""
    n_labels = head.n_outputs_
    for i, units in enumerate(head.units):
        x = PerLabelDense(n_labels, units, activation, seed=seeds(), name=f"{name}_hidden_{i}")(x)
    return PerLabelDense(n_labels, 1, head.activation_, seed=seeds(), name=name)(x)


@keras.saving.register_keras_serializable(package="skmultihead")
class PerLabelDense(keras.layers.Layer):
    """One dense layer per label, computed as one batched product.

    Label ``j`` has its own ``kernel[j]`` (input width x ``units``) and ``bias[j]``; each is
    initialised as a Dense layer of ``units`` units would be (Glorot uniform, zero bias).
    The input is shared by the labels, (n, d), or each label's own, (n, n_labels, d). The
    output is (n, n_labels, units), or (n, n_labels) for one unit per label. The same
    as ``n_labels`` separate Dense layers, at the cost of about one.
    """

    def __init__(self, n_labels, units, activation=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.n_labels, self.units, self.seed = int(n_labels), int(units), seed
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        limit = float(np.sqrt(6.0 / (fan_in + self.units)))
        self.kernel = self.add_weight(
            shape=(self.n_labels, fan_in, self.units),
            initializer=SeededUniform(self.seed, limit),
            name="kernel",
        )
        self.bias = self.add_weight(shape=(self.n_labels, self.units), initializer="zeros", name="bias")

    def call(self, x):
        equation = "nd,kdu->nku" if len(x.shape) == 2 else "nkd,kdu->nku"
        z = self.activation(keras.ops.einsum(equation, x, self.kernel) + self.bias)
        return z[:, :, 0] if self.units == 1 else z

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0], self.n_labels)
        return shape if self.units == 1 else (*shape, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "n_labels": self.n_labels,
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "seed": self.seed,
        }


def _dense(units, activation, name, seeds):
    return keras.layers.Dense(
        int(units), activation=activation, name=name, kernel_initializer=SeededUniform(seeds())
    )


def compile_model(
    model,
    heads,
    *,
    optimizer,
    aux_heads=(),
    ensemble_size=1,
    head_losses=None,
    run_eagerly=False,
    steps_per_execution=1,
    masked=False,
    user_compile=None,
):
    """Compile with each head's loss and metrics; an auxiliary output takes its target
    head's loss and metrics. The losses are weighed by variables (`_loss_weights`: set them
    with `set_loss_weights` before training). With ``masked``, every output's targets carry
    a mask of the rows (multilabel: the entries) that have a label, and its loss and
    metrics count those only (`_losses.MaskedLoss`).

    In an ensemble every member has its head's loss; metrics are the mean output's.
    ``head_losses`` (``{head: loss}``) replaces heads' own losses. ``user_compile`` (the
    ``loss``, ``metrics`` and ``loss_weights`` a user's own network was compiled with)
    replaces them in turn; its ``loss_weights`` are the defaults of the estimator's.
    """
    user = _per_output(user_compile or {}, list(heads))
    outputs = {**heads, **{aux.name: heads[aux.target] for aux in aux_heads}}
    head_losses = {**(head_losses or {}), **user["loss"]}
    losses = {name: _registered(head_losses.get(name, head_losses.get(head.name_, head.loss_)))
              for name, head in outputs.items()}
    members = {member_name(i, name): name for name in outputs for i in range(ensemble_size)} if ensemble_size > 1 else {}
    losses.update({member: losses[name] for member, name in members.items()})
    metrics = {name: user["metrics"].get(name) or _metrics(head) for name, head in outputs.items()}
    if masked:
        per_entry = {name: outputs[members.get(name, name)].kind_ == "multilabel" for name in losses}
        losses = {name: MaskedLoss(loss, per_entry[name]) for name, loss in losses.items()}
        metrics = {
            name: [MaskedMetric(_metric_object(m, outputs[name]), per_entry[name]) for m in metrics[name]]
            for name in outputs
        }
    model.compile(
        optimizer=optimizer,
        loss=losses,
        metrics=metrics,
        run_eagerly=run_eagerly,
        steps_per_execution=steps_per_execution,
    )
    attach_loss_weights(model, list(losses), user["loss_weights"])
    return model


def _registered(loss):
    """A loss of this package's named by its registered name ("skmultihead>gaussian_nll")
    or given as a config ({"class_name": "skmultihead>PinballLoss", ...}) as the object."""
    if isinstance(loss, str) and ">" in loss:
        return keras.saving.get_registered_object(loss) or loss
    if isinstance(loss, dict):
        return keras.saving.get_registered_object(loss["class_name"])(**loss["config"])
    return loss


def _per_output(compiled, names):
    """``{"loss": {output: loss}, "metrics": {output: [metrics]}, "loss_weights": {output:
    weight}}`` from compile arguments given as a dict, a list (in output order) or one value
    for every output."""

    def spread(value):
        if value is None:
            return {}
        if isinstance(value, dict):
            return dict(value)
        if isinstance(value, (list, tuple)):
            return dict(zip(names, value))
        return {name: value for name in names}

    metrics = compiled.get("metrics")
    if isinstance(metrics, (list, tuple)) and not any(isinstance(m, (list, tuple, dict)) for m in metrics):
        metrics = {name: list(metrics) for name in names}  # one list for every output
    return {
        "loss": spread(compiled.get("loss")),
        "metrics": {name: list(m) if isinstance(m, (list, tuple)) else [m] for name, m in spread(metrics).items()},
        "loss_weights": spread(compiled.get("loss_weights")),
    }


def _metrics(head):
    if head.metrics is not None:
        return list(head.metrics)
    if getattr(head, "distribution", None) is not None:  # the error of the mean, named as a regression head's
        from ._losses import gaussian_mean_absolute_error

        return [keras.metrics.MeanMetricWrapper(gaussian_mean_absolute_error, name="mae")]
    if head.kind_ == "quantile":  # the error of the median
        from ._kinds import middle_quantile
        from ._losses import quantile_mean_absolute_error

        middle = middle_quantile(head.quantiles)
        return [keras.metrics.MeanMetricWrapper(quantile_mean_absolute_error, name="mae", middle=middle)]
    class_name, name = HEAD_KINDS[head.kind_]["metric"]
    return [getattr(keras.metrics, class_name)(name=name)]


def _metric_object(metric, head):
    """A metric given by name as a Keras metric object, "accuracy" resolved for the head's
    kind as Keras's compile resolves it."""
    if isinstance(metric, keras.metrics.Metric):
        return metric
    if metric in ("accuracy", "acc"):
        sparse = head.kind_ == "multiclass" and not head.one_hot_
        kind = "sparse" if sparse else "binary" if head.kind_ in ("binary", "multilabel") else ""
        return {"sparse": keras.metrics.SparseCategoricalAccuracy, "binary": keras.metrics.BinaryAccuracy}.get(
            kind, keras.metrics.CategoricalAccuracy
        )(name=metric)
    found = keras.metrics.get(metric)
    if isinstance(found, keras.metrics.Metric):
        return found
    return keras.metrics.MeanMetricWrapper(found, name=metric if isinstance(metric, str) else found.__name__)

