"""The contract between the base class and the three estimators, written down once.

`MultiHeadBase` trains and predicts; what the heads are and how a target container maps
to them is each estimator's own. An estimator provides the hooks of `HeadsContract`; the
modules on top (``_views``, ``_scoring``, ``model_selection``, ``_persistence``) use the
hooks by these names and nothing else of an estimator's private parts.

The vocabulary of the hooks: a *column* is ``{head: 1-D (or 2-D) target values}`` as the
network's heads read them; a *head key* is a name ``predict_heads`` returns (a head of
`MultiOutputNNClassifier`, a label of `MultiLabelNN`, a factor or ``"joint"`` of
`FactoredLabelNN`).
"""

import abc
import importlib

# attributes built while an estimator runs: never pickled, saved or loaded
RUNTIME_STATE = ("_fit_callbacks", "_numpy_forward", "_holder", "_pending_own")

ESTIMATORS = {}  # class name -> estimator class, filled by `register`


def register(cls):
    """Class decorator: ``cls`` may be saved and loaded (see ``_persistence``)."""
    ESTIMATORS[cls.__name__] = cls
    return cls


def estimator_class(name):
    """The registered estimator class called ``name``, or None; the package's public
    estimators are imported (and so registered) on first request."""
    if name not in ESTIMATORS and isinstance(name, str):
        package = importlib.import_module(__package__)
        if name in package.__all__:
            getattr(package, name)
    return ESTIMATORS.get(name)


class HeadsContract(abc.ABC):
    """What each estimator tells the base class about its heads.

    Required hooks are abstract; the optional ones have the defaults of a network built
    from ``hidden_layer_sizes`` with the heads' own losses.
    """

    @abc.abstractmethod
    def _split_targets(self, y, reset, classes=None):
        """``{head: column}`` of the target container ``y``.

        With ``reset`` (a new fit) the container's layout is learned and kept
        (``target_layout_``); otherwise ``y`` must have the layout seen at fit.
        ``classes`` is ``partial_fit``'s argument, as the estimator documents it.
        Raise ValueError naming the head for targets the estimator cannot read.
        """

    @abc.abstractmethod
    def _fit_heads(self, columns, classes=None):
        """``{head: fitted Head}`` for the columns of a new fit; sets the estimator's
        fitted attributes that depend on the heads (``classes_``, ...). ``classes`` as
        in `_split_targets`: it fixes a head's classes, and so its kind."""

    @abc.abstractmethod
    def _head_classes(self):
        """``{head key: class labels, or None for a regression head}``."""

    @abc.abstractmethod
    def _head_targets(self, y):
        """``{head key: true values}`` of a target container ``y`` (1-D labels or values)."""

    @abc.abstractmethod
    def _join_heads(self, heads, index=None):
        """``{head key: predictions}`` in the container kind ``y`` had at fit (as
        ``predict`` returns it); ``index`` is the DataFrame index to give it."""

    @abc.abstractmethod
    def _predict_columns(self, X):
        """``{head: decoded predictions}`` for ``X``: what ``predict`` joins."""

    # -- optional hooks --------------------------------------------------------------------
    def _graph_options(self):
        """Further arguments of `_model.build_model` (own columns per head, joint output)."""
        return {}

    def _head_losses(self):
        """``{head: Keras loss}`` replacing heads' own losses (built at each fit)."""
        return {}

    def _per_entry_heads(self):
        """Heads whose targets may miss single entries of a row (see `_missing`)."""
        return ()

    def _view_labels(self, head, labels):
        """``labels`` of head key ``head`` as its single-output view (`_views`) and scorer
        show them: scalars, which scikit-learn's metrics take (default: unchanged)."""
        return labels

    def _weight_keys(self, columns):
        """The keys ``fit(sample_weight={key: weights})`` accepts (the heads of ``columns``)."""
        return list(columns)

    def _head_weights(self, by_key):
        """``{head: row weights}`` from checked ``{key: weights}`` (keys are heads)."""
        return by_key

    @property
    def _shared_trunk(self):
        """Whether the heads read a shared trunk (auxiliary heads may read it)."""
        return True
