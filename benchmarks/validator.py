"""Validations per second on one core: our validator, unified-planning's, and VAL's binary.

Workloads: 20-step Blocksworld plans (9 blocks), Sokoban plans of 200 steps or more (20x20 grid,
8 boxes), and, for each of the other seven IPC 2023 learning-track domains, 10 tasks of its largest
held-out size; all plans valid (every step executed, the goal checked), the generators' witness plans.

Columns:
    ours, task reused   ``validate(task, plan_text)`` with the task parsed once per problem (the loop
                        validates a problem's samples against one task); plan text parsed each time.
    ours, parse + val.  ``parse_task(domain, problem)`` then ``validate``: a new problem for every plan.
    unified-planning    ``SequentialPlanValidator().validate(problem, plan)``, problem and plan objects
                        parsed beforehand (only validation is timed: favourable to unified-planning).
    VAL                 ``Validate domain problem plan`` per plan, process start included.

Usage: python benchmarks/validator.py [--seconds 1.0]   (prints a Markdown table)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from itdeploy_lite.planning import domain_path, parse_task, validate
from itdeploy_lite.planning.generators import SPLITS, generate_problems
from itdeploy_lite.planning.val import run_val, val_binary


def workloads() -> list[tuple[str, str, list]]:
    """``(label, domain, problems)``: problems whose witness plans are the plans to validate."""
    blocks = generate_problems("blocksworld", {"blocks": 9}, 20, seed=1,
                               accept=lambda p: len(p.witness_plan) == 20)
    sokoban = generate_problems("sokoban", {"grid": 20, "boxes": 8, "walls": 60}, 5, seed=1,
                                accept=lambda p: len(p.witness_plan) >= 200, max_tries=400)
    found = [("Blocksworld, 20 steps", "blocksworld", blocks), (f"Sokoban, {_steps(sokoban)} steps", "sokoban", sokoban)]
    for domain in NEW_DOMAINS:
        largest = max(SPLITS[domain]["heldout"], key=lambda size: tuple(size.values()))
        problems = generate_problems(domain, largest, 10, seed=1)
        found.append((f"{domain.capitalize()}, {_steps(problems)} steps", domain, problems))
    return found


#: The other seven IPC 2023 learning-track domains (the paper's second experiment).
NEW_DOMAINS = ("childsnack", "ferry", "floortile", "miconic", "satellite", "spanner", "transport")


def _steps(problems: list) -> str:
    """``"14-24"``: the shortest and longest witness plan."""
    lengths = [len(p.witness_plan) for p in problems]
    return f"{min(lengths)}-{max(lengths)}"


def rate(run, items: list, seconds: float) -> float:
    """Calls of ``run(item)`` per second, cycling over ``items`` for at least ``seconds`` (and one pass)."""
    count, start = 0, time.perf_counter()
    while True:
        for item in items:
            run(item)
            count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def unified_planning_validator():
    """``(reader, validator, valid status)`` from unified-planning, or None if it is not installed."""
    try:
        from unified_planning.engines import SequentialPlanValidator
        from unified_planning.engines.results import ValidationResultStatus
        from unified_planning.environment import get_environment
        from unified_planning.io import PDDLReader
    except ImportError:
        return None
    get_environment().credits_stream = None
    return PDDLReader(), SequentialPlanValidator(), ValidationResultStatus.VALID


def measure(domain: str, problems: list, seconds: float, folder: Path) -> dict[str, float | None]:
    """Validations per second of each validator on the problems' witness plans (checked valid first)."""
    dpath = domain_path(domain)
    domain_text = dpath.read_text()
    texts = ["".join(step + "\n" for step in p.witness_plan) for p in problems]
    tasks = [parse_task(domain_text, p.pddl) for p in problems]
    cases = list(zip(problems, tasks, texts))
    assert all(validate(task, text).valid for _, task, text in cases), "a witness plan is invalid"
    out: dict[str, float | None] = {}
    out["ours, task reused"] = rate(lambda c: validate(c[1], c[2]), cases, seconds)
    out["ours, parse + val."] = rate(lambda c: validate(parse_task(domain_text, c[0].pddl), c[2]),
                                     cases, seconds)

    up = unified_planning_validator()
    if up is None:
        out["unified-planning"] = None
    else:
        reader, validator, valid = up
        parsed = []
        for problem, _, text in cases:
            path = folder / f"{problem.name}.pddl"
            path.write_text(problem.pddl)
            up_problem = reader.parse_problem(str(dpath), str(path))
            parsed.append((up_problem, reader.parse_plan_string(up_problem, text)))
        assert all(validator.validate(p, plan).status == valid for p, plan in parsed)
        out["unified-planning"] = rate(lambda c: validator.validate(*c), parsed, seconds)

    if val_binary() is None:
        out["VAL"] = None
    else:
        files = []
        for problem, _, text in cases:
            path = folder / f"{problem.name}.pddl"
            path.write_text(problem.pddl)
            files.append((path, text))
        assert all(run_val(dpath, path, text).valid for path, text in files)
        out["VAL"] = rate(lambda c: run_val(dpath, c[0], c[1]), files, seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement (seconds)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):  # one core, for us and VAL's child processes alike
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    columns = ["ours, task reused", "ours, parse + val.", "unified-planning", "VAL"]
    print("Validations per second (one core; valid plans, so every step is executed):\n")
    print("| plans | " + " | ".join(columns) + " | ours / unified-planning |")
    print("|---" * (len(columns) + 2) + "|")
    with tempfile.TemporaryDirectory() as folder:
        for label, domain, problems in workloads():
            rates = measure(domain, problems, args.seconds, Path(folder))
            cells = [f"{rates[c]:,.0f}" if rates[c] is not None else "n/a" for c in columns]
            up = rates["unified-planning"]
            ratio = f"{rates['ours, task reused'] / up:,.0f}x" if up else "n/a"
            print(f"| {label} ({len(problems)} plans) | " + " | ".join(cells) + f" | {ratio} |")
    print("\nTargets: ours >= 10x unified-planning; >= 2,000 validations/s of 20-step Blocksworld plans.")


if __name__ == "__main__":
    main()
