"""An ensemble of 3 in one graph against three separate fits: time and accuracy side by side.

Two problems, each fitted from an empty network pool (every side traces its networks):

- digits: scikit-learn's 8x8 digit images, a custom CNN trunk (`model=`), 15 epochs,
  1,257 training / 540 test rows;
- social media: `make_social_media` (20 features, 3 heads: regression, 10 classes, binary),
  trunk (64, 64), 20 epochs, 5,000 training / 2,000 test rows; the score is the mean of
  the heads' accuracy / R².

Sides: one network (`ensemble_size=1`); three separate fits (random_state 0, 1, 2) whose
predicted probabilities (values for regression) are averaged by hand; one fit with
`ensemble_size=3` (members trained on their own losses, the default).

Run: python benchmarks/ensemble.py [--repeats 3]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import platform
import statistics
import time

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split

from skmultihead import MultiOutputNNClassifier
from skmultihead._pool import POOL
from skmultihead.datasets import make_social_media

parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()


def small_cnn(inputs):
    x = keras.layers.Reshape((8, 8, 1))(inputs["features"])
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    return keras.layers.Dense(32, activation="relu")(x)


def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)
    params = dict(model=small_cnn, epochs=15, batch_size=32)
    return X_train, X_test, y_train, y_test, params


def social_media():
    X, Y = make_social_media(7000, random_state=0)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=2000, random_state=0)
    return X_train, X_test, Y_train, Y_test, dict(hidden_layer_sizes=(64, 64), epochs=20)


def averaged_score(models, X, y):
    """Score of the average of the models' probabilities (values for regression)."""
    first = models[0]
    scores = []
    for name, head in first.heads_.items():
        truth = y if first._single_output else y[name]
        if head.is_classifier_:
            proba = np.mean([m.predict_head_proba(X)[name] for m in models], axis=0)
            scores.append(accuracy_score(truth, head.classes_[proba.argmax(axis=1)]))
        else:
            values = np.mean([m.predict(X)[name] for m in models], axis=0)
            scores.append(r2_score(truth, values))
    return float(np.mean(scores))


def run(problem):
    X_train, X_test, y_train, y_test, params = problem()
    sides = {"one network": [], "three separate fits, averaged": [], "ensemble_size=3, one graph": []}
    scores = {side: [] for side in sides}
    for r in range(args.repeats):
        for side in sides:
            POOL.clear()
            start = time.perf_counter()
            if side == "one network":
                models = [MultiOutputNNClassifier(random_state=r, **params).fit(X_train, y_train)]
            elif side.startswith("three"):
                models = [
                    MultiOutputNNClassifier(random_state=3 * r + k, **params).fit(X_train, y_train) for k in range(3)
                ]
            else:
                models = [MultiOutputNNClassifier(ensemble_size=3, random_state=r, **params).fit(X_train, y_train)]
            sides[side].append(time.perf_counter() - start)
            scores[side].append(averaged_score(models, X_test, y_test))
    print(f"\n{problem.__name__} (median of {args.repeats})")
    print(f"  {'side':<32} {'fit s':>7} {'score':>7}")
    for side in sides:
        print(f"  {side:<32} {statistics.median(sides[side]):7.2f} {statistics.median(scores[side]):7.3f}")
    separate, graph = statistics.median(sides["three separate fits, averaged"]), statistics.median(
        sides["ensemble_size=3, one graph"]
    )
    print(f"  one graph / three separate fits: time {graph / separate:.2f}x")


print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
run(digits)
run(social_media)
