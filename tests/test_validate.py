"""The validator's semantics (VAL's, for STRIPS with typing, negative preconditions, equality)."""

import pytest

from itdeploy_lite.planning import breadth_first_search, load_task, parse_task, validate

BW_PROBLEM = """(define (problem bw3) (:domain blocksworld)
 (:objects b1 b2 b3)
 (:init (handempty) (ontable b1) (on b2 b1) (clear b2) (ontable b3) (clear b3))
 (:goal (and (on b1 b2) (on b2 b3))))"""

GOOD = ["(unstack b2 b1)", "(stack b2 b3)", "(pick-up b1)", "(stack b1 b2)"]

# A typed domain using every feature of the supported fragment.
TYPED_DOMAIN = """(define (domain Lab)
 (:requirements :strips :typing :negative-preconditions :equality)
 (:types block table - surface  robot)
 (:constants floor - table)
 (:predicates (on ?x - block ?s - surface) (free ?s - surface) (locked ?x - block) (seen ?s - surface) (busy ?r - robot))
 (:action move
  :parameters (?r - robot ?x - block ?from - surface ?to - surface)
  :precondition (and (on ?x ?from) (free ?x) (free ?to) (not (= ?from ?to)) (not (= ?x ?to)) (not (locked ?x)))
  :effect (and (not (on ?x ?from)) (on ?x ?to) (free ?from) (not (free ?to))))
 (:action touch
  :parameters (?r - robot ?s - surface)
  :precondition (and (seen ?s))
  :effect (and (not (seen ?s)) (seen ?s) (busy ?r)))
 (:action lock
  :parameters (?r - robot ?x - block)
  :precondition (not (busy ?r))
  :effect (locked ?x))
 (:action same
  :parameters (?x ?y - (either block table))
  :precondition (= ?x ?y)
  :effect (seen ?x)))"""

TYPED_PROBLEM = """(define (problem lab1) (:domain LAB)
 (:objects A B - block R - robot)
 (:init (on a floor) (on b floor) (free a) (free b) (free floor) (seen a))
 (:goal (and (on a b) (not (locked a)))))"""


@pytest.fixture(scope="module")
def bw(tmp_path_factory):
    path = tmp_path_factory.mktemp("bw") / "p.pddl"
    path.write_text(BW_PROBLEM)
    return load_task("blocksworld", path)


@pytest.fixture(scope="module")
def lab():
    return parse_task(TYPED_DOMAIN, TYPED_PROBLEM)


def test_valid_plan(bw):
    result = validate(bw, GOOD)
    assert result.valid and result.reason is None
    assert result.steps_executed == 4 and result.failed_step is None
    assert ("on", "b1", "b2") in result.final_state and ("on", "b2", "b3") in result.final_state
    assert result.plan == tuple(GOOD)


def test_precondition_failure_names_step_and_literals(bw):
    result = validate(bw, ["(unstack b2 b1)", "(pick-up b1)"])
    assert not result.valid
    assert result.failed_step == 2 and result.line == 2 and result.steps_executed == 1
    assert result.failed_action == "(pick-up b1)"
    assert result.unsatisfied == ["(handempty)"]
    assert "step 2" in result.reason and "(handempty)" in result.reason
    # the final state is the one before the failing step
    assert ("holding", "b2") in result.final_state


def test_goal_unmet(bw):
    result = validate(bw, GOOD[:2])
    assert not result.valid and result.failed_step is None
    assert result.unmet_goals == ["(on b1 b2)"]
    assert "goal not satisfied" in result.reason


def test_empty_plan_invalid_unless_goal_holds(bw):
    assert not validate(bw, "").valid
    trivial = parse_task(TYPED_DOMAIN, TYPED_PROBLEM.replace("(on a b) (not (locked a))", "(on a floor)"))
    assert validate(trivial, "").valid


@pytest.mark.parametrize(
    "step, fragment",
    [
        ("(fly b1)", "unknown action 'fly'"),
        ("(pick-up b9)", "unknown object 'b9'"),
        ("(pick-up)", "takes 1 argument(s)"),  # VAL segfaults here
        ("(pick-up b1 b2)", "takes 1 argument(s)"),  # VAL ignores the extra argument (untyped)
        ("(stack b2 b1", "unbalanced parentheses"),
        ("((unstack b2 b1))", "parentheses"),
        ("()", "empty step"),
        ("(unstack b2 b1) then (stack b2 b3)", "unexpected text"),
    ],
)
def test_malformed_steps_are_invalid_with_reason(bw, step, fragment):
    result = validate(bw, f"(unstack b2 b1)\n(put-down b2)\n{step}")
    assert not result.valid
    assert result.failed_step == 3 and result.line == 3
    assert fragment in result.reason, result.reason


