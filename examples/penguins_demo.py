"""Palmer penguins: species, sex and body mass from one network.

One MultiOutputNNClassifier with three heads (species: multiclass, sex: binary,
body_mass_g: regression) is cross-validated beside a baseline of separate scikit-learn
models, one per target, with the same hidden layer. Data: the palmerpenguins package.

Nine birds were measured but their sex was not recorded. With ``missing_targets="mask"``
the network keeps them: they train the species and body-mass heads, not the sex head, and
each fold scores sex on its held-out birds whose sex is known. The scikit-learn sex model
trains on the birds whose sex is known and is scored on the same held-out birds. At the
end, the network predicts the sex of the nine.

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

features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "island"]
penguins = load_penguins().dropna(subset=features)  # 2 birds without measurements; 9 of unknown sex stay
X = penguins[features]
Y = penguins[["species", "sex", "body_mass_g"]]
unknown_sex = Y["sex"].isna().to_numpy()
print(f"{len(X)} penguins ({unknown_sex.sum()} of unknown sex); features {features}; targets {list(Y.columns)}\n")


def preprocess():
    return make_column_transformer(
        (OneHotEncoder(), ["island"]), remainder=StandardScaler(), verbose_feature_names_out=False
    )


cv = KFold(5, shuffle=True, random_state=0)
folds = list(cv.split(X))
scoring = {
    "species accuracy": ("species", "accuracy"),
    "sex accuracy": ("sex", "accuracy"),
    "body mass R²": ("body_mass_g", "r2"),
    "body mass MAE (g)": ("body_mass_g", "neg_mean_absolute_error"),
}

net = make_pipeline(
    preprocess(),
    MultiOutputNNClassifier(
        hidden_layer_sizes=(32,), epochs=100, batch_size=32, optimizer__learning_rate=0.01, random_state=0,
        missing_targets="mask",  # a bird of unknown sex trains the other two heads
    ),
)
start = time.perf_counter()
multi = cross_validate(net, X, Y, cv=folds, scoring={k: head_scorer(*v) for k, v in scoring.items()})
multi_time = time.perf_counter() - start

baseline, baseline_time = {}, 0.0
for name, (target, metric) in scoring.items():
    mlp = dict(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)
    if target == "body_mass_g":  # standardize the target, as the network's regression head does
        model = TransformedTargetRegressor(MLPRegressor(**mlp), transformer=StandardScaler())
    else:
        model = MLPClassifier(**mlp)
    # the birds that have this target, in the same folds: same held-out birds as the network's scores
    known = Y[target].notna().to_numpy()
    position = np.cumsum(known) - 1
    labeled_folds = [(position[train[known[train]]], position[test[known[test]]]) for train, test in folds]
    start = time.perf_counter()
    result = cross_validate(make_pipeline(preprocess(), model), X[known], Y[target][known], cv=labeled_folds,
                            scoring=metric)
    baseline_time += time.perf_counter() - start
    baseline[name] = result["test_score"]

print(f"{'5-fold CV':<20}{'one network, 3 heads':>24}{'3 separate sklearn MLPs':>26}")
for name in scoring:
    a, b = multi[f"test_{name}"], baseline[name]
    sign = -1 if "MAE" in name else 1
    print(f"{name:<20}{sign * a.mean():>16.3f} ± {a.std():.3f}{sign * b.mean():>18.3f} ± {b.std():.3f}")
print(f"{'fit + score time':<20}{multi_time:>22.1f} s{baseline_time:>24.1f} s")
print(f"(sex is scored on the {(~unknown_sex).sum()} birds whose sex is known; the network also trains on the others)")

final = net.fit(X, Y)
print("\nFirst three penguins, predicted:")
print(final.predict(X.head(3)).to_string())
print("\nSpecies probabilities:", np.round(final.predict_proba(X.head(3))[0], 3).tolist())

network = final[-1]
sex_proba = network.predict_head_proba(final[:-1].transform(X[unknown_sex]))["sex"]
unknown = penguins[unknown_sex][["species", "island", "bill_depth_mm", "body_mass_g"]].assign(
    predicted_sex=final.predict(X[unknown_sex])["sex"].to_numpy(),
    p_male=sex_proba[:, list(network.heads_["sex"].classes_).index("male")].round(2),
)
print(f"\nThe {unknown_sex.sum()} birds of unknown sex, predicted:")
print(unknown.to_string())
