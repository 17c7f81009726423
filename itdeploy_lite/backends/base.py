"""The backend interface: load, generate, fine-tune, and adapters saved with ``save_pretrained``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence


def model_kind(folder: str | Path) -> str:
    """``"embedded"`` for a folder holding the project's embedded planner (its ``config.json`` carries
    ``plan_trace``, written by :mod:`itdeploy_lite.models`), ``"llm"`` for any other model folder."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "llm"
    return "embedded" if "plan_trace" in config else "llm"


class Backend:
    """How models are loaded, sampled and fine-tuned. Subclasses: ``hf`` and ``unsloth``.

    Attributes:
        name: ``"hf"`` or ``"unsloth"``.
        load_in_4bit: base weights in nf4 4-bit (QLoRA).
        device: ``"cpu"`` or ``"cuda"`` (default: CUDA when available).
    """

    name = "base"
    #: the sampler's engine (:func:`itdeploy_lite.deploy.sample_completions`): ``auto`` refills finished rows
    sample_engine = "auto"

    def __init__(self, load_in_4bit: bool = False, device: str | None = None):
        import torch

        self.load_in_4bit = bool(load_in_4bit)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")

    def check(self) -> None:
        """Raise :class:`~itdeploy_lite.llm.errors.LLMSetupError` (one sentence: what to install or change)
        if this backend cannot run here with these settings."""
        if self.load_in_4bit:
            from itdeploy_lite.llm.quant import check_4bit_supported

            check_4bit_supported(self.device)

    def prepare(self) -> None:
        """Do what must happen before transformers is used in this process (nothing, except for Unsloth)."""

    def load(self, base: str | Path, adapter: str | Path | None = None):
        """Load ``base`` (a model folder or hub id), with a saved LoRA ``adapter`` on top, for sampling.

        Returns:
            ``(model, tokenizer)``, the model in eval mode, the tokenizer with a pad token.
        """
        raise NotImplementedError

    def generate(self, model, tokenizer, prompts: Sequence[str], budgets: Sequence[int], k: int = 1,
                 temperature: float = 0.6, top_p: float = 1.0, batch_size: int = 32, seed: int = 0,
                 progress: bool = True, desc: str = "sample") -> list[list[dict]]:
        """``k`` completions per prompt (see :func:`itdeploy_lite.deploy.sample_completions`, whose
        arguments and return value these are; ``budgets`` are completion tokens per prompt)."""
        from itdeploy_lite.deploy import sample_completions

        return sample_completions(model, tokenizer, prompts, budgets, k, temperature, top_p, batch_size, seed,
                                  progress, desc, engine=self.sample_engine)

    def finetune(self, base: str | Path, dataset, config, out_dir: str | Path, init_adapter: str | Path | None = None,
                 seed: int = 0, progress: bool = False, log_file: str | Path | None = None) -> dict:
        """Train a LoRA adapter on ``dataset`` (``{"prompt", "completion"}`` rows, loss on the completion)
        from ``base`` (or continuing ``init_adapter``) and save it to ``out_dir`` with ``save_pretrained``.

        Args:
            config: a :class:`~itdeploy_lite.finetune.FinetuneConfig` (LoRA rank/alpha/dropout, lr, steps).
            log_file: the trainer's logs as JSON lines (the loop: ``gen_XX/trainer_log.jsonl``).

        Returns:
            :func:`itdeploy_lite.finetune.train_lora`'s summary plus ``"seconds"`` and ``"backend"``.
        """
        raise NotImplementedError

    def merge(self, base: str | Path, adapter: str | Path, out_dir: str | Path) -> Path:
        """Save ``base`` with ``adapter`` merged into it as a full model folder (used for a warm start:
        the warm-started model is the run's generation 0). Written to ``<out_dir>.tmp``, then renamed."""
        import torch

        from itdeploy_lite import atomic
        from itdeploy_lite.llm.registry import load_model

        model, tokenizer = load_model(str(base), load_in_4bit=False, device="cpu", dtype=torch.float32, adapter=adapter,
                                      merge=True)

        def save(tmp: Path) -> None:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)

        return atomic.replace_folder(out_dir, save)
