"""Palmer penguins: species x sex as joint classes, learned as two factors.

The six joint classes ("Adelie-female", ..., "Gentoo-male") are two independent factors.
FactoredLabelNN learns a species head and a sex head and merges them into the joint
distribution; a flat network learns one softmax over the six joint classes.

1. 5-fold cross-validation (stratified on the joint class): joint accuracy and log loss.
2. A joint class held out of training: every "Chinstrap-male" penguin is removed from the
   training rows. The flat softmax cannot predict a class it never saw; the factored
   model can, because "Chinstrap" and "male" were each seen with other partners. It does
   so best when each factor reads its own features (species: island, bill length, flipper;
   sex: bill depth and body mass) without a shared trunk, so that nothing ties "Chinstrap"
   to "female" in the sex head.
3. The factors as the columns of a DataFrame (species, sex): each factor and the joint
   class scored on its own in cross-validation, with head_scorer.

Run: python examples/penguins_factored.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from palmerpenguins import load_penguins
from sklearn.compose import make_column_transformer
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultihead import FactoredLabelNN, MultiOutputNNClassifier, head_scorer

penguins = load_penguins().dropna()
X = penguins[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island"]]
y = (penguins["species"] + "-" + penguins["sex"]).to_numpy()
labels, counts = np.unique(y, return_counts=True)
print(f"{len(X)} penguins, joint classes: {dict(zip(labels.tolist(), counts.tolist()))}\n")

TRUNK = dict(hidden_layer_sizes=(32,), epochs=150, optimizer__learning_rate=0.01, random_state=0)


def pipeline(model):
    scale = make_column_transformer(
        (OneHotEncoder(sparse_output=False), ["island"]), remainder=StandardScaler(), verbose_feature_names_out=False
    )
    return make_pipeline(scale.set_output(transform="pandas"), model)


own_features = {
    "species": ["island_Biscoe", "island_Dream", "island_Torgersen", "bill_length_mm", "flipper_length_mm"],
    "sex": ["bill_depth_mm", "body_mass_g"],
}
models = {
    "FactoredLabelNN, shared trunk": pipeline(FactoredLabelNN("-", factor_names=["species", "sex"], **TRUNK)),
    "FactoredLabelNN, own features": pipeline(
        FactoredLabelNN("-", factor_names=["species", "sex"], factor_features=own_features, shared_trunk=False, **TRUNK)
    ),
    "flat softmax over 6 classes": pipeline(MultiOutputNNClassifier(**TRUNK)),
}
cv = StratifiedKFold(5, shuffle=True, random_state=0)
print(f"{'5-fold CV':<34} {'accuracy':>9} {'log loss':>9}")
for name, model in models.items():
    scores = cross_validate(model, X, y, cv=cv, scoring=["accuracy", "neg_log_loss"])
    print(f"{name:<34} {scores['test_accuracy'].mean():9.3f} {-scores['test_neg_log_loss'].mean():9.3f}")

held_out = "Chinstrap-male"
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
keep = y_train != held_out
print(f"\n{held_out!r} removed from training ({(~keep).sum()} rows); {np.sum(y_test == held_out)} in the test rows")
for name, model in models.items():
    model.fit(X_train[keep], y_train[keep])
    predicted = model.predict(X_test)
    mask = y_test == held_out
    print(f"{name:<34} accuracy on all test rows {np.mean(predicted == y_test):.3f}; "
          f"{held_out} predicted for {np.mean(predicted[mask] == held_out):.0%} of the {held_out} penguins")
factored = models["FactoredLabelNN, own features"][-1]
print(f"\nFactoredLabelNN still lists the held-out class: {held_out in factored.classes_} "
      f"(classes_ = {factored.classes_.tolist()})")

factors = penguins[["species", "sex"]]
scoring = {head: head_scorer(head, "accuracy") for head in ("species", "sex", "joint")}
folds = list(cv.split(X, y))  # stratified on the joint class
scores = cross_validate(pipeline(FactoredLabelNN(**TRUNK)), X, factors, cv=folds, scoring=scoring)
print("\nFactors as DataFrame columns, 5-fold CV accuracy: "
      + ", ".join(f"{head} {scores[f'test_{head}'].mean():.3f}" for head in scoring))
