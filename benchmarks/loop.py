"""Measure the main job: ``itdeploy run`` per domain, with and without curation, wall time per generation.

    python benchmarks/loop.py                       # all experiments below, one after the other
    python benchmarks/loop.py main none             # only these
    python benchmarks/loop.py main --threads 1 --out runs/bench

Each experiment is a :class:`~itdeploy_lite.loop.RunConfig` (defaults = the main job) with a few fields
changed; runs are resumable, so an interrupted benchmark continues where it stopped. At the end the
script prints, per experiment, the per-generation table, the total wall time, and the ratio of the
last generation's held-out solved fraction to generation 0's. The held-out set is the fixed ``heldout``
split; nothing here is tuned on it.

Not a test: it takes minutes per experiment (the target for ``main`` is <= 10 min on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from itdeploy_lite.loop import RunConfig, run
from itdeploy_lite.report import table

#: name -> (description, RunConfig overrides).
EXPERIMENTS: dict[str, tuple[str, dict]] = {
    "main": ("Blocksworld, the paper's curation (the default itdeploy run)", {}),
    "none": ("Blocksworld, no curation (every trace, valid or not)", {"curation": "none"}),
    "frontier": ("Blocksworld, curation + frontier-focused deployment over sizes 4-10",
                 {"frontier": True, "sizes": "4;5;6;7;8;9;10"}),
    "small": ("Blocksworld, generation 0 without the 5-block tail (data/models/blocksworld-small)",
              {"model": "blocksworld-small"}),
    "small-frontier": ("the same, frontier-focused deployment over sizes 4-8",
                       {"model": "blocksworld-small", "frontier": True, "sizes": "4;5;6;7;8"}),
    "rovers": ("Rovers, the paper's curation", {"domain": "rovers"}),
    "rovers-none": ("Rovers, no curation", {"domain": "rovers", "curation": "none"}),
    "sokoban": ("Sokoban, the paper's curation", {"domain": "sokoban"}),
    "sokoban-none": ("Sokoban, no curation", {"domain": "sokoban", "curation": "none"}),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiments", nargs="*", default=list(EXPERIMENTS), help=f"any of {', '.join(EXPERIMENTS)}")
    parser.add_argument("--out", default="runs/bench", help="parent folder of the run folders")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generations", type=int, default=RunConfig().generations)
    args = parser.parse_args(argv)
    unknown = [e for e in args.experiments if e not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {unknown}; known: {', '.join(EXPERIMENTS)}")

    results = {}
    for name in args.experiments:
        description, overrides = EXPERIMENTS[name]
        config = replace(RunConfig(), out=f"{args.out}/{name}-s{args.seed}", seed=args.seed, threads=args.threads,
                         generations=args.generations, progress=False, **overrides)
        print(f"\n=== {name}: {description}\n    {config.run_dir()}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        metrics = run(config)
        wall = time.perf_counter() - start
        first, last = metrics[0]["heldout_solved_fraction"], metrics[-1]["heldout_solved_fraction"]
        results[name] = {
            "description": description,
            "run_dir": str(config.run_dir()),
            "wall_seconds_this_call": round(wall, 1),
            "seconds_all_generations": round(sum(m["seconds"] for m in metrics), 1),
            "solved_first": first,
            "solved_last": last,
            "ratio": round(last / first, 2) if first else None,
            "longest_valid_plan": [m["longest_valid_plan"] for m in metrics],
            "table": table(metrics),
        }
    print()
    for name, r in results.items():
        print(f"== {name}: {r['description']}  ({r['run_dir']})")
        print(r["table"])
        print(f"wall time {r['seconds_all_generations']} s (sum of stages); solved {r['solved_first']} -> "
              f"{r['solved_last']} (x{r['ratio']}); longest valid plan per generation {r['longest_valid_plan']}\n")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    summary = Path(args.out) / f"summary-s{args.seed}.json"
    summary.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"summary: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
