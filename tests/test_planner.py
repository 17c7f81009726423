"""The reference planner: Fast Downward's statuses, plans re-checked by our validator, time limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from itdeploy_lite.planning import load_task, validate
from itdeploy_lite.planning import planner
from itdeploy_lite.planning.planner import PlanResult, planner_available, solve

pytestmark = pytest.mark.planner

COURIER = Path(__file__).parent / "fixtures" / "courier"
DOMAIN = COURIER / "domain.pddl"

BLOCKS3 = """(define (problem bw3) (:domain blocksworld)
  (:objects a b c)
  (:init (ontable a) (ontable b) (on c a) (clear c) (clear b) (handempty))
  (:goal (and (on a b) (on b c))))
"""


@pytest.fixture(autouse=True)
def require_fast_downward():
    if not planner_available():
        pytest.fail("Fast Downward not found: pip install up-fast-downward==1.0.0 (pip install -e '.[dev]').")


@pytest.mark.parametrize("optimal", [False, True])
def test_solves_and_the_plan_is_valid(optimal):
    result = solve(DOMAIN, COURIER / "p02.pddl", optimal=optimal)
    assert result.status == "solved", result.reason
    assert result.optimal is optimal and result.seconds > 0
    assert all(step == step.lower() and step.startswith("(") for step in result.plan)
    assert validate(load_task(DOMAIN, COURIER / "p02.pddl"), result.plan).valid


def test_optimal_plan_is_shortest():
    # p02: 6 steps is optimal (the bike carries both parcels); LAMA's first plan takes 7.
    assert len(solve(DOMAIN, COURIER / "p02.pddl", optimal=True).plan) == 6
    assert len(solve(DOMAIN, COURIER / "p01.pddl", optimal=True).plan) == 4


def test_builtin_domain_name_and_problem_text():
    result = solve("blocksworld", BLOCKS3)
    assert result.status == "solved", result.reason
    assert len(result.plan) == 6


@pytest.mark.parametrize("optimal", [False, True])
def test_unsolvable(optimal):
    result = solve(DOMAIN, COURIER / "p03-unsolvable.pddl", optimal=optimal)
    assert (result.status, result.plan) == ("unsolvable", None)
    assert "exit code 1" in result.reason


def test_goal_true_initially_gives_the_empty_plan():
    result = solve(DOMAIN, COURIER / "p04-goal-true.pddl")
    assert (result.status, result.plan) == ("solved", ())


def test_wall_clock_timeout_kills_the_planner():
    result = solve(DOMAIN, COURIER / "p02.pddl", timeout=0.01)
    assert result.status == "timeout" and result.plan is None
    assert result.seconds < 5


def test_an_invalid_plan_from_the_planner_is_an_error(monkeypatch):
    # Simulate a planner bug: the plan read back loses its first step; our validator must catch it.
    real = planner.canonical_plan
    monkeypatch.setattr(planner, "canonical_plan", lambda text: real(text)[1:])
    result = solve(DOMAIN, COURIER / "p01.pddl")
    assert (result.status, result.plan) == ("error", None)
    assert "validator rejects" in result.reason and "step 3" in result.reason  # unload: parcel not loaded


@pytest.mark.parametrize("code, status", [(12, "unsolvable"), (21, "timeout"), (23, "timeout"),
                                          (22, "error"), (31, "error"), (34, "error"), (-9, "error")])
def test_exit_codes(monkeypatch, code, status):
    monkeypatch.setattr(planner, "_run_driver", lambda command, folder, timeout: (code, "planner output"))
    result = solve(DOMAIN, COURIER / "p01.pddl")
    assert result.status == status
    assert f"exit code {code}" in result.reason


def test_not_installed(monkeypatch):
    monkeypatch.setattr(planner, "fast_downward_driver", lambda: None)
    result = solve(DOMAIN, COURIER / "p01.pddl")
    assert result == PlanResult("not-installed", None, result.reason, 0.0, False)
    assert "pip install up-fast-downward" in result.reason


def test_bad_input_raises_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-problem"):
        solve(DOMAIN, tmp_path / "no-such-problem.pddl")
    with pytest.raises(FileNotFoundError, match="no-such-domain"):
        solve("no-such-domain", COURIER / "p01.pddl")
    with pytest.raises(ValueError, match="timeout"):
        solve(DOMAIN, COURIER / "p01.pddl", timeout=0)
