"""Measure sampling speed of the embedded model: completion tokens per second at several batch sizes.

    python experiments/deploy_throughput.py [--model blocksworld] [--batches 32 128] [--threads 1 2]

Samples k=8 completions (temperature 0.8) for enough Blocksworld tasks (4-6 blocks) to fill each batch
size a few times, and prints tokens/s = sum of ``n_tokens`` / wall seconds, per (threads, batch size).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from itdeploy_lite.deploy import DeployConfig, as_tasks, deploy
from itdeploy_lite.formats import CompactFormat
from itdeploy_lite.models import load_embedded
from itdeploy_lite.planning.generators import generate_problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="blocksworld")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tasks", type=int, default=32)
    args = parser.parse_args()
    model, tokenizer = load_embedded(args.model)
    problems = [p for n in (4, 5, 6) for p in generate_problems("blocksworld", {"blocks": n, "name_pool": 10},
                                                                 args.tasks // 3 + 1, seed=7)]
    tasks = as_tasks(problems)
    results = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for batch in args.batches:
            config = DeployConfig(samples_per_task=8, temperature=0.8, batch_size=batch, progress=False)
            start = time.time()
            records = deploy(model, tokenizer, tasks, config, prompt_format=CompactFormat.of_model(model, tokenizer))
            seconds = time.time() - start
            tokens = sum(r["n_tokens"] for r in records)
            results.append({"threads": threads, "batch": batch, "samples": len(records), "tokens": tokens,
                            "seconds": round(seconds, 2), "tokens_per_s": round(tokens / seconds)})
            print(json.dumps(results[-1]), flush=True)


if __name__ == "__main__":
    main()
