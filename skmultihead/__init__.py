"""Multi-head neural networks as scikit-learn estimators.

Importing the package imports no deep-learning framework (nor scikit-learn): each name
below is imported when first used, and Keras with its backend at the first fit.
"""

import importlib

_EXPORTS = {
    "DenseBranch": "._branches",
    "EmbeddingBranch": "._branches",
    "FactoredLabelNN": "._factored",
    "HEAD_KINDS": "._heads",
    "Head": "._heads",
    "HeadClassifier": "._views",
    "HeadRegressor": "._views",
    "HeadScorer": "._scoring",
    "HistoryDisplay": "._display",
    "MultiLabelNN": "._multilabel",
    "MultiOutputNNClassifier": "._multioutput",
    "UnsafeFileError": "._persistence",
    "head_scorer": "._scoring",
    "load": "._persistence",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'skmultihead' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
