"""Random Miconic (elevator) tasks (IPC 2023 learning track, typed), solvable by construction, with a
witness plan.

The IPC 2023 learning-track generator's parameters (``miconic/generate_all.py`` of
https://github.com/ipc2023-learning/benchmarks): the number of floors and of passengers. As in the
track's files, floors are ``f1..f<n>`` from the bottom, with ``(above fi fj)`` for every ``i < j``
(``fj`` is above ``fi``); passengers ``p1..p<m>``, each with a random origin and a different random destination; the goal
serves every passenger. Unlike the track's files (lift at the bottom floor ``f1``), the lift starts at
a random floor, which gives the smallest sizes more distinct tasks.

The witness plan serves the passengers one at a time: drive to the origin, board, drive to the
destination, depart. Domain file: ``data/domains/miconic/domain.pddl``.
"""

from __future__ import annotations

import random

from itdeploy_lite.planning.generators.problem import (
    GeneratedProblem,
    action,
    check_keys,
    make_problem,
    name_pool,
    numbered,
    size_int,
)

DOMAIN = "miconic"
SIZE_KEYS = ("floors", "passengers", "name_pool")
MAX_OBJECTS = 1000


def size_tag(size: dict) -> str:
    """A short name part: ``{"floors": 4, "passengers": 2}`` -> ``"f4p2"`` (``"f4p2n8"`` with name pool 8)."""
    return "f{floors}p{passengers}".format(**size) + (f"n{size['name_pool']}" if size.get("name_pool") else "")


def witness_plan(floors: list[str], lift: int, trips: list[tuple[str, int, int]]) -> tuple[str, ...]:
    """A valid plan for ``floors`` (bottom first), a lift at ``floors[lift]`` and ``(passenger, origin,
    destination)`` trips (indices into ``floors``)."""
    plan: list[str] = []
    here = lift

    def drive(to: int) -> None:
        nonlocal here
        if to != here:
            plan.append(action("up" if to > here else "down", floors[here], floors[to]))
            here = to

    for passenger, origin, destination in trips:
        drive(origin)
        plan.append(action("board", floors[origin], passenger))
        drive(destination)
        plan.append(action("depart", floors[destination], passenger))
    return tuple(plan)


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Miconic task (IPC 2023 learning track).

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"miconic-<size tag>"``.
        floors (int, 2..1000): number of floors, ``f1`` (bottom) to ``f<n>``.
        passengers (int, 1..1000): number of passengers, ``p1..p<m>``.
        name_pool (int, optional): draw each kind's numbered names at random from ``1..name_pool`` (see
            :func:`~itdeploy_lite.planning.generators.problem.numbered`) instead of numbering from 1. Floors
            keep their order: a higher number is a higher floor.

    Returns:
        A :class:`GeneratedProblem` whose goal is ``(served p)`` for every passenger (never true
        initially) and whose witness plan is valid.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n_floors = size_int(size, "floors", 2, MAX_OBJECTS)
    n_passengers = size_int(size, "passengers", 1, MAX_OBJECTS)
    pool = name_pool(size, max(n_floors, n_passengers))
    floors = numbered("f", n_floors, rng, pool)
    passengers = numbered("p", n_passengers, rng, pool)
    lift = rng.randrange(n_floors)
    trips = [(p, *rng.sample(range(n_floors), 2)) for p in passengers]

    init = {("lift-at", floors[lift])}
    init |= {("above", floors[i], floors[j]) for i in range(n_floors) for j in range(i + 1, n_floors)}
    init |= {("origin", p, floors[o]) for p, o, _ in trips} | {("destin", p, floors[d]) for p, _, d in trips}
    goal = {("served", p) for p in passengers}
    objects = [(passengers, "passenger"), (floors, "floor")]
    return make_problem(name or f"{DOMAIN}-{size_tag(size)}", DOMAIN, size, objects, init, goal,
                        witness_plan(floors, lift, trips))
