"""Training: the loop around the engines, a whole epoch per call of one compiled function.

Keras's generic ``Model.fit`` wraps every call of the train step in a data pipeline, an
epoch iterator and the callback machinery; on small in-memory data that costs far more
than the arithmetic. Here the compiled train step (the network's per-head losses, loss
weights and metrics, as compiled) runs over in-memory arrays for a whole epoch per call of
an engine, one per Keras backend (`_engines`).

Epochs, shuffling (from the caller's generator; nothing global is touched), validation,
``history``, epoch-level callbacks, non-finite losses and exploding ones
(`warn_if_diverged`) are handled here. Callbacks that override a batch-level hook need
Keras's ``fit`` (see `needs_keras_fit`); it then runs over the same batches in the same
order, so training is the same. An interrupt (``KeyboardInterrupt``) is not caught: the
estimator's ``fit`` restores what it had.
"""

import math
import time
import warnings

import keras
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._engines import TRACES, check_distribution  # noqa: F401 (imported from here)
from ._engines import engine_for, n_rows
from ._missing import take_rows

_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")


class NonFiniteLoss(ValueError):
    """A loss became NaN or infinite during training."""


def needs_keras_fit(callbacks):
    """Whether a callback overrides a batch-level hook (only Keras's ``fit`` calls them)."""
    base = keras.callbacks.Callback
    return any(getattr(type(c), hook) is not getattr(base, hook) for c in callbacks for hook in _BATCH_HOOKS)


