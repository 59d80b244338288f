"""Missing targets: a head labeled on few rows, trained beside a fully labeled head.

1. Synthetic. 50 features x ~ N(0, 1); three hidden factors z = x @ W (W random, each z
   standardized) turned into three features f = (z0, |z1| - 0.8, z2^2 - 1) (rescaled).
   Head "a", labeled on every row: 4 classes, the argmax of (f + noise, 0), so the network
   must carry each of f0, f1, f2 to predict it. Head "b", labeled on 5%, 20% or 50% of the
   training rows: binary, sign(f0 - f1 + f2 + noise) — the same features, combined
   differently. 4,000 training / 2,000 held-out rows, fresh data, W and labeled rows for
   each seed. Scored: accuracy of "b" on the held-out rows, for
     - masked: MultiOutputNNClassifier(missing_targets="mask") on all training rows (the
       trunk learns f from "a" on every row);
     - complete rows: the same estimator on the rows that have both labels only;
     - complete rows, same steps: the same, with as many gradient steps as the masked fit
       (epochs x all rows / complete rows), in case the first is short of training;
     - MLPClassifier: scikit-learn's MLP, same hidden layers, on the rows labeled for "b".
2. Palmer penguins with their real missing sex labels (9 birds with features but no sex;
   the 2 birds without any measurement are left out): species, sex and body mass from bill
   length and depth, flipper length and island, as in `examples/penguins_demo.py`. Repeated
   5-fold CV over the 342 birds: the masked network on all training rows against the same
   network on the complete training rows; every score on the same held-out rows (sex on
   those whose sex is known). Then again with the sex of 90% of the training birds hidden
   at random (the held-out birds keep theirs): sex known for 18 to 34 training birds.

Run: python benchmarks/partial_labels.py [--seeds 5] [--epochs 100] [--repeats 3]
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
from sklearn.compose import make_column_transformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import RepeatedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultihead import MultiOutputNNClassifier, head_scorer

parser = argparse.ArgumentParser()
parser.add_argument("--seeds", type=int, default=5)
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--train", type=int, default=4000)
parser.add_argument("--test", type=int, default=2000)
parser.add_argument("--repeats", type=int, default=3, help="repeats of the penguins' 5-fold CV")
args = parser.parse_args()
warnings.simplefilter("ignore", ConvergenceWarning)

FRACTIONS = (0.05, 0.2, 0.5)
N_FEATURES = 50
HIDDEN = (64, 16)


def make_data(seed, n_samples):
    rng = np.random.RandomState(seed)
    W = rng.normal(size=(N_FEATURES, 3))
    X = rng.normal(size=(n_samples, N_FEATURES))
    z = X @ W
    z /= z.std(axis=0)
    f = np.column_stack([z[:, 0], 1.6 * (np.abs(z[:, 1]) - 0.8), (z[:, 2] ** 2 - 1) / 1.4])
    a = np.column_stack([f + 0.2 * rng.normal(size=f.shape), np.zeros(n_samples)]).argmax(axis=1)
    b = f @ [1.0, -1.0, 1.0] + 0.3 * rng.normal(size=n_samples) > 0
    return X.astype("float32"), np.array(["a0", "a1", "a2", "a3"], dtype=object)[a], np.where(b, "yes", "no")


def summary(values):
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def better_worse(masked, only):
    masked, only = np.asarray(masked), np.asarray(only)
    return f"{(masked > only).sum()} / {(masked < only).sum()}"


def synthetic():
    sides = ["masked, all rows", "complete rows", "complete rows, same steps", "MLPClassifier"]
    scores = {(frac, side): [] for frac in FRACTIONS for side in sides}
    seconds = {side: 0.0 for side in sides}
    head_a = []
    for seed in range(args.seeds):
        n = args.train
        X, a, b = make_data(seed, args.train + args.test)
        X_train, X_test, a_train, b_train, b_test = X[:n], X[n:], a[:n], b[:n], b[n:]
        order = np.random.RandomState(1000 + seed).permutation(args.train)  # 5% of rows ⊂ 20% ⊂ 50%
        for frac in FRACTIONS:
            labeled = np.zeros(args.train, dtype=bool)
            labeled[order[: int(frac * args.train)]] = True
            Y = pd.DataFrame({"a": a_train, "b": np.where(labeled, b_train, None)})
            params = dict(hidden_layer_sizes=HIDDEN, epochs=args.epochs, random_state=seed)
            fits = {
                "masked, all rows": lambda: MultiOutputNNClassifier(**params, missing_targets="mask").fit(X_train, Y),
                "complete rows": lambda: MultiOutputNNClassifier(**params).fit(X_train[labeled], Y[labeled]),
                "complete rows, same steps": lambda: MultiOutputNNClassifier(
                    **dict(params, epochs=round(args.epochs * args.train / labeled.sum()))
                ).fit(X_train[labeled], Y[labeled]),
                "MLPClassifier": lambda: MLPClassifier(HIDDEN, max_iter=2000, random_state=seed).fit(
                    X_train[labeled], b_train[labeled]
                ),
            }
            for side, fit in fits.items():
                start = time.perf_counter()
                model = fit()
                seconds[side] += time.perf_counter() - start
                predicted = model.predict(X_test)
                if side == "MLPClassifier":
                    scores[frac, side].append(accuracy_score(b_test, predicted))
                    continue
                scores[frac, side].append(accuracy_score(b_test, predicted["b"]))
                if side == "masked, all rows" and frac == FRACTIONS[0]:
                    head_a.append(accuracy_score(a[n:], predicted["a"]))

    print(f"\n1. synthetic: held-out accuracy of head 'b' (mean ± std over {args.seeds} seeds; {args.train:,} training"
          f" / {args.test:,} held-out rows, {N_FEATURES} features, trunk {HIDDEN}, {args.epochs} epochs)")
    print(f"  {'b labeled on':<13}" + "".join(f"{side:>28}" for side in sides) + f"{'better / worse':>16}")
    for frac in FRACTIONS:
        print(f"  {f'{frac:.0%} ({int(frac * args.train):,})':<13}"
              + "".join(f"{summary(scores[frac, side]):>28}" for side in sides)
              + f"{better_worse(scores[frac, sides[0]], scores[frac, sides[1]]):>16}")
    print("  fit time, all fits of a side: " + ", ".join(f"{side} {s:.1f} s" for side, s in seconds.items()))
    print(f"  head 'a' (4 classes, every row labeled), masked fit at 5%: held-out accuracy {summary(head_a)}")
    print("  better / worse: seeds where the masked network beats / trails the complete-rows fit (same epochs)")


def penguins():
    from palmerpenguins import load_penguins

    data = load_penguins()
    features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]
    data = data[data[features].notna().all(axis=1)].reset_index(drop=True)
    X, Y = data[features], data[["species", "sex", "body_mass_g"]]
    complete = Y.notna().all(axis=1).to_numpy()

    def network(**params):
        preprocess = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["island"]),  # 18-34 training birds may miss an island
            remainder=StandardScaler(),
            verbose_feature_names_out=False,
        )
        params = dict(dict(hidden_layer_sizes=(32,), epochs=100, batch_size=32, optimizer__learning_rate=0.01,
                           random_state=0), **params)
        return make_pipeline(preprocess, MultiOutputNNClassifier(**params))

    scorers = {
        "sex accuracy": head_scorer("sex", "accuracy"),
        "species accuracy": head_scorer("species", "accuracy"),
        "body mass R²": head_scorer("body_mass_g", "r2"),
    }
    cv = RepeatedKFold(n_splits=5, n_repeats=args.repeats, random_state=0)
    print(f"\n2. penguins: {len(X)} birds, {(~complete).sum()} without sex; {args.repeats} x 5-fold CV "
          f"(mean ± std over {5 * args.repeats} held-out folds; sex scored on the held-out birds whose sex is known)")
    names = ("masked, all rows", "complete rows", "complete, same steps")
    print(f"  {'sex known for':<34}{'score':<18}" + "".join(f"{side:>22}" for side in names)
          + f"{'masked - complete':>20}{'better / worse':>16}")
    for hidden in (0.0, 0.9):
        sides = {side: [] for side in names}
        for i, (train, test) in enumerate(cv.split(X)):
            Y_train = Y.iloc[train].copy()
            if hidden:  # hide the sex of a share of the training birds (never of the held-out ones)
                hide = np.random.RandomState(i).rand(len(train)) < hidden
                Y_train.loc[hide, "sex"] = None
            has_all = Y_train.notna().all(axis=1).to_numpy()
            fits = {
                "masked, all rows": (network(missing_targets="mask"), X.iloc[train], Y_train),
                "complete rows": (network(), X.iloc[train][has_all], Y_train[has_all]),
                "complete, same steps": (network(epochs=round(100 * len(train) / has_all.sum())),
                                         X.iloc[train][has_all], Y_train[has_all]),
            }
            for side, (model, X_fit, Y_fit) in fits.items():
                model.fit(X_fit, Y_fit)
                sides[side].append({name: score(model, X.iloc[test], Y.iloc[test]) for name, score in scorers.items()})
        setting = "every bird whose sex is recorded" if not hidden else f"{1 - hidden:.0%} of those (hidden at random)"
        for name in scorers:
            masked, only, steps = (np.array([s[name] for s in sides[side]]) for side in names)
            print(f"  {setting if name == 'sex accuracy' else '':<34}{name:<18}{summary(masked):>22}{summary(only):>22}"
                  f"{summary(steps):>22}{summary(masked - only):>20}{better_worse(masked, only):>16}")


print(f"{platform.node()} ({os.cpu_count()} cores), keras {keras.__version__}, backend {keras.backend.backend()}")
start = time.perf_counter()
synthetic()
penguins()
print(f"\ntotal {time.perf_counter() - start:.0f} s")
