"""An estimator's network over its life: leased from the pool, parked as arrays, pickled.

A fitted estimator holds its Keras network in one of two ways (`NetworkHolder`):
*leased* (a live, compiled network of ``_pool``) or *parked* (the values of its variables
as numpy arrays, the network given back to the pool). An estimator that predicts in numpy
parks at the end of each fit; it takes a network again (an idle one of its architecture,
else one built from its parameters) when it trains again or hands out ``model_``. Pickled
and saved estimators hold the parked values, under ``_parked``.
"""

import numbers
import weakref

import numpy as np

from ._forward import Forward


class NetworkHolder:
    """One estimator's network: a `_pool.Lease`, or its parked values (and the key of its
    architecture, to find an idle network of it in the pool)."""

    def __init__(self, parked=None):
        self.lease, self.parked, self.parked_key, self._finalizer = None, parked, None, None

    @property
    def ready(self):
        """Whether there is a network (leased or parked)."""
        return self.lease is not None or self.parked is not None

    def take(self, rebuild):
        """The lease, taking a network again when parked: ``rebuild(network)``'s lease of an
        idle one of the architecture from the pool (None if there is none), given the
        parked values."""
        if self.lease is None:
            from ._pool import POOL

            lease = rebuild(POOL.take(self.parked_key))
            assign(lease.model, **self.parked)  # may refuse the values: then it stays parked
            self.lease, self.parked, self.parked_key = lease, None, None
            self.commit(previous=None)
        return self.lease

    def commit(self, previous):
        """Keep the lease held now: ``previous`` (the one held before a fit) ends, its
        network back to the pool, and this one ends when the holder is collected."""
        if self.lease is previous:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        if previous is not None:
            previous.end()
        self._finalizer = weakref.finalize(self, self.lease.end)
        self._finalizer.atexit = False

    def park(self):
        """Keep the network's values as arrays and give the network back to the pool,
        unless it was handed out."""
        from ._pool import network_key

        lease = self.lease
        if lease is None or lease.exposed:
            return
        self.parked, self.parked_key = variables(lease.model), network_key(lease.model)
        self._finalizer.detach()
        self.lease = self._finalizer = None
        lease.end()

    def values(self):
        """``{"weights": [...], "optimizer": [...]}``: the network's variable values."""
        return self.parked if self.lease is None else variables(self.lease.model)

    def checkpoint(self):
        """What `rollback` restores: the holder as it is and its network's values."""
        return dict(vars(self)), None if self.lease is None else variables(self.lease.model)

    def rollback(self, checkpoint):
        """Back to ``checkpoint`` after a failed fit; a network taken meanwhile is dropped."""
        fields, values = checkpoint
        if self._finalizer is not None and self._finalizer is not fields["_finalizer"]:
            self._finalizer.detach()
        vars(self).clear()
        vars(self).update(fields)
        if values is not None:
            assign(self.lease.model, **values)


class NetworkMixin:
    """``model_`` and what reads the Keras network; pickling as parked values."""

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
        holder = vars(self).get("_holder")
        return holder is not None and holder.ready

    def _leased(self):
        return self._holder.take(self._rebuild)

    def _park(self):
        """Park the network when the estimator predicts in numpy (see `NetworkHolder.park`)."""
        if self._forward_plan is not None:
            self._holder.park()

    def _build_signature(self):
        """What the network of this fit is built from (kept by a new fit as ``_built_from``)."""
        from ._pool import build_signature

        return build_signature(*self._network_args(), self.optimizer, self._routed("optimizer"))

    def _changed_since_built(self):
        """The arguments of the network that the parameters set now would build otherwise."""
        built_from = getattr(self, "_built_from", None)  # absent in files of older versions
        if built_from is None:
            return []
        now = self._build_signature()
        return [name for name, text in now.items() if text is not None and text != built_from.get(name, text)]

    def _continue_network(self):
        """A warm start: refuse parameters that would build another network; give the
        network the learning rate asked now (as ``model.optimizer.learning_rate = ...``)."""
        changed = self._changed_since_built()
        if changed:
            raise ValueError(f"warm_start=True continues the fitted network, but {', '.join(changed)} changed "
                             "since it was built; set warm_start=False to build a new network.")
        learning_rate = self._routed("optimizer").get("learning_rate")
        if learning_rate is None:  # the optimizer's own: an instance's, or its class default
            learning_rate = self._optimizer().get_config()["learning_rate"]
        if isinstance(learning_rate, numbers.Real):  # not a schedule
            self._network.optimizer.learning_rate = learning_rate

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
        from ._contract import RUNTIME_STATE

        state = {k: v for k, v in vars(self).items() if k not in RUNTIME_STATE}
        if self.initialized_:
            state["_parked"] = self._holder.values()
        return state

    def __setstate__(self, state):
        state = dict(state)
        parked = state.pop("_parked", None)
        vars(self).update(state)
        self._holder = NetworkHolder(parked)
        if parked is not None:
            plan = self._forward_plan
            self._numpy_forward = None if plan is None else Forward(plan, parked["weights"])


def variables(model):
    """``{"weights": ..., "optimizer": ...}``: copies of the values of ``model``'s and its
    optimizer's variables."""
    from ._pool import copy_values

    return {"weights": copy_values(model.variables), "optimizer": copy_values(model.optimizer.variables)}


def assign(model, weights, optimizer=None):
    """Give ``model``'s variables (and its optimizer's, unless None) the values given."""
    pairs = [(model.variables, weights, "network")]
    if optimizer is not None:
        pairs.append((model.optimizer.variables, optimizer, "optimizer"))
    for variables_, values, what in pairs:
        if len(values) != len(variables_):
            raise ValueError(f"{len(values)} {what} variable values given for a network with {len(variables_)}.")
        for variable, value in zip(variables_, values):
            if tuple(np.shape(value)) != tuple(variable.shape):
                raise ValueError(
                    f"{what} variable {variable.path!r} has shape {tuple(variable.shape)}, "
                    f"its value given has shape {np.shape(value)}."
                )
        for variable, value in zip(variables_, values):
            variable.assign(value)
