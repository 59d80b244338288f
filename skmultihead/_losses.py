"""The package's own losses and metric wrappers: per-label weighted cross-entropy, and the
masked losses and metrics of heads whose targets may be missing.

A masked head's target carries its mask: the target's columns followed by a 0/1 mask
column (one per row), or for a head masked per entry (multilabel: each label of each row
known or not) as many mask columns as target columns. `with_mask` builds such targets.
"""

import keras
import numpy as np
from keras.src.losses.losses import LossFunctionWrapper


def with_mask(values, mask, per_entry=False):
    """``values`` (missing entries already filled with any valid value) followed by the
    mask, as a float32 target of a masked head (see the module docstring)."""
    values = np.asarray(values, dtype="float32")
    values = values.reshape(len(values), -1)
    mask = np.asarray(mask, dtype="float32").reshape(len(values), -1 if per_entry else 1)
    return np.concatenate([values, mask], axis=1)


def _split(y_true, per_entry):
    if per_entry:
        n = keras.ops.shape(y_true)[-1] // 2
        return y_true[..., :n], y_true[..., n:]
    return y_true[..., :-1], y_true[..., -1]


def _as_loss(loss):
    loss = keras.losses.get(loss)
    return loss if isinstance(loss, keras.losses.Loss) else LossFunctionWrapper(loss)


