"""A network the user wrote: ``model=`` a Keras model, or a callable that builds one.

The builder follows scikeras's convention: it takes its routed ``model__<arg>`` arguments
and, when it asks for them, ``meta`` (what the estimator learned from X and y) and
``compile_kwargs``; a ``keras.Model`` given as it is is cloned from its config for every
fit (never trained in place). Its outputs are named after the heads; they are checked
against y before training, and a compiled model keeps its losses, loss weights and metrics.
"""

import inspect

import numpy as np

from ._messages import quoted
from ._params import is_keras

# scikeras's target_type_ (scikit-learn's type_of_target) of each head kind
_TARGET_TYPES = {"binary": "binary", "multiclass": "multiclass", "multilabel": "multilabel-indicator",
                 "regression": "continuous", "quantile": "continuous"}
SINGLE_INPUT = "features"  # as a network built from parameters names its one input
_ACTIVATIONS = {"binary": "sigmoid", "multiclass": "softmax", "multilabel": "sigmoid", "regression": "linear",
                "quantile": "linear"}


def builds_network(model):
    """Whether ``model`` builds the whole network rather than a trunk: a ``keras.Model``,
    or a callable that asks for ``meta`` or ``compile_kwargs`` or takes no positional
    argument (a trunk takes the input tensors)."""
    if model is None:
        return False
    if is_keras(model, "Model"):
        return True
    try:
        parameters = inspect.signature(model).parameters.values()
    except (TypeError, ValueError):
        return False
    if any(p.name in ("meta", "compile_kwargs") for p in parameters):
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return not any(p.kind in positional and p.default is p.empty for p in parameters)


def meta_of(estimator):
    """What scikeras gives a builder as ``meta``, for every head: ``{"heads": {head: {"kind",
    "classes", "n_outputs"}}}``, with scikeras's own keys for a single head."""
    heads = {
        name: {"kind": head.kind_, "classes": getattr(head, "classes_", None), "n_outputs": head.n_outputs_}
        for name, head in estimator.heads_.items()
    }
    meta = {
        "n_features_in_": estimator.n_features_in_,
        "feature_names_in_": getattr(estimator, "feature_names_in_", None),
        "heads": heads,
        "n_outputs_": len(heads),
    }
    if len(heads) == 1:
        (head,) = heads.values()
        classes = head["classes"]
        meta.update(
            classes_=classes,
            n_classes_=None if classes is None else len(classes),
            target_type_=_TARGET_TYPES[head["kind"]],
            n_outputs_expected_=1,
        )
    return meta


def build_network(model, arguments, meta, compile_kwargs):
    """``(network, its compile arguments or None)`` from the ``model`` parameter."""
    import keras

    if is_keras(model, "Model"):
        try:
            network = keras.models.clone_model(model)
        except Exception as error:  # a subclassed model, a layer Keras cannot rebuild ...
            raise ValueError(
                f"model: the Keras model given cannot be cloned from its config ({type(error).__name__}: {error}); "
                "give a function that builds it instead (model=build, as scikeras takes it)."
            ) from error
        return network, _compiled(model)
    wanted = inspect.signature(model).parameters
    extra = {"meta": meta, "compile_kwargs": compile_kwargs}
    network = model(**arguments, **{name: value for name, value in extra.items() if name in wanted})
    if not isinstance(network, keras.Model):
        raise TypeError(
            f"model {getattr(model, '__name__', model)!r} returned {type(network).__name__}; a callable given as model "
            "returns a keras.Model (the whole network, its outputs named after the heads) or, called with the "
            "dict of input tensors, a tensor (a trunk)."
        )
    return network, _compiled(network)


def _compiled(network):
    """The arguments ``network`` was compiled with (its losses, metrics, loss weights), or None."""
    config = getattr(network, "_compile_config", None)  # private: keras is pinned below 3.16
    if not network.compiled or config is None:
        return None
    return {key: config.config.get(key) for key in ("loss", "metrics", "loss_weights")}


