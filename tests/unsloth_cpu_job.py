"""The Unsloth notebook recipe on a CPU, end to end, run in its own process by tests/test_unsloth_cpu.py.

    python tests/unsloth_cpu_job.py MODEL_FOLDER WORK_FOLDER [--steps N]

Loads MODEL_FOLDER with ``FastLanguageModel.from_pretrained(load_in_4bit=True)``, generates once (a
deployment step, before any training), adds LoRA with ``get_peft_model``, trains a few steps with TRL's
``SFTTrainer``, generates with ``for_inference``, saves the adapter with ``save_pretrained`` and loads it
back with ``FastLanguageModel.from_pretrained(adapter_folder)``. Prints one JSON line (prefixed
``RESULT ``) with what the test checks. A separate process because importing unsloth patches
transformers and TRL for the whole process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("work")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--lr", type=float, default=2e-2)
    args = parser.parse_args()
    out: dict = {}
    start = time.perf_counter()

    banner = io.StringIO()
    with contextlib.redirect_stdout(banner):
        import unsloth
        from unsloth import FastLanguageModel
    out["import_seconds"] = round(time.perf_counter() - start, 1)
    out["banner"] = banner.getvalue().strip()
    out["device_type"] = unsloth.DEVICE_TYPE
    out["unsloth_version"] = unsloth.__version__
    print(out["banner"], flush=True)

    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from itdeploy_lite.llm.quant import check_trainable, four_bit_layers, packed_4bit_layers
    from llm_tiny import plan_rows

    t = time.perf_counter()
    model, tokenizer = FastLanguageModel.from_pretrained(model_name=args.model, max_seq_length=256,
                                                         load_in_4bit=True, dtype=torch.float32)
    out["load_seconds"] = round(time.perf_counter() - t, 1)
    out["four_bit_layers"] = len(four_bit_layers(model))
    out["repacking_off"] = all(not m.support_avx512bf16_for_cpu for m in four_bit_layers(model))

    rows = plan_rows(8)
    probe = tokenizer([rows[0]["prompt"]], return_tensors="pt")

    # A deployment step before any training: eval mode, no grad (the AVX512-BF16 trap's trigger).
    FastLanguageModel.for_inference(model)
    with torch.no_grad():
        model.generate(**probe, max_new_tokens=8, do_sample=False)
    out["packed_after_deploy"] = len(packed_4bit_layers(model))
    check_trainable(model)

    model = FastLanguageModel.get_peft_model(model, r=16, lora_alpha=32, lora_dropout=0.0, random_state=0,
                                             use_gradient_checkpointing=False)
    out["trainable_params"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    FastLanguageModel.for_training(model)
    config = SFTConfig(output_dir=str(Path(args.work) / "trainer"), per_device_train_batch_size=4, max_steps=args.steps,
                       learning_rate=args.lr, lr_scheduler_type="constant", max_length=128, use_cpu=True, bf16=False,
                       logging_steps=1, save_strategy="no", report_to=[], disable_tqdm=True, seed=0)
    t = time.perf_counter()
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    trainer.train()
    out["train_seconds"] = round(time.perf_counter() - t, 1)
    out["losses"] = [h["loss"] for h in trainer.state.log_history if "loss" in h]

    FastLanguageModel.for_inference(model)
    with torch.no_grad():
        generated = model.generate(**probe, max_new_tokens=12, do_sample=False)
        logits = model(**probe).logits.float()
    out["generated"] = tokenizer.decode(generated[0, probe["input_ids"].shape[1]:], skip_special_tokens=True)
    out["generated_tokens"] = int(generated.shape[1] - probe["input_ids"].shape[1])

    adapter = Path(args.work) / "adapter"
    model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    out["adapter_files"] = sorted(p.name for p in adapter.iterdir())

    reloaded, _ = FastLanguageModel.from_pretrained(model_name=str(adapter), max_seq_length=256, load_in_4bit=True,
                                                    dtype=torch.float32)
    FastLanguageModel.for_inference(reloaded)
    with torch.no_grad():
        again = reloaded(**probe).logits.float()
    out["reloaded_is_peft"] = type(reloaded).__name__
    trained = {k: v for k, v in model.state_dict().items() if "lora_" in k}
    loaded = {k: v for k, v in reloaded.state_dict().items() if "lora_" in k}
    out["lora_tensors"] = [len(trained), len(loaded)]
    out["lora_dtypes"] = sorted({str(v.dtype) for v in trained.values()})
    # Unsloth's CPU backend keeps LoRA weights in bfloat16 on a CPU with native bf16 and the reload
    # gives float32 (same values): compare the weights exactly, the logits to bf16 precision.
    out["adapter_weight_max_abs_diff"] = max(float((trained[k].float() - loaded[k].float()).abs().max()) for k in trained)
    out["reload_max_abs_diff"] = float((again - logits).abs().max())
    out["base_vs_trained_max_abs_diff"] = None
    with torch.no_grad(), reloaded.disable_adapter():
        base = reloaded(**probe).logits.float()
    out["base_vs_trained_max_abs_diff"] = float((base - logits).abs().max())
    out["total_seconds"] = round(time.perf_counter() - start, 1)
    print("RESULT " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
