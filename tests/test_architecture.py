"""Named inputs, branches, auxiliary heads, ensembles and custom trunks, in all three estimators."""

import pickle
import sys
import types

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, KFold

from skmultihead import DenseBranch, EmbeddingBranch, FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier
from skmultihead.datasets import make_headlines

TOKENS = [f"tok_{i}" for i in range(10)]
SIDE = ["hour", "weekday", "n_words", "n_links", "n_tags"]
VOCAB = 200
QUICK = dict(hidden_layer_sizes=(16,), epochs=15, optimizer__learning_rate=0.01, random_state=0)
ENCODER_LAYERS = (keras.layers.Conv1D, keras.layers.LSTM, keras.layers.GRU)


@pytest.fixture(scope="module")
def headlines():
    X, Y = make_headlines(900, vocab_size=VOCAB, max_words=10, random_state=0)
    X[SIDE] = (X[SIDE] - X[SIDE].mean()) / X[SIDE].std()
    return X[:600], Y[:600], X[600:], Y[600:]


def _headline_model(**params):
    architecture = dict(
        inputs={"headline": TOKENS, "extra": SIDE},
        branches={"headline": EmbeddingBranch(VOCAB, 8), "extra": DenseBranch((8,))},
    )
    return MultiOutputNNClassifier(**{**architecture, **QUICK, **params})


# -- inputs and branches ------------------------------------------------------------------
@pytest.mark.backend
def test_a_signal_only_in_the_tokens_is_learned_through_the_embedding(headlines):
    X, Y, X_test, Y_test = headlines
    est = _headline_model().fit(X, Y)
    assert {layer.name for layer in est.model_.inputs} >= {"headline", "extra"}
    assert est.model_.get_layer("headline").output.dtype == "int32"
    assert est.score_heads(X_test, Y_test)["topic"] > 0.65  # 3 topics: chance is 1/3
    blind = MultiOutputNNClassifier(inputs={"extra": SIDE}, remainder="drop", **QUICK).fit(X, Y)
    assert blind.input_columns_ == {"extra": [X.columns.get_loc(c) for c in SIDE]}
    assert blind.score_heads(X_test, Y_test)["topic"] < 0.5


