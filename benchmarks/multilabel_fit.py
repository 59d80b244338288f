"""Fit time with 17 labels: MultiLabelNN against 17 separate models, side by side.

All sides fit the same data (20,000 rows x 250 features, 17 labels) with the same trunk
(250-200-100-75-50, relu), Adam, batch 200 and the same number of epochs:

- MultiLabelNN, head_layout="dense" and "separate", and raw Keras with the same graph, loss
  and metric as the dense layout, compiled and fitted by hand (the wrapper's overhead), each
  measured two ways: a new network (the network pool emptied first; the raw side builds a
  new model), which pays for tracing the train step, and a reused network (the pool's
  network, as in a grid search; the raw side refits one compiled model after loading its
  initial weights and optimizer state, as the pool does). Raw Keras runs as compiled by
  default (one batch per call of the train step) and, to isolate the wrapper's own work,
  with the wrapper's steps_per_execution;
- 17 separate single-output Keras models, one per label (target: MultiLabelNN >= 10x faster);
- scikit-learn's MultiOutputClassifier(MLPClassifier(...)): 17 separate MLPs;
- scikit-learn's MLPClassifier with its native multilabel output.

Each side runs --repeats times, alternating; the median is reported.
Run: python benchmarks/multilabel_fit.py [--rows 20000] [--epochs 5] [--repeats 3]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import platform
import statistics
import time
import warnings

import keras
from sklearn.exceptions import ConvergenceWarning
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier

from skmultihead import MultiLabelNN
from skmultihead._model import build_model, compile_model
from skmultihead._pool import POOL
from skmultihead.datasets import make_tagged_items

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=20000)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()

TRUNK = (200, 100, 75, 50)
BATCH = 200
X, Y = make_tagged_items(args.rows, n_features=250, n_labels=17, random_state=0)
Y_array = Y.to_numpy(dtype="float32")
warnings.simplefilter("ignore", ConvergenceWarning)  # the MLPs stop after --epochs on purpose


def keras_model(n_outputs):
    inputs = keras.Input((X.shape[1],))
    x = inputs
    for units in TRUNK:
        x = keras.layers.Dense(units, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(n_outputs, activation="sigmoid")(x))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def multilabel_nn(layout, new):
    def fit():
        if new:
            POOL.clear()
        MultiLabelNN(
            head_layout=layout, hidden_layer_sizes=TRUNK, epochs=args.epochs, batch_size=BATCH, random_state=0
        ).fit(X, Y)

    return fit


# The raw Keras side: the graph, loss and metric MultiLabelNN builds, compiled by hand on
# data prepared outside the timing.
reference = MultiLabelNN(hidden_layer_sizes=TRUNK, epochs=1, batch_size=BATCH, random_state=0).fit(X, Y)
X_keras, y_keras = {"features": X.astype("float32")}, {"labels": Y_array}


def same_graph(steps_per_execution=1):
    model = build_model(
        reference.input_columns_,
        reference.heads_,
        branches=reference.branches_,
        hidden_layer_sizes=TRUNK,
        activation="relu",
        dropout=0.0,
        random_state=0,
    )
    return compile_model(
        model, reference.heads_, optimizer=keras.optimizers.Adam(), loss_weights={},
        steps_per_execution=steps_per_execution,
    )


def raw_keras():
    same_graph().fit(X_keras, y_keras, epochs=args.epochs, batch_size=BATCH, verbose=0)


def raw_keras_reused(steps_per_execution):
    model = same_graph(steps_per_execution)
    model.optimizer.build(model.trainable_variables)
    variables = model.variables + model.optimizer.variables
    initial_state = [keras.ops.convert_to_numpy(v) for v in variables]

    def fit():
        for variable, value in zip(variables, initial_state):
            variable.assign(value)
        model.fit(X_keras, y_keras, epochs=args.epochs, batch_size=BATCH, verbose=0)

    return fit


SPE = reference.model_.steps_per_execution  # what the wrapper chose for this backend


def seventeen_keras_models():
    for j in range(Y_array.shape[1]):
        keras_model(1).fit(X, Y_array[:, j], epochs=args.epochs, batch_size=BATCH, verbose=0)


def mlp(**kwargs):
    return MLPClassifier(TRUNK, max_iter=args.epochs, batch_size=BATCH, tol=0, random_state=0, **kwargs)


sides = {
    'MultiLabelNN "dense", new network': multilabel_nn("dense", new=True),
    'MultiLabelNN "dense", reused': multilabel_nn("dense", new=False),
    'MultiLabelNN "separate", new network': multilabel_nn("separate", new=True),
    'MultiLabelNN "separate", reused': multilabel_nn("separate", new=False),
    "raw Keras, same graph, new model": raw_keras,
    "raw Keras, same graph, reused": raw_keras_reused(1),
    f"raw Keras, reused, {SPE} steps per call": raw_keras_reused(SPE),
    "17 single-output Keras models": seventeen_keras_models,
    "MultiOutputClassifier(MLPClassifier)": lambda: MultiOutputClassifier(mlp()).fit(X, Y),
    "MLPClassifier (native multilabel)": lambda: mlp().fit(X, Y),
}
times = {name: [] for name in sides}
for _ in range(args.repeats):
    for name, fit in sides.items():
        start = time.perf_counter()
        fit()
        times[name].append(time.perf_counter() - start)

print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
print(f"{args.rows} rows x 250 features, 17 labels, trunk {TRUNK}, {args.epochs} epochs, batch {BATCH}, "
      f"{args.repeats} repeats (median)")
median = {name: statistics.median(t) for name, t in times.items()}
for name, t in times.items():
    print(f"  {name:<40} {median[name]:7.2f} s   (runs: {', '.join(f'{v:.2f}' for v in t)})")

def ratio(a, b, target=None):
    value = median[a] / median[b]
    verdict = "" if target is None else f"  (target <= {target}: {'met' if value <= target else 'NOT met'})"
    return f"{value:6.2f}{verdict}"


dense, dense_new = 'MultiLabelNN "dense", reused', 'MultiLabelNN "dense", new network'
separate, separate_new = 'MultiLabelNN "separate", reused', 'MultiLabelNN "separate", new network'
speedup = median["17 single-output Keras models"] / median[dense_new]
print(f"  17 Keras models / MultiLabelNN dense (new):   {speedup:6.1f}x  (target >= 10x: {'met' if speedup >= 10 else 'NOT met'})")
print(f"  MultiLabelNN dense / MLPClassifier, reused:   {ratio(dense, 'MLPClassifier (native multilabel)', 1.0)}")
print(f"  MultiLabelNN dense / MLPClassifier, new:      {ratio(dense_new, 'MLPClassifier (native multilabel)', 1.0)}")
print(f"  wrapper / raw Keras, both reused:             {ratio(dense, 'raw Keras, same graph, reused', 1.05)}")
print(f"  wrapper / raw Keras, both new:                {ratio(dense_new, 'raw Keras, same graph, new model', 1.05)}")
print(f"  wrapper / raw Keras, same steps per call:     {ratio(dense, f'raw Keras, reused, {SPE} steps per call')}"
      "  (the wrapper's own work)")
print(f"  separate / dense, reused:                     {ratio(separate, dense, 1.2)}")
print(f"  separate / dense, new:                        {ratio(separate_new, dense_new, 1.2)}")