def test_names_are_case_insensitive(bw, lab):
    assert validate(bw, [s.upper() for s in GOOD]).valid
    # the typed problem declares A, B, R in upper case and names domain LAB
    assert validate(lab, "(MOVE r A floor b)\n(move R a FLOOR B)").failed_step == 2


def test_delete_then_add_leaves_atom_true(lab):
    result = validate(lab, "(touch r a)")
    assert ("seen", "a") in result.final_state
    assert ("busy", "r") in result.final_state


def test_negative_precondition(lab):
    result = validate(lab, "(touch r a)\n(lock r a)")
    assert result.failed_step == 2 and result.unsatisfied == ["(not (busy r))"]
    assert validate(lab, "(lock r a)\n(move r a floor b)").unsatisfied == ["(not (locked a))"]


def test_equality_and_repeated_arguments(lab):
    # repeated arguments are allowed; (= ?x ?y) holds
    assert ("seen", "b") in validate(lab, "(same b b)").final_state
    result = validate(lab, "(same a b)")
    assert result.failed_step == 1 and result.unsatisfied == ["(= a b)"]
    result = validate(lab, "(move r a floor floor)")
    assert "(not (= floor floor))" in result.unsatisfied


def test_types_and_subtypes(lab):
    # floor is a constant of type table (a subtype of surface): fine as ?to
    assert validate(lab, "(move r a floor b)").valid
    wrong = validate(lab, "(move a a floor b)")  # a is a block, ?r needs a robot
    assert wrong.failed_step == 1 and "of type 'block'" in wrong.reason and "robot" in wrong.reason
    assert "either" not in validate(lab, "(same r r)").reason  # robot is neither block nor table
    assert not validate(lab, "(same r r)").valid


def test_negative_goal(lab):
    result = validate(lab, "(move r a floor b)\n(lock r a)")
    assert not result.valid and result.unmet_goals == ["(not (locked a))"]


def test_plain_sequence_and_ground_actions_are_accepted(bw):
    plan = breadth_first_search(bw)
    assert validate(bw, plan).valid
    assert validate(bw, [str(a) for a in plan]).valid
    assert len(plan) == 4  # BFS is optimal


def test_validation_never_raises_on_garbage(bw):
    import random

    rng = random.Random(0)
    alphabet = "()abp-ku1239 \n;:.`<>/\\\"'#{}[]sStT"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        result = validate(bw, text)
        # the alphabet cannot spell pick-up/unstack/put-down/stack with arguments, so no text is a plan
        assert result.valid is False and isinstance(result.reason, str) and result.reason


def test_grounding_prunes_with_static_preconditions():
    sok_domain = """(define (domain grid) (:requirements :typing)
      (:types cell dir)
      (:predicates (adj ?a ?b - cell ?d - dir) (at ?c - cell))
      (:action go :parameters (?a ?b - cell ?d - dir)
        :precondition (and (at ?a) (adj ?a ?b ?d)) :effect (and (not (at ?a)) (at ?b))))"""
    cells = " ".join(f"c{i}" for i in range(30))
    adj = " ".join(f"(adj c{i} c{i+1} right) (adj c{i+1} c{i} left)" for i in range(29))
    problem = f"""(define (problem line) (:domain grid) (:objects {cells} - cell left right - dir)
      (:init (at c0) {adj}) (:goal (at c29)))"""
    task = parse_task(sok_domain, problem)
    assert len(task.ground_actions()) == 58  # not 30*30*2
    assert len(breadth_first_search(task)) == 29


def test_static_preconditions_are_reported_and_states_keep_static_atoms():
    domain = """(define (domain grid) (:requirements :typing)
      (:types cell)
      (:predicates (adj ?a ?b - cell) (at ?c - cell))
      (:action go :parameters (?a ?b - cell)
        :precondition (and (at ?a) (adj ?a ?b)) :effect (and (not (at ?a)) (at ?b))))"""
    problem = """(define (problem p) (:domain grid) (:objects c0 c1 c2 - cell)
      (:init (at c0) (adj c0 c1) (adj c1 c2)) (:goal (and (at c2) (adj c1 c2))))"""
    task = parse_task(domain, problem)
    assert task.static_predicates == {"adj"}
    bad = validate(task, "(go c0 c2)")
    assert bad.failed_step == 1 and bad.unsatisfied == ["(adj c0 c2)"]
    assert ("adj", "c0", "c1") in bad.final_state  # static atoms are part of every reported state
    good = validate(task, "(go c0 c1)\n(go c1 c2)")
    assert good.valid and good.final_state == {("at", "c2"), ("adj", "c0", "c1"), ("adj", "c1", "c2")}
    # a ground action still works on full states
    action = task.ground_action("go", ("c0", "c1"))
    assert action.applicable(task.init) and ("at", "c1") in action.apply(task.init)
