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


def kv_bytes_per_token(config, element_bytes: int = 2) -> int:
    """KV-cache bytes one token takes in a decoder: 2 (K and V) x layers x KV heads x head dim x bytes
    per element (2 for bfloat16/float16). Qwen3-0.6B: 2 x 28 x 8 x 128 x 2 = 114,688 B (112 KiB);
    Qwen3-4B: 2 x 36 x 8 x 128 x 2 = 147,456 B (144 KiB).

    Args:
        config: a transformers model config (``num_hidden_layers``, ``num_attention_heads``, optional
            ``num_key_value_heads`` and ``head_dim``, ``hidden_size``).
    """
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return 2 * config.num_hidden_layers * kv_heads * head_dim * element_bytes


def fitting_batch_size(requested: int, free_bytes: int, bytes_per_token: int, tokens_per_row: int,
                       headroom: float = 0.8) -> int:
    """The largest sampling batch whose KV cache fits in ``headroom`` of ``free_bytes``, at most
    ``requested``, at least 1: ``min(requested, floor(headroom x free / (bytes_per_token x tokens_per_row)))``.

    Args:
        requested: the configured batch (``--sample-batch-size``).
        free_bytes: free accelerator memory (bytes), e.g. ``torch.cuda.mem_get_info()[0]`` after loading.
        bytes_per_token: :func:`kv_bytes_per_token`.
        tokens_per_row: the longest prompt plus the largest completion budget (tokens).
    """
    fit = int(headroom * free_bytes // max(1, bytes_per_token * tokens_per_row))
    return max(1, min(requested, fit))


class Backend:
    """How models are loaded, sampled and fine-tuned. Subclasses: ``hf`` and ``unsloth``.

    Attributes:
        name: ``"hf"`` or ``"unsloth"``.
        load_in_4bit: base weights in nf4 4-bit (QLoRA).
        device: ``"cpu"`` or ``"cuda"`` (default: CUDA when available).
    """

    name = "base"
    #: longest prompt + completion the backend prepares for, in tokens (Unsloth's ``max_seq_length``; the
    #: loop sets it from the run, :func:`itdeploy_lite.config.sequence_tokens`; hf reads lengths per call)
    max_seq_length = 2048
    #: the sampler's engine (:func:`itdeploy_lite.deploy.sample_completions`): ``auto`` refills finished rows
    sample_engine = "auto"
    #: ``hf`` (:func:`~itdeploy_lite.deploy.sample_completions`) or ``vllm`` (the run's
    #: :class:`~itdeploy_lite.backends.vllm_sampler.VLLMEngine`); the loop sets it from ``--sampler``
    sampler = "hf"
    #: :class:`~itdeploy_lite.backends.vllm_sampler.VLLMEngine` keyword arguments (``max_lora_rank``,
    #: ``tensor_parallel_size``, ``gpu_memory_utilization``); the loop sets them from the run's config
    vllm_options: dict = {}

    def __init__(self, load_in_4bit: bool = False, device: str | None = None):
        import torch

        self.load_in_4bit = bool(load_in_4bit)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._vllm = None  # the run's VLLMEngine, built by the first sampling_model call with sampler "vllm"

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

    def sampling_model(self, base: str | Path, adapter: str | Path | None = None):
        """:meth:`load` for sampling. With ``sampler = "vllm"``: the run's one vLLM engine (built on the
        first call, kept for the whole run) with ``adapter`` attached to its requests, as a
        :class:`~itdeploy_lite.backends.vllm_sampler.VLLMPolicy`, and the base's tokenizer.

        Returns:
            ``(model, tokenizer)`` for :meth:`generate`.
        """
        if self.sampler != "vllm":
            return self.load(base, adapter)
        from transformers import AutoTokenizer, GenerationConfig

        from itdeploy_lite.backends.vllm_sampler import VLLMEngine, VLLMPolicy

        if self._vllm is None:
            self._vllm = VLLMEngine(base, self.name, self.load_in_4bit, self.max_seq_length, **self.vllm_options)
        tokenizer = AutoTokenizer.from_pretrained(str(base))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        try:
            generation_config = GenerationConfig.from_pretrained(str(base))
        except OSError:  # a base without generation_config.json: the tokenizer's EOS ends completions
            generation_config = None
        return VLLMPolicy(self._vllm, adapter, generation_config), tokenizer

    def generate(self, model, tokenizer, prompts: Sequence[str], budgets: Sequence[int], k: int = 1,
                 temperature: float = 0.6, top_p: float = 1.0, batch_size: int = 32, seed: int = 0,
                 progress: bool = True, desc: str = "sample", top_k: int = 0,
                 copy_only: Sequence[int] = ()) -> list[list[dict]]:
        """``k`` completions per prompt (see :func:`itdeploy_lite.deploy.sample_completions`, whose
        arguments and return value these are; ``budgets`` are completion tokens per prompt). On a GPU the
        batch is cut to what the free memory holds (:meth:`batch_size_for`). A
        :class:`~itdeploy_lite.backends.vllm_sampler.VLLMPolicy` samples through its vLLM engine with the
        same budgets and end tokens (vLLM schedules its own batches; it has no ``copy_only`` rule:
        ``ValueError``)."""
        from itdeploy_lite.backends.vllm_sampler import VLLMPolicy
        from itdeploy_lite.deploy import end_token_ids, sample_completions

        if isinstance(model, VLLMPolicy):
            if copy_only:
                raise ValueError("copy_only (task objects only) is a rule of the refill sampler; vLLM has none")
            return model.engine.generate(prompts, budgets, k, temperature, top_p, top_k, seed,
                                         end_token_ids(model, tokenizer), tokenizer, adapter=model.adapter)
        batch_size = self.batch_size_for(model, tokenizer, prompts, budgets, batch_size)
        return sample_completions(model, tokenizer, prompts, budgets, k, temperature, top_p, batch_size, seed,
                                  progress, desc, engine=self.sample_engine, top_k=top_k, copy_only=copy_only)

    def batch_size_for(self, model, tokenizer, prompts: Sequence[str], budgets: Sequence[int], requested: int,
                       free_bytes: int | None = None) -> int:
        """The sampling batch for these prompts: ``requested`` on a CPU; on a GPU at most what leaves the KV
        cache of the longest row in 80% of the free memory (:func:`fitting_batch_size`). ``free_bytes``
        overrides the measured free memory (tests)."""
        if self.device != "cuda" and free_bytes is None:
            return requested
        if free_bytes is None:
            import torch

            free_bytes = torch.cuda.mem_get_info()[0]
        longest = max((len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts), default=0)
        return fitting_batch_size(requested, free_bytes, kv_bytes_per_token(model.config), longest + max(budgets, default=0))

    def release(self) -> None:
        """Free accelerator memory between stages (after the caller dropped its model and trainer
        references): ``gc.collect()`` then ``torch.cuda.empty_cache()`` on a GPU."""
        import gc

        gc.collect()
        if self.device == "cuda":
            import torch

            torch.cuda.empty_cache()

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

    def merge_placement(self):
        """Where :meth:`merge` works: ``("cuda", bf16/fp16)`` on a GPU (a 4 B model merged in fp32 on the CPU
        needs ~16 GB of RAM, more than Colab gives), ``("cpu", float32)`` without one."""
        import torch

        if self.device == "cuda":
            from itdeploy_lite.llm.quant import gpu_half_dtype

            return "cuda", gpu_half_dtype()
        return "cpu", torch.float32

    def merge(self, base: str | Path, adapter: str | Path, out_dir: str | Path) -> Path:
        """Save ``base`` with ``adapter`` merged into it as a full model folder (used for a warm start:
        the warm-started model is the run's generation 0). Written to ``<out_dir>.tmp``, then renamed."""
        from itdeploy_lite import atomic
        from itdeploy_lite.llm.registry import load_model

        device, dtype = self.merge_placement()
        model, tokenizer = load_model(str(base), load_in_4bit=False, device=device, dtype=dtype, adapter=adapter,
                                      merge=True)

        def save(tmp: Path) -> None:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)

        return atomic.replace_folder(out_dir, save)
