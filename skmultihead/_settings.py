"""Fit settings, resolved once at the start of a fit, and the arrays the training loop reads.

A setting may come from the constructor (``epochs=...``), a routed parameter
(``fit__epochs=...``) or ``fit(X, y, epochs=...)``; the later wins, as in scikeras. All are
checked against the estimator's table (`_params.check_params`) before any work, and the fit
path reads the one `FitSettings` value.
"""

import dataclasses

import numpy as np
import pandas as pd
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight

from ._inputs import check_features
from ._messages import quoted, suggest
from ._missing import target_masks
from ._params import check_params, routed
from ._spec import member_name

AUTO_BATCH_SIZE = 200  # as scikit-learn's MLP: batches of min(200, rows)
_CONSTRUCTOR = ("epochs", "batch_size", "validation_split", "shuffle", "verbose")


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """What one fit does; see `resolve_settings`."""

    epochs: int  # epochs to train (0: build the network only)
    warm_start: bool
    batch_size: int
    callbacks: list  # those given to fit (the estimator's own: ``_fit_callbacks``)
    initial_epoch: int = 0
    validation_data: tuple = None
    validation_split: float = 0.0
    class_weight: object = None
    shuffle: bool = True
    validation_freq: int = 1
    validation_batch_size: int = None
    verbose: object = 0
    classes: object = None  # partial_fit's
    partial: bool = False  # a partial_fit


def resolve_settings(estimator, kwargs, epochs=None, initial_epoch=None, warm_start=False, classes=None,
                     partial=False):
    """The `FitSettings` of a fit given ``kwargs``, every parameter checked first.

    ``epochs`` and ``initial_epoch`` override the resolved ones (``partial_fit`` trains 1
    epoch from the current one, ``initialize`` 0).
    """
    check_params(estimator, kwargs)
    params = estimator.get_params(deep=False)
    given = {name: params[name] for name in _CONSTRUCTOR if name in params}
    given.update({k: v for k, v in routed(params, "fit", strict=True).items() if k != "callbacks"})
    given.update(kwargs)
    batch_size = given.pop("batch_size", "auto")
    callbacks = list(given.pop("callbacks", None) or [])
    given.update({k: v for k, v in (("epochs", epochs), ("initial_epoch", initial_epoch)) if v is not None})
    return FitSettings(
        **given,
        warm_start=bool(warm_start or estimator.warm_start),
        batch_size=AUTO_BATCH_SIZE if batch_size == "auto" else int(batch_size),
        callbacks=callbacks,
        classes=classes,
        partial=partial,
    )


