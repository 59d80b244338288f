"""Base: ties the fit and predict steps together; the one place that touches scikeras.

The estimators are scikit-learn estimators of their own (`MultiHeadBase` derives from
``BaseEstimator``), so that ``import skmultihead`` and predicting with a fitted, unpickled
or loaded estimator need no deep-learning framework: Keras, its backend and scikeras are
imported by the first fit or the first use of ``model_``. The parameter plumbing follows
scikeras's ``BaseWrapper``: every public attribute is a parameter, so routed parameters
(``optimizer__learning_rate``, ``fit__validation_split``, ``callbacks__...``) are set and
read as ordinary ones, and scikeras builds the routed callbacks at each fit.
What scikeras 0.13 gets wrong on scikit-learn 1.6+ is not inherited:

- it declares tags the pre-1.6 way (``_more_tags``, ``_estimator_type``), which scikit-learn
  1.9 ignores, so its classifiers are not classifiers; each estimator here declares
  ``__sklearn_tags__``;
- it runs ``type_of_target`` on the whole target, which raises inside numpy when a
  DataFrame target mixes string labels and floats; here each head checks its own column;
- it accepts any misspelled keyword argument silently; here it is an error with a suggestion.
"""

import functools
import inspect
import weakref

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight

from ._branches import resolve_branches
from ._forward import Forward, forward_plan
from ._inputs import check_features, resolve_inputs, split_inputs
from ._messages import quoted, suggest
from ._params import COMMON, ROUTED, InvalidParameterError, as_sizes, build_optimizer, check_params, routed
from ._spec import member_name, resolve_aux_heads
from ._views import head_view

_PREDICT_CHUNK = 8192  # rows per forward pass at predict
AUTO_BATCH_SIZE = 200  # as scikit-learn's MLP: batches of min(200, rows)
AUTO_STEPS_PER_EXECUTION = 64  # batches per call of the compiled train step
# built while an estimator runs, never pickled or saved
RUNTIME_STATE = ("_fit_callbacks", "_predict_callbacks", "_numpy_forward", "_lease_finalizer", "_lease", "_parked_key")


