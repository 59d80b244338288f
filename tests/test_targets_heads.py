"""The targets and heads layers, without a network."""

import numpy as np
import pandas as pd
import pytest

from skmultihead import Head
from skmultihead._targets import join_targets, split_targets


def test_dataframe_round_trip_keeps_dtypes_and_index():
    y = pd.DataFrame(
        {
            "age": [31.5, 40.0, 22.1],
            "size": pd.Categorical(["s", "l", "s"], categories=["s", "m", "l"]),
            "flag": [True, False, True],
            "name": pd.Series(["a", "b", "c"], dtype="str"),
        }
    )
    columns, layout = split_targets(y)
    assert list(columns) == ["age", "size", "flag", "name"]
    back = join_targets(columns, layout, index=pd.Index([7, 8, 9]))
    pd.testing.assert_frame_equal(back, y.set_axis([7, 8, 9]))


@pytest.mark.parametrize(
    "y, kind, names",
    [
        ({"a": np.arange(4), "b": np.ones((4, 2))}, "dict", ("a", "b")),
        (np.arange(8).reshape(4, 2), "array", ("output_0", "output_1")),
        ([np.arange(4), np.array(list("abcd"))], "list", ("output_0", "output_1")),
        (np.arange(4), "vector", ("output_0",)),
        (pd.Series(np.arange(4), name="t"), "series", ("t",)),
        ([[0, 1], [1, 0], [1, 1], [0, 0]], "array", ("output_0", "output_1")),
    ],
)
def test_containers_split_and_join(y, kind, names):
    columns, layout = split_targets(y)
    assert layout.kind == kind and layout.names == names
    back = join_targets(columns, layout)
    if isinstance(y, dict):
        assert all(np.array_equal(back[k], y[k]) for k in y)
    elif kind == "list":
        assert all(np.array_equal(a, b) for a, b in zip(back, y))
    else:
        np.testing.assert_array_equal(np.asarray(back), np.asarray(y))


@pytest.mark.parametrize(
    "y, error, match",
    [
        ({1, 2, 3}, TypeError, "y of type set is not accepted; expected a pandas DataFrame"),
        ("labels", TypeError, "y of type str is not accepted"),
        (None, ValueError, "requires y to be passed"),
        ({1: [1, 2]}, TypeError, "keys must be head names"),
        ({"a": [1, 2], "b": [1, 2, 3]}, ValueError, "one row per sample; got lengths"),
        (np.zeros((2, 2, 2)), ValueError, "y has 3 dimensions"),
    ],
)
def test_bad_containers(y, error, match):
    with pytest.raises(error, match=match):
        split_targets(y)


@pytest.mark.parametrize(
    "y, kind",
    [
        (np.array([1.5, 2.0, 3.25]), "regression"),
        (np.array([0.0, 1.0, 1.0]), "binary"),
        (np.array(["a", "b", "a"], dtype=object), "binary"),
        (np.array([1, 2, 3]), "multiclass"),
        (np.array([True, False, True]), "binary"),
        (np.array([[0, 1], [1, 1], [0, 0]]), "multilabel"),
        (np.array([[0.5, 1.0], [1.5, 2.0], [0.1, 0.2]]), "regression"),
    ],
)
def test_kind_inference(y, kind):
    assert Head().fit(y, "h").kind_ == kind


def test_regression_head_standardizes_and_restores():
    y = np.array([10.0, 20.0, 30.0, 40.0])
    head = Head().fit(y, "h")
    encoded = head.encode(y)
    assert abs(encoded.mean()) < 1e-6 and abs(encoded.std() - 1) < 1e-6
    np.testing.assert_allclose(head.decode(encoded.reshape(-1, 1)), y, rtol=1e-6)


def test_one_hot_multiclass_round_trip():
    y = np.eye(3, dtype=int)[[0, 2, 1, 2]]
    head = Head("multiclass").fit(y, "h")
    np.testing.assert_array_equal(head.encode(y), [0, 2, 1, 2])
    np.testing.assert_array_equal(head.decode(np.eye(3)[[0, 2, 1, 2]]), y)


