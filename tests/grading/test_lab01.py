"""Grading lab 01 (PDDL and plan validation): applicable, apply, validate_plan.

Expectations are independent of the package's answers (GroundAction.applicable/apply and validate, which
the grader makes unavailable to the notebook): hand-built actions and plans, and a second implementation
of the semantics written here (``_holds``, ``_successor``, ``_run``) in a different form. Edge cases: negative preconditions, equality and static
preconditions (static_failures), an action whose add and delete effects overlap, steps naming no ground
action, the empty plan with the goal true initially.
"""

import random
from pathlib import Path

import pytest

from itdeploy_lite.planning import GroundAction, PlanStepError, domain_path, load_task, parse_task
from itdeploy_lite.planning.generators import generate_problems
from itdeploy_lite.planning.mutate import mutations

COURIER = Path(__file__).resolve().parents[1] / "fixtures" / "courier"
SIZES = {
    "blocksworld": {"blocks": 5},
    "rovers": {"rovers": 1, "waypoints": 4, "cameras": 1, "objectives": 2},
    "gripper": {"balls": 3},
    "sokoban": {"grid": 5, "boxes": 1, "walls": 3},
}


@pytest.fixture(scope="module")
def lab(load_lab):
    return load_lab("01")


def _generated(domain, seed=3):
    problem = generate_problems(domain, SIZES[domain], count=1, seed=seed)[0]
    return parse_task(domain_path(domain).read_text(), problem.pddl), list(problem.witness_plan)


def _holds(state, action):
    """Applicability, written atom by atom (a second implementation, not the package's)."""
    if len(action.static_failures) > 0:
        return False
    return all(atom in state for atom in action.pre_pos) and not any(atom in state for atom in action.pre_neg)


def _successor(state, action):
    """Delete, then add, as an explicit loop over the atoms."""
    atoms = set(state)
    for atom in action.delete:
        atoms.discard(atom)
    for atom in action.add:
        atoms.add(atom)
    return frozenset(atoms)


def _run(task, plan):
    """(valid, failed_step) by executing the plan with _holds and _successor."""
    state = task.init
    for number, step in enumerate(plan, start=1):
        words = step.strip().lstrip("(").rstrip(")").split()
        if not words:
            return False, number
        try:
            action = task.ground_action(words[0], words[1:])
        except (PlanStepError, ValueError):
            return False, number
        if not _holds(state, action):
            return False, number
        state = _successor(state, action)
    return task.goal_reached(state), None


def _states_along(task, plan):
    """The initial state and the state after each step of a valid plan."""
    states = [task.init]
    for step in plan:
        name, *args = step.strip("()").split()
        states.append(_successor(states[-1], task.ground_action(name, args)))
    return states


def _atom(*words):
    return tuple(words)


def _action(pre_pos=(), pre_neg=(), add=(), delete=(), static_failures=()):
    return GroundAction("a", (), frozenset(pre_pos), frozenset(pre_neg), frozenset(add), frozenset(delete),
                        tuple(static_failures))


@pytest.mark.exercise("applicable")
def test_applicable_matches_the_package_along_plans(lab):
    for domain in SIZES:
        task, plan = _generated(domain)
        for state in _states_along(task, plan):
            for action in task.ground_actions():
                assert lab.applicable(state, action) == _holds(state, action), (domain, str(action))


@pytest.mark.exercise("applicable")
def test_applicable_edge_cases(lab):
    p, q = _atom("p"), _atom("q")
    assert lab.applicable(frozenset({p}), _action(pre_pos=[p]))
    assert not lab.applicable(frozenset(), _action(pre_pos=[p]))
    # negative precondition: q must be false
    assert lab.applicable(frozenset({p}), _action(pre_pos=[p], pre_neg=[q]))
    assert not lab.applicable(frozenset({p, q}), _action(pre_pos=[p], pre_neg=[q]))
    # no preconditions at all: always applicable
    assert lab.applicable(frozenset(), _action())
    # a false static precondition (or equality) makes an action never applicable
    assert not lab.applicable(frozenset({p}), _action(pre_pos=[p], static_failures=["(road l1 l3)"]))


