"""The reference planner: Fast Downward, run as a subprocess, every plan re-checked by our validator.

Fast Downward (Helmert 2006; https://www.fast-downward.org) comes compiled in the ``up-fast-downward``
package. ``solve`` runs its driver ``fast-downward.py`` in a temporary folder with a wall-clock limit,
reads the driver's exit code (documented at https://www.fast-downward.org/latest/documentation/exit-codes/
and in ``driver/returncodes.py``) and the plan file ``sas_plan``, and validates the plan with
``itdeploy_lite.planning.validate`` before returning it.

Configurations: ``--alias lama-first`` (satisficing: the first plan of LAMA 2011, greedy search with the
FF and landmark heuristics) or ``--search "astar(lmcut())"`` (optimal: A* with the admissible LM-cut
heuristic; every action costs 1 in our domains, so the plan is a shortest one).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from itdeploy_lite.planning.domains import domain_path
from itdeploy_lite.planning.grounding import parse_task
from itdeploy_lite.planning.plan_text import canonical_plan
from itdeploy_lite.planning.validate import validate

PLAN_STATUSES = ("solved", "unsolvable", "timeout", "not-installed", "error")

SATISFICING = ["--alias", "lama-first"]
OPTIMAL = ["--search", "astar(lmcut())"]

# Fast Downward's exit codes (driver/returncodes.py) -> (status, what it means).
_EXIT_CODES = {
    0: ("solved", "plan found"),
    1: ("solved", "plan found, then out of memory"),
    2: ("solved", "plan found, then out of time"),
    3: ("solved", "plan found, then out of memory and time"),
    10: ("unsolvable", "the translator proved the task unsolvable"),
    11: ("unsolvable", "the search proved the task unsolvable"),
    12: ("unsolvable", "the search space was exhausted without a plan (incomplete search: not a proof)"),
    13: ("unsolvable", "no plan within the cost bound"),
    20: ("error", "the translator ran out of memory"),
    21: ("timeout", "the translator ran out of time"),
    22: ("error", "the search ran out of memory"),
    23: ("timeout", "the search ran out of time"),
    24: ("timeout", "the search ran out of memory and time"),
    30: ("error", "translator critical error"),
    31: ("error", "translator input error (PDDL it cannot read)"),
    32: ("error", "search critical error"),
    33: ("error", "search input error"),
    34: ("error", "the search configuration does not support this task (e.g. LM-cut with conditional effects)"),
    35: ("error", "driver critical error"),
    36: ("error", "driver input error"),
    37: ("error", "the driver does not support this request"),
}


@dataclass(frozen=True)
class PlanResult:
    """What the reference planner found.

    Attributes:
        status: one of ``PLAN_STATUSES``: "solved" (a plan our validator accepts), "unsolvable" (Fast
            Downward found no plan: exit codes 10-13), "timeout" (the wall-clock limit, or Fast Downward's
            own limits: 21, 23, 24), "not-installed" (no Fast Downward), "error" (anything else,
            including a plan our validator rejects).
        plan: the plan as canonical lower-case ``(action arg ...)`` lines when solved, else None.
        reason: what happened, in words (the exit code and, on an error, the end of the planner's output
            or the validator's reason).
        seconds: wall-clock seconds Fast Downward ran (translation and search; process start included).
        optimal: whether the optimal configuration was asked for (then a solved plan is a shortest one).
    """

    status: str
    plan: tuple[str, ...] | None
    reason: str
    seconds: float
    optimal: bool


def fast_downward_driver() -> Path | None:
    """Return the path of Fast Downward's driver ``fast-downward.py`` from ``up-fast-downward``, or None.

    The driver also needs the compiled search (``builds/release/bin/downward``) beside it and the
    translator package ``fast_downward``; None if any of them is missing.
    """
    spec = importlib.util.find_spec("up_fast_downward")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent / "downward"
    driver = root / "fast-downward.py"
    search = root / "builds" / "release" / "bin" / "downward"
    if not (driver.is_file() and search.is_file()) or importlib.util.find_spec("fast_downward") is None:
        return None
    return driver


def planner_available() -> bool:
    """True if Fast Downward is installed (``pip install up-fast-downward==1.0.0``)."""
    return fast_downward_driver() is not None


def _pddl_text(value: str | Path, what: str, builtin: bool) -> tuple[str, str]:
    """Return ``(text, source name)`` for PDDL given as text, a path, or (domains) a built-in name."""
    if isinstance(value, str) and "(define" in value.lower():
        return value, f"<{what} text>"
    path = domain_path(value) if builtin else Path(value)
    if not path.is_file():
        raise FileNotFoundError(f"solve: the {what} file {path} does not exist.")
    return path.read_text(), str(path)


def _tail(text: str, lines: int = 8) -> str:
    return " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())


def _run_driver(command: list[str], folder: str, timeout: float) -> tuple[int | None, str]:
    """Run the driver in its own process group; return ``(exit code or None on timeout, output)``."""
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace", start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        # The driver starts the translator and the search as children: end the whole group.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        output, _ = process.communicate()
        return None, output


def solve(
    domain: str | Path,
    problem: str | Path,
    *,
    optimal: bool = False,
    timeout: float = 60.0,
) -> PlanResult:
    """Find a plan with Fast Downward and check it with our validator.

    Args:
        domain: a built-in domain name (``"blocksworld"``, ...), the path of a domain file, or domain PDDL
            text (a string containing ``(define``).
        problem: the path of a problem file, or problem PDDL text (e.g. ``GeneratedProblem.pddl``).
        optimal: use A* with LM-cut (a shortest plan: all our actions cost 1) instead of LAMA's first
            plan (fast, usually longer).
        timeout: wall-clock limit in seconds; the planner's process group is killed after it.

    Returns:
        PlanResult: status, plan (canonical lines), reason, seconds, optimal. A plan our validator
        rejects becomes status "error" with the validator's reason; Fast Downward missing gives
        "not-installed". Planner failures are reported in the result, not raised.

    Raises:
        FileNotFoundError: the domain or problem file does not exist (or the name is not built in).
        PDDLError: our PDDL reader cannot read the domain or problem (then no plan could be checked).
        ValueError: ``timeout`` is not positive.
    """
    if not timeout > 0:
        raise ValueError(f"solve: timeout must be a positive number of seconds, got {timeout!r}.")
    domain_text, domain_source = _pddl_text(domain, "domain", builtin=True)
    problem_text, problem_source = _pddl_text(problem, "problem", builtin=False)
    task = parse_task(domain_text, problem_text, domain_source, problem_source)
    driver = fast_downward_driver()
    if driver is None:
        return PlanResult("not-installed", None, "Fast Downward is not installed: pip install "
                          "up-fast-downward==1.0.0 (a dependency of itdeploy_lite)", 0.0, optimal)
    with tempfile.TemporaryDirectory(prefix="itdeploy-fd-") as folder:
        Path(folder, "domain.pddl").write_text(domain_text)
        Path(folder, "problem.pddl").write_text(problem_text)
        command = [sys.executable, str(driver), "--plan-file", "sas_plan"]
        if optimal:  # search options come after the input files
            command += ["domain.pddl", "problem.pddl", *OPTIMAL]
        else:  # an alias is a driver option: before the input files
            command += [*SATISFICING, "domain.pddl", "problem.pddl"]
        start = time.perf_counter()
        code, output = _run_driver(command, folder, timeout)
        seconds = time.perf_counter() - start
        plan_file = Path(folder, "sas_plan")
        plan_text = plan_file.read_text() if plan_file.is_file() else None
    if code is None:
        return PlanResult("timeout", None, f"no plan within {timeout:g} s (wall clock); planner killed",
                          seconds, optimal)
    status, meaning = _EXIT_CODES.get(code, ("error", "unexpected exit code (a crash or a signal)"))
    reason = f"Fast Downward exit code {code}: {meaning}"
    if status == "error":
        return PlanResult("error", None, f"{reason}; output: {_tail(output)}", seconds, optimal)
    if status != "solved":
        return PlanResult(status, None, reason, seconds, optimal)
    if plan_text is None:
        return PlanResult("error", None, f"{reason}, but no plan file was written; output: {_tail(output)}",
                          seconds, optimal)
    plan = tuple(canonical_plan(plan_text))
    verdict = validate(task, plan)
    if not verdict.valid:
        return PlanResult("error", None, f"{reason}, but our validator rejects the plan: {verdict.reason}; "
                          f"plan: {' '.join(plan)}", seconds, optimal)
    return PlanResult("solved", plan, reason, seconds, optimal)
