"""The first fit of an architecture in a new process: what a fresh script, or each worker of
GridSearchCV(n_jobs=...), pays before the network pool can help.

Each figure comes from its own new Python process (imports not counted): the 3-head
MultiOutputNNClassifier (trunk (100,)) on 2,000 x 20 rows, 3 epochs, batch 200, fitted
once, then a second fit of the same architecture (the pool's network). On TensorFlow it
runs again with ``jit_compile=False`` (each epoch a graph, not compiled by XLA). Both
TensorFlow and JAX then run twice more with their persistent compilation cache
(TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=DIR; JAX_COMPILATION_CACHE_DIR): once to
fill an empty cache directory, once reading it, as a later process would.

Run: python benchmarks/first_fit.py [--repeats 3]   (uses the current KERAS_BACKEND)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile

CHILD = """
import json, os, time, warnings
warnings.simplefilter("ignore")
jit_compile = {"auto": "auto", "False": False}[os.environ.get("JIT_COMPILE", "auto")]
import keras  # skmultihead loads Keras at the first fit: imports are not counted
from skmultihead import MultiOutputNNClassifier
from skmultihead.datasets import make_social_media
X, Y = make_social_media(2000, n_features=20, random_state=0)
times = []
for _ in range(2):
    start = time.perf_counter()
    MultiOutputNNClassifier(hidden_layer_sizes=(100,), epochs=3, batch_size=200, random_state=0,
                            jit_compile=jit_compile).fit(X, Y)
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def child(**env):
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()
backend = os.environ.get("KERAS_BACKEND", "tensorflow")
print(f"{platform.node()} ({os.cpu_count()} cores), backend {backend}; median of {args.repeats} new processes")


def report(label, runs):
    first, second = (statistics.median(run[i] for run in runs) for i in (0, 1))
    print(f"  {label:<44} first fit {first:.3f} s, second fit {second:.3f} s")


report("new process", [child() for _ in range(args.repeats)])
if backend == "tensorflow":
    report("new process, jit_compile=False (no XLA)", [child(JIT_COMPILE="False") for _ in range(args.repeats)])
if backend in ("tensorflow", "jax"):
    cold, warm = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(TF_XLA_FLAGS=f"--tf_xla_persistent_cache_directory={cache}") if backend == "tensorflow" else dict(
                JAX_COMPILATION_CACHE_DIR=cache,
                JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
            )
            cold.append(child(**env))
            warm.append(child(**env))
    report("persistent cache, empty (filled by this run)", cold)
    report("persistent cache, filled by an earlier run", warm)
