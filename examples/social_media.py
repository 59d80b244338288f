"""Age (regression), income group (10 classes) and gender (binary) from one network.

The "social media" model: a shared 200-100-75-50 trunk with light dropout and three heads
whose losses are weighted 0.25 / 1 / 10. Data: `make_social_media`, generated with a known
signal (age from features 0-1, income from 2, 3 and 0, gender from 4-5; the rest is noise).

Run: python examples/social_media.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultihead import MultiOutputNNClassifier, head_scorer
from skmultihead.datasets import make_social_media

X, Y = make_social_media(n_samples=3000, random_state=0)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.25, random_state=0)

est = MultiOutputNNClassifier(
    hidden_layer_sizes=(200, 100, 75, 50),
    dropout=0.02,
    loss_weights={"age": 0.25, "income": 1.0, "gender": 10.0},
    epochs=50,
    random_state=0,
)
est.fit(X_train, Y_train)
print("heads:", {name: head.kind_ for name, head in est.heads_.items()})
print("held-out scores (R² for age, accuracy otherwise):")
for name, score in est.score_heads(X_test, Y_test).items():
    print(f"  {name:<8}{score:.3f}")
print(f"score (mean over heads): {est.score(X_test, Y_test):.3f}")
last = {k: round(v[-1], 3) for k, v in est.history_.items()}
print("last epoch of history_:", last)
print("\npredictions:\n", est.predict(X_test.head(5)).to_string())

# Does the heavy weight on gender help gender, and what does it cost income?
search = GridSearchCV(
    make_pipeline(StandardScaler(), est.set_params(epochs=30)),
    {"multioutputnnclassifier__loss_weights__gender": [1.0, 10.0]},
    scoring={"gender": head_scorer("gender", "accuracy"), "income": head_scorer("income", "accuracy")},
    refit="gender",
    cv=3,
)
search.fit(X_train, Y_train)
print("\nGridSearchCV over loss_weights__gender (3-fold CV accuracy):")
for weight, g, i in zip(
    search.cv_results_["param_multioutputnnclassifier__loss_weights__gender"],
    search.cv_results_["mean_test_gender"],
    search.cv_results_["mean_test_income"],
):
    print(f"  gender weight {weight:>4}: gender {g:.3f}  income {i:.3f}")
print("best:", search.best_params_)