def split_validation(arrays, validation_split):
    """(training rows, validation rows) of ``arrays``: the last ``validation_split`` of the
    rows, unshuffled, as Keras's ``validation_split`` takes them."""
    n = n_rows(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    return [take_rows(a, slice(0, split_at)) for a in arrays], [take_rows(a, slice(split_at, n)) for a in arrays]


def train(
    model,
    x,
    y,
    weights,
    *,
    epochs,
    initial_epoch=0,
    batch_size,
    shuffle=True,
    rng,
    validation=None,
    validation_batch_size=None,
    validation_freq=1,
    callbacks=(),
    verbose=0,
    steps_per_call=64,
    jit_compile="auto",
    keras_fit=False,
):
    """Train ``model`` for epochs ``initial_epoch .. epochs - 1``; return the epoch logs.

    Parameters
    ----------
    model : keras.Model
        Compiled.
    x, y : dict of str to ndarray
        Inputs and targets by name, one row per sample.
    weights : ndarray of shape (n_samples,) or dict of str to ndarray
        Weight of each row in every loss and weighted metric, or in each output's.
    rng : numpy.random.RandomState
        Draws each epoch's order of the rows when ``shuffle``.
    validation : tuple (x, y, weights), optional
        Evaluated after the epochs ``validation_freq`` selects; logged with ``val_``.
    callbacks : sequence of keras.callbacks.Callback
        Called at train and epoch begin and end.
    steps_per_call : int
        Batches per call of the compiled function (JAX; TensorFlow runs a whole epoch).
    jit_compile : bool or "auto"
        Whether TensorFlow compiles each epoch by XLA (see `_engines.uses_xla`).
    keras_fit : bool
        Run Keras's ``fit`` over the same batches instead (for batch-level callbacks).

    Returns
    -------
    dict of str to list of float
        Each logged loss and metric per epoch, as Keras's ``History`` records them.

    Raises
    ------
    NonFiniteLoss
        When a loss becomes NaN or infinite; training stops after that epoch.

    Warns
    -----
    ConvergenceWarning
        When a loss ends far above where it started (see `warn_if_diverged`).
    """
    if isinstance(weights, dict) and validation is not None and not isinstance(validation[2], dict):
        # the same structure as in training
        validation = (*validation[:2], {name: validation[2] for name in weights})
    batches = _Batches(x, y, weights, batch_size, shuffle, rng)
    if keras_fit or _batch_statistics_on_jax(model):
        history, start = _keras_fit(model, batches, epochs, initial_epoch, validation, validation_batch_size,
                                    validation_freq, callbacks, verbose)
    else:
        engine = engine_for(model, x, y, weights, batch_size, steps_per_call, jit_compile)
        loop = _Loop(model, engine, engine.prepare(x, y, weights), batches, callbacks, verbose, epochs)
        if validation is not None:
            val_batch_size = validation_batch_size or batch_size
            val_engine = engine_for(model, *validation, val_batch_size, steps_per_call, jit_compile)
            loop.validate_with(val_engine, val_engine.prepare(*validation), val_batch_size, validation_freq)
        history, start = loop.run(initial_epoch, epochs), loop.start
    warn_if_diverged(start, history, model.output_names)
    return history


class _Loop:
    """Epochs of an engine over the training rows: validation, callbacks, history, checks;
    ``start`` holds the logs of the first batch."""

    def __init__(self, model, engine, data, batches, callbacks, verbose, epochs):
        self.model, self.engine, self.data, self.batches, self.verbose = model, engine, data, batches, verbose
        steps = math.ceil(n_rows(batches.x) / batches.batch_size)
        self.callbacks = keras.callbacks.CallbackList(list(callbacks), model=model, epochs=epochs, steps=steps,
                                                      verbose=verbose)
        self.validation = self.start = None
        self.history = {}

    def validate_with(self, engine, data, batch_size, freq):
        self.validation = engine, data, batch_size, freq

    def run(self, initial_epoch, epochs):
        model, logs = self.model, None
        model.stop_training = False
        self.callbacks.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            logs = self._epoch(epoch, epochs)
            if model.stop_training:
                break
        model.optimizer.finalize_variable_values(model.trainable_weights)
        self.callbacks.on_train_end(logs=logs)
        return self.history

    def _epoch(self, epoch, epochs):
        start = time.perf_counter()
        self.callbacks.on_epoch_begin(epoch)
        try:
            logs = self._train_epoch(self.batches.order())
        except RuntimeError as error:  # PyTorch's losses refuse NaN predictions
            variables = self.model.trainable_variables
            if all(np.isfinite(keras.ops.convert_to_numpy(v.value)).all() for v in variables):
                raise
            raise NonFiniteLoss(_diverged(epoch, f"the weights became NaN or infinite ({error})")) from error
        if self.validation is not None and _should_eval(epoch, self.validation[3]):
            engine, data, batch_size, _ = self.validation
            logs.update({f"val_{name}": value for name, value in engine.evaluate(data, batch_size).items()})
        self.callbacks.on_epoch_end(epoch, logs)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))
        if self.verbose:
            _print_epoch(epoch, epochs, time.perf_counter() - start, logs)
        check_finite(logs, epoch)
        return logs

    def _train_epoch(self, order):
        """The epoch's logs; in the first epoch, the first batch's logs go to ``start`` on the way."""
        engine, data, size = self.engine, self.data, self.batches.batch_size
        if self.start is not None:
            return engine.train_epoch(data, order, size)
        self.start, logs = engine.first_epoch(data, order, size)
        return logs


def check_finite(logs, epoch):
    """Raise `NonFiniteLoss` naming the losses of ``logs`` that are NaN or infinite."""
    bad = [name for name, value in logs.items() if name.endswith("loss") and not np.isfinite(value)]
    if bad:
        raise NonFiniteLoss(_diverged(epoch, ", ".join(f"{b} = {logs[b]}" for b in bad)))


_CAUSES = (
    "Likely causes: a learning rate too high (lower optimizer__learning_rate), unscaled inputs (scale X, e.g. "
    "with StandardScaler), or targets of very large values."
)


def _diverged(epoch, what):
    return f"training diverged in epoch {epoch + 1}: {what}. {_CAUSES}"


