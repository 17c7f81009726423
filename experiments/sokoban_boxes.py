"""Which Sokoban tasks a generation solves: how many of their boxes still had to be moved.

    python experiments/sokoban_boxes.py runs/sokoban-s0 --generation 0

A 2-box task whose initial state already holds one box on its goal square is, for the planner, a 1-box
task. This script reads ``gen_NN/traces.jsonl`` of a run folder (the deployment samples, stamped
``valid`` by validation; :mod:`itdeploy_lite.records`) and prints, per task size, the tasks and the solved
ones (a valid sample among the task's k: the pool's pass@k) split by the number of boxes **off** their
goal in the initial state, and the mean number of ``push`` steps of the shortest valid plans. A
generation that solves only tasks with one box off its goal has shown no 2-box skill the loop could
curate.

The box positions are read from the prompt's ``(at boxN loc_r_c)`` atoms, in ``init:`` and ``goal:``
(:func:`itdeploy_lite.prompts.task_prompt`'s compact format; a ``pddl`` prompt is not parsed here).
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

from itdeploy_lite.curate import read_jsonl
from itdeploy_lite.run_folder import generation_dir

_AT = re.compile(r"\(at (box\d+) (loc_\d+_\d+)\)")


def boxes_off_goal(prompt: str) -> int:
    """The number of boxes whose initial square is not their goal square, from a compact Sokoban prompt.

    Raises:
        ValueError: the prompt has no ``goal:`` line (not the compact format).
    """
    if "goal:" not in prompt:
        raise ValueError("not a compact Sokoban prompt: no 'goal:' line")
    init_text, goal_text = prompt.split("goal:", 1)
    init, goal = dict(_AT.findall(init_text)), dict(_AT.findall(goal_text))
    return sum(init.get(box) != square for box, square in goal.items())


def tally(traces: list[dict]) -> dict[tuple[str, int], dict]:
    """``(size, boxes off goal)`` -> ``{"tasks", "solved", "pushes"}`` (``pushes``: the push count of each
    solved task's shortest valid plan)."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    for r in traces:
        by_task[r["task_id"]].append(r)
    out: dict[tuple[str, int], dict] = defaultdict(lambda: {"tasks": 0, "solved": 0, "pushes": []})
    for samples in by_task.values():
        cell = out[(samples[0]["size"], boxes_off_goal(samples[0]["prompt"]))]
        cell["tasks"] += 1
        valid = [r for r in samples if r["valid"]]
        if valid:
            best = min(valid, key=lambda r: r["plan_length"])
            cell["solved"] += 1
            cell["pushes"].append(sum(line.startswith("(push") for line in best["completion"].splitlines()))
    return dict(out)


def main(argv: list[str] | None = None) -> int:
    """Print the table for one generation of a run. Returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--generation", type=int, default=0)
    args = parser.parse_args(argv)
    table = tally(read_jsonl(generation_dir(args.run, args.generation) / "traces.jsonl"))
    print(f"{args.run} generation {args.generation}")
    print("size     boxes off goal  tasks  solved  mean pushes of the shortest valid plans")
    for (size, off), cell in sorted(table.items()):
        pushes = f"{sum(cell['pushes']) / len(cell['pushes']):.1f}" if cell["pushes"] else "-"
        print(f"{size:<8} {off:>14}  {cell['tasks']:>5}  {cell['solved']:>6}  {pushes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