@pytest.mark.parametrize(
    "kind, y, match",
    [
        (None, np.array(["a", "a"], dtype=object), "head 'h' has only 1 class \\('a'\\)"),
        ("ordinal", np.array([1, 2]), "head 'h' has unknown kind 'ordinal'; the kinds are 'binary', 'multiclass'"),
        (None, np.array(["a", np.nan], dtype=object), "head 'h' has 1 missing value"),
        (None, np.array([1.0, np.nan, 2.5]), "head 'h' has 1 missing value"),
        ("regression", np.array(["a", "b"], dtype=object), "head 'h' is a regression head but its target is not numeric"),
        ("binary", np.array([1, 2, 3]), "head 'h' is binary but its target has 3 classes"),
        ("multiclass", np.array([[1, 1], [0, 1]]), "must be one-hot rows"),
        ("multilabel", np.array([[2, 0], [0, 1]]), "must hold only 0 and 1"),
        (None, np.array(["a", 1], dtype=object), "head 'h' mixes label types"),
    ],
)
def test_head_errors_name_the_head(kind, y, match):
    with pytest.raises(ValueError, match=match):
        Head(kind).fit(y, "h")


def test_unseen_label_is_an_error():
    head = Head().fit(np.array(["a", "b"], dtype=object), "h")
    with pytest.raises(ValueError, match="head 'h' got labels 'z' that were not in the training data"):
        head.encode(np.array(["a", "z"], dtype=object))


@pytest.mark.parametrize(
    "train, given",
    [
        (np.array(["b", "a", "c", "a"], dtype=object), np.array(["c", "a", "b"], dtype=object)),
        (np.array(["b", "a", "c"]), np.array(["c", "a", "b"])),  # numpy strings
        (np.array([3, 1, 2]), np.array([2.0, 3.0, 1.0])),  # int classes, float labels
        (np.array([True, False]), np.array([False, True, True])),
    ],
)
def test_labels_encode_as_their_index_in_the_sorted_classes(train, given):
    head = Head().fit(train, "h")
    assert head.classes_.tolist() == sorted(set(train.tolist()))
    expected = np.searchsorted(np.sort(np.unique(train)), given)
    np.testing.assert_array_equal(head.encode(given), expected)
    with pytest.raises(ValueError, match="head 'h' got labels .* that were not in the training data"):
        head.encode(np.array([9], dtype=object))


@pytest.mark.parametrize(
    "kind, y, match",
    [
        (None, np.array([["a", "b"], ["c", "d"]], dtype=object), "neither a 0/1 indicator .* nor float columns"),
        ("binary", np.array([[0, 1, 1], [1, 0, 1]]), "binary heads take a 1-D target; got a 2-D target"),
        ("multilabel", np.array([0, 1, 1]), "multilabel heads take a 2-D 0/1 indicator target; got a 1-D"),
    ],
)
def test_head_shape_errors(kind, y, match):
    with pytest.raises(ValueError, match=match):
        Head(kind).fit(y, "h")


def test_indicator_width_must_match_fit():
    head = Head().fit(np.array([[0, 1], [1, 0]]), "tags")
    with pytest.raises(ValueError, match="head 'tags' was fitted on a target of 2 columns; got shape \\(2, 3\\)"):
        head.encode(np.zeros((2, 3)))


def test_duplicate_dataframe_columns():
    with pytest.raises(ValueError, match="y has duplicate column names"):
        split_targets(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_make_social_media_needs_six_features():
    from skmultihead.datasets import make_social_media

    with pytest.raises(ValueError, match="n_features must be at least 6; got 3"):
        make_social_media(10, n_features=3)


def test_head_with_given_classes():
    head = Head("multiclass", classes=["c", "a", "b"]).fit(np.array(["a", "a"]), "letter")
    np.testing.assert_array_equal(head.classes_, ["a", "b", "c"])  # sorted; "b", "c" unseen
    assert head.n_outputs_ == 3
    np.testing.assert_array_equal(head.decode(np.array([[0.1, 0.2, 0.7]])), ["c"])
    single = Head("multiclass", classes=["x"]).fit(np.array(["x", "x"]), "only")
    assert single.n_outputs_ == 1
    named = Head("multilabel", classes=["cat", "dog"]).fit(np.array([[0, 1], [1, 1]]), "pets")
    np.testing.assert_array_equal(named.classes_, ["cat", "dog"])
    with pytest.raises(ValueError, match=r"head 'letter' has labels 'd' that are not in its classes 'a', 'b', 'c'"):
        Head("multiclass", classes=["a", "b", "c"]).fit(np.array(["a", "d"]), "letter")
    with pytest.raises(ValueError, match="head 'pets' has 3 classes for a target of 2 columns"):
        Head("multilabel", classes=["a", "b", "c"]).fit(np.array([[0, 1]]), "pets")
    with pytest.raises(ValueError, match="head 'age' is a regression head; `classes` applies to classification heads"):
        Head("regression", classes=[1, 2]).fit(np.array([1.5, 2.5]), "age")
    with pytest.raises(ValueError, match="head 'g': `separate` applies to multilabel heads only; its kind is 'binary'"):
        Head(separate=True).fit(np.array(["f", "m"]), "g")
