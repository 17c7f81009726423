"""Random Gripper tasks (IPC 1998, untyped STRIPS) with a witness plan.

Robby has two grippers (``left``, ``right``) and works in two rooms (``rooma``, ``roomb``). Each ball
starts in a random room and must end in a random room; robby starts in a random room. (The IPC 1998
tasks are the special case "all balls from rooma to roomb".) The witness plan carries up to two
misplaced balls per trip, alternating rooms. Domain file: ``data/domains/gripper/domain.pddl``.
"""

from __future__ import annotations

import random

from itdeploy_lite.planning.generators.problem import GeneratedProblem, action, check_keys, make_problem, natural_key, size_int

DOMAIN = "gripper"
SIZE_KEYS = ("balls",)
ROOMS = ("rooma", "roomb")
GRIPPERS = ("left", "right")
MAX_BALLS = 100


def size_tag(size: dict) -> str:
    """A short name part for a size, e.g. ``{"balls": 4}`` -> ``"n4"``."""
    return f"n{size['balls']}"


def witness_plan(robby: str, at: dict[str, str], goal: dict[str, str]) -> tuple[str, ...]:
    """A valid plan: from robby's room, carry up to two misplaced balls to the other room, and repeat."""
    at = dict(at)
    plan: list[str] = []
    here = robby
    while any(at[b] != goal[b] for b in at):
        there = ROOMS[1] if here == ROOMS[0] else ROOMS[0]
        load = [b for b in sorted(at, key=natural_key) if at[b] == here and goal[b] == there][:2]
        plan += [action("pick", b, here, g) for b, g in zip(load, GRIPPERS)]
        plan.append(action("move", here, there))
        plan += [action("drop", b, there, g) for b, g in zip(load, GRIPPERS)]
        at.update({b: there for b in load})
        here = there
    return tuple(plan)


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Gripper task.

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"gripper-<size tag>"``.
        balls (int, 1..100): number of balls, named ``ball1..ballN``.

    Returns:
        A :class:`GeneratedProblem` with a witness plan. Every ball may already be in its goal room
        (likely for 1-2 balls); :func:`~itdeploy_lite.planning.generators.generate_problems` rejects those.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n = size_int(size, "balls", 1, MAX_BALLS)
    balls = [f"ball{k}" for k in range(1, n + 1)]
    robby = rng.choice(ROOMS)
    at = {b: rng.choice(ROOMS) for b in balls}
    goal_at = {b: rng.choice(ROOMS) for b in balls}

    init = {("room", r) for r in ROOMS} | {("gripper", g) for g in GRIPPERS} | {("free", g) for g in GRIPPERS}
    init |= {("ball", b) for b in balls} | {("at", b, r) for b, r in at.items()} | {("at-robby", robby)}
    goal = {("at", b, r) for b, r in goal_at.items()}
    name = name or f"{DOMAIN}-{size_tag(size)}"
    objects = [(list(ROOMS) + balls + list(GRIPPERS), None)]
    return make_problem(name, DOMAIN, size, objects, init, goal, witness_plan(robby, at, goal_at))
