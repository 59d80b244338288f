"""What skmultihead takes from scikeras is public, or checked here so a change shows; and
what importing the package or predicting with a fitted estimator imports."""

import inspect
import pathlib
import re
import subprocess
import sys

import keras
from scikeras.wrappers import BaseWrapper

import skmultihead
from skmultihead import MultiOutputNNClassifier

PACKAGE = pathlib.Path(skmultihead.__file__).parent
FRAMEWORKS = ("keras", "tensorflow", "jax", "torch", "scikeras")


def test_no_private_scikeras_module_is_imported():
    imports = [
        line.strip()
        for path in PACKAGE.glob("*.py")
        for line in path.read_text().splitlines()
        if re.match(r"\s*(from|import) scikeras\.", line)
    ]
    assert imports == ["from scikeras.wrappers import BaseWrapper"]


def test_scikeras_builds_the_routed_callbacks():
    # MultiHeadBase._initialize_callbacks runs BaseWrapper's on the estimator: it reads
    # get_params() and sets _fit_callbacks
    source = inspect.getsource(BaseWrapper._initialize_callbacks)
    assert "self.get_params()" in source and "self._fit_callbacks" in source
    est = MultiOutputNNClassifier(callbacks=[keras.callbacks.EarlyStopping], callbacks__patience=3)
    est._initialize_callbacks()
    (callback,) = est._fit_callbacks
    assert isinstance(callback, keras.callbacks.EarlyStopping) and callback.patience == 3


def test_importing_the_package_imports_no_framework():
    code = (
        "import sys, skmultihead\n"
        "from skmultihead import MultiOutputNNClassifier, MultiLabelNN, FactoredLabelNN, HistoryDisplay\n"
        "from skmultihead import model_selection, datasets\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
