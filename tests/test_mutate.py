"""Seeded plan mutations: each kind does what its name says, the same seed gives the same plans."""

from __future__ import annotations

import random

import pytest

from itdeploy_lite.planning.mutate import MUTATION_KINDS, mutate, mutations, split_step

PLAN = ["(load x1 v1 l1)", "(drive v1 l1 l2)", "(unload x1 v1 l2)"]
OBJECTS = {"l1": "place", "l2": "place", "l3": "place", "v1": "van", "v2": "van", "x1": "parcel"}
ACTIONS = {"load": 3, "unload": 3, "drive": 3, "repair": 2}


def one(kind, seed=0):
    return mutate(PLAN, kind, OBJECTS, ACTIONS, random.Random(seed))


def test_same_seed_same_mutations():
    first = mutations(PLAN, OBJECTS, ACTIONS, random.Random(7))
    assert first == mutations(PLAN, OBJECTS, ACTIONS, random.Random(7))
    assert [kind for kind, _ in first] == list(MUTATION_KINDS)


def test_step_counts():
    assert len(one("drop-step")) == 2
    assert len(one("duplicate-step")) == 4 and len(one("insert-step")) == 4
    assert len(one("truncate")) < 3
    assert one("empty-plan") == []
    assert sorted(one("swap-steps")) == sorted(PLAN) and one("swap-steps") != PLAN


def test_arguments():
    for seed in range(20):
        changed = [(a, b) for a, b in zip(PLAN, one("change-argument", seed)) if a != b]
        (old, new), = changed
        old_args, new_args = split_step(old)[1:], split_step(new)[1:]
        diff = [(o, n) for o, n in zip(old_args, new_args) if o != n]
        assert len(diff) == 1 and OBJECTS[diff[0][0]] == OBJECTS[diff[0][1]]
        wrong = [(a, b) for a, b in zip(PLAN, one("wrong-type-argument", seed)) if a != b][0]
        diff = [(o, n) for o, n in zip(split_step(wrong[0]), split_step(wrong[1])) if o != n]
        assert OBJECTS[diff[0][0]] != OBJECTS[diff[0][1]]
    arities = [len(split_step(step)) - 1 for step in one("missing-argument")]
    assert sorted(arities) == [2, 3, 3]
    arities = [len(split_step(step)) - 1 for step in one("extra-argument")]
    assert sorted(arities) == [3, 3, 4]


def test_names_the_task_does_not_know():
    names = {split_step(step)[0] for step in one("unknown-action")}
    assert names - set(ACTIONS)
    args = {arg for step in one("unknown-object") for arg in split_step(step)[1:]}
    assert args - set(OBJECTS)
    other = [split_step(a)[0] != split_step(b)[0] for a, b in zip(PLAN, one("other-action"))]
    assert sum(other) == 1


def test_kinds_that_cannot_apply_give_none():
    untyped = {name: "object" for name in OBJECTS}
    assert mutate(PLAN, "wrong-type-argument", untyped, ACTIONS, random.Random(0)) is None
    assert mutate(["(wait)"], "missing-argument", OBJECTS, {"wait": 0}, random.Random(0)) is None
    assert mutate(["(a)", "(a)"], "swap-steps", OBJECTS, ACTIONS, random.Random(0)) is None
    assert mutate([], "empty-plan", OBJECTS, ACTIONS, random.Random(0)) is None


def test_canonical_output_and_errors():
    assert mutate(["(LOAD  X1 v1 L1)"], "duplicate-step", OBJECTS, ACTIONS, random.Random(0)) == [
        "(load x1 v1 l1)", "(load x1 v1 l1)"]
    with pytest.raises(ValueError, match="unknown mutation kind"):
        mutate(PLAN, "shuffle", OBJECTS, ACTIONS, random.Random(0))
    with pytest.raises(ValueError, match="no action name"):
        mutate(["()"], "drop-step", OBJECTS, ACTIONS, random.Random(0))