@keras.saving.register_keras_serializable(package="skmultihead")
class MaskedLoss(keras.losses.Loss):
    """A head's ``loss`` over its labeled rows (or entries, ``per_entry``) only.

    The batch loss is the sample-weighted sum of the labeled rows' losses divided by their
    number, as Keras reduces a masked loss: with every row labeled it is ``loss`` itself,
    it does not shrink with the share of missing labels, and a batch without labels adds 0.
    """

    def __init__(self, loss, per_entry=False, name=None, **kwargs):
        self.loss = _as_loss(loss)
        self.per_entry = bool(per_entry)
        super().__init__(name=name or f"masked_{self.loss.name}", **kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = keras.ops.convert_to_tensor(y_pred, dtype=self.dtype)
        values, mask = _split(keras.ops.convert_to_tensor(y_true, dtype=self.dtype), self.per_entry)
        if not self.per_entry:
            losses = self.loss.call(values, y_pred)
        elif hasattr(self.loss, "elementwise"):
            losses = self.loss.elementwise(values, y_pred)
        else:  # the loss of each entry on its own
            losses = self.loss.call(values[..., None], y_pred[..., None])
        weights = keras.ops.cast(mask, self.dtype)
        if sample_weight is not None:
            sample_weight = keras.ops.cast(sample_weight, self.dtype)
            if self.per_entry and len(sample_weight.shape) == 1:  # a weight per row
                sample_weight = keras.ops.expand_dims(sample_weight, -1)
            weights = weights * sample_weight  # a new tensor: the weights are shared by the outputs
        # as Keras reduces a masked loss: the weighted sum over the labeled entries / their number
        return keras.ops.divide_no_nan(keras.ops.sum(losses * weights), keras.ops.sum(keras.ops.cast(mask, self.dtype)))

    def call(self, y_true, y_pred):
        raise NotImplementedError("MaskedLoss reduces its losses itself; call the loss object.")

    def get_config(self):
        return {
            "name": self.name,
            "loss": keras.saving.serialize_keras_object(self.loss),
            "per_entry": self.per_entry,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = keras.saving.deserialize_keras_object(config["loss"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="skmultihead")
class MaskedMetric(keras.metrics.Metric):
    """``metric`` over the labeled rows (or entries, ``per_entry``) of a masked head: the
    others weigh 0. Named as ``metric``, so ``history_`` keys do not change."""

    def __init__(self, metric, per_entry=False, name=None, dtype=None):
        metric = keras.metrics.get(metric)
        super().__init__(name=name or metric.name, dtype=dtype or metric.dtype)
        self.metric = metric
        self.per_entry = bool(per_entry)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values, mask = _split(keras.ops.convert_to_tensor(y_true, dtype=self.dtype), self.per_entry)
        if self.per_entry:
            values, y_pred = values[..., None], y_pred[..., None]
            if sample_weight is not None and len(sample_weight.shape) == 1:  # a weight per row
                sample_weight = keras.ops.expand_dims(sample_weight, -1)
        weight = mask if sample_weight is None else mask * keras.ops.cast(sample_weight, mask.dtype)
        return self.metric.update_state(values, y_pred, sample_weight=weight)

    def result(self):
        return self.metric.result()

    def reset_state(self):
        self.metric.reset_state()

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "metric": keras.saving.serialize_keras_object(self.metric),
            "per_entry": self.per_entry,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["metric"] = keras.saving.deserialize_keras_object(config["metric"])
        return cls(**config)


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

    def elementwise(self, y_true, y_pred):
        """The weighted loss of each label of each row."""
        y_true = keras.ops.cast(y_true, y_pred.dtype)
        positive = keras.ops.convert_to_tensor(self.positive_weights, y_pred.dtype)
        negative = keras.ops.convert_to_tensor(self.negative_weights, y_pred.dtype)
        weights = y_true * positive + (1.0 - y_true) * negative
        return weights * keras.ops.binary_crossentropy(y_true, y_pred)

    def call(self, y_true, y_pred):
        return keras.ops.mean(self.elementwise(y_true, y_pred), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(positive_weights=self.positive_weights, negative_weights=self.negative_weights)
        return config


def _gaussian(y_true, y_pred):
    """(target, mean, standard deviation) of a Gaussian head's target and output."""
    from ._kinds import GAUSSIAN_EPSILON

    n = keras.ops.shape(y_pred)[-1] // 2
    mean, std = y_pred[..., :n], keras.ops.softplus(y_pred[..., n:]) + GAUSSIAN_EPSILON
    return keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(mean)), mean, std


@keras.saving.register_keras_serializable(package="skmultihead")
def gaussian_nll(y_true, y_pred):
    """The Gaussian negative log-likelihood of the target under a head's (mean, scale)
    output, the scale made positive by softplus; averaged over the target's columns."""
    y, mean, std = _gaussian(y_true, y_pred)
    nll = keras.ops.log(std) + 0.5 * keras.ops.square((y - mean) / std) + 0.5 * float(np.log(2 * np.pi))
    return keras.ops.mean(nll, axis=-1)


@keras.saving.register_keras_serializable(package="skmultihead")
def gaussian_mean_absolute_error(y_true, y_pred):
    """The mean absolute error of a Gaussian head's mean."""
    y, mean, _ = _gaussian(y_true, y_pred)
    return keras.ops.mean(keras.ops.abs(y - mean), axis=-1)


def _quantiles(y_true, y_pred):
    """(target as a column, the quantiles a head's output stands for: see `_kinds.quantile_values`)."""
    steps = keras.ops.concatenate([y_pred[..., :1], keras.ops.softplus(y_pred[..., 1:])], axis=-1)
    y = keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), (-1, 1))
    return y, keras.ops.cumsum(steps, axis=-1)


@keras.saving.register_keras_serializable(package="skmultihead")
class PinballLoss(keras.losses.Loss):
    """The pinball (quantile) loss of each level of ``quantiles``, averaged over them."""

    def __init__(self, quantiles, name="pinball_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.quantiles = [float(q) for q in quantiles]

    def call(self, y_true, y_pred):
        y, predicted = _quantiles(y_true, y_pred)
        levels = keras.ops.convert_to_tensor(self.quantiles, y_pred.dtype)
        error = y - predicted
        return keras.ops.mean(keras.ops.maximum(levels * error, (levels - 1.0) * error), axis=-1)

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles}


@keras.saving.register_keras_serializable(package="skmultihead")
def quantile_mean_absolute_error(y_true, y_pred, middle=0):
    """The mean absolute error of a quantile head's ``middle`` quantile (its median)."""
    y, predicted = _quantiles(y_true, y_pred)
    return keras.ops.abs(y[:, 0] - predicted[:, middle])

