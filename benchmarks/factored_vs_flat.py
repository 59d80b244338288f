"""FactoredLabelNN against a flat joint-class softmax as the number of joint classes grows.

For each factor shape (2x3, 5x7, 10x10) the same generated data (a fixed 3,000 training
and 2,000 test rows; each factor's class is the argmax of a noisy linear score of its own 4
of 12 features) is fitted by:

- FactoredLabelNN: one softmax head per factor, merged into the joint distribution;
- a flat network: one softmax over all joint classes (MultiOutputNNClassifier on the joint
  labels), same trunk, optimizer, epochs and batch size.

Printed side by side: joint accuracy and log loss on the test rows, and fit time.
Run: python benchmarks/factored_vs_flat.py [--epochs 30]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import platform
import time

import keras
import numpy as np
from sklearn.metrics import accuracy_score, log_loss

from skmultihead import FactoredLabelNN, MultiOutputNNClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--train", type=int, default=3000)
parser.add_argument("--test", type=int, default=2000)
parser.add_argument("--epochs", type=int, default=30)
args = parser.parse_args()
SHAPES = [(2, 3), (5, 7), (10, 10)]


def make_data(shape, n_samples, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 12)).astype("float32")
    parts = []
    for f, n_classes in enumerate(shape):
        weights = np.random.RandomState(100 + f).normal(size=(4, n_classes))
        scores = X[:, 4 * f : 4 * f + 4] @ weights + 0.5 * rng.normal(size=(n_samples, n_classes))
        parts.append(scores.argmax(axis=1))
    return X, np.array([f"{a}-{b}" for a, b in zip(*parts)], dtype=object)


params = dict(hidden_layer_sizes=(64,), epochs=args.epochs, batch_size=100, optimizer__learning_rate=0.005, random_state=0)
print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
print(f"{args.train} training / {args.test} test rows, 12 features, trunk (64,), {args.epochs} epochs, batch 100\n")
print(f"{'shape':<7} {'joint':>5} {'seen':>5} | {'factored acc':>12} {'flat acc':>9} | "
      f"{'factored loss':>13} {'flat loss':>9} | {'factored s':>10} {'flat s':>7}")
for shape in SHAPES:
    X, y = make_data(shape, args.train + args.test)
    X_train, y_train, X_test, y_test = X[: args.train], y[: args.train], X[args.train :], y[args.train :]
    row = {}
    for name, model in (("factored", FactoredLabelNN("-", **params)), ("flat", MultiOutputNNClassifier(**params))):
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        proba = model.predict_proba(X_test)
        # classes the flat network never saw get probability 0 (log loss then counts them as errors)
        columns = {label: j for j, label in enumerate(model.classes_)}
        labels = sorted(set(model.classes_) | set(y_test))
        full = np.zeros((len(X_test), len(labels)))
        for i, label in enumerate(labels):
            if label in columns:
                full[:, i] = proba[:, columns[label]]
        full = np.clip(full, 1e-15, 1)
        row[name] = (accuracy_score(y_test, model.predict(X_test)), log_loss(y_test, full / full.sum(1, keepdims=True), labels=labels), seconds)
    n_joint, seen = int(np.prod(shape)), len(set(y_train))
    (fa, fl, fs), (ja, jl, js) = row["factored"], row["flat"]
    print(f"{shape[0]}x{shape[1]:<5} {n_joint:>5} {seen:>5} | {fa:12.3f} {ja:9.3f} | {fl:13.3f} {jl:9.3f} | {fs:10.2f} {js:7.2f}")
