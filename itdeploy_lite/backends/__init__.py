"""One interface for the models the loop deploys and fine-tunes: ``hf`` (transformers + peft) and
``unsloth`` (Unsloth's ``FastLanguageModel``).

A backend loads a base model (optionally with a LoRA adapter), samples completions, fine-tunes a new
LoRA adapter on ``{"prompt", "completion"}`` rows and saves it with ``save_pretrained``::

    from itdeploy_lite.backends import get_backend
    backend = get_backend("hf", load_in_4bit=False)
    model, tokenizer = backend.load(base_folder)                     # or backend.load(base, adapter)
    out = backend.generate(model, tokenizer, prompts, budgets, k=8, temperature=0.6)
    stats = backend.finetune(base_folder, dataset, FinetuneConfig(), "gen_01/adapter")

The embedded planner is just a model for these backends. :func:`default_choice` is what a notebook
picks: Unsloth in 4-bit with Qwen3-0.6B on a CUDA GPU, the embedded model on a CPU.
"""

from __future__ import annotations

from pathlib import Path

from itdeploy_lite.backends.base import Backend, model_kind
from itdeploy_lite.formats import FORMATS, PromptFormat, format_for

BACKENDS: tuple[str, ...] = ("hf", "unsloth")


def get_backend(name: str, load_in_4bit: bool = False, device: str | None = None) -> Backend:
    """The backend called ``name`` (``"hf"`` or ``"unsloth"``).

    Args:
        name: ``hf`` (transformers + peft + TRL; optional nf4 4-bit via bitsandbytes) or ``unsloth``.
        load_in_4bit: load base weights in nf4 4-bit (QLoRA). On a CPU this needs bitsandbytes >= 0.49.
        device: ``"cpu"``/``"cuda"``; default CUDA when available.

    Raises:
        ValueError: an unknown backend name.
        LLMSetupError: ``unsloth`` asked for but not installed (one sentence saying what to install),
            or 4-bit asked for where it cannot run.
    """
    if name == "hf":
        from itdeploy_lite.backends.hf import HFBackend

        backend: Backend = HFBackend(load_in_4bit=load_in_4bit, device=device)
    elif name == "unsloth":
        from itdeploy_lite.backends.unsloth import UnslothBackend

        backend = UnslothBackend(load_in_4bit=load_in_4bit, device=device)
    else:
        raise ValueError(f"unknown backend {name!r}; use one of {', '.join(BACKENDS)}")
    backend.check()
    return backend


def default_choice() -> dict:
    """What a notebook or a first run should use on this machine, as :class:`~itdeploy_lite.config.RunConfig`
    fields: ``{"backend", "model", "load_in_4bit", "preset"}``.

    On a CUDA GPU with Unsloth installed: ``{"backend": "unsloth", "model": "qwen3-0.6b",
    "load_in_4bit": True, "preset": "qwen3-small"}`` (the paper's recipe at Colab size; the model comes
    from the hub). Otherwise the embedded planner on the CPU: ``{"backend": "hf", "model": "",
    "load_in_4bit": False, "preset": ""}`` (``model=""``: the shipped checkpoint of the run's domain).
    """
    import importlib.util

    import torch

    if torch.cuda.is_available() and importlib.util.find_spec("unsloth") is not None:
        return {"backend": "unsloth", "model": "qwen3-0.6b", "load_in_4bit": True, "preset": "qwen3-small"}
    return {"backend": "hf", "model": "", "load_in_4bit": False, "preset": ""}


def resolve_base(model: str, domain: str) -> tuple[Path | str, str]:
    """Where the run's generation-0 model comes from, and its kind.

    Args:
        model: ``""`` (the shipped embedded checkpoint of ``domain``; for a domain file, of the name
            the file declares, so ``--tasks DIR --domain ferry/domain.pddl`` deploys the Ferry planner),
            a shipped checkpoint name (``blocksworld-small``), a model folder, a registry name
            (``smollm2-135m``, ``qwen3-0.6b``...) or a hub id ``org/name``.
        domain: the run's domain.

    Returns:
        ``(source, kind)``: a folder (or a hub id) and ``"embedded"`` or ``"llm"``. ``smollm2-135m`` is
        converted once from its GGUF to a cached folder here.

    Raises:
        LLMSetupError: an unknown model name (the message lists the known ones) or a missing package.
    """
    from itdeploy_lite.llm.registry import model_source, resolve_model
    from itdeploy_lite.models.embedded import embedded_dir
    from itdeploy_lite.planning.domains import domain_name

    try:
        folder = embedded_dir(model or domain_name(domain))
    except FileNotFoundError:
        if not model:
            raise
        folder = None
    if folder is not None:
        return folder, model_kind(folder)
    spec = resolve_model(model)
    return (Path(model_source(spec.name if spec.offline else spec.source)) if spec.offline else spec.source), "llm"


__all__ = ["BACKENDS", "Backend", "FORMATS", "PromptFormat", "default_choice", "format_for", "get_backend",
           "model_kind", "resolve_base"]
