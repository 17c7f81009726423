"""Why the sampled plans of one generation fail: a tally of the validator's reasons.

    python experiments/failure_modes.py runs/rovers-s0 --generation 0

Reads ``gen_NN/traces.jsonl`` of a run folder (the deployment samples, stamped by validation with
``valid``, ``failed_step`` and ``reason``; :mod:`itdeploy_lite.records`) and prints how many samples are
valid, and how the invalid ones fail (first match wins, in this order):

- ``unknown object``: a step names an object the task does not declare;
- ``precondition``: a step whose precondition does not hold, counted per unmet predicate as well;
- ``goal unmet``: every step executes but the goal does not hold at the end (or no step was written);
- ``malformed step``: any other step that cannot be read as a ground action (unknown action, arity).

It also counts the invalid samples that fail at their first step, and how diverse the samples of the
unsolved tasks are: for each task with no valid sample, the number of distinct completions among its
samples, averaged over those tasks (8 of 8 distinct: the sampler explores; 1: it repeats itself).

The reasons are the ones :func:`itdeploy_lite.planning.validate.validate` writes (VAL's order: a step
is checked for being a ground action of the task, then for its preconditions; ``../shared/VAL-NOTES.md``).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from itdeploy_lite.curate import read_jsonl
from itdeploy_lite.run_folder import generation_dir

#: the predicate of an unmet precondition in a reason, e.g. "... not satisfied: (can_traverse rover0 w1 w2)"
_PREDICATE = re.compile(r"\((?:not )?\(?([\w-]+)")


def classify(reason: str) -> str:
    """The failure class of one invalid sample's ``reason`` (see the module docstring)."""
    if "unknown object" in reason:
        return "unknown object"
    if "precondition(s) not satisfied" in reason:
        return "precondition"
    if reason.startswith("goal not satisfied") or "no plan steps" in reason or reason.startswith("empty plan"):
        return "goal unmet"
    return "malformed step"


def distinct_unsolved(traces: list[dict]) -> tuple[int, float]:
    """How diverse the samples of unsolved tasks are.

    Args:
        traces: validated trace records (``task_id``, ``completion``, ``valid``).

    Returns:
        ``(tasks, mean)``: the number of tasks none of whose samples is valid, and the mean over them of
        the number of distinct ``completion`` strings among the task's samples (``0.0`` when no task is
        unsolved).
    """
    by_task: dict[str, list[dict]] = {}
    for trace in traces:
        by_task.setdefault(trace["task_id"], []).append(trace)
    unsolved = [rows for rows in by_task.values() if not any(r["valid"] for r in rows)]
    mean = sum(len({r["completion"] for r in rows}) for rows in unsolved) / len(unsolved) if unsolved else 0.0
    return len(unsolved), mean


def tally(traces: list[dict]) -> dict:
    """Counts over ``traces`` (validated trace records): ``samples``, ``valid``, ``first_step`` (invalid
    samples failing at step 1), ``classes`` (class -> count), ``predicates`` (unmet precondition
    predicate -> count of samples), ``unsolved_tasks`` and ``distinct_unsolved`` (:func:`distinct_unsolved`)."""
    classes, predicates = Counter(), Counter()
    valid = first_step = 0
    for trace in traces:
        if trace["valid"]:
            valid += 1
            continue
        reason = trace.get("reason") or ""
        kind = classify(reason)
        classes[kind] += 1
        if trace.get("failed_step") == 1:
            first_step += 1
        if kind == "precondition":
            unmet = reason.split("not satisfied:", 1)[1]
            predicates.update({m.group(1) for m in _PREDICATE.finditer(unmet)})
    unsolved, distinct = distinct_unsolved(traces)
    return {"samples": len(traces), "valid": valid, "first_step": first_step, "classes": dict(classes),
            "predicates": dict(predicates.most_common()), "unsolved_tasks": unsolved, "distinct_unsolved": distinct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", help="run folders (each with gen_NN/traces.jsonl)")
    parser.add_argument("--generation", type=int, default=0)
    args = parser.parse_args()
    for run_dir in args.run_dirs:
        path = generation_dir(Path(run_dir), args.generation) / "traces.jsonl"
        if not path.is_file():
            parser.error(f"no deployment traces at {path}")
        counts = tally(read_jsonl(path))
        invalid = counts["samples"] - counts["valid"]
        print(f"## {run_dir}, generation {args.generation}: {counts['valid']} of {counts['samples']} samples valid")
        print(f"invalid {invalid}; failing at step 1: {counts['first_step']}")
        for kind, n in sorted(counts["classes"].items(), key=lambda kv: -kv[1]):
            print(f"- {kind}: {n} ({n / max(invalid, 1):.0%} of invalid)")
        top = ", ".join(f"{p} {n}" for p, n in list(counts["predicates"].items())[:6])
        print(f"- unmet preconditions by predicate: {top or '-'}")
        print(f"- distinct completions per unsolved task: {counts['distinct_unsolved']:.2f} "
              f"(over {counts['unsolved_tasks']} tasks with no valid sample)")


if __name__ == "__main__":
    main()