def outputs_of(network):
    """``{output name: tensor}`` of a Keras model, whatever the structure of its outputs."""
    output = network.output
    if isinstance(output, dict):
        return dict(output)
    tensors = list(output) if isinstance(output, (list, tuple)) else [output]
    return dict(zip(network.output_names, tensors))


def wrap_network(network, heads, aux_names=(), joint=None):
    """``network`` with one output per head (and auxiliary head), named after it, checked
    against the heads; ``joint`` adds the joint distribution of the other heads."""
    import keras

    from ._model import JointDistribution

    found = outputs_of(network)
    outputs, used = {}, set(aux_names)
    for name, head in heads.items():
        if name != joint:
            outputs[name], names = _output_for(name, head, found)
            used.update(names)
    extra = [name for name in found if name not in used]
    if extra:
        raise ValueError(
            f"model has output(s) {quoted(extra)}, which are not heads: its outputs are named after the heads "
            f"({quoted([h for h in heads if h != joint])}); declare others in aux_heads={{name: {{'target': head}}}}."
        )
    for name in aux_names:
        if name not in found:
            raise ValueError(f"aux_heads names {name!r}, which is not an output of model; its outputs are {quoted(found)}.")
        outputs[name] = found[name]
    if joint is not None:
        outputs[joint] = JointDistribution(name=joint)([outputs[name] for name in heads if name != joint])
    inputs = {tensor._keras_history[0].name: tensor for tensor in network.inputs}  # as the estimator feeds them
    return keras.Model(inputs, outputs, name=network.name)


def _output_for(name, head, found):
    """(the output tensor of head ``name``, the names of the outputs it is made of), checked:
    units and activation its kind needs."""
    import keras

    labels = [str(label) for label in getattr(head, "classes_", [])]
    if name in found:
        tensor, names = found[name], [name]
    elif head.kind_ == "multilabel" and len(found) == 1:  # one (n, n_labels) output, whatever its name
        names = list(found)
        tensor = found[names[0]]
    elif head.kind_ == "multilabel" and all(label in found for label in labels):  # one output per label
        tensor, names = keras.layers.Concatenate(name=name)([found[label] for label in labels]), labels
    else:
        raise ValueError(
            f"model has no output {name!r} for head {name!r} ({_needs(head)}); its outputs are {quoted(found)}."
        )
    units, activation = tensor.shape[-1], _activation(tensor)
    binary_softmax = head.kind_ == "binary" and units == 2 and activation == "softmax"
    if not binary_softmax and (units != head.n_outputs_ or activation not in (None, _ACTIVATIONS[head.kind_])):
        raise ValueError(
            f"model output {name!r} has {units} unit(s) with activation {activation!r}; head {name!r} needs "
            f"{_needs(head)}."
        )
    return tensor, names


def _needs(head):
    classes = "" if head.kind_ in ("regression", "quantile") else f" for classes {quoted(head.classes_[:5])}"
    needs = f"{head.kind_}: {head.n_outputs_} unit(s) with activation {_ACTIVATIONS[head.kind_]!r}{classes}"
    return needs + (" (or 2 softmax units)" if head.kind_ == "binary" else "")


def _activation(tensor):
    """The name of the activation that makes ``tensor`` (None: not a layer with one)."""
    layer = tensor._keras_history[0]
    function = getattr(layer, "activation", None)
    if function is None:
        return None
    name = getattr(function, "__name__", None)
    return "linear" if name in (None, "linear") else name


def binary_as_two_classes(network, heads):
    """Heads read from 2 softmax units though their target is binary, as two-class
    multiclass heads (the units are the probabilities of the sorted classes)."""
    from ._heads import Head

    found = outputs_of(network)
    return {
        name: Head("multiclass", classes=head.classes_).fit(np.asarray(head.classes_), name)
        if head.kind_ == "binary" and name in found and found[name].shape[-1] == 2 else head
        for name, head in heads.items()
    }


