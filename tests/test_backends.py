"""One backend interface for the loop (issue 4): ``hf`` and ``unsloth``, the embedded planner and LLMs.

* the prompt formats: compact (embedded) and PDDL (LLMs), and which one a run picks;
* presets fill only the fields left at their defaults;
* a whole (tiny) run of the loop on a pretrained-style LLM with the PDDL format and a warm start, in
  full precision and in nf4 4-bit on the CPU (``hf`` backend);
* the same loop with ``--backend unsloth --load-in-4bit`` on the embedded planner, in a subprocess
  (importing unsloth patches transformers and TRL process-wide);
* clear one-sentence errors for an unknown model or backend, and 4-bit where it cannot run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from itdeploy_lite.backends import default_choice, get_backend, model_kind, resolve_base
from itdeploy_lite.formats import PddlFormat, format_for
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.llm.errors import LLMSetupError, has_package
from itdeploy_lite.config import RunConfig, apply_preset
from itdeploy_lite.loop import run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_tiny import build_tiny_llama  # noqa: E402
from tiny_model import build_tiny  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")
REPO = Path(__file__).resolve().parents[1]
REQUIRED = os.environ.get("ITDEPLOY_SKIP_LLM") != "1"


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llm") / "model")


@pytest.fixture(scope="module")
def tiny_planner(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("tiny-planner") / "model")


def test_model_kind_and_base_resolution(tiny_llm, tiny_planner):
    assert model_kind(tiny_planner) == "embedded" and model_kind(tiny_llm) == "llm"
    assert resolve_base("", "blocksworld") == (REPO / "data" / "models" / "blocksworld", "embedded")
    assert resolve_base("blocksworld-small", "blocksworld")[1] == "embedded"
    assert resolve_base(str(tiny_llm), "blocksworld") == (tiny_llm, "llm")
    assert resolve_base("org/some-model", "blocksworld") == ("org/some-model", "llm")  # a hub id, not loaded here
    with pytest.raises(LLMSetupError, match="unknown model 'no-such-model': use one of smollm2-135m"):
        resolve_base("no-such-model", "blocksworld")


def test_formats_prompt_and_read_plans(tiny_llm):
    from transformers import AutoTokenizer

    from itdeploy_lite.planning.generators.splits import make_split
    from itdeploy_lite.deploy import as_tasks

    problem = make_split("blocksworld", "pretrain", 1)[0]
    (_, task), = as_tasks([problem])
    tokenizer = AutoTokenizer.from_pretrained(tiny_llm)
    compact = format_for("embedded", "auto", None, "blocksworld")
    pddl = format_for("llm", "auto", tokenizer, "blocksworld")
    assert (compact.name, pddl.name) == ("compact", "pddl")
    assert compact.prompt(task).startswith("init: ") and compact.prompt(task).endswith("plan:\n")
    prompt = pddl.prompt(task, problem.pddl)
    assert prompt.startswith("<|im_start|>user\nHere is a planning domain in PDDL:") and "(:goal" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    plan = list(problem.witness_plan)
    assert pddl.completion(plan).endswith("\n<|im_end|>") and compact.completion(plan).endswith("</s>")
    # A thinking model's answer: the validator reads the plan after </think>, not the reasoning.
    answer = "<think>(pick-up b9) is wrong</think>\n" + "\n".join(plan) + "\n<|im_end|>"
    assert pddl.plan_text(answer).split() == "\n".join(plan).split()
    thinking = PddlFormat(tokenizer, thinking=True)
    assert pddl.budget(task, cap=1000) < 1000  # the plan's budget
    assert thinking.budget(task, 1000) + thinking.answer_budget(task, 1000) == 1000  # reasoning + forced answer
    with pytest.raises(ValueError, match="needs the problem's PDDL text"):
        pddl.prompt(task)
    with pytest.raises(ValueError, match="cannot spell PDDL"):
        format_for("embedded", "pddl", None, "blocksworld")


def test_presets_fill_only_default_fields():
    config = apply_preset(RunConfig(preset="paper", temperature=0.9))
    assert config.temperature == 0.9  # given explicitly: kept
    ft = config.finetune
    assert (ft.lora_r, ft.lora_alpha, ft.lora_dropout, ft.learning_rate, ft.epochs) == (16, 32, 0.05, 1e-5, 2.0)
    assert (ft.min_steps, ft.max_steps) == (0, 0) and config.init_from == "base" and config.load_in_4bit
    assert (ft.train_batch_size, ft.gradient_accumulation_steps) == (8, 4)  # the paper's 8 x 4, not 32 per pass
    assert apply_preset(RunConfig(preset="smollm2-cpu")).warm_start == 16
    assert apply_preset(RunConfig()) == RunConfig()
    with pytest.raises(LLMSetupError, match="unknown preset 'fast': use one of paper"):
        apply_preset(RunConfig(preset="fast"))


@pytest.mark.parametrize("cuda, unsloth, backend", [(False, False, "hf"), (False, True, "hf"), (True, False, "hf"),
                                                     (True, True, "unsloth")])
def test_default_choice_needs_a_gpu_and_unsloth(monkeypatch, cuda, unsloth, backend):
    import importlib.util

    import torch

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (object() if unsloth else None) if name == "unsloth" else find_spec(name, *a))
    choice = default_choice()
    if backend == "unsloth":
        assert choice == {"backend": "unsloth", "model": "qwen3-0.6b", "load_in_4bit": True, "preset": "qwen3-small"}
    else:
        assert choice == {"backend": "hf", "model": "", "load_in_4bit": False, "preset": ""}
    assert set(choice) <= {f for f in RunConfig.__dataclass_fields__}


def test_unknown_backend_and_missing_unsloth_are_one_sentence(monkeypatch):
    with pytest.raises(ValueError, match="unknown backend 'vllm'; use one of hf, unsloth"):
        get_backend("vllm")
    import itdeploy_lite.llm.errors as errors

    monkeypatch.setattr(errors, "has_package", lambda module: module not in ("unsloth", "unsloth_zoo"))
    with pytest.raises(LLMSetupError) as info:
        get_backend("unsloth")
    assert "\n" not in str(info.value) and "unsloth" in str(info.value) and "install" in str(info.value)


def test_cli_unknown_model_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "itdeploy_lite.cli", "run", "--model", "gpt-17", "--out", str(tmp_path / "r"),
                           "--no-progress"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert "unknown model 'gpt-17'" in proc.stderr


def _llm_config(model, out, **overrides) -> RunConfig:
    values = dict(model=str(model), out=str(out), generations=1, tasks_per_generation=2, sizes="3", samples_per_task=2,
                  heldout_per_size=1, max_new_tokens=24, curation="none", progress=False, threads=1, warm_start=2,
                  sample_batch_size=8, finetune=FinetuneConfig(min_steps=2, max_steps=2, train_batch_size=2, max_length=4096))
    values.update(overrides)
    return RunConfig(**values)


@pytest.mark.parametrize("four_bit", [False, True], ids=["fp32", "nf4"])
def test_loop_runs_on_an_llm_with_pddl_prompts_and_a_warm_start(tiny_llm, tmp_path, four_bit):
    if four_bit and not has_package("bitsandbytes"):
        if REQUIRED:
            pytest.fail("bitsandbytes is missing: run scripts/setup.sh (or set ITDEPLOY_SKIP_LLM=1)")
        pytest.skip("needs the llm extra")
    out = tmp_path / "run"
    metrics = run(_llm_config(tiny_llm, out, load_in_4bit=four_bit))
    assert [m["generation"] for m in metrics] == [0, 1]
    warm = json.loads((out / "warm_start.done.json").read_text())
    assert warm["rows"] == 2 and (out / "base_model" / "config.json").is_file()
    assert model_kind(out / "base_model") == "llm"
    traces = [json.loads(line) for line in (out / "gen_00" / "traces.jsonl").read_text().splitlines()]
    assert len(traces) == 4 and all(t["prompt"].startswith("<|im_start|>user\nHere is a planning domain") for t in traces)
    assert all(t["n_tokens"] <= 24 and "valid" in t for t in traces)
    assert (out / "gen_01" / "adapter" / "adapter_config.json").is_file()
    assert metrics[1]["train_pool_size"] == 4  # curation none: every trace


def test_loop_runs_with_the_unsloth_backend_in_4bit_on_the_cpu(tiny_planner, tmp_path):
    if not has_package("unsloth"):
        if REQUIRED:
            pytest.fail("unsloth is missing: run scripts/setup.sh (or set ITDEPLOY_SKIP_LLM=1)")
        pytest.skip("needs unsloth")
    out = tmp_path / "run"
    flags = ["run", "--backend", "unsloth", "--load-in-4bit", "--model", str(tiny_planner), "--out", str(out),
             "--generations", "1", "--tasks-per-generation", "2", "--sizes", "3", "--samples-per-task", "2",
             "--heldout-per-size", "1", "--max-new-tokens", "24", "--curation", "none", "--no-progress", "--threads", "1",
             "--min-steps", "2", "--max-steps", "2", "--train-batch-size", "4"]
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-m", "itdeploy_lite.cli", *flags], capture_output=True, text=True,
                          timeout=900, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    ft = json.loads((out / "gen_01" / "finetune.done.json").read_text())
    assert ft["backend"] == "unsloth" and ft["steps"] == 2 and ft["train_loss"] > 0
    assert (out / "gen_01" / "adapter" / "adapter_config.json").is_file()
    assert json.loads((out / "gen_01" / "metrics.json").read_text())["generation"] == 1


@pytest.mark.parametrize("stage", ["load", "finetune"])
def test_hf_backend_sends_a_hub_id_to_the_hub_loader(stage, tmp_path):
    """``--backend hf --model qwen3-0.6b`` gives the backend a hub id: without 4-bit too it goes to the one hf
    loader, which tries the hub (offline here: a one-sentence error naming the id), not to a folder check."""
    from datasets import Dataset

    from itdeploy_lite.finetune import FinetuneConfig

    backend = get_backend("hf")
    with pytest.raises(LLMSetupError, match="itdeploy-test/no-such-model"):
        if stage == "load":
            backend.load("itdeploy-test/no-such-model")
        else:
            backend.finetune("itdeploy-test/no-such-model", Dataset.from_list([{"prompt": "p", "completion": "c"}]),
                             FinetuneConfig(), tmp_path / "adapter")
    assert not (tmp_path / "adapter").exists()
