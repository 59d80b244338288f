"""Base: the one place that touches scikeras.

scikeras's ``BaseWrapper`` gives the parameter plumbing: routed parameters
(``optimizer__learning_rate``, ``fit__validation_split``, ``callbacks__...``) in
``get_params`` / ``set_params``, callbacks, ``warm_start`` and ``partial_fit``.
scikeras 0.13 predates scikit-learn 1.6; what it gets wrong there is fixed here:

- it declares tags the pre-1.6 way (``_more_tags``, ``_estimator_type``), which scikit-learn
  1.9 ignores, so its classifiers are not classifiers; each estimator here declares
  ``__sklearn_tags__``;
- it runs ``type_of_target`` on the whole target, which raises inside numpy when a
  DataFrame target mixes string labels and floats; here each head checks its own column;
- it accepts any misspelled keyword argument silently; here it is an error with a suggestion.
"""

import contextlib
import difflib
import inspect
import random
import weakref

import keras
import numpy as np
from scikeras._utils import get_optimizer_class, route_params, try_to_convert_strings_to_classes, unflatten_params
from scikeras.wrappers import BaseWrapper
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight

from ._forward import numpy_forward
from ._inputs import check_features
from ._model import build_model, compile_model
from ._pool import POOL

_PREDICT_CHUNK = 8192  # rows per forward pass at predict


def _suggest(name, candidates):
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _names(names):
    return ", ".join(repr(n) for n in names)


class _SeedAtTrainBegin(keras.callbacks.Callback):
    """Seeds NumPy (the JAX backend's shuffling) once Keras has built the model for
    training, so a reused network sees the same batches as a new one: building a new
    one draws a shuffle of its own first."""

    def __init__(self, seed):
        super().__init__()
        self.seed = seed

    def on_train_begin(self, logs=None):
        np.random.seed(self.seed)


