"""Grade a class: run each lab's grading tests on every student notebook, write one CSV of scores.

    itdeploy grade SUBMISSIONS [--out scores.csv] [--timeout 60]

Layout of ``SUBMISSIONS`` (both may be mixed):

- ``SUBMISSIONS/<student>/NN_slug.ipynb`` (preferred; the notebook may sit deeper, e.g.
  ``<student>/lab1/01_pddl_and_validation.ipynb``): the student is the first folder, the lab is the
  ``NN`` the file name starts with;
- ``SUBMISSIONS/<student>-NN_slug.ipynb`` or ``<student>_NN_slug.ipynb`` (flat): the student is what
  comes before ``-NN_`` / ``_NN_``.

Each notebook is graded by ``pytest tests/grading/test_labNN.py --notebook PATH`` in its own subprocess
(a per-test time limit, a per-notebook one, and a JUnit XML report), so one broken notebook never stops
the class. Student code runs with your permissions: grade in a container or a throw-away account.

The CSV has one row per (student, lab, test): ``student, lab, test, passed`` (1 or 0), ``seconds``,
``message`` (the first line of the failure), then per student one row with ``lab`` ``all`` and ``test``
``TOTAL`` whose ``passed`` is the number of tests passed (one point per test).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_NESTED = re.compile(r"^(?P<lab>\d{2})(?!\d)")
_FLAT = re.compile(r"^(?P<student>.+?)[-_ ](?P<lab>\d{2})_")

CSV_COLUMNS = ("student", "lab", "test", "passed", "seconds", "message")


@dataclass(frozen=True)
class Submission:
    """One student notebook: who wrote it, for which lab (``"01"``), and where it is."""

    student: str
    lab: str
    path: Path


@dataclass(frozen=True)
class TestScore:
    """One grading test's result on one submission."""

    student: str
    lab: str
    test: str
    passed: bool
    seconds: float
    message: str = ""


def find_submissions(folder: str | Path) -> tuple[list[Submission], list[Path]]:
    """Find the student notebooks under ``folder``.

    Returns:
        ``(submissions, unrecognised)``: the notebooks whose student and lab could be read from the
        layout (sorted by student, lab), and the ``.ipynb`` files that could not (checkpoints ignored).
    """
    folder = Path(folder)
    found, unknown = [], []
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if ".ipynb_checkpoints" in relative.parts:
            continue
        if len(relative.parts) > 1:
            match = _NESTED.match(path.name)
            student = relative.parts[0]
        else:
            match = _FLAT.match(path.name)
            student = match.group("student") if match else ""
        if match:
            found.append(Submission(student, match.group("lab"), path))
        else:
            unknown.append(path)
    found.sort(key=lambda s: (s.student, s.lab, str(s.path)))
    return found, unknown


def grading_tests(tests_dir: Path) -> dict[str, Path]:
    """Lab number -> its grading test file (``tests/grading/test_labNN.py``)."""
    return {m.group(1): p for p in sorted(Path(tests_dir).glob("test_lab*.py"))
            if (m := re.fullmatch(r"test_lab(\d{2})\.py", p.name))}


def _pytest(args: list[str], timeout: float, root: Path) -> subprocess.CompletedProcess | None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
               f"--rootdir={root}", *args]
    try:
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def collect_tests(test_file: Path, root: Path = _ROOT) -> list[str]:
    """The test names in one grading test file (collected without loading any notebook)."""
    done = _pytest(["--collect-only", str(test_file)], 300, root)
    if done is None:
        return []
    prefix = test_file.name + "::"
    return [line.split("::")[-1] for line in done.stdout.splitlines() if prefix in line]


def read_junit(xml_path: Path) -> dict[str, tuple[bool, float, str]]:
    """Test name -> ``(passed, seconds, first line of the failure)`` from a pytest JUnit XML report."""
    results = {}
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        message = "" if problem is None else (problem.get("message") or problem.text or problem.tag)
        message = (message.strip().splitlines() or [""])[0][:200]
        results[case.get("name")] = (problem is None, float(case.get("time") or 0.0), message)
    return results


