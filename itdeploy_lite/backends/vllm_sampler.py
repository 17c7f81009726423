"""Sampling with vLLM (``--sampler vllm``): one engine holds the base model for the whole run, and each
generation's LoRA adapter is attached to its requests (``LoRARequest``), so no model is reloaded per
generation. Budgets, end tokens and the records are the HF sampler's
(:func:`itdeploy_lite.deploy.sample_completions`): a completion is decoded from its token ids up to and
including the first end token, special tokens kept.

Two engines, one interface (:class:`VLLMEngine`):

* backend ``hf``: ``vllm.LLM(model=base, enable_lora=True, max_lora_rank=r, max_model_len=...,
  tensor_parallel_size=--gpus, gpu_memory_utilization=...)`` and ``LLM.generate(prompts, params,
  lora_request=LoRARequest(name, id, adapter_dir))`` (vLLM's offline-inference API);
* backend ``unsloth``: ``FastLanguageModel.from_pretrained(base, fast_inference=True, max_lora_rank=r,
  gpu_memory_utilization=...)`` and ``model.fast_generate(prompts, sampling_params=params,
  lora_request=model.load_lora(adapter_dir))``, as in Unsloth's GRPO notebooks.

vLLM reserves ``gpu_memory_utilization`` of the GPU for the whole run (weights and KV cache); the
fine-tune stage, which loads its own copy of the base, gets the rest. vLLM runs only on a GPU: on a CPU
``--sampler auto`` is ``hf``. Nothing here is imported before it is used.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

SAMPLERS: tuple[str, ...] = ("auto", "hf", "vllm")


def choose_sampler(requested: str, kind: str, device: str, vllm_installed: bool | None = None) -> str:
    """The sampler a run uses: ``hf`` or ``vllm``.

    ``auto`` is ``vllm`` for a pretrained LLM on a CUDA GPU where vLLM is installed, ``hf`` otherwise (the
    embedded planner and CPUs always sample with the HF sampler).

    Args:
        requested: ``--sampler`` (:data:`SAMPLERS`).
        kind: ``"embedded"`` or ``"llm"`` (:func:`~itdeploy_lite.backends.resolve_base`).
        device: the backend's device, ``"cuda"`` or ``"cpu"``.
        vllm_installed: whether ``vllm`` imports (default: looked up).

    Raises:
        ValueError: an unknown sampler name.
        LLMSetupError: ``vllm`` asked for without a GPU, without vLLM installed, or for the embedded
            planner (one sentence: what to change).
    """
    from itdeploy_lite.llm.errors import LLMSetupError

    if requested not in SAMPLERS:
        raise ValueError(f"unknown sampler {requested!r}; use one of {', '.join(SAMPLERS)}")
    installed = importlib.util.find_spec("vllm") is not None if vllm_installed is None else vllm_installed
    if requested == "auto":
        return "vllm" if kind == "llm" and device == "cuda" and installed else "hf"
    if requested == "vllm":
        if kind != "llm":
            raise LLMSetupError("--sampler vllm samples pretrained LLMs; the embedded planner uses --sampler hf")
        if device != "cuda":
            raise LLMSetupError("--sampler vllm needs a CUDA GPU; use --sampler hf on a CPU")
        if not installed:
            raise LLMSetupError("--sampler vllm needs vLLM: pip install -e '.[vllm]' (README, GPU section)")
    return requested


def sampling_params(budgets: Sequence[int], k: int, temperature: float, top_p: float, top_k: int, seed: int,
                    end_ids: Sequence[int]) -> list[dict]:
    """vLLM ``SamplingParams`` keyword arguments, one dict per prompt.

    Args:
        budgets: completion tokens per prompt (``max_tokens``).
        k: samples per prompt (``n``).
        temperature: ``0`` is greedy (vLLM then ignores ``top_p``/``top_k``).
        top_p, top_k: nucleus and top-k cut-offs; ``top_k`` 0 (off here) is vLLM's ``-1``.
        seed: the call's seed; prompt ``i`` gets ``seed + i``, so its ``k`` samples are reproducible
            whatever else is in the batch.
        end_ids: token ids that end a completion (``stop_token_ids``; Qwen3: 151645 and 151643).

    Raises:
        ValueError: ``k < 1`` or a budget < 1.
    """
    if k < 1 or any(b < 1 for b in budgets):
        raise ValueError(f"k and every budget must be >= 1 (k={k}, smallest budget {min(budgets, default=1)})")
    return [dict(n=k, temperature=float(temperature), top_p=float(top_p) if temperature > 0 else 1.0,
                 top_k=int(top_k) if top_k > 0 and temperature > 0 else -1, seed=int(seed) + i, max_tokens=int(b),
                 stop_token_ids=[int(t) for t in end_ids], skip_special_tokens=False)
            for i, b in enumerate(budgets)]


def completion_record(token_ids: Sequence[int], budget: int, end_ids: Sequence[int], tokenizer) -> dict:
    """One sample as :func:`~itdeploy_lite.deploy.sample_completions` records it: ``{"completion": str,
    "n_tokens": int, "ended": bool}``, the text decoded up to and including the first end token (special
    tokens kept), cut at ``budget`` tokens."""
    ids = list(token_ids)[:budget]
    end = next((i for i, t in enumerate(ids) if t in set(end_ids)), None)
    if end is not None:
        ids = ids[: end + 1]
    return {"completion": tokenizer.decode(ids, skip_special_tokens=False), "n_tokens": len(ids),
            "ended": end is not None}


class VLLMEngine:
    """A vLLM engine for the run's base model, built on first use. See the module docstring.

    Args:
        base: the base model (a folder or a hub id).
        backend: ``"hf"`` (``vllm.LLM``) or ``"unsloth"`` (``FastLanguageModel`` with ``fast_inference``).
        load_in_4bit: nf4 base weights (vLLM's bitsandbytes quantization / Unsloth's 4-bit load).
        max_seq_length: longest prompt + completion (tokens), vLLM's ``max_model_len``.
        max_lora_rank: the largest adapter rank it will attach (the run's ``lora_r``).
        tensor_parallel_size: GPUs the engine shards the model over (``--gpus``; ``vllm.LLM`` only).
        gpu_memory_utilization: share of GPU memory vLLM reserves (weights + KV cache).
    """

    def __init__(self, base: str | Path, backend: str = "hf", load_in_4bit: bool = False, max_seq_length: int = 4096,
                 max_lora_rank: int = 16, tensor_parallel_size: int = 1, gpu_memory_utilization: float = 0.5):
        from itdeploy_lite.llm.errors import LLMSetupError

        if backend == "unsloth" and tensor_parallel_size > 1:
            raise LLMSetupError("Unsloth's fast_inference runs on one GPU; use --backend hf for --gpus > 1")
        self.base, self.backend, self.load_in_4bit = str(base), backend, load_in_4bit
        self.max_seq_length, self.max_lora_rank = max_seq_length, max_lora_rank
        self.tensor_parallel_size, self.gpu_memory_utilization = tensor_parallel_size, gpu_memory_utilization
        self._engine = None
        self._lora: dict[str, object] = {}

    def engine(self):
        """The engine (built on the first call): a ``vllm.LLM``, or Unsloth's ``fast_inference`` model."""
        if self._engine is None:
            if self.backend == "unsloth":
                from unsloth import FastLanguageModel

                self._engine, _ = FastLanguageModel.from_pretrained(
                    model_name=self.base, max_seq_length=self.max_seq_length, load_in_4bit=self.load_in_4bit,
                    fast_inference=True, max_lora_rank=self.max_lora_rank,
                    gpu_memory_utilization=self.gpu_memory_utilization)
            else:
                import vllm

                extra = {"quantization": "bitsandbytes"} if self.load_in_4bit else {}
                self._engine = vllm.LLM(model=self.base, enable_lora=True, max_lora_rank=self.max_lora_rank,
                                        max_model_len=self.max_seq_length,
                                        tensor_parallel_size=self.tensor_parallel_size,
                                        gpu_memory_utilization=self.gpu_memory_utilization, **extra)
        return self._engine

    def lora_request(self, adapter: str | Path | None):
        """The ``LoRARequest`` of a saved adapter folder (one id per folder, reused), or ``None``."""
        if adapter is None:
            return None
        key = str(Path(adapter).resolve())
        if key not in self._lora:
            if self.backend == "unsloth":
                self._lora[key] = self.engine().load_lora(key)
            else:
                from vllm.lora.request import LoRARequest

                self._lora[key] = LoRARequest(f"adapter-{len(self._lora) + 1}", len(self._lora) + 1, key)
        return self._lora[key]

    def generate(self, prompts: Sequence[str], budgets: Sequence[int], k: int, temperature: float, top_p: float,
                 top_k: int, seed: int, end_ids: Sequence[int], tokenizer, adapter: str | Path | None = None
                 ) -> list[list[dict]]:
        """``k`` completions per prompt with the adapter attached: ``out[i][j]`` as
        :func:`completion_record` (the HF sampler's records). See :func:`sampling_params`."""
        from vllm import SamplingParams

        if not prompts:
            return []
        params = [SamplingParams(**p) for p in sampling_params(budgets, k, temperature, top_p, top_k, seed, end_ids)]
        engine = self.engine()
        call = engine.fast_generate if self.backend == "unsloth" else engine.generate
        outputs = call(list(prompts), sampling_params=params, lora_request=self.lora_request(adapter),
                       use_tqdm=False)
        return [[completion_record(sample.token_ids, budget, end_ids, tokenizer) for sample in output.outputs]
                for output, budget in zip(outputs, budgets)]


class VLLMPolicy:
    """What a backend's ``load`` returns as the model under ``--sampler vllm``: the run's engine with one
    generation's adapter. :meth:`Backend.generate <itdeploy_lite.backends.base.Backend.generate>` samples
    through it; it has no weights of its own.

    Attributes:
        engine: the run's :class:`VLLMEngine`.
        adapter: the generation's adapter folder (``None``: the base model).
        generation_config: the base model's ``GenerationConfig`` (its ``eos_token_id`` list ends completions).
    """

    def __init__(self, engine: VLLMEngine, adapter: str | Path | None, generation_config=None):
        self.engine, self.adapter, self.generation_config = engine, adapter, generation_config

    def eval(self):
        """A no-op (the HF sampler puts models in eval mode)."""
        return self
