"""What skmultihead takes from scikeras is public, or checked here so a change shows."""

import inspect
import pathlib
import re

from scikeras.wrappers import BaseWrapper

import skmultihead

PACKAGE = pathlib.Path(skmultihead.__file__).parent


def test_no_private_scikeras_module_is_imported():
    imports = [
        line
        for path in PACKAGE.glob("*.py")
        for line in path.read_text().splitlines()
        if re.match(r"\s*(from|import) scikeras\.", line)
    ]
    assert imports == ["from scikeras.wrappers import BaseWrapper"]


def test_base_wrapper_calls_fit_as_skmultihead_expects():
    # BaseWrapper.fit and partial_fit call self._fit(X, y, sample_weight, warm_start, epochs,
    # initial_epoch, **kwargs), which MultiHeadBase overrides; callbacks come from
    # _initialize_callbacks as self._fit_callbacks
    names = list(inspect.signature(BaseWrapper._fit).parameters)
    assert names == ["self", "X", "y", "sample_weight", "warm_start", "epochs", "initial_epoch", "kwargs"]
    source = inspect.getsource(BaseWrapper.fit) + inspect.getsource(BaseWrapper.partial_fit)
    assert source.count("self._fit(") == 2
    assert "self._fit_callbacks" in inspect.getsource(BaseWrapper._initialize_callbacks)
