"""Every parameter is checked against its estimator's table before any work."""

import re

import keras
from keras.callbacks import EarlyStopping
import numpy as np
import pytest

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier
from skmultihead._params import InvalidParameterError
from skmultihead.datasets import make_social_media, make_tagged_items

QUICK = dict(hidden_layer_sizes=(8,), epochs=2, random_state=0)


def trunk(inputs, units=8):
    return keras.layers.Dense(units, activation="relu")(inputs["features"])


BAD = {
    MultiOutputNNClassifier: [
        ("epochs", 0), ("epochs", -1), ("epochs", 2.5), ("validation_split", 1.5), ("validation_split", -0.1),
        ("hidden_layer_sizes", "64"), ("hidden_layer_sizes", (0,)), ("hidden_layer_sizes", (8, -1)),
        ("shuffle", "no"), ("warm_start", "yes"), ("run_eagerly", 1), ("random_state", -1),
        ("random_state", 2**32), ("random_state", "0"), ("activation", "rleu"), ("dropout", 1.0),
        ("dropout", (0.1, 2.0)), ("ensemble_size", 0), ("ensemble_size", 1.5), ("ensemble_loss", "member"),
        ("remainder", "keep"), ("batch_size", 0), ("batch_size", "big"), ("steps_per_execution", 0),
        ("steps_per_execution", True), ("verbose", 3), ("optimizer", "adamm"), ("optimizer", 3), ("model", "cnn"),
        ("heads", ["age"]), ("inputs", "features"), ("loss_weights", [1, 2]), ("callbacks", "EarlyStopping"),
        ("branches", 3), ("aux_heads", ["age"]),
        # routed
        ("optimizer__learning_rat", 0.1), ("compile__run_eagerly", True), ("predict__batch_size", 3),
        ("metrics__x", 1), ("loss__x", 1), ("fit__batchsize", 3), ("fit__validation_split", 2.0),
        ("model__filters", 3), ("hiden_layer_sizes", (4,)), ("optimizer__learning_rate", -1.0),
        ("optimizer__learning_rate", 0), ("optimizer__beta_1", 1.0), ("optimizer__clipnorm", -1.0),
        ("fit__epochs", -1), ("fit__initial_epoch", -1),
    ],
    MultiLabelNN: [
        ("head_layout", "dense2"), ("threshold", 1.5), ("threshold", "high"), ("threshold", [0.5, "x"]),
        ("threshold_holdout", 1.0), ("class_weight", "balance"), ("label_hidden_layer_sizes", (0,)),
        ("epochs", None),
    ],
    FactoredLabelNN: [
        ("shared_trunk", "yes"), ("factor_shape", (2, 0)), ("separator", 3), ("factor_names", "ab"),
        ("factor_hidden_layer_sizes", "32"), ("loss_weights", 3),
    ],
}
CASES = [(cls, name, value) for cls, cases in BAD.items() for name, value in cases]


@pytest.fixture(scope="module")
def fitted():
    X, Y = make_social_media(120, random_state=0)
    Xm, Ym = make_tagged_items(120, n_features=8, n_labels=3, n_informative=3, random_state=0)
    joint = Y["gender"].astype(str) + "_" + Y["income"].astype(str)
    return {
        MultiOutputNNClassifier: (MultiOutputNNClassifier(**QUICK).fit(X, Y), X, Y),
        MultiLabelNN: (MultiLabelNN(**QUICK).fit(Xm, Ym), Xm, Ym),
        FactoredLabelNN: (FactoredLabelNN(separator="_", **QUICK).fit(X, joint), X, joint),
    }


def test_at_least_forty_bad_values_are_tabled():
    assert len(CASES) >= 40


@pytest.mark.parametrize("cls, name, value", CASES, ids=[f"{c.__name__}-{n}={v!r}" for c, n, v in CASES])
def test_a_bad_value_is_named_and_leaves_the_fitted_estimator_unchanged(fitted, cls, name, value):
    est, X, y = fitted[cls]
    before = est._predict_raw(X)
    network, params = est._network, est.get_params(deep=False)
    with pytest.raises(InvalidParameterError, match=re.escape(repr(name))) as error:
        est.set_params(**{name: value}).fit(X, y)  # set_params refuses what is not a parameter
    assert isinstance(error.value, ValueError) and isinstance(error.value, TypeError)
    if name.split("__")[0] in params and "__" not in name:  # a declared parameter: the value and what is accepted
        assert repr(value) in str(error.value) and " must be " in str(error.value)
    if name in params:
        est.set_params(**{name: params[name]})
    else:
        vars(est).pop(name, None)  # a routed parameter that set_params took
    after = est._predict_raw(X)
    assert est._network is network and est.get_params(deep=False) == params
    for output in before:
        np.testing.assert_array_equal(after[output], before[output])


