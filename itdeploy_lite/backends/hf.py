"""The ``hf`` backend: transformers for loading and sampling, peft + TRL's ``SFTTrainer`` for LoRA;
optional nf4 4-bit base weights through ``BitsAndBytesConfig`` (bitsandbytes, also on a CPU)."""

from __future__ import annotations

import time
from pathlib import Path

from itdeploy_lite.backends.base import Backend


class HFBackend(Backend):
    """transformers + peft (+ bitsandbytes for 4-bit). See :class:`~itdeploy_lite.backends.base.Backend`."""

    name = "hf"

    def load(self, base: str | Path, adapter: str | Path | None = None):
        """Load for sampling. Full precision: the adapter is merged (sampling at base-model speed).
        4-bit: the adapter stays a PEFT layer on the quantized base, guarded against the CPU AVX512-BF16
        repacking trap (:func:`~itdeploy_lite.llm.quant.guard_cpu_4bit`)."""
        import torch

        from itdeploy_lite.llm.registry import load_model

        if self.load_in_4bit:
            return load_model(str(base), load_in_4bit=True, device=self.device, adapter=adapter)
        return load_model(str(base), load_in_4bit=False, device=self.device, dtype=torch.float32, adapter=adapter,
                          merge=adapter is not None)

    def finetune(self, base, dataset, config, out_dir, init_adapter=None, seed: int = 0, progress: bool = False,
                 log_file=None) -> dict:
        from itdeploy_lite.finetune import finetune

        start = time.perf_counter()
        stats = finetune(base, dataset, config, out_dir, init_adapter=init_adapter, seed=seed, progress=progress,
                         load_in_4bit=self.load_in_4bit, log_file=log_file)
        return {**stats, "seconds": time.perf_counter() - start, "backend": self.name}
