"""Intervals from regression heads: Gaussian heads against the usual baselines, held-out rows.

Every method gives, for each held-out row, the quantiles 0.05, 0.1, 0.25, 0.5, 0.75, 0.9 and
0.95 of the target; the 50%, 80% and 90% intervals are (0.25, 0.75), (0.1, 0.9), (0.05, 0.95).
Scored on held-out rows: each interval's coverage (share of rows inside) and mean width, the
Gaussian negative log-likelihood (in the target's units; methods that give a mean and a
standard deviation) and the pinball losses at 0.05, 0.5 and 0.95.

Methods:
  - Gaussian head: ``Head("regression", distribution="normal")`` of a MultiOutputNNClassifier;
    quantiles mean + z * std. Four fits: the problem's plain settings ((a): trunk (32,), 60
    epochs, learning rate 0.01, as in tests/test_uncertainty.py; (b): the demo's (32,), batch
    32, 100 epochs, learning rate 0.01; the other networks use them too); the same with
    ``early_stopping=True`` (10% of the training rows held out, patience 10, best epoch
    kept); the same with ``dropout=0.1``.
  - constant spread: the network of the plain settings with a plain regression head; its
    residuals on the training rows give the quantiles (mean + the residuals' quantile: one
    width for every row) and a standard deviation (for the NLL). "constant width at that
    coverage" (under each Gaussian row) is the same mean with, for each level, the narrowest
    constant width that covers as many held-out rows as that Gaussian head's interval did: a
    width chosen on the held-out rows themselves, the strictest constant-width rival at
    equal coverage.
  - GaussianProcessRegressor (synthetic problem only): RBF (one length scale per feature)
    plus WhiteKernel, normalize_y; ``predict(X, return_std=True)`` (the white noise included).
  - HistGradientBoostingRegressor(loss="quantile"), one model per quantile.
  - quantile head (``Head("quantile", quantiles=...)``), when this version of skmultihead has
    it: its predicted quantiles (see `quantile_head`).

Problems:
  (a) heteroscedastic synthetic: 5 features x ~ U(-1, 1); y = f(x) + sigma(x) e with
      f(x) = 3 x0 + 2 sin(2 x1) + x2^2, e ~ N(0, 1), sigma(x) = 0.1 + |x0| (0.1 to 1.1; x3
      and x4 are noise); 1,000 training and 2,000 held-out rows, fresh data for each seed.
      Also scored: the true conditional distribution (f(x) +- z sigma(x)), the 90% coverage
      on the held-out thirds of lowest and highest sigma(x), and the plain Gaussian head
      trained on 4,000 rows (the same held-out rows).
  (b) Palmer penguins: body mass beside species and sex in one network (bill length and
      depth, flipper length, island; the 9 birds of unknown sex kept with
      ``missing_targets="mask"``, as in examples/penguins_demo.py); repeated 5-fold CV over
      the 342 measured birds.

Figures are means over the seeds (a) or held-out folds (b). The GP and gradient-boosting fits
run on one thread (threadpoolctl): on a 2-core machine their OpenMP / BLAS threads beside
TensorFlow's made them several times slower.

Run: python benchmarks/uncertainty.py [--seeds 5] [--repeats 3] [--no-quantile]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import platform
import time
import warnings

import keras
import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.metrics import mean_pinball_loss
from sklearn.model_selection import RepeatedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from skmultihead import Head, MultiOutputNNClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--seeds", type=int, default=5, help="synthetic problem: fresh data per seed")
parser.add_argument("--train", type=int, default=1000, help="synthetic training rows (the GP's cost: keep <= 1,000)")
parser.add_argument("--more-train", type=int, default=4000, help="rows of the extra Gaussian-head fit (0: none)")
parser.add_argument("--test", type=int, default=2000)
parser.add_argument("--repeats", type=int, default=3, help="repeats of the penguins' 5-fold CV")
parser.add_argument("--no-quantile", action="store_true", help="leave the quantile head out even if it is there")
args = parser.parse_args()
warnings.simplefilter("ignore", ConvergenceWarning)

LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
INTERVALS = {0.5: (0.25, 0.75), 0.8: (0.1, 0.9), 0.9: (0.05, 0.95)}
PINBALL = (0.05, 0.5, 0.95)
# each problem's plain settings (all its networks'), and what each Gaussian-head variant changes
SYNTHETIC = dict(hidden_layer_sizes=(32,), epochs=60, optimizer__learning_rate=0.01)
PENGUINS = dict(hidden_layer_sizes=(32,), epochs=100, batch_size=32, optimizer__learning_rate=0.01)
VARIANTS = {
    "Gaussian head": {},
    "Gaussian head, early stopping": dict(early_stopping=True, n_iter_no_change=10, epochs=500),
    "Gaussian head, dropout 0.1": dict(dropout=0.1),
    "Gaussian head, ensemble of 5": dict(ensemble_size=5),
}
CONSTANT = "constant spread (plain head's residuals)"
AT_COVERAGE = "  constant width at that coverage"
HGB = "HistGradientBoosting, quantile loss (x7)"
TRUTH = "true conditional distribution"


def at_label(name):
    """The row of the constant spread at the coverage of row ``name``."""
    short = {TRUTH: "around the true f", "Gaussian head": "plain"}.get(name, name.split(", ")[-1])
    return f"{AT_COVERAGE} [{short}]"


# -- what each method predicts: {quantile: (n,) array}, and (mean, std) where it has them ----
def gaussian_quantiles(mean, std):
    return {q: mean + norm.ppf(q) * std for q in LEVELS}


def constant_quantiles(mean, train_residuals):
    return {q: mean + np.quantile(train_residuals, q) for q in LEVELS}


def hgb_quantiles(X_train, y_train, X_test, seed):
    with threadpool_limits(1):
        return {q: HistGradientBoostingRegressor(loss="quantile", quantile=q, random_state=seed)
                .fit(X_train, y_train).predict(X_test) for q in LEVELS}


# -- the quantile head: its own functions, used only when skmultihead has quantile heads -----
def quantile_head_available():
    """Whether ``Head("quantile", quantiles=LEVELS)`` fits and predicts its quantiles here (it
    was being written beside this script); the reason when not."""
    try:
        X = pd.DataFrame({"x": np.linspace(-1, 1, 40)})
        Y = pd.DataFrame({"y": np.linspace(0, 1, 40)})
        est = MultiOutputNNClassifier({"y": Head("quantile", quantiles=LEVELS)}, hidden_layer_sizes=(2,), epochs=1)
        shape = np.asarray(est.fit(X, Y).predict_heads(X)["y"]).shape
        return (True, "") if shape == (40, len(LEVELS)) else (False, f"predict_heads gave shape {shape}")
    except Exception as error:  # noqa: BLE001  (not there yet, or not with these levels)
        return False, f"{type(error).__name__}: {error}"


def quantile_head(model, X_test, head):
    """``{quantile: (n,) array}`` from a fitted network (or a Pipeline ending in one) whose
    ``head`` is ``Head("quantile", quantiles=LEVELS)``: ``predict_heads`` gives an (n, 7) array
    (a DataFrame with a column per quantile when y was a DataFrame), in LEVELS' order."""
    if hasattr(model, "steps"):
        X_test, model = model[:-1].transform(X_test), model[-1]
    values = np.asarray(model.predict_heads(X_test)[head], dtype=float)
    return {q: values[:, i] for i, q in enumerate(LEVELS)}


