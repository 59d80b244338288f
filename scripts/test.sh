#!/usr/bin/env bash
# Set up, then run the test suite under each Keras backend: TensorFlow (the default), JAX, PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,examples
echo "== Keras backend: tensorflow"
KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m pytest "$@"
echo "== Keras backend: jax"
KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m pytest "$@"
echo "== Keras backend: torch"
KERAS_BACKEND=torch TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m pytest "$@"
