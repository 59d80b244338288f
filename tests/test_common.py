"""scikit-learn's common estimator checks on every estimator."""

import keras
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultihead import FactoredLabelNN, MultiLabelNN, MultiOutputNNClassifier



@keras.saving.register_keras_serializable(package="skmultihead_tests")  # pickled with the model
class FastAdam(keras.optimizers.Adam):
    """Adam with a learning rate that fits the checks' small problems in a few epochs
    (a class, not routed ``optimizer__learning_rate``, which the checks would count as an
    attribute set in __init__)."""

    def __init__(self, learning_rate=0.02, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)


# Fast settings for the common checks: a small trunk and a few epochs; classifiers must
# also reach the checks' accuracy on blobs.
FAST = dict(hidden_layer_sizes=(8,), epochs=2, random_state=0)
FAST_CLASSIFIER = dict(hidden_layer_sizes=(16,), epochs=10, batch_size=32, optimizer=FastAdam, random_state=0)

EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "minibatch training: a weight scales a row's loss within its batch, while repeating "
        "the row changes the batches themselves, so the two fits differ"
    ),
}


@pytest.mark.backend
@parametrize_with_checks(
    [MultiOutputNNClassifier(**FAST), MultiLabelNN(**FAST_CLASSIFIER), FactoredLabelNN(**FAST_CLASSIFIER)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
