"""Network spec: the framework-free parts of a network's description (auxiliary heads,
ensemble member names, dropout rates per layer), read at predict time too."""

import numbers
from typing import NamedTuple

import numpy as np

from ._inputs import check_output_name
from ._messages import quoted, suggest


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


class AuxHead(NamedTuple):
    """An auxiliary output: ``target``'s kind of output read from ``source`` (a branch or
    "trunk"), trained with loss weight ``weight``; not part of the predictions."""

    name: str
    source: str
    target: str
    weight: float


def resolve_aux_heads(aux_heads, heads, sources, taken):
    """The ``aux_heads`` parameter as a tuple of AuxHead, checked: each names a target in
    ``heads``, reads one of ``sources`` and has a name not in ``heads`` or ``taken``."""
    specs = aux_heads or {}
    resolved = []
    for name, spec in specs.items():
        check_output_name(name, "auxiliary head")
        if name in heads or name in taken:
            raise ValueError(f"auxiliary head {name!r} has the name of a head or input; give it its own name.")
        if not isinstance(spec, dict) or set(spec) - {"branch", "target", "weight"}:
            raise ValueError(
                f"aux_heads[{name!r}] must be a dict with keys 'branch' (default 'trunk'), 'target' and "
                f"'weight' (default 1.0); got {spec!r}."
            )
        target = spec.get("target", heads[0] if len(heads) == 1 else None)
        if target not in heads:
            raise ValueError(
                f"aux_heads[{name!r}] predicts target {target!r}, which is not a head; the heads are "
                f"{quoted(heads)}.{suggest(target, heads)}"
            )
        source = spec.get("branch", "trunk")
        if source not in sources:
            raise ValueError(
                f"aux_heads[{name!r}] reads branch {source!r}, which this model does not have; it can read "
                f"{quoted(sources)}.{suggest(source, sources)}"
            )
        weight = spec.get("weight", 1.0)
        if not isinstance(weight, numbers.Real) or isinstance(weight, bool) or weight < 0:
            raise ValueError(f"aux_heads[{name!r}] weight must be a number >= 0; got {weight!r}.")
        resolved.append(AuxHead(name, source, target, float(weight)))
    return tuple(resolved)


def member_name(i, name):
    """Name of ensemble member ``i``'s layer or output ``name``."""
    return f"member{i}_{name}"