def grade_submission(submission: Submission, test_file: Path, tests: list[str], *, timeout: float = 60.0,
                     root: Path = _ROOT) -> list[TestScore]:
    """Run one lab's grading tests on one notebook; every collected test gets a row, passed or not."""
    with tempfile.TemporaryDirectory(prefix="itdeploy-grade-") as folder:
        xml_path = Path(folder) / "junit.xml"
        start = time.perf_counter()
        limit = timeout * max(len(tests), 1) + 120
        done = _pytest([str(test_file), "--notebook", str(submission.path.resolve()), f"--junitxml={xml_path}",
                        f"--grading-timeout={timeout:g}"], limit, root)
        elapsed = time.perf_counter() - start
        results = read_junit(xml_path) if done is not None and xml_path.is_file() else {}
    if done is None:
        fallback = f"the notebook's tests ran past {limit:g} s and were stopped"
    elif not results:
        fallback = "pytest did not run: " + " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])[:200]
    else:
        fallback = "not run"
    names = list(tests) + [name for name in results if name not in tests]
    rows = []
    for name in names:
        passed, seconds, message = results.get(name, (False, 0.0, fallback))
        rows.append(TestScore(submission.student, submission.lab, name, passed, round(seconds, 3), message))
    if not names:  # no test could be collected: one failing row, so the notebook is not silently dropped
        rows.append(TestScore(submission.student, submission.lab, "(collection)", False, round(elapsed, 3), fallback))
    return rows


def grade_folder(submissions_dir: str | Path, out: str | Path, *, tests_dir: str | Path | None = None,
                 timeout: float = 60.0, progress=print) -> list[TestScore]:
    """Grade every notebook under ``submissions_dir`` and write the CSV ``out``.

    Args:
        submissions_dir: the class's notebooks (layout in this module's docstring).
        out: the CSV to write.
        tests_dir: the grading tests (default ``tests/grading`` of this source checkout).
        timeout: seconds allowed per test (its set-up, which loads the notebook, and its call).
        progress: called with one line per graded notebook and the warnings (``print`` by default).

    Returns:
        The per-test scores (the CSV's rows without the totals).

    Raises:
        FileNotFoundError: ``submissions_dir`` or the grading tests do not exist.
    """
    submissions_dir = Path(submissions_dir)
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"grade: no folder {submissions_dir}")
    tests_dir = Path(tests_dir) if tests_dir else _ROOT / "tests" / "grading"
    available = grading_tests(tests_dir)
    if not available:
        raise FileNotFoundError(f"grade: no grading tests (test_labNN.py) in {tests_dir}; run from a source "
                                "checkout of itdeploy_lite or pass --tests")
    root = tests_dir.resolve().parents[1]
    submissions, unknown = find_submissions(submissions_dir)
    for path in unknown:
        progress(f"skipped {path}: cannot tell the student and lab (use STUDENT/NN_slug.ipynb)")
    collected: dict[str, list[str]] = {}
    scores: list[TestScore] = []
    for submission in submissions:
        test_file = available.get(submission.lab)
        if test_file is None:
            progress(f"skipped {submission.path}: no grading tests for lab {submission.lab}")
            continue
        if submission.lab not in collected:
            collected[submission.lab] = collect_tests(test_file, root)
        rows = grade_submission(submission, test_file, collected[submission.lab], timeout=timeout, root=root)
        scores += rows
        progress(f"{submission.student} lab {submission.lab}: {sum(r.passed for r in rows)}/{len(rows)} tests passed")
    write_csv(scores, out)
    return scores


def write_csv(scores: list[TestScore], out: str | Path) -> Path:
    """Write the per-test rows and, per student, a ``all, TOTAL`` row (passed = tests passed)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in scores:
            writer.writerow([row.student, row.lab, row.test, int(row.passed), f"{row.seconds:.3f}", row.message])
        for student in sorted({row.student for row in scores}):
            mine = [row for row in scores if row.student == student]
            writer.writerow([student, "all", "TOTAL", sum(row.passed for row in mine),
                             f"{sum(row.seconds for row in mine):.3f}", f"{sum(r.passed for r in mine)}/{len(mine)} tests"])
    return out
