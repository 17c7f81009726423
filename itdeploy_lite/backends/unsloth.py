"""The ``unsloth`` backend: ``FastLanguageModel.from_pretrained`` (4-bit), ``get_peft_model``, TRL's
``SFTTrainer``, ``for_inference`` - the recipe of Unsloth's own notebooks.

On a machine with no GPU, unsloth 2026.10.9 falls back to transformers + peft + TRL on the CPU, so the
same code runs in CI and on a Colab GPU (where Unsloth's kernels make it fast). Importing unsloth
patches transformers and TRL for the whole process: this module imports it only when the backend is
used, and a process that has used it should not be relied on for the ``hf`` backend's numbers.
"""

from __future__ import annotations

import time
from itdeploy_lite.backends.base import Backend


class UnslothBackend(Backend):
    """Unsloth's ``FastLanguageModel``. See :class:`~itdeploy_lite.backends.base.Backend`.

    Attributes:
        max_seq_length: longest prompt + completion Unsloth prepares for (tokens): the run's
            :func:`~itdeploy_lite.config.sequence_tokens` (a fixed 2,048 used to cut the presets' 4,096 /
            8,192-token rows and 1.5-3k-token PDDL prompts).
    """

    name = "unsloth"

    def __init__(self, load_in_4bit: bool = False, device: str | None = None):
        super().__init__(load_in_4bit, device)
        # On a GPU, Unsloth's fast inference is what ``for_inference`` patches into ``model.generate``; the
        # refill decoder calls the forward pass directly and has not been checked there.
        self.sample_engine = "generate" if self.device == "cuda" else "auto"

    def prepare(self) -> None:
        """Import unsloth now: it must patch transformers and TRL before they are used."""
        self._fast()

    def check(self) -> None:
        from itdeploy_lite.llm.errors import require

        require("unsloth", "the unsloth backend")
        require("unsloth_zoo", "the unsloth backend")
        super().check()

    def _fast(self):
        import contextlib
        import io

        from itdeploy_lite.llm.errors import LLMSetupError

        try:
            with contextlib.redirect_stdout(io.StringIO()):  # its banner; the loop prints its own lines
                from unsloth import FastLanguageModel
        except ImportError as err:
            raise LLMSetupError(f"unsloth is installed but does not import ({str(err).splitlines()[0][:160]}): "
                                "install its requirements as scripts/setup.sh does.") from None
        return FastLanguageModel

    def _load_base(self, base):
        from itdeploy_lite.llm.quant import guard_cpu_4bit

        fast = self._fast()
        model, tokenizer = fast.from_pretrained(model_name=str(base), max_seq_length=self.max_seq_length,
                                                load_in_4bit=self.load_in_4bit, dtype=None)
        guard_cpu_4bit(model)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return fast, model, tokenizer

    def load(self, base, adapter=None):
        """Load for sampling (``FastLanguageModel.for_inference``). With an adapter, Unsloth's own
        ``FastLanguageModel.from_pretrained(adapter_dir)`` loads the base named in its
        ``adapter_config.json`` and the adapter on it, as Unsloth's notebooks do (its fast-inference patch
        included; a plain ``PeftModel.from_pretrained`` bypassed it)."""
        fast, model, tokenizer = self._load_base(adapter if adapter is not None else base)
        fast.for_inference(model)
        return model, tokenizer

    def finetune(self, base, dataset, config, out_dir, init_adapter=None, seed: int = 0, progress: bool = False,
                 log_file=None) -> dict:
        from transformers import set_seed

        from itdeploy_lite.finetune import lora_targets, check_dataset, train_lora

        start = time.perf_counter()
        dataset = check_dataset(dataset)
        set_seed(seed)
        fast, model, tokenizer = self._load_base(base)
        if init_adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(init_adapter), is_trainable=True)
        else:
            from itdeploy_lite.llm.registry import LINEAR_PROJECTIONS

            targets = lora_targets(config.target_modules)
            if targets == "all-linear":
                targets = list(LINEAR_PROJECTIONS)
            model = fast.get_peft_model(model, r=config.lora_r, lora_alpha=config.lora_alpha,
                                        lora_dropout=config.lora_dropout, target_modules=targets, random_state=seed,
                                        use_gradient_checkpointing="unsloth" if self.device == "cuda" else False)
        fast.for_training(model)
        tokenizer.padding_side = "right"
        stats = train_lora(model, tokenizer, dataset, config, out_dir, seed=seed, progress=progress, log_file=log_file)
        return {**stats, "seconds": time.perf_counter() - start, "backend": self.name}
