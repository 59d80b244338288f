"""Searches on joblib's Dask and Ray backends give the sequential search's results (Ray's test
skips where Ray is not installed: pip install ray)."""

import os
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV

from skmultihead import Head, MultiOutputNNClassifier
from skmultihead.datasets import make_social_media


def _traces():
    from skmultihead._training import TRACES

    return TRACES["train"]


def test_searches_on_a_dask_cluster_match_the_sequential_searches():
    distributed = pytest.importorskip("distributed")
    X, Y = make_social_media(300, random_state=0)
    grid = {"loss_weights__gender": [0.5, 2.0], "hidden_layer_sizes": [(8,), (16,)]}
    est = MultiOutputNNClassifier(epochs=5, random_state=0)
    searches = {
        "grid": lambda n_jobs: GridSearchCV(est, grid, cv=3, n_jobs=n_jobs),
        "randomized": lambda n_jobs: RandomizedSearchCV(est, grid, n_iter=3, cv=3, n_jobs=n_jobs, random_state=0),
        # halving on rows: 2 rounds, the candidates of the second fit on more rows
        "halving": lambda n_jobs: HalvingGridSearchCV(
            est, grid, cv=3, factor=2, min_resources=100, n_jobs=n_jobs, random_state=0
        ),
    }
    sequential = {name: make(None).fit(X, Y) for name, make in searches.items()}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client, joblib.parallel_backend("dask"):
            on_dask = {"grid": searches["grid"](2).fit(X, Y)}
            traces = client.run(_traces)
            on_dask.update({name: make(2).fit(X, Y) for name, make in searches.items() if name != "grid"})
    # 12 fits of 2 architectures: a worker traces each architecture once at most (loss weights are
    # values of the train step), its later fits reuse the network fitted estimators gave back to its pool
    assert len(traces) == 2 and all(0 < n <= 2 for n in traces.values()), traces
    for name, search in on_dask.items():
        expected = sequential[name].cv_results_
        for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
            np.testing.assert_allclose(search.cv_results_[key], expected[key], rtol=1e-6, err_msg=name)
        assert search.best_params_ == sequential[name].best_params_, name


def test_grid_search_on_ray_matches_the_sequential_search():
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    X, Y = make_social_media(300, random_state=0)
    grid = {"loss_weights__gender": [0.5, 2.0]}
    est = MultiOutputNNClassifier(epochs=5, hidden_layer_sizes=(8,), random_state=0)
    sequential = GridSearchCV(est, grid, cv=3).fit(X, Y)
    register_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with joblib.parallel_backend("ray"):
            on_ray = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X, Y)
    finally:
        ray.shutdown()
    expected = sequential.cv_results_["mean_test_score"]
    np.testing.assert_allclose(on_ray.cv_results_["mean_test_score"], expected, rtol=1e-6)


