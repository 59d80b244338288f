"""The README's table of methods holds for every estimator: each method is called on each
estimator and its result checked against what the table says it returns."""

import pathlib
import re

import numpy as np
import pytest

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier
from skmultihead.datasets import make_social_media, make_tagged_items

README = pathlib.Path(__file__).parents[1] / "README.md"
ESTIMATORS = ["MultiOutputNNClassifier", "MultiLabelNN", "FactoredLabelNN"]
TYPES = {"dict": dict, "float": float, "array": np.ndarray, "list": list}


def api_table():
    """``{method: {estimator: type word}}`` from the README's table."""
    text = README.read_text()
    section = text[text.index("### The same methods on every estimator") :]
    rows = re.findall(r"^\| `(\w+)\((X(?:, y)?)\)` \|(.+)\|$", section, flags=re.M)
    table = {}
    for method, arguments, cells in rows:
        words = [cell.strip().split(":")[0] for cell in cells.split("|")]
        table[method] = (arguments, dict(zip(ESTIMATORS, words)))
    return table


@pytest.fixture(scope="module")
def fitted():
    quick = dict(hidden_layer_sizes=(8,), epochs=2, ensemble_size=2, random_state=0)
    X, Y = make_social_media(120, random_state=0)
    Xm, Ym = make_tagged_items(120, n_features=8, n_labels=3, n_informative=3, random_state=0)
    joint = Y["gender"].astype(str) + "_" + Y["income"].astype(str)
    return {
        "MultiOutputNNClassifier": (MultiOutputNNClassifier(aux_heads={"aux": {"target": "income"}}, **quick), X, Y),
        "MultiLabelNN": (MultiLabelNN(aux_heads={"aux": {"target": "labels"}}, **quick), Xm, Ym),
        "FactoredLabelNN": (
            FactoredLabelNN(separator="_", factor_names=["gender", "income"], aux_heads={"aux": {"target": "income"}},
                            **quick),
            X,
            joint,
        ),
    }


def test_the_table_lists_the_shared_methods():
    assert set(api_table()) == {
        "predict", "predict_proba", "predict_head_proba", "predict_heads", "predict_members", "predict_aux",
        "score", "score_heads", "score_aux",
    }


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_method_returns_what_the_table_says(fitted, estimator):
    est, X, y = fitted[estimator]
    est.fit(X, y)
    heads = set(est.predict_heads(X))
    for method, (arguments, returns) in api_table().items():
        result = getattr(est, method)(*((X, y) if arguments == "X, y" else (X,)))
        kind = returns[estimator]
        if kind == "container":
            continue
        assert isinstance(result, TYPES[kind]), (estimator, method, type(result))
        if method in ("predict_heads", "score_heads", "predict_members"):
            assert set(result) == heads, (estimator, method)
        elif method == "predict_head_proba":
            assert set(result) <= heads and all(p.shape[0] == len(X) for p in result.values())
            np.testing.assert_allclose(np.stack([p.sum(axis=1) for p in result.values()]), 1.0, rtol=1e-5)
        elif method in ("predict_aux", "score_aux"):
            assert set(result) == {"aux"}
    assert heads == ({"gender", "income", "joint"} if estimator == "FactoredLabelNN" else set(y.columns))
