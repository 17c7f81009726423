"""Evaluate a generation-0 checkpoint on the fixed held-out split (plus fresh small tasks) and rewrite its card.

    python experiments/gen0_card.py FOLDER [--per-size 40] [--samples 1] [--threads 1]

Reads ``FOLDER/metrics.json`` (written by ``itdeploy_lite.pretrain``), replaces its ``eval`` with the
greedy solved fraction per size on the held-out split, adds pass@8 if ``--samples 8``, and rewrites
``MODEL_CARD.md``. Used once per shipped checkpoint; settings are chosen on ``dev`` tasks, never here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from itdeploy_lite.models import load_embedded
from itdeploy_lite.pretrain import PretrainConfig, eval_problems, evaluate_sizes, model_card


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--per-size", type=int, default=40)
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = Path(args.folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    c = metrics["config"]
    config = PretrainConfig(domain=c["domain"], sizes=c["sizes"], eval_per_size=args.per_size, eval_split="heldout")
    model, tokenizer = load_embedded(folder)
    problems = eval_problems(config)
    metrics["eval"] = evaluate_sizes(model, tokenizer, problems)
    metrics["eval_split"] = "heldout"
    if args.samples > 1:
        sampled = evaluate_sizes(model, tokenizer, problems, samples=args.samples, temperature=0.8)
        for tag, r in sampled.items():
            metrics["eval"][tag][f"pass@{args.samples}"] = r["solved"]
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    (folder / "MODEL_CARD.md").write_text(model_card(metrics))
    print(json.dumps(metrics["eval"], indent=1))


if __name__ == "__main__":
    main()
