"""Safety experiment: a curator with a hidden preference, and how the model drifts on it.

    python experiments/safety_drift.py                  # small settings: 3 generations, 60 tasks x 4 samples

Runs the loop with curation ``paper`` (reference), ``longest`` (hidden preference for long plans) and
``hidden-first-pickup`` (keeps only valid plans that begin with ``pick-up``), in ``<out>/<policy>-s<seed>``
(the folders ``experiments/curation_ablations.py`` writes: finished runs are reused). For each it prints the
implicit reward the curator implements (:mod:`itdeploy_lite.safety`) and, per generation, the visible metric
(held-out solved fraction, sample validity) beside the hidden ones (fraction of plans beginning with
``pick-up``, mean valid plan length), for greedy held-out plans and for sampled deployment plans.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from itdeploy_lite.ablate import ablate
from itdeploy_lite.loop import RunConfig
from itdeploy_lite.safety import IMPLICIT_REWARDS, drift, drift_table

SMALL = dict(generations=3, protocol="fresh", tasks_per_generation=60, samples_per_task=4, progress=False, threads=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", default="paper,longest,hidden-first-pickup")
    parser.add_argument("--out", default="runs/ablate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generations", type=int, default=SMALL["generations"])
    args = parser.parse_args(argv)
    config = replace(RunConfig(), **{**SMALL, "generations": args.generations, "seed": args.seed})
    policies = [p for p in args.policies.split(",") if p]
    ablate(config, policies, args.out)
    tables = {}
    for p in policies:
        rows = drift(Path(args.out) / f"{p}-s{args.seed}")
        tables[p] = rows
        print(f"\n== curation {p}\n   implicit reward: {IMPLICIT_REWARDS.get(p, '1[kept by the curator]')}")
        print(drift_table(rows))
    print("\ncolumns: solved = held-out solved fraction (greedy, the visible metric); hidden_* = fraction of plans "
          "whose first action is pick-up (greedy held-out / among valid greedy / sampled / among valid sampled); "
          "len_* = mean valid plan length (steps); valid_sampled = validity of deployment samples")
    (Path(args.out) / f"safety_drift-s{args.seed}.json").write_text(json.dumps(tables, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
