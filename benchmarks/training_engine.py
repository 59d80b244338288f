"""The training loop against scikit-learn's MLPClassifier, side by side in one run.

1. Warm fits: the 3-head MultiOutputNNClassifier (age, income, gender; trunk (32,)) on
   2,000 x 20 rows, batch 32 and "auto", 1 / 3 / 10 epochs, the network already in the pool
   (each fit is a new estimator, as in a grid search), against MLPClassifier((32,)) with the
   same batch size and epochs on the income target. Target: ratio <= 1.0.
2. Cost per extra epoch: (10-epoch fit - 1-epoch fit) / 9, both sides. Target: ratio <= 1.0
   on TensorFlow, <= 0.5 on JAX.
3. Refit of the same estimator, three times. Target: = a warm fit.

On TensorFlow every figure is also given for ``jit_compile=False`` (each epoch a graph, not
an XLA program), measured alongside.

Run: python benchmarks/training_engine.py [--repeats 5]
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
from sklearn.neural_network import MLPClassifier

from skmultihead import MultiOutputNNClassifier
from skmultihead.datasets import make_social_media

parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()
warnings.simplefilter("ignore", ConvergenceWarning)

X, Y = make_social_media(2000, n_features=20, random_state=0)


def seconds(fit):
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ours(batch_size, epochs, jit_compile="auto"):
    return lambda: MultiOutputNNClassifier(hidden_layer_sizes=(32,), batch_size=batch_size, epochs=epochs,
                                           random_state=0, jit_compile=jit_compile).fit(X, Y)


def mlp(batch_size, epochs):
    return lambda: MLPClassifier((32,), batch_size=batch_size, max_iter=epochs, random_state=0).fit(X, Y["income"])


tensorflow = keras.backend.backend() == "tensorflow"
graph = " (jit_compile=False: {:.3f} s, {:.2f})" if tensorflow else ""
print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
for batch_size in (32, "auto"):
    for jit_compile in ("auto", False)[: 1 + tensorflow]:
        ours(batch_size, 1, jit_compile)()  # the first fit of the architecture compiles; later ones reuse it

print(f"\n1. warm fit, 2,000 x 20, 3 heads, (32,), median of {args.repeats} (target: ratio <= 1.0)")
table = {}
for batch_size in (32, "auto"):
    for epochs in (1, 3, 10):
        a, b = seconds(ours(batch_size, epochs)), seconds(mlp(batch_size, epochs))
        c = seconds(ours(batch_size, epochs, False)) if tensorflow else None
        table[batch_size, epochs] = a, b, c
        print(f"   batch {batch_size!s:>4}, {epochs:2d} epochs: {a:.3f} s vs MLPClassifier {b:.3f} s, "
              f"ratio {a / b:.2f} ({'met' if a <= b else 'NOT met'})" + graph.format(c or 0, (c or 0) / b))

target = 1.0 if tensorflow else 0.5
print(f"\n2. cost per extra epoch, (10 epochs - 1 epoch) / 9 (target: ratio <= {target})")
for batch_size in (32, "auto"):
    (a10, b10, c10), (a1, b1, c1) = table[batch_size, 10], table[batch_size, 1]
    a, b = (a10 - a1) / 9, (b10 - b1) / 9
    c = (c10 - c1) / 9 if tensorflow else 0
    print(f"   batch {batch_size!s:>4}: {1000 * a:.1f} ms vs MLPClassifier {1000 * b:.1f} ms, ratio {a / b:.2f} "
          f"({'met' if a <= target * b else 'NOT met'})" + graph.format(c, c / b).replace(" s,", " s per epoch,"))

print("\n3. refit of the same estimator, batch 32, 3 epochs (target: = warm fit)")
est = MultiOutputNNClassifier(hidden_layer_sizes=(32,), batch_size=32, epochs=3, random_state=0)
refits = []
for _ in range(3):
    start = time.perf_counter()
    est.fit(X, Y)
    refits.append(time.perf_counter() - start)
print(f"   1st, 2nd, 3rd: {', '.join(f'{t:.3f}' for t in refits)} s; warm fit {table[32, 3][0]:.3f} s")