# -- scoring -----------------------------------------------------------------------------
def scores(y, quantiles, mean_std=None, sigma=None):
    row = {}
    for level, (lo, hi) in INTERVALS.items():
        row[f"cov {level:.0%}"] = np.mean((y >= quantiles[lo]) & (y <= quantiles[hi]))
        row[f"width {level:.0%}"] = np.mean(quantiles[hi] - quantiles[lo])
    if mean_std is not None:
        mean, std = mean_std
        row["NLL"] = np.mean(0.5 * np.log(2 * np.pi * std**2) + (y - mean) ** 2 / (2 * std**2))
    for q in PINBALL:
        row[f"pinball {q}"] = mean_pinball_loss(y, quantiles[q], alpha=q)
    if sigma is not None:  # 90% coverage on the held-out thirds of lowest and highest noise
        inside = (y >= quantiles[0.05]) & (y <= quantiles[0.95])
        low, high = np.quantile(sigma, [1 / 3, 2 / 3])
        row["90% low σ"], row["90% high σ"] = inside[sigma <= low].mean(), inside[sigma >= high].mean()
    return row


def at_coverage(y, mean, gaussian_row):
    """The narrowest constant-width interval around ``mean`` that covers, on these rows, the
    share a Gaussian head's interval covered; its coverage and width per level."""
    residual = np.abs(y - mean)
    row = {}
    for level in INTERVALS:
        half = np.quantile(residual, gaussian_row[f"cov {level:.0%}"])
        row[f"cov {level:.0%}"], row[f"width {level:.0%}"] = np.mean(residual <= half), 2 * half
    return row


def table(title, rows, seconds, extra=()):
    columns = [f"{k} {level:.0%}" for level in INTERVALS for k in ("cov", "width")] + ["NLL"] + [
        f"pinball {q}" for q in PINBALL] + list(extra)
    print(f"\n{title}")
    print(f"  {'method':<52}" + "".join(f"{c:>13}" for c in columns) + f"{'fit s':>8}")
    for name, runs in rows.items():
        cells = []
        for c in columns:
            values = [run[c] for run in runs if c in run]
            if not values:
                cells.append(f"{'—':>13}")
            else:
                share = c.startswith("cov") or "σ" in c
                cells.append(f"{np.mean(values):>13.3f}" if share else f"{np.mean(values):>13.4g}")
        print(f"  {name:<52}" + "".join(cells) + (f"{seconds[name]:>8.1f}" if name in seconds else ""))
    print(f"  fit s: all fits of a row; each figure the mean over {len(next(iter(rows.values())))} runs")


