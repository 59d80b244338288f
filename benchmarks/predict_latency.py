"""Predict latency: 1 row and 1,000 rows, each estimator against scikit-learn's MLPClassifier.

For each estimator, the same data and the same hidden layers on both sides:

- MultiOutputNNClassifier: 3 heads on `make_social_media` (20 features), trunk 200-100-75-50;
  baseline MLPClassifier on the income target;
- MultiLabelNN: 17 labels on `make_tagged_items` (250 features), same trunk; baseline
  MLPClassifier on the same 17-label target;
- FactoredLabelNN: distance x size on `make_distance_size` (9 features), same trunk;
  baseline MLPClassifier on the joint labels.

Also timed: the Keras calls skmultihead does not make at predict — a direct eager call of
the model and `Model.predict` (what scikeras calls) — and the largest difference between our
probabilities and the Keras model's. Targets: 1 row <= 0.5 ms; 1,000 rows <= 1.5x MLPClassifier.

Run: python benchmarks/predict_latency.py [--calls 300]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import platform
import statistics
import time
import warnings

import keras
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier
from skmultihead.datasets import make_distance_size, make_social_media, make_tagged_items

parser = argparse.ArgumentParser()
parser.add_argument("--calls", type=int, default=300)
args = parser.parse_args()
warnings.simplefilter("ignore", ConvergenceWarning)
TRUNK = (200, 100, 75, 50)


def median_ms(function, X, calls):
    function(X)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function(X)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def cases():
    X, Y = make_social_media(2000, random_state=0)
    X = X.to_numpy()
    yield "MultiOutputNNClassifier", MultiOutputNNClassifier(hidden_layer_sizes=TRUNK, epochs=2), X, Y, Y["income"], "income"
    X, Y = make_tagged_items(2000, random_state=0)
    yield "MultiLabelNN", MultiLabelNN(hidden_layer_sizes=TRUNK, epochs=2), X, Y, Y, "labels"
    X, y = make_distance_size(2000, random_state=0)
    X = X.to_numpy()
    yield "FactoredLabelNN", FactoredLabelNN("-", hidden_layer_sizes=TRUNK, epochs=2), X, y, y, "joint"


print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
print(f"median of {args.calls} calls of predict_proba, in ms; trunk {TRUNK}\n")
print(f"{'estimator':<24} {'rows':>5} {'ours':>7} {'MLP':>7} {'ratio':>6} {'keras call':>10} {'Model.predict':>13} {'max |diff|':>10}")
for name, est, X, y, y_mlp, output in cases():
    est.fit(X, y)
    mlp = MLPClassifier(TRUNK, max_iter=2, random_state=0).fit(X, y_mlp)
    model = est.model_
    for rows in (1, 1000):
        Xr = X[:rows]
        X32 = {"features": Xr.astype("float32")}  # the named input the network reads
        ours = median_ms(est.predict_proba, Xr, args.calls)
        baseline = median_ms(mlp.predict_proba, Xr, args.calls)
        keras_call = median_ms(lambda x: model(x, training=False), X32, args.calls)
        keras_predict = median_ms(lambda x: model.predict(x, verbose=0), X32, max(20, args.calls // 10))
        reference = keras.ops.convert_to_numpy(model(X32, training=False)[output]).astype(float)
        mine = est._predict_raw(Xr)[output]
        diff = np.abs(mine - reference).max()
        print(f"{name:<24} {rows:>5} {ours:7.3f} {baseline:7.3f} {ours / baseline:6.2f} {keras_call:10.3f} {keras_predict:13.3f} {diff:10.1e}")