@pytest.mark.exercise("applicable")
def test_applicable_negative_preconditions_and_equality(lab):
    task = load_task(COURIER / "domain.pddl", COURIER / "p01.pddl")
    checked = 0
    for state in (task.init, task.init | {_atom("broken", obj) for obj in task.objects}):
        for action in task.ground_actions():
            assert lab.applicable(state, action) == _holds(state, action), str(action)
            checked += 1
    # drive from a place to itself breaks (not (= ?from ?to)): a static failure
    vans = [o for o, t in task.objects.items() if t == "van"]
    places = [o for o, t in task.objects.items() if t == "place"]
    if vans and places:
        same = task.ground_action("drive", [vans[0], places[0], places[0]])
        assert not lab.applicable(task.init | {_atom("at", vans[0], places[0])}, same)
    assert checked > 0


@pytest.mark.exercise("apply")
def test_apply_matches_the_package_along_plans(lab):
    for domain in SIZES:
        task, plan = _generated(domain, seed=4)
        state = task.init
        for step in plan:
            name, *args = step.strip("()").split()
            action = task.ground_action(name, args)
            assert lab.apply(state, action) == _successor(state, action), (domain, step)
            state = _successor(state, action)


@pytest.mark.exercise("apply")
def test_apply_deletes_before_adding(lab):
    p, q, r = _atom("p"), _atom("q"), _atom("r")
    both = _action(add=[p, r], delete=[p, q])
    assert lab.apply(frozenset({p, q}), both) == frozenset({p, r})
    assert lab.apply(frozenset(), both) == frozenset({p, r})
    # deleting an atom that is false and adding one already true change nothing else
    assert lab.apply(frozenset({r}), _action(add=[r], delete=[q])) == frozenset({r})


@pytest.mark.exercise("apply")
def test_apply_does_not_change_its_input(lab):
    p, q = _atom("p"), _atom("q")
    state = frozenset({p})
    result = lab.apply(state, _action(add=[q], delete=[p]))
    assert state == frozenset({p}) and result == frozenset({q})


@pytest.mark.exercise("validate_plan")
def test_validate_plan_on_valid_and_mutated_plans(lab):
    checked = 0
    for domain in SIZES:
        for seed in (5, 6):
            task, plan = _generated(domain, seed)
            plans = [plan] + [m for _, m in mutations(plan, task.objects, task.schemas, random.Random(seed))]
            for candidate in plans:
                got = tuple(lab.validate_plan(task, candidate))
                assert got == _run(task, candidate), (domain, candidate)
                checked += 1
    assert checked > 50


@pytest.mark.exercise("validate_plan")
def test_validate_plan_reports_the_first_failing_step(lab):
    task, plan = _generated("blocksworld", seed=7)
    # an inapplicable step first, then a step naming nothing: the first one is reported
    bad = plan[:1] + plan[:1] + ["(teleport b1)"]
    assert tuple(lab.validate_plan(task, bad)) == (False, 2)
    assert tuple(lab.validate_plan(task, plan + ["(fly b1 b2)"])) == (False, len(plan) + 1)
    assert tuple(lab.validate_plan(task, ["(pick-up)"])) == (False, 1)  # wrong number of arguments
    assert tuple(lab.validate_plan(task, ["(pick-up nothing)"])) == (False, 1)  # unknown object
    assert tuple(lab.validate_plan(task, ["()"])) == (False, 1)  # no action name


@pytest.mark.exercise("validate_plan")
def test_validate_plan_goal_and_empty_plan(lab):
    task, plan = _generated("gripper", seed=8)
    valid, failed = lab.validate_plan(task, plan[:-1])  # executes, but the goal is unmet
    assert (valid, failed) == (False, None)
    assert tuple(lab.validate_plan(task, [])) == (False, None)
    goal_true = load_task(COURIER / "domain.pddl", COURIER / "p04-goal-true.pddl")
    assert tuple(lab.validate_plan(goal_true, [])) == (True, None)