def test_suggestions_and_routed_sub_parameters(fitted):
    est, X, Y = fitted[MultiOutputNNClassifier]
    cases = [
        (dict(optimizer__learning_rat=0.1), "the optimizer takes no argument 'learning_rat'. Did you mean 'learning_rate'"),
        (dict(optimizer="sgd", optimizer__beta_1=0.9), "takes no argument 'beta_1'"),
        (dict(model=trunk, model__unit=4), "the model callable takes no argument 'unit'. Did you mean 'units'"),
        (dict(fit__batchsize=3), "unknown fit setting 'fit__batchsize'. Did you mean 'batch_size'"),
        (dict(compile__run_eagerly=True), "'compile' is not a routing prefix"),
        (dict(ensemble_loss="member"), "Did you mean 'members'"),
        (dict(hiden_layer_sizes=(4,)), "Did you mean 'hidden_layer_sizes'"),
        (dict(callbacks=[EarlyStopping], callbacks__0__patiense=2), "EarlyStopping takes no argument 'patiense'. "
         "Did you mean 'patience'"),
        (dict(callbacks=[EarlyStopping], callbacks__1__patience=2), "callbacks has no entry '1'; it has 0"),
        (dict(callbacks=[EarlyStopping(patience=2)], callbacks__0__patience=2), "given as an instance"),
        (dict(callbacks={"stop": EarlyStopping}, callbacks__stop__min_delt=0.1), "Did you mean 'min_delta'"),
        (dict(callbacks__patience=2), "'callbacks__patience' is given but callbacks is None"),
    ]
    for params, message in cases:
        with pytest.raises(InvalidParameterError, match=re.escape(message)):
            MultiOutputNNClassifier(**QUICK, **params).fit(X, Y)
    # accepted: the optimizer's own and its base class's arguments, the callable's own
    MultiOutputNNClassifier(**QUICK, optimizer__beta_1=0.8, optimizer__clipnorm=1.0).fit(X, Y)
    MultiOutputNNClassifier(**QUICK, model=trunk, model__units=4).fit(X, Y)
    stopped = MultiOutputNNClassifier(**dict(QUICK, epochs=50), validation_split=0.3, callbacks=[EarlyStopping],
                                      callbacks__0__patience=1, callbacks__min_delta=10.0).fit(X, Y)
    assert len(stopped.history_["loss"]) == 2  # min_delta 10: no epoch improves enough, patience 1


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(batch_size=-1), "batch_size"),
        (dict(validation_freq=0), "validation_freq"),
        (dict(shuffle="x"), "shuffle"),
        (dict(validation_split=1.0), "validation_split"),
        (dict(class_weights={0: 1.0}), "class_weights"),
        (dict(validation_data=[1, 2]), "validation_data"),
        (dict(epochs=-1), "epochs"),
        (dict(epochs=2.5), "epochs"),
        (dict(epochs=0), "epochs"),
        (dict(initial_epoch=-1), "initial_epoch"),
    ],
)
def test_fit_arguments_are_checked_too(fitted, kwargs, name):
    est, X, Y = fitted[MultiOutputNNClassifier]
    with pytest.raises(InvalidParameterError, match=f"MultiOutputNNClassifier.fit .*'{name}'"):
        MultiOutputNNClassifier(**QUICK).fit(X, Y, **kwargs)


@pytest.mark.parametrize("cls", list(BAD))
def test_every_parameter_has_a_constraint(cls):
    assert set(cls._parameter_constraints) == set(cls().get_params(deep=False))


def test_an_int_is_one_hidden_layer_as_in_scikit_learn(fitted):
    _, X, Y = fitted[MultiOutputNNClassifier]
    est = MultiOutputNNClassifier(hidden_layer_sizes=8, epochs=1, random_state=0).fit(X, Y)
    dense = [layer for layer in est.model_.layers if layer.name.startswith("trunk")]
    assert [layer.units for layer in dense] == [8]


def test_optimizer_arguments_are_checked_against_their_documented_range(fitted):
    est, X, Y = fitted[MultiOutputNNClassifier]
    message = "'optimizer__learning_rate' must be a float in (0, inf), a Keras learning-rate schedule or a callable; got -1.0"
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        MultiOutputNNClassifier(**QUICK, optimizer__learning_rate=-1.0).fit(X, Y)
    with pytest.raises(InvalidParameterError, match=r"'optimizer__momentum' must be a float in \[0, 1\]; got 1.5"):
        MultiOutputNNClassifier(**QUICK, optimizer="sgd", optimizer__momentum=1.5).fit(X, Y)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.9)
    MultiOutputNNClassifier(**QUICK, optimizer__learning_rate=schedule).fit(X, Y)


def test_partial_fit_classes_decide_a_heads_kind():
    X, Y = make_social_media(120, random_state=0)
    first = (Y["income"] == Y["income"].iloc[0]).to_numpy()  # a chunk holding one income class only
    est = MultiOutputNNClassifier(hidden_layer_sizes=(8,), random_state=0)
    est.partial_fit(X[first], Y[first], classes={"income": np.unique(Y["income"]), "gender": ["f", "m"]})
    assert est.heads_["income"].kind_ == "multiclass" and len(est.heads_["income"].classes_) == Y["income"].nunique()
    assert est.heads_["gender"].kind_ == "binary"
    est.partial_fit(X, Y)
    assert est.predict_head_proba(X)["income"].shape == (len(X), Y["income"].nunique())


def test_a_heads_parameters_are_set_by_name_as_a_branchs_are():
    from sklearn.base import clone

    from skmultihead import Head

    X, Y = make_social_media(90, random_state=0)
    est = MultiOutputNNClassifier(heads={"age": Head("regression", units=(8,)), "gender": "binary"},
                                  hidden_layer_sizes=(8,), epochs=1, random_state=0)
    changed = clone(est).set_params(heads__age__units=(4,), heads__gender__units=(3,))
    assert changed.heads["age"].units == (4,) and est.heads["age"].units == (8,)
    assert changed.heads["gender"].kind == "binary" and changed.heads["gender"].units == (3,)  # a kind: its Head
    assert changed.fit(X, Y).model_.get_layer("age_hidden_0").units == 4  # as GridSearchCV sets it on a clone
    with pytest.raises(ValueError, match="heads has no entry 'agee'; it has 'age', 'gender'"):
        est.set_params(heads__agee__units=(4,))
