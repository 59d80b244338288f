"""Base: the fit path, one step after another; the estimators' shared parameters.

``fit`` = settings checked and resolved (`_settings`) -> targets and heads (the estimator's
hooks, `_contract`) -> network spec -> network leased from the pool (`_pool`, held by
`_lifecycle`) -> trained (`_training`) -> fitted state. A failed fit, an interrupted one
included, leaves the estimator as it was. Routed parameters follow scikeras's conventions
(`_routing`); prediction is `_predicting`'s.

What scikeras 0.13 gets wrong on scikit-learn 1.6+ is not inherited: tags are declared with
``__sklearn_tags__`` (not ``_more_tags``), each head checks its own target (never
``type_of_target`` on a whole DataFrame that mixes labels and floats), and a misspelled
keyword argument is an error with a suggestion.
"""

import functools

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from ._branches import resolve_branches
from ._contract import HeadsContract
from ._early_stopping import EarlyStoppingMixin
from ._forward import forward_plan
from ._inputs import check_features, check_head_names, resolve_inputs
from ._lifecycle import NetworkHolder, NetworkMixin
from ._missing import drop_unlabeled, encode_labeled, labels_as_given, target_masks
from ._own import OwnNetworkMixin
from ._params import COMMON, as_sizes, build_optimizer
from ._predicting import PredictMixin
from ._routing import RoutedParamsMixin
from ._settings import TrainingArraysMixin, resolve_settings
from ._spec import resolve_aux_heads

AUTO_STEPS_PER_EXECUTION = 64  # batches per call of the compiled train step


