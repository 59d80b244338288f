"""scikeras's routing conventions, kept without its code; and what importing the package
or predicting with a fitted estimator imports."""

import pathlib
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from scikeras.wrappers import KerasClassifier

import skmultihead
from skmultihead import MultiOutputNNClassifier

PACKAGE = pathlib.Path(skmultihead.__file__).parent
FRAMEWORKS = ("keras", "tensorflow", "jax", "torch", "scikeras")


def test_the_package_uses_no_scikeras():
    # scikeras's conventions are the contract (routing, tested below); its code is not used
    imports = [
        line.strip()
        for path in PACKAGE.glob("*.py")
        for line in path.read_text().splitlines()
        if re.match(r"\s*(from|import) scikeras", line)
    ]
    assert imports == []


class Recorder(keras.callbacks.Callback):
    """Keeps the arguments it was built with."""

    built = []

    def __init__(self, a=0, b=0):
        super().__init__()
        Recorder.built.append((a, b))


@pytest.mark.parametrize(
    "routing",
    [
        dict(callbacks=[Recorder], callbacks__a=1),
        dict(callbacks=[Recorder, Recorder], callbacks__a=1, callbacks__1__a=2, callbacks__1__b=3),
        dict(callbacks={"first": Recorder, "second": Recorder}, callbacks__b=4, callbacks__second__a=5),
        dict(callbacks=[Recorder], fit__callbacks=[Recorder], fit__callbacks__0__b=6),
    ],
)
def test_callbacks_are_built_as_scikeras_builds_them(routing):
    def model(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, keras.layers.Dense(meta["n_classes_"], activation="softmax")(inputs))

    X, y = np.random.RandomState(0).normal(size=(20, 3)), np.arange(20) % 2
    Recorder.built.clear()
    KerasClassifier(model, loss="sparse_categorical_crossentropy", epochs=1, verbose=0, **routing).fit(X, y)
    theirs = sorted(Recorder.built)
    Recorder.built.clear()
    MultiOutputNNClassifier(hidden_layer_sizes=(2,), epochs=1, **routing).fit(X, y)
    assert sorted(Recorder.built) == theirs and theirs


def test_importing_the_package_imports_no_framework():
    code = (
        "import sys, skmultihead\n"
        "from skmultihead import MultiOutputNNClassifier, MultiLabelNN, FactoredLabelNN, HistoryDisplay\n"
        "from skmultihead import model_selection, datasets\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