class MultiHeadBase(BaseEstimator):
    """A Keras functional model with named heads, as a scikit-learn estimator.

    Subclasses choose the heads (`_split_targets`, `_fit_heads`) and what predict and
    score return. This class validates, builds, compiles and trains.
    """

    _routing_prefixes = set(ROUTED)
    _parameter_constraints = COMMON
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
        ``aux_heads__<name>__<key>``), which replace the branch or entry by an updated copy."""
        for name in [n for n in params if n.split("__", 1)[0] in ("branches", "aux_heads") and "__" in n]:
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
        elif param == "branches":
            if not hasattr(entries[key], "set_params"):
                raise ValueError(f"cannot set {name!r}: branches[{key!r}] is a callable, it has no parameters.")
            entries[key] = clone(entries[key]).set_params(**{rest[0]: value})
        else:
            entries[key] = {**entries[key], rest[0]: value}
        setattr(self, param, entries)

    def _loss_weights(self, head_names):
        """Merge ``loss_weights`` with routed ``loss_weights__<head>``; check head names."""
        weights = dict(getattr(self, "loss_weights", None) or {})
        weights.update(routed(self.get_params(deep=False), "loss_weights"))
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
            Training arguments, as Keras's ``fit`` takes them: ``batch_size``,
            ``class_weight`` (``{head: {label: weight} or "balanced"}``), ``validation_data``
            (``(X_val, y_val[, sample_weight])``), ``validation_split``, ``callbacks``,
            ``shuffle``, ``validation_freq``, ``validation_batch_size``, ``verbose``
            (prefer routed ``fit__`` parameters).

        Returns
        -------
        self : object
            The fitted estimator.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0)
        >>> est = est.fit(X, Y)
        >>> sorted(est.heads_)
        ['age', 'gender', 'income']
        >>> len(est.history_["loss"])
        2
        """
        kwargs.setdefault("epochs", getattr(self, "fit__epochs", self.epochs))
        initial_epoch = kwargs.pop("initial_epoch", 0)
        self._fit(X, y, sample_weight, warm_start=self.warm_start, initial_epoch=initial_epoch, **kwargs)
        return self

    @property
    def model_(self):
        """The fitted Keras model. Once handed out it is the user's: no other fit reuses it."""
        if not self.initialized_:
            raise AttributeError(f"{type(self).__name__} has no attribute 'model_' (it is not fitted).")
        lease = self._leased()
        lease.exposed = lease.handed_out = True
        return lease.model

    @property
    def _network(self):
        """``model_`` for the estimator's own use (not handed out)."""
        return self._leased().model

    @property
    def initialized_(self):
        return "_lease" in vars(self) or "_parked" in vars(self)

    def _leased(self):
        """The lease of this estimator's network. A parked network (see `_park`; after
        unpickling or `load`) is taken again: an idle one of its architecture from the
        pool, else one built again from the parameters, with the parked values."""
        if "_lease" not in vars(self):
            from ._pool import POOL, Lease

            network = POOL.take(vars(self).get("_parked_key"))
            if network is None:
                self._initialize_callbacks()  # steps_per_execution depends on them
                lease = self._acquire_network(own=None)
            else:
                lease = Lease(network)
            _assign(lease.model, **self._parked)  # may refuse the values: the estimator stays parked
            self._lease = lease
            del self._parked
            vars(self).pop("_parked_key", None)
            self._keep_lease(previous=None)
        return self._lease

    def _park(self):
        """Keep the network's variable values as arrays and give the network back to the
        pool, where the next fit of its architecture finds it: for an estimator that
        predicts in numpy and whose network nobody holds (`_leased` takes one again)."""
        from ._pool import network_key

        lease = vars(self).get("_lease")
        if lease is None or lease.exposed or self._forward_plan is None:
            return
        self._parked, self._parked_key = _variables(lease.model), network_key(lease.model)
        self._lease_finalizer.detach()
        del self._lease, self._lease_finalizer
        lease.end()

    def _fit(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        state = dict(vars(self))
        lease = state.get("_lease")
        saved = None if lease is None else _variables(lease.model)
        try:
            self._fit_checked(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)
        except BaseException:
            # a failed fit leaves the estimator as it was; a network it took is dropped
            finalizer = vars(self).get("_lease_finalizer")
            if finalizer is not None and finalizer is not state.get("_lease_finalizer"):
                finalizer.detach()
            vars(self).clear()
            vars(self).update(state)
            if lease is not None:
                _assign(lease.model, **saved)
            raise
        self._keep_lease(previous=lease)
        self._park()

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """Train one more epoch on ``(X, y)``, keeping the network (building it on the first call).

        Parameters
        ----------
        X, y
            Features and targets, as in `fit`; every call must have the same heads.
        sample_weight : array-like of shape (n_samples,), optional
            Weight of each sample, as in `fit`.
        **kwargs
            Training arguments, as in `fit`.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), random_state=0)
        >>> est = est.partial_fit(X[:100], Y[:100]).partial_fit(X[100:], Y[100:])
        >>> len(est.history_["loss"])
        2
        """
        for name in ("epochs", "initial_epoch"):
            if name in kwargs:
                raise TypeError(f"partial_fit trains one epoch from the current one; it takes no {name!r}.")
        self._fit(X, y, sample_weight, warm_start=True, epochs=1, initial_epoch=self.current_epoch, **kwargs)
        return self

    @property
    def current_epoch(self):
        """The number of epochs trained so far."""
        return len(getattr(self, "history_", {}).get("loss", []))

    def _initialize_callbacks(self):
        """``_fit_callbacks``: the ``callbacks`` parameter with its routed ``callbacks__*``
        arguments applied, as scikeras builds them."""
        from scikeras.wrappers import BaseWrapper

        BaseWrapper._initialize_callbacks(self)

    def initialize(self, X, y):
        """Build the network for ``X`` and ``y`` with its initial weights, without training.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as ``fit`` takes them.
        y : target container
            Targets, as ``fit`` takes them (they fix the heads and their classes).

        Returns
        -------
        self : object
            Usable as a fitted estimator whose network is untrained.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), random_state=0).initialize(X, Y)
        >>> est.history_
        {}
        >>> est.predict(X).shape
        (200, 3)
        """
        self._fit(X, y, sample_weight=None, warm_start=False, epochs=0, initial_epoch=0)
        return self

    def _keep_lease(self, previous):
        """End a replaced lease (its network back to the pool), and this one when self is collected."""
        if self._lease is previous:
            return
        finalizer = vars(self).pop("_lease_finalizer", None)
        if finalizer is not None:
            finalizer.detach()
        if previous is not None:
            previous.end()
        self._lease_finalizer = weakref.finalize(self, self._lease.end)
        self._lease_finalizer.atexit = False

    def _fit_checked(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        """The fit path: parameters checked -> targets and heads -> network spec -> network
        leased (`_pool`) -> trained (`_training`) -> fitted state."""
        from ._training import check_distribution

        check_params(self, kwargs)
        check_distribution()
        self._initialize_callbacks()
        cold = not ((self.warm_start or warm_start) and self.initialized_)
        X, columns, sample_weight = self._check_data(X, y, sample_weight, reset=cold)
        if cold:
            vars(self).pop("_parked", None)
            vars(self).pop("_parked_key", None)
            self._fit_spec(columns)
            self._lease = self._new_lease()
            self._forward_plan = forward_plan(self._network)
        if epochs:
            targets = {name: head.encode(columns[name]) for name, head in self.heads_.items()}
            self._train(X, targets, sample_weight, epochs=epochs, initial_epoch=initial_epoch, **kwargs)
        else:  # initialize: the network untrained
            self._numpy_forward = self._current_forward()

    def _check_data(self, X, y, sample_weight, reset):
        """X as a float array, ``{head: target column}`` and the sample weights, checked."""
        X = check_features(self, X, reset=reset)
        columns = self._split_targets(y, reset=reset)
        n_rows = len(next(iter(columns.values())))
        if n_rows != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {n_rows}; they must have one row per sample.")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype="float32")
        return X, columns, sample_weight

    def _fit_spec(self, columns):
        """The network spec of a new fit: seed, inputs and branches, heads, auxiliary heads."""
        self._seed = self._draw_seed()
        self._fit_architecture()
        self.heads_ = self._fit_heads(columns)
        self.aux_heads_ = self._resolve_aux_heads()
        self.history_ = {}

    def _new_lease(self):
        """The network to train, in its initial state: this estimator's own when nobody
        else holds it, else one from the pool, else a new one."""
        lease = vars(self).get("_lease")
        own = None if lease is None or lease.exposed else lease.model
        new = self._acquire_network(own)
        return lease if new.model is own else new

    def _acquire_network(self, own):
        """A `Lease` of a network in this fit's initial state (see `_pool.ModelPool.acquire`)."""
        from ._pool import POOL, Lease, start_key

        args = self._network_args()
        optimizer = self.optimizer, self._routed("optimizer")
        start = start_key(self._seed, type(self), optimizer, *args)
        return Lease(POOL.acquire(lambda: self._build_keras_model(*args), start=start, own=own))

    def _fit_architecture(self):
        """Resolve the inputs and branches (``input_columns_``, ``branches_``)."""
        if self.model is not None and self.branches:
            raise ValueError(
                "branches and model are both given; the model callable reads the input tensors itself, "
                "so give one of them."
            )
        names = list(getattr(self, "feature_names_in_", []))
        self.input_columns_ = resolve_inputs(self.inputs, self.remainder, self.n_features_in_, names)
        self.branches_ = resolve_branches(self.branches, list(self.input_columns_))

    def _routed(self, prefix):
        return routed(self.get_params(deep=False), prefix)

    def _resolve_aux_heads(self):
        sources = ["trunk"] if self.model is not None else ["trunk", *self.input_columns_]
        if not self._shared_trunk:
            sources.remove("trunk")
        return resolve_aux_heads(self.aux_heads, list(self.heads_), sources, taken=list(self.input_columns_))

    @property
    def _shared_trunk(self):
        return True

    def _build_keras_model(self, build_args, compile_args):
        """The compiled network, its optimizer not yet built (see `_pool.acquire`)."""
        from ._model import build_model, compile_model, seeded_defaults

        with seeded_defaults(self._seed):
            model = build_model(**build_args)
        return compile_model(model, optimizer=self._optimizer(), **compile_args)

    def _network_args(self):
        """The arguments of `build_model` and `compile_model` (less the model and the
        optimizer, see `_optimizer`) for this fit."""
        trunk = None if self.model is None else functools.partial(self.model, **self._routed("model"))
        build_args = dict(
            input_columns=self.input_columns_,
            heads=self.heads_,
            branches=self.branches_,
            hidden_layer_sizes=as_sizes(self.hidden_layer_sizes),
            activation=self.activation,
            dropout=self.dropout,
            random_state=self._seed,
            trunk=trunk,
            aux_heads=self.aux_heads_,
            ensemble_size=int(self.ensemble_size),
            **self._graph_options(),
        )
        compile_args = dict(
            heads=self.heads_,
            loss_weights=self._loss_weights(list(self.heads_)),
            aux_heads=self.aux_heads_,
            ensemble_size=int(self.ensemble_size),
            ensemble_loss=self.ensemble_loss,
            head_losses=self._head_losses(),
            run_eagerly=self.run_eagerly,
            steps_per_execution=self._steps_per_execution(),
        )
        return build_args, compile_args

    def _steps_per_execution(self):
        import keras

        from ._training import needs_keras_fit

        value = self.steps_per_execution
        torch = keras.backend.backend() == "torch"
        if isinstance(value, str) and value == "auto":
            return 1 if torch or needs_keras_fit(self._fit_callbacks) else AUTO_STEPS_PER_EXECUTION
        if torch and value > 1:
            raise ValueError(f"steps_per_execution must be 1 with the PyTorch backend; got {value}.")
        return int(value)

    def _model_inputs(self, X):
        """``{input name: array}`` of X's columns, as the network reads them."""
        return split_inputs(X, self.input_columns_, self.branches_, list(getattr(self, "feature_names_in_", [])))

    def _graph_options(self):
        """Further arguments of `build_model` (own columns per head, joint output)."""
        return {}

    def _head_losses(self):
        """``{head: Keras loss}`` replacing heads' own losses (built at each fit)."""
        return {}

    def _optimizer(self):
        """A new optimizer for each fit; an instance given is rebuilt from its config."""
        return build_optimizer(self.optimizer, routed(self.get_params(deep=False), "optimizer", strict=True))

    def _train(self, X, targets, sample_weight, epochs, initial_epoch, **kwargs):
        """Train the network (see `_training`); extend ``history_``; refresh the numpy forward."""
        from ._training import needs_keras_fit, split_validation, train

        params = self.get_params(deep=False)
        settings = {**{name: params[name] for name in self._fit_kwargs if name in params}, **routed(params, "fit")}
        settings = {k: v for k, v in settings.items() if not k.startswith("callbacks") and k != "epochs"}
        settings.update(kwargs)
        callbacks = [*self._fit_callbacks, *(settings.pop("callbacks", None) or [])]
        validation_data = settings.pop("validation_data", None)
        validation_split = settings.pop("validation_split", 0.0)
        class_weight = settings.pop("class_weight", None)
        batch_size = settings.pop("batch_size", self.batch_size)
        batch_size = AUTO_BATCH_SIZE if batch_size == "auto" else int(batch_size)  # a batch of min(200, rows)
        x, y = self._model_inputs(X), self._network_targets(targets)
        weights = np.ones(X.shape[0], "float32") if sample_weight is None else sample_weight
        validation = None
        if validation_data is not None:
            validation = self._validation_arrays(*validation_data)
        elif validation_split:
            (x, y, weights, targets), validation = split_validation((x, y, weights, targets), validation_split)
            validation = validation[:3]
        if class_weight is not None:  # as in Keras, on the training rows only
            weights = self._class_weighted(class_weight, targets, weights)
        seed = None if self._seed is None else [self._seed, initial_epoch]
        history = train(
            self._network,
            x,
            y,
            weights,
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            batch_size=batch_size,
            shuffle=settings.get("shuffle", True),
            rng=np.random.RandomState(seed),
            validation=validation,
            validation_batch_size=settings.get("validation_batch_size"),
            validation_freq=settings.get("validation_freq", 1),
            callbacks=callbacks,
            verbose=settings.get("verbose", 0),
            steps_per_call=self._network.steps_per_execution,
            keras_fit=self.run_eagerly or needs_keras_fit(callbacks),
        )
        self._numpy_forward = self._current_forward()  # with the trained weights
        for key, values in history.items():
            self.history_.setdefault(key, []).extend(values)

    def _class_weighted(self, class_weight, targets, weights):
        """``{network output: row weights}``: ``weights`` times each row's class weight in
        the heads ``class_weight`` names (``{head: {label: weight} or "balanced"}``, or for
        the only classification head ``{label: weight}`` or ``"balanced"``)."""
        classifiers = [n for n, h in self.heads_.items() if h.kind_ in ("binary", "multiclass")]
        if not (isinstance(class_weight, dict) and class_weight and set(class_weight) <= set(self.heads_)):
            if len(classifiers) != 1:
                raise ValueError(
                    f"class_weight must be {{head: {{label: weight}} or 'balanced'}} when the model has "
                    f"{len(classifiers)} binary or multiclass heads ({quoted(classifiers)}); got {class_weight!r}."
                )
            class_weight = {classifiers[0]: class_weight}
        by_output = {name: weights for name in self._network_targets(targets)}
        for name, weights_of_head in class_weight.items():
            if name not in classifiers:
                raise ValueError(
                    f"class_weight names head {name!r}, which is {self.heads_[name].kind_}; class weights apply "
                    f"to binary and multiclass heads: {quoted(classifiers)}."
                )
            head = self.heads_[name]
            labels = head.classes_[targets[name].astype(int)]
            try:
                row_weights = compute_sample_weight(weights_of_head, labels).astype("float32")
            except (ValueError, TypeError, KeyError) as error:
                raise ValueError(
                    f"class_weight for head {name!r} must be 'balanced' or {{label: weight}} with labels among "
                    f"{quoted(head.classes_)}; got {weights_of_head!r} ({error})."
                ) from error
            outputs = [name, *(aux.name for aux in self.aux_heads_ if aux.target == name)]
            if self.ensemble_size > 1:
                outputs += [member_name(i, o) for o in list(outputs) for i in range(self.ensemble_size)]
            by_output.update({output: weights * row_weights for output in outputs})
        if len(by_output) == 1:  # a single-output network takes one array
            return next(iter(by_output.values()))
        return by_output

    def _network_targets(self, targets):
        """Encoded targets by network output: heads, auxiliary heads and ensemble members."""
        y = {**targets, **{aux.name: targets[aux.target] for aux in self.aux_heads_}}
        if self.ensemble_size > 1:  # each member's outputs train on the same targets
            y.update({member_name(i, name): y[name] for name in list(y) for i in range(self.ensemble_size)})
        return y

    def _validation_arrays(self, X, y, sample_weight=None):
        """``validation_data=(X, y[, sample_weight])`` as the network reads it."""
        X = check_features(self, X, reset=False)
        columns = self._split_targets(y, reset=False)
        targets = {name: head.encode(columns[name]) for name, head in self.heads_.items()}
        weights = np.ones(X.shape[0], "float32")
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, X, dtype="float32")
        return self._model_inputs(X), self._network_targets(targets), weights

    # -- prediction ------------------------------------------------------------------------
    def _predict_raw(self, X):
        """``{output name: network output}`` for ``X``."""
        return self._forward(self._check_predict_X(X))

    def _check_predict_X(self, X):
        self._check_fitted()
        # float32 X stays float32, anything else is float64: the numpy path computes in it
        return check_features(self, X, reset=False, dtype=(np.float64, np.float32))

    def _check_fitted(self):
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' before using this estimator."
            )

    def _forward(self, X):
        """``{output name: network output}`` (heads and auxiliary heads) for a validated float
        array; from the network's current weights once ``model_`` has been handed out."""
        inputs = self._model_inputs(X)
        forward = self._numpy_forward
        if forward is not None and "_lease" in vars(self) and self._lease.handed_out:
            forward = self._current_forward()  # the user may have set its weights
        if forward is not None:
            return forward(inputs)
        return _keras_forward(self._network, inputs)

    def _member_outputs(self, X):
        """``{head: array of shape (ensemble_size, n_samples, ...)}``: each member's output."""
        outputs = self._predict_raw(X)
        if self.ensemble_size == 1:
            return {name: outputs[name][None] for name in self.heads_}
        return {
            name: np.stack([outputs[member_name(i, name)] for i in range(self.ensemble_size)])
            for name in self.heads_
        }

    def predict_aux(self, X):
        """Each auxiliary head's predictions: ``{aux name: array of shape (n_samples,)}``,
        decoded as its target head's (class labels or values; see `aux_heads`).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        predictions : dict of str to ndarray
            Each auxiliary head's predicted labels or values.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> aux = {"age_direct": {"branch": "features", "target": "age"}}
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), aux_heads=aux, epochs=2, random_state=0)
        >>> {name: pred.shape for name, pred in est.fit(X, Y).predict_aux(X).items()}
        {'age_direct': (200,)}
        """
        raw = self._predict_raw(X)
        return {aux.name: self.heads_[aux.target].decode(raw[aux.name]) for aux in self.aux_heads_}

    def head_estimator(self, head):
        """One head as a fitted scikit-learn classifier or regressor, for displays,
        calibration, threshold tuning, permutation importance and partial dependence.

        Parameters
        ----------
        head : str
            A key of ``predict_heads``: a head, a label of `MultiLabelNN`, a factor or
            ``"joint"`` of `FactoredLabelNN`.

        Returns
        -------
        HeadClassifier or HeadRegressor
            A view sharing this estimator's network (nothing is copied).

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> type(est.head_estimator("income")).__name__, type(est.head_estimator("age")).__name__
        ('HeadClassifier', 'HeadRegressor')
        """
        self._check_fitted()
        return head_view(self, head)

    def score_aux(self, X, y, sample_weight=None):
        """Each auxiliary head's score on ``(X, y)``: ``{aux name: score}``, the score its
        target head would get (see `aux_heads`). Auxiliary heads are not part of
        `predict`, `predict_proba` or `score`.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        y : target container
            True targets, in a container as at fit.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        scores : dict of str to float
            Each auxiliary head's score.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> aux = {"age_direct": {"branch": "features", "target": "age"}}
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), aux_heads=aux, epochs=2, random_state=0)
        >>> sorted(est.fit(X, Y).score_aux(X, Y))
        ['age_direct']
        """
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

    def _current_forward(self):
        """The numpy forward pass with the network's current weights (None: Keras predicts)."""
        from ._pool import copy_values

        plan = self._forward_plan
        return None if plan is None else Forward(plan, copy_values(self._network.variables))

    # -- the Keras model -----------------------------------------------------------------------
    def summary(self, **kwargs):
        """Print the Keras model's layers (``keras.Model.summary``; kwargs go to it).

        Parameters
        ----------
        **kwargs
            Arguments of ``keras.Model.summary`` (``line_length``, ``expand_nested``,
            ``print_fn``, ...).

        Returns
        -------
        None
            The summary is printed (or given to ``print_fn``).

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> est.summary()  # doctest: +ELLIPSIS
        Model: "skmultihead"
        ...
        """
        self._check_fitted()
        return self._network.summary(**kwargs)

    def plot_model(self, path, **kwargs):
        """Draw the Keras model to ``path`` (``keras.utils.plot_model``; kwargs go to it).

        Needs the pydot package and Graphviz's ``dot`` program.

        Parameters
        ----------
        path : str or path-like
            The image file to write; its extension (``.png``, ``.svg``, ...) sets the format.
        **kwargs
            Arguments of ``keras.utils.plot_model`` (``show_shapes`` defaults to True).

        Returns
        -------
        image : IPython.display.Image or None
            What ``keras.utils.plot_model`` returns: the image, for notebooks, when
            IPython is installed.

        Raises
        ------
        ImportError
            If pydot or Graphviz is missing, saying what to install.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> est.plot_model("network.png")  # doctest: +SKIP
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
        import keras

        kwargs.setdefault("show_shapes", True)
        return keras.utils.plot_model(self._network, to_file=str(path), **kwargs)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path, include_optimizer=False):
        """Write the estimator to ``path`` as JSON and plain arrays, without pickle; read it
        back with `skmultihead.load`.

        Parameters
        ----------
        path : str or path-like
            The file to write (replaced only once it is written whole).
        include_optimizer : bool, default=False
            Keep the optimizer's state too (Adam's moments: twice the weights), so that a
            warm start or ``partial_fit`` after loading continues exactly; without it they
            start a fresh optimizer from the saved weights.

        Raises
        ------
        TypeError
            If a parameter is not data (a function or class not registered with
            ``keras.saving.register_keras_serializable``, an object Keras cannot serialize),
            naming it.

        Examples
        --------
        >>> import skmultihead
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tags.skmh")
        >>> est.save(path)
        >>> (skmultihead.load(path).predict_proba(X) == est.predict_proba(X)).all()
        np.True_
        """
        from ._persistence import save

        save(self, path, include_optimizer=include_optimizer)

    def __getstate__(self):
        # plain data and arrays: the network as its variables' values ("_parked"), built
        # again when a copy trains or reads ``model_``; callbacks are rebuilt at each fit
        state = {k: v for k, v in vars(self).items() if k not in RUNTIME_STATE}
        if "_lease" in vars(self):
            state["_parked"] = _variables(self._network)
        return state

    def __setstate__(self, state):
        vars(self).update(state)
        if "_parked" in state:
            plan = self._forward_plan
            self._numpy_forward = None if plan is None else Forward(plan, state["_parked"]["weights"])

    def __repr__(self, N_CHAR_MAX=700):
        return super().__repr__(N_CHAR_MAX)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _variables(model):
    """``{"weights": ..., "optimizer": ...}``: copies of the values of ``model``'s and its
    optimizer's variables."""
    from ._pool import copy_values

    return {"weights": copy_values(model.variables), "optimizer": copy_values(model.optimizer.variables)}


