"""Palmer penguins: body mass with a 90% interval, beside species and sex, from one network.

One MultiOutputNNClassifier with three heads: species (multiclass), sex (binary) and
body_mass_g as ``Head("regression", distribution="normal")``, which learns a mean and a
standard deviation for each bird. The 90% interval is mean ± 1.645 std, in grams. Every bird
gets its interval from a network that did not see it (5-fold cross-validation), so the share
of birds inside their interval (the coverage) can be checked against 90%. The nine birds of
unknown sex train the species and body-mass heads (``missing_targets="mask"``).

The network stops early (``early_stopping=True``: 10% of each fold's training birds held out,
the best epoch kept): trained for a fixed 100 epochs, as in examples/penguins_demo.py, its
standard deviations fit the training birds too closely and the 90% intervals cover about
81% of held-out birds (benchmarks/uncertainty.py and its figures in benchmarks/README.md).

Then the same with ``ensemble_size=5``: five networks in one graph whose Gaussians make a
mixture; its standard deviation adds the members' disagreement to the noise each learned.

Writes a plot of the intervals against the true body masses to
examples/output/penguins_intervals.png (examples/output/ is ignored by git).

Run: python examples/penguins_intervals.py [--quick]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from palmerpenguins import load_penguins
from sklearn.compose import make_column_transformer
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultihead import Head, MultiOutputNNClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="5 epochs, no early stopping (a smoke test)")
parser.add_argument("--output", type=pathlib.Path,
                    default=pathlib.Path(__file__).parent / "output" / "penguins_intervals.png")
args = parser.parse_args()

Z90 = 1.645  # the standard normal's 95th percentile: mean ± Z90 std holds 90%
features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]
penguins = load_penguins().dropna(subset=features).reset_index(drop=True)  # 9 birds of unknown sex stay
X, Y = penguins[features], penguins[["species", "sex", "body_mass_g"]]
training = dict(epochs=5) if args.quick else dict(epochs=500, early_stopping=True, n_iter_no_change=10)


def network(ensemble_size=1):
    preprocess = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["island"]), remainder=StandardScaler(),
        verbose_feature_names_out=False,
    )
    heads = {"body_mass_g": Head("regression", distribution="normal")}  # species and sex: inferred
    return make_pipeline(preprocess, MultiOutputNNClassifier(
        heads, hidden_layer_sizes=(32,), batch_size=32, optimizer__learning_rate=0.01, missing_targets="mask",
        ensemble_size=ensemble_size, random_state=0, **training,
    ))


# each bird's prediction from the fold that held it out
out = pd.DataFrame(index=penguins.index, columns=["species_pred", "sex_pred", "mean", "std"])
for train, test in KFold(5, shuffle=True, random_state=0).split(X):
    model = network().fit(X.iloc[train], Y.iloc[train])
    predicted = model.predict(X.iloc[test])                       # species, sex and the mean body mass
    Xt = model[:-1].transform(X.iloc[test])                       # the network's own input
    mean, std = model[-1].predict_heads(Xt, return_std=True)["body_mass_g"]
    view_mean, view_std = model[-1].head_estimator("body_mass_g").predict(Xt, return_std=True)  # the same
    assert np.allclose(view_std, std) and np.allclose(mean, predicted["body_mass_g"])
    out.iloc[test] = np.column_stack([predicted["species"], predicted["sex"], mean, std])

mean, std = out["mean"].to_numpy(float), out["std"].to_numpy(float)
low, high = mean - Z90 * std, mean + Z90 * std
truth = Y["body_mass_g"].to_numpy()
inside = (truth >= low) & (truth <= high)
epochs = "5 epochs (--quick)" if args.quick else "early stopping"
print(f"{len(X)} penguins, 5-fold CV, {epochs}: each bird predicted by the network that did not see it\n")
print(f"90% interval of body mass: covers {inside.mean():.1%} of the birds; "
      f"mean width {np.mean(high - low):.0f} g (from {np.min(high - low):.0f} to {np.max(high - low):.0f} g)")
print(f"mean absolute error of the mean: {np.mean(np.abs(truth - mean)):.0f} g; "
      f"species accuracy {np.mean(out['species_pred'] == Y['species']):.3f}; "
      f"sex accuracy {np.mean((out['sex_pred'] == Y['sex'])[Y['sex'].notna()]):.3f} (birds of known sex)")

# a deep ensemble: 5 networks in one graph, each on its own loss; their Gaussians make a mixture,
# whose standard deviation adds the members' disagreement to their noise
ensemble = np.empty((len(X), 2))
for train, test in KFold(5, shuffle=True, random_state=0).split(X):
    model = network(ensemble_size=5).fit(X.iloc[train], Y.iloc[train])
    ensemble[test] = np.column_stack(model[-1].predict_heads(model[:-1].transform(X.iloc[test]),
                                                             return_std=True)["body_mass_g"])
half_width = Z90 * ensemble[:, 1]
print(f"the same, ensemble_size=5 (a deep ensemble in one network): covers "
      f"{np.mean(np.abs(truth - ensemble[:, 0]) <= half_width):.1%}; mean width {np.mean(2 * half_width):.0f} g; "
      f"mean absolute error {np.mean(np.abs(truth - ensemble[:, 0])):.0f} g")

by_group = pd.DataFrame({"species": Y["species"], "sex": Y["sex"].fillna("unknown"), "inside": inside,
                         "width": high - low})
print("\nBy species and sex (each bird has its own width; here averaged):")
summary = by_group.groupby(["species", "sex"]).agg(birds=("inside", "size"), coverage=("inside", "mean"),
                                                   mean_width_g=("width", "mean"))
print(summary.assign(coverage=summary["coverage"].round(3), mean_width_g=summary["mean_width_g"].round().astype(int))
      .to_string())

rows = pd.DataFrame({
    "species": Y["species"], "sex": Y["sex"], "predicted species": out["species_pred"],
    "predicted sex": out["sex_pred"], "body mass": truth.astype(int), "mean": mean.round().astype(int),
    "90% low": low.round().astype(int), "90% high": high.round().astype(int), "inside": inside,
})
print("\nA few birds:")
print(rows.iloc[[0, 1, 3, 160, 161, 300, 301]].to_string())
print("\nThe birds of unknown sex:")
print(rows[Y["sex"].isna()].drop(columns="sex").to_string())

args.output.parent.mkdir(parents=True, exist_ok=True)
order = np.argsort(mean)
fig, ax = plt.subplots(figsize=(10, 4.5))
colors = {"Adelie": "tab:orange", "Chinstrap": "tab:purple", "Gentoo": "tab:cyan"}
for species, color in colors.items():
    at = np.flatnonzero((Y["species"].to_numpy()[order] == species))
    ax.vlines(at, low[order][at], high[order][at], color=color, alpha=0.5, linewidth=1.5,
              label=f"{species}: 90% interval")
ax.scatter(np.flatnonzero(inside[order]), truth[order][inside[order]], s=6, color="black", label="true mass, inside")
ax.scatter(np.flatnonzero(~inside[order]), truth[order][~inside[order]], s=14, color="red", marker="x",
           label="true mass, outside")
ax.set(xlabel="penguins, by predicted mean body mass (out of fold)", ylabel="body mass (g)",
       title=f"90% intervals of a Gaussian head: {inside.mean():.1%} of {len(X)} held-out birds inside")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()
fig.savefig(args.output, dpi=120)
print(f"\nwrote {args.output}")
