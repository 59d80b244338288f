"""scikit-learn's common estimator checks on every estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultihead import MultiOutputNNClassifier

# Fast settings for the common checks: a small trunk and a few epochs.
FAST = dict(hidden_layer_sizes=(8,), epochs=2, random_state=0)

EXPECTED_FAILED = {
    "check_estimator_tags_renamed": (
        "scikeras's BaseWrapper, a base class, still defines the pre-1.6 `_more_tags`; "
        "our estimators declare `__sklearn_tags__`, which is what scikit-learn reads"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "minibatch training: a weight scales a row's loss within its batch, while repeating "
        "the row changes the batches themselves, so the two fits differ"
    ),
}


@parametrize_with_checks(
    [MultiOutputNNClassifier(**FAST)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