def check_sample_weight(sample_weight, X, keys):
    """``sample_weight`` checked: None, one weight per row for every head, or per head
    (``{key: weights}`` or a DataFrame with a column per key, ``key`` among ``keys``)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, pd.DataFrame):
        sample_weight = {name: column.to_numpy() for name, column in sample_weight.items()}
    if not isinstance(sample_weight, dict):
        return _check_sample_weight(sample_weight, X, dtype="float32", ensure_non_negative=True)
    by_key = {}
    for key, weights in sample_weight.items():
        if key not in keys:
            raise ValueError(
                f"sample_weight names {key!r}, which is not a head; per-head weights are given for "
                f"{quoted(keys)}.{suggest(str(key), list(keys))}"
            )
        weights = np.asarray(weights, dtype="float32")
        if weights.shape != (X.shape[0],):
            raise ValueError(f"sample_weight of head {key!r} has shape {weights.shape}; expected ({X.shape[0]},).")
        if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.any()):
            raise ValueError(f"sample_weight of head {key!r} must be finite, >= 0 and not all zero.")
        by_key[key] = weights
    return by_key


class TrainingArraysMixin:
    """Encoded targets, weights and validation data as the network's outputs read them."""

    def _checked_weights(self, sample_weight, X, columns):
        """``sample_weight`` checked: None, one array, or ``{head: weights}``."""
        weights = check_sample_weight(sample_weight, X, self._weight_keys(columns))
        return self._head_weights(weights) if isinstance(weights, dict) else weights

    def _training_arrays(self, X, targets, masks, sample_weight, settings):
        """``x, y, weights, validation`` for the training loop."""
        from ._training import split_validation

        x, y = self._model_inputs(X), self._network_targets(targets, masks)
        weights = self._output_weights(sample_weight, X.shape[0])
        validation = None
        if settings.validation_data is not None:
            validation = self._validation_arrays(*settings.validation_data)
        elif settings.validation_split:
            arrays, validation = split_validation((x, y, weights, targets, masks), settings.validation_split)
            (x, y, weights, targets, masks), validation = arrays, validation[:3]
        if settings.class_weight is not None:  # as in Keras, on the training rows only
            weights = self._class_weighted(settings.class_weight, targets, masks, weights)
        return x, y, weights, validation

    def _outputs_of(self, name):
        """The network outputs that train on head ``name``: itself, its auxiliary heads and,
        in an ensemble, each member's."""
        outputs = [name, *(aux.name for aux in self.aux_heads_ if aux.target == name)]
        if self.ensemble_size > 1:
            outputs += [member_name(i, o) for o in list(outputs) for i in range(self.ensemble_size)]
        return outputs

    def _network_targets(self, targets, masks):
        """Encoded targets by network output; with masked targets, each with its mask."""
        if self.missing_targets == "mask":
            from ._losses import with_mask

            per_entry = self._per_entry_heads()
            targets = {name: with_mask(t, masks[name], name in per_entry) for name, t in targets.items()}
        return {output: targets[name] for name in targets for output in self._outputs_of(name)}

    def _output_weights(self, sample_weight, n_rows):
        """One array of row weights for every output, or ``{output: row weights}`` for
        weights per head (a head not named weighs 1)."""
        if not isinstance(sample_weight, dict):
            return np.ones(n_rows, "float32") if sample_weight is None else sample_weight
        ones = np.ones(n_rows, "float32")
        by_output = {output: sample_weight.get(name, ones) for name in self.heads_ for output in self._outputs_of(name)}
        return next(iter(by_output.values())) if len(by_output) == 1 else by_output

    def _validation_arrays(self, X, y, sample_weight=None):
        """``validation_data=(X, y[, sample_weight])`` as the network reads it."""
        from ._missing import encode_labeled

        X = check_features(self, X, reset=False)
        columns = self._split_targets(y, reset=False)
        masks = target_masks(columns, self.missing_targets, self._per_entry_heads(), require_labels=False)
        targets = {name: encode_labeled(head, columns[name], masks[name]) for name, head in self.heads_.items()}
        weights = self._checked_weights(sample_weight, X, columns)
        return self._model_inputs(X), self._network_targets(targets, masks), self._output_weights(weights, len(X))

    def _class_weighted(self, class_weight, targets, masks, weights):
        """``{network output: row weights}``: ``weights`` times each row's class weight in
        the heads ``class_weight`` names (``{head: {label: weight} or "balanced"}``, or for
        the only classification head ``{label: weight}`` or ``"balanced"``), counted on
        the rows that have the head's label."""
        classifiers = [n for n, h in self.heads_.items() if h.kind_ in ("binary", "multiclass")]
        if not (isinstance(class_weight, dict) and class_weight and set(class_weight) <= set(self.heads_)):
            if len(classifiers) != 1:
                raise ValueError(
                    f"class_weight must be {{head: {{label: weight}} or 'balanced'}} when the model has "
                    f"{len(classifiers)} binary or multiclass heads ({quoted(classifiers)}); got {class_weight!r}."
                )
            class_weight = {classifiers[0]: class_weight}
        by_output = dict(weights) if isinstance(weights, dict) else {o: weights for name in self.heads_
                                                                     for o in self._outputs_of(name)}
        for name, weights_of_head in class_weight.items():
            if name not in classifiers:
                raise ValueError(
                    f"class_weight names head {name!r}, which is {self.heads_[name].kind_}; class weights apply "
                    f"to binary and multiclass heads: {quoted(classifiers)}."
                )
            head, labeled = self.heads_[name], masks[name]
            labels = head.classes_[targets[name][labeled].astype(int)]
            try:
                row_weights = np.zeros(len(labeled), "float32")
                row_weights[labeled] = compute_sample_weight(weights_of_head, labels)
            except (ValueError, TypeError, KeyError) as error:
                raise ValueError(
                    f"class_weight for head {name!r} must be 'balanced' or {{label: weight}} with labels among "
                    f"{quoted(head.classes_)}; got {weights_of_head!r} ({error})."
                ) from error
            by_output.update({output: by_output[output] * row_weights for output in self._outputs_of(name)})
        if len(by_output) == 1:  # a single-output network takes one array
            return next(iter(by_output.values()))
        return by_output
