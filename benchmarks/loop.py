"""The results table: the main job per domain, the paper's curation against none, over seeds.

    python benchmarks/loop.py                                  # every experiment below, seeds 0 1 2
    python benchmarks/loop.py blocksworld blocksworld-none --seeds 0 1 2 --threads 1
    python benchmarks/loop.py collapse collapse-none --seeds 0  # 15 generations (model collapse)

Each experiment is a :class:`~itdeploy_lite.config.RunConfig` (defaults = the main job, ``itdeploy run``)
with a few fields changed. Runs go to ``--out/<experiment>-s<seed>`` and are resumable: an interrupted
benchmark continues where it stopped, and a finished run is only read back.

Written: ``benchmarks/results/fidelity.json`` (``--results``), one record per domain, curation, seed and
generation, holding ``experiment``, ``domain``, ``curation``, ``seed`` and the keys of
``itdeploy report --json`` (:data:`itdeploy_lite.report.SUMMARY_KEYS`). Records of experiments not run
in this call are kept, so the file can be filled one experiment at a time; ``collapse.png`` beside it
plots the two 15-generation experiments (:func:`collapse_plot`). Printed: per experiment and
generation, the mean and the spread (min-max) over seeds of the pool's solved fraction (a task solved
when one of its k samples is valid), its greedy solved fraction, the longest valid pool plan and the
held-out solved fraction, then the ratio last / first generation of the mean pool solved fraction; last,
the README's results table (Markdown) over every experiment in the records file.

Nothing here is tuned on the held-out tasks. Not a test: minutes per run (the main job's target is
<= 10 min on a 2-core CPU). Run at most two benchmarks at once, each with ``--threads 1``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from itdeploy_lite import atomic
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.loop import RunConfig, run
from itdeploy_lite.report import summary

#: The Sokoban generation 0 before 2026-12-01 (800 pretraining steps, ``data/models/sokoban-800steps``)
#: and its pool (50 tasks each of its two pretraining sizes and three 2-box sizes), for its rows.
SOKOBAN_800STEPS = {"model": "sokoban-800steps", "tasks_per_generation": 250,
                    "sizes": "grid=5,boxes=1,walls=3;grid=6,boxes=1,walls=4;grid=5,boxes=2,walls=3;"
                             "grid=6,boxes=2,walls=4;grid=7,boxes=2,walls=6"}

#: name -> (description, RunConfig overrides).
EXPERIMENTS: dict[str, tuple[str, dict]] = {
    "blocksworld": ("Blocksworld, the paper's curation (the default itdeploy run)", {}),
    "blocksworld-none": ("Blocksworld, no curation (every trace, valid or not)", {"curation": "none"}),
    "rovers": ("Rovers, the paper's curation", {"domain": "rovers"}),
    "rovers-none": ("Rovers, no curation", {"domain": "rovers", "curation": "none"}),
    "sokoban": ("Sokoban, the paper's curation", {"domain": "sokoban"}),
    "sokoban-none": ("Sokoban, no curation", {"domain": "sokoban", "curation": "none"}),
    "sokoban-800steps": ("Sokoban, the paper's curation, the 800-step generation 0 and its pool",
                         {"domain": "sokoban", **SOKOBAN_800STEPS}),
    "sokoban-800steps-none": ("Sokoban, no curation, the 800-step generation 0 and its pool",
                              {"domain": "sokoban", "curation": "none", **SOKOBAN_800STEPS}),
    "blocksworld-previous": ("Blocksworld, the paper's curation, each generation continuing the previous "
                             "adapter (--from previous; the paper retrains from the base)", {"init_from": "previous"}),
    "rovers-pool1002": ("Rovers, the paper's curation, a pool of 1,002 tasks (167 per size; default 240)",
                        {"domain": "rovers", "tasks_per_generation": 1002}),
    "sokoban-800steps-pool835": ("Sokoban, the paper's curation, the 800-step generation 0, a pool of 835 tasks "
                                 "of its pool's sizes (167 per size; default 250)",
                                 {"domain": "sokoban", **SOKOBAN_800STEPS, "tasks_per_generation": 835}),
    "sokoban-scaled": ("Sokoban, the paper's curation, a fine-tuning budget that scales with the curated set "
                       "(4 epochs, no 40-step floor: 6-8 steps on ~50-65 rows)",
                       {"domain": "sokoban", "finetune": FinetuneConfig(min_steps=0)}),
    "sokoban-replay": ("Sokoban, the paper's curation, 64 reference rows (optimal plans of pretrain-split tasks) "
                       "replayed in every generation's fine-tuning set (--replay 64)",
                       {"domain": "sokoban", "replay": 64}),
    "sokoban-previous": ("Sokoban, the paper's curation, each generation continuing the previous adapter "
                         "(--from previous)", {"domain": "sokoban", "init_from": "previous"}),
    "rovers-h256": ("Rovers, the paper's curation, the 4.5 M-parameter generation 0 (data/models/rovers-h256, "
                    "hidden 256; default 1.1 M), the same pretraining otherwise", {"domain": "rovers", "model": "rovers-h256"}),
    "rovers-objects": ("Rovers, the paper's curation, every sample naming only objects its task names "
                       "(--task-objects-only: the planner's other object tokens masked; not the paper's)",
                       {"domain": "rovers", "task_objects_only": True}),
    "rovers-h256-objects": ("Rovers, the paper's curation, the 4.5 M-parameter generation 0 and --task-objects-only",
                            {"domain": "rovers", "model": "rovers-h256", "task_objects_only": True}),
    "rovers-t1": ("Rovers, the paper's curation, deployment and evaluation at temperature 1.0 in every generation "
                  "(the paper: 0.6)", {"domain": "rovers", "temperature": 1.0}),
    "rovers-scaled": ("Rovers, the paper's curation, a fine-tuning budget that scales with the curated set "
                      "(4 epochs, no 40-step floor)", {"domain": "rovers", "finetune": FinetuneConfig(min_steps=0)}),
    "blocksworld-r128": ("Blocksworld, the paper's curation, full-rank LoRA (r 128 = the hidden size, alpha 256: "
                         "every linear layer's update unconstrained, a stand-in for full fine-tuning; default r 16)",
                         {"finetune": FinetuneConfig(lora_r=128, lora_alpha=256)}),
    "blocksworld-r128-previous": ("Blocksworld, the paper's curation, full-rank LoRA (r 128, alpha 256) continuing "
                                  "the previous generation's adapter (--from previous): the two best fine-tuning "
                                  "levers together", {"init_from": "previous",
                                                      "finetune": FinetuneConfig(lora_r=128, lora_alpha=256)}),
    "blocksworld-pool1500": ("Blocksworld, the paper's curation, a pool of 1,500 tasks (250 per size; default 1,002)",
                             {"tasks_per_generation": 1500}),
    "blocksworld-fresh": ("Blocksworld, the paper's curation, fresh tasks every generation (1,002 of 5-10 blocks; "
                          "the pool columns are those tasks' pass@k and longest plan)",
                          {"protocol": "fresh", "sizes": "5;6;7;8;9;10", "tasks_per_generation": 1002}),
    "blocksworld-renamed": ("Blocksworld, the paper's curation, each curated plan also trained on under 4 renamings "
                            "of its task's objects (--renamings 4; not in the paper)", {"renamings": 4}),
    "blocksworld-renamed-e08": ("Blocksworld, the paper's curation, --renamings 4 at the default's fine-tuning steps "
                                "(0.8 epochs over the 5x rows: 4 epochs' worth of the curated rows, 40-64 steps "
                                "instead of 120)", {"renamings": 4, "finetune": FinetuneConfig(epochs=0.8)}),
    "blocksworld-renamed-none": ("Blocksworld, no curation, every trace also trained on under 4 renamings (the "
                                 "control of blocksworld-renamed)", {"curation": "none", "renamings": 4}),
    "rovers-renamed": ("Rovers, the paper's curation, each curated plan also trained on under 4 renamings of its "
                       "task's objects (--renamings 4; not in the paper)", {"domain": "rovers", "renamings": 4}),
    "rovers-h256-renamed": ("Rovers, the paper's curation, the 4.5 M-parameter generation 0 (rovers-h256) and 4 "
                            "renamings of each curated plan (--renamings 4): the two best Rovers levers together",
                            {"domain": "rovers", "model": "rovers-h256", "renamings": 4}),
    "sokoban-renamed": ("Sokoban, the paper's curation, each curated plan also trained on as 4 copies: the board "
                        "mirrored or transposed, boxes renumbered (--renamings 4; not in the paper)",
                        {"domain": "sokoban", "renamings": 4}),
    "sokoban-stage2": ("Sokoban, the paper's curation, generation 0 = data/models/sokoban-stage2 (the shipped "
                       "model continued for 1,200 steps on a corpus half 2-box boards)",
                       {"domain": "sokoban", "model": "sokoban-stage2"}),
    "sokoban-stage2-none": ("Sokoban, no curation, generation 0 = data/models/sokoban-stage2",
                            {"domain": "sokoban", "model": "sokoban-stage2", "curation": "none"}),
    "sokoban-stage2-renamed": ("Sokoban, the paper's curation, generation 0 = data/models/sokoban-stage2, each "
                               "curated plan also trained on as 4 board-symmetry copies (--renamings 4)",
                               {"domain": "sokoban", "model": "sokoban-stage2", "renamings": 4}),
    "sokoban-stage2-renamed-120": ("Sokoban, generation 0 = data/models/sokoban-stage2, 4 board-symmetry copies of each "
                                   "curated plan and at least 120 fine-tuning steps (the regime of blocksworld-renamed, "
                                   "whose copies hit the 120-step cap; here they make 40-61 steps)",
                                   {"domain": "sokoban", "model": "sokoban-stage2", "renamings": 4,
                                    "finetune": FinetuneConfig(min_steps=120)}),
    "rovers-renamed-120": ("Rovers, the paper's curation, 4 renamings of each curated plan and at least 120 "
                           "fine-tuning steps (rovers-renamed: 40)",
                           {"domain": "rovers", "renamings": 4, "finetune": FinetuneConfig(min_steps=120)}),
    "sokoban-stage2-renamed12-120": ("Sokoban, generation 0 = data/models/sokoban-stage2, 12 board-symmetry copies of "
                                     "each curated plan and 120 fine-tuning steps (sokoban-stage2-renamed-120: 4 "
                                     "copies, 8-12 epochs over its rows)",
                                     {"domain": "sokoban", "model": "sokoban-stage2", "renamings": 12,
                                      "finetune": FinetuneConfig(min_steps=120)}),
    "sokoban-stage2-renamed-120-g10": ("sokoban-stage2-renamed-120 for 10 generations (the paper's 5: does the "
                                       "pool, still rising at generation 5, reach 2x later?)",
                                       {"domain": "sokoban", "model": "sokoban-stage2", "renamings": 4,
                                        "finetune": FinetuneConfig(min_steps=120), "generations": 10}),
    "ferry": ("Ferry (IPC 2023 learning track), the paper's curation", {"domain": "ferry"}),
    "ferry-none": ("Ferry, no curation", {"domain": "ferry", "curation": "none"}),
    "miconic": ("Miconic (IPC 2023 learning track), the paper's curation", {"domain": "miconic"}),
    "miconic-none": ("Miconic, no curation", {"domain": "miconic", "curation": "none"}),
    "collapse": ("Blocksworld, the paper's curation, 15 generations (model collapse)", {"generations": 15}),
    "collapse-none": ("Blocksworld, no curation, 15 generations (model collapse)",
                      {"generations": 15, "curation": "none"}),
}
DEFAULT_EXPERIMENTS = ("blocksworld", "blocksworld-none", "rovers", "rovers-none", "sokoban", "sokoban-none")
COLUMNS = ("pool_solved_fraction", "pool_greedy_solved_fraction", "pool_longest_valid_plan", "heldout_solved_fraction")


def records(name: str, config: RunConfig, metrics: list[dict]) -> list[dict]:
    """One fidelity record per generation of a run: the ``itdeploy report --json`` keys, plus the
    deployed tasks' solved fraction (pass@k) and longest valid plan (``deploy_solved_fraction``,
    ``deploy_longest_valid_plan``; under protocol ``fresh``, where there is no pool, the table shows them
    in the pool's columns)."""
    out = []
    for row, m in zip(summary(metrics), metrics):
        deploy = m.get("deploy") or {}  # absent where a generation deploys nothing (fresh: the last one)
        out.append({"experiment": name, "domain": config.domain, "curation": config.curation, "seed": config.seed,
                    "protocol": config.protocol, **row,
                    "deploy_solved_fraction": round(deploy["solved_tasks"] / deploy["tasks"], 4) if deploy.get("tasks") else None,
                    "deploy_longest_valid_plan": deploy.get("longest_valid_plan")})
    return out


