"""Random Ferry tasks (IPC 2023 learning track, typed), solvable by construction, with a witness plan.

The IPC 2023 learning-track generator's parameters (``ferry/generate_all.py`` of
https://github.com/ipc2023-learning/benchmarks): the number of cars and of locations. As there, the
ferry starts empty at a random location, every car starts at a random location and has a random goal
location (any car can be carried anywhere, so every task is solvable). Names follow the track's files:
``car1..carN``, ``loc1..locM``.

The witness plan carries the misplaced cars one at a time: sail to the car (if the ferry is elsewhere),
board, sail to the car's goal, debark. Domain file: ``data/domains/ferry/domain.pddl``.
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

DOMAIN = "ferry"
SIZE_KEYS = ("cars", "locations", "name_pool")
MAX_OBJECTS = 1000


def size_tag(size: dict) -> str:
    """A short name part: ``{"cars": 3, "locations": 4}`` -> ``"c3l4"`` (``"c3l4n6"`` with name pool 6)."""
    return "c{cars}l{locations}".format(**size) + (f"n{size['name_pool']}" if size.get("name_pool") else "")


def witness_plan(ferry: str, at: dict[str, str], goal_at: dict[str, str]) -> tuple[str, ...]:
    """A valid plan: for each misplaced car in turn, (sail,) board, sail, debark."""
    plan: list[str] = []
    here = ferry
    for car in at:  # insertion order: car1, car2, ...
        start, end = at[car], goal_at[car]
        if start == end:
            continue
        if here != start:
            plan.append(action("sail", here, start))
        plan += [action("board", car, start), action("sail", start, end), action("debark", car, end)]
        here = end
    return tuple(plan)


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Ferry task (IPC 2023 learning track).

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"ferry-<size tag>"``.
        cars (int, 1..1000): number of cars, ``car1..carN``.
        locations (int, 2..1000): number of locations, ``loc1..locM``.
        name_pool (int, optional): draw each kind's numbered names at random from ``1..name_pool`` (see
            :func:`~itdeploy_lite.planning.generators.problem.numbered`) instead of numbering from 1.

    Returns:
        A :class:`GeneratedProblem` whose goal places every car and whose witness plan is valid. Every
        car may already be at its goal (likely for 1 car); :func:`~itdeploy_lite.planning.generators.
        generate_problems` rejects those tasks.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n_cars = size_int(size, "cars", 1, MAX_OBJECTS)
    n_locations = size_int(size, "locations", 2, MAX_OBJECTS)
    pool = name_pool(size, max(n_cars, n_locations))
    cars = numbered("car", n_cars, rng, pool)
    locations = numbered("loc", n_locations, rng, pool)
    ferry = rng.choice(locations)
    at = {car: rng.choice(locations) for car in cars}
    goal_at = {car: rng.choice(locations) for car in cars}

    init = {("empty-ferry",), ("at-ferry", ferry)} | {("at", car, where) for car, where in at.items()}
    goal = {("at", car, where) for car, where in goal_at.items()}
    objects = [(cars, "car"), (locations, "location")]
    return make_problem(name or f"{DOMAIN}-{size_tag(size)}", DOMAIN, size, objects, init, goal,
                        witness_plan(ferry, at, goal_at))
