"""``experiments/failure_modes.py``: the tally of why sampled plans fail, and the samples' diversity."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def failure_modes():
    path = Path(__file__).resolve().parents[1] / "experiments" / "failure_modes.py"
    spec = importlib.util.spec_from_file_location("experiments_failure_modes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _trace(task: str, completion: str, valid: bool, reason: str = "", step: int | None = None) -> dict:
    return {"task_id": task, "completion": completion, "valid": valid, "reason": reason, "failed_step": step}


def test_tally_counts_classes_first_steps_and_the_unsolved_tasks_distinct_samples(failure_modes):
    unmet = "step 1 (navigate rover0 waypoint1 waypoint2): precondition(s) not satisfied: (can_traverse rover0 waypoint1 waypoint2)"
    traces = [
        _trace("a", "(x)", True), _trace("a", "(y)", False, "goal not satisfied", 2),   # solved: not counted below
        _trace("b", "(p)", False, unmet, 1), _trace("b", "(p)", False, unmet, 1),
        _trace("b", "(q)", False, "step 2: unknown object camera3", 2),
        _trace("c", "(r)", False, "goal not satisfied", 3),
    ]
    counts = failure_modes.tally(traces)
    assert (counts["samples"], counts["valid"], counts["first_step"]) == (6, 1, 2)
    assert counts["classes"] == {"goal unmet": 2, "precondition": 2, "unknown object": 1}
    assert counts["predicates"] == {"can_traverse": 2}
    assert counts["unsolved_tasks"] == 2 and counts["distinct_unsolved"] == pytest.approx((2 + 1) / 2)


def test_no_unsolved_task_gives_zero_distinct(failure_modes):
    assert failure_modes.distinct_unsolved([_trace("a", "(x)", True)]) == (0, 0.0)
