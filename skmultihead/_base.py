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
import functools
import inspect
import random
import weakref

import keras
import numpy as np
from scikeras._utils import get_optimizer_class, route_params, try_to_convert_strings_to_classes, unflatten_params
from scikeras.wrappers import BaseWrapper
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight

from ._branches import resolve_branches
from ._forward import numpy_forward
from ._inputs import check_features, resolve_inputs, split_inputs
from ._messages import is_positive_int, quoted, suggest
from ._model import build_model, compile_model, member_name, resolve_aux_heads
from ._pool import POOL

_PREDICT_CHUNK = 8192  # rows per forward pass at predict
ENSEMBLE_LOSSES = ("members", "mean")
AUTO_STEPS_PER_EXECUTION = 64  # batches per call of the compiled train step
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")


def _has_batch_hooks(callback):
    """Whether a Keras callback overrides a batch-level hook of fit."""
    return any(getattr(type(callback), hook) is not getattr(keras.callbacks.Callback, hook) for hook in _BATCH_HOOKS)


class _SeedAtTrainBegin(keras.callbacks.Callback):
    """Seeds Python, NumPy and the backend (shuffling, dropout) once Keras has built the
    model for training, so a reused network sees the same batches as a new one: building
    a new one draws random numbers of its own first (JAX: a shuffle, PyTorch: its generator)."""

    def __init__(self, seed):
        super().__init__()
        self.seed = seed

    def on_train_begin(self, logs=None):
        keras.utils.set_random_seed(self.seed)


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
        ``aux_heads__<name>__<key>``), which replace the branch or entry by an updated copy."""
        for name in [n for n in params if n.split("__", 1)[0] in ("branches", "aux_heads") and "__" in n]:
            self._set_nested(name, params.pop(name))
        declared = self._declared_params()
        known = set(declared) | set(self.get_params(deep=False))
        for name in params:
            base = name.split("__", 1)[0]
            if name not in known and base not in declared and base not in self._routing_prefixes:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}.{suggest(name, declared)} "
                    f"Routed parameters start with one of {quoted(sorted(self._routing_prefixes))} and '__'."
                )
        return super().set_params(**params)

    def _set_nested(self, name, value):
        param, key, *rest = name.split("__", 2)
        entries = dict(getattr(self, param, None) or {})
        if not rest:
            entries[key] = value
        elif key not in entries:
            raise ValueError(f"cannot set {name!r}: {param} has no entry {key!r}; it has {quoted(entries)}.")
        elif param == "branches":
            if not hasattr(entries[key], "set_params"):
                raise ValueError(f"cannot set {name!r}: branches[{key!r}] is a callable, it has no parameters.")
            entries[key] = clone(entries[key]).set_params(**{rest[0]: value})
        else:
            entries[key] = {**entries[key], rest[0]: value}
        setattr(self, param, entries)

    def _check_routed_params(self):
        declared = self._declared_params()
        for name in self.get_params(deep=False):
            prefix = name.split("__", 1)[0]
            if "__" in name and prefix not in self._routing_prefixes:
                raise ValueError(
                    f"{type(self).__name__} got an unknown parameter {name!r}."
                    f"{suggest(prefix, self._routing_prefixes)} "
                    f"Routed parameters start with one of {quoted(sorted(self._routing_prefixes))} and '__'."
                )
        for name in set(self.get_params(deep=False)) - set(declared):
            if "__" not in name:
                raise ValueError(f"{type(self).__name__} got an unknown parameter {name!r}.{suggest(name, declared)}")

    def _loss_weights(self, head_names):
        """Merge ``loss_weights`` with routed ``loss_weights__<head>``; check head names."""
        weights = dict(getattr(self, "loss_weights", None) or {})
        weights.update(route_params(self.get_params(deep=False), "loss_weights", pass_filter=set()))
        for name, value in weights.items():
            if name not in head_names:
                raise ValueError(
                    f"loss_weights names head {name!r}, which is not a head of this model; "
                    f"heads are {quoted(head_names)}.{suggest(name, head_names)}"
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
        self._initialize_callbacks()
        if cold:
            self._seed = self._draw_seed()
            self._fit_architecture()
            self.heads_ = self._fit_heads(columns)
            self.aux_heads_ = self._resolve_aux_heads()
            self.history_ = {}
            self.model_ = POOL.acquire(self._build_keras_model())
        targets = {name: head.encode(columns[name]) for name, head in self.heads_.items()}
        self._fit_keras_model(X, targets, sample_weight, epochs=epochs, initial_epoch=initial_epoch, **kwargs)

    def _fit_architecture(self):
        """Check the inputs, branches, custom trunk and ensemble size; set
        ``input_columns_`` and ``branches_``."""
        size = self.ensemble_size
        if not is_positive_int(size):
            raise ValueError(f"ensemble_size must be an int >= 1; got {size!r}.")
        if self.ensemble_loss not in ENSEMBLE_LOSSES:
            raise ValueError(
                f"ensemble_loss must be one of {quoted(ENSEMBLE_LOSSES)}; got {self.ensemble_loss!r}."
                f"{suggest(self.ensemble_loss, ENSEMBLE_LOSSES)}"
            )
        if self.model is not None:
            if not callable(self.model):
                raise TypeError(
                    "model must be a callable taking the dict of Keras input tensors and returning one tensor; "
                    f"got {type(self.model).__name__}."
                )
            if self.branches:
                raise ValueError(
                    "branches and model are both given; the model callable reads the input tensors itself, "
                    "so give one of them."
                )
        elif self._routed("model"):
            raise ValueError(
                f"model__ parameters {quoted(self._routed('model'))} are given but no model (custom trunk) is; "
                "they are passed to the model callable."
            )
        names = list(getattr(self, "feature_names_in_", []))
        self.input_columns_ = resolve_inputs(self.inputs, self.remainder, self.n_features_in_, names)
        self.branches_ = resolve_branches(self.branches, list(self.input_columns_))

    def _routed(self, prefix):
        return route_params(self.get_params(deep=False), prefix, pass_filter=set())

    def _resolve_aux_heads(self):
        sources = ["trunk"] if self.model is not None else ["trunk", *self.input_columns_]
        if not self._shared_trunk:
            sources.remove("trunk")
        return resolve_aux_heads(self.aux_heads, list(self.heads_), sources, taken=list(self.input_columns_))

    @property
    def _shared_trunk(self):
        return True

    def _build_keras_model(self):
        trunk = None if self.model is None else functools.partial(self.model, **self._routed("model"))
        with self._seeded():
            model = build_model(
                self.input_columns_,
                self.heads_,
                branches=self.branches_,
                hidden_layer_sizes=tuple(self.hidden_layer_sizes),
                activation=self.activation,
                dropout=self.dropout,
                random_state=self._seed,
                trunk=trunk,
                aux_heads=self.aux_heads_,
                ensemble_size=int(self.ensemble_size),
                **self._graph_options(),
            )
        return compile_model(
            model,
            self.heads_,
            optimizer=self._optimizer(),
            loss_weights=self._loss_weights(list(self.heads_)),
            aux_heads=self.aux_heads_,
            ensemble_size=int(self.ensemble_size),
            ensemble_loss=self.ensemble_loss,
            run_eagerly=self.run_eagerly,
            steps_per_execution=self._steps_per_execution(),
        )

    def _steps_per_execution(self):
        value = self.steps_per_execution
        torch = keras.backend.backend() == "torch"
        if isinstance(value, str) and value == "auto":
            batch_hooks = any(_has_batch_hooks(callback) for callback in self._fit_callbacks)
            return 1 if torch or batch_hooks else AUTO_STEPS_PER_EXECUTION
        if not is_positive_int(value):
            raise ValueError(f"steps_per_execution must be 'auto' or an int >= 1; got {value!r}.")
        if torch and value > 1:
            raise ValueError(f"steps_per_execution must be 1 with the PyTorch backend; got {value}.")
        return int(value)

    def _model_inputs(self, X):
        """``{input name: array}`` of X's columns, as the network reads them."""
        return split_inputs(X, self.input_columns_, self.branches_, list(getattr(self, "feature_names_in_", [])))

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
        y = {**y, **{aux.name: y[aux.target] for aux in self.aux_heads_}}
        if self.ensemble_size > 1:  # each member's outputs train on the same targets
            y.update({member_name(i, name): y[name] for name in list(y) for i in range(self.ensemble_size)})
        with self._seeded():
            history = self.model_.fit(self._model_inputs(X), y, **fit_args)
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
        """``{output name: network output}`` for ``X``."""
        return self._forward(self._check_predict_X(X))

    def _check_predict_X(self, X):
        self._check_fitted()
        # float32 X stays float32, anything else is float64: the numpy path computes in it
        return check_features(self, X, reset=False, dtype=(np.float64, np.float32))

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' before using this estimator."
            )

    def _forward(self, X):
        """``{output name: network output}`` (heads and auxiliary heads) for a validated float array."""
        inputs = self._model_inputs(X)
        if self._numpy_forward is not None:
            return self._numpy_forward(inputs)
        return _keras_forward(self.model_, inputs)

    def _member_outputs(self, X):
        """``{head: array of shape (ensemble_size, n_samples, ...)}``: each member's output."""
        outputs = self._predict_raw(X)
        if self.ensemble_size == 1:
            return {name: outputs[name][None] for name in self.heads_}
        return {
            name: np.stack([outputs[member_name(i, name)] for i in range(self.ensemble_size)])
            for name in self.heads_
        }

    def score_aux(self, X, y, sample_weight=None):
        """Each auxiliary head's score on ``(X, y)``: ``{aux name: score}``, the score its
        target head would get (see `aux_heads`). Auxiliary heads are not part of
        `predict`, `predict_proba` or `score`."""
        truth = self._split_targets(y, reset=False)
        raw = self._predict_raw(X)
        return {
            aux.name: float(self._score_output(aux.target, truth[aux.target], raw[aux.name], sample_weight))
            for aux in self.aux_heads_
        }

    def _score_output(self, head_name, truth, raw, sample_weight):
        """Score of a network output ``raw`` for head ``head_name`` against its targets."""
        head = self.heads_[head_name]
        return head.score(truth, head.decode(raw), sample_weight=sample_weight)

    # -- the Keras model -----------------------------------------------------------------------
    def summary(self, **kwargs):
        """Print the Keras model's layers (``keras.Model.summary``; kwargs go to it)."""
        self._check_fitted()
        return self.model_.summary(**kwargs)

    def plot_model(self, path, **kwargs):
        """Draw the Keras model to ``path`` (``keras.utils.plot_model``; kwargs go to it).

        Needs the pydot package and Graphviz's ``dot`` program.

        Raises
        ------
        ImportError
            If pydot or Graphviz is missing, saying what to install.
        """
        self._check_fitted()
        try:
            import pydot

            pydot.Dot.create(pydot.Dot())
        except Exception as error:  # no pydot, or pydot without Graphviz
            raise ImportError(
                "plot_model needs the pydot package and Graphviz's `dot` program: `pip install pydot` and "
                "install Graphviz (e.g. `apt install graphviz`, `brew install graphviz` or "
                f"`conda install graphviz`). ({type(error).__name__}: {error})"
            ) from error
        kwargs.setdefault("show_shapes", True)
        return keras.utils.plot_model(self.model_, to_file=str(path), **kwargs)

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


def _keras_forward(model, inputs):
    """``model``'s outputs for ``{input name: array}``, as numpy.

    A direct call runs the graph eagerly: no per-call data pipeline and no retracing for
    each new number of rows, unlike Model.predict / predict_on_batch.
    """
    n_rows = len(next(iter(inputs.values())))
    chunks = [
        model({name: values[i : i + _PREDICT_CHUNK] for name, values in inputs.items()}, training=False)
        for i in range(0, n_rows, _PREDICT_CHUNK)
    ]
    return {name: np.concatenate([keras.ops.convert_to_numpy(c[name]) for c in chunks]) for name in chunks[0]}


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