@pytest.mark.exercise("validate_plan")
def test_validate_plan_keeps_an_atom_both_deleted_and_added(lab):
    task = load_task(COURIER / "domain.pddl", COURIER / "p04-goal-true.pddl")
    # riding from l1 to l1 deletes and adds (at b1 l1): it stays true, so riding on from l1 works
    plan = ["(ride b1 l1 l1)", "(ride b1 l1 l2)"]
    assert tuple(lab.validate_plan(task, plan)) == (True, None) == _run(task, plan)
    assert tuple(lab.validate_plan(task, ["(ride b1 l2 l1)"])) == (False, 1)


# --- exercise 4: explain_failure ------------------------------------------------------------------------------
LAMP_DOMAIN = """
(define (domain lamp)
  (:requirements :strips :negative-preconditions)
  (:predicates (lamp ?l) (lit ?l) (broken ?l))
  (:action relight :parameters (?l)
    :precondition (and (lamp ?l) (not (broken ?l)))
    :effect (and (not (lit ?l)) (lit ?l)))
  (:action smash :parameters (?l)
    :precondition (lamp ?l)
    :effect (broken ?l)))
"""
LAMP_PROBLEM = """
(define (problem one-lamp) (:domain lamp)
  (:objects l1)
  (:init (lamp l1))
  (:goal (and (lit l1) (not (broken l1)))))
"""


def _explain(task, plan):
    """A second implementation: run with _holds/_successor, then list what blocks the failing step or goal."""
    state = task.init
    for number, step in enumerate(plan, start=1):
        words = step.strip().lstrip("(").rstrip(")").split()
        try:
            action = task.ground_action(words[0], words[1:]) if words else None
        except (PlanStepError, ValueError):
            action = None
        if action is None:
            return {"step": number, "state": state, "missing": [], "present": []}
        if not _holds(state, action):
            return {"step": number, "state": state, "missing": sorted(a for a in action.pre_pos if a not in state),
                    "present": sorted(a for a in action.pre_neg if a in state)}
        state = _successor(state, action)
    missing = sorted(a for a in task.goal_pos if a not in state)
    present = sorted(a for a in task.goal_neg if a in state)
    return {"step": None, "state": state, "missing": missing, "present": present} if missing or present else None


@pytest.mark.exercise("explain_failure")
def test_explain_failure_by_hand(lab):
    task, plan = _generated("blocksworld", seed=7)
    assert lab.explain_failure(task, plan) is None
    first = plan[0]
    why = lab.explain_failure(task, [first, first])  # the hand is no longer empty after the first step
    name, *args = first.strip("()").split()
    assert why["step"] == 2 and why["state"] == _successor(task.init, task.ground_action(name, args))
    assert ("handempty",) in why["missing"] and why["present"] == [] and why["missing"] == sorted(why["missing"])
    assert lab.explain_failure(task, [first, "(teleport b1)"]) == {"step": 2, "state": why["state"], "missing": [], "present": []}
    lamp = parse_task(LAMP_DOMAIN, LAMP_PROBLEM)
    smashed = frozenset({("lamp", "l1"), ("broken", "l1")})
    assert lab.explain_failure(lamp, ["(smash l1)", "(relight l1)"]) == {
        "step": 2, "state": smashed, "missing": [], "present": [("broken", "l1")]}
    # every step runs, the goal fails: the unmet positive goal and the true negative one
    assert lab.explain_failure(lamp, ["(smash l1)"]) == {
        "step": None, "state": smashed, "missing": [("lit", "l1")], "present": [("broken", "l1")]}
    assert lab.explain_failure(lamp, ["(relight l1)"]) is None


@pytest.mark.exercise("explain_failure")
def test_explain_failure_on_mutated_plans(lab):
    checked = 0
    for domain in SIZES:
        task, plan = _generated(domain, seed=9)
        for _, candidate in [("none", plan)] + mutations(plan, task.objects, task.schemas, random.Random(9)):
            assert lab.explain_failure(task, candidate) == _explain(task, candidate), (domain, candidate)
            checked += 1
    assert checked > 20
