"""Light deployment: import time, load + first prediction in a fresh process, file size.

Figures (issue 16's targets), each measured in new Python processes (median of --repeats),
time counted inside the process from before the first import (the interpreter's own start,
~0.02 s, not counted), peak memory as the process's peak resident set size (VmHWM):

- ``import skmultihead``: target <= 0.3 s and <= 120 MB;
- ``skmultihead.load`` + the first ``predict_proba`` of the penguins demo's network (its
  MultiOutputNNClassifier, fitted on the demo's preprocessed features as in
  examples/penguins_demo.py), in a process where Keras, TensorFlow, JAX, PyTorch and
  scikeras cannot be imported: target <= 0.5 s and <= 150 MB; beside it, the floor any
  scikit-learn estimator pays (``import sklearn.base``) and skops loading the demo's whole
  Pipeline;
- the saved file's size / the bytes of the network's weights, for the 17-label MultiLabelNN
  of multilabel_fit.py (250-200-100-75-50): target <= 1.2 (without the optimizer's state;
  with it for comparison).

Run: python benchmarks/persistence.py [--repeats 5]
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
import warnings

parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()

BLOCK = """
import sys
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("keras", "tensorflow", "jax", "jaxlib", "torch", "scikeras"):
            raise ImportError(name + " is blocked")
sys.meta_path.insert(0, Blocked())
"""
MEASURE = """
import json, sys, time
start = time.perf_counter()
{work}
seconds = time.perf_counter() - start
frameworks = sorted(m for m in ("keras", "tensorflow", "jax", "torch", "scikeras") if m in sys.modules)
with open("/proc/self/status") as status:  # peak resident memory of this process (ru_maxrss outlives exec)
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps([seconds, peak / 1024, frameworks]))
"""


def fresh(work, block=True):
    """Median seconds and MB of ``work`` over fresh processes, and the frameworks it imported."""
    code = (BLOCK if block else "") + MEASURE.format(work=work)
    runs = []
    for _ in range(args.repeats):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[-1][2]


def penguins_files(folder):
    import numpy as np
    import skops.io as sio
    from palmerpenguins import load_penguins
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skmultihead import MultiOutputNNClassifier

    penguins = load_penguins().dropna()
    X = penguins[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]]
    Y = penguins[["species", "sex", "body_mass_g"]]
    preprocess = make_column_transformer(
        (OneHotEncoder(), ["island"]), remainder=StandardScaler(), verbose_feature_names_out=False
    )
    net = MultiOutputNNClassifier(
        hidden_layer_sizes=(32,), epochs=100, batch_size=32, optimizer__learning_rate=0.01, random_state=0
    )
    pipeline = make_pipeline(preprocess, net).fit(X, Y)
    net.save(os.path.join(folder, "penguins.skmh"))
    np.save(os.path.join(folder, "rows.npy"), preprocess.transform(X.head(5)).astype("float64"))
    X.head(5).to_pickle(os.path.join(folder, "rows.pkl"))
    sio.dump(pipeline, os.path.join(folder, "penguins.skops"))
    return sio.get_untrusted_types(file=os.path.join(folder, "penguins.skops"))


def seventeen_labels(folder):
    from skmultihead import MultiLabelNN
    from skmultihead.datasets import make_tagged_items

    X, Y = make_tagged_items(2000, n_features=250, n_labels=17, random_state=0)
    est = MultiLabelNN(hidden_layer_sizes=(200, 100, 75, 50), epochs=1, batch_size=200, random_state=0).fit(X, Y)
    weights = sum(w.nbytes for w in est.model_.get_weights())
    sizes = {}
    for optimizer in (False, True):
        path = os.path.join(folder, f"labels_{optimizer}.skmh")
        est.save(path, include_optimizer=optimizer)
        sizes[optimizer] = os.path.getsize(path)
    return weights, sizes


def main():
    warnings.simplefilter("ignore")
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs; median of {args.repeats} fresh processes")
    with tempfile.TemporaryDirectory() as folder:
        untrusted = penguins_files(folder)
        weights, sizes = seventeen_labels(folder)
        skmh, rows = os.path.join(folder, "penguins.skmh"), os.path.join(folder, "rows.npy")
        figures = [
            ("python -c pass", "pass", None),
            ("import skmultihead", "import skmultihead", (0.3, 120)),
            ("import sklearn.base (floor of any estimator)", "import sklearn.base", None),
            (
                "load + first predict_proba (penguins)",
                f"import numpy, skmultihead\nest = skmultihead.load({skmh!r})\nest.predict_proba(numpy.load({rows!r}))",
                (0.5, 150),
            ),
            (
                "skops: load Pipeline + predict_proba",
                "import pandas, skops.io as sio\n"
                f"p = sio.load({os.path.join(folder, 'penguins.skops')!r}, trusted={untrusted!r})\n"
                f"p.predict_proba(pandas.read_pickle({os.path.join(folder, 'rows.pkl')!r}))",
                None,
            ),
        ]
        print(f"\n{'fresh process':<46}{'seconds':>9}{'MB':>8}   {'target':<28}frameworks imported")
        for name, work, target in figures:
            seconds, mb, frameworks = fresh(work)
            goal = "" if target is None else f"<= {target[0]} s, {target[1]} MB"
            met = "" if target is None else ("  met" if seconds <= target[0] and mb <= target[1] else "  NOT met")
            print(f"{name:<46}{seconds:>9.3f}{mb:>8.0f}   {goal + met:<28}{frameworks or 'none'}")
        print(f"\n17-label MultiLabelNN: weights {weights / 1e6:.3f} MB")
        for optimizer, size in sizes.items():
            label = "with optimizer state" if optimizer else "saved file (default)"
            target = "" if optimizer else f"   target <= 1.2: {'met' if size / weights <= 1.2 else 'NOT met'}"
            print(f"  {label:<24}{size / 1e6:>8.3f} MB   ratio {size / weights:.3f}{target}")


if __name__ == "__main__":
    main()
