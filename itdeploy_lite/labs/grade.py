"""Grade a class: run each lab's grading tests on every student notebook, write one CSV of scores.

    itdeploy grade SUBMISSIONS [--out scores.csv] [--timeout 60]

Layout of ``SUBMISSIONS`` (both may be mixed):

- ``SUBMISSIONS/<student>/NN_slug.ipynb`` (preferred; the notebook may sit deeper, e.g.
  ``<student>/lab1/01_pddl_and_validation.ipynb``): the student is the first folder, the lab is the
  ``NN`` the file name starts with;
- ``SUBMISSIONS/<student>-NN_slug.ipynb`` or ``<student>_NN_slug.ipynb`` (flat): the student is what
  comes before ``-NN_`` / ``_NN_``.

Each notebook is graded in its own room (:func:`grade_submission`): a fresh temporary folder holding a
copy of the notebook, the grading test file and its conftest (written from copies read once, before the
first student, so a notebook that edits the tests changes nothing for anyone), the test fixtures, and
nothing else. ``pytest`` runs there in a subprocess whose working directory is the notebook's folder,
whose ``sys.path`` holds neither the repository (so not ``solutions/``) nor the submissions, with a time
limit per test, one per notebook and a memory limit (``RLIMIT_AS``). Its JUnit report counts only if it
carries a one-time token the grader passes through a pipe (read and closed by the conftest before any
notebook cell runs), so a notebook that writes a report of its own earns nothing. Student code still runs
with your permissions: grade in a container or a throw-away account.

The CSV has one row per (student, lab, exercise): ``points`` is 1 when every grading test of the exercise
passed (tests are grouped by ``@pytest.mark.exercise(NAME)``; a parametrised test counts once per exercise,
not once per parameter), ``tests`` says how many passed (``9/10``), ``seconds``, and ``message`` the first
failure. Then per student one row with ``lab`` ``all`` and ``exercise`` ``TOTAL``: the points earned.
"""

from __future__ import annotations

import ast
import csv
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_NESTED = re.compile(r"^(?P<lab>\d{2})(?!\d)")
_FLAT = re.compile(r"^(?P<student>.+?)[-_ ](?P<lab>\d{2})_")

CSV_COLUMNS = ("student", "lab", "exercise", "points", "tests", "seconds", "message")

#: Memory allowed to one notebook's grading process (RLIMIT_AS, bytes of address space).
DEFAULT_MEMORY = 8 * 2**30


@dataclass(frozen=True)
class Submission:
    """One student notebook: who wrote it, for which lab (``"01"``), and where it is."""

    student: str
    lab: str
    path: Path


@dataclass(frozen=True)
class TestScore:
    """One grading test's result on one submission (``exercise``: the test's ``@pytest.mark.exercise``)."""

    student: str
    lab: str
    test: str
    passed: bool
    seconds: float
    message: str = ""
    exercise: str = ""


@dataclass(frozen=True)
class ExerciseScore:
    """One exercise of one submission: 1 point when every one of its grading tests passed."""

    student: str
    lab: str
    exercise: str
    points: int
    passed: int
    tests: int
    seconds: float
    message: str = ""


@dataclass
class GradingKit:
    """One lab's grading files, read once before the first student: ``files`` (name -> bytes: the test file
    ``test_labNN.py`` and ``conftest.py``), the fixtures folder, the collected test ids and each test
    function's exercise."""

    lab: str
    files: dict[str, bytes]
    fixtures: Path | None
    tests: list[str] = field(default_factory=list)
    exercises: dict[str, str] = field(default_factory=dict)

    @property
    def test_file(self) -> str:
        return f"test_lab{self.lab}.py"


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


def test_exercises(source: str) -> dict[str, str]:
    """Test function name -> the exercise its ``@pytest.mark.exercise(NAME)`` names (read from the source)."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith("mark.exercise")
                        and decorator.args and isinstance(decorator.args[0], ast.Constant)):
                    found[node.name] = str(decorator.args[0].value)
            found.setdefault(node.name, node.name)  # unmarked: its own exercise
    return found


def _limits(memory: int):
    def apply():  # in the child, before exec
        import resource

        if memory > 0:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _pytest(args: list[str], timeout: float, room: Path, cwd: Path, token: str | None = None,
            memory: int = DEFAULT_MEMORY) -> subprocess.CompletedProcess | None:
    """Run pytest in ``room``: cwd ``cwd``, the package (only) importable through ``room/lib``."""
    lib = room / "lib"
    if not lib.exists():
        lib.mkdir()
        (lib / "itdeploy_lite").symlink_to(Path(__file__).resolve().parents[1], target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=str(lib), ITDEPLOY_GRADING_ROOM=str(room))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
               f"--rootdir={room}", *args]
    fds = ()
    if token is not None:  # a pipe holding the token, its read end passed to the child and named on the command line
        read_end, write_end = os.pipe()
        os.write(write_end, token.encode())
        os.close(write_end)
        fds = (read_end,)
        command.append(f"--grading-token-fd={read_end}")
    try:
        return subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=_limits(memory), pass_fds=fds)
    except subprocess.TimeoutExpired:
        return None
    finally:
        for fd in fds:
            os.close(fd)


def _furnish(room: Path, kit: GradingKit) -> Path:
    """Write the kit's files into ``room/grading`` (and the fixtures into ``room/fixtures``)."""
    grading = room / "grading"
    grading.mkdir(parents=True, exist_ok=True)
    for name, data in kit.files.items():
        (grading / name).write_bytes(data)
    if kit.fixtures is not None and kit.fixtures.is_dir():
        shutil.copytree(kit.fixtures, room / "fixtures", dirs_exist_ok=True)
    return grading / kit.test_file


