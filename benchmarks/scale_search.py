"""A 24-fit grid search on the penguins demo data: sequential, loky and Dask, side by side.

GridSearchCV over loss weights and hidden sizes (2 x 2 x 2 candidates, 3 folds = 24 fits) of
the penguins demo's network: sequential (n_jobs=1), joblib's loky backend with n_jobs=2, and
joblib's Dask backend on a distributed.LocalCluster of 2 worker processes (1 thread each).
Prints each wall time, the speed-up against sequential (target >= 1.6 on 2 cores), whether
the cv_results_ scores are the sequential ones, and the train-step traces per Dask worker.

Run: python benchmarks/scale_search.py [--epochs 50]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import platform
import time

import joblib
import keras
import numpy as np
from palmerpenguins import load_penguins
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultihead import MultiOutputNNClassifier


def traces():
    from skmultihead._training import TRACES

    return TRACES["train"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    penguins = load_penguins().dropna()
    X = penguins[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]]
    Y = penguins[["species", "sex", "body_mass_g"]]
    net = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["island"]), remainder=StandardScaler()),
        MultiOutputNNClassifier(epochs=args.epochs, batch_size=32, optimizer__learning_rate=0.01, random_state=0),
    )
    grid = {
        "multioutputnnclassifier__loss_weights__sex": [1.0, 3.0],
        "multioutputnnclassifier__loss_weights__body_mass_g": [0.5, 1.0],
        "multioutputnnclassifier__hidden_layer_sizes": [(16,), (32,)],
    }
    cv = KFold(3, shuffle=True, random_state=0)

    def search(n_jobs):
        start = time.perf_counter()
        fitted = GridSearchCV(net, grid, cv=cv, n_jobs=n_jobs).fit(X, Y)
        return time.perf_counter() - start, fitted.cv_results_["mean_test_score"]

    print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
    print(f"GridSearchCV: 8 candidates x 3 folds = 24 fits, {args.epochs} epochs each")
    sequential, expected = search(1)
    print(f"  sequential (n_jobs=1)      {sequential:6.1f} s")
    with joblib.parallel_backend("loky"):
        loky, scores = search(2)
    print(f"  loky, n_jobs=2             {loky:6.1f} s  speed-up {sequential / loky:.2f} "
          f"({'met' if sequential / loky >= 1.6 else 'NOT met'}; target >= 1.6); same scores: {np.allclose(scores, expected)}")
    import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            client.run(traces)  # workers up and importing before the timing
            with joblib.parallel_backend("dask"):
                dask, scores = search(2)
            per_worker = sorted(client.run(traces).values())
    print(f"  Dask, 2 workers            {dask:6.1f} s  speed-up {sequential / dask:.2f} "
          f"({'met' if sequential / dask >= 1.6 else 'NOT met'}; target >= 1.6); same scores: {np.allclose(scores, expected)}")
    print(f"  train-step traces per Dask worker: {per_worker} for 24 fits of 8 (architecture, loss weights) settings")


if __name__ == "__main__":
    main()