#: Protocol ``fresh`` has no pool: its deployed tasks (new each generation) stand in the pool's columns.
FRESH_COLUMNS = {"pool_solved_fraction": "deploy_solved_fraction", "pool_longest_valid_plan": "deploy_longest_valid_plan"}


def column_of(rows: list[dict], column: str) -> str:
    """The record key shown in ``column`` for these rows (:data:`FRESH_COLUMNS` for a ``fresh`` run)."""
    fresh = rows and all(r.get("protocol") == "fresh" for r in rows)
    return FRESH_COLUMNS.get(column, column) if fresh else column


def by_generation(rows: list[dict], column: str) -> dict[int, list]:
    """Generation -> the values of ``column`` over the seeds of ``rows`` (``None`` values left out)."""
    values: dict[int, list] = {}
    for r in sorted(rows, key=lambda r: r["generation"]):
        values.setdefault(r["generation"], [])
        if r[column] is not None:
            values[r["generation"]].append(r[column])
    return values


def spread_table(rows: list[dict]) -> str:
    """Per generation: ``mean [min, max]`` over seeds of :data:`COLUMNS`, then the pool ratio last / first."""
    seeds = sorted({r["seed"] for r in rows})
    lines = [f"seeds {seeds}", "gen  " + "  ".join(f"{c:>26}" for c in COLUMNS)]
    columns = {column: by_generation(rows, column_of(rows, column)) for column in COLUMNS}
    means = [sum(v) / len(v) for v in columns["pool_solved_fraction"].values() if v]
    for g in columns["pool_solved_fraction"]:
        cells = []
        for column in COLUMNS:
            values = columns[column][g]
            text = f"{sum(values) / len(values):>8.3f} [{min(values):.3f}, {max(values):.3f}]" if values else "-"
            cells.append(text.rjust(26))
        lines.append(f"{g:>3}  " + "  ".join(cells))
    if len(means) > 1 and means[0]:
        lines.append(f"pool solved, last / first generation (mean over seeds): x{means[-1] / means[0]:.2f}")
    return "\n".join(lines)


