"""Data larger than memory: train on a Parquet file chunk by chunk with ``partial_fit``.

A Parquet file of social-media users (20 features; targets age, income and gender) is
read in chunks of rows with pyarrow, each chunk trained on with ``partial_fit``, so only a
chunk is ever in memory. What the network must know before its first chunk is read first,
from the target columns alone (small beside the features): every class of ``income`` and
``gender`` (``partial_fit(classes=...)``, as scikit-learn's) and the standardization of
``age`` (``Head("regression", scaling=(mean, std))``).

One pass over the chunks, in order and without shuffling (each chunk a multiple of the batch
size), is one epoch of ``fit`` on the whole file over the same batches: the example checks
that both give the same network.
Then further passes train on, and the held-out scores are printed.

Run: python examples/stream_parquet.py [--rows 200000] [--chunk 20000] [--passes 5]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import atexit
import pathlib
import shutil
import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from skmultihead import Head, MultiOutputNNClassifier
from skmultihead.datasets import make_social_media

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=200_000)
parser.add_argument("--chunk", type=int, default=20_000)
parser.add_argument("--passes", type=int, default=5)
args = parser.parse_args()
TARGETS = ["age", "income", "gender"]

folder = pathlib.Path(tempfile.mkdtemp())  # removed when the script ends
atexit.register(shutil.rmtree, folder, ignore_errors=True)
path = folder / "users.parquet"
X, Y = make_social_media(args.rows + 2000, random_state=0)
X_test, Y_test = X[args.rows :], Y[args.rows :]
table = pa.Table.from_pandas(pd.concat([X[: args.rows], Y[: args.rows]], axis=1))
pq.write_table(table, path, row_group_size=args.chunk)
del X, Y, table
print(f"{path.name}: {args.rows} rows, {path.stat().st_size / 1e6:.1f} MB; chunks of {args.chunk} rows")

# what must be known up front, from the target columns only
targets = pq.read_table(path, columns=TARGETS).to_pandas()
classes = {name: np.unique(targets[name]) for name in ("income", "gender")}
scaling = (targets["age"].mean(), targets["age"].std(ddof=0))
del targets


def new_estimator():
    return MultiOutputNNClassifier(
        heads={"age": Head("regression", scaling=scaling)},
        hidden_layer_sizes=(64, 32),
        batch_size=200,
        shuffle=False,
        random_state=0,
    )


def chunks():
    for batch in pq.ParquetFile(path).iter_batches(batch_size=args.chunk):
        frame = batch.to_pandas()
        yield frame.drop(columns=TARGETS), frame[TARGETS]


streamed = new_estimator()
for X_chunk, Y_chunk in chunks():
    streamed.partial_fit(X_chunk, Y_chunk, classes=classes)

# the same epoch from the whole file in memory (only to check: this is what streaming avoids)
whole = pq.read_table(path).to_pandas()
in_memory = new_estimator().set_params(epochs=1).fit(whole.drop(columns=TARGETS), whole[TARGETS])
del whole
difference = max(
    np.abs(a - b).max() for a, b in zip(streamed.model_.get_weights(), in_memory.model_.get_weights(), strict=True)
)
print(f"one pass of partial_fit vs one epoch of fit: largest weight difference {difference:.1e}")
if difference > 1e-4:
    raise SystemExit("streaming did not train as fit does")

for _ in range(args.passes - 1):
    for X_chunk, Y_chunk in chunks():
        streamed.partial_fit(X_chunk, Y_chunk)
scores = streamed.score_heads(X_test, Y_test)
print(f"after {args.passes} passes ({len(streamed.history_['loss'])} partial_fit calls), held-out scores: "
      + ", ".join(f"{name} {score:.3f}" for name, score in scores.items()))
