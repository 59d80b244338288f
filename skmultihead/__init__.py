"""Multi-head neural networks as scikit-learn estimators.

Importing the package imports no deep-learning framework (nor scikit-learn): each name
below is imported when first used, and Keras with its backend at the first fit.
"""

import importlib
import os
import sys

# TensorFlow's C++ logging prints lines at start-up and at the first fit that read as failures on a
# machine without a GPU ("E0000 ... failed call to cuInit", CPU-instruction notices). Keep them out
# unless the user chose a level, and only before TensorFlow is imported (it reads the level then).
# TensorFlow's own ERROR lines are hidden with them; TF_CPP_MIN_LOG_LEVEL=0 shows everything.
if "tensorflow" not in sys.modules:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Workers of a parallel search (joblib's loky, Dask) are told their share of the cores by
# OMP_NUM_THREADS, which TensorFlow ignores: each then ran on a pool as large as the machine,
# and two workers on 2 cores trained each fit ~1.6x slower than one. TensorFlow takes the same
# limit for its ops, unless the user set TF_NUM_INTRAOP_THREADS. It reads the variable when it
# runs its first op, not at its import: a Dask worker re-imports the user's script, which may
# import TensorFlow before this package.
if os.environ.get("OMP_NUM_THREADS", "").isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", os.environ["OMP_NUM_THREADS"])

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
