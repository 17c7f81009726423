"""Random Transport tasks (IPC 2023 learning track, typed, no action costs), solvable by construction,
with a witness plan.

The IPC 2023 learning-track generator's parameters (``transport/generate_all.py`` of
https://github.com/ipc2023-learning/benchmarks): vehicles, packages, locations and the maximal vehicle
capacity. The road map is a random spanning tree over the locations ``l1..`` plus random extra roads,
every road both ways (so every location reaches every other); each vehicle ``v1..`` starts empty at a
random location with a random capacity in ``1..capacity``; capacities are the ``size`` objects
``c0..c<capacity>`` with ``(capacity-predecessor c<i> c<i+1>)``, as in the track's files; each package
``p1..`` starts at a random location and must end at a different random one.

The witness plan delivers the packages one at a time with the vehicle closest to the package: drive
along a shortest road path, pick up, drive to the goal, drop. Domain file:
``data/domains/transport/domain.pddl``.
"""

from __future__ import annotations

import random
from collections import deque

from itdeploy_lite.planning.generators.problem import (
    GeneratedProblem,
    action,
    check_keys,
    make_problem,
    name_pool,
    numbered,
    size_int,
)

DOMAIN = "transport"
SIZE_KEYS = ("vehicles", "packages", "locations", "capacity", "name_pool")
MAX_OBJECTS = 1000
EXTRA_ROAD = 0.3  # probability of a road beyond the spanning tree, per pair of locations


def size_tag(size: dict) -> str:
    """A short name part: ``{"vehicles": 2, "packages": 3, "locations": 5, "capacity": 2}`` -> ``"v2p3l5c2"``."""
    tag = "v{vehicles}p{packages}l{locations}c{capacity}".format(**size)
    return tag + (f"n{size['name_pool']}" if size.get("name_pool") else "")


def shortest_path(roads: dict[str, list[str]], start: str, end: str) -> list[str]:
    """``[start, ..., end]`` along ``roads`` (breadth-first; neighbours in list order).

    Raises:
        ValueError: if ``end`` cannot be reached (never for the generator's connected maps).
    """
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        if here == end:
            path = [here]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            return path[::-1]
        for nxt in roads[here]:
            if nxt not in parent:
                parent[nxt] = here
                queue.append(nxt)
    raise ValueError(f"no road path from {start} to {end}")


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Transport task (IPC 2023 learning track, action costs dropped).

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"transport-<size tag>"``.
        vehicles (int, 1..1000), packages (int, 1..1000): ``v1..``, ``p1..``.
        locations (int, 2..1000): ``l1..``.
        capacity (int, 1..100): the largest vehicle capacity (packages a vehicle can hold at once).
        name_pool (int, optional): draw each kind's numbered names at random from ``1..name_pool`` (see
            :func:`~itdeploy_lite.planning.generators.problem.numbered`) instead of numbering from 1. Capacities
            stay ``c0..c<capacity>``.

    Returns:
        A :class:`GeneratedProblem` whose goal places every package (none at its goal initially) and
        whose witness plan is valid.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n_vehicles = size_int(size, "vehicles", 1, MAX_OBJECTS)
    n_packages = size_int(size, "packages", 1, MAX_OBJECTS)
    n_locations = size_int(size, "locations", 2, MAX_OBJECTS)
    max_capacity = size_int(size, "capacity", 1, 100)
    pool = name_pool(size, max(n_vehicles, n_packages, n_locations))
    locations = numbered("l", n_locations, rng, pool)
    vehicles = numbered("v", n_vehicles, rng, pool)
    packages = numbered("p", n_packages, rng, pool)
    numbers = [f"c{i}" for i in range(max_capacity + 1)]

    order = list(locations)
    rng.shuffle(order)
    edges = {frozenset((order[i], rng.choice(order[:i]))) for i in range(1, len(order))}
    edges |= {frozenset((a, b)) for i, a in enumerate(locations) for b in locations[i + 1:]
              if rng.random() < EXTRA_ROAD}
    pairs = sorted((a, b) for edge in edges for a in edge for b in edge if a != b)
    roads = {where: [b for a, b in pairs if a == where] for where in locations}
    vehicle_at = {v: rng.choice(locations) for v in vehicles}
    free = {v: rng.randint(1, max_capacity) for v in vehicles}
    package_at = {p: rng.choice(locations) for p in packages}
    goal_at = {p: rng.choice([where for where in locations if where != package_at[p]]) for p in packages}

    init = {("road", a, b) for a, b in pairs}
    init |= {("capacity-predecessor", a, b) for a, b in zip(numbers, numbers[1:])}
    init |= {("at", v, where) for v, where in vehicle_at.items()}
    init |= {("capacity", v, numbers[k]) for v, k in free.items()}
    init |= {("at", p, where) for p, where in package_at.items()}
    goal = {("at", p, where) for p, where in goal_at.items()}

    plan: list[str] = []

    def drive(vehicle: str, to: str) -> None:
        path = shortest_path(roads, vehicle_at[vehicle], to)
        plan.extend(action("drive", vehicle, a, b) for a, b in zip(path, path[1:]))
        vehicle_at[vehicle] = to

    for p in packages:
        start, end = package_at[p], goal_at[p]
        vehicle = min(vehicles, key=lambda v: (len(shortest_path(roads, vehicle_at[v], start)), int(v[1:])))
        k = free[vehicle]  # the vehicle is empty again after each delivery
        drive(vehicle, start)
        plan.append(action("pick-up", vehicle, start, p, numbers[k - 1], numbers[k]))
        drive(vehicle, end)
        plan.append(action("drop", vehicle, end, p, numbers[k - 1], numbers[k]))

    objects = [(vehicles, "vehicle"), (packages, "package"), (locations, "location"), (numbers, "size")]
    return make_problem(name or f"{DOMAIN}-{size_tag(size)}", DOMAIN, size, objects, init, goal, plan)
