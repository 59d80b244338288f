"""Yeast gene functions: 14 labels per gene, a real multilabel dataset (shipped in river).

2,417 genes, 103 expression/phylogenetic features, each gene annotated with any of 14
functional classes (4.2 per gene on average). Compared on one stratified train/test split:

- scikit-learn's MLPClassifier (native multilabel: one sigmoid output per label);
- scikit-learn's MultiOutputClassifier(MLPClassifier): 14 separate networks;
- MultiLabelNN with thresholds fixed at 0.5 and tuned per label ("auto"), and with
  class_weight="balanced" for the rare classes.

All networks: one hidden layer of 100 units, Adam, the same number of epochs.
Run: python examples/yeast.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import time
import warnings

from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit
import keras  # noqa: F401  skmultihead loads Keras at the first fit; loaded here, the timings are the fits' own
import numpy as np
import pandas as pd
from river.datasets import Yeast
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultihead import MultiLabelNN

rows = list(Yeast())
X = pd.DataFrame([x for x, _ in rows])
Y = pd.DataFrame([y for _, y in rows]).astype(int)
print(f"yeast: {X.shape[0]} genes, {X.shape[1]} features, {Y.shape[1]} labels, "
      f"{Y.sum(axis=1).mean():.1f} labels per gene; rarest label on {Y.mean().min():.1%} of genes")

split = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
train, test = next(split.split(X, Y))
X_train, X_test, Y_train, Y_test = X.iloc[train], X.iloc[test], Y.iloc[train], Y.iloc[test]

EPOCHS = 60
models = {
    "MLPClassifier (native multilabel)": MLPClassifier((100,), max_iter=EPOCHS, random_state=0),
    "MultiOutputClassifier(MLPClassifier)": MultiOutputClassifier(MLPClassifier((100,), max_iter=EPOCHS, random_state=0)),
    "MultiLabelNN, threshold 0.5": MultiLabelNN(hidden_layer_sizes=(100,), epochs=EPOCHS, random_state=0),
    'MultiLabelNN, threshold "auto"': MultiLabelNN(hidden_layer_sizes=(100,), epochs=EPOCHS, threshold="auto", random_state=0),
    'MultiLabelNN, "auto" + balanced': MultiLabelNN(
        hidden_layer_sizes=(100,), epochs=EPOCHS, threshold="auto", class_weight="balanced", random_state=0
    ),
}

print(f"\n{'model':<38} {'micro-F1':>9} {'macro-F1':>9} {'fit s':>7}")
for name, model in models.items():
    pipeline = make_pipeline(StandardScaler(), model)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X_train, Y_train)
    seconds = time.perf_counter() - start
    predicted = np.asarray(pipeline.predict(X_test))
    micro = f1_score(Y_test, predicted, average="micro")
    macro = f1_score(Y_test, predicted, average="macro")
    print(f"{name:<38} {micro:9.3f} {macro:9.3f} {seconds:7.1f}")
    if "auto" in name:
        print(f"{'':<4}tuned thresholds: {np.round(pipeline[-1].thresholds_, 2).tolist()}")
