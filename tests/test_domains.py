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
}
TYPES = {
    "blocksworld": set(),
    "rovers": {"rover", "waypoint", "store", "camera", "mode", "lander", "objective"},
    "sokoban": {"location", "direction", "box"},
    "gripper": set(),
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
    assert "typing" not in {str(r) for r in parsed.requirements}


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
