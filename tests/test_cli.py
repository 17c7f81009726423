"""The itdeploy command line: exit codes, JSON output, batch validation, bad input."""

import json
import subprocess
import sys

import pytest

from itdeploy_lite.cli import main
from itdeploy_lite.planning import PDDLError, domain_path, load_task

PROBLEM = """(define (problem bw3) (:domain blocksworld)
 (:objects b1 b2 b3)
 (:init (handempty) (ontable b1) (on b2 b1) (clear b2) (ontable b3) (clear b3))
 (:goal (and (on b1 b2) (on b2 b3))))"""
GOOD = "(unstack b2 b1)\n(stack b2 b3)\n(pick-up b1)\n(stack b1 b2)\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "p.pddl").write_text(PROBLEM)
    (tmp_path / "good.plan").write_text(GOOD)
    (tmp_path / "bad.plan").write_text("(unstack b2 b1)\n(pick-up b1)\n")
    return tmp_path


def test_validate_exit_codes(files, capsys):
    assert main(["validate", "blocksworld", str(files / "p.pddl"), str(files / "good.plan")]) == 0
    assert "Plan valid" in capsys.readouterr().out
    assert main(["validate", "blocksworld", str(files / "p.pddl"), str(files / "bad.plan")]) == 1
    assert "step 2" in capsys.readouterr().out
    assert main(["validate", "blocksworld", str(files / "p.pddl"), str(files / "missing.plan")]) == 2
    assert "plan file not found" in capsys.readouterr().err
    assert main(["validate", "nodomain", str(files / "p.pddl"), str(files / "good.plan")]) == 2
    assert "unknown domain 'nodomain'" in capsys.readouterr().err


def test_validate_json_keys(files, capsys):
    assert main(["validate", "blocksworld", str(files / "p.pddl"), str(files / "bad.plan"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {"valid", "failed_step", "reason", "unsatisfied", "unmet_goals"} <= set(out)
    assert out["valid"] is False and out["failed_step"] == 2 and out["unsatisfied"] == ["(handempty)"]


def test_domain_given_as_a_path(files):
    path = str(domain_path("blocksworld"))
    assert main(["validate", path, str(files / "p.pddl"), str(files / "good.plan")]) == 0


def test_malformed_pddl_names_file_and_line(files, capsys):
    broken = files / "broken.pddl"
    broken.write_text(PROBLEM.replace("(:goal", "(:goal (and").replace("(on b2 b3))))", "(on b2 b3))\n"))
    assert main(["validate", "blocksworld", str(broken), str(files / "good.plan")]) == 2
    err = capsys.readouterr().err
    assert str(broken) in err
    with pytest.raises(PDDLError) as info:
        load_task("blocksworld", broken)
    assert info.value.source == str(broken)
    bad_line = files / "badline.pddl"
    bad_line.write_text(PROBLEM.replace("(:objects b1 b2 b3)", "(:objects b1 b2 b3))"))
    with pytest.raises(PDDLError) as info:
        load_task("blocksworld", bad_line)
    assert info.value.line == 2 and f"{bad_line}:2" in str(info.value)


def test_unknown_predicate_in_problem(files):
    path = files / "pred.pddl"
    path.write_text(PROBLEM.replace("(handempty)", "(hand-empty)"))
    with pytest.raises(PDDLError, match="unknown predicate 'hand-empty'"):
        load_task("blocksworld", path)


def test_batch_validation(files):
    rows = [
        {"domain": "blocksworld", "problem": "p.pddl", "plan": GOOD},
        {"domain": "blocksworld", "problem": "p.pddl", "plan": "(pick-up b1)"},
        "this is not json",
        {"domain": "blocksworld", "problem": "nowhere.pddl", "plan": GOOD},
        {"domain": "blocksworld", "plan": GOOD},
        {"domain": str(domain_path("blocksworld")), "problem": str(files / "p.pddl"), "plan": GOOD},
    ]
    inp = files / "in.jsonl"
    inp.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    out = files / "sub" / "out.jsonl"
    assert main(["validate", "--batch", str(inp), "--out", str(out)]) == 2  # some lines had errors
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == 6
    assert got[0]["valid"] is True and got[0]["plan"] == GOOD
    assert got[1]["valid"] is False and got[1]["failed_step"] == 1 and "(clear b1)" in got[1]["reason"]
    assert got[2]["valid"] is None and "in.jsonl:3" in got[2]["error"]
    assert got[3]["valid"] is None and "nowhere.pddl" in got[3]["error"]
    assert got[4]["valid"] is None and "problem" in got[4]["error"]
    assert got[5]["valid"] is True
    assert not (files / "sub" / "out.jsonl.tmp").exists()


def test_batch_root_option(files, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "in.jsonl"
    elsewhere.write_text(json.dumps({"domain": "blocksworld", "problem": "p.pddl", "plan": GOOD}) + "\n")
    out = files / "o.jsonl"
    assert main(["validate", "--batch", str(elsewhere), "--out", str(out), "--root", str(files)]) == 0
    assert json.loads(out.read_text())["valid"] is True


def test_console_script_help():
    for command in ([], ["validate"], ["generate"], ["solve"]):
        proc = subprocess.run([sys.executable, "-m", "itdeploy_lite.cli", *command, "--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "usage: itdeploy" in proc.stdout


NEW_DOMAINS = ("childsnack", "ferry", "floortile", "miconic", "satellite", "spanner", "transport")


@pytest.mark.planner
@pytest.mark.parametrize("domain", NEW_DOMAINS)
def test_generate_solve_validate_the_new_domains(domain, tmp_path, capsys):
    """`itdeploy generate|solve|validate` on one tiny task of each of the other IPC 2023 domains."""
    from itdeploy_lite.planning.planner import planner_available

    assert main(["generate", domain, "--split", "pretrain", "--count", "1", "--out", str(tmp_path)]) == 0
    problem = sorted(tmp_path.glob("*.pddl"))[0]
    witness = tmp_path / "witness" / f"{problem.stem}.plan"
    assert main(["validate", domain, str(problem), str(witness)]) == 0
    first = witness.read_text().splitlines()[:1]
    (tmp_path / "short.plan").write_text("\n".join(first) + "\n")
    assert main(["validate", domain, str(problem), str(tmp_path / "short.plan")]) == 1  # goal not reached
    capsys.readouterr()
    if not planner_available():
        pytest.skip("Fast Downward is not installed")
    assert main(["solve", domain, str(problem)]) == 0
    (tmp_path / "fd.plan").write_text(capsys.readouterr().out)
    assert main(["validate", domain, str(problem), str(tmp_path / "fd.plan")]) == 0
