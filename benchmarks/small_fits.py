"""Small fits, many of them: fixed cost per fit, and memory and time across 30 fits.

1. Fixed cost of a fit on small data: the 3-head MultiOutputNNClassifier (age, income,
   gender; trunk (100,)) on 2,000 x 20 rows, 3 epochs, batch 200. The cost of the steps
   themselves is measured as the extra time of 3 more epochs (a 6-epoch fit minus a 3-epoch
   fit); fixed cost = (3-epoch fit) - (steps of 3 epochs). Target: <= 0.3 s. Beside it, the
   whole fit of scikit-learn's MLPClassifier (same hidden layer, same rows, 3 epochs), and
   the first fit of an architecture (the network pool emptied first), which traces the
   train step.
2. A grid search's worth of fits in one process: 30 successive fits of new estimators,
   process memory (RSS) and fit time after each. Target: RSS grows <= 0.5 MiB per fit after
   the first 5, and fit time does not drift up.

Run: python benchmarks/small_fits.py [--fits 30] [--repeats 5]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import gc
import platform
import statistics
import time
import warnings

import keras
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skmultihead import MultiOutputNNClassifier
from skmultihead._pool import POOL
from skmultihead.datasets import make_social_media

parser = argparse.ArgumentParser()
parser.add_argument("--fits", type=int, default=30)
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()
warnings.simplefilter("ignore", ConvergenceWarning)

X, Y = make_social_media(2000, n_features=20, random_state=0)


def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


def fit_seconds(epochs, seed):
    start = time.perf_counter()
    MultiOutputNNClassifier(hidden_layer_sizes=(100,), epochs=epochs, batch_size=200, random_state=seed).fit(X, Y)
    return time.perf_counter() - start


def mlp_seconds():
    start = time.perf_counter()
    MLPClassifier((100,), max_iter=3, batch_size=200, random_state=0).fit(X, Y["income"])
    return time.perf_counter() - start


print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
fit_seconds(3, 0)  # import and first-call costs are not a fit's
three, six, mlp, first = [], [], [], []
for r in range(args.repeats):
    three.append(fit_seconds(3, r))
    six.append(fit_seconds(6, r))
    mlp.append(mlp_seconds())
    POOL.clear()
    first.append(fit_seconds(3, r))
t3, t6, tm = statistics.median(three), statistics.median(six), statistics.median(mlp)
steps = t6 - t3
fixed = t3 - steps
print(f"\n1. small fit, 2,000 x 20, 3 heads, 3 epochs (median of {args.repeats})")
print(f"   whole fit {t3:.3f} s; steps of 3 epochs {steps:.3f} s; fixed cost {fixed:.3f} s "
      f"(target <= 0.3 s: {'met' if fixed <= 0.3 else 'NOT met'})")
print(f"   MLPClassifier, same rows and hidden layer, 3 epochs: {tm:.3f} s; ratio {t3 / tm:.1f}x")
print(f"   first fit of the architecture (no network to reuse): {statistics.median(first):.3f} s")

print(f"\n2. {args.fits} successive fits (3 epochs each) in one process")
rss, times = [], []
for i in range(args.fits):
    times.append(fit_seconds(3, i))
    gc.collect()
    rss.append(rss_mib())
growth = (rss[-1] - rss[4]) / (len(rss) - 5)
print(f"   RSS after fit 1, 5, {args.fits}: {rss[0]:.1f}, {rss[4]:.1f}, {rss[-1]:.1f} MiB; "
      f"growth after the first 5: {growth:.2f} MiB per fit (target <= 0.5: {'met' if growth <= 0.5 else 'NOT met'})")
first, last = statistics.mean(times[:5]), statistics.mean(times[-5:])
print(f"   fit time, mean of the first 5 / last 5 fits: {first:.3f} / {last:.3f} s (drift {last / first:.2f}x)")