class MultiHeadBase(
    RoutedParamsMixin,
    NetworkMixin,
    PredictMixin,
    TrainingArraysMixin,
    EarlyStoppingMixin,
    OwnNetworkMixin,
    HeadsContract,
    BaseEstimator,
):
    """A Keras functional model with named heads, as a scikit-learn estimator.

    Subclasses implement the hooks of `HeadsContract` (which heads, how targets map to
    them) and decide what predict and score return; this class checks, builds and trains.
    """

    _parameter_constraints = COMMON

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
        self._fit(X, y, sample_weight, kwargs)
        return self

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
            The classes given fix each head's classes and kind.
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
        for name in ("epochs", "initial_epoch"):
            if name in kwargs:
                raise TypeError(f"partial_fit trains one epoch from the current one; it takes no {name!r}.")
        overrides = dict(epochs=1, initial_epoch=self.current_epoch, warm_start=True, classes=classes, partial=True)
        self._fit(X, y, sample_weight, kwargs, **overrides)
        return self

    @property
    def current_epoch(self):
        """The number of epochs trained so far."""
        return len(getattr(self, "history_", {}).get("loss", []))

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
        self._fit(X, y, None, {}, epochs=0, initial_epoch=0)
        return self

    def _fit(self, X, y, sample_weight, kwargs, **overrides):
        """Fit with the settings ``kwargs`` and ``overrides`` give; on any error, the
        estimator as it was (its network's values included)."""
        if "_holder" not in vars(self):
            self._holder = NetworkHolder()
        state, checkpoint = dict(vars(self)), self._holder.checkpoint()
        previous = self._holder.lease
        try:
            self._fit_checked(X, y, sample_weight, resolve_settings(self, kwargs, **overrides))
        except BaseException:
            self._holder.rollback(checkpoint)
            vars(self).clear()
            vars(self).update(state)
            raise
        self._holder.commit(previous)
        self._park()

    def _fit_checked(self, X_given, y, sample_weight, settings):
        from ._training import check_distribution

        check_distribution()
        self._fit_callbacks = self._callbacks()
        cold = not (settings.warm_start and self.initialized_)
        X, columns, sample_weight = self._check_data(X_given, y, sample_weight, reset=cold, classes=settings.classes)
        masks = target_masks(columns, self.missing_targets, self._per_entry_heads(), require_labels=cold)
        X, columns, masks, sample_weight, kept = drop_unlabeled(X, columns, masks, sample_weight)
        if cold:
            self._holder.parked = self._holder.parked_key = None
            labeled = {name: c if name in self._per_entry_heads() else labels_as_given(c[masks[name]])
                       for name, c in columns.items()}
            self._fit_spec(labeled, settings.classes)
            self._holder.lease = self._new_lease()
            self._forward_plan = forward_plan(self._network)
            self._built_from = self._build_signature()
        else:
            self._continue_network()
        self._weigh_losses(self._network)  # this fit's loss_weights, on a new or reused network
        stopper = None
        if settings.epochs:
            X, columns, masks, sample_weight, settings, stopper = self._with_early_stopping(
                X_given, y, kept, X, columns, masks, sample_weight, settings
            )
            targets = {name: encode_labeled(head, columns[name], masks[name]) for name, head in self.heads_.items()}
            self._train(X, targets, masks, sample_weight, settings)
        else:  # initialize: the network untrained
            self._numpy_forward = self._current_forward()
        self._record_fit(stopper)

    def _check_data(self, X, y, sample_weight, reset, classes=None):
        """X as a float array, ``{head: target column}`` and the sample weights (one array,
        or one per head), checked."""
        X = check_features(self, X, reset=reset)
        columns = self._split_targets(y, reset=reset, classes=classes)
        n_rows = len(next(iter(columns.values())))
        if n_rows != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {n_rows}; they must have one row per sample.")
        return X, columns, self._checked_weights(sample_weight, X, columns)

    def _fit_spec(self, columns, classes):
        """The network spec of a new fit: seed, inputs and branches, heads, auxiliary heads."""
        self._seed = self._draw_seed()
        self.heads_ = self._fit_heads(columns, classes)
        check_head_names(list(self.heads_))
        if self._own:
            self._own_spec()
        else:
            self._fit_architecture()
            self.aux_heads_ = self._resolve_aux_heads()
        self.history_ = {}

    def _draw_seed(self):
        """An int seed from ``random_state`` (None stays None), drawn once per fit."""
        if self.random_state is None or isinstance(self.random_state, (int, np.integer)):
            return self.random_state
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _new_lease(self):
        """The network to train, in its initial state: this estimator's own when nobody
        else holds it, else one from the pool, else a new one."""
        lease = self._holder.lease
        own = None if lease is None or lease.exposed else lease.model
        new = self._acquire_network(own)
        return lease if new.model is own else new

    def _rebuild(self, network=None):
        """A lease of ``network`` (idle, of this architecture), else of one built again from
        the parameters, for a parked one."""
        from ._pool import Lease

        if network is None:
            self._fit_callbacks = self._callbacks()  # steps_per_execution depends on them
            lease = self._acquire_network(own=None)
        else:
            lease = Lease(network)
        self._weigh_losses(lease.model)  # a network taken again may hold another fit's
        return lease

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
        taken = [name for name in self.heads_ if name in self.input_columns_]
        if taken:
            raise ValueError(f"head {taken[0]!r} has the name of an input (the input of all features is named "
                             "'features' unless `inputs` names them); give the head or the input another name.")

    def _resolve_aux_heads(self):
        sources = ["trunk"] if self.model is not None else ["trunk", *self.input_columns_]
        if not self._shared_trunk:
            sources.remove("trunk")
        return resolve_aux_heads(self.aux_heads, list(self.heads_), sources, taken=list(self.input_columns_))

    def _build_keras_model(self, build_args, compile_args):
        """The compiled network, its optimizer not yet built (see `_pool.acquire`)."""
        from ._model import build_model, compile_model, seeded_defaults

        user = None
        with seeded_defaults(self._seed):
            model, user = self._build_own() if self._own else (build_model(**build_args), None)
        return compile_model(model, optimizer=self._optimizer(), user_compile=user, **compile_args)

    def _network_args(self):
        """The arguments of `build_model` and `compile_model` (less the model and the
        optimizer, see `_optimizer`) for this fit."""
        trunk = None if self.model is None else functools.partial(self.model, **self._routed("model"))
        build_args = {"model": self.model, **self._routed("model")} if self._own else dict(
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
            aux_heads=self.aux_heads_,
            ensemble_size=int(self.ensemble_size),
            head_losses=self._head_losses(),
            run_eagerly=self.run_eagerly,
            steps_per_execution=self._steps_per_execution(),
            masked=self.missing_targets == "mask",
        )
        return build_args, compile_args

    def _weigh_losses(self, network):
        """Give ``network``'s loss weight variables this estimator's ``loss_weights``."""
        from ._loss_weights import set_loss_weights

        set_loss_weights(network, self.heads_, self._loss_weights(list(self.heads_)), aux_heads=self.aux_heads_,
                         ensemble_size=int(self.ensemble_size), ensemble_loss=self.ensemble_loss)

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

    def _optimizer(self):
        """A new optimizer for each fit; an instance given is rebuilt from its config."""
        return build_optimizer(self.optimizer, self._routed("optimizer", strict=True))

    def _train(self, X, targets, masks, sample_weight, settings):
        """Train the network (see `_training`); extend ``history_``; refresh the numpy forward."""
        from ._training import needs_keras_fit, train

        x, y, weights, validation = self._training_arrays(X, targets, masks, sample_weight, settings)
        callbacks = [*self._fit_callbacks, *settings.callbacks]
        start = settings.initial_epoch
        try:
            history = train(
                self._network,
                x,
                y,
                weights,
                epochs=start + settings.epochs,
                initial_epoch=start,
                batch_size=settings.batch_size,
                shuffle=settings.shuffle,
                rng=np.random.RandomState(None if self._seed is None else [self._seed, start]),
                validation=validation,
                validation_batch_size=settings.validation_batch_size,
                validation_freq=settings.validation_freq,
                callbacks=callbacks,
                verbose=settings.verbose,
                steps_per_call=self._network.steps_per_execution,
                jit_compile=self.jit_compile,
                keras_fit=self.run_eagerly or needs_keras_fit(callbacks),
            )
        finally:  # callbacks the user gave (parameters of the estimator) do not keep the network
            for callback in callbacks:
                callback.set_model(None)
        self._numpy_forward = self._current_forward()  # with the trained weights
        # a new dict: a fit that fails after this line leaves the one it started with
        added = {key: [*self.history_.get(key, []), *values] for key, values in history.items()}
        self.history_ = {**self.history_, **added}

    def __repr__(self, N_CHAR_MAX=700):
        return super().__repr__(N_CHAR_MAX)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