def timed(seconds, name, fn):
    start = time.perf_counter()
    result = fn()
    seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
    return result


def compare(rows, add, seconds, fit, y_train, y_test, predict_train, predict_test, sigma=None):
    """The Gaussian variants, each followed by the constant spread at its coverage, then the
    constant spread of the plain head: ``fit(name, head, **params)`` fits a network,
    ``predict_*(model, return_std)`` its body-mass / y predictions on training / held-out rows."""
    gaussian, predicted = {}, {}
    for name, params in VARIANTS.items():
        model = timed(seconds, name, lambda: fit(Head("regression", distribution="normal"), **params))
        predicted[name] = mean, std = predict_test(model, True)
        gaussian[name] = scores(y_test, gaussian_quantiles(mean, std), (mean, std), sigma)
        add(name, gaussian[name])
        rows.setdefault(at_label(name), [])
    plain = timed(seconds, CONSTANT, lambda: fit("regression"))
    plain_mean, residuals = predict_test(plain, False), y_train - predict_train(plain)
    add(CONSTANT, scores(y_test, constant_quantiles(plain_mean, residuals),
                         (plain_mean, np.full(len(y_test), residuals.std())), sigma))
    for name in VARIANTS:
        add(at_label(name), at_coverage(y_test, plain_mean, gaussian[name]))
    return predicted


# -- (a) heteroscedastic synthetic ------------------------------------------------------------
def make_synthetic(seed, n):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 5))
    f = 3 * X[:, 0] + 2 * np.sin(2 * X[:, 1]) + X[:, 2] ** 2
    sigma = 0.1 + np.abs(X[:, 0])
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]), f + sigma * rng.normal(size=n), f, sigma


def synthetic(use_quantile):
    rows, seconds, corr = {}, {}, {"Gaussian head": [], "GP": []}
    add = lambda name, row: rows.setdefault(name, []).append(row)  # noqa: E731
    for seed in range(args.seeds):
        n, more = args.train, max(args.train, args.more_train)
        X, y, f, sigma = make_synthetic(seed, more + args.test)
        X_train, X_test, y_train, y_test, s_test = X[:n], X[more:], y[:n], y[more:], sigma[more:]
        Y_train = pd.DataFrame({"y": y_train})
        truth = scores(y_test, gaussian_quantiles(f[more:], s_test), (f[more:], s_test), s_test)
        add(TRUTH, truth)
        add(at_label(TRUTH), at_coverage(y_test, f[more:], truth))  # around the true f(x)

        def fit(head, **params):
            network = MultiOutputNNClassifier({"y": head}, random_state=seed, **{**SYNTHETIC, **params})
            return network.fit(X_train, Y_train)

        def predict_test(model, std):
            return model.predict_heads(X_test, return_std=True)["y"] if std else model.predict(X_test)["y"].to_numpy()

        predicted = compare(rows, add, seconds, fit, y_train, y_test, lambda m: m.predict(X_train)["y"].to_numpy(),
                            predict_test, s_test)
        corr["Gaussian head"].append(np.corrcoef(predicted["Gaussian head"][1], s_test)[0, 1])

        kernel = ConstantKernel() * RBF(length_scale=np.ones(5), length_scale_bounds=(1e-2, 1e3)) + WhiteKernel()
        with threadpool_limits(1):
            gp = timed(seconds, "GaussianProcessRegressor", lambda: GaussianProcessRegressor(
                kernel, normalize_y=True, random_state=seed).fit(X_train, y_train))
            gp_mean, gp_std = gp.predict(X_test, return_std=True)
        add("GaussianProcessRegressor", scores(y_test, gaussian_quantiles(gp_mean, gp_std), (gp_mean, gp_std), s_test))
        corr["GP"].append(np.corrcoef(gp_std, s_test)[0, 1])

        add(HGB, scores(y_test, timed(seconds, HGB, lambda: hgb_quantiles(X_train, y_train, X_test, seed)),
                        sigma=s_test))

        if use_quantile:
            model = timed(seconds, "quantile head", lambda: fit(Head("quantile", quantiles=LEVELS)))
            add("quantile head", scores(y_test, quantile_head(model, X_test, "y"), sigma=s_test))

        if args.more_train > args.train:
            name = f"Gaussian head, {more:,} training rows"
            big = timed(seconds, name, lambda: MultiOutputNNClassifier(
                {"y": Head("regression", distribution="normal")}, random_state=seed, **SYNTHETIC
            ).fit(X[:more], pd.DataFrame({"y": y[:more]})))
            mean, std = big.predict_heads(X_test, return_std=True)["y"]
            add(name, scores(y_test, gaussian_quantiles(mean, std), (mean, std), s_test))

    table(f"(a) heteroscedastic synthetic: {args.seeds} seeds, {args.train:,} training / {args.test:,} held-out rows; "
          f"networks {SYNTHETIC}", rows, seconds, extra=("90% low σ", "90% high σ"))
    print(f"  90% low σ / high σ: coverage of the 90% interval on the held-out third of lowest / highest sigma(x)\n"
          "  correlation of the predicted std with the true sigma(x): Gaussian head "
          f"{np.mean(corr['Gaussian head']):.3f}, GP {np.mean(corr['GP']):.3f}")
    return rows


