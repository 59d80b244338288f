"""Batches padded to a fixed number of rows, trained and evaluated as their real rows alone.

XLA compiles for fixed shapes, so the JAX engine and TensorFlow's XLA epoch pad a partial
batch to the full batch size. Padded rows weigh 0 and carry no label (their targets are
zeros, so a masked loss's mask is 0). A loss averaged over the batch divides by all its
rows, so the real rows' loss weights are scaled by ``batch_size / rows``: the loss and its
gradient are those of the unpadded batch (a masked loss averages over its labeled rows
itself). The compiled metrics weigh the padded rows 0.

Keras weighs each head's loss tracker by the batch's number of rows where that is known
while tracing (JAX), by 1 where it is not (TensorFlow's graphs of any number of rows). So
the JAX engine re-weighs the trackers by the real rows (`reweigh_trackers`), and on
TensorFlow a padded batch, of as many rows as every other, weighs what the others do.
"""

import keras


def loss_scale(batch_size, rows, masked):
    """The factor of the real rows' loss weights in a batch of ``rows`` real rows."""
    if masked:
        return 1.0
    return batch_size / keras.ops.maximum(keras.ops.cast(rows, "float32"), 1.0)


def reweigh_trackers(before, after, rows, batch_size):
    """Values of metric variables after a batch of ``rows`` real rows: what the batch added
    to each (weighted by the padded batch's rows) weighted by the real rows instead."""
    fraction = keras.ops.cast(rows, "float32") / batch_size
    return [
        keras.ops.where(rows == batch_size, a, b + keras.ops.cast((a - b) * fraction, a.dtype))
        for b, a in zip(before, after)
    ]


def update_compiled_metrics(compiled, y, y_pred, metric_weights, real):
    """As ``CompileMetrics.update_state``, with the padded rows (``real`` False) weighing 0
    in the unweighted metrics too (``metric_weights`` weigh them 0 already)."""
    real = keras.ops.cast(real, "float32")
    y, y_pred = compiled._flatten_y(y), compiled._flatten_y(y_pred)
    if isinstance(metric_weights, dict):
        metric_weights = compiled._flatten_y(metric_weights)
    else:
        metric_weights = [metric_weights] * len(y)
    for metric, truth, predicted in zip(compiled._flat_metrics, y, y_pred):
        if metric:
            metric.update_state(truth, predicted, sample_weight=real)
    for metric, truth, predicted, weights in zip(compiled._flat_weighted_metrics, y, y_pred, metric_weights):
        if metric:
            metric.update_state(truth, predicted, sample_weight=weights)
