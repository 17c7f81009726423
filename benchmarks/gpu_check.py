"""The GPU self-check: does the single-GPU path work here, first time? One command, each step with its own
timeout, a JSON file and a printed table.

    python benchmarks/gpu_check.py --out runs/gpu_check              # qwen3-0.6b on a GPU
    python benchmarks/gpu_check.py --out runs/gpu_check --model smollm2-135m   # what a CPU can check

Steps (``gpu`` ones need CUDA and are reported ``not run`` without it; the rest also run on a CPU, on
``--model`` — offline here only ``smollm2-135m``):

=================  ===  ====================================================================================
versions           any  torch / transformers / TRL / peft / unsloth / bitsandbytes versions, the device,
                        compute capability, native bf16, the precision the trainer will use
load_4bit          gpu  nf4 load: compute dtype, EOS/pad ids, the Unsloth backend's ``max_seq_length``
longest_prompt     any  token count of the longest PDDL prompt of the held-out splits (Rovers/Sokoban)
padding            any  greedy output of a left-padded batch equals one prompt at a time
throughput         gpu  tokens/s and peak memory at batch 8 and 32, and the safe ``sample_batch_size``
finetune_long_row  any  5 LoRA steps with one ~3k-token row (~1k on a CPU): no dtype error, loss falls, the
                        whole row fits ``max_length`` (its end is trained)
adapter_reload     any  a saved adapter reloaded gives the same logits
memory_cycles      gpu  two fine-tune -> load -> generate cycles; the second memory peak <= 1.1x the first
loop_unsloth       gpu  ``itdeploy run --backend unsloth --preset qwen3-small`` (1 generation) and its resume
hf_full_precision  any  the hf backend without 4-bit loads and samples the model
vllm_vs_hf         gpu  ``--sampler vllm`` (one engine, the adapter as a ``LoRARequest``) beside the HF
                        sampler on the same 64 prompts x 4 samples: completion tok/s of each, and their ratio
unsloth_vs_peft    gpu  seconds per LoRA step of the unsloth backend beside the hf backend (plain peft) on
                        the same rows, both 4-bit
=================  ===  ====================================================================================

Not a test: minutes on a GPU (target <= 8 with qwen3-0.6b), a few on a CPU with SmolLM2. Exit status 0
when every step that ran passed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

GPU_STEPS = {"load_4bit", "throughput", "memory_cycles", "loop_unsloth", "vllm_vs_hf", "unsloth_vs_peft"}


class StepTimeout(Exception):
    pass


class StepNotRun(Exception):
    """A step that cannot run here (e.g. vLLM not installed): reported ``not run`` with the reason."""


def _alarm(signum, frame):
    raise StepTimeout()


def run_step(name: str, fn, timeout: float, results: list[dict], cuda: bool) -> None:
    """Run one step under its own timeout (seconds) and record ``{step, status, seconds, detail}``."""
    if name in GPU_STEPS and not cuda:
        results.append({"step": name, "status": "not run", "seconds": 0.0, "detail": "no CUDA GPU here"})
        return
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(timeout))
    try:
        detail = fn()
        status = "pass" if detail.pop("ok", True) else "FAIL"
    except StepTimeout:
        status, detail = "FAIL", {"error": f"timed out after {timeout:.0f} s"}
    except StepNotRun as reason:
        status, detail = "not run", {"reason": str(reason)}
    except Exception as err:  # a self-check reports every failure and goes on
        status, detail = "FAIL", {"error": f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"}
    finally:
        signal.alarm(0)
    results.append({"step": name, "status": status, "seconds": round(time.perf_counter() - start, 1), "detail": detail})
    print(f"{name:18s} {status:8s} {results[-1]['seconds']:7.1f} s  {json.dumps(detail)[:150]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/gpu_check", help="folder for gpu_check.json and the step runs")
    parser.add_argument("--model", default="", help="default: qwen3-0.6b with a GPU, smollm2-135m without")
    parser.add_argument("--timeout", type=float, default=240, help="seconds per step")
    args = parser.parse_args(argv)
    from itdeploy_lite.runtime import quiet_libraries

    quiet_libraries()
    cuda = torch.cuda.is_available()
    model_name = args.model or ("qwen3-0.6b" if cuda else "smollm2-135m")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = "cuda" if cuda else "cpu"
    results: list[dict] = []
    state: dict = {}

    def versions():
        from importlib.metadata import PackageNotFoundError, version

        from itdeploy_lite.llm.quant import native_bf16, training_precision

        found = {}
        for package in ("torch", "transformers", "trl", "peft", "unsloth", "bitsandbytes", "vllm"):
            try:
                found[package] = version(package)
            except PackageNotFoundError:
                found[package] = None
        found["device"] = torch.cuda.get_device_name() if cuda else "cpu"
        found["compute_capability"] = ".".join(map(str, torch.cuda.get_device_capability())) if cuda else None
        found["native_bf16"] = native_bf16()
        found["trainer_precision"] = training_precision(cuda)
        return found

    def load_full():
        from itdeploy_lite.llm import load_model

        if "model" not in state:
            state["model"], state["tokenizer"] = load_model(model_name, load_in_4bit=False, device=device)
        return state["model"], state["tokenizer"]

    def load_4bit():
        from itdeploy_lite.backends import get_backend
        from itdeploy_lite.config import RunConfig, apply_preset, sequence_tokens
        from itdeploy_lite.llm.registry import model_source

        backend = get_backend("unsloth", load_in_4bit=True)
        backend.max_seq_length = sequence_tokens(apply_preset(RunConfig(preset="qwen3-small")), "llm")
        model, tokenizer = backend.load(model_source(model_name))
        return {"compute_dtype": str(getattr(model.config, "torch_dtype", None)), "eos": tokenizer.eos_token_id,
                "pad": tokenizer.pad_token_id, "generation_eos": model.generation_config.eos_token_id,
                "max_seq_length": backend.max_seq_length}

    def longest_prompt():
        from itdeploy_lite.formats import PddlFormat
        from itdeploy_lite.planning import parse_task
        from itdeploy_lite.planning.generators import make_split
        from itdeploy_lite.task_sets import domain_pddl

        _, tokenizer = load_full()
        lengths = {}
        for domain in ("blocksworld", "rovers", "sokoban"):
            fmt = PddlFormat(tokenizer, domain)
            problems = make_split(domain, "heldout", 2)
            lengths[domain] = max(len(tokenizer(fmt.prompt(parse_task(domain_pddl(domain), p.pddl, domain, p.name), p.pddl),
                                                add_special_tokens=False)["input_ids"]) for p in problems)
        return {"prompt_tokens": lengths}

    def padding():
        from itdeploy_lite.deploy import sample_completions

        model, tokenizer = load_full()
        prompts = ["Write the plan: (pick-up b1)", "A much longer prompt, so the batch is padded on the left: go."]
        batched = [r[0]["completion"] for r in sample_completions(model, tokenizer, prompts, [12, 12], temperature=0.0,
                                                                   batch_size=2, progress=False)]
        single = [sample_completions(model, tokenizer, [p], [12], temperature=0.0, batch_size=1, progress=False)[0][0]["completion"]
                  for p in prompts]
        return {"ok": batched == single, "equal": batched == single}

    def throughput():
        from itdeploy_lite.backends.base import fitting_batch_size, kv_bytes_per_token
        from itdeploy_lite.deploy import sample_completions

        model, tokenizer = load_full()
        figures = {}
        for batch in (8, 32):
            torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            rows = sample_completions(model, tokenizer, ["Plan:"] * batch, [128] * batch, temperature=0.6,
                                      batch_size=batch, progress=False)
            tokens = sum(r[0]["n_tokens"] for r in rows)
            figures[f"batch_{batch}"] = {"tok_s": round(tokens / (time.perf_counter() - start)),
                                         "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)}
        free = torch.cuda.mem_get_info()[0]
        kv = kv_bytes_per_token(model.config)
        figures["safe_sample_batch_size"] = {"qwen3-small (2k+4k tokens)": fitting_batch_size(128, free, kv, 6144),
                                             "paper (4k+4k tokens)": fitting_batch_size(128, free, kv, 8192)}
        return figures

    def finetune_long_row():
        from datasets import Dataset

        from itdeploy_lite.finetune import FinetuneConfig, finetune

        _, tokenizer = load_full()
        long = " ".join(["(unstack b1 b2)"] * (400 if cuda else 120))  # ~3k tokens on a GPU, ~1k on a CPU
        rows = [{"prompt": "Plan for the task:\n", "completion": long + " END"}] + \
               [{"prompt": "Plan:\n", "completion": "(pick-up b1)\n(stack b1 b2)"}] * 3
        config = FinetuneConfig(min_steps=5, max_steps=5, train_batch_size=2, learning_rate=1e-3, max_length=4096)
        stats = finetune(model_source_for(model_name), Dataset.from_list(rows), config, out / "adapter", seed=0,
                         load_in_4bit=cuda, log_file=out / "trainer_log.jsonl")
        losses = [json.loads(line).get("loss") for line in (out / "trainer_log.jsonl").read_text().splitlines()]
        losses = [x for x in losses if x is not None]
        row_tokens = len(tokenizer(rows[0]["prompt"] + rows[0]["completion"])["input_ids"])
        return {"ok": losses[-1] < losses[0] and row_tokens <= config.max_length, "losses": [round(x, 3) for x in losses],
                "long_row_tokens": row_tokens, "steps": stats["steps"]}

    def adapter_reload():
        from itdeploy_lite.llm import load_model

        if not (out / "adapter").is_dir():
            return {"ok": False, "error": "no adapter (finetune_long_row failed)"}
        source = model_source_for(model_name)
        a, tokenizer = load_model(source, load_in_4bit=False, device=device, adapter=out / "adapter")
        b, _ = load_model(source, load_in_4bit=False, device=device, adapter=out / "adapter")
        ids = tokenizer("(pick-up b1)", return_tensors="pt").to(device)
        with torch.no_grad():
            diff = (a(**ids).logits - b(**ids).logits).abs().max().item()
        return {"ok": diff == 0.0, "max_logit_difference": diff}

    def memory_cycles():
        from datasets import Dataset

        from itdeploy_lite.backends import get_backend
        from itdeploy_lite.finetune import FinetuneConfig

        backend = get_backend("hf", load_in_4bit=True)
        rows = Dataset.from_list([{"prompt": "Plan:\n", "completion": "(pick-up b1)\n(stack b1 b2)"}] * 8)
        peaks = []
        for cycle in range(2):
            torch.cuda.reset_peak_memory_stats()
            backend.finetune(model_source_for(model_name), rows, FinetuneConfig(min_steps=2, max_steps=2, train_batch_size=4),
                             out / f"cycle{cycle}")
            backend.release()
            model, tokenizer = backend.load(model_source_for(model_name), out / f"cycle{cycle}")
            backend.generate(model, tokenizer, ["Plan:"], [32], progress=False)
            del model, tokenizer
            backend.release()
            peaks.append(torch.cuda.max_memory_allocated())
        return {"ok": peaks[1] <= 1.1 * peaks[0], "peak_gib": [round(p / 2**30, 2) for p in peaks]}

    def loop_unsloth():
        import subprocess

        command = [sys.executable, "-m", "itdeploy_lite.cli", "run", "--backend", "unsloth", "--model", model_name,
                   "--preset", "qwen3-small", "--generations", "1", "--tasks-per-generation", "4", "--sizes", "3",
                   "--samples-per-task", "2", "--heldout-per-size", "1", "--max-new-tokens", "512",
                   "--out", str(out / "loop"), "--no-progress"]
        first = subprocess.run(command, capture_output=True, text=True)
        again = subprocess.run(command, capture_output=True, text=True)  # a finished run: read back
        return {"ok": first.returncode == 0 and again.returncode == 0, "first_rc": first.returncode,
                "resume_rc": again.returncode, "tail": (first.stderr or "")[-200:]}

    def hf_full_precision():
        from itdeploy_lite.backends import get_backend
        from itdeploy_lite.llm.registry import model_source

        backend = get_backend("hf", load_in_4bit=False)
        model, tokenizer = backend.load(model_source(model_name))
        text = backend.generate(model, tokenizer, ["Plan:"], [8], temperature=0.0, progress=False)[0][0]
        return {"dtype": str(next(model.parameters()).dtype), "tokens": text["n_tokens"]}

    def vllm_vs_hf():
        import importlib.util

        from itdeploy_lite.backends import get_backend

        if importlib.util.find_spec("vllm") is None:
            raise StepNotRun("vllm is not installed (pip install -e '.[vllm]')")
        if not (out / "adapter").is_dir():
            return {"ok": False, "error": "no adapter (finetune_long_row failed)"}
        prompts, budgets, figures = [f"Plan {i}:" for i in range(64)], [256] * 64, {}
        for sampler in ("hf", "vllm"):
            backend = get_backend("hf", load_in_4bit=True)  # both nf4 (vLLM: its bitsandbytes quantization)
            backend.sampler = sampler
            backend.vllm_options = {"max_lora_rank": 16, "gpu_memory_utilization": 0.4}
            model, tokenizer = backend.sampling_model(model_source_for(model_name), out / "adapter")
            start = time.perf_counter()
            rows = backend.generate(model, tokenizer, prompts, budgets, k=4, temperature=0.6, batch_size=64,
                                    progress=False)
            tokens = sum(r["n_tokens"] for task in rows for r in task)
            figures[f"{sampler}_tok_s"] = round(tokens / (time.perf_counter() - start))
            del model, tokenizer
            backend.release()
        figures["vllm_over_hf"] = round(figures["vllm_tok_s"] / max(1, figures["hf_tok_s"]), 2)
        return figures

    def unsloth_vs_peft():
        from datasets import Dataset

        from itdeploy_lite.backends import get_backend
        from itdeploy_lite.finetune import FinetuneConfig

        rows = Dataset.from_list([{"prompt": "Plan for the task:\n", "completion": " ".join(["(unstack b1 b2)"] * 60)}] * 32)
        config, figures = FinetuneConfig(min_steps=10, max_steps=10, train_batch_size=8), {}
        for name in ("hf", "unsloth"):
            stats = get_backend(name, load_in_4bit=True).finetune(model_source_for(model_name), rows, config,
                                                                  out / f"speed_{name}")
            figures[f"{name}_s_per_step"] = round(stats["seconds"] / stats["steps"], 3)
        figures["unsloth_speedup"] = round(figures["hf_s_per_step"] / figures["unsloth_s_per_step"], 2)
        return figures

    def model_source_for(name):
        from itdeploy_lite.llm.registry import model_source

        return model_source(name)

    print(f"GPU self-check: {model_name} on {device}; results -> {out / 'gpu_check.json'}")
    for name, fn in (("versions", versions), ("load_4bit", load_4bit), ("longest_prompt", longest_prompt),
                     ("padding", padding), ("throughput", throughput), ("finetune_long_row", finetune_long_row),
                     ("adapter_reload", adapter_reload), ("memory_cycles", memory_cycles),
                     ("loop_unsloth", loop_unsloth), ("hf_full_precision", hf_full_precision),
                     ("vllm_vs_hf", vllm_vs_hf), ("unsloth_vs_peft", unsloth_vs_peft)):
        run_step(name, fn, args.timeout, results, cuda)
    (out / "gpu_check.json").write_text(json.dumps({"model": model_name, "device": device, "steps": results}, indent=1))
    ran = [r for r in results if r["status"] != "not run"]
    print(f"\n{sum(r['status'] == 'pass' for r in ran)} of {len(ran)} steps that ran passed; "
          f"{len(results) - len(ran)} GPU step(s) not run")
    return 0 if all(r["status"] == "pass" for r in ran) else 1


if __name__ == "__main__":
    sys.exit(main())
