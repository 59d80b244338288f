#!/usr/bin/env bash
# Set up, then run the demo: penguins species, sex and body mass from one network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh examples
TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python examples/penguins_demo.py
