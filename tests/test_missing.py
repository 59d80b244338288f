"""Missing targets: each row trains and scores the heads it has labels for."""

import re
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, cross_validate

from skmultihead import MultiOutputNNClassifier, head_scorer
from skmultihead._losses import MaskedLoss, MaskedMetric, with_mask
from skmultihead.datasets import make_social_media

QUICK = dict(hidden_layer_sizes=(8,), epochs=3, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, Y = make_social_media(240, random_state=0)
    Y = Y.copy()
    Y["gender"] = Y["gender"].astype(object)
    Y.loc[Y.index[:80], "gender"] = None
    Y.loc[Y.index[60:140], "age"] = np.nan
    return X, Y


def weights_of(est):
    return [keras.ops.convert_to_numpy(v) for v in est.model_.weights]


def test_a_missing_target_is_an_error_naming_the_head_unless_masked(data):
    X, Y = data
    message = ("the target of head 'age' has 80 missing value(s) (rows [60, 61, 62, 63, 64], ...); "
               "give missing_targets='mask'")
    with pytest.raises(ValueError, match=re.escape(message)):
        MultiOutputNNClassifier(**QUICK).fit(X, Y)
    with pytest.raises(ValueError, match="'missing_targets' must be one of 'error', 'mask'; got 'drop'"):
        MultiOutputNNClassifier(**QUICK, missing_targets="drop").fit(X, Y)
    est = MultiOutputNNClassifier(**QUICK, missing_targets="mask").fit(X, Y)
    assert est.predict(X).notna().all().all()


def test_masked_loss_is_the_mean_over_labeled_rows():
    rng = np.random.RandomState(0)
    proba = rng.dirichlet([1, 1, 1], size=8).astype("float32")
    labels, weights = rng.randint(0, 3, 8), rng.rand(8).astype("float32")
    labeled = np.array([1, 0, 1, 1, 0, 1, 1, 0], bool)
    masked = MaskedLoss("sparse_categorical_crossentropy")(with_mask(np.where(labeled, labels, 0), labeled), proba,
                                                            weights)
    expected = keras.losses.SparseCategoricalCrossentropy()(labels[labeled], proba[labeled], weights[labeled])
    assert float(masked) == pytest.approx(float(expected), rel=1e-6)
    nothing = MaskedLoss("sparse_categorical_crossentropy")(with_mask(labels, np.zeros(8)), proba)
    assert float(nothing) == 0.0  # a batch without labels adds 0, never NaN
    accuracy = MaskedMetric(keras.metrics.SparseCategoricalAccuracy())
    accuracy.update_state(with_mask(labels, labeled), proba)
    assert float(accuracy.result()) == pytest.approx(np.mean(proba.argmax(1)[labeled] == labels[labeled]))


@pytest.mark.backend
def test_masked_rows_train_as_if_only_the_labeled_rows_were_given(data):
    # head "age" with masked rows, beside a head of weight 0 (no gradient): one full batch,
    # no shuffling; the same weights as the fit on the rows labeled for age only
    X, Y = data
    Y = Y[["age", "income"]]
    labeled = Y["age"].notna().to_numpy()
    params = dict(QUICK, batch_size=len(X), shuffle=False, loss_weights={"income": 0.0}, missing_targets="mask")
    masked = MultiOutputNNClassifier(**params).fit(X, Y)
    only = MultiOutputNNClassifier(**params).fit(X[labeled], Y[labeled])
    for ours, theirs in zip(weights_of(masked), weights_of(only)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(masked.history_["age_loss"], only.history_["age_loss"], rtol=1e-5)
    np.testing.assert_allclose(masked.history_["age_mae"], only.history_["age_mae"], rtol=1e-5)
    # the head's scaling comes from its labeled rows
    assert masked.heads_["age"].mean_ == pytest.approx(Y["age"][labeled].mean())


def test_validation_losses_are_masked_too(data):
    X, Y = data
    Y = Y[["age", "income"]]
    val = slice(0, 100)  # holds rows without age
    labeled = Y["age"].iloc[val].notna().to_numpy()
    params = dict(QUICK, loss_weights={"income": 0.0}, missing_targets="mask")
    with_missing = MultiOutputNNClassifier(**params).fit(X, Y, validation_data=(X.iloc[val], Y.iloc[val]))
    labeled_only = MultiOutputNNClassifier(**params).fit(
        X, Y, validation_data=(X.iloc[val][labeled], Y.iloc[val][labeled]))
    np.testing.assert_allclose(with_missing.history_["val_age_loss"], labeled_only.history_["val_age_loss"],
                               rtol=1e-5)
    np.testing.assert_allclose(with_missing.history_["age_loss"], labeled_only.history_["age_loss"], rtol=1e-6)
    stopped = MultiOutputNNClassifier(**dict(params, epochs=30), validation_split=0.3, callbacks=[
        keras.callbacks.EarlyStopping], callbacks__patience=0, callbacks__min_delta=10.0).fit(X, Y)
    assert len(stopped.history_["val_loss"]) == 2 and np.isfinite(stopped.history_["val_loss"]).all()


def test_rows_without_any_label_are_dropped_with_a_warning(data):
    X, Y = data
    Y = Y.copy()
    Y.loc[Y.index[60:70], "income"] = None  # rows 60..69 have no gender, no age, no income
    with pytest.warns(UserWarning, match=r"10 row\(s\) have no label for any head .*rows \[60, 61, 62, 63, 64\], \.\.\."):
        MultiOutputNNClassifier(**QUICK, missing_targets="mask").fit(X, Y)
    Y["gender"] = None
    with pytest.raises(ValueError, match="head 'gender' has no labeled row in the training data"):
        MultiOutputNNClassifier(**QUICK, missing_targets="mask").fit(X, Y)


def test_classes_kind_and_class_weights_come_from_labeled_rows(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK, missing_targets="mask").fit(X, Y, class_weight={"gender": "balanced"})
    assert est.heads_["gender"].kind_ == "binary" and est.heads_["gender"].classes_.tolist() == ["f", "m"]
    labeled = Y["gender"].notna().to_numpy()
    rows = est._class_weighted({"gender": "balanced"}, {"gender": (Y["gender"] == "m").to_numpy(float)},
                               {"gender": labeled}, np.ones(len(Y), "float32"))["gender"]
    counts = Y["gender"][labeled].value_counts()
    assert rows[~labeled].sum() == 0
    assert rows[labeled & (Y["gender"] == "m").to_numpy()][0] == pytest.approx(labeled.sum() / (2 * counts["m"]))


def test_integer_labels_with_missing_values_stay_class_labels(data):
    X, Y = data
    codes = pd.Series(pd.factorize(Y["income"], sort=True)[0], index=Y.index, dtype="Int64")
    codes.iloc[:30] = pd.NA  # numpy would make these floats: a regression target
    flags = pd.Series((Y["age"] > 40).astype(int), index=Y.index, dtype="Int64").mask(Y["age"].isna())
    est = MultiOutputNNClassifier(**QUICK, missing_targets="mask").fit(X, pd.DataFrame({"income": codes, "old": flags}))
    assert est.heads_["income"].kind_ == "multiclass" and est.heads_["old"].kind_ == "binary"
    assert est.heads_["income"].classes_.tolist() == list(range(Y["income"].nunique()))
    assert est.heads_["old"].classes_.dtype.kind == "i"
    assert set(est.predict(X)["income"]) <= set(range(Y["income"].nunique()))


def test_floats_held_as_objects_are_a_regression_target(data):
    X, Y = data
    Y = Y.dropna()
    est = MultiOutputNNClassifier(**QUICK).fit(X.loc[Y.index], Y.to_numpy())  # a 2-D object array
    assert [head.kind_ for head in est.heads_.values()] == ["regression", "multiclass", "binary"]


def test_per_head_sample_weights(data):
    X, Y = data
    Y = Y.fillna({"age": Y["age"].mean()}).assign(gender=Y["gender"].fillna("f"))
    plain = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    ones = MultiOutputNNClassifier(**QUICK).fit(X, Y, sample_weight={"age": np.ones(len(X))})
    pd.testing.assert_frame_equal(plain.predict(X), ones.predict(X))  # a head left out weighs 1
    heavy = MultiOutputNNClassifier(**QUICK).fit(X, Y, sample_weight=pd.DataFrame({"age": np.full(len(X), 5.0)}))
    assert heavy.history_["age_loss"][0] == pytest.approx(5 * plain.history_["age_loss"][0], rel=1e-3)
    assert heavy.history_["income_loss"][0] == pytest.approx(plain.history_["income_loss"][0], rel=1e-3)
    cases = [
        ({"agee": np.ones(len(X))}, "sample_weight names 'agee', which is not a head; per-head weights are given "
                                    "for 'age', 'income', 'gender'. Did you mean 'age'"),
        ({"age": np.ones(3)}, "sample_weight of head 'age'"),
        ({"age": -np.ones(len(X))}, "sample_weight of head 'age' must be finite, >= 0 and not all zero"),
        ({"age": np.zeros(len(X))}, "sample_weight of head 'age' must be finite, >= 0 and not all zero"),
        (-np.ones(len(X)), "Negative values in data passed to `sample_weight`"),  # one array, as a dict's
    ]
    for weights, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            plain.fit(X, Y, sample_weight=weights)
    pd.testing.assert_frame_equal(plain.predict(X), ones.predict(X))  # a failed fit changed nothing


def test_per_head_weights_are_split_by_cross_validation(data):
    X, Y = data
    W = pd.DataFrame({"gender": np.where(Y["gender"].notna(), 2.0, 0.0)}, index=X.index)
    scores = cross_validate(MultiOutputNNClassifier(**QUICK, missing_targets="mask"), X, Y, cv=KFold(3),
                            params={"sample_weight": W}, scoring={"age": head_scorer("age", "r2")})
    assert len(scores["test_age"]) == 3 and np.isfinite(scores["test_age"]).all()


def test_scores_count_the_rows_that_have_each_heads_label(data):
    X, Y = data
    est = MultiOutputNNClassifier(**QUICK, missing_targets="mask").fit(X, Y)
    labeled = Y["gender"].notna().to_numpy()
    scores = est.score_heads(X, Y)
    assert scores["gender"] == pytest.approx(np.mean(est.predict(X)["gender"][labeled] == Y["gender"][labeled]))
    assert est.score(X, Y) == pytest.approx(np.mean(list(scores.values())))
    assert est.head_estimator("gender").score(X, Y["gender"]) == pytest.approx(scores["gender"])
    assert head_scorer("gender", "accuracy")(est, X, Y) == pytest.approx(scores["gender"])
    assert head_scorer("age", "r2")(est, X, Y) == pytest.approx(scores["age"])
    no_gender = Y.assign(gender=None)
    with pytest.warns(UserWarning, match="head 'gender' has no label in y: its score is NaN"):
        assert np.isnan(head_scorer("gender", "accuracy")(est, X, no_gender))
    with pytest.warns(UserWarning, match="head 'gender' has no label in y"):
        heads = est.score_heads(X, no_gender)
    assert np.isnan(heads["gender"]) and est.score(X, no_gender) == pytest.approx(np.mean([heads["age"],
                                                                                           heads["income"]]))


def test_model_selection_on_incomplete_targets(data):
    from sklearn.model_selection import GridSearchCV, learning_curve

    from skmultihead.model_selection import cross_val_predict

    X, Y = data
    est = MultiOutputNNClassifier(**QUICK, missing_targets="mask")
    scoring = {"gender": head_scorer("gender", "accuracy"), "age": head_scorer("age", "r2")}
    search = GridSearchCV(est, {"loss_weights__gender": [0.5, 2.0]}, cv=KFold(2), scoring=scoring,
                          refit="gender").fit(X, Y)
    assert np.isfinite(search.cv_results_["mean_test_gender"]).all()
    sizes, train, test = learning_curve(est, X, Y, cv=KFold(2, shuffle=True, random_state=0), train_sizes=[0.5, 1.0],
                                        scoring=head_scorer("gender", "accuracy"))
    assert np.isfinite(test).all()
    predicted = cross_val_predict(est, X, Y, cv=KFold(2))
    assert predicted.notna().all().all() and list(predicted.columns) == ["age", "income", "gender"]


def test_multilabel_unknown_entries_add_nothing():
    from skmultihead import MultiLabelNN
    from skmultihead.datasets import make_tagged_items

    X, Y = make_tagged_items(160, n_features=10, n_labels=4, n_informative=5, random_state=0)
    Y = Y.astype(float)
    Y.iloc[:60, 1] = np.nan  # label tag_01 unknown for the first 60 rows
    with pytest.raises(ValueError, match=r"the target of head 'labels' has 60 missing value\(s\)"):
        MultiLabelNN(**QUICK).fit(X, Y)
    params = dict(QUICK, epochs=1, batch_size=len(X), shuffle=False, threshold=0.5, missing_targets="mask")
    start = MultiLabelNN(**params).initialize(X, Y).predict_proba(X).clip(1e-7, 1 - 1e-7)
    known = Y.notna().to_numpy()
    truth = Y.fillna(0).to_numpy()
    expected = -(truth * np.log(start) + (1 - truth) * np.log(1 - start))[known].mean()
    est = MultiLabelNN(**params).fit(X, Y)
    assert est.history_["loss"][0] == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match=r"label\(s\) 'tag_01' have no known value in the training data"):
        MultiLabelNN(**params).fit(X, Y.assign(tag_01=np.nan))
    scores = est.score_heads(X, Y)
    predicted = est.predict(X)
    assert scores["tag_01"] == pytest.approx(np.mean(predicted["tag_01"][60:] == Y["tag_01"][60:]))
    # per-label weights weigh each entry
    weights = {"tag_00": np.full(len(X), 3.0), "tag_02": np.linspace(0.5, 1.5, len(X))}
    matrix = np.ones(Y.shape)
    matrix[:, 0], matrix[:, 2] = weights["tag_00"], weights["tag_02"]
    weighted = MultiLabelNN(**params).fit(X, Y, sample_weight=weights)
    losses = -(truth * np.log(start) + (1 - truth) * np.log(1 - start))
    assert weighted.history_["loss"][0] == pytest.approx((matrix * losses)[known].sum() / known.sum(), rel=1e-4)
    with pytest.raises(ValueError, match="sample_weight per label .* give missing_targets='mask'"):
        MultiLabelNN(**QUICK).fit(X, Y.fillna(0), sample_weight=weights)
    tuned = MultiLabelNN(**dict(QUICK, missing_targets="mask"), threshold="auto").fit(X, Y, sample_weight=weights)
    assert np.isfinite(tuned.thresholds_).all() and 0 <= tuned.score(X, Y) <= 1


def test_factored_a_missing_factor_trains_the_others():
    from skmultihead import FactoredLabelNN
    from skmultihead.datasets import make_distance_size

    X, y = make_distance_size(200, random_state=0)
    Y = pd.Series(y).str.split("-", expand=True).set_axis(["distance", "size"], axis=1)
    gaps = Y.copy()
    gaps.loc[:70, "size"] = None
    with pytest.raises(ValueError, match="a 1-D joint label cannot be partly missing"):
        FactoredLabelNN("-", **QUICK, missing_targets="mask").fit(X, np.where(gaps["size"].isna(), None, y))
    params = dict(QUICK, loss_weights={"size": 0.0}, missing_targets="mask")
    with_gaps = FactoredLabelNN(**params).fit(X, gaps)
    complete = FactoredLabelNN(**params).fit(X, Y)
    for ours, theirs in zip(weights_of(with_gaps), weights_of(complete)):  # only "distance" trains, on every row
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert with_gaps.history_["distance_loss"] == pytest.approx(complete.history_["distance_loss"], rel=1e-5)
    heavier = FactoredLabelNN(**params).fit(X, gaps, sample_weight={"distance": np.full(len(X), 2.0)})
    assert heavier.history_["distance_loss"][0] == pytest.approx(2 * with_gaps.history_["distance_loss"][0], rel=1e-3)
    with pytest.raises(ValueError, match="sample_weight names 'joint', which is not a head"):
        FactoredLabelNN(**params).fit(X, gaps, sample_weight={"joint": np.ones(len(X))})
    scores = with_gaps.score_heads(X, gaps)
    assert scores["size"] == pytest.approx(np.mean(with_gaps.predict(X)["size"][71:] == gaps["size"][71:]))
    assert scores["joint"] == pytest.approx(with_gaps.score(X, gaps))


@pytest.mark.backend
def test_every_fit_path_masks(data):
    X, Y = data
    aux = {"age_direct": {"branch": "features", "target": "age"}}
    ensemble = MultiOutputNNClassifier(**QUICK, ensemble_size=2, aux_heads=aux, missing_targets="mask").fit(X, Y)
    assert all(np.isfinite(values).all() for values in ensemble.history_.values())
    streamed = MultiOutputNNClassifier(hidden_layer_sizes=(8,), random_state=0, missing_targets="mask")
    streamed.partial_fit(X[:120], Y[:120]).partial_fit(X[120:], Y[120:])
    assert len(streamed.history_["loss"]) == 2 and np.isfinite(streamed.history_["gender_loss"]).all()
    without_gender = Y[120:].assign(gender=None)  # a later chunk may lack a head's labels altogether
    streamed.partial_fit(X[120:], without_gender)
    assert len(streamed.history_["loss"]) == 3
    warm = MultiOutputNNClassifier(**QUICK, missing_targets="mask", warm_start=True).fit(X, Y).fit(X, Y)
    assert len(warm.history_["loss"]) == 6

    class EveryBatch(keras.callbacks.Callback):  # makes the fit run through Keras's fit
        def on_train_batch_end(self, batch, logs=None):
            pass

    params = dict(QUICK, batch_size=50, shuffle=False, missing_targets="mask")
    loop = MultiOutputNNClassifier(**params).fit(X, Y)
    through_keras = MultiOutputNNClassifier(**params, callbacks=[EveryBatch()]).fit(X, Y)
    for ours, theirs in zip(weights_of(loop), weights_of(through_keras)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("container", ["dict", "array", "polars", "nullable"])
def test_missing_values_in_every_target_container(container):
    X, Y = make_social_media(120, random_state=0)
    gender = Y["gender"].astype(object).where(np.arange(len(Y)) >= 30, None)
    age = Y["age"].where(np.arange(len(Y)) % 4 != 0)
    if container == "dict":
        y = {"age": age.to_numpy(), "gender": gender.to_numpy()}
    elif container == "array":
        y = np.column_stack([age.to_numpy(), (gender == "m").astype(float).where(gender.notna())])
    elif container == "polars":
        pl = pytest.importorskip("polars")
        y = pl.DataFrame({"age": age.to_numpy(), "gender": gender.tolist()})
    else:
        y = pd.DataFrame({"age": age, "gender": pd.array(gender.tolist(), dtype="string")})
    with pytest.raises(ValueError, match="missing value"):
        MultiOutputNNClassifier(**QUICK).fit(X, y)
    est = MultiOutputNNClassifier(**QUICK, missing_targets="mask").fit(X, y)
    kinds = sorted(head.kind_ for head in est.heads_.values())
    assert kinds == ["binary", "regression"]
    assert np.isfinite(list(est.score_heads(X, y).values())).all()