class OwnNetworkMixin:
    """The estimator's side of ``model=`` building the whole network."""

    @property
    def _own(self):
        return builds_network(self.model)

    def _own_spec(self):
        """Build the user's network for this fit: its inputs fix ``input_columns_``; a
        binary head read from 2 softmax units becomes a two-class head."""
        from ._branches import resolve_branches
        from ._inputs import resolve_inputs
        from ._spec import resolve_aux_heads

        if int(self.ensemble_size) > 1 or self.branches:
            raise ValueError(
                "ensemble_size and branches build a network from parameters; with model= building the whole "
                "network, leave them at their defaults (write the ensemble or branches in your model)."
            )
        network, user = self._build_user_network()
        self.heads_ = binary_as_two_classes(network, self.heads_)
        names = [tensor._keras_history[0].name for tensor in network.inputs]
        if len(names) == 1 and self.inputs is None:
            self.input_columns_ = {SINGLE_INPUT: list(range(self.n_features_in_))}
        else:
            columns = list(getattr(self, "feature_names_in_", []))
            self.input_columns_ = resolve_inputs(self.inputs, self.remainder, self.n_features_in_, columns)
            if sorted(self.input_columns_) != sorted(names):
                raise ValueError(
                    f"model has inputs {quoted(names)}; inputs= must group X's columns into inputs of those names "
                    f"(one input takes all of X); got {quoted(self.input_columns_)}."
                )
        for tensor in network.inputs:
            name, width = tensor._keras_history[0].name, len(self.input_columns_[tensor._keras_history[0].name])
            if tensor.shape[1:] != (width,):
                raise ValueError(
                    f"model input {name!r} has shape {tuple(tensor.shape[1:])}, but X gives it {width} column(s); "
                    f"give it keras.Input(({width},)) or group X's columns with inputs=."
                )
        self.branches_ = resolve_branches(None, list(self.input_columns_))
        self.aux_heads_ = resolve_aux_heads(self.aux_heads, list(self.heads_), ["trunk"], taken=names)
        self._pending_own = self._wrapped(network), user

    def _compile_kwargs(self):
        """What scikeras gives a builder as ``compile_kwargs``."""
        return {
            "optimizer": self._optimizer(),
            "loss": {name: head.loss_ for name, head in self.heads_.items()},
            "loss_weights": self._loss_weights(list(self.heads_)),
        }

    def _wrapped(self, network):
        return wrap_network(network, self.heads_, [aux.name for aux in getattr(self, "aux_heads_", ())],
                            joint=self._graph_options().get("joint"))

    def _build_user_network(self):
        """``(network, user compile arguments)``, seeded by ``random_state``; a single input
        is named as the estimator feeds it (a builder names its layers anew at each call)."""
        from ._model import seeded_defaults

        with seeded_defaults(self._seed):
            network, user = build_network(self.model, self._routed("model"), meta_of(self), self._compile_kwargs())
        if len(network.inputs) == 1 and self.inputs is None:
            (tensor,) = network.inputs
            tensor._keras_history[0].name = tensor.name = SINGLE_INPUT
        return network, user

    def _build_own(self):
        """``(network, user compile arguments)``: the one built for this fit, else a new one."""
        pending = vars(self).pop("_pending_own", None)
        if pending is not None:
            return pending
        network, user = self._build_user_network()
        return self._wrapped(network), user


class SavedNetwork:
    """The ``model`` parameter of an estimator given a ``keras.Model`` and then saved: the
    model's Keras config, built again (under Keras's safe mode: no code from the file) at
    each fit that needs the network. A builder without arguments, as ``model=`` takes it."""

    def __init__(self, config):
        self.config = config

    @classmethod
    def of(cls, model):
        """The Keras model ``model`` as its config."""
        import keras

        return cls(keras.saving.serialize_keras_object(model))

    def __call__(self):
        import copy

        import keras

        # a copy: Keras takes keys out of the config it reads
        return keras.saving.deserialize_keras_object(copy.deepcopy(self.config), safe_mode=True)

    def __getstate__(self):
        return {"config": self.config}

    def __setstate__(self, state):
        self.config = state["config"]

    def __repr__(self):
        name = self.config.get("config", {}).get("name") if isinstance(self.config, dict) else None
        return f"SavedNetwork({name!r})"