def _assign(model, weights, optimizer=None):
    """Give ``model``'s variables (and its optimizer's, unless None) the values given."""
    pairs = [(model.variables, weights, "network")]
    if optimizer is not None:
        pairs.append((model.optimizer.variables, optimizer, "optimizer"))
    for variables, values, what in pairs:
        if len(values) != len(variables):
            raise ValueError(f"{len(values)} {what} variable values given for a network with {len(variables)}.")
        for variable, value in zip(variables, values):
            if tuple(np.shape(value)) != tuple(variable.shape):
                raise ValueError(
                    f"{what} variable {variable.path!r} has shape {tuple(variable.shape)}, "
                    f"its value given has shape {np.shape(value)}."
                )
        for variable, value in zip(variables, values):
            variable.assign(value)


def _keras_forward(model, inputs):
    """``model``'s outputs for ``{input name: array}``, as numpy.

    A direct call runs the graph eagerly: no per-call data pipeline and no retracing for
    each new number of rows, unlike Model.predict / predict_on_batch.
    """
    import keras

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
        X, y
            Features and targets, as in `fit`.
        classes : array-like or dict, optional
            Every class (or label) across all calls, for a first call whose ``y`` lacks
            some; ignored afterwards. `MultiOutputNNClassifier` takes ``{head: its labels}``
            (give a regression head's standardization as ``Head(scaling=(mean, scale))``).
        sample_weight : array-like of shape (n_samples,), optional
            Weight of each sample, as in `fit`.
        **kwargs
            Training arguments, as in `fit`.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.

        Examples
        --------
        >>> from skmultihead import MultiLabelNN
        >>> from skmultihead.datasets import make_tagged_items
        >>> X, Y = make_tagged_items(200, n_features=20, n_labels=4, random_state=0)
        >>> est = MultiLabelNN(hidden_layer_sizes=(8,), random_state=0)
        >>> est = est.partial_fit(X[:100], Y[:100]).partial_fit(X[100:], Y[100:])
        >>> len(est.history_["loss"])
        2
        """
        self._first_classes = classes
        try:
            return super().partial_fit(X, y, sample_weight=sample_weight, **kwargs)
        finally:
            vars(self).pop("_first_classes", None)
