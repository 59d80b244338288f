"""Palmer penguins: train once, save, and serve from a process without TensorFlow.

The demo's network (three heads: species, sex, body_mass_g) is trained here, with
TensorFlow, then kept two ways:

- ``est.save("penguins.skmh")``: the network alone, one file of JSON and plain arrays
  (no pickle; loading runs no code from the file). The preprocessing, plain scikit-learn,
  goes to ``preprocess.skops`` with skops;
- ``skops.io.dump(pipeline, "penguins.skops")``: the whole Pipeline; skops asks to trust
  only skmultihead's own types.

A second Python process, in which Keras, TensorFlow, JAX, PyTorch and scikeras cannot be
imported, loads each and predicts new penguins with numpy alone; its predictions are the
trained process's. Data: the palmerpenguins package.

Run: python examples/serve_penguins.py [folder, default examples/output/penguins_served] [--epochs N]
(examples/output/ is ignored by git)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import json
import pathlib
import subprocess
import sys
import textwrap

import skops.io as sio
from palmerpenguins import load_penguins
from sklearn.compose import make_column_transformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultihead import MultiOutputNNClassifier

parser = argparse.ArgumentParser()
parser.add_argument("folder", nargs="?", default=pathlib.Path(__file__).parent / "output" / "penguins_served")
parser.add_argument("--epochs", type=int, default=100)
args = parser.parse_args()
folder = pathlib.Path(args.folder)
folder.mkdir(parents=True, exist_ok=True)

penguins = load_penguins().dropna()
X = penguins[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]]
Y = penguins[["species", "sex", "body_mass_g"]]
X_train, X_new, Y_train, Y_new = train_test_split(X, Y, test_size=5, random_state=0)

# -- the training process (TensorFlow) ------------------------------------------------------------
preprocess = make_column_transformer(
    (OneHotEncoder(), ["island"]), remainder=StandardScaler(), verbose_feature_names_out=False
)
net = MultiOutputNNClassifier(
    hidden_layer_sizes=(32,), epochs=args.epochs, batch_size=32, optimizer__learning_rate=0.01, random_state=0
)
pipeline = make_pipeline(preprocess, net).fit(X_train, Y_train)
net.save(folder / "penguins.skmh")
sio.dump(preprocess, folder / "preprocess.skops")
sio.dump(pipeline, folder / "penguins.skops")
X_new.to_json(folder / "new_penguins.json", orient="records")
trusted = sorted(set(sio.get_untrusted_types(file=folder / "penguins.skops")))  # reviewed here, then named
trusted_preprocess = sorted(set(sio.get_untrusted_types(file=folder / "preprocess.skops")))
print(f"saved: penguins.skmh ({(folder / 'penguins.skmh').stat().st_size / 1024:.1f} KiB), "
      f"preprocess.skops, penguins.skops (types to trust: {trusted})")
expected = pipeline.predict(X_new)

# -- the serving process: no deep-learning framework can be imported -----------------------------
SERVE = textwrap.dedent(f"""
    import sys

    class NoFrameworks:  # any import of these fails in this process
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("keras", "tensorflow", "jax", "jaxlib", "torch", "scikeras"):
                raise ImportError(name + " is not available here")

    sys.meta_path.insert(0, NoFrameworks())

    import json, time
    start = time.perf_counter()
    import pandas as pd
    import skops.io as sio
    import skmultihead

    folder = {str(folder)!r}
    new = pd.read_json(folder + "/new_penguins.json", orient="records")
    net = skmultihead.load(folder + "/penguins.skmh")
    preprocess = sio.load(folder + "/preprocess.skops", trusted={trusted_preprocess!r})
    predicted = net.predict(preprocess.transform(new))
    pipeline = sio.load(folder + "/penguins.skops", trusted={trusted!r})
    seconds = time.perf_counter() - start
    print(json.dumps({{
        "save/load": predicted.to_dict("list"),
        "skops pipeline": pipeline.predict(new).to_dict("list"),
        "seconds": seconds,
        "frameworks imported": [m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules],
    }}))
""")
served = subprocess.run([sys.executable, "-c", SERVE], capture_output=True, text=True)
if served.returncode:
    sys.exit(served.stderr)
answer = json.loads(served.stdout.strip().splitlines()[-1])

print(f"\nServed from a process without any framework ({answer['seconds']:.2f} s to import, load and predict; "
      f"frameworks imported: {answer['frameworks imported'] or 'none'}):")
print(expected.assign(**{f"true {c}": Y_new[c].to_numpy() for c in Y_new}).to_string(index=False))
for way in ("save/load", "skops pipeline"):
    same = all(list(expected[c]) == answer[way][c] for c in expected)
    print(f"{way:<16} predictions identical to the training process's: {same}")
    if not same:
        sys.exit(f"{way}: the served predictions differ")
