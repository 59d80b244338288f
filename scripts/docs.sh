#!/usr/bin/env bash
# Build the API reference (docs/) as HTML into docs/_build/html, warnings as errors.
# Needs the docs extra: pip install -e ".[docs]".
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3
.venv/bin/python -m sphinx -E -W --keep-going -b html docs docs/_build/html
