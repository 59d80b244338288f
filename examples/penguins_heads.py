"""Palmer penguins, head by head: one network, then a picture per question about it.

One MultiOutputNNClassifier with three heads (species, sex, body_mass_g) is fitted once
with a validation split; its learning curves per head (training solid, validation dashed)
are drawn with HistoryDisplay and written to a folder. Data: the palmerpenguins package.

Run: python examples/penguins_heads.py [output folder, default penguins_heads] [--epochs N]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")

from palmerpenguins import load_penguins
from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultihead import HistoryDisplay, MultiOutputNNClassifier

parser = argparse.ArgumentParser()
parser.add_argument("folder", nargs="?", default="penguins_heads")
parser.add_argument("--epochs", type=int, default=100)
args = parser.parse_args()
folder = pathlib.Path(args.folder)
folder.mkdir(parents=True, exist_ok=True)

penguins = load_penguins().dropna().sample(frac=1.0, random_state=0)  # validation_split takes the last rows
features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]
X = make_column_transformer(
    (OneHotEncoder(), ["island"]), remainder=StandardScaler(), verbose_feature_names_out=False
).fit_transform(penguins[features])
Y = penguins[["species", "sex", "body_mass_g"]]

est = MultiOutputNNClassifier(hidden_layer_sizes=(32,), epochs=args.epochs, batch_size=32, validation_split=0.25,
                              optimizer__learning_rate=0.01, random_state=0).fit(X, Y)
last = {key: round(values[-1], 3) for key, values in est.history_.items() if key.startswith("val_")}
print(f"{len(X)} penguins, {args.epochs} epochs; last validation figures: {last}")

display = HistoryDisplay.from_estimator(est)
display.figure_.suptitle("Palmer penguins: one network, three heads")
display.figure_.tight_layout()
path = folder / "learning_curves.png"
display.figure_.savefig(path, dpi=80)
print(f"learning curves of {sorted({head for head, _ in display.curves_})} -> {path}")
