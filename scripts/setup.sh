#!/usr/bin/env bash
# Create .venv (if missing) and install skmultihead with the extras named in $1 (default: test,examples).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-test,examples}"
python3 -m venv .venv 2>/dev/null || python -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${extras}]"
