"""Seventeen binary classifiers at the end of one MLP.

The model people ask for: 250 features, a shared 200-100-75-50 trunk with light dropout,
and one sigmoid classifier per label (17 labels, some rare). Data: `make_tagged_items`,
generated with a known signal (tags depend on a shared hidden representation of 20 of
the 250 features).

Shown: the "dense" layout (one Dense(17, sigmoid) output) and the "separate" layout (17
one-unit sigmoid outputs, each with its own weights), with thresholds fixed at 0.5 and
tuned per label, and one label's classifier taken out of the network as a Keras model.

Run: python examples/seventeen_labels.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import time

import keras
import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from skmultihead import MultiLabelNN
from skmultihead.datasets import make_tagged_items

X, Y = make_tagged_items(n_samples=12000, n_features=250, n_labels=17, random_state=0)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.25, random_state=0)
print(f"{X.shape[0]} items, {X.shape[1]} features, {Y.shape[1]} tags; tag frequencies "
      f"{Y.mean().min():.0%} to {Y.mean().max():.0%}")

trunk = dict(hidden_layer_sizes=(200, 100, 75, 50), dropout=0.02, epochs=20, random_state=0)
print(f"\n{'layout':<10} {'threshold':<10} {'micro-F1':>9} {'macro-F1':>9} {'fit s':>6}")
fitted = {}
for layout in ("dense", "separate"):
    for threshold in (0.5, "auto"):
        clf = MultiLabelNN(head_layout=layout, threshold=threshold, **trunk)
        start = time.perf_counter()
        clf.fit(X_train, Y_train)
        seconds = time.perf_counter() - start
        predicted = clf.predict(X_test)
        micro = f1_score(Y_test, predicted, average="micro")
        macro = f1_score(Y_test, predicted, average="macro")
        print(f"{layout:<10} {threshold!s:<10} {micro:9.3f} {macro:9.3f} {seconds:6.1f}")
        fitted[layout, threshold] = clf

clf = fitted["separate", "auto"]
print("\nseparate layout, last layers of the network:")
print("  " + ", ".join(layer.name for layer in clf.model_.layers[-4:]))
print(f"tuned thresholds: {dict(zip(clf.classes_, np.round(clf.thresholds_, 2).tolist()))}")

# Each label has its own weights: take tag_03's classifier out as a Keras model.
tag_03 = clf.label_model("tag_03")
probability = keras.ops.convert_to_numpy(tag_03({"features": X_test[:5].astype("float32")}))[:, 0].astype(float)
np.testing.assert_allclose(probability, clf.predict_proba(X_test[:5])[:, 3], rtol=1e-5)
print(f"tag_03 alone, first 5 test items: {np.round(probability, 3).tolist()}")
