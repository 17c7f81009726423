"""The embedded planner: a tiny Llama-architecture causal LM that ships with the project (no downloads).

A checkpoint folder (``data/models/<domain>/``) is a plain Hugging Face folder: ``config.json``,
``model.safetensors``, ``generation_config.json``, the tokenizer files and ``MODEL_CARD.md``, so
``AutoModelForCausalLM.from_pretrained(folder)`` and ``AutoTokenizer.from_pretrained(folder)`` load it.
The completion format the model was trained on (see :mod:`itdeploy_lite.prompts`) is recorded in
``config.json`` as ``plan_trace`` (``"none"`` or ``"delta"``); read it with :func:`plan_trace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from itdeploy_lite.paths import data_dir


@dataclass
class ModelConfig:
    """Shape of the embedded Llama model (defaults: about 1.1 M parameters, 4.3 MB in fp32).

    Attributes:
        hidden_size: width of the residual stream.
        num_layers: transformer blocks.
        num_heads: attention heads (``hidden_size`` must divide by it).
        intermediate_size: width of the SwiGLU MLP.
        max_positions: longest sequence (prompt + completion) in tokens; RoPE, so it costs no parameters.
        tie_embeddings: share input and output embeddings (saves ``vocab x hidden`` parameters).
        plan_trace: the completion format the model is trained on: ``"none"`` (plan lines only) or
            ``"delta"`` (each action followed by ``; +added -deleted`` atoms, see :mod:`itdeploy_lite.prompts`).
    """

    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 512
    max_positions: int = 2048
    tie_embeddings: bool = True
    plan_trace: str = "none"


def build_model(tokenizer: PreTrainedTokenizerBase, config: ModelConfig = ModelConfig()) -> LlamaForCausalLM:
    """A freshly initialised (random) Llama causal LM over ``tokenizer``'s vocabulary, fp32, on CPU.

    Args:
        tokenizer: the shared tokenizer (:func:`itdeploy_lite.models.build_tokenizer`).
        config: the model shape.

    Returns:
        A ``LlamaForCausalLM`` whose ``config`` carries the pad/bos/eos ids and ``plan_trace``; seed
        ``torch.manual_seed`` first for reproducible weights.

    Raises:
        ValueError: ``hidden_size`` not divisible by ``num_heads`` or an unknown ``plan_trace``.
    """
    if config.hidden_size % config.num_heads:
        raise ValueError(f"hidden_size {config.hidden_size} must be divisible by num_heads {config.num_heads}")
    if config.plan_trace not in ("none", "delta"):
        raise ValueError(f"plan_trace must be 'none' or 'delta', got {config.plan_trace!r}")
    llama = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_heads,
        max_position_embeddings=config.max_positions,
        tie_word_embeddings=config.tie_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        plan_trace=config.plan_trace,
    )
    model = LlamaForCausalLM(llama)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def model_config_of(model) -> ModelConfig:
    """The :class:`ModelConfig` that describes ``model`` (read back from its ``LlamaConfig``)."""
    c = model.config
    return ModelConfig(
        hidden_size=c.hidden_size,
        num_layers=c.num_hidden_layers,
        num_heads=c.num_attention_heads,
        intermediate_size=c.intermediate_size,
        max_positions=c.max_position_embeddings,
        tie_embeddings=bool(c.tie_word_embeddings),
        plan_trace=getattr(c, "plan_trace", "none"),
    )


def plan_trace(model) -> str:
    """The completion format ``model`` was trained on: ``"none"`` or ``"delta"`` (``config.plan_trace``)."""
    return getattr(model.config, "plan_trace", "none")


def embedded_dir(domain_or_path: str | Path) -> Path:
    """Resolve a checkpoint folder: an existing folder path, or a shipped name under ``data/models/``.

    Raises:
        FileNotFoundError: neither a folder nor a shipped checkpoint; the message lists the shipped ones.
    """
    path = Path(domain_or_path)
    if path.is_dir():
        return path
    models = data_dir() / "models"
    shipped = models / str(domain_or_path).lower()
    if (shipped / "config.json").is_file():
        return shipped
    names = sorted(p.name for p in models.iterdir() if (p / "config.json").is_file()) if models.is_dir() else []
    raise FileNotFoundError(
        f"no embedded model {str(domain_or_path)!r}: not a folder, and data/models/ has: {', '.join(names) or 'none'}"
        " (for a domain without one, deploy a pretrained LLM: --model smollm2-135m on a CPU, qwen3-0.6b on a GPU)"
    )


def load_embedded(domain_or_path: str | Path = "blocksworld"):
    """Load an embedded checkpoint (fp32, CPU, eval mode) and its tokenizer.

    Args:
        domain_or_path: a shipped checkpoint name (``"blocksworld"``, ``"rovers"``, ``"sokoban"``,
            ``"ferry"``, ``"miconic"``: the generation-0 model of that domain) or the path of a folder
            written by ``save_pretrained``.

    Returns:
        ``(model, tokenizer)``: a ``LlamaForCausalLM`` and a fast tokenizer with ``padding_side="left"``.

    Raises:
        FileNotFoundError: see :func:`embedded_dir`.
    """
    folder = embedded_dir(domain_or_path)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    return model, tokenizer


def save_embedded(model, tokenizer, folder: str | Path) -> Path:
    """Save ``model`` (safetensors) and ``tokenizer`` to ``folder`` (created). Returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def count_parameters(model) -> int:
    """Number of distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())


__all__ = ["ModelConfig", "build_model", "count_parameters", "embedded_dir", "load_embedded", "model_config_of",
           "plan_trace", "save_embedded"]
