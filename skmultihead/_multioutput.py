"""MultiOutputNNClassifier: one network, named heads of mixed kinds."""

import numpy as np
from sklearn.base import MultiOutputMixin, clone
from sklearn.utils.metaestimators import available_if

from ._base import MultiHeadBase
from ._messages import quoted, suggest
from ._docs import ARCHITECTURE_PARAMETERS, COMMON_ATTRIBUTES, TRAINING_PARAMETERS, TRUNK_PARAMETERS
from ._heads import Head
from ._inputs import row_index
from ._targets import join_targets, split_targets


def _has_classification_head(estimator):
    return not hasattr(estimator, "heads_") or any(h.is_classifier_ for h in estimator.heads_.values())


class MultiOutputNNClassifier(MultiOutputMixin, MultiHeadBase):
    __doc__ = f"""One neural network with a shared trunk and one named output head per target.

    Heads may be of different kinds (binary, multiclass, multilabel, regression); each gets
    its own output layer, loss and metric, and all are trained together in one fit.

    Targets: a DataFrame (a head per column), a dict ``{{head: array}}``, a 2-D array (heads
    ``output_0``, ``output_1``, ...), a list of 1-D numpy arrays, or one 1-D target.
    A head's own target may be 2-D: a 0/1 indicator (multilabel) or one-hot rows
    (declare it ``"multiclass"``). Labels may be strings, ints, bools or categoricals.
    Missing target values are an error.

    Because it mixes classification and regression heads, this estimator declares itself
    neither a classifier nor a regressor to scikit-learn (``estimator_type=None``,
    multi-output targets). Declaring "classifier" would make scikit-learn call
    ``type_of_target`` on the whole target when choosing CV folds, which raises on a
    DataFrame that mixes string labels and floats.

    Parameters
    ----------
    heads : dict, default=None
        ``{{head name: kind or Head}}`` overriding the kind inferred from the target
        (kinds: "binary", "multiclass", "multilabel", "regression"), or giving a head
        its own hidden units, loss or metrics through a `Head`.
    {TRUNK_PARAMETERS}
    {ARCHITECTURE_PARAMETERS}
    loss_weights : dict, default=None
        ``{{head name: weight}}`` of each head's loss in the total loss (1.0 when not
        given). A single head's weight can also be set as ``loss_weights__<head>``, e.g. in
        ``set_params`` or a ``GridSearchCV`` grid.
    {TRAINING_PARAMETERS}

    Attributes
    ----------
    classes_ : list of ndarray
        Class labels of each classification head, in head order (as `predict_proba`);
        the one array when ``y`` was a single 1-D target. Absent when no head classifies.
    {COMMON_ATTRIBUTES}
    """

    def __init__(
        self,
        heads=None,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        inputs=None,
        remainder="error",
        branches=None,
        model=None,
        aux_heads=None,
        ensemble_size=1,
        ensemble_loss="members",
        loss_weights=None,
        optimizer="adam",
        epochs=100,
        batch_size="auto",
        validation_split=0.0,
        shuffle=True,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        steps_per_execution="auto",
        **kwargs,
    ):
        self._init_params(locals(), kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = None
        tags.target_tags.single_output = True
        return tags

    # -- targets and heads -----------------------------------------------------------------
    def _split_targets(self, y, reset):
        columns, layout = split_targets(y)
        if reset:
            self.target_layout_ = layout
            return columns
        expected = list(self.heads_)
        missing = [n for n in expected if n not in columns]
        extra = [n for n in columns if n not in self.heads_]
        if missing or extra:
            raise ValueError(
                f"y has heads {quoted(columns)} but the model was fitted with {quoted(expected)}"
                f"{'; missing: ' + quoted(missing) if missing else ''}{'; unknown: ' + quoted(extra) if extra else ''}."
            )
        return columns

    def _fit_heads(self, columns):
        specs = dict(self.heads or {})
        for name, spec in specs.items():
            if name not in columns:
                raise ValueError(
                    f"heads names head {name!r}, which is not in y; heads are {quoted(columns)}."
                    f"{suggest(name, columns)}"
                )
            if not isinstance(spec, (str, Head)):
                raise TypeError(
                    f"heads[{name!r}] must be a kind (str) or a Head; got {type(spec).__name__}."
                )
        heads = {}
        for name, target in columns.items():
            spec = specs.get(name)
            head = clone(spec) if isinstance(spec, Head) else Head(kind=spec)
            heads[name] = head.fit(target, name)
        classes = [h.classes_ for h in heads.values() if h.is_classifier_]
        if classes:
            self.classes_ = classes[0] if self._single_output else classes
        return heads

    @property
    def _single_output(self):
        return self.target_layout_.kind in ("vector", "series")

    # -- predictions -----------------------------------------------------------------------
    def predict(self, X):
        """Predict every head, returned in the container kind ``y`` had at fit.

        DataFrame targets give a DataFrame with X's index (when X is a DataFrame);
        labels are in their original form and dtype.
        """
        return join_targets(self._predict_columns(X), self.target_layout_, index=row_index(X))

    def _predict_columns(self, X):
        raw = self._predict_raw(X)
        return {name: head.decode(raw[name]) for name, head in self.heads_.items()}

    @available_if(_has_classification_head)
    def predict_proba(self, X):
        """Class probabilities: a list with one (n_samples, n_classes) array per
        classification head, in head order, columns in ``classes_`` order.

        When ``y`` was a single 1-D target, the one array itself (as for any
        single-output classifier)."""
        probas = list(self.predict_head_proba(X).values())
        return probas[0] if self._single_output else probas

    @available_if(_has_classification_head)
    def predict_head_proba(self, X):
        """Class probabilities by head name: ``{head: (n_samples, n_classes) array}``."""
        raw = self._predict_raw(X)
        return {name: head.predict_proba(raw[name]) for name, head in self.heads_.items() if head.is_classifier_}

    def predict_heads(self, X):
        """Each head's predictions by head name: ``{head: array of shape (n_samples,)}``
        (``(n_samples, n_outputs)`` for 2-D targets), labels in their original form."""
        return self._predict_columns(X)

    def _head_classes(self):
        return {name: head.classes_ if head.is_classifier_ else None for name, head in self.heads_.items()}

    def _head_targets(self, y):
        return split_targets(y)[0]  # any of the heads

    def predict_members(self, X):
        """Each ensemble member's predictions, for uncertainty: ``{head: array of shape
        (ensemble_size, n_samples, ...)}``, class probabilities for classification heads
        (as `predict_head_proba`) and values for regression heads. Their mean over the
        first axis is what the ensemble predicts; their standard deviation is the
        members' spread."""
        members = self._member_outputs(X)
        return {
            name: np.stack([head.predict_proba(m) if head.is_classifier_ else head.decode(m) for m in members[name]])
            for name, head in self.heads_.items()
        }

    def score(self, X, y, sample_weight=None):
        """Mean over heads of accuracy (classification heads; subset accuracy for
        multilabel heads) and R² (regression heads).

        Use `score_heads` for each head's score, or `head_scorer` for any metric of one head.
        """
        return float(np.mean(list(self.score_heads(X, y, sample_weight).values())))

    def score_heads(self, X, y, sample_weight=None):
        """``{head: score}``: accuracy for classification heads, R² for regression heads."""
        columns = self._split_targets(y, reset=False)
        predicted = self._predict_columns(X)
        return {
            name: head.score(columns[name], predicted[name], sample_weight=sample_weight)
            for name, head in self.heads_.items()
        }
