"""Grading lab 02 (tasks, generators and planners): count_reachable_states, mean_length_by_size,
optimality_gap, against counts computed by hand (and, for three generated tasks and the courier fixture,
counts recorded once from a breadth-first search and checked by hand where a formula exists)."""

import math
from pathlib import Path

import pytest

from itdeploy_lite.planning import domain_path, load_task, parse_task
from itdeploy_lite.planning.generators import generate_problems

COURIER = Path(__file__).resolve().parents[1] / "fixtures" / "courier"


@pytest.fixture(scope="module")
def lab(load_lab):
    return load_lab("02")


def _task(domain, size, seed=0):
    problem = generate_problems(domain, size, count=1, seed=seed)[0]
    return parse_task(domain_path(domain).read_text(), problem.pddl)


# Reachable states of four small tasks. Gripper with 2 balls by hand: a ball is in room a, room b, the left
# or the right gripper (one ball per gripper): 4 (none held) + 2*2*2 (one held) + 2 (both held) = 14
# arrangements, times 2 robot rooms = 28. The others were recorded once from a breadth-first search.
OTHER_DOMAINS = [(("gripper", {"balls": 2}, 1), 28), (("sokoban", {"grid": 5, "boxes": 1, "walls": 3}, 2), 461),
                 (("rovers", {"rovers": 1, "waypoints": 3, "cameras": 1, "objectives": 1}, 3), 2898), (None, 12)]


# --- exercise 1 ---------------------------------------------------------------------------------------


@pytest.mark.exercise("count_reachable_states")
def test_count_reachable_states_blocksworld_by_hand(lab):
    # towers of n blocks with the hand empty (1, 3, 13, 73, ...) plus n x those of n-1 blocks while holding one
    for blocks, expected in ((3, 22), (4, 125), (5, 866)):
        for seed in (0, 1):
            assert lab.count_reachable_states(_task("blocksworld", {"blocks": blocks}, seed)) == expected


@pytest.mark.exercise("count_reachable_states")
def test_count_reachable_states_other_domains(lab):
    for spec, expected in OTHER_DOMAINS:
        task = _task(*spec) if spec else load_task(COURIER / "domain.pddl", COURIER / "p01.pddl")
        assert lab.count_reachable_states(task) == expected, task.name


@pytest.mark.exercise("count_reachable_states")
def test_count_reachable_states_limit(lab):
    task = _task("blocksworld", {"blocks": 4})
    assert lab.count_reachable_states(task, max_states=125) == 125  # exactly at the limit: fine
    with pytest.raises(RuntimeError):
        lab.count_reachable_states(task, max_states=124)
    with pytest.raises(RuntimeError):
        lab.count_reachable_states(_task("blocksworld", {"blocks": 9}), max_states=500)


# --- exercise 2 ---------------------------------------------------------------------------------------


@pytest.mark.exercise("mean_length_by_size")
def test_mean_length_by_size_values_and_order(lab):
    rows = [(6, 10), (4, 3), (6, 14), (5, None), (4, 5), (5, 8), (4, 4)]
    result = lab.mean_length_by_size(rows)
    assert list(result) == [4, 5, 6]
    assert result[4] == pytest.approx(4.0) and result[5] == pytest.approx(8.0) and result[6] == pytest.approx(12.0)


@pytest.mark.exercise("mean_length_by_size")
def test_mean_length_by_size_unsolved_and_empty(lab):
    result = lab.mean_length_by_size([(7, None), (3, 2), (7, None)])
    assert list(result) == [3, 7] and result[7] is None and result[3] == pytest.approx(2.0)
    assert lab.mean_length_by_size([]) == {}
    assert lab.mean_length_by_size([(2, 0), (2, 1)]) == {2: pytest.approx(0.5)}  # an empty plan has length 0


# --- exercise 3 ---------------------------------------------------------------------------------------


@pytest.mark.exercise("optimality_gap")
def test_optimality_gap_values(lab):
    assert lab.optimality_gap({"a": 10, "b": 6}, {"a": 10, "b": 6}) == pytest.approx(0.0)
    assert lab.optimality_gap({"a": 15, "b": 6}, {"a": 10, "b": 4}) == pytest.approx((0.5 + 0.5) / 2)
    assert lab.optimality_gap({"a": 12, "b": 4}, {"a": 8, "b": 4}) == pytest.approx(0.25)


@pytest.mark.exercise("optimality_gap")
def test_optimality_gap_only_tasks_solved_by_both(lab):
    satisficing = {"a": 20, "b": None, "c": 9, "d": 7}
    optimal = {"a": 10, "b": 5, "c": None, "e": 3}
    assert lab.optimality_gap(satisficing, optimal) == pytest.approx(1.0)
    assert lab.optimality_gap({"a": 0, "b": 6}, {"a": 0, "b": 3}) == pytest.approx(0.5)  # goal true: gap 0
    with pytest.raises(ValueError):
        lab.optimality_gap({"a": None, "b": 4}, {"a": 3, "c": 4})
    with pytest.raises(ValueError):
        lab.optimality_gap({}, {})


@pytest.mark.exercise("optimality_gap")
def test_optimality_gap_rejects_a_shorter_satisficing_plan(lab):
    with pytest.raises(ValueError, match="task-17"):
        lab.optimality_gap({"a": 5, "task-17": 3}, {"a": 5, "task-17": 4})
    assert math.isclose(lab.optimality_gap({"x": 3}, {"x": 3}), 0.0)
