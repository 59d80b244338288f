"""Searches on joblib's Dask and Ray backends give the sequential search's results (Ray's test
skips where Ray is not installed: pip install ray)."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skmultihead import MultiOutputNNClassifier
from skmultihead.datasets import make_social_media

def test_grid_search_on_a_dask_cluster_matches_the_sequential_search():
    distributed = pytest.importorskip("distributed")
    X, Y = make_social_media(300, random_state=0)
    grid = {"loss_weights__gender": [0.5, 2.0], "hidden_layer_sizes": [(8,), (16,)]}
    est = MultiOutputNNClassifier(epochs=5, random_state=0)
    sequential = GridSearchCV(est, grid, cv=3).fit(X, Y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client, joblib.parallel_backend("dask"):
            on_dask = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X, Y)
            ran = client.run(lambda: __import__("skmultihead._training", fromlist=["TRACES"]).TRACES["train"])
    assert len(ran) == 2 and all(traces > 0 for traces in ran.values())  # both workers fitted
    for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_allclose(on_dask.cv_results_[key], sequential.cv_results_[key], rtol=1e-6)
    assert on_dask.best_params_ == sequential.best_params_


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
    np.testing.assert_allclose(on_ray.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"], rtol=1e-6)
