"""The GPU path's defects (issue 12), each checked on the CPU where the decision is made: precision from
the compute capability, the sampling batch from free memory, sequence lengths from the preset, every
end-of-sequence id, Qwen's sampling defaults, no greedy evaluation of thinking models, an over-long
``<think>`` closed and answered (budget forcing), memory released between stages, the paper's batch as
8 x 4 accumulated rows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from itdeploy_lite.backends.base import Backend, fitting_batch_size, kv_bytes_per_token
from itdeploy_lite.config import RunConfig, apply_preset, sequence_tokens
from itdeploy_lite.decode import next_tokens
from itdeploy_lite.deploy import end_token_ids, sample_completions
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.llm import quant

from tiny_model import build_tiny

pytestmark = pytest.mark.usefixtures("one_thread")

GIB = 2**30


@pytest.mark.parametrize("gpu, native, expected", [
    ("none", False, {"bf16": False, "fp16": False}),
    ("t4", False, {"bf16": False, "fp16": True}),     # sm 7.5: bf16 only emulated, Unsloth loads fp16
    ("a100", True, {"bf16": True, "fp16": False}),
])
def test_precision_follows_native_bf16_not_emulated(monkeypatch, gpu, native, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu != "none")
    # torch says True on a T4 unless emulation is excluded (pytorch#148322)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: native or including_emulation)
    assert quant.training_precision(on_gpu=gpu != "none") == expected
    if gpu != "none":
        assert quant.gpu_half_dtype() == (torch.bfloat16 if native else torch.float16)
        assert quant.default_compute_dtype("cuda") == quant.gpu_half_dtype()
    else:
        assert quant.default_compute_dtype("cuda") == torch.float32


QWEN3_0_6B = SimpleNamespace(num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8, head_dim=128,
                             hidden_size=1024)
QWEN3_4B = SimpleNamespace(num_hidden_layers=36, num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                           hidden_size=2560)


def test_sampling_batch_fits_the_free_memory():
    assert kv_bytes_per_token(QWEN3_0_6B) == 114_688  # 112 KiB
    assert kv_bytes_per_token(QWEN3_4B) == 147_456  # 144 KiB
    # a T4 with 15 GiB free, 2k-token prompts and 2k-token completions: 27 rows fit, not the default 128
    assert fitting_batch_size(128, 15 * GIB, kv_bytes_per_token(QWEN3_0_6B), 4096) == 27
    assert fitting_batch_size(8, 15 * GIB, kv_bytes_per_token(QWEN3_0_6B), 4096) == 8  # never above the flag
    assert fitting_batch_size(128, 1, kv_bytes_per_token(QWEN3_4B), 8192) == 1  # never below one


def test_backend_sizes_the_batch_from_free_memory_on_a_gpu_only(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = build_tiny(tmp_path / "tiny")
    model, tokenizer = AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    backend = Backend.__new__(Backend)
    backend.device, backend.load_in_4bit = "cpu", False
    prompts, budgets = ["init: (clear b1)"], [100]
    assert backend.batch_size_for(model, tokenizer, prompts, budgets, 64) == 64  # a CPU: the flag as given
    row = len(tokenizer(prompts[0], add_special_tokens=False)["input_ids"]) + 100
    free = 10 * kv_bytes_per_token(model.config) * row  # room for 8 rows at 80%
    assert backend.batch_size_for(model, tokenizer, prompts, budgets, 64, free_bytes=free) == 8


def test_sequence_length_follows_the_preset():
    assert sequence_tokens(apply_preset(RunConfig(preset="paper")), "llm") == 8192
    assert sequence_tokens(apply_preset(RunConfig(preset="qwen3-small")), "llm") == 2048 + 4096
    assert sequence_tokens(RunConfig(), "embedded") == 2048  # the embedded planner: as before


def test_end_token_ids_include_the_generation_configs():
    tokenizer = SimpleNamespace(eos_token_id=151645)
    qwen = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=[151645, 151643]))
    assert end_token_ids(qwen, tokenizer) == [151645, 151643]
    assert end_token_ids(SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=2)), SimpleNamespace(eos_token_id=2)) == [2]


@pytest.mark.parametrize("engine", ["refill", "generate"])
def test_a_second_end_token_stops_a_completion(tmp_path, engine):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = build_tiny(tmp_path / "tiny")
    model, tokenizer = AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    prompt = ["init: (clear b1) (ontable b1)\ngoal: (on b1 b2)\nplan:\n"]
    free = sample_completions(model, tokenizer, prompt, [12], temperature=0.0, progress=False, engine=engine,
                              eos_ids=[tokenizer.eos_token_id])[0][0]
    ids = tokenizer(free["completion"], add_special_tokens=False)["input_ids"]
    second = ids[3]  # a token greedy decoding writes at step 4: call it the model's second end token
    cut = sample_completions(model, tokenizer, prompt, [12], temperature=0.0, progress=False, engine=engine,
                             eos_ids=[tokenizer.eos_token_id, second])[0][0]
    assert cut["ended"] and cut["n_tokens"] == ids.index(second) + 1


def test_qwen_sampling_defaults_and_top_k():
    for name in ("paper", "qwen3-small"):
        config = apply_preset(RunConfig(preset=name))
        assert (config.temperature, config.top_p, config.top_k) == (0.6, 0.95, 20)
    logits = torch.tensor([[4.0, 3.0, 2.5, 0.0, -1.0]]).repeat(400, 1)
    drawn = next_tokens(logits, 1.0, 1.0, torch.Generator().manual_seed(0), top_k=2)
    assert set(drawn.tolist()) == {0, 1}  # only the two most likely tokens, and both of them
    assert set(next_tokens(logits, 1.0, 1.0, torch.Generator().manual_seed(0)).tolist()) > {0, 1}


def test_thinking_models_are_not_evaluated_greedily(monkeypatch, tmp_path):
    import itdeploy_lite.loop as loop
    from itdeploy_lite.formats import CompactFormat, PddlFormat

    seen = []
    monkeypatch.setattr(loop, "sample_tasks", lambda *a, **kw: seen.append(kw["temperature"]) or [])
    for fmt in (CompactFormat(), PddlFormat(domain="blocksworld", thinking=True)):
        loop.evaluate_stage(RunConfig(), (None, None, fmt, None), [], tmp_path, 0)
    assert seen == [0.0, None]  # greedy for the planner; the run's temperature (seeded) for a thinking model


def test_memory_is_released_between_stages(monkeypatch, tmp_path):
    """After the fine-tune (before M_g is loaded) and after the deployment (before M_{g+1} is trained)."""
    import itdeploy_lite.backends as backends
    from itdeploy_lite.backends.hf import HFBackend
    from itdeploy_lite.loop import run

    calls = []

    class Recording(HFBackend):
        def load(self, *a, **kw):
            calls.append("load")
            return super().load(*a, **kw)

        def finetune(self, *a, **kw):
            calls.append("finetune")
            return super().finetune(*a, **kw)

        def release(self):
            calls.append("release")
            super().release()

    monkeypatch.setattr(backends, "get_backend", lambda name, load_in_4bit=False: Recording(load_in_4bit))
    config = RunConfig(model=str(build_tiny(tmp_path / "tiny")), out=str(tmp_path / "run"), generations=1,
                       tasks_per_generation=2, sizes="4", samples_per_task=2, heldout_per_size=1, max_new_tokens=20,
                       curation="none", progress=False, threads=1,
                       finetune=FinetuneConfig(min_steps=1, max_steps=1, train_batch_size=2))
    run(config)
    assert calls == ["load", "release", "finetune", "release", "load", "release"]


def test_the_papers_batch_is_accumulated_not_one_pass():
    config = apply_preset(RunConfig(preset="paper")).finetune
    assert (config.train_batch_size, config.gradient_accumulation_steps) == (8, 4)
    assert config.steps(64) == 4  # 2 epochs x 64 rows / (8 x 4) rows per step


@pytest.mark.parametrize("lab", ["03_deploying_a_model", "05_fine_tuning"])
def test_labs_import_unsloth_before_transformers_and_trl(lab):
    """Unsloth patches transformers and TRL when imported: on a GPU the labs import it first."""
    import re
    from pathlib import Path

    lines = (Path(__file__).resolve().parents[1] / "solutions" / "source" / f"{lab}.py").read_text().splitlines()
    unsloth = next(i for i, line in enumerate(lines) if line.strip().startswith("import unsloth"))
    heavy = re.compile(r"^\s*(from|import) (transformers|trl|peft|itdeploy_lite\.(deploy|finetune|loop|rl))\b")
    first = next(i for i, line in enumerate(lines) if heavy.match(line))
    assert unsloth < first, (lines[unsloth], lines[first])


def test_a_warm_start_merges_on_the_gpu_in_half_precision(monkeypatch):
    """Merging a 4 B model in fp32 on the CPU needs ~16 GB of RAM: on a GPU it merges there, in 16 bits."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)  # a T4
    gpu, cpu = Backend.__new__(Backend), Backend.__new__(Backend)
    gpu.device, cpu.device = "cuda", "cpu"
    assert gpu.merge_placement() == ("cuda", torch.float16)
    assert cpu.merge_placement() == ("cpu", torch.float32)


