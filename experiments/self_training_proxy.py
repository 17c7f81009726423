"""A quick self-training proxy for choosing generation-0 settings (not the project's loop).

    python experiments/self_training_proxy.py FOLDER [--rounds 2] [--steps 200] [--out result.json]

Per round: deploy the model on fresh frontier tasks (Blocksworld 4-6 blocks, tasks never in the
project's train or held-out splits), k=8 at temperature 0.8; keep the shortest valid completion per
task (pooled over rounds, as the paper's curation); fine-tune the whole model on pool x 2 + replayed
generation-0 examples for ``--steps`` steps at lr 3e-4; evaluate greedily on ``dev`` tasks (3-8
blocks, seed 10_000 - not the held-out split). Prints and saves the per-round table.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from itdeploy_lite.deploy import DeployConfig, as_tasks, deploy
from itdeploy_lite.formats import CompactFormat
from itdeploy_lite.models import load_embedded
from itdeploy_lite.planning import validate
from itdeploy_lite.planning.generators import generate_problems, size_tag
from itdeploy_lite.pretrain import PretrainConfig, encode_rows, excluded_keys, evaluate_sizes, reference_corpus, train_sft


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--tasks-per-size", type=int, default=30)
    parser.add_argument("--eval-per-size", type=int, default=30)
    parser.add_argument("--replay", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, tokenizer = load_embedded(args.folder)
    trace = getattr(model.config, "plan_trace", "none")
    excluded = excluded_keys("blocksworld")
    dev = [p for n in range(3, 9) for p in generate_problems(
        "blocksworld", {"blocks": n, "name_pool": 10}, args.eval_per_size, seed=10_000,
        accept=lambda p: p.key not in excluded)]
    from itdeploy_lite.models import ModelConfig

    replay_rows = reference_corpus(PretrainConfig(n_problems=args.replay, seed=777, progress=False,
                                                  model=ModelConfig(plan_trace=trace)))
    replay = encode_rows(replay_rows, tokenizer)
    table = [{"round": 0, "dev": {k: v["solved"] for k, v in evaluate_sizes(model, tokenizer, dev).items()}}]
    print(json.dumps(table[-1]), flush=True)
    pool: dict[str, dict] = {}
    for rnd in range(1, args.rounds + 1):
        start = time.time()
        frontier = [p for n in (4, 5, 6) for p in generate_problems(
            "blocksworld", {"blocks": n, "name_pool": 10}, args.tasks_per_size, seed=30_000 + rnd,
            accept=lambda p: p.key not in excluded)]
        tasks = dict(as_tasks(frontier))
        records = deploy(model, tokenizer, list(tasks.items()),
                         DeployConfig(samples_per_task=8, temperature=0.8, seed=rnd, progress=False),
                         prompt_format=CompactFormat.of_model(model, tokenizer))
        for r in records:
            result = validate(tasks[r["task_id"]], CompactFormat().plan_text(r["completion"]))
            if result.valid:
                key = r["prompt"]
                best = pool.get(key)
                if best is None or (result.plan_length, r["n_tokens"]) < (best["len"], best["tok"]):
                    pool[key] = {"prompt": r["prompt"], "completion": r["completion"],
                                 "len": result.plan_length, "tok": r["n_tokens"]}
        rows = [{"prompt": v["prompt"], "completion": v["completion"] if v["completion"].endswith("</s>")
                 else v["completion"] + "</s>"} for v in pool.values()]
        examples = encode_rows(rows, tokenizer) * 2 + replay
        train_sft(model, examples, args.steps, 32, 3e-4, tokenizer.pad_token_id, seed=rnd, warmup_steps=10,
                  progress=False, log_every=10_000)
        solved = {k: v["solved"] for k, v in evaluate_sizes(model, tokenizer, dev).items()}
        table.append({"round": rnd, "pool": len(pool), "mean_pool_plan_length": sum(v["len"] for v in pool.values()) / max(1, len(pool)),
                      "frontier_valid_samples": sum(1 for r in records if validate(tasks[r["task_id"]], CompactFormat().plan_text(r["completion"])).valid) / len(records),
                      "dev": solved, "seconds": round(time.time() - start)})
        print(json.dumps(table[-1]), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