# -- (b) penguins ------------------------------------------------------------------------------
def penguins(use_quantile):
    from palmerpenguins import load_penguins

    features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]
    data = load_penguins().dropna(subset=features).reset_index(drop=True)  # 9 birds of unknown sex stay
    X, Y = data[features], data[["species", "sex", "body_mass_g"]]

    def preprocess():
        return make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["island"]),
                                       remainder=StandardScaler(), verbose_feature_names_out=False)

    rows, seconds = {}, {}
    add = lambda name, row: rows.setdefault(name, []).append(row)  # noqa: E731
    cv = RepeatedKFold(n_splits=5, n_repeats=args.repeats, random_state=0)
    for i, (train, test) in enumerate(cv.split(X)):
        X_train, X_test, Y_train = X.iloc[train], X.iloc[test], Y.iloc[train]
        y_train, y_test = Y_train["body_mass_g"].to_numpy(), Y["body_mass_g"].iloc[test].to_numpy()

        def fit(head, **params):
            network = MultiOutputNNClassifier({"body_mass_g": head}, missing_targets="mask", random_state=i,
                                              **{**PENGUINS, **params})
            return make_pipeline(preprocess(), network).fit(X_train, Y_train)

        def predict_test(model, std):
            if std:
                return model[-1].predict_heads(model[:-1].transform(X_test), return_std=True)["body_mass_g"]
            return model.predict(X_test)["body_mass_g"].to_numpy()

        compare(rows, add, seconds, fit, y_train, y_test, lambda m: m.predict(X_train)["body_mass_g"].to_numpy(),
                predict_test)
        encoded = preprocess().fit(X_train)
        add(HGB, scores(y_test, timed(seconds, HGB, lambda: hgb_quantiles(
            encoded.transform(X_train), y_train, encoded.transform(X_test), i))))
        if use_quantile:
            model = timed(seconds, "quantile head", lambda: fit(Head("quantile", quantiles=LEVELS)))
            add("quantile head", scores(y_test, quantile_head(model, X_test, "body_mass_g")))

    table(f"(b) penguins body mass (g) beside species and sex: {len(X)} birds, {args.repeats} x 5-fold CV "
          f"({5 * args.repeats} held-out folds); networks {PENGUINS}", rows, seconds)
    return rows


def verdict(a, b):
    print("\nTargets: coverage within ±5 points of nominal on (a) and (b); narrower than the constant spread "
          "at equal coverage on (a)")
    mean = lambda rows, name, column: np.mean([r[column] for r in rows[name]])  # noqa: E731
    for name in (TRUTH, *VARIANTS):
        for problem, rows in (("(a)", a), ("(b)", b)):
            if name not in rows:
                continue
            covers = [mean(rows, name, f"cov {level:.0%}") for level in INTERVALS]
            met = all(abs(c - level) <= 0.05 for c, level in zip(covers, INTERVALS))
            print(f"  {name:<31}{problem} coverage " + " / ".join(f"{c:.3f}" for c in covers)
                  + f": {'met' if met else 'not met'}")
        ratios = [mean(a, name, f"width {level:.0%}") / mean(a, at_label(name), f"width {level:.0%}")
                  for level in INTERVALS]
        wider = [f"{level:.0%}" for level, ratio in zip(INTERVALS, ratios) if ratio >= 1]
        print(f"  {name:<31}(a) width ÷ constant spread's at equal coverage (50 / 80 / 90%) "
              + " / ".join(f"{r:.2f}" for r in ratios)
              + (f": not narrower at {', '.join(wider)}" if wider else ": narrower"))


print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
start = time.perf_counter()
use_quantile, why = (False, "--no-quantile") if args.no_quantile else quantile_head_available()
print("quantile head: " + ("included" if use_quantile else f"left out ({why})"))
a = synthetic(use_quantile)
b = penguins(use_quantile)
verdict(a, b)
print(f"\ntotal {time.perf_counter() - start:.0f} s")
