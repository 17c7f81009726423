"""Compare generation-0 checkpoints on dev tasks: greedy solved fraction, pass@k and mean plan length by size.

    python experiments/gen0_dev.py data/models/sokoban runs/gen0-sokoban-long --per-size 50 --samples 8

A lever on generation 0 (a longer pretraining, another tail) is chosen here, before any loop runs and
never on the held-out split: the tasks are fresh ``dev`` tasks (:func:`itdeploy_lite.pretrain.eval_problems`
with ``eval_split="dev"``: seed 10,000, the pretraining sizes then the held-out sizes, no train or
held-out task among them). Every folder is evaluated on the same tasks, one thread. Prints one markdown
row per size: for each folder the greedy solved fraction, pass@k at temperature 0.6 (the loop's) and
the mean length (steps) of the greedy valid plans. ``--task-objects-only`` samples every folder with
that rule (:class:`itdeploy_lite.deploy.DeployConfig`); run it with and without to compare.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from itdeploy_lite.models import load_embedded
from itdeploy_lite.pretrain import PretrainConfig, eval_problems, evaluate_sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="checkpoint folders of one domain (with metrics.json)")
    parser.add_argument("--per-size", type=int, default=50)
    parser.add_argument("--samples", type=int, default=8, help="k of pass@k (1: greedy only)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--task-objects-only", action="store_true",
                        help="sample with DeployConfig.task_objects_only (objects only from the task's prompt)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    configs = [json.loads((Path(f) / "metrics.json").read_text())["config"] for f in args.folders]
    domains = {c["domain"] for c in configs}
    if len(domains) != 1:
        parser.error(f"the folders are of different domains: {sorted(domains)}")
    first = configs[0]
    problems = eval_problems(PretrainConfig(domain=first["domain"], sizes=first["sizes"], eval_per_size=args.per_size,
                                            eval_split="dev"))
    results = []
    for folder in args.folders:
        model, tokenizer = load_embedded(folder)
        rule = {"task_objects_only": args.task_objects_only}
        greedy = evaluate_sizes(model, tokenizer, problems, **rule)
        sampled = (evaluate_sizes(model, tokenizer, problems, samples=args.samples, temperature=0.6, **rule)
                   if args.samples > 1 else {})
        results.append((greedy, sampled))
    header = "| size | tasks | " + " | ".join(f"{Path(f).name}: greedy / pass@{args.samples} / mean length"
                                              for f in args.folders) + " |"
    print(header)
    print("|" + "---|" * (2 + len(args.folders)))
    for tag in results[0][0]:
        cells = []
        for greedy, sampled in results:
            g = greedy[tag]
            length = f"{g['mean_plan_length']:.1f}" if g.get("mean_plan_length") else "-"
            k = f"{sampled[tag]['solved']:.2f}" if sampled else "-"
            cells.append(f"{g['solved']:.2f} / {k} / {length}")
        print(f"| {tag} | {results[0][0][tag]['n']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
