#!/usr/bin/env bash
# Set up, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,examples
TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m pytest "$@"