def grading_kit(lab: str, test_file: Path) -> GradingKit:
    """Read one lab's grading files (the test file, the conftest beside or above it, ``fixtures/``) and
    collect its tests in a room of their own."""
    test_file = Path(test_file)
    conftest = next((folder / "conftest.py" for folder in (test_file.parent, test_file.parent.parent)
                     if (folder / "conftest.py").is_file()), None)
    files = {test_file.name: test_file.read_bytes()}
    if conftest is not None:
        files["conftest.py"] = conftest.read_bytes()
    kit = GradingKit(lab, files, test_file.parent.parent / "fixtures")
    kit.exercises = test_exercises(files[test_file.name].decode("utf-8"))
    with tempfile.TemporaryDirectory(prefix="itdeploy-collect-") as folder:
        room = Path(folder)
        path = _furnish(room, kit)
        done = _pytest(["--collect-only", str(path)], 300, room, room)
    if done is not None:
        prefix = kit.test_file + "::"
        kit.tests = [line.split("::")[-1] for line in done.stdout.splitlines() if prefix in line]
    return kit


def collect_tests(test_file: Path, root: Path = _ROOT) -> list[str]:
    """The test names in one grading test file (collected in a room, without loading any notebook)."""
    return grading_kit("00", Path(test_file)).tests


def read_junit(xml_path: Path, token: str | None = None) -> dict[str, tuple[bool, float, str]]:
    """Test name -> ``(passed, seconds, first line of the failure)`` from a pytest JUnit XML report.

    Raises:
        ValueError: ``token`` is given and the report does not carry it as the suite property
            ``grading-token`` (it was not written by the grader's pytest run).
    """
    root = ET.parse(xml_path).getroot()
    if token is not None:
        tokens = {p.get("value") for suite in root.iter("testsuite") for props in suite.findall("properties")
                  for p in props.findall("property") if p.get("name") == "grading-token"}
        if tokens != {token}:
            raise ValueError("the report does not carry the grader's token")
    results = {}
    for case in root.iter("testcase"):
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        message = "" if problem is None else (problem.get("message") or problem.text or problem.tag)
        message = (message.strip().splitlines() or [""])[0][:200]
        results[case.get("name")] = (problem is None, float(case.get("time") or 0.0), message)
    return results


def grade_submission(submission: Submission, kit: GradingKit, *, timeout: float = 60.0,
                     memory: int = DEFAULT_MEMORY) -> list[TestScore]:
    """Run one lab's grading tests on one notebook in a room of its own; every collected test gets a row."""
    tests = kit.tests
    with tempfile.TemporaryDirectory(prefix="itdeploy-grade-") as folder:
        room = Path(folder)
        test_path = _furnish(room, kit)
        work = room / "work"
        work.mkdir()
        notebook = work / submission.path.name
        shutil.copyfile(submission.path, notebook)
        reports = Path(tempfile.mkdtemp(prefix="itdeploy-report-"))  # outside the room
        xml_path = reports / "junit.xml"
        token = secrets.token_hex(16)
        start = time.perf_counter()
        limit = timeout * max(len(tests), 1) + 120
        done = _pytest([str(test_path), "--notebook", str(notebook), f"--junitxml={xml_path}",
                        f"--grading-timeout={timeout:g}"], limit, room, work, token=token, memory=memory)
        elapsed = time.perf_counter() - start
        results, forged = {}, False
        if done is not None and xml_path.is_file():
            try:
                results = read_junit(xml_path, token)
            except (ValueError, ET.ParseError):
                forged = True
        shutil.rmtree(reports, ignore_errors=True)
    if done is None:
        fallback = f"the notebook's tests ran past {limit:g} s and were stopped"
    elif forged:
        fallback = "no report from the grader's pytest (a report without the grader's token was ignored)"
    elif not results:
        fallback = "pytest did not run: " + " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])[:200]
    else:
        fallback = "not run"
    names = list(tests) + [name for name in results if name not in tests]
    rows = []
    for name in names:
        passed, seconds, message = results.get(name, (False, 0.0, fallback))
        exercise = kit.exercises.get(name.split("[", 1)[0], name)
        rows.append(TestScore(submission.student, submission.lab, name, passed, round(seconds, 3), message, exercise))
    if not names:  # no test could be collected: one failing row, so the notebook is not silently dropped
        rows.append(TestScore(submission.student, submission.lab, "(collection)", False, round(elapsed, 3), fallback,
                              "(collection)"))
    return rows


