"""Multi-head neural networks as scikit-learn estimators."""

from ._branches import DenseBranch, EmbeddingBranch
from ._display import HistoryDisplay
from ._factored import FactoredLabelNN
from ._heads import HEAD_KINDS, Head
from ._multilabel import MultiLabelNN
from ._multioutput import MultiOutputNNClassifier
from ._scoring import HeadScorer, head_scorer
from ._views import HeadClassifier, HeadRegressor

__all__ = [
    "DenseBranch",
    "EmbeddingBranch",
    "FactoredLabelNN",
    "HEAD_KINDS",
    "Head",
    "HeadClassifier",
    "HeadRegressor",
    "HeadScorer",
    "HistoryDisplay",
    "MultiLabelNN",
    "MultiOutputNNClassifier",
    "head_scorer",
]
__version__ = "0.1.0"