@pytest.mark.backend
def test_partial_fit_over_chunks_is_one_epoch_of_fit_over_the_same_batches():
    X, Y = make_social_media(600, random_state=0)
    order = np.argsort(Y["income"].to_numpy(), kind="stable")  # the first chunk lacks the high incomes
    X, Y = X.iloc[order], Y.iloc[order]
    classes = {"income": np.unique(Y["income"]), "gender": np.unique(Y["gender"])}
    scaling = (Y["age"].mean(), Y["age"].std())
    params = dict(hidden_layer_sizes=(8,), batch_size=100, shuffle=False, random_state=0)
    whole = MultiOutputNNClassifier(heads={"age": Head("regression", scaling=scaling)}, epochs=1, **params).fit(X, Y)
    chunked = MultiOutputNNClassifier(heads={"age": Head("regression", scaling=scaling)}, **params)
    for start in range(0, 600, 200):
        chunked.partial_fit(X[start : start + 200], Y[start : start + 200], classes=classes)
    assert set(Y["income"][:200]) < set(classes["income"])
    for a, b in zip(chunked.model_.get_weights(), whole.model_.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(chunked.heads_["age"].mean_, Y["age"].mean())
    # without the classes up front, a later chunk's new label is an error naming it
    first_only = MultiOutputNNClassifier(**params).partial_fit(X[:200], Y[:200])
    with pytest.raises(ValueError, match="income"):
        first_only.partial_fit(X[400:], Y[400:])


def test_scaling_and_classes_given_up_front_are_checked():
    X, Y = make_social_media(100, random_state=0)
    with pytest.raises(ValueError, match="scaling of head 'age' needs finite means and scales > 0"):
        MultiOutputNNClassifier(heads={"age": Head(scaling=(40.0, 0.0))}, epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match="head 'gender' is binary; `scaling` applies to regression heads"):
        MultiOutputNNClassifier(heads={"gender": Head(scaling=(0.0, 1.0))}, epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match=r"classes must be a dict \{head: its labels\}"):
        MultiOutputNNClassifier(epochs=1).partial_fit(X, Y, classes={"incme": [1, 2]})


def test_the_streaming_example_trains_as_fit_does():
    import pathlib
    import subprocess
    import sys

    pytest.importorskip("pyarrow")
    example = pathlib.Path(__file__).parents[1] / "examples" / "stream_parquet.py"
    args = ["--rows", "3000", "--chunk", "1000", "--passes", "2"]
    done = subprocess.run([sys.executable, str(example), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "one pass of partial_fit vs one epoch of fit: largest weight difference" in done.stdout
    assert "held-out scores: age" in done.stdout


DATA_PARALLEL = """
import json, jax, keras, numpy as np
from skmultihead import MultiOutputNNClassifier
from skmultihead.datasets import make_social_media
X, Y = make_social_media(400, random_state=0)
params = dict(hidden_layer_sizes=(16,), epochs=3, batch_size=50, dropout=0.0, random_state=0)
one = MultiOutputNNClassifier(**params).fit(X, Y)
with keras.distribution.DataParallel().scope():
    two = MultiOutputNNClassifier(**params).fit(X, Y)
    devices = len(two.model_.weights[0].value.sharding.device_set)
    from skmultihead._engines import _ENGINES  # the batches it trained on were split along the batch axis
    (engine,) = _ENGINES[two.model_].values()
    split = engine._split_batches({"x": np.zeros((2, 50, 3), "float32")})["x"]
    shards = sorted(shard.data.shape[1] for shard in split.addressable_shards)
    try:
        MultiOutputNNClassifier(**dict(params, batch_size=25)).fit(X, Y)
    except ValueError as error:
        odd = str(error)
proba = [est.predict_head_proba(X) for est in (one, two)]
difference = max(np.abs(proba[0][h] - proba[1][h]).max() for h in ("income", "gender"))
print(json.dumps({"devices": len(jax.devices()), "replicated_on": devices, "shards": shards,
                  "difference": float(difference),
                  "odd": odd, "ages": [float(np.abs(one.predict(X)["age"] - two.predict(X)["age"]).max())]}))
"""


def test_a_fit_under_a_keras_distribution_runs_data_parallel_on_jax():
    import json
    import os
    import subprocess
    import sys

    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    done = subprocess.run([sys.executable, "-c", DATA_PARALLEL], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["devices"] == 2 and result["replicated_on"] == 2 and result["shards"] == [25, 25]
    assert result["difference"] < 1e-4 and result["ages"][0] < 1e-2  # one device's fit, within float tolerance
    assert "batch_size 25 does not divide among the 2 devices" in result["odd"]


def test_a_keras_distribution_on_another_backend_is_refused():
    import keras

    if keras.backend.backend() == "jax":
        pytest.skip("JAX trains under a Keras distribution")
    X, Y = make_social_media(60, random_state=0)
    with keras.distribution.DataParallel().scope():
        expected = f"trains on the JAX backend only and the backend is '{keras.backend.backend()}'"
        with pytest.raises(ValueError, match=expected):
            MultiOutputNNClassifier(epochs=1).fit(X, Y)


@pytest.mark.parametrize("given", [None, "2"])
@pytest.mark.parametrize("first", ["", "import tensorflow; "])
def test_tensorflow_takes_the_thread_limit_of_a_search_worker(given, first):
    # loky and Dask workers are given OMP_NUM_THREADS (their share of the cores); TensorFlow reads
    # TF_NUM_INTRAOP_THREADS only, at its first op, which the package sets from it unless the user
    # chose one, also where TensorFlow was imported first (a Dask worker re-importing a script)
    env = {k: v for k, v in os.environ.items() if k != "TF_NUM_INTRAOP_THREADS"}
    env.update({"OMP_NUM_THREADS": "1", **({} if given is None else {"TF_NUM_INTRAOP_THREADS": given})})
    code = f"{first}import os, skmultihead; print(os.environ.get('TF_NUM_INTRAOP_THREADS'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == (given or "1")
    with joblib.parallel_backend("loky", n_jobs=2):  # loky tells its workers so itself
        limits = joblib.Parallel()(joblib.delayed(lambda: os.environ.get("OMP_NUM_THREADS"))() for _ in range(2))
    assert all(limit is not None for limit in limits)