def exercise_scores(rows: list[TestScore]) -> list[ExerciseScore]:
    """Group per-test rows into one point per (student, lab, exercise): 1 when all its tests passed."""
    groups: dict[tuple[str, str, str], list[TestScore]] = {}
    for row in rows:
        groups.setdefault((row.student, row.lab, row.exercise or row.test), []).append(row)
    out = []
    for (student, lab, exercise), mine in groups.items():
        failed = [r for r in mine if not r.passed]
        message = f"{failed[0].test}: {failed[0].message}" if failed else ""
        out.append(ExerciseScore(student, lab, exercise, int(not failed), len(mine) - len(failed), len(mine),
                                 round(sum(r.seconds for r in mine), 3), message[:240]))
    return out


def grade_folder(submissions_dir: str | Path, out: str | Path, *, tests_dir: str | Path | None = None,
                 timeout: float = 60.0, memory: int = DEFAULT_MEMORY, progress=print) -> list[TestScore]:
    """Grade every notebook under ``submissions_dir`` and write the CSV ``out``.

    Args:
        submissions_dir: the class's notebooks (layout in this module's docstring).
        out: the CSV to write.
        tests_dir: the grading tests (default ``tests/grading`` of this source checkout).
        timeout: seconds allowed per test (its set-up, which loads the notebook, and its call).
        memory: bytes of address space allowed to one notebook's grading process (0: no limit).
        progress: called with one line per graded notebook and the warnings (``print`` by default).

    Returns:
        The per-test scores (the CSV groups them into one point per exercise, :func:`exercise_scores`).

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
    submissions, unknown = find_submissions(submissions_dir)
    for path in unknown:
        progress(f"skipped {path}: cannot tell the student and lab (use STUDENT/NN_slug.ipynb)")
    kits = {lab: grading_kit(lab, available[lab]) for lab in sorted({s.lab for s in submissions}) if lab in available}
    scores: list[TestScore] = []
    for submission in submissions:
        kit = kits.get(submission.lab)
        if kit is None:
            progress(f"skipped {submission.path}: no grading tests for lab {submission.lab}")
            continue
        rows = grade_submission(submission, kit, timeout=timeout, memory=memory)
        for lab, other in kits.items():  # the grading files on disk: restored if a notebook changed them
            on_disk = {name: (available[lab].parent / name if name != "conftest.py" else _conftest_of(available[lab]))
                       for name in other.files}
            if any(not p.is_file() or p.read_bytes() != other.files[name] for name, p in on_disk.items()):
                progress(f"warning: {submission.path} changed the grading files of lab {lab}; restored them")
                for name, p in on_disk.items():
                    p.write_bytes(other.files[name])
        scores += rows
        points = exercise_scores(rows)
        progress(f"{submission.student} lab {submission.lab}: {sum(p.points for p in points)}/{len(points)} exercises "
                 f"({sum(r.passed for r in rows)}/{len(rows)} tests)")
    write_csv(scores, out)
    return scores


def _conftest_of(test_file: Path) -> Path:
    for folder in (test_file.parent, test_file.parent.parent):
        if (folder / "conftest.py").is_file():
            return folder / "conftest.py"
    return test_file.parent / "conftest.py"


def write_csv(scores: list[TestScore], out: str | Path) -> Path:
    """Write one row per (student, lab, exercise) and, per student, an ``all, TOTAL`` row (points earned)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    points = exercise_scores(scores)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in points:
            writer.writerow([row.student, row.lab, row.exercise, row.points, f"{row.passed}/{row.tests}",
                             f"{row.seconds:.3f}", row.message])
        for student in sorted({row.student for row in points}):
            mine = [row for row in points if row.student == student]
            writer.writerow([student, "all", "TOTAL", sum(row.points for row in mine),
                             f"{sum(r.passed for r in mine)}/{sum(r.tests for r in mine)}",
                             f"{sum(row.seconds for row in mine):.3f}", f"{sum(r.points for r in mine)}/{len(mine)} exercises"])
    return out
