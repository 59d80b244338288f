"""Regression heads that say how sure they are: Head("regression", distribution="normal")."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score

from skmultihead import Head, MultiOutputNNClassifier, head_scorer


@pytest.fixture(scope="module")
def heteroscedastic():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.uniform(-1, 1, 1500), "noise": rng.normal(size=1500)})
    spread = 0.1 + 2.0 * np.abs(X["x"].to_numpy())  # the noise grows with |x|
    Y = pd.DataFrame({"demand": 100 + 10 * X["x"] + 10 * spread * rng.normal(size=1500),
                      "churn": np.where(X["x"] + 0.3 * rng.normal(size=1500) > 0, "yes", "no")})
    return X, Y, 10 * spread


@pytest.mark.backend
def test_a_gaussian_head_learns_a_mean_and_a_spread(heteroscedastic):
    X, Y, spread = heteroscedastic
    est = MultiOutputNNClassifier({"demand": Head("regression", distribution="normal")}, hidden_layer_sizes=(32,),
                                  epochs=60, optimizer__learning_rate=0.01, random_state=0).fit(X, Y)
    mean, std = est.predict_heads(X, return_std=True)["demand"]
    assert est.heads_["demand"].n_outputs_ == 2 and (std > 0).all()
    np.testing.assert_allclose(mean, est.predict(X)["demand"])  # predict gives the mean, in the target's units
    assert np.corrcoef(std, spread)[0, 1] > 0.8  # wider where the noise is
    covered = np.abs(Y["demand"] - mean) <= 1.645 * std
    assert 0.82 <= covered.mean() <= 0.96  # a 90% interval covers about 90%
    view_mean, view_std = est.head_estimator("demand").predict(X, return_std=True)
    np.testing.assert_allclose(view_std, std) and np.testing.assert_allclose(view_mean, mean)
    assert "demand_mae" in est.history_ and est.score_heads(X, Y)["demand"] > 0.1


def test_bad_distributions_name_the_head(heteroscedastic):
    X, Y, _ = heteroscedastic
    cases = [
        ({"demand": Head("regression", distribution="laplace")}, "head 'demand' has distribution 'laplace'"),
        ({"churn": Head(distribution="normal")}, "head 'churn' is binary; `distribution` applies to regression"),
    ]
    for heads, message in cases:
        with pytest.raises(ValueError, match=message):
            MultiOutputNNClassifier(heads, epochs=1).fit(X, Y)
    plain = MultiOutputNNClassifier(hidden_layer_sizes=(4,), epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match="return_std=True gives the standard deviation of heads with distribution"):
        plain.predict_heads(X, return_std=True)
    with pytest.raises(ValueError, match="return_std=True: head 'demand' has no distribution"):
        plain.head_estimator("demand").predict(X, return_std=True)


def test_a_gaussian_head_round_trips(heteroscedastic, tmp_path):
    import pickle

    import skmultihead

    X, Y, _ = heteroscedastic
    est = MultiOutputNNClassifier({"demand": Head("regression", distribution="normal")}, hidden_layer_sizes=(8,),
                                  epochs=2, random_state=0, missing_targets="mask").fit(X, Y)
    est.save(tmp_path / "g.skmh")
    for copy in (skmultihead.load(tmp_path / "g.skmh"), pickle.loads(pickle.dumps(est))):
        np.testing.assert_allclose(copy.predict_heads(X, return_std=True)["demand"][1],
                                   est.predict_heads(X, return_std=True)["demand"][1], rtol=1e-6)
    bands = MultiOutputNNClassifier({"demand": Head("quantile", quantiles=(0.1, 0.9))}, hidden_layer_sizes=(8,),
                                    epochs=2, random_state=0).fit(X, Y)
    bands.save(tmp_path / "q.skmh")
    pd.testing.assert_frame_equal(skmultihead.load(tmp_path / "q.skmh").predict_heads(X)["demand"],
                                  bands.predict_heads(X)["demand"])


@pytest.mark.backend
def test_quantile_heads_learn_intervals_that_never_cross(heteroscedastic):
    X, Y, spread = heteroscedastic
    levels = (0.05, 0.5, 0.95)
    est = MultiOutputNNClassifier({"demand": Head("quantile", quantiles=levels)}, hidden_layer_sizes=(32,),
                                  epochs=60, optimizer__learning_rate=0.01, random_state=0).fit(X, Y)
    bands = est.predict_heads(X)["demand"]
    assert list(bands.columns) == list(levels) and bands.index.equals(X.index)  # y was a DataFrame
    assert (np.diff(bands.to_numpy(), axis=1) >= 0).all()  # by construction
    np.testing.assert_allclose(est.predict(X)["demand"], bands[0.5])  # predict gives the median
    view = est.head_estimator("demand")  # so does the head's view, and a scorer through it
    np.testing.assert_allclose(view.predict(X), bands[0.5])
    np.testing.assert_allclose(est.head_estimator("demand", quantile=0.95).predict(X), bands[0.95])
    assert head_scorer("demand", "r2")(est, X, Y) == pytest.approx(r2_score(Y["demand"], bands[0.5]), rel=1e-5)
    inside = ((Y["demand"] >= bands[0.05]) & (Y["demand"] <= bands[0.95])).mean()
    assert 0.82 <= inside <= 0.96
    assert np.corrcoef(bands[0.95] - bands[0.05], spread)[0, 1] > 0.8
    assert "demand_mae" in est.history_ and est.score_heads(X, Y)["demand"] > 0.1
    as_arrays = MultiOutputNNClassifier({"output_0": Head("quantile", quantiles=levels)}, hidden_layer_sizes=(4,),
                                        epochs=1).fit(X, Y["demand"].to_numpy())
    assert as_arrays.predict_heads(X)["output_0"].shape == (len(X), 3)


@pytest.mark.backend
@pytest.mark.parametrize("ensemble_loss", ["members", "mean"])
def test_ensembles_combine_gaussians_as_a_mixture_and_average_quantiles(heteroscedastic, ensemble_loss, tmp_path):
    import keras

    import skmultihead

    X, Y, spread = heteroscedastic
    heads = {"demand": Head("regression", distribution="normal"), "level": Head("quantile", quantiles=(0.1, 0.5, 0.9))}
    Y = Y.assign(level=Y["demand"])
    est = MultiOutputNNClassifier(heads, hidden_layer_sizes=(16,), epochs=40, optimizer__learning_rate=0.01,
                                  ensemble_size=3, ensemble_loss=ensemble_loss, random_state=0).fit(X, Y)
    outputs = est.model_({"features": X.to_numpy("float32")})
    members = [{name: keras.ops.convert_to_numpy(outputs[f"member{i}_{name}"]) for name in heads} for i in range(3)]
    demand, level = est.heads_["demand"], est.heads_["level"]
    means = np.stack([demand.decode(m["demand"]) for m in members])
    variances = np.stack([demand.std(m["demand"]) ** 2 for m in members])
    mean, std = est.predict_heads(X, return_std=True)["demand"]
    np.testing.assert_allclose(mean, means.mean(axis=0), rtol=1e-5)  # the mixture's mean and total variance
    np.testing.assert_allclose(std**2, variances.mean(axis=0) + means.var(axis=0), rtol=1e-3)
    assert (std**2 > variances.mean(axis=0)).all()  # the members' disagreement widens it
    quantiles = np.stack([level.quantiles_of(m["level"]) for m in members]).mean(axis=0)
    bands = est.predict_heads(X)["level"]
    np.testing.assert_allclose(bands.to_numpy(), quantiles, rtol=1e-4, atol=1e-3)  # averaged level by level
    assert (np.diff(bands.to_numpy(), axis=1) > 0).all()
    assert 0.72 <= ((Y["demand"] - mean).abs() <= 1.282 * std).mean() <= 0.88  # an 80% interval
    assert np.corrcoef(std, spread)[0, 1] > 0.8 and np.corrcoef(bands[0.9] - bands[0.1], spread)[0, 1] > 0.6
    est.save(tmp_path / "e.skmh")  # the numpy forward pass and a loaded copy combine alike
    np.testing.assert_allclose(skmultihead.load(tmp_path / "e.skmh").predict_heads(X, return_std=True)["demand"][1],
                               std, rtol=1e-5)
    from test_persistence import _edited_state

    def averaged(state):  # a file whose Gaussian head averages its members' raw outputs
        for step in state["_forward_plan"]["steps"]:
            step["op"] = "average" if step["op"] == "ensemble_normal" else step["op"]

    with pytest.raises(skmultihead.UnsafeFileError, match="head 'demand' combines its ensemble's members by 'average'"):
        skmultihead.load(_edited_state(tmp_path / "e.skmh", tmp_path, averaged))


def test_an_ensemble_layer_of_an_unknown_kind_is_refused():
    from skmultihead._model import EnsembleDistribution

    with pytest.raises(ValueError, match="kind must be 'normal' or 'quantile'; got 'laplace'"):
        EnsembleDistribution("laplace")


def test_bad_quantiles_name_the_head(heteroscedastic):
    X, Y, _ = heteroscedastic
    for quantiles in [(0.5, 0.05), (0.1, 0.1), (0.0, 0.5), (0.5, 1.2)]:
        with pytest.raises(ValueError, match=r"head 'demand' has quantiles .*; give levels in \(0, 1\), sorted"):
            MultiOutputNNClassifier({"demand": Head("quantile", quantiles=quantiles)}, epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match="head 'demand': a 'quantile' head takes `quantiles`"):
        MultiOutputNNClassifier({"demand": Head("quantile")}, epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match="head 'churn' is a quantile head but its target is not numeric"):
        MultiOutputNNClassifier({"churn": Head("quantile", quantiles=(0.1, 0.9))}, epochs=1).fit(X, Y)


def test_scorers_and_out_of_fold_predictions_of_uncertain_heads(heteroscedastic):
    from sklearn.base import clone
    from sklearn.metrics import make_scorer, mean_pinball_loss
    from sklearn.model_selection import KFold, cross_validate

    from skmultihead import head_scorer
    from skmultihead.model_selection import cross_val_predict

    X, Y, _ = heteroscedastic
    X, Y = X[:400], Y[:400]
    bands = MultiOutputNNClassifier({"demand": Head("quantile", quantiles=(0.05, 0.5, 0.95))},
                                    hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, Y)
    low = make_scorer(mean_pinball_loss, alpha=0.05, greater_is_better=False)
    expected = -mean_pinball_loss(Y["demand"], bands.predict_heads(X)["demand"][0.05], alpha=0.05)
    assert head_scorer("demand", low)(bands, X, Y) == pytest.approx(expected)
    np.testing.assert_allclose(bands.head_estimator("demand", quantile=0.95).predict(X),
                               bands.predict_heads(X)["demand"][0.95])
    with pytest.raises(ValueError, match=r"head 'demand' learns quantiles \[0.05, 0.5, 0.95\]; it has none at 0.2"):
        bands.head_estimator("demand", quantile=0.2).predict(X)
    gaussian = MultiOutputNNClassifier({"demand": Head("regression", distribution="normal")},
                                       hidden_layer_sizes=(8,), epochs=3, random_state=0)
    scores = cross_validate(gaussian, X, Y, cv=KFold(2), scoring={"ll": head_scorer("demand", "log_likelihood")})
    assert np.isfinite(scores["test_ll"]).all()
    mean, std = gaussian.fit(X, Y).predict_heads(X, return_std=True)["demand"]
    y = Y["demand"].to_numpy()
    expected = np.mean(-0.5 * np.log(2 * np.pi * std**2) - 0.5 * ((y - mean) / std) ** 2)
    assert head_scorer("demand", "log_likelihood")(gaussian, X, Y) == pytest.approx(expected)
    out_of_fold = cross_val_predict(gaussian, X, Y, cv=KFold(2))
    assert out_of_fold["demand"].notna().all()  # the means
    quantiles = cross_val_predict(bands, X, Y, cv=KFold(2), method="predict_heads")["demand"]
    second = clone(bands).fit(X[200:], Y[200:]).predict_heads(X[:200])["demand"].to_numpy()
    assert quantiles.shape == (400, 3) and np.allclose(quantiles[:200], second, rtol=1e-6)  # each fold's quantiles


def test_the_intervals_example_runs():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).parents[1] / "examples" / "penguins_intervals.py"
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "90% interval of body mass: covers" in result.stdout
