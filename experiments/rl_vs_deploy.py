"""Explicit RL (GRPO-style REINFORCE) against iterative deployment: same tasks, samples and held-out set.

    python experiments/rl_vs_deploy.py                  # small settings: 3 generations, 60 tasks x 4 samples
    python experiments/rl_vs_deploy.py --generations 5 --tasks-per-generation 150 --samples-per-task 8

Iterative deployment is ``itdeploy run --curation paper`` in ``<out>/paper-s<seed>`` (the folder
``experiments/curation_ablations.py`` writes with the same settings: an existing finished run is reused);
RL is :func:`itdeploy_lite.rl.train` in ``<out>/rl-s<seed>``. Prints held-out solved fraction per generation for
both, deployment validity, and wall time; draws both on one plot.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from itdeploy_lite.ablate import comparison_plot, comparison_table
from itdeploy_lite.loop import RunConfig, run
from itdeploy_lite.rl import RLConfig, train, train_trl

SMALL = dict(generations=3, protocol="fresh", tasks_per_generation=60, samples_per_task=4, progress=False, threads=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/ablate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generations", type=int, default=SMALL["generations"])
    parser.add_argument("--tasks-per-generation", type=int, default=SMALL["tasks_per_generation"])
    parser.add_argument("--samples-per-task", type=int, default=SMALL["samples_per_task"])
    parser.add_argument("--rl-learning-rate", type=float, default=RLConfig().rl_learning_rate)
    parser.add_argument("--rl-epochs", type=int, default=RLConfig().rl_epochs)
    parser.add_argument("--trl", action=argparse.BooleanOptionalAction, default=True,
                        help="also run TRL's GRPOTrainer variant (default: yes)")
    args = parser.parse_args(argv)
    base = replace(RunConfig(), **{**SMALL, "generations": args.generations, "seed": args.seed,
                                   "tasks_per_generation": args.tasks_per_generation,
                                   "samples_per_task": args.samples_per_task})
    start = time.perf_counter()
    deploy_metrics = run(replace(base, curation="paper", out=f"{args.out}/paper-s{args.seed}"))
    deploy_wall = time.perf_counter() - start
    start = time.perf_counter()
    rl_metrics = train(RLConfig(run=replace(base, out=f"{args.out}/rl-s{args.seed}"),
                                rl_learning_rate=args.rl_learning_rate, rl_epochs=args.rl_epochs))
    rl_wall = time.perf_counter() - start
    results = {"iterative deployment (paper)": deploy_metrics, "RL (GRPO-style REINFORCE)": rl_metrics}
    trl_wall = 0.0
    if args.trl:
        start = time.perf_counter()
        results["RL (TRL GRPOTrainer)"] = train_trl(RLConfig(run=replace(base, out=f"{args.out}/rl-trl-s{args.seed}"),
                                                             rl_learning_rate=args.rl_learning_rate,
                                                             rl_epochs=args.rl_epochs, trl=True))
        trl_wall = time.perf_counter() - start
    curves = {k: [m["heldout_solved_fraction"] for m in ms] for k, ms in results.items()}
    print("\nheld-out solved fraction (greedy) per generation")
    print(comparison_table(curves, "method"))
    print("\nvalid fraction of the deployment samples per generation")
    print(comparison_table({k: [m["deploy"]["valid_fraction"] if m.get("deploy") else m["finetune"]["mean_reward"]
                                for m in ms if m.get("deploy") or (m.get("finetune") or {}).get("mean_reward") is not None]
                            for k, ms in results.items()}, "method"))
    print("(TRL: mean reward of its own samples, shifted by one: column g is the samples that trained generation g+1)")
    print("\nmean valid held-out plan length per generation")
    print(comparison_table({k: [m["mean_valid_plan_length"] or 0.0 for m in ms] for k, ms in results.items()}, "method"))
    print("\ntraining rows per generation (loop: curated pool; RL: traces with nonzero advantage)")
    print(comparison_table({k: [m["train_pool_size"] for m in ms] for k, ms in results.items()}, "method"))
    print(f"\nwall time: iterative deployment {sum(m['seconds'] for m in deploy_metrics):.0f} s (stage sum; "
          f"{deploy_wall:.0f} s this call, 0 if reused), RL {rl_wall:.0f} s, TRL {trl_wall:.0f} s")
    plot = comparison_plot(curves, Path(args.out) / f"rl_vs_deploy-s{args.seed}.png", "RL vs iterative deployment")
    (Path(args.out) / f"rl_vs_deploy-s{args.seed}.json").write_text(json.dumps(curves, indent=2), encoding="utf-8")
    print(f"plot: {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