@pytest.mark.parametrize("encoder", ["conv1d", "lstm", "gru"])
def test_each_sequence_encoder_learns_the_token_signal(headlines, encoder):
    X, Y, X_test, Y_test = headlines
    est = _headline_model(branches={"headline": EmbeddingBranch(VOCAB, 8, encoder=encoder, units=8)}).fit(X, Y)
    layer_class = {"conv1d": keras.layers.Conv1D, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[encoder]
    assert type(est.model_.get_layer(f"headline_{encoder}")) is layer_class
    assert [type(layer) for layer in est.model_.layers if isinstance(layer, ENCODER_LAYERS)] == [layer_class]
    assert est.score_heads(X_test, Y_test)["topic"] > 0.6


def test_callable_branch_and_passthrough_remainder(headlines):
    X, Y, X_test, Y_test = headlines

    def pooled_embedding(tokens):
        x = keras.layers.Embedding(VOCAB, 8, mask_zero=True)(tokens)
        return keras.layers.GlobalAveragePooling1D()(x)

    est = MultiOutputNNClassifier(
        inputs={"headline": TOKENS}, remainder="passthrough", branches={"headline": pooled_embedding}, **QUICK
    )
    # a callable branch reads the tokens as floats: the input is float32, the Embedding casts
    est.fit(X, Y)
    assert est.input_columns_["remainder"] == [X.columns.get_loc(c) for c in SIDE]
    assert est.score_heads(X_test, Y_test)["topic"] > 0.65


def test_dense_inputs_keep_the_numpy_predict_path(headlines):
    X, Y, X_test, _ = headlines
    est = MultiOutputNNClassifier(
        inputs={"a": SIDE[:2], "b": SIDE[2:]}, remainder="drop", branches={"a": DenseBranch((4,))}, **QUICK
    ).fit(X, Y)
    assert est._numpy_forward is not None
    keras_out = est.model_({"a": X_test[SIDE[:2]].to_numpy("float32"), "b": X_test[SIDE[2:]].to_numpy("float32")})
    proba = keras.ops.convert_to_numpy(keras_out["topic"])
    np.testing.assert_allclose(est.predict_head_proba(X_test)["topic"], proba / proba.sum(1, keepdims=True), atol=1e-5)


def test_inputs_by_index_on_an_array_and_factor_features_across_inputs(headlines):
    X, Y, X_test, Y_test = headlines
    side = [X.columns.get_loc(c) for c in SIDE]
    array = X.to_numpy(dtype=float)
    est = MultiOutputNNClassifier(inputs={"a": side[:2], "b": side[2:]}, remainder="drop", **QUICK).fit(array, Y)
    assert est.input_columns_ == {"a": side[:2], "b": side[2:]}
    assert est.predict(X_test.to_numpy(dtype=float)).shape == Y_test.shape
    joint = Y.clicked.astype(str) + "-" + Y.topic
    factored = FactoredLabelNN(
        "-", inputs={"a": SIDE[:2], "b": SIDE[2:]}, remainder="drop",
        factor_features={"factor_0": ["hour", "n_links"]}, **QUICK,
    ).fit(X, joint)
    columns = factored.model_.get_layer("factor_0_columns")  # one column from each input, joined
    assert {layer.name for layer in factored.model_.layers} >= {"factor_0_columns_a", "factor_0_columns_b"}
    assert isinstance(columns, keras.layers.Concatenate)
    reads_tokens = FactoredLabelNN(
        "-", inputs={"headline": TOKENS, "a": SIDE}, remainder="drop",
        branches={"headline": EmbeddingBranch(VOCAB)}, factor_features={"factor_0": ["tok_0"]}, **QUICK,
    )
    with pytest.raises(ValueError, match="head 'factor_0' reads X column 0 of token input 'headline'"):
        reads_tokens.fit(X, joint)
    reads_dropped = FactoredLabelNN(
        "-", inputs={"a": SIDE}, remainder="drop", factor_features={"factor_0": ["tok_0"]}, **QUICK
    )
    with pytest.raises(ValueError, match="reads X column 0, which no input holds"):
        reads_dropped.fit(X, joint)


# -- auxiliary heads ----------------------------------------------------------------------
def test_aux_head_is_trained_recorded_and_kept_out_of_predictions(headlines):
    X, Y, X_test, Y_test = headlines
    aux = {"headline_only": {"branch": "headline", "target": "topic", "weight": 0.2}}
    est = _headline_model(aux_heads=aux).fit(X, Y)
    history = est.history_
    assert "headline_only_loss" in history and "headline_only_accuracy" in history
    total = np.array(history["clicked_loss"]) + history["topic_loss"] + 0.2 * np.array(history["headline_only_loss"])
    np.testing.assert_allclose(history["loss"], total, rtol=1e-4)
    assert list(est.predict(X_test).columns) == ["clicked", "topic"]
    scores = est.score_aux(X_test, Y_test)
    assert list(scores) == ["headline_only"] and scores["headline_only"] > 0.6  # tokens alone know the topic
    assert set(est.score_heads(X_test, Y_test)) == {"clicked", "topic"}


def test_aux_head_weight_changes_training(headlines):
    X, Y, X_test, _ = headlines
    plain = _headline_model().fit(X, Y).predict_head_proba(X_test)["clicked"]

    def with_weight(weight):
        aux = {"side": {"branch": "extra", "target": "clicked", "weight": weight}}
        return _headline_model(aux_heads=aux).fit(X, Y).predict_head_proba(X_test)["clicked"]

    # weight 0: no gradient from the aux head, so the main heads train exactly as without it
    np.testing.assert_allclose(with_weight(0.0), plain, atol=1e-6)
    assert np.abs(with_weight(1.0) - plain).max() > 1e-3


def test_aux_head_weight_is_searchable(headlines):
    X, Y, _, _ = headlines
    est = _headline_model(aux_heads={"aux": {"branch": "trunk", "target": "topic"}}, epochs=2)
    search = GridSearchCV(est, {"aux_heads__aux__weight": [0.0, 0.5]}, cv=KFold(2)).fit(X, Y)
    # the searched weight reaches each fold's training: same seed, other aux weight, other scores
    splits = [search.cv_results_[f"split{i}_test_score"] for i in range(2)]
    assert any(fold[0] != fold[1] for fold in splits), splits
    # the refitted best estimator trains with the best weight: its total loss weighs the aux loss by it
    weight = search.best_params_["aux_heads__aux__weight"]
    assert search.best_estimator_.aux_heads_[0].weight == weight
    h = {k: np.array(v) for k, v in search.best_estimator_.history_.items()}
    np.testing.assert_allclose(h["loss"], h["clicked_loss"] + h["topic_loss"] + weight * h["aux_loss"], rtol=1e-4)
    assert est.aux_heads == {"aux": {"branch": "trunk", "target": "topic"}}  # the original is untouched


# -- ensembles ----------------------------------------------------------------------------
def _fit_each_estimator(ensemble_size):
    X, Y = make_headlines(300, vocab_size=VOCAB, max_words=10, random_state=1)
    X[SIDE] = (X[SIDE] - X[SIDE].mean()) / X[SIDE].std()
    arch = dict(
        inputs={"headline": TOKENS, "extra": SIDE},
        branches={"headline": EmbeddingBranch(VOCAB, 8)},
        ensemble_size=ensemble_size,
        **{**QUICK, "epochs": 3},
    )
    yield MultiOutputNNClassifier(aux_heads={"aux": {"branch": "extra", "target": "clicked"}}, **arch).fit(X, Y), X, Y
    labels = pd.DataFrame({"clicked": Y.clicked, "sport": (Y.topic == "sport").astype(int)})
    yield MultiLabelNN(aux_heads={"aux": {"branch": "headline", "weight": 0.5}}, **arch).fit(X, labels), X, labels
    joint = Y.clicked.astype(str) + "-" + Y.topic
    aux = {"aux": {"branch": "headline", "target": "factor_1"}}
    yield FactoredLabelNN("-", aux_heads=aux, **arch).fit(X, joint), X, joint


@pytest.fixture(scope="module")
def ensembles():
    return list(_fit_each_estimator(ensemble_size=3))


@pytest.mark.backend
def test_ensemble_members_differ_and_their_mean_is_the_prediction(ensembles):
    for est, X, y in ensembles:
        name = type(est).__name__
        members, expected = est.predict_members(X), est.predict_head_proba(X)
        assert members.keys() == expected.keys(), name
        for head, proba in expected.items():
            assert members[head].shape == (3, *proba.shape), name
            np.testing.assert_allclose(members[head].mean(axis=0), proba, atol=1e-5, err_msg=name)
        head = next(iter(expected))
        assert np.abs(members[head][0] - members[head][1]).max() > 1e-3, name
        # each member has its own aux output, trained with its own loss; "aux" is their mean
        raw = est._predict_raw(X)
        aux_members = np.stack([raw[f"member{i}_aux"] for i in range(3)])
        np.testing.assert_allclose(aux_members.mean(axis=0), raw["aux"], atol=1e-6, err_msg=name)
        assert np.abs(aux_members[0] - aux_members[1]).max() > 1e-3, name
        assert {"aux_loss", "member0_aux_loss", "member1_aux_loss", "member2_aux_loss"} <= set(est.history_), name
        # score_aux scores predict_aux against the aux head's true target, as its target head scores
        aux = est.predict_aux(X)["aux"]
        if isinstance(est, MultiLabelNN):  # the labels: micro F1, as MultiLabelNN.score
            expected = f1_score(y, aux, average="micro", zero_division=1.0)
        elif isinstance(est, FactoredLabelNN):  # factor_1: the topic, which the headline's tokens tell
            expected = accuracy_score([label.split("-")[1] for label in y], aux)
            assert expected > 0.45, expected  # 3 even topics: chance is 1/3
        else:  # clicked
            expected = accuracy_score(y["clicked"], aux)
        assert est.score_aux(X, y)["aux"] == pytest.approx(expected), name


@pytest.mark.parametrize("ensemble_loss", ["members", "mean"])
def test_ensemble_loss_says_what_is_trained(headlines, ensemble_loss):
    X, Y, _, _ = headlines
    est = _headline_model(ensemble_size=2, ensemble_loss=ensemble_loss, epochs=2).fit(X, Y)
    h = {k: np.array(v) for k, v in est.history_.items()}
    members = sum((h[f"member{i}_clicked_loss"] + h[f"member{i}_topic_loss"]) / 2 for i in range(2))
    mean = h["clicked_loss"] + h["topic_loss"]
    np.testing.assert_allclose(h["loss"], members if ensemble_loss == "members" else mean, rtol=1e-4)
    assert np.abs(members - mean).min() > 1e-4  # the two differ: the check above tells them apart


def test_one_member_is_the_plain_network():
    for est, X, _ in _fit_each_estimator(ensemble_size=1):
        assert all(m.shape[0] == 1 for m in est.predict_members(X).values())
        assert not any(layer.name.startswith("member") for layer in est.model_.layers)


def test_factored_predict_is_the_most_probable_joint_class(ensembles):
    est, X, _ = ensembles[2]
    np.testing.assert_array_equal(est.predict(X), est.classes_[est.predict_proba(X).argmax(axis=1)])


# -- custom trunk -------------------------------------------------------------------------
def small_cnn(inputs, filters=4):
    """Conv2D on the 8x8 digit images held in X's 64 columns."""
    x = keras.layers.Reshape((8, 8, 1))(inputs["features"])
    x = keras.layers.Conv2D(filters, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    return keras.layers.Flatten()(x)


@pytest.mark.backend
def test_custom_trunk_with_an_ensemble_learns_digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    est = MultiOutputNNClassifier(model=small_cnn, model__filters=6, ensemble_size=2, **{**QUICK, "epochs": 10})
    est.fit(X[:1000], y[:1000])
    assert est.score(X[1000:], y[1000:]) > 0.85
    convs = [layer for layer in est.model_.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 2 and all(layer.filters == 6 for layer in convs)
    assert est.predict_members(X[:5])["output_0"].shape == (2, 5, 10)
    for other in (MultiLabelNN, FactoredLabelNN):  # the same trunk under the other estimators' heads
        fitted = other(model=small_cnn, ensemble_size=2, **{**QUICK, "epochs": 2}).fit(X[:300], y[:300])
        assert sum(isinstance(layer, keras.layers.Conv2D) for layer in fitted.model_.layers) == 2
        members = fitted.predict_members(X[:5])
        assert all(m.shape[:2] == (2, 5) for m in members.values()) and len(members) == (10 if other is MultiLabelNN else 2)


# -- parameters, persistence, display -----------------------------------------------------
def test_parameters_clone_search_and_pickle(headlines, tmp_path):
    X, Y, X_test, _ = headlines
    est = _headline_model(epochs=2)
    params = est.get_params()
    assert params["branches__headline__dim"] == 8 and params["branches__extra__hidden_layer_sizes"] == (8,)
    changed = clone(est).set_params(branches__headline__dim=4, ensemble_size=2)
    assert changed.branches["headline"].dim == 4 and est.branches["headline"].dim == 8
    search = GridSearchCV(est, {"branches__headline__dim": [4], "ensemble_size": [1, 2]}, cv=KFold(2)).fit(X, Y)
    best = search.best_estimator_
    # the best estimator is refitted with the best parameters: its members and embedding width
    members = search.best_params_["ensemble_size"]
    assert best.predict_members(X_test)["topic"].shape == (members, len(X_test), 3)
    embedding = "headline_embedding" if best.ensemble_size == 1 else "member0_headline_embedding"
    assert best.model_.get_layer(embedding).output_dim == 4
    expected = best.predict_head_proba(X_test)
    for copy in (pickle.loads(pickle.dumps(best)), _joblib_round_trip(best, tmp_path)):
        for head, proba in copy.predict_head_proba(X_test).items():
            np.testing.assert_allclose(proba, expected[head], atol=1e-6)


def _joblib_round_trip(est, tmp_path):
    joblib.dump(est, tmp_path / "est.joblib")
    return joblib.load(tmp_path / "est.joblib")


def test_summary_and_plot_model(headlines, capsys, monkeypatch, tmp_path):
    X, Y, _, _ = headlines
    est = _headline_model(epochs=1).fit(X, Y)
    est.summary()
    assert "headline_embedding" in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "pydot", None)  # as if pydot were not installed
    with pytest.raises(ImportError, match="pip install pydot.*Graphviz"):
        est.plot_model(tmp_path / "model.png")
    drawn = {}
    pydot_with_graphviz = types.ModuleType("pydot")
    pydot_with_graphviz.Dot = type("Dot", (), {"create": lambda self: b""})
    monkeypatch.setitem(sys.modules, "pydot", pydot_with_graphviz)
    monkeypatch.setattr(keras.utils, "plot_model", lambda model, to_file, **kw: drawn.update(model=model, to=to_file))
    est.plot_model(tmp_path / "model.png")
    assert drawn == {"model": est.model_, "to": str(tmp_path / "model.png")}


# -- bad input ----------------------------------------------------------------------------
def _x_y(headlines):
    X, Y, _, _ = headlines
    return X[:50], Y[:50]


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"inputs": {"a": ["hour", "weekday"], "b": ["weekday"]}, "remainder": "drop"}, ValueError,
         "column 'weekday' is claimed by inputs 'a' and 'b'"),
        ({"inputs": {"a": SIDE}}, ValueError, r"X column\(s\) \['tok_0'.*belong to no input.*remainder='drop'"),
        ({"inputs": {"a": ["hour", "hours"]}, "remainder": "drop"}, ValueError, "names column 'hours'.*'hour'"),
        ({"inputs": {"a/b": SIDE}, "remainder": "drop"}, ValueError, "without '/'"),
        ({"branches": {"headlines": DenseBranch()}}, ValueError, "names input 'headlines'.*'features'"),
        ({"branches": {"features": 3}}, TypeError, r"branches\['features'\] must be a DenseBranch"),
        ({"branches": {"features": EmbeddingBranch(100, encoder="rnn")}}, ValueError, "encoder must be one of"),
        ({"aux_heads": {"aux": {"branch": "headline", "target": "topic"}}}, ValueError,
         r"reads branch 'headline'.*'trunk', 'features'"),
        ({"aux_heads": {"aux": {"target": "topics"}}}, ValueError, "target 'topics'.*Did you mean 'topic'"),
        ({"aux_heads": {"aux": {"branch": "trunk"}}}, ValueError, "target None, which is not a head"),
        ({"aux_heads": {"topic": {"target": "topic"}}}, ValueError, "has the name of a head or input"),
        ({"aux_heads": {"aux": {"target": "topic", "weigth": 1}}}, ValueError, "must be a dict with keys"),
        ({"aux_heads": {"aux": {"target": "topic", "weight": -1}}}, ValueError, "weight must be a number >= 0"),
        ({"model": lambda inputs: [inputs["features"]]}, TypeError, "model must return one Keras tensor.*list"),
        ({"model": lambda inputs: keras.layers.Reshape((5, 3))(inputs["features"])}, ValueError, "must be 2-D"),
        ({"model": small_cnn, "branches": {"features": DenseBranch()}}, ValueError, "branches and model are both"),
    ],
)
def test_bad_architecture_errors(headlines, params, error, match):
    X, Y = _x_y(headlines)
    est = MultiOutputNNClassifier(**{**QUICK, "epochs": 1, **params})
    with pytest.raises(error, match=match):
        est.fit(X, Y)
    assert not hasattr(est, "model_")


@pytest.mark.parametrize(
    "value, match",
    [(3.5, r"column 'tok_2' holds 3.5 at row 4.*integers in \[0, 200\)"), (200, "holds 200"), (-1, "holds -1")],
)
def test_bad_token_ids_are_errors_at_fit_and_predict(headlines, value, match):
    X, Y = _x_y(headlines)
    bad = X.astype(float)
    bad.loc[bad.index[4], "tok_2"] = value
    with pytest.raises(ValueError, match=match):
        _headline_model(epochs=1).fit(bad, Y)
    est = _headline_model(epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match=match):
        est.predict(bad)


def test_bad_nested_parameters():
    est = _headline_model()
    with pytest.raises(ValueError, match="branches has no entry 'title'; it has 'headline', 'extra'"):
        est.set_params(branches__title__dim=4)
    with pytest.raises(ValueError, match="Invalid parameter 'size'"):
        est.set_params(branches__headline__size=4)
    est = MultiOutputNNClassifier(branches={"features": lambda x: x})
    with pytest.raises(ValueError, match=r"branches\[.features.\] is a function, it has no parameters"):
        est.set_params(branches__features__dim=4)
