"""The lean TensorFlow train step: what training needs per batch, nothing more.

Keras's ``train_step`` also updates every compiled metric at every batch and applies the
optimizer through its generic per-variable update, which for a small network is most of
the graph a step runs. Here a batch runs the forward pass, the compiled loss (each head's
loss, its loss-weight variable, the per-head and total loss trackers, the regularization
losses), the gradients and the optimizer's update; the predictions of the epoch's batches
are kept and the compiled metrics updated once on all of them at the end of the call,
which gives the values Keras's per-batch updates give (they only accumulate per-row
values). Plain Adam (no weight decay, clipping, EMA, accumulation, AMSGrad or variable
constraints) updates each variable with TensorFlow's fused kernel ``ResourceApplyAdam``,
whose formula is Keras Adam's; other optimizers update through Keras.

`padded_epoch` runs the same step over batches of a fixed number of rows (`_padded`), so
that XLA compiles a whole epoch as one program: on a small network, most of an epoch's
time in a graph is TensorFlow's executor dispatching small ops, which XLA fuses away.

A network whose class overrides ``train_step``, ``compute_loss`` or ``compute_metrics``
trains through its own ``train_step``.
"""

import keras
import tensorflow as tf

from ._padded import loss_scale, update_compiled_metrics


def epoch_of_lean_steps(model, data, order, batch_size):
    """Train on the rows ``order`` of ``data`` (``(x, y, sample_weight)``) in batches; then
    update the compiled metrics with the predictions of every batch (inside a tf.function)."""
    x_all, y_all, weights_all = data
    apply = _update(model)
    n = tf.shape(order)[0]
    n_batches = (n + batch_size - 1) // batch_size
    outputs = tf.nest.map_structure(
        lambda t: tf.TensorArray(t.dtype, size=n_batches, infer_shape=False, element_shape=(None, *t.shape[1:])),
        model.output,
    )

    def body(i, predictions):
        rows = order[i * batch_size : tf.minimum((i + 1) * batch_size, n)]
        x, y, weights = tf.nest.map_structure(lambda a: tf.gather(a, rows), data)
        y_pred = _step(model, x, y, weights, tf.shape(rows)[0], apply)
        return i + 1, tf.nest.map_structure(lambda array, p: array.write(i, p), predictions, y_pred)

    _, predictions = tf.while_loop(lambda i, _: i < n_batches, body, (tf.constant(0), outputs))
    if model._compile_metrics is not None:
        y, weights = tf.nest.map_structure(lambda a: tf.gather(a, order), (y_all, weights_all))
        model.compute_metrics(x_all, y, tf.nest.map_structure(lambda array: array.concat(), predictions), weights)


def padded_epoch(model, data, order, count, batch_size, training, masked):
    """Train on (or with ``training`` False, evaluate) the rows ``order[:count]`` of
    ``data`` in batches of the static ``batch_size``, the last one padded (`_padded`):
    every shape is fixed, so XLA compiles the whole loop. Each batch runs what the lean
    step runs, and updates the compiled metrics on its real rows. Returns the metrics'
    results after the first batch."""
    n_batches = (count + batch_size - 1) // batch_size
    apply = _update(model) if training else None

    def body(i, first):
        start = i * batch_size
        rows = tf.slice(order, [start], [batch_size])
        real_rows = tf.minimum(count - start, batch_size)
        real = tf.range(batch_size) < real_rows

        def real_only(a):  # the padded rows' values zeroed
            return tf.where(tf.reshape(real, (-1,) + (1,) * (a.shape.rank - 1)), a, tf.zeros_like(a))

        x, y, weights = tf.nest.map_structure(lambda a: tf.gather(a, rows), data)
        y, metric_weights = tf.nest.map_structure(real_only, (y, weights))
        scale = loss_scale(batch_size, real_rows, masked)
        y_pred = _step(model, x, y, tf.nest.map_structure(lambda w: w * scale, metric_weights), real_rows, apply)
        if model._compile_metrics is not None:
            update_compiled_metrics(model._compile_metrics, y, y_pred, metric_weights, real)
        # a select, not a cond: XLA compiles it in less time, and the results are a few scalars
        return i + 1, tf.nest.map_structure(lambda now, kept: tf.where(tf.equal(i, 0), now, kept),
                                            model.get_metrics_result(), first)

    first = tf.nest.map_structure(tf.zeros_like, model.get_metrics_result())
    return tf.while_loop(lambda i, _: i < n_batches, body, (tf.constant(0), first))[1]


def _step(model, x, y, loss_weights, rows, apply=None):
    """One batch: the forward pass, the compiled loss (the total loss tracker weighted by
    ``rows``) and, given ``apply``, the optimizer's update (else the batch is evaluated).
    Returns the predictions."""
    training = apply is not None
    with tf.GradientTape() as tape:
        y_pred = model(x, training=training)
        loss = model.compute_loss(x, y, y_pred, loss_weights, training=training)
        scaled = model.optimizer.scale_loss(loss) if training else loss
    model._loss_tracker.update_state(loss, sample_weight=rows)
    if training:
        apply(tape.gradient(scaled, model.trainable_variables), model.trainable_variables)
    return y_pred


def _update(model):
    """The optimizer's update of the trainable variables: fused for plain Adam, else Keras's."""
    return fused_adam(model.optimizer, model.trainable_variables) or _keras_apply(model.optimizer)


def _keras_apply(optimizer):
    return lambda grads, variables: optimizer.apply_gradients(zip(grads, variables))


def fused_adam(optimizer, variables):
    """Keras Adam's update as one ``ResourceApplyAdam`` per variable, or None where the
    optimizer is not plain Adam (see the module docstring)."""
    plain = (
        type(optimizer) is keras.optimizers.Adam
        and not optimizer.amsgrad
        and not optimizer.use_ema
        and all(getattr(optimizer, name) is None for name in
                ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "loss_scale_factor",
                 "gradient_accumulation_steps"))
        and all(isinstance(getattr(optimizer, name), float) for name in ("beta_1", "beta_2", "epsilon"))
        and all(v.constraint is None and not v.overwrite_with_gradient and v.dtype == "float32" for v in variables)
    )
    if not plain:
        return None
    slots = [(optimizer._momentums[i], optimizer._velocities[i])
             for i in (optimizer._get_variable_index(v) for v in variables)]
    beta_1, beta_2, epsilon = (tf.constant(getattr(optimizer, k), "float32") for k in ("beta_1", "beta_2", "epsilon"))

    def apply(grads, variables):
        if any(g is None for g in grads):  # a variable the loss does not reach: Keras filters it
            return _keras_apply(optimizer)(grads, variables)
        step = tf.cast(optimizer.iterations + 1, "float32")
        learning_rate = tf.cast(optimizer.learning_rate, "float32")
        beta_1_power, beta_2_power = tf.pow(beta_1, step), tf.pow(beta_2, step)
        for variable, (m, v), grad in zip(variables, slots, grads):
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power, beta2_power=beta_2_power,
                lr=learning_rate, beta1=beta_1, beta2=beta_2, epsilon=epsilon, grad=tf.cast(grad, "float32"),
            )
        optimizer.iterations.assign_add(1)

    return apply
