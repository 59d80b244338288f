"""The named output of an ensemble (``ensemble_size > 1``) for heads that predict a
distribution or quantiles: members' raw outputs are not averaged as numbers but combined.

- ``"normal"``: the members' Gaussians as an equal mixture, summed up by its mean and total
  variance, ``mean = avg(mu_i)`` and ``var = avg(sigma_i^2) + avg((mu_i - mean)^2)``.
- ``"quantile"``: the members' quantiles averaged level by level (averages of increasing
  sequences increase: they still never cross).

The result is written back in the head's own raw form (means, then softplus-inverted
scales; first quantile, then softplus-inverted steps), so everything that reads a head's
output (decoding, ``std``, losses, metrics, the numpy forward pass) reads it unchanged.
The Keras layer is `_model.EnsembleDistribution`; this module imports no framework.
"""

import numpy as np

from ._kinds import GAUSSIAN_EPSILON

_LEAST = 1e-12  # the least softplus value written back: its inverse stays finite


def combined_kind(head):
    """How an ensemble combines ``head``'s members: ``"normal"`` (a Gaussian head),
    ``"quantile"``, or None (their outputs averaged)."""
    if getattr(head, "distribution", None) is not None:
        return "normal"
    return "quantile" if head.kind_ == "quantile" else None


def combine(raws, kind, xp, softplus):
    """The combined raw output of ``raws`` (one per member), with the array functions of
    ``xp`` (numpy, or ``keras.ops`` in a layer) and that ``softplus``."""

    def inverse_softplus(y):  # log(exp(y) - 1), stable for large and tiny y
        y = xp.maximum(y, _LEAST)
        return y + xp.log(-xp.expm1(-y))

    stacked = xp.stack(raws, axis=0)
    if kind == "normal":
        n = stacked.shape[-1] // 2
        means, stds = stacked[..., :n], softplus(stacked[..., n:]) + GAUSSIAN_EPSILON
        mean = xp.mean(means, axis=0)
        variance = xp.mean(stds**2, axis=0) + xp.mean((means - mean) ** 2, axis=0)
        return xp.concatenate([mean, inverse_softplus(xp.sqrt(variance) - GAUSSIAN_EPSILON)], axis=-1)
    steps = xp.concatenate([stacked[..., :1], softplus(stacked[..., 1:])], axis=-1)
    quantiles = xp.mean(xp.cumsum(steps, axis=-1), axis=0)
    gaps = quantiles[..., 1:] - quantiles[..., :-1]
    return xp.concatenate([quantiles[..., :1], inverse_softplus(gaps)], axis=-1)


def combine_members(raws, kind):
    """`combine` in numpy (the numpy forward pass)."""
    return combine([np.asarray(r) for r in raws], kind, np, lambda x: np.logaddexp(0.0, x))
