"""Routed parameters, as scikeras defines them.

Every public attribute that is not fitted state is a parameter, so routed parameters
(``optimizer__learning_rate``, ``fit__validation_split``, ``loss_weights__gender``,
``callbacks__0__patience``) are set with ``__init__(**kwargs)`` or ``set_params`` and read
back by ``get_params`` like declared ones. `build_callbacks` builds the callbacks the way
scikeras's wrappers do (tested against ``scikeras.wrappers.KerasClassifier``).
"""

import inspect

import numpy as np
from sklearn.base import clone

from ._messages import quoted, suggest
from ._params import ROUTED, InvalidParameterError, routed


class RoutedParamsMixin:
    """``get_params`` / ``set_params`` with routed and nested parameters."""

    _routing_prefixes = set(ROUTED)

    def _init_params(self, params, kwargs):
        """Store constructor arguments as they are (scikit-learn's rule for __init__)."""
        for name, value in params.items():
            if name not in ("self", "kwargs", "__class__"):
                setattr(self, name, value)
        vars(self).update(kwargs)

    @classmethod
    def _declared_params(cls):
        params = inspect.signature(cls.__init__).parameters.values()
        return [p.name for p in params if p.name != "self" and p.kind is not p.VAR_KEYWORD]

    def _get_param_names(self):
        """Every public attribute that is not fitted state: the declared parameters and the
        routed ones set by ``__init__(**kwargs)`` or ``set_params`` (as scikeras)."""
        return sorted(k for k in vars(self) if not k.endswith("_") and not k.startswith("_"))

    def get_params(self, deep=True):
        """Parameters, with each branch's as ``branches__<input>__<param>`` when ``deep``."""
        params = super().get_params(deep=deep)
        branches = params.get("branches")
        if deep and isinstance(branches, dict):  # anything else is reported at fit
            for name, branch in branches.items():
                params[f"branches__{name}"] = branch
                if hasattr(branch, "get_params"):
                    params.update({f"branches__{name}__{k}": v for k, v in branch.get_params().items()})
        return params

    def set_params(self, **params):
        """Set parameters, including routed ones (``optimizer__learning_rate``,
        ``loss_weights__<head>``, ...) and nested ones (``branches__<input>__<param>``,
        ``heads__<head>__<param>``, ``aux_heads__<name>__<key>``), which replace the branch,
        head or entry by an updated copy."""
        nested = {"branches", "heads", "aux_heads"} & set(self.get_params(deep=False))
        for name in [n for n in params if n.split("__", 1)[0] in nested and "__" in n]:
            self._set_nested(name, params.pop(name))
        declared = self._declared_params()
        known = set(declared) | set(self.get_params(deep=False))
        for name in params:
            base = name.split("__", 1)[0]
            if name not in known and base not in declared and base not in self._routing_prefixes:
                raise InvalidParameterError(
                    f"Invalid parameter {name!r} for {type(self).__name__}.{suggest(name, declared)} "
                    f"Routed parameters start with one of {quoted(sorted(self._routing_prefixes))} and '__'."
                )
        for name, value in params.items():
            if name.split("__", 1)[0] in self._routing_prefixes and "__" in name:
                setattr(self, name, value)
            else:
                super().set_params(**{name: value})
        return self

    def _set_nested(self, name, value):
        param, key, *rest = name.split("__", 2)
        entries = dict(getattr(self, param, None) or {})
        if not rest:
            entries[key] = value
        elif key not in entries:
            raise ValueError(f"cannot set {name!r}: {param} has no entry {key!r}; it has {quoted(entries)}.")
        elif param in ("branches", "heads"):
            entry = entries[key]
            if param == "heads" and isinstance(entry, str):  # a kind: the Head of that kind
                from ._heads import Head

                entry = Head(kind=entry)
            if not hasattr(entry, "set_params"):
                raise ValueError(f"cannot set {name!r}: {param}[{key!r}] is a {type(entry).__name__}, it has no "
                                 "parameters.")
            entries[key] = clone(entry).set_params(**{rest[0]: value})
        else:
            entries[key] = {**entries[key], rest[0]: value}
        setattr(self, param, entries)

    def _routed(self, prefix, strict=False):
        """The parameters routed to ``prefix``, named without it (see `_params.routed`)."""
        return routed(self.get_params(deep=False), prefix, strict=strict)

    def _loss_weights(self, head_names):
        """Merge ``loss_weights`` with routed ``loss_weights__<head>``; check head names."""
        weights = dict(getattr(self, "loss_weights", None) or {})
        weights.update(self._routed("loss_weights"))
        for name, value in weights.items():
            if name not in head_names:
                raise ValueError(
                    f"loss_weights names head {name!r}, which is not a head of this model; "
                    f"heads are {quoted(head_names)}.{suggest(name, head_names)}"
                )
            if not (np.isscalar(value) and np.isreal(value) and value >= 0):
                raise ValueError(f"loss_weights for head {name!r} must be a number >= 0; got {value!r}.")
        return weights

    def _callbacks(self):
        """The ``callbacks`` and ``fit__callbacks`` parameters as a list of callbacks, each
        class built with its routed arguments."""
        params = self.get_params(deep=False)
        return [
            *build_callbacks(params.get("callbacks"), routed(params, "callbacks")),
            *build_callbacks(params.get("fit__callbacks"), routed(params, "fit__callbacks")),
        ]


def build_callbacks(callbacks, arguments):
    """A list of Keras callbacks from a callback, a list or a dict ``{name: callback}``,
    as scikeras builds them: each callback class is built with the routed ``arguments``
    meant for every callback (``<arg>``) and those meant for it (``<index or name>__<arg>``,
    which win). Instances are used as they are."""
    if callbacks is None:
        return []
    if isinstance(callbacks, dict):
        entries = list(callbacks.items())
    elif isinstance(callbacks, (list, tuple)):
        entries = [(str(i), entry) for i, entry in enumerate(callbacks)]
    else:
        entries = [("0", callbacks)]
    common = {name: value for name, value in arguments.items() if "__" not in name}
    built = []
    for key, entry in entries:
        if isinstance(entry, type):
            entry = entry(**{**common, **routed(arguments, str(key))})
        built.append(entry)
    return built
