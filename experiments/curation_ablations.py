"""Curation ablations: the loop under several curation presets, one table and one plot.

    python experiments/curation_ablations.py                                  # small settings (below)
    python experiments/curation_ablations.py --policies paper,none --generations 5 --tasks-per-generation 150

Same as ``itdeploy ablate`` (:mod:`itdeploy_lite.ablate`); every run folder is ``<out>/<policy>-s<seed>``
and resumable. The small settings (3 generations, 60 tasks x 4 samples per generation) fit in a few minutes
per preset on a 2-core CPU; they are noisy (one seed, 150 held-out tasks), read them as a smoke test of the
trend, not as a measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from itdeploy_lite.ablate import DEFAULT_POLICIES, ablate, comparison_plot, comparison_table, solved_curves
from itdeploy_lite.loop import RunConfig

#: The small settings every experiment script of issue 5 shares (so runs can be reused between them).
SMALL = dict(generations=3, protocol="fresh", tasks_per_generation=60, samples_per_task=4, progress=False, threads=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", default=",".join(DEFAULT_POLICIES))
    parser.add_argument("--out", default="runs/ablate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generations", type=int, default=SMALL["generations"])
    parser.add_argument("--tasks-per-generation", type=int, default=SMALL["tasks_per_generation"])
    parser.add_argument("--samples-per-task", type=int, default=SMALL["samples_per_task"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    config = replace(RunConfig(), **{**SMALL, "generations": args.generations, "threads": args.threads,
                                     "tasks_per_generation": args.tasks_per_generation,
                                     "samples_per_task": args.samples_per_task, "seed": args.seed})
    policies = [p for p in args.policies.split(",") if p]
    start = time.perf_counter()
    results = ablate(config, policies, args.out)
    curves = solved_curves(results)
    print("\nheld-out solved fraction (greedy) per generation")
    print(comparison_table(curves))
    print("\ncuration pool size (rows trained on) per generation")
    print(comparison_table({p: [m["train_pool_size"] for m in ms] for p, ms in results.items()}))
    print("\nmean valid held-out plan length per generation")
    print(comparison_table({p: [m["mean_valid_plan_length"] or 0.0 for m in ms] for p, ms in results.items()}))
    print("\nstage seconds summed over generations")
    for p, ms in results.items():
        print(f"  {p:<13} {sum(m['seconds'] for m in ms):7.1f} s")
    plot = comparison_plot(curves, Path(args.out) / f"ablation-s{args.seed}.png", "curation ablations")
    summary = Path(args.out) / f"summary-s{args.seed}.json"
    summary.write_text(json.dumps({"curves": curves, "config": SMALL, "wall_seconds": round(time.perf_counter() - start, 1)},
                                  indent=2), encoding="utf-8")
    print(f"plot: {plot}\nsummary: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
