"""Three small CNNs averaged, on scikit-learn's bundled 8x8 digit images.

The trunk is a custom one (`model=`): X's 64 pixel columns reshaped to an image, a
Conv2D, max pooling and a dense layer — layers skmultihead does not offer itself. With
``ensemble_size=3`` the estimator builds three independent copies of that trunk and their
softmax heads in one Keras graph, trains them in one fit and averages their
probabilities. Each member is trained on its own loss (``ensemble_loss="members"``, a
deep ensemble); ``"mean"`` trains the averaged output instead, as a hand-built Keras model
ending in ``Average()`` does. Compared with one member on the same 5-fold
cross-validation; then the
members' spread (`predict_members`) is shown to be larger on the digits the ensemble gets
wrong, which is what it is for.

Run: python examples/digits_ensemble.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import time

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

from skmultihead import MultiOutputNNClassifier


def small_cnn(inputs, filters=8):
    """The custom trunk: the 64 pixels as an 8x8 image through one convolution."""
    x = keras.layers.Reshape((8, 8, 1))(inputs["features"])
    x = keras.layers.Conv2D(filters, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    return keras.layers.Dense(32, activation="relu")(x)


X, y = load_digits(return_X_y=True)
X = X / 16.0
cv = StratifiedKFold(5, shuffle=True, random_state=0)
print(f"{'model':<36} {'5-fold accuracy':>16} {'time s':>7}")
for label, size, loss in [("CNN x 1", 1, "members"), ("CNN x 3, each on its own loss", 3, "members"),
                          ("CNN x 3, on the averaged output", 3, "mean")]:
    cnn = MultiOutputNNClassifier(
        model=small_cnn, ensemble_size=size, ensemble_loss=loss, epochs=15, batch_size=32, random_state=0
    )
    start = time.perf_counter()
    scores = cross_val_score(cnn, X, y, cv=cv)
    print(f"{label:<36} {scores.mean():9.3f} ± {scores.std():.3f} {time.perf_counter() - start:7.1f}")

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
ensemble = MultiOutputNNClassifier(model=small_cnn, ensemble_size=3, epochs=15, batch_size=32, random_state=0)
ensemble.fit(X_train, y_train)
members = ensemble.predict_members(X_test)["output_0"]  # (3, n_test, 10) probabilities
spread = members.std(axis=0)[np.arange(len(y_test)), ensemble.predict(X_test)]
wrong = ensemble.predict(X_test) != y_test
each = [float(np.mean(ensemble.classes_[m.argmax(axis=1)] == y_test)) for m in members]
print(f"\nheld-out accuracy of each member: {np.round(each, 3).tolist()}, "
      f"of their average: {ensemble.score(X_test, y_test):.3f}")
print(f"members' spread (std of the predicted class's probability): {spread[~wrong].mean():.3f} on the "
      f"{(~wrong).sum()} right predictions, {spread[wrong].mean():.3f} on the {wrong.sum()} wrong ones")
