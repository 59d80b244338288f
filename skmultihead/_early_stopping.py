"""scikit-learn's early stopping, as ``MLPClassifier`` and ``HistGradientBoosting*`` name it:
``early_stopping``, ``validation_fraction``, ``n_iter_no_change``, ``tol`` and ``scoring``.

A fraction of the training rows is held out (stratified on a single classification head);
after each epoch the validation score is computed (``"loss"``: the negated weighted
validation loss; else a scorer of the estimator on the held-out rows); training stops once
it has not improved by ``tol`` for ``n_iter_no_change`` epochs, and the weights of the best
epoch are kept.
"""

import dataclasses

import numpy as np

from ._missing import take_rows
from ._targets import as_pandas, target_rows


def held_out_rows(n_rows, fraction, stratify, seed):
    """(training rows, validation rows) for early stopping; errors name the parameter."""
    from sklearn.model_selection import train_test_split

    n_validation = int(np.ceil(n_rows * fraction))
    if n_validation < 2 or n_rows - n_validation < 2:
        raise ValueError(
            f"validation_fraction={fraction} of {n_rows} rows leaves {n_validation} for validation and "
            f"{n_rows - n_validation} for training; early_stopping needs at least 2 of each."
        )
    rows = np.arange(n_rows)
    try:
        train, validation = train_test_split(rows, test_size=n_validation, stratify=stratify, random_state=seed)
    except ValueError as error:  # a class with a single row cannot be in both parts
        raise ValueError(
            f"early_stopping holds out validation_fraction={fraction} of the rows, stratified by class: {error} "
            "Give more rows of each class or a larger validation_fraction."
        ) from error
    return np.sort(train), np.sort(validation)


def check_scoring(scoring, estimator):
    """The ``scoring`` parameter as a callable ``(estimator, X, y) -> score``, or "loss"."""
    if isinstance(scoring, str) and scoring == "loss":
        return scoring
    from sklearn.metrics import get_scorer

    if isinstance(scoring, str):
        try:
            return get_scorer(scoring)
        except ValueError as error:
            raise ValueError(f"scoring={scoring!r} is neither 'loss' nor a scikit-learn scorer name.") from error
    head = getattr(scoring, "head", None)
    heads = list(estimator._head_classes())
    if head is not None and head not in heads:
        raise ValueError(f"scoring is head_scorer({head!r}, ...), but the heads are {heads}.")
    return scoring


class EarlyStoppingMixin:
    """The estimator's side: the held-out rows, the callback, the fitted attributes."""

    def _with_early_stopping(self, X_given, y_given, kept, X, columns, masks, sample_weight, settings):
        """Training rows and settings of a fit, with early stopping's held-out rows and
        callback when ``early_stopping``; else as they are."""
        if not self.early_stopping:
            return X, columns, masks, sample_weight, settings, None
        if settings.partial:
            raise ValueError("partial_fit trains one epoch on the chunk it is given; early_stopping applies to fit.")
        if settings.validation_data is not None or settings.validation_split or settings.validation_freq != 1:
            raise ValueError(
                "early_stopping holds out validation_fraction of the rows itself and validates after every epoch; "
                "give validation_data, validation_split or validation_freq without it (and a Keras EarlyStopping "
                "callback), or none of them with it."
            )
        scoring = check_scoring(self.scoring, self)
        train, held = held_out_rows(len(X), self.validation_fraction, self._stratify(columns, masks), self._seed)
        X_given, y_given = as_pandas(X_given), as_pandas(y_given)
        X_held = X_given.iloc[kept[held]] if hasattr(X_given, "iloc") else np.asarray(X_given)[kept[held]]
        y_held = target_rows(y_given, kept[held], len(X_given))
        # row weights weigh the held-out rows' loss and score, as MLPClassifier's (per-head ones: training only)
        weights_held = None if sample_weight is None or isinstance(sample_weight, dict) else sample_weight[held]
        callback = stopping_callback(self, scoring, X_held, y_held, weights_held, self.n_iter_no_change, self.tol)
        settings = dataclasses.replace(
            settings, validation_data=(X_held, y_held, weights_held), callbacks=[*settings.callbacks, callback]
        )
        return X[train], *(take_rows(v, train) for v in (columns, masks, sample_weight)), settings, callback

    def _stratify(self, columns, masks):
        """The labels to stratify the held-out rows by: the joint or only classification
        head's, when every row has one (None otherwise)."""
        kinds = {name: head.kind_ for name, head in self.heads_.items()}
        classifiers = [n for n, k in kinds.items() if k in ("binary", "multiclass")]
        name = "joint" if "joint" in kinds else classifiers[0] if len(classifiers) == 1 else None
        if name is None or not masks[name].all():
            return None
        labels = np.asarray(columns[name])
        if name == "joint":  # the codes of the joint classes: named by their labels in errors
            labels = self._view_labels(name, self.classes_[labels])
        return np.asarray(labels).astype(str)

    def _record_fit(self, callback):
        """``n_iter_`` and ``loss_curve_``; with early stopping its validation scores."""
        self.n_iter_ = self.current_epoch
        self.loss_curve_ = list(self.history_.get("loss", []))
        scores = None if callback is None else callback.scores
        self.validation_scores_ = scores
        self.best_validation_score_ = None if not scores else max(scores)


def stopping_callback(estimator, scoring, X_val, y_val, weights, n_iter_no_change, tol):
    """The Keras callback that stops a fit as ``MLPClassifier`` does and keeps the best
    epoch's weights (Keras is imported at the first fit only); a scorer weighs the held-out
    rows by ``weights`` (None: all alike)."""
    row_weights = {} if weights is None else {"sample_weight": weights}
    import keras

    class EarlyStopping(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.scores, self.best, self.best_weights, self.waited = [], -np.inf, None, 0

        def on_epoch_end(self, epoch, logs=None):
            if isinstance(scoring, str):  # "loss"
                score = -float(logs["val_loss"])
            else:
                estimator._numpy_forward = estimator._current_forward()  # this epoch's weights
                score = float(scoring(estimator, X_val, y_val, **row_weights))
            self.waited = 0 if score > self.best + tol else self.waited + 1
            if score > self.best:
                self.best, self.best_weights = score, [np.array(w) for w in self.model.get_weights()]
            self.scores.append(score)
            if self.waited > n_iter_no_change:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.best_weights is not None:  # the weights of the best epoch are kept
                self.model.set_weights(self.best_weights)

    return EarlyStopping()