def _scripted_sampler(first_round):
    """A stand-in for Backend.generate: the first call returns ``first_round`` (per prompt, per sample),
    later calls a plan that ends; ``calls`` keeps (prompts, budgets, k) of each call."""
    calls = []

    def generate(model, tokenizer, prompts, budgets, k, *args, top_k=0):
        calls.append((list(prompts), list(budgets), k))
        if len(calls) == 1:
            return [[dict(sample) for sample in first_round] for _ in prompts]
        return [[{"completion": "(pick-up b1)\n<|im_end|>", "n_tokens": 6, "ended": True}] for _ in prompts]

    return generate, calls


@pytest.mark.parametrize("thinking", [True, False])
def test_a_thinking_completion_cut_inside_think_gets_a_forced_answer(tmp_path, thinking):
    from transformers import AutoTokenizer

    from itdeploy_lite.deploy import DeployConfig, deploy
    from itdeploy_lite.formats import PddlFormat
    from itdeploy_lite.llm.prompts import domain_text
    from itdeploy_lite.planning.generators.draw import generate_problems
    from itdeploy_lite.planning import parse_task
    from llm_tiny import build_tiny_llama

    tokenizer = AutoTokenizer.from_pretrained(build_tiny_llama(tmp_path / "llm"))
    problem = generate_problems("blocksworld", {"blocks": 3}, 1, seed=0)[0]
    task = parse_task(domain_text("blocksworld"), problem.pddl)
    fmt = PddlFormat(tokenizer=tokenizer, domain="blocksworld", thinking=thinking)
    cut = {"completion": "<think>b1 is on b2, so", "n_tokens": 400, "ended": False}  # out of tokens mid-thought
    done = {"completion": "<think>easy</think>\n(pick-up b1)\n<|im_end|>", "n_tokens": 9, "ended": True}
    generate, calls = _scripted_sampler([cut, done])
    config = DeployConfig(samples_per_task=2, max_new_tokens=512)
    records = deploy(None, tokenizer, [("t0", task)], config, prompt_format=fmt, problems=[problem.pddl],
                     backend=SimpleNamespace(generate=generate))

    if not thinking:  # nothing to force: one round, the records as sampled
        assert len(calls) == 1 and "forced_answer" not in records[0] and records[0]["completion"] == cut["completion"]
        return
    answer = fmt.answer_budget(task, 512)
    assert 32 <= answer <= 256 and calls[0][1] == [512 - answer]  # reasoning + plan stay within the cap
    assert len(calls) == 2 and calls[1][2] == 1 and calls[1][1] == [answer]
    assert calls[1][0] == [records[0]["prompt"] + cut["completion"] + fmt.CLOSE_THINKING]  # only the cut sample
    forced, untouched = records
    assert forced["forced_answer"] and forced["ended"]
    assert forced["completion"] == cut["completion"] + fmt.CLOSE_THINKING + "(pick-up b1)\n<|im_end|>"
    assert forced["n_tokens"] > 400 + 6 and fmt.plan_text(forced["completion"]).strip() == "(pick-up b1)"
    assert "forced_answer" not in untouched and untouched["completion"] == done["completion"]
