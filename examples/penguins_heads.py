"""Palmer penguins, head by head: one network, then scikit-learn's tools on each head.

One MultiOutputNNClassifier with three heads (species, sex, body_mass_g) is fitted once on
the training penguins (with a validation split for its learning curves). Each head is then
handed to scikit-learn as a fitted estimator of its own (``head_estimator``): the ROC curve
of ``sex``, the confusion matrix of ``species``, the prediction errors of ``body_mass_g``,
a calibrated ``sex`` head and a tuned ``sex`` threshold, all on held-out penguins; and
out-of-fold predictions of every head (``skmultihead.model_selection.cross_val_predict``).
Pictures are written to a folder. Data: the palmerpenguins package.

Run: python examples/penguins_heads.py [output folder, default examples/output/penguins_heads] [--epochs N]
(examples/output/ is ignored by git)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from palmerpenguins import load_penguins
from sklearn.calibration import CalibratedClassifierCV, CalibrationDisplay
from sklearn.compose import make_column_transformer
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import ConfusionMatrixDisplay, PredictionErrorDisplay, RocCurveDisplay, balanced_accuracy_score
from sklearn.model_selection import KFold, TunedThresholdClassifierCV, train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultihead import HistoryDisplay, MultiOutputNNClassifier
from skmultihead.model_selection import cross_val_predict

parser = argparse.ArgumentParser()
parser.add_argument("folder", nargs="?", default=pathlib.Path(__file__).parent / "output" / "penguins_heads")
parser.add_argument("--epochs", type=int, default=100)
args = parser.parse_args()
folder = pathlib.Path(args.folder)
folder.mkdir(parents=True, exist_ok=True)

penguins = load_penguins().dropna().sample(frac=1.0, random_state=0)  # validation_split takes the last rows
features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]
X = make_column_transformer(
    (OneHotEncoder(sparse_output=False), ["island"]), remainder=StandardScaler(), verbose_feature_names_out=False
).set_output(transform="pandas").fit_transform(penguins[features])
Y = penguins[["species", "sex", "body_mass_g"]].set_index(X.index)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.3, random_state=0)

net = MultiOutputNNClassifier(hidden_layer_sizes=(32,), epochs=args.epochs, batch_size=32, validation_split=0.25,
                              optimizer__learning_rate=0.01, random_state=0)
est = net.fit(X_train, Y_train)
print(f"{len(X_train)} training and {len(X_test)} held-out penguins, {args.epochs} epochs")
print(f"held-out score by head: { {h: round(s, 3) for h, s in est.score_heads(X_test, Y_test).items()} }")


def save(display_or_figure, name, title):
    figure = getattr(display_or_figure, "figure_", display_or_figure)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(folder / name, dpi=80)
    plt.close(figure)
    return folder / name


written = []
display = HistoryDisplay.from_estimator(est)
written.append(save(display, "learning_curves.png", "Palmer penguins: one network, three heads"))

sex, species, mass = (est.head_estimator(h) for h in ("sex", "species", "body_mass_g"))
roc = RocCurveDisplay.from_estimator(sex, X_test, Y_test["sex"], name="sex head")
written.append(save(roc, "sex_roc.png", f"sex head: ROC AUC {roc.roc_auc:.3f} on held-out penguins"))
matrix = ConfusionMatrixDisplay.from_estimator(species, X_test, Y_test["species"])
written.append(save(matrix, "species_confusion.png", "species head: held-out confusion matrix"))
errors = PredictionErrorDisplay.from_estimator(mass, X_test, Y_test["body_mass_g"], kind="actual_vs_predicted")
written.append(save(errors, "body_mass_errors.png", "body_mass_g head: predicted vs actual (g)"))

# the sex head calibrated on the held-out half of the test penguins, judged on the other half
X_cal, X_eval, Y_cal, Y_eval = train_test_split(X_test, Y_test, test_size=0.5, random_state=0)
calibrated = CalibratedClassifierCV(FrozenEstimator(sex), method="sigmoid").fit(X_cal, Y_cal["sex"])
figure, ax = plt.subplots()
CalibrationDisplay.from_estimator(sex, X_eval, Y_eval["sex"], n_bins=5, name="sex head", ax=ax)
CalibrationDisplay.from_estimator(calibrated, X_eval, Y_eval["sex"], n_bins=5, name="calibrated", ax=ax)
written.append(save(figure, "sex_calibration.png", "sex head before and after calibration"))

tuned = TunedThresholdClassifierCV(FrozenEstimator(sex), scoring="balanced_accuracy", cv="prefit",
                                   refit=False).fit(X_cal, Y_cal["sex"])
print(f"sex threshold tuned for balanced accuracy on {len(X_cal)} penguins: {tuned.best_threshold_:.3f}; "
      "balanced accuracy on the other held-out penguins "
      f"{balanced_accuracy_score(Y_eval['sex'], sex.predict(X_eval)):.3f} at 0.5, "
      f"{balanced_accuracy_score(Y_eval['sex'], tuned.predict(X_eval)):.3f} tuned")

out_of_fold = cross_val_predict(net.set_params(validation_split=0.0), X, Y, cv=KFold(5, shuffle=True, random_state=0))
right = {h: float((out_of_fold[h] == Y[h]).mean()) for h in ("species", "sex")}
print(f"out-of-fold predictions ({type(out_of_fold).__name__}, columns {list(out_of_fold.columns)}): accuracy "
      f"{ {h: round(a, 3) for h, a in right.items()} }, body mass MAE "
      f"{(out_of_fold['body_mass_g'] - Y['body_mass_g']).abs().mean():.0f} g")
print("pictures:", ", ".join(str(path) for path in written))
