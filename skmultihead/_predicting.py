"""Prediction: X -> the network's outputs (numpy forward pass, else Keras) -> heads.

The numpy forward pass (`_forward.Forward`) predicts from the trained weights without a
deep-learning framework; Keras predicts for networks with layers it does not know.
"""

import numpy as np
from sklearn.exceptions import NotFittedError

from ._forward import Forward
from ._inputs import check_features, split_inputs
from ._spec import member_name
from ._views import head_view

_PREDICT_CHUNK = 8192  # rows per Keras forward pass


class PredictMixin:
    """Outputs of the fitted network, auxiliary heads and per-head views."""

    def _model_inputs(self, X):
        """``{input name: array}`` of X's columns, as the network reads them."""
        return split_inputs(X, self.input_columns_, self.branches_, list(getattr(self, "feature_names_in_", [])))

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
        if forward is not None and self._holder.lease is not None and self._holder.lease.handed_out:
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

    def head_estimator(self, head, quantile=None):
        """One head as a fitted scikit-learn classifier or regressor, for displays,
        calibration, threshold tuning, permutation importance and partial dependence.

        Parameters
        ----------
        head : str
            A key of ``predict_heads``: a head, a label of `MultiLabelNN`, a factor or
            ``"joint"`` of `FactoredLabelNN`.
        quantile : float, optional
            For a ``"quantile"`` head: the level its view predicts (default: the median).

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
        return head_view(self, head, quantile)

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
        self._check_fitted()
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
