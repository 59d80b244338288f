"""Palmer penguins: species, sex and body mass from one network.

One MultiOutputNNClassifier with three heads (species: multiclass, sex: binary,
body_mass_g: regression) is cross-validated beside a baseline of separate scikit-learn
models, one per target, with the same hidden layer. Data: the palmerpenguins package.

Run: python examples/penguins_demo.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import time

import keras  # noqa: F401  skmultihead loads Keras at the first fit; loaded here, the timings are the fits' own
import numpy as np
from palmerpenguins import load_penguins
from sklearn.compose import TransformedTargetRegressor, make_column_transformer
from sklearn.model_selection import KFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultihead import MultiOutputNNClassifier, head_scorer

penguins = load_penguins().dropna()
features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]
X = penguins[features]
Y = penguins[["species", "sex", "body_mass_g"]]
print(f"{len(X)} penguins; features {features}; targets {list(Y.columns)}\n")


def preprocess():
    return make_column_transformer(
        (OneHotEncoder(), ["island"]), remainder=StandardScaler(), verbose_feature_names_out=False
    )


cv = KFold(5, shuffle=True, random_state=0)
scoring = {
    "species accuracy": ("species", "accuracy"),
    "sex accuracy": ("sex", "accuracy"),
    "body mass R²": ("body_mass_g", "r2"),
    "body mass MAE (g)": ("body_mass_g", "neg_mean_absolute_error"),
}

net = make_pipeline(
    preprocess(),
    MultiOutputNNClassifier(
        hidden_layer_sizes=(32,), epochs=100, batch_size=32, optimizer__learning_rate=0.01, random_state=0
    ),
)
start = time.perf_counter()
multi = cross_validate(net, X, Y, cv=cv, scoring={k: head_scorer(*v) for k, v in scoring.items()})
multi_time = time.perf_counter() - start

baseline, baseline_time = {}, 0.0
for name, (target, metric) in scoring.items():
    mlp = dict(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)
    if target == "body_mass_g":  # standardize the target, as the network's regression head does
        model = TransformedTargetRegressor(MLPRegressor(**mlp), transformer=StandardScaler())
    else:
        model = MLPClassifier(**mlp)
    start = time.perf_counter()
    result = cross_validate(make_pipeline(preprocess(), model), X, Y[target], cv=cv, scoring=metric)
    baseline_time += time.perf_counter() - start
    baseline[name] = result["test_score"]

print(f"{'5-fold CV':<20}{'one network, 3 heads':>24}{'3 separate sklearn MLPs':>26}")
for name in scoring:
    a, b = multi[f"test_{name}"], baseline[name]
    sign = -1 if "MAE" in name else 1
    print(f"{name:<20}{sign * a.mean():>16.3f} ± {a.std():.3f}{sign * b.mean():>18.3f} ± {b.std():.3f}")
print(f"{'fit + score time':<20}{multi_time:>22.1f} s{baseline_time:>24.1f} s")

final = net.fit(X, Y)
print("\nFirst three penguins, predicted:")
print(final.predict(X.head(3)).to_string())
print("\nSpecies probabilities:", np.round(final.predict_proba(X.head(3))[0], 3).tolist())
