"""Inputs read as a user of pandas, polars and scikit-learn expects, and the messages about them."""

import numpy as np
import polars as pl
import pytest

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier
from skmultihead._messages import quoted
from skmultihead.datasets import make_social_media, make_tagged_items

QUICK = dict(hidden_layer_sizes=(8,), epochs=2, random_state=0)


def polars(frame):
    return pl.DataFrame({name: frame[name].to_numpy() for name in frame.columns})


def test_polars_targets_keep_their_names_and_kinds():
    X, Y = make_social_media(150, random_state=0)
    est = MultiOutputNNClassifier(**QUICK).fit(polars(X), polars(Y))
    assert {name: head.kind_ for name, head in est.heads_.items()} == {
        "age": "regression", "income": "multiclass", "gender": "binary",  # a float column is a regression
    }
    assert list(est.feature_names_in_) == list(X.columns)
    same = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    np.testing.assert_allclose(est.predict_head_proba(polars(X))["income"], same.predict_head_proba(X)["income"])
    assert est.score(polars(X), polars(Y)) == pytest.approx(same.score(X, Y))
    est = MultiOutputNNClassifier(**QUICK).fit(X, pl.Series("gender", Y["gender"].to_numpy()))
    assert list(est.heads_) == ["gender"] and est.heads_["gender"].kind_ == "binary"

    Xm, Ym = make_tagged_items(100, n_features=8, n_labels=3, n_informative=3, random_state=0)
    assert MultiLabelNN(**QUICK).fit(Xm, polars(Ym)).classes_.tolist() == list(Ym.columns)
    joint = pl.Series("joint", (Y["gender"].astype(str) + "_" + Y["income"].astype(str)).to_numpy())
    factored = FactoredLabelNN(separator="_", **QUICK).fit(X, joint)
    assert factored.factor_classes_["factor_0"].tolist() == ["f", "m"]


def test_an_object_dtype_numeric_frame_is_read_as_numbers():
    X, Y = make_social_media(100, random_state=0)
    est = MultiOutputNNClassifier(**QUICK).fit(X.astype(object), Y)
    np.testing.assert_allclose(est.predict_head_proba(X.astype(object))["income"], est.predict_head_proba(X)["income"])
    with pytest.raises(TypeError, match="X column 'f0' is not numeric"):
        MultiOutputNNClassifier(**QUICK).fit(X.astype(object).assign(f0="a"), Y)


def test_initialize_builds_the_untrained_network_on_a_mixed_target():
    X, Y = make_social_media(100, random_state=0)  # float, str and int-like heads together
    est = MultiOutputNNClassifier(**QUICK).initialize(X, Y)
    assert est.history_ == {} and set(est.predict(X).columns) == set(Y.columns)
    trained = MultiOutputNNClassifier(**QUICK).fit(X, Y)
    assert not np.allclose(est.predict_head_proba(X)["income"], trained.predict_head_proba(X)["income"])


def test_an_empty_list_is_written_as_none():
    assert quoted([]) == "none" and quoted(["a", np.int64(2)]) == "'a', 2"


def test_auto_thresholds_warn_about_a_label_with_one_positive():
    Xm, Ym = make_tagged_items(120, n_features=8, n_labels=3, n_informative=3, random_state=0)
    rare = Ym.columns[0]
    Ym[rare] = 0
    Ym.loc[Ym.index[5], rare] = 1
    with pytest.warns(UserWarning, match=f"label\\(s\\) '{rare}' have a single positive row"):
        MultiLabelNN(threshold="auto", **QUICK).fit(Xm, Ym)


def test_a_frame_of_the_dataframe_interchange_protocol_is_read_as_pandas():
    X, Y = make_social_media(100, random_state=0)

    class Frame:  # another library's DataFrame, seen through the protocol only
        def __dataframe__(self, nan_as_null=False, allow_copy=True):
            return Y.__dataframe__(nan_as_null=nan_as_null, allow_copy=allow_copy)

    est = MultiOutputNNClassifier(**QUICK).fit(X, Frame())
    assert {name: head.kind_ for name, head in est.heads_.items()} == {
        "age": "regression", "income": "multiclass", "gender": "binary",
    }


@pytest.mark.backend
def test_a_head_name_the_network_cannot_take_is_an_error_naming_it():
    import keras

    X, Y = make_social_media(60, random_state=0)
    est = MultiOutputNNClassifier(**QUICK)
    renamed = Y.rename(columns={"age": "age (years)"})
    if keras.backend.backend() == "tensorflow":
        with pytest.raises(ValueError, match=r"head name 'age \(years\)': TensorFlow .* \(e\.g\. 'age_years_'\)"):
            est.fit(X, renamed)
        with pytest.raises(ValueError, match=r"head name 'how far': TensorFlow"):
            FactoredLabelNN(separator="-", factor_names=["how far", "size"], **QUICK).fit(X, Y["income"] + "-" + Y["gender"])
    else:  # other backends take such names
        assert list(est.fit(X, renamed).predict(X).columns) == list(renamed.columns)
    with pytest.raises(ValueError, match="head name 'km/h' must be a non-empty string without '/'"):
        est.fit(X, Y.rename(columns={"age": "km/h"}))
    with pytest.raises(ValueError, match="head 'features' has the name of an input"):
        est.fit(X, Y.rename(columns={"age": "features"}))
    for clash in ({"age": "val"}, {"age": "val_income"}):  # its history_ keys would read as validation's
        with pytest.raises(ValueError, match=f"head '{clash['age']}': history_ names validation entries"):
            est.fit(X, Y.rename(columns=clash))