def warn_if_diverged(start, history, outputs):
    """Warn (`~sklearn.exceptions.ConvergenceWarning`) naming the outputs whose loss
    ended far above where it started.

    Each output's loss (``<output>_loss`` in ``history``; with one output, ``loss``) in the
    fit's last epoch is compared with its loss on the fit's first batch (``start``: the loss
    of the weights the fit began with). Above twice that and 5 more than that, training
    diverged: an exploding loss can stay finite (and a clipped crossentropy stops near 16).
    Epoch means alone would miss it: a learning rate far too high explodes the loss within
    the first epoch, whose mean is then no lower than the last.
    """
    if not start or not history:
        return
    keys = {f"{name}_loss": name for name in outputs if f"{name}_loss" in history} or {"loss": None}
    rose = {key: name for key, name in keys.items()
            if history[key][-1] > max(2 * start[key], start[key] + 5)}
    if not rose:
        return
    what = ", ".join(
        f"the loss{'' if name is None else f' of head {name!r}'} rose from {start[key]:.3g} to {history[key][-1]:.3g}"
        for key, name in rose.items()
    )
    warnings.warn(
        f"training diverged: {what} (from the first batch to the last epoch). {_CAUSES}",
        ConvergenceWarning,
        stacklevel=2,
    )


def _batch_statistics_on_jax(model):
    return keras.backend.backend() == "jax" and any(
        isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers
    )


def _should_eval(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


def _print_epoch(epoch, epochs, seconds, logs):
    values = " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())
    print(f"Epoch {epoch + 1}/{epochs} - {seconds:.2f}s - {values}", flush=True)


class _Batches:
    """The training rows, and each epoch's order of them."""

    def __init__(self, x, y, weights, batch_size, shuffle, rng):
        self.x, self.y, self.weights = x, y, weights
        self.batch_size, self.shuffle, self.rng = batch_size, shuffle, rng

    def order(self):
        n = n_rows(self.x)
        return self.rng.permutation(n) if self.shuffle else np.arange(n)


def _keras_fit(model, batches, epochs, initial_epoch, validation, validation_batch_size, validation_freq,
               callbacks, verbose):
    """Keras's ``fit`` over the same batches, in the same order, as the loop: its history,
    and the logs of its first batch."""
    checks = _Checks()
    history = model.fit(
        _BatchSequence(batches),
        epochs=epochs,
        initial_epoch=initial_epoch,
        validation_data=validation,
        validation_batch_size=validation_batch_size or batches.batch_size,
        validation_freq=validation_freq,
        callbacks=[*callbacks, checks],
        verbose=2 if verbose else 0,
        shuffle=False,
    )
    return {name: [float(v) for v in values] for name, values in history.history.items()}, checks.start


class _BatchSequence(keras.utils.PyDataset):
    """The loop's batches for Keras's ``fit``, each epoch in the order the loop draws.

    Keras asks for batches 0, 1, ... in turn, but may peek at batch 0 before training and
    fetch the next epoch's first batches before its epoch hooks run: a new epoch (a new
    order) begins when batch 0 is asked for after the last batch.
    """

    def __init__(self, batches):
        super().__init__()
        self.batches, self._order, self._last = batches, batches.order(), None

    def __len__(self):
        return math.ceil(len(self._order) / self.batches.batch_size)

    def __getitem__(self, i):
        if i == 0 and self._last == len(self) - 1:
            self._order = self.batches.order()
        self._last = i
        size, b = self.batches.batch_size, self.batches
        rows = self._order[i * size : (i + 1) * size]
        return take_rows(b.x, rows), take_rows(b.y, rows), take_rows(b.weights, rows)


class _Checks(keras.callbacks.Callback):
    """The loop's checks in Keras's ``fit``: non-finite losses, and the logs of the first
    batch in ``start`` (with ``steps_per_execution`` > 1, of the first call)."""

    def __init__(self):
        super().__init__()
        self.start = None

    def on_train_batch_end(self, batch, logs=None):
        if self.start is None:
            self.start = dict(logs or {})

    def on_epoch_end(self, epoch, logs=None):
        check_finite(logs or {}, epoch)
