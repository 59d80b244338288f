"""MultiOutputNNClassifier: one network, named heads of mixed kinds."""

import numpy as np
import pandas as pd
from sklearn.base import MultiOutputMixin, clone
from sklearn.utils.metaestimators import available_if

from ._base import MultiHeadBase
from ._contract import register
from ._messages import quoted, suggest
from ._docs import ARCHITECTURE_PARAMETERS, COMMON_ATTRIBUTES, TRAINING_PARAMETERS, TRUNK_PARAMETERS
from ._heads import Head
from ._inputs import row_index
from ._missing import mean_of_labeled
from ._targets import join_targets, split_targets


def _has_classification_head(estimator):
    return not hasattr(estimator, "heads_") or any(h.is_classifier_ for h in estimator.heads_.values())


@register
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
        (kinds: "binary", "multiclass", "multilabel", "regression", "quantile"), or giving a head
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

    See Also
    --------
    MultiLabelNN : One sigmoid output per label, with per-label thresholds.
    FactoredLabelNN : Joint classes learned as independent factors.
    head_scorer : A scikit-learn scorer of one head.

    Examples
    --------
    >>> from skmultihead import MultiOutputNNClassifier
    >>> from skmultihead.datasets import make_social_media
    >>> X, Y = make_social_media(200, random_state=0)
    >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0)
    >>> est = est.fit(X, Y)
    >>> {{name: head.kind_ for name, head in est.heads_.items()}}
    {{'age': 'regression', 'income': 'multiclass', 'gender': 'binary'}}
    >>> est.predict(X).shape
    (200, 3)
    >>> [proba.shape for proba in est.predict_proba(X)]
    [(200, 10), (200, 2)]
    >>> sorted(est.score_heads(X, Y))
    ['age', 'gender', 'income']
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
        missing_targets="error",
        optimizer="adam",
        epochs=100,
        batch_size="auto",
        validation_split=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        scoring="loss",
        shuffle=True,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        steps_per_execution="auto",
        jit_compile="auto",
        **kwargs,
    ):
        self._init_params(locals(), kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # fitted on one binary or multiclass target, it is a plain classifier (calibration,
        # threshold tuning, roc_auc); otherwise neither a classifier nor a regressor
        tags.estimator_type = "classifier" if self._single_classifier else None
        tags.target_tags.single_output = True
        return tags

    @property
    def _single_classifier(self):
        heads = vars(self).get("heads_")
        return bool(heads) and self._single_output and next(iter(heads.values())).kind_ in ("binary", "multiclass")

    # -- targets and heads -----------------------------------------------------------------
    def _split_targets(self, y, reset, classes=None):
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

    def _fit_heads(self, columns, classes=None):
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
        first_classes = {} if classes is None else classes
        if not isinstance(first_classes, dict) or set(first_classes) - set(columns):
            raise ValueError(
                f"classes must be a dict {{head: its labels}} naming heads among {quoted(columns)}; "
                f"got {first_classes!r}."
            )
        heads = {}
        for name, target in columns.items():
            spec = specs.get(name)
            head = clone(spec) if isinstance(spec, Head) else Head(kind=spec)
            if name in first_classes:
                head.set_params(classes=first_classes[name])
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

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        y_pred : DataFrame, dict, list or ndarray
            Every head's predictions, in the container ``y`` was given in at fit.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> est.predict(X).columns.tolist()
        ['age', 'income', 'gender']
        """
        return join_targets(self._predict_columns(X), self.target_layout_, index=row_index(X))

    def _predict_columns(self, X, raw=None):
        raw = self._predict_raw(X) if raw is None else raw
        return {name: head.decode(raw[name]) for name, head in self.heads_.items()}

    @available_if(_has_classification_head)
    def predict_proba(self, X):
        """Class probabilities: a list with one (n_samples, n_classes) array per
        classification head, in head order, columns in ``classes_`` order.

        When ``y`` was a single 1-D target, the one array itself (as for any
        single-output classifier).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        proba : list of ndarray of shape (n_samples, n_classes), or ndarray
            Each classification head's class probabilities.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> [proba.shape for proba in est.predict_proba(X)]
        [(200, 10), (200, 2)]
        """
        probas = list(self.predict_head_proba(X).values())
        return probas[0] if self._single_output else probas

    @available_if(_has_classification_head)
    def predict_head_proba(self, X):
        """Class probabilities by head name: ``{head: (n_samples, n_classes) array}``.

        Only classification heads are in it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        proba : dict of str to ndarray of shape (n_samples, n_classes)
            Each classification head's class probabilities, columns in its classes' order.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> {name: proba.shape for name, proba in est.predict_head_proba(X).items()}
        {'income': (200, 10), 'gender': (200, 2)}
        """
        raw = self._predict_raw(X)
        return {name: head.predict_proba(raw[name]) for name, head in self.heads_.items() if head.is_classifier_}

    def predict_heads(self, X, return_std=False):
        """Each head's predictions by head name: ``{head: array of shape (n_samples,)}``
        (``(n_samples, n_outputs)`` for 2-D targets), labels in their original form.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        return_std : bool, default=False
            Give each ``distribution="normal"`` head's ``(mean, std)`` instead of its mean.
            A ``"quantile"`` head gives its quantiles, shape (n_samples, n_quantiles): a
            DataFrame with a column per level when y was one.

        Returns
        -------
        predictions : dict of str to ndarray
            Each head's predicted labels or values.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> {name: pred.shape for name, pred in est.predict_heads(X).items()}
        {'age': (200,), 'income': (200,), 'gender': (200,)}
        """
        self._check_fitted()
        gaussian = [name for name, head in self.heads_.items() if head.distribution is not None]
        if return_std and not gaussian:
            raise ValueError(
                f"return_std=True gives the standard deviation of heads with distribution='normal'; "
                f"none of the heads {quoted(self.heads_)} has one."
            )
        raw = self._predict_raw(X)
        predictions = self._predict_columns(X, raw)
        for name, head in self.heads_.items():
            if head.kind_ == "quantile":
                predictions[name] = self._quantile_frame(head.quantiles_of(raw[name]), head, row_index(X))
            elif return_std and name in gaussian:
                predictions[name] = predictions[name], head.std(raw[name])
        return predictions

    def _quantile_frame(self, values, head, index):
        """A quantile head's quantiles as an array, or as y was a DataFrame, a DataFrame."""
        if self.target_layout_.kind != "dataframe":
            return values
        return pd.DataFrame(values, columns=[float(q) for q in head.quantiles], index=index)

    def _join_heads(self, heads, index=None):
        """``{head: predictions}`` in the container kind ``y`` had at fit (as `predict`)."""
        return join_targets(heads, self.target_layout_, index=index)

    def _head_classes(self):
        return {name: head.classes_ if head.is_classifier_ else None for name, head in self.heads_.items()}

    def _head_targets(self, y):
        return split_targets(y)[0]  # any of the heads

    def predict_members(self, X):
        """Each ensemble member's predictions, for uncertainty: ``{head: array of shape
        (ensemble_size, n_samples, ...)}``, class probabilities for classification heads
        (as `predict_head_proba`) and values for regression heads. Their mean over the
        first axis is what the ensemble predicts; their standard deviation is the
        members' spread.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.

        Returns
        -------
        members : dict of str to ndarray of shape (ensemble_size, n_samples, ...)
            Each member's class probabilities or values, by head.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), ensemble_size=2, epochs=2, random_state=0)
        >>> members = est.fit(X, Y).predict_members(X)
        >>> {name: values.shape for name, values in members.items()}
        {'age': (2, 200), 'income': (2, 200, 10), 'gender': (2, 200, 2)}
        """
        members = self._member_outputs(X)
        return {
            name: np.stack([head.predict_proba(m) if head.is_classifier_ else head.decode(m) for m in members[name]])
            for name, head in self.heads_.items()
        }

    def score(self, X, y, sample_weight=None):
        """Mean over heads of accuracy (classification heads; subset accuracy for
        multilabel heads) and R² (regression heads).

        Use `score_heads` for each head's score, or `head_scorer` for any metric of one head.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        y : target container
            True targets of every head, in a container as at fit.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        score : float
            The mean of the heads' scores (of those with labels in y: see score_heads).

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> isinstance(est.score(X, Y), float)
        True
        """
        return mean_of_labeled(self.score_heads(X, y, sample_weight))

    def score_heads(self, X, y, sample_weight=None):
        """``{head: score}``: accuracy for classification heads, R² for regression heads.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features, as at fit.
        y : target container
            True targets of every head, in a container as at fit.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        scores : dict of str to float
            Each head's score.

        Examples
        --------
        >>> from skmultihead import MultiOutputNNClassifier
        >>> from skmultihead.datasets import make_social_media
        >>> X, Y = make_social_media(200, random_state=0)
        >>> est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
        >>> sorted(est.score_heads(X, Y))
        ['age', 'gender', 'income']
        """
        self._check_fitted()
        columns = self._split_targets(y, reset=False)
        predicted = self._predict_columns(X)
        return {
            name: head.score(columns[name], predicted[name], sample_weight=sample_weight)
            for name, head in self.heads_.items()
        }
