"""Near/far x small/medium/large: six joint classes as two factors with their own features.

Data: `make_distance_size`, generated with a known signal (distance from parallax and haze,
size from width, height and depth, plus noise columns). Compared on the same split:

- FactoredLabelNN with a shared trunk and each factor's own sub-network on its columns;
- a flat network: one softmax over the six joint classes, same trunk (MultiOutputNNClassifier
  on the joint labels).

Then "far-small" is removed from training: the flat softmax can no longer predict it, the
factored model still does.

Run: python examples/distance_size.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from skmultihead import FactoredLabelNN, MultiOutputNNClassifier
from skmultihead.datasets import make_distance_size

X, y = make_distance_size(3000, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
trunk = dict(hidden_layer_sizes=(32, 32), epochs=40, optimizer__learning_rate=0.005, random_state=0)
features = {"distance": ["parallax", "haze"], "size": ["width", "height", "depth"]}


def factored(**kwargs):
    return FactoredLabelNN("-", factor_names=["distance", "size"], factor_features=features, **trunk, **kwargs)


models = {"FactoredLabelNN": factored(), "flat softmax (6 classes)": MultiOutputNNClassifier(**trunk)}
print(f"{'model':<26} {'joint acc':>9} {'log loss':>9}")
for name, model in models.items():
    model.fit(X_train, y_train)
    proba = model.predict_proba(X_test)
    print(f"{name:<26} {accuracy_score(y_test, model.predict(X_test)):9.3f} "
          f"{log_loss(y_test, proba, labels=model.classes_):9.3f}")
clf = models["FactoredLabelNN"]
print(f"accuracy by head (factors and joint): {clf.score_heads(X_test, y_test)}")
print(f"joint classes (row-major): {clf.classes_.tolist()}")
print(f"first test row: { {head: labels[0] for head, labels in clf.predict_heads(X_test[:1]).items()} }, "
      f"joint probabilities {np.round(clf.predict_proba(X_test[:1])[0], 3).tolist()}")

seen = y_train != "far-small"
held_out = y_test == "far-small"
print(f"\n'far-small' removed from training; {held_out.sum()} far-small test rows:")
for name, model in {"FactoredLabelNN, own features only": factored(shared_trunk=False),
                    "flat softmax (5 classes seen)": MultiOutputNNClassifier(**trunk)}.items():
    model.fit(X_train[seen], y_train[seen])
    share = np.mean(model.predict(X_test[held_out]) == "far-small")
    print(f"  {name:<36} predicts far-small for {share:.0%} of them")
