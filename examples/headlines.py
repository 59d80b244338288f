"""A headline's tokens beside five side features, a main output and an auxiliary one.

The model people build by hand in Keras's functional API: the headline's token ids go
through an Embedding and an LSTM, five side features through a small dense branch; the
two are joined before the shared dense layers, which feed the main output ("clicked")
and a second head ("topic"). An auxiliary output reads the headline branch alone and
predicts "clicked" too, with loss weight 0.2, so the embedding and LSTM learn from the
clicks directly.

Data: `make_headlines`, generated with a known signal: the topic is only in the words,
clicks depend on "hot" words, the hour and the number of links. Compared on one split:
the full model, the same without the auxiliary output, and the side features alone.
The side features are standardised in a Pipeline (ColumnTransformer with pandas output),
which keeps the column names the inputs refer to.

Run: python examples/headlines.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import time

import keras  # noqa: F401  skmultihead loads Keras at the first fit; loaded here, the timings are the fits' own
from sklearn.compose import make_column_transformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultihead import DenseBranch, EmbeddingBranch, MultiOutputNNClassifier
from skmultihead.datasets import make_headlines

X, Y = make_headlines(6000, vocab_size=1000, max_words=20, random_state=0)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.3, random_state=0)
tokens = [f"tok_{i}" for i in range(20)]
side = ["hour", "weekday", "n_words", "n_links", "n_tags"]
training = dict(hidden_layer_sizes=(64, 64), epochs=15, batch_size=64, random_state=0)


def pipeline(network):
    scale_side = make_column_transformer(
        (StandardScaler(), side), remainder="passthrough", verbose_feature_names_out=False
    ).set_output(transform="pandas")
    return make_pipeline(scale_side, network)


models = {
    "tokens + side, aux 0.2": MultiOutputNNClassifier(
        inputs={"headline": tokens, "extra": side},
        branches={"headline": EmbeddingBranch(1000, 32, encoder="lstm", units=32), "extra": DenseBranch((16,))},
        aux_heads={"headline_only": {"branch": "headline", "target": "clicked", "weight": 0.2}},
        **training,
    ),
    "tokens + side, no aux": MultiOutputNNClassifier(
        inputs={"headline": tokens, "extra": side},
        branches={"headline": EmbeddingBranch(1000, 32, encoder="lstm", units=32), "extra": DenseBranch((16,))},
        **training,
    ),
    "side features only": MultiOutputNNClassifier(inputs={"extra": side}, remainder="drop", **training),
}
print(f"{'model':<24} {'clicked acc':>11} {'topic acc':>9} {'aux acc':>8} {'fit s':>6}")
for name, network in models.items():
    model = pipeline(network)
    start = time.perf_counter()
    model.fit(X_train, Y_train)
    seconds = time.perf_counter() - start
    X_test_scaled = model[:-1].transform(X_test)  # per-head scores are the network's own methods
    scores = network.score_heads(X_test_scaled, Y_test)
    aux = network.score_aux(X_test_scaled, Y_test).get("headline_only", float("nan"))
    print(f"{name:<24} {scores['clicked']:11.3f} {scores['topic']:9.3f} {aux:8.3f} {seconds:6.1f}")

full = models["tokens + side, aux 0.2"]
print("\nhistory_ keys:", sorted(full.history_))
print(f"last epoch: loss {full.history_['loss'][-1]:.3f} = clicked {full.history_['clicked_loss'][-1]:.3f} "
      f"+ topic {full.history_['topic_loss'][-1]:.3f} + 0.2 x aux {full.history_['headline_only_loss'][-1]:.3f}")
full.summary()
