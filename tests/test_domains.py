"""The shipped domain files parse with the ``pddl`` library (0.5.1) and with our loader, and have the
actions, types and predicates of their IPC originals."""

from __future__ import annotations

import pytest
from pddl import parse_domain

from itdeploy_lite.paths import data_dir
from itdeploy_lite.planning import BUILTIN_DOMAINS, parse_task, validate

ACTIONS = {
    "blocksworld": {"pick-up", "put-down", "stack", "unstack"},
    "rovers": {
        "navigate", "sample_soil", "sample_rock", "drop", "calibrate", "take_image",
        "communicate_soil_data", "communicate_rock_data", "communicate_image_data",
    },
    "sokoban": {"move", "push"},
    "gripper": {"move", "pick", "drop"},
    "childsnack": {"make_sandwich_no_gluten", "make_sandwich", "put_on_tray", "serve_sandwich_no_gluten",
                   "serve_sandwich", "move_tray"},
    "ferry": {"sail", "board", "debark"},
    "floortile": {"change_color", "paint_up", "paint_down", "move_up", "move_down", "move_right", "move_left"},
    "miconic": {"board", "depart", "up", "down"},
    "satellite": {"turn_to", "switch_on", "switch_off", "calibrate", "take_image"},
    "spanner": {"walk", "pickup_spanner", "tighten_nut"},
    "transport": {"drive", "pick-up", "drop"},
}
TYPES = {
    "blocksworld": set(),
    "rovers": {"rover", "waypoint", "store", "camera", "mode", "lander", "objective"},
    "sokoban": {"location", "direction", "box"},
    "gripper": set(),
    "childsnack": {"child", "bread-portion", "content-portion", "sandwich", "tray", "place"},
    "ferry": {"car", "location"},
    "floortile": {"robot", "tile", "color"},
    "miconic": {"passenger", "floor"},
    "satellite": {"satellite", "direction", "instrument", "mode"},
    "spanner": {"location", "locatable", "man", "nut", "spanner"},
    "transport": {"location", "locatable", "size", "vehicle", "package"},
}


def path(domain):
    return data_dir() / "domains" / domain / "domain.pddl"


def test_every_builtin_domain_is_shipped():
    assert set(BUILTIN_DOMAINS) == set(ACTIONS)
    for domain in ACTIONS:
        assert path(domain).is_file()


@pytest.mark.parametrize("domain", sorted(ACTIONS))
def test_domain_parses_with_the_pddl_library(domain):
    parsed = parse_domain(path(domain))
    assert {a.name for a in parsed.actions} == ACTIONS[domain]
    assert set(parsed.types) == TYPES[domain]


def test_sokoban_directions_are_constants():
    parsed = parse_domain(path("sokoban"))
    assert {c.name for c in parsed.constants} == {"up", "down", "left", "right"}


def test_gripper_is_untyped_with_type_predicates():
    parsed = parse_domain(path("gripper"))
    assert {"room", "ball", "gripper"} <= {p.name for p in parsed.predicates}
    requirements = {str(r) for r in parsed.requirements}
    assert requirements == {":strips"}  # no :typing: the types are predicates
    assert ":typing" in {str(r) for r in parse_domain(path("ferry")).requirements}  # the check can fail


GRIPPER_IPC_PROBLEM = """
(define (problem strips-gripper-x-1)
   (:domain gripper)
   (:objects rooma roomb ball4 ball3 ball2 ball1 left right)
   (:init (room rooma) (room roomb) (ball ball4) (ball ball3) (ball ball2) (ball ball1)
          (at-robby rooma) (free left) (free right)
          (at ball4 rooma) (at ball3 rooma) (at ball2 rooma) (at ball1 rooma)
          (gripper left) (gripper right))
   (:goal (and (at ball4 roomb) (at ball3 roomb) (at ball2 roomb) (at ball1 roomb))))
"""


def test_an_ipc_1998_style_gripper_plan_is_valid():
    plan = """(pick ball1 rooma left) (pick ball2 rooma right) (move rooma roomb)
    (drop ball1 roomb left) (drop ball2 roomb right) (move roomb rooma)
    (pick ball3 rooma left) (pick ball4 rooma right) (move rooma roomb)
    (drop ball3 roomb left) (drop ball4 roomb right)"""
    task = parse_task(path("gripper").read_text(), GRIPPER_IPC_PROBLEM)
    assert validate(task, plan).valid
    # a ball is not a room: the untyped domain still refuses it through its type predicates
    assert not validate(task, "(move rooma ball1)").valid


def test_the_other_seven_ipc_2023_domains_say_which_semantics_they_follow():
    for domain in ("childsnack", "ferry", "floortile", "miconic", "satellite", "spanner", "transport"):
        header = path(domain).read_text().split("(define")[0]
        assert "IPC 2023 learning-track" in header or "IPC 2023 learning track" in header, domain
        parsed = parse_domain(path(domain))
        assert ":typing" in {str(r) for r in parsed.requirements}, domain
    for domain in ("transport", "floortile"):
        assert "ACTION COSTS DROPPED" in path(domain).read_text()
        assert ":action-costs" not in {str(r) for r in parse_domain(path(domain)).requirements}


FERRY_PROBLEM = """(define (problem f) (:domain ferry)
  (:objects car1 - car loc1 loc2 - location)
  (:init (empty-ferry) (at-ferry loc1) (at car1 loc1))
  (:goal (and (at car1 loc2))))"""


def test_ferry_cannot_sail_to_where_it_is():
    """Ferry's negative precondition (not (at-ferry ?to)) replaces the old (not-eq ?from ?to) facts."""
    task = parse_task(path("ferry").read_text(), FERRY_PROBLEM)
    assert validate(task, "(board car1 loc1) (sail loc1 loc2) (debark car1 loc2)").valid
    result = validate(task, "(board car1 loc1) (sail loc1 loc1) (sail loc1 loc2) (debark car1 loc2)")
    assert not result.valid and result.failed_step == 2 and result.unsatisfied == ["(not (at-ferry loc1))"]


CHILDSNACK_PROBLEM = """(define (problem c) (:domain childsnack)
  (:objects child1 - child tray1 - tray sandw1 - sandwich bread1 - bread-portion
            content1 - content-portion table1 - place)
  (:init (at tray1 kitchen) (at_kitchen_bread bread1) (at_kitchen_content content1)
         (allergic_gluten child1) (waiting child1 table1) (notexist sandw1))
  (:goal (and (served child1))))"""


def test_childsnack_kitchen_is_a_constant_and_gluten_matters():
    parsed = parse_domain(path("childsnack"))
    assert {c.name for c in parsed.constants} == {"kitchen"}
    task = parse_task(path("childsnack").read_text(), CHILDSNACK_PROBLEM)
    assert task.objects["kitchen"] == "place"
    plan = "(make_sandwich sandw1 bread1 content1) (put_on_tray sandw1 tray1) (move_tray tray1 kitchen table1)"
    assert validate(task, plan + " (serve_sandwich sandw1 child1 tray1 table1)").failed_step == 4  # allergic
    result = validate(task, plan + " (serve_sandwich_no_gluten sandw1 child1 tray1 table1)")
    assert not result.valid and result.unsatisfied == ["(no_gluten_sandwich sandw1)"]
