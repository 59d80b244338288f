"""A 24-fit grid search on the penguins demo data: sequential, loky and Dask, side by side.

GridSearchCV over loss weights and hidden sizes (2 x 2 x 2 candidates, 3 folds = 24 fits) of
the penguins demo's network (its islands one-hot encoded before the search, see main):
sequential (n_jobs=1), joblib's loky backend with n_jobs=2, and joblib's Dask backend on
a distributed.LocalCluster of 2 worker processes (1 thread each). The workers are started
and have imported skmultihead before the timing (a process start and TensorFlow's import,
paid once per worker and session, are printed apart). Each side runs the search 1 +
``--again`` times: "first", where the process or each worker traces the train step of each
architecture it meets (the loss weights are values of it: at most 2 traces), and "again",
the median of the others, with nothing left to trace (loky's workers are shut down before
Dask's start); then the "again" search on Dask with GridSearchCV's
``pre_dispatch="all"`` (every fit queued at the scheduler at once, not 2 per worker).
Prints each wall time, the speed-up against the sequential search of the same row (target
>= 1.6 on 2 cores), whether the cv_results_ scores are the sequential ones, and the
train-step traces of each process.

The machine's own ceiling, measured in the same run: 24 tasks of pure Python arithmetic
(no TensorFlow, no data) whose summed time is the sequential "again" search's, run through
the same joblib call (``Parallel`` with its defaults, as GridSearchCV's) on each backend.
Its speed-up is what the 2 cores, joblib's dispatch and the backend give work that is
perfectly parallel; the search's is that, less what the fits add.

``--quiet-dask-workers`` starts the Dask workers without their statistical profiler (every
10 ms), with their memory and system monitors at 5 s (100 and 500 ms by default) and their
event loop's tick at 1 s (20 ms): in a worker, these took ~0.1 s of CPU per 0.7 s of fits,
on the cores the fits need.

Run: python benchmarks/scale_search.py [--epochs 50] [--again 3] [--jit-compile auto|False]
     [--quiet-dask-workers]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import platform
import time

import joblib
from joblib.externals.loky import get_reusable_executor
import keras
import numpy as np
import pandas as pd
from palmerpenguins import load_penguins
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultihead import MultiOutputNNClassifier


def traces():
    from skmultihead._training import TRACES

    return TRACES["train"]


def spin(iterations):
    """Pure Python arithmetic: CPU work that needs no memory bandwidth and holds the GIL."""
    total = 0
    for i in range(iterations):
        total += i
    return total


def ceiling(n_jobs, iterations, pre_dispatch="2*n_jobs", tasks=24):
    """Wall time of ``tasks`` spins through joblib (the active backend), as GridSearchCV calls it."""
    start = time.perf_counter()
    joblib.Parallel(n_jobs=n_jobs, pre_dispatch=pre_dispatch)(joblib.delayed(spin)(iterations) for _ in range(tasks))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--again", type=int, default=3, help="searches after the first (median shown)")
    parser.add_argument("--jit-compile", default="auto", choices=["auto", "False"],
                        help="the estimator's jit_compile (TensorFlow; False: each epoch a graph)")
    parser.add_argument("--quiet-dask-workers", action="store_true",
                        help="Dask workers without profiler, memory and system monitors at 5 s")
    args = parser.parse_args()
    penguins = load_penguins().dropna()
    # islands one-hot encoded before the search: a ColumnTransformer's own joblib calls would
    # become Dask tasks of their own under the Dask backend (two scheduler round trips per fit)
    X = pd.get_dummies(penguins[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]], dtype=float)
    Y = penguins[["species", "sex", "body_mass_g"]]
    net = make_pipeline(
        StandardScaler(),
        MultiOutputNNClassifier(epochs=args.epochs, batch_size=32, optimizer__learning_rate=0.01, random_state=0,
                                jit_compile={"auto": "auto", "False": False}[args.jit_compile]),
    )
    grid = {
        "multioutputnnclassifier__loss_weights__sex": [1.0, 3.0],
        "multioutputnnclassifier__loss_weights__body_mass_g": [0.5, 1.0],
        "multioutputnnclassifier__hidden_layer_sizes": [(16,), (32,)],
    }
    cv = KFold(3, shuffle=True, random_state=0)

    def search(n_jobs, pre_dispatch):
        start = time.perf_counter()
        fitted = GridSearchCV(net, grid, cv=cv, n_jobs=n_jobs, pre_dispatch=pre_dispatch).fit(X, Y)
        return time.perf_counter() - start, fitted.cv_results_["mean_test_score"]

    def searches(n_jobs, pre_dispatch="2*n_jobs", first=True):
        """The first search (unless ``first`` is False: the workers have traced already), then
        the median of ``--again`` more (nothing left to trace)."""
        runs = {"first": search(n_jobs, pre_dispatch)} if first else {}
        again = [search(n_jobs, pre_dispatch) for _ in range(args.again)]
        return {**runs, "again": sorted(again, key=lambda run: run[0])[len(again) // 2]}

    def median_ceiling(n_jobs, iterations, pre_dispatch="2*n_jobs"):
        return sorted(ceiling(n_jobs, iterations, pre_dispatch) for _ in range(args.again))[args.again // 2]

    print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
    quiet = ", quiet Dask workers" if args.quiet_dask_workers else ""
    print(f"GridSearchCV{quiet}: 8 candidates (2 architectures) x 3 folds = 24 fits, {args.epochs} epochs each")
    sequential = searches(1)
    expected = sequential["first"][1]
    rows = {"sequential (n_jobs=1)": (sequential, [traces()])}
    # the ceiling's work: spins summing to the sequential "again" search's time
    iterations = 100_000
    for _ in range(2):  # the second pass corrects the first's estimate
        iterations = int(iterations * sequential["again"][0] / ceiling(1, iterations))
    spins = {"sequential (n_jobs=1)": median_ceiling(1, iterations)}
    start = time.perf_counter()
    with joblib.parallel_backend("loky", n_jobs=2):
        joblib.Parallel()(joblib.delayed(traces)() for _ in range(2))  # start the workers, import skmultihead
        loky_start = time.perf_counter() - start
        rows["loky, n_jobs=2"] = searches(2), None
        spins["loky, n_jobs=2"] = median_ceiling(2, iterations)
    get_reusable_executor().shutdown(wait=True)  # loky's idle workers gone before Dask's start
    import dask
    import distributed

    if args.quiet_dask_workers:  # the workers' nannies pass this configuration on to them
        dask.config.set({"distributed.worker.profile.enabled": False,
                         "distributed.worker.memory.monitor-interval": "5s",
                         "distributed.admin.system-monitor.interval": "5s",
                         "distributed.admin.tick.interval": "1s"})
    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            client.run(traces)  # workers up and importing before the timing
            dask_start = time.perf_counter() - start
            with joblib.parallel_backend("dask"):
                rows["Dask, 2 workers"] = searches(2), None
                spins["Dask, 2 workers"] = median_ceiling(2, iterations)
                all_at_once = "Dask, pre_dispatch='all'"  # every fit queued at the scheduler at once
                rows[all_at_once] = searches(2, "all", first=False), None
                spins[all_at_once] = median_ceiling(2, iterations, "all")
            rows["Dask, 2 workers"] = rows["Dask, 2 workers"][0], sorted(client.run(traces).values())
    print(f"worker start and import (once per worker and session): loky {loky_start:.1f} s, Dask {dask_start:.1f} s")
    print(f"{'search':26s} {'first':>7s} {'speed-up':>9s} {'again':>7s} {'speed-up':>9s}  same scores  traces"
          f"{'':9s}ceiling (pure Python)")
    for name, (runs, counts) in rows.items():
        cells = []
        for run in ("first", "again"):
            if run not in runs:
                cells.append(f"{'-':>7s} {'':8s}")
                continue
            seconds, scores = runs[run]
            ratio = sequential[run][0] / seconds
            cells.append(f"{seconds:6.1f}s {ratio:8.2f}{'' if name.startswith('seq') or ratio >= 1.6 else '*'}")
        same = all(np.allclose(runs[run][1], expected) for run in runs)
        counts = "" if counts is None else str(counts)
        spin_ratio = spins["sequential (n_jobs=1)"] / spins[name]
        print(f"{name:26s} {cells[0]} {cells[1]}  {str(same):11s}  {counts:15s}{spins[name]:5.2f}s {spin_ratio:5.2f}")
    print("* below the target of 1.6; traces: train steps traced by the process (Dask: per worker), both runs;")
    print("ceiling: 24 tasks of pure Python summing to the sequential 'again' time, same joblib call (median)")


if __name__ == "__main__":
    main()
