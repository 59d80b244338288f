#!/usr/bin/env bash
# Set up, then run the tests: all of them and the docstring examples under TensorFlow (the
# default backend), those whose behaviour depends on the backend (marked "backend") under
# JAX, and under PyTorch where it is installed (pip install -e ".[torch]"); then build the
# API reference (docs/) with warnings as errors. Tests run in 2 processes (pytest-xdist).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,examples,docs
export TF_CPP_MIN_LOG_LEVEL=3
echo "== Keras backend: tensorflow (every test and docstring example)"
KERAS_BACKEND=tensorflow .venv/bin/python -m pytest -n 2 --doctest-modules tests skmultihead "$@"
echo "== Keras backend: jax (tests marked backend)"
KERAS_BACKEND=jax .venv/bin/python -m pytest -n 2 -m backend "$@"
if .venv/bin/python -c "import torch" 2>/dev/null; then
    echo "== Keras backend: torch (tests marked backend)"
    KERAS_BACKEND=torch .venv/bin/python -m pytest -n 2 -m backend "$@"
else
    echo "== Keras backend: torch skipped (PyTorch is not installed; pip install -e '.[torch]' to test it)"
fi
echo "== API reference (docs/)"
bash scripts/docs.sh