class MultiHeadBase(BaseWrapper):
    """A Keras functional model with named heads, as a scikit-learn estimator.

    Subclasses choose the heads (`_split_targets`, `_fit_heads`) and what predict and
    score return. This class validates, builds, compiles and trains.
    """

    _routing_prefixes = BaseWrapper._routing_prefixes | {"loss_weights", "callbacks"}
    _fit_kwargs = {"epochs", "verbose", "validation_split", "shuffle", "validation_batch_size", "validation_freq"}

    # -- parameters ------------------------------------------------------------------------
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

    def set_params(self, **params):
        """Set parameters, including routed ones (``optimizer__learning_rate``,
        ``loss_weights__<head>``, ...)."""
        declared = self._declared_params()
        known = set(declared) | set(self.get_params(deep=False))
        for name in params:
            base = name.split("__", 1)[0]
            if name not in known and base not in declared and base not in self._routing_prefixes:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}.{_suggest(name, declared)} "
                    f"Routed parameters start with one of {_names(sorted(self._routing_prefixes))} and '__'."
                )
        return super().set_params(**params)

    def _check_routed_params(self):
        declared = self._declared_params()
        for name in self.get_params(deep=False):
            prefix = name.split("__", 1)[0]
            if "__" in name and prefix not in self._routing_prefixes:
                raise ValueError(
                    f"{type(self).__name__} got an unknown parameter {name!r}."
                    f"{_suggest(prefix, self._routing_prefixes)} "
                    f"Routed parameters start with one of {_names(sorted(self._routing_prefixes))} and '__'."
                )
        for name in set(self.get_params(deep=False)) - set(declared):
            if "__" not in name:
                raise ValueError(f"{type(self).__name__} got an unknown parameter {name!r}.{_suggest(name, declared)}")

    def _loss_weights(self, head_names):
        """Merge ``loss_weights`` with routed ``loss_weights__<head>``; check head names."""
        weights = dict(getattr(self, "loss_weights", None) or {})
        weights.update(route_params(self.get_params(deep=False), "loss_weights", pass_filter=set()))
        for name, value in weights.items():
            if name not in head_names:
                raise ValueError(
                    f"loss_weights names head {name!r}, which is not a head of this model; "
                    f"heads are {_names(head_names)}.{_suggest(name, head_names)}"
                )
            if not (np.isscalar(value) and np.isreal(value) and value >= 0):
                raise ValueError(f"loss_weights for head {name!r} must be a number >= 0; got {value!r}.")
        return weights

    def _draw_seed(self):
        """An int seed from ``random_state`` (None stays None), drawn once per fit."""
        if self.random_state is None or isinstance(self.random_state, (int, np.integer)):
            return self.random_state
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Fit the network on ``X`` and the targets ``y``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features.
        y : target container
            See the estimator's description of accepted targets.
        sample_weight : array-like of shape (n_samples,), optional
            Weight of each sample, applied to every head's loss.
        **kwargs
            Passed to ``keras.Model.fit`` (prefer routed ``fit__`` parameters).

        Returns
        -------
        self
        """
        return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    def _fit(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        state = dict(vars(self))
        try:
            self._fit_checked(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)
        except BaseException:
            # a failed fit leaves the estimator as it was
            taken = vars(self).get("model_")
            vars(self).clear()
            vars(self).update(state)
            if taken is not None and taken is not state.get("model_"):
                POOL.release(taken)
            raise
        self._own_model(previous=state.get("model_"))

    def _own_model(self, previous):
        """Give a replaced network back to the pool, and this one when self is collected."""
        if self.model_ is previous:
            return
        finalizer = vars(self).pop("_model_finalizer", None)
        if finalizer is not None:
            finalizer.detach()
        if previous is not None:
            POOL.release(previous)
        self._model_finalizer = weakref.finalize(self, POOL.release, self.model_)
        self._model_finalizer.atexit = False

    def _fit_checked(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        self._check_routed_params()
        cold = not ((self.warm_start or warm_start) and hasattr(self, "model_"))
        X = check_features(self, X, reset=cold)
        columns = self._split_targets(y, reset=cold)
        n_rows = len(next(iter(columns.values())))
        if n_rows != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {n_rows}; they must have one row per sample.")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype="float32")
        if cold:
            self._seed = self._draw_seed()
            self.heads_ = self._fit_heads(columns)
            self.history_ = {}
            self.model_ = POOL.acquire(self._build_keras_model())
        self._initialize_callbacks()
        targets = {name: head.encode(columns[name]) for name, head in self.heads_.items()}
        self._fit_keras_model(X, targets, sample_weight, epochs=epochs, initial_epoch=initial_epoch, **kwargs)

    def _build_keras_model(self):
        with self._seeded():
            model = build_model(
                self.n_features_in_,
                self.heads_,
                hidden_layer_sizes=tuple(self.hidden_layer_sizes),
                activation=self.activation,
                dropout=self.dropout,
                random_state=self._seed,
                **self._graph_options(),
            )
        return compile_model(
            model,
            self.heads_,
            optimizer=self._optimizer(),
            loss_weights=self._loss_weights(list(self.heads_)),
            run_eagerly=self.run_eagerly,
        )

    def _graph_options(self):
        """Further arguments of `build_model` (own columns per head, joint output)."""
        return {}

    def _optimizer(self):
        optimizer = try_to_convert_strings_to_classes(self.optimizer, get_optimizer_class)
        routed = route_params(self.get_params(deep=False), "optimizer", pass_filter=set(), strict=True)
        return unflatten_params(items=optimizer, params=routed)

    @contextlib.contextmanager
    def _seeded(self):
        """Seed Keras (shuffling, unseeded layers) without disturbing the user's global RNGs."""
        seed = self._seed
        if seed is None:
            yield
            return
        python_state, numpy_state = random.getstate(), np.random.get_state()
        keras.utils.set_random_seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)

    def _fit_keras_model(self, X, y, sample_weight, epochs, initial_epoch, **kwargs):
        fit_args = route_params(self.get_params(deep=False), destination="fit", pass_filter=self._fit_kwargs)
        fit_args = {k: v for k, v in fit_args.items() if not k.startswith("callbacks")}
        callbacks = list(self._fit_callbacks)
        if self._seed is not None:
            callbacks.append(_SeedAtTrainBegin(self._seed))
        fit_args.update(
            batch_size=self._batch_size(X.shape[0]),
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            sample_weight=sample_weight,
            callbacks=callbacks,
        )
        fit_args.update(kwargs)
        with self._seeded():
            history = self.model_.fit(X, y, **fit_args)
        self._numpy_forward = numpy_forward(self.model_)  # with the trained weights
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)

    def _batch_size(self, n_samples):
        batch_size = getattr(self, "fit__batch_size", self.batch_size)
        if batch_size == "auto":
            return min(200, n_samples)
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be 'auto' or a positive int; got {batch_size!r}.")
        return int(batch_size)

    # -- prediction ------------------------------------------------------------------------
    def _predict_raw(self, X):
        """``{head name: network output}`` for ``X``."""
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' before using this estimator."
            )
        # float32 X stays float32, anything else is float64: the numpy path computes in it
        return self._forward(check_features(self, X, reset=False, dtype=(np.float64, np.float32)))

    def _forward(self, X):
        """``{head name: network output}`` for a validated float array."""
        if self._numpy_forward is not None:
            outputs = self._numpy_forward(X)
            return {name: outputs[name] for name in self.heads_}
        # A direct call runs the graph eagerly: no per-call data pipeline and no retracing
        # for each new number of rows, unlike Model.predict / predict_on_batch.
        chunks = [self.model_(X[i : i + _PREDICT_CHUNK], training=False) for i in range(0, len(X), _PREDICT_CHUNK)]
        return {
            name: np.concatenate([keras.ops.convert_to_numpy(chunk[name]) for chunk in chunks])
            for name in self.heads_
        }

    # -- persistence ---------------------------------------------------------------------------
    def __getstate__(self):
        # callbacks are rebuilt at each fit, the numpy forward pass when unpickled; a copy
        # owns its own network, which does not go back to the pool
        skip = ("_fit_callbacks", "_predict_callbacks", "_numpy_forward", "_model_finalizer")
        return {k: v for k, v in vars(self).items() if k not in skip}

    def __setstate__(self, state):
        vars(self).update(state)
        if "model_" in state:
            self._numpy_forward = numpy_forward(self.model_)

    def __repr__(self, N_CHAR_MAX=700):
        return super(BaseWrapper, self).__repr__(N_CHAR_MAX)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class ClassesPartialFitMixin:
    """``partial_fit(X, y, classes=...)``, as scikit-learn's classifiers take it: the
    estimator's ``_split_targets`` reads ``_first_classes`` on the first call."""

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train one more epoch on ``(X, y)``, keeping the network (building it on the first call).

        Parameters
        ----------
        X, y, sample_weight
            As in `fit`.
        classes : array-like, optional
            Every class (or label) across all calls, for a first call whose ``y`` lacks
            some; ignored afterwards.
        **kwargs
            Passed to ``keras.Model.fit``.

        Returns
        -------
        self
        """
        self._first_classes = classes
        try:
            return super().partial_fit(X, y, sample_weight=sample_weight, **kwargs)
        finally:
            vars(self).pop("_first_classes", None)