def markdown_table(rows: list[dict], experiments: list[str]) -> str:
    """The README's results table: one line per experiment, per generation the mean over seeds (spread
    min-max of the last generation in brackets) of the pool's solved fraction, its greedy solved fraction,
    the longest valid pool plan and the held-out solved fraction."""
    lines = ["| experiment | seeds | pool solved (pass@k), gen 0 → last | last / first | pool greedy | "
             "longest pool plan | held-out solved |", "|---|---|---|---|---|---|---|"]
    for name in experiments:
        mine = [r for r in rows if r["experiment"] == name]
        if not mine:
            continue
        seeds = sorted({r["seed"] for r in mine})
        cells = []
        for column, digits in zip(COLUMNS, (2, 2, 0, 2)):
            by_gen = [v for v in by_generation(mine, column_of(mine, column)).values() if v]  # fresh: no last deployment
            if not by_gen:
                cells += ["-", "-"] if column == "pool_solved_fraction" else ["-"]
                continue
            means = [sum(v) / len(v) for v in by_gen]
            text = " ".join(f"{m:.{digits}f}" for m in means)
            if len(seeds) > 1:
                text += f" [{min(by_gen[-1]):.{digits}f}–{max(by_gen[-1]):.{digits}f}]"
            cells.append(text)
            if column == "pool_solved_fraction":
                cells.append(f"{means[-1] / means[0]:.2f}x" if means[0] else "-")
        lines.append(f"| {name} | {len(seeds)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def collapse_plot(rows: list[dict], path: Path) -> Path | None:
    """Model collapse, one figure: per generation, the mean over seeds of the pool's solved fraction (pass@k
    and greedy), the held-out solved fraction and the longest valid pool plan, ``collapse`` (the paper's
    curation) against ``collapse-none`` (no curation). ``None`` when neither experiment has records."""
    mine = {name: [r for r in rows if r["experiment"] == name] for name in ("collapse", "collapse-none")}
    if not any(mine.values()):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (solved, longest) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, style in (("collapse", "-"), ("collapse-none", "--")):
        if not mine[name]:
            continue
        label = "paper curation" if name == "collapse" else "no curation"
        for column, colour, what in (("pool_solved_fraction", "C0", "pool pass@8"),
                                     ("pool_greedy_solved_fraction", "C1", "pool greedy"),
                                     ("heldout_solved_fraction", "C2", "held-out")):
            series = by_generation(mine[name], column)
            solved.plot(list(series), [sum(v) / len(v) for v in series.values()], style, color=colour,
                        label=f"{what}, {label}")
        series = by_generation(mine[name], "pool_longest_valid_plan")
        longest.plot(list(series), [sum(v) / len(v) for v in series.values()], style, color="C3", label=label)
    solved.set(xlabel="generation", ylabel="solved fraction", ylim=(0, 1), title="Blocksworld, 15 generations")
    longest.set(xlabel="generation", ylabel="steps", title="longest valid pool plan")
    solved.legend(fontsize=7)
    longest.legend(fontsize=8)
    fig.tight_layout()
    with atomic.open_atomic(path, "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiments", nargs="*", default=list(DEFAULT_EXPERIMENTS), help=f"any of {', '.join(EXPERIMENTS)}")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="runs/bench", help="parent folder of the run folders")
    parser.add_argument("--results", default="benchmarks/results/fidelity.json", help="the records file")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--tables-only", action="store_true",
                        help="run nothing: print the tables and redraw the figure from the records file")
    args = parser.parse_args(argv)
    unknown = [e for e in args.experiments if e not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {unknown}; known: {', '.join(EXPERIMENTS)}")

    results = Path(args.results)
    new: list[dict] = []
    for name in [] if args.tables_only else args.experiments:
        description, overrides = EXPERIMENTS[name]
        for seed in args.seeds:
            config = replace(RunConfig(), out=f"{args.out}/{name}-s{seed}", seed=seed, threads=args.threads,
                             progress=False, **overrides)
            print(f"\n=== {name} (seed {seed}): {description}\n    {config.run_dir()}", file=sys.stderr, flush=True)
            start = time.perf_counter()
            metrics = run(config)
            print(f"    {time.perf_counter() - start:.0f} s this call; {sum(m['seconds'] for m in metrics):.0f} s "
                  "of stages in all", file=sys.stderr, flush=True)
            new += records(name, config, metrics)
    done = {(r["experiment"], r["seed"]) for r in new}
    kept = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else []  # read late: runs may overlap
    merged = [r for r in kept if (r["experiment"], r["seed"]) not in done] + new
    if new:
        atomic.write_json(results, merged, indent=1)
    shown = [e for e in EXPERIMENTS if any(r["experiment"] == e for r in merged)] if args.tables_only else args.experiments
    for name in shown:
        print(f"\n== {name}: {EXPERIMENTS[name][0]}")
        print(spread_table([r for r in merged if r["experiment"] == name]))
    print("\n" + markdown_table(merged, [e for e in EXPERIMENTS if any(r["experiment"] == e for r in merged)]))
    figure = collapse_plot(merged, results.with_name("collapse.png"))
    if figure is not None:
        print(f"\nmodel collapse figure: {figure}")  # a blank line: the table above can be copied whole
    print(f"\nrecords: {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
