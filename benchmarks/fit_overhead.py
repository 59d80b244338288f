"""Fit time of MultiOutputNNClassifier against a raw Keras Model.fit of the same graph.

Both sides: the same data (already numeric and encoded for Keras), the same three-head graph
(trunk 200-100-75-50, dropout 0.02; age regression, income 10 classes, gender binary), the
same loss weights, optimizer, epochs and batch size; both build a new network each run (the
estimator's network pool is emptied first). Raw Keras runs as compiled by default (one batch
per call of the train step) and with the wrapper's steps_per_execution, which isolates the
wrapper's own work. Runs alternate between the sides; the median of each is reported with
the ratios. Target: ratio <= 1.10.

Run: python benchmarks/fit_overhead.py [--rows 20000] [--epochs 5] [--repeats 5]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import platform
import statistics
import time

import keras

from skmultihead import MultiOutputNNClassifier
from skmultihead._model import build_model, compile_model
from skmultihead._pool import POOL
from skmultihead.datasets import make_social_media

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=20000)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch-size", type=int, default=200)
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()

X, Y = make_social_media(args.rows, random_state=0)
params = dict(
    hidden_layer_sizes=(200, 100, 75, 50),
    dropout=0.02,
    loss_weights={"age": 0.25, "income": 1.0, "gender": 10.0},
    epochs=args.epochs,
    batch_size=args.batch_size,
    random_state=0,
)

# The raw Keras side gets what the estimator gives Keras, prepared outside the timing.
reference = MultiOutputNNClassifier(**dict(params, epochs=1)).fit(X, Y)
heads = reference.heads_
X_keras = {"features": X.to_numpy(dtype="float32")}
y_keras = {name: head.encode(Y[name]) for name, head in heads.items()}


def raw_keras_fit(steps_per_execution=1):
    model = build_model(
        reference.input_columns_,
        heads,
        branches=reference.branches_,
        hidden_layer_sizes=params["hidden_layer_sizes"],
        activation="relu",
        dropout=0.02,
        random_state=0,
    )
    compile_model(
        model, heads, optimizer=keras.optimizers.Adam(), loss_weights=params["loss_weights"],
        steps_per_execution=steps_per_execution,
    )
    model.fit(X_keras, y_keras, epochs=args.epochs, batch_size=args.batch_size, verbose=0)


def wrapper_fit():
    POOL.clear()  # a new network, as on the raw side (no reuse from the network pool)
    MultiOutputNNClassifier(**params).fit(X, Y)


SPE = reference.model_.steps_per_execution
sides = {
    "raw Keras Model.fit": raw_keras_fit,
    f"raw Keras, {SPE} steps per call": lambda: raw_keras_fit(SPE),
    "MultiOutputNNClassifier.fit": wrapper_fit,
}
times = {name: [] for name in sides}
for _ in range(args.repeats):
    for name, fit in sides.items():
        start = time.perf_counter()
        fit()
        times[name].append(time.perf_counter() - start)

print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
print(f"{args.rows} rows x {X.shape[1]} features, {args.epochs} epochs, batch {args.batch_size}, {args.repeats} repeats")
medians = {name: statistics.median(t) for name, t in times.items()}
for name, t in times.items():
    print(f"  {name:<32} median {medians[name]:.3f} s   (runs: {', '.join(f'{v:.2f}' for v in t)})")
ratio = medians["MultiOutputNNClassifier.fit"] / medians["raw Keras Model.fit"]
print(f"  ratio wrapper / raw Keras: {ratio:.3f}  (target <= 1.10: {'met' if ratio <= 1.10 else 'NOT met'})")
same = medians["MultiOutputNNClassifier.fit"] / medians[f"raw Keras, {SPE} steps per call"]
print(f"  ratio wrapper / raw Keras with the same steps per call: {same:.3f}  (the wrapper's own work)")
