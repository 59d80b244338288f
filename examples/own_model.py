"""Your own Keras functional model, wrapped as it is, beside the same network built from parameters.

The networks people write by hand in Keras, written here as plain functional code, each
a builder in scikeras's convention (``meta``, ``compile_kwargs`` and ``model__<arg>``
arguments) whose outputs are named after the heads:

1. the "social media" network: two inputs (X's columns grouped by ``inputs=`` into inputs
   named as the builder's ``keras.Input``s), a shared dense trunk, and three heads: age
   (regression), income (10 classes) and gender (binary);
2. the same kind of network with a token input: a headline's token ids through an
   Embedding, five side features through a dense layer, two heads (clicked, topic);
3. seventeen one-unit sigmoid outputs, one per label (named by the label), off one MLP,
   wrapped in `MultiLabelNN`.

Each is cross-validated (3 folds, per-head scores from `head_scorer`) beside the
estimator's own network built from parameters (``hidden_layer_sizes=...``). Last, a
`GridSearchCV` over a builder argument (``model__units``) and a head's loss weight
(``loss_weights__gender``). Data: `make_social_media`, `make_headlines` and
`make_tagged_items`, generated with a known signal.

Run: python examples/own_model.py [--epochs N] [--quick]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse

import keras
import numpy as np
from sklearn.compose import make_column_transformer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultihead import DenseBranch, EmbeddingBranch, MultiLabelNN, MultiOutputNNClassifier, head_scorer
from skmultihead.datasets import make_headlines, make_social_media, make_tagged_items

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--quick", action="store_true", help="small data and 2 epochs (a smoke test)")
args = parser.parse_args()
epochs = 2 if args.quick else args.epochs
n_samples = 300 if args.quick else 2000
training = dict(epochs=epochs, batch_size=64, random_state=0)
cv = KFold(3, shuffle=True, random_state=0)


def report(title, columns, scores):
    """A small table: one row per model, the mean of each score over the folds."""
    print(f"\n{title}")
    print(f"  {'model':<22}" + "".join(f"{name:>14}" for name in columns) + f"{'fit s':>8}")
    for model, result in scores.items():
        means = "".join(f"{result[f'test_{key}'].mean():14.3f}" for key in columns.values())
        print(f"  {model:<22}{means}{result['fit_time'].mean():8.1f}")


# -- 1. social media: two inputs, a dense trunk, three heads ----------------------------------
X, Y = make_social_media(n_samples, random_state=0)
profile, activity = list(X.columns[:10]), list(X.columns[10:])


def social_media(meta, compile_kwargs, units=64):
    """Plain Keras: an input per group of columns, a shared trunk, one output per head."""
    heads = meta["heads"]
    x_profile = keras.Input((len(profile),), name="profile")
    x_activity = keras.Input((len(activity),), name="activity")
    hidden = keras.layers.Concatenate()([
        keras.layers.Dense(units, activation="relu")(x_profile),
        keras.layers.Dense(units // 2, activation="relu")(x_activity),
    ])
    hidden = keras.layers.Dense(units, activation="relu")(hidden)
    hidden = keras.layers.Dense(units // 2, activation="relu")(hidden)
    outputs = {
        "age": keras.layers.Dense(1, name="age")(hidden),
        "income": keras.layers.Dense(heads["income"]["n_outputs"], activation="softmax", name="income")(hidden),
        "gender": keras.layers.Dense(1, activation="sigmoid", name="gender")(hidden),
    }
    return keras.Model([x_profile, x_activity], outputs)  # not compiled: each head gets its kind's loss


scoring = {"age R²": "age", "income acc": "income", "gender acc": "gender"}
scorers = {
    "age": head_scorer("age", "r2"),
    "income": head_scorer("income", "accuracy"),
    "gender": head_scorer("gender", "accuracy"),
}
models = {
    "own Keras model": MultiOutputNNClassifier(
        model=social_media, model__units=64, inputs={"profile": profile, "activity": activity}, **training
    ),
    "from parameters": MultiOutputNNClassifier(hidden_layer_sizes=(64, 32), **training),
}
report(
    f"1. social media ({n_samples} users, 3-fold CV)",
    scoring,
    {name: cross_validate(model, X, Y, cv=cv, scoring=scorers) for name, model in models.items()},
)

# -- 2. a token input: the headline's words and five side features, two heads -----------------
Xh, Yh = make_headlines(n_samples, vocab_size=1000, max_words=20, random_state=0)
tokens, side = [f"tok_{i}" for i in range(20)], ["hour", "weekday", "n_words", "n_links", "n_tags"]


def headlines(meta, compile_kwargs, dim=16, units=32):
    """Plain Keras: token ids (0 is padding) through an Embedding and an average over the
    words; the side features through a Dense layer; joined; two outputs."""
    words = keras.Input((len(tokens),), name="headline")
    extra = keras.Input((len(side),), name="extra")
    embedded = keras.layers.Embedding(1000, dim, mask_zero=True)(words)
    text = keras.layers.GlobalAveragePooling1D()(embedded)
    hidden = keras.layers.Concatenate()([text, keras.layers.Dense(16, activation="relu")(extra)])
    hidden = keras.layers.Dense(units, activation="relu")(hidden)
    outputs = {
        "clicked": keras.layers.Dense(1, activation="sigmoid", name="clicked")(hidden),
        "topic": keras.layers.Dense(meta["heads"]["topic"]["n_outputs"], activation="softmax", name="topic")(hidden),
    }
    model = keras.Model([words, extra], outputs)
    # compiled: its losses, loss weights and metrics are kept; the optimizer is the estimator's
    model.compile(optimizer=compile_kwargs["optimizer"], loss_weights={"clicked": 1.0, "topic": 0.5},
                  loss={"clicked": "binary_crossentropy", "topic": "sparse_categorical_crossentropy"})
    return model


def scaled(network):
    """The side features standardised first; pandas output keeps the column names inputs= names."""
    scale_side = make_column_transformer(
        (StandardScaler(), side), remainder="passthrough", verbose_feature_names_out=False
    ).set_output(transform="pandas")
    return make_pipeline(scale_side, network)


groups = {"headline": tokens, "extra": side}
models = {
    "own Keras model": scaled(MultiOutputNNClassifier(model=headlines, inputs=groups, **training)),
    "from parameters": scaled(MultiOutputNNClassifier(
        inputs=groups,
        branches={"headline": EmbeddingBranch(1000, 16, encoder="pool"), "extra": DenseBranch((16,))},
        hidden_layer_sizes=(32,),
        loss_weights={"topic": 0.5},
        **training,
    )),
}
scoring = {"clicked acc": "clicked", "topic acc": "topic"}
scorers = {"clicked": head_scorer("clicked", "accuracy"), "topic": head_scorer("topic", "accuracy")}
report(
    f"2. headlines with a token input ({n_samples} headlines, 3-fold CV)",
    scoring,
    {name: cross_validate(model, Xh, Yh, cv=cv, scoring=scorers) for name, model in models.items()},
)

# -- 3. seventeen labels: 17 one-unit sigmoid outputs off one MLP ------------------------------
Xt, Yt = make_tagged_items(n_samples, n_features=250, n_labels=17, random_state=0)


def seventeen(meta, compile_kwargs, units=(200, 100, 75, 50)):
    """Plain Keras: an MLP and one sigmoid unit per label, each output named by its label."""
    inputs = keras.Input((meta["n_features_in_"],), name="features")
    hidden = inputs
    for size in units:
        hidden = keras.layers.Dense(size, activation="relu")(hidden)
    labels = meta["heads"]["labels"]["classes"]
    return keras.Model(inputs, [keras.layers.Dense(1, activation="sigmoid", name=str(label))(hidden)
                                for label in labels])


models = {
    "own Keras model": MultiLabelNN(model=seventeen, **training),
    "from parameters": MultiLabelNN(hidden_layer_sizes=(200, 100, 75, 50), head_layout="separate", **training),
}
scoring = {"micro-F1": "f1_micro", "macro-F1": "f1_macro"}
report(
    f"3. seventeen labels ({n_samples} items, 250 features, 3-fold CV)",
    scoring,
    {name: cross_validate(model, Xt, Yt, cv=cv, scoring=list(scoring.values())) for name, model in models.items()},
)

# -- a builder argument and a head's loss weight in GridSearchCV ------------------------------
search = GridSearchCV(
    MultiOutputNNClassifier(model=social_media, inputs={"profile": profile, "activity": activity}, **training),
    {"model__units": [16, 64], "loss_weights__gender": [1.0, 10.0]},
    scoring={"gender": head_scorer("gender", "accuracy"), "income": head_scorer("income", "accuracy")},
    refit="gender",
    cv=cv,
)
search.fit(X, Y)
print("\nGridSearchCV over model__units and loss_weights__gender (social media, 3-fold CV):")
print(f"  {'units':>5} {'gender weight':>13} {'gender acc':>10} {'income acc':>10}")
results = search.cv_results_
for i, params in enumerate(results["params"]):
    print(f"  {params['model__units']:>5} {params['loss_weights__gender']:>13} "
          f"{results['mean_test_gender'][i]:10.3f} {results['mean_test_income'][i]:10.3f}")
print("best:", search.best_params_)
best = search.best_estimator_
print("best network's outputs:", sorted(best.model_.output_names), "| history_ keys:", sorted(best.history_)[:4], "...")
