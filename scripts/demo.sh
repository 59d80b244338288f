#!/usr/bin/env bash
# Set up (.venv with the package and the "examples" extra: what every script in examples/ needs),
# then run the demo: penguins species, sex and body mass from one network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh examples
.venv/bin/python examples/penguins_demo.py
