"""Random Rovers tasks (IPC 2002 STRIPS, typed) that are solvable by construction, with a witness plan.

Construction: the waypoints' visibility graph is a random spanning tree plus random extra edges; each
rover can traverse a random connected sub-graph of it that spans every waypoint, so every rover reaches
every waypoint, and the lander's waypoint has a visible neighbour. Each capability (soil, rock,
imaging) is on at least one rover; every camera sits on an imaging rover, supports at least one mode,
and has a calibration target visible from at least one waypoint. Goals are drawn only among data that
can be gathered: soil/rock data of waypoints holding a sample, images in modes some camera supports.

The witness plan handles the goals one by one with a rover that can do it: navigate along a shortest
path, (drop, sample | calibrate, take_image), navigate to the nearest waypoint that sees the lander,
communicate. Object names follow IPC 2002: ``rover0``, ``rover0store``, ``waypoint0``, ``camera0``,
``objective0``, lander ``general``, modes ``colour high_res low_res``.
Domain file: ``data/domains/rovers/domain.pddl`` (``(domain rover)``).
"""

from __future__ import annotations

import random
from collections import deque

from itdeploy_lite.planning.generators.problem import (
    GeneratedProblem,
    action,
    check_keys,
    natural_key,
    make_problem,
    size_int,
)

DOMAIN = "rovers"
PDDL_DOMAIN_NAME = "rover"
SIZE_KEYS = ("rovers", "waypoints", "cameras", "objectives", "name_pool", "object_pool")
#: With ``name_pool`` set, rover, camera and objective names are drawn from at least this many
#: indices (the largest held-out size: 2 rovers, 2 cameras, 3 objectives), waypoints from ``name_pool``.
NAME_POOLS = {"rovers": 2, "cameras": 2, "objectives": 3}
MODES = ("colour", "high_res", "low_res")
LANDER = "general"
MAX_OBJECTS = 200

Graph = dict[str, list[str]]  # waypoint -> sorted neighbours


def size_tag(size: dict) -> str:
    """A short name part: ``{"rovers": 1, "waypoints": 4, "cameras": 1, "objectives": 2}`` -> ``"r1w4c1o2"``."""
    tag = "r{rovers}w{waypoints}c{cameras}o{objectives}".format(**size)
    tag += f"p{size['name_pool']}" if size.get("name_pool") else ""
    return tag + (f"k{size['object_pool']}" if size.get("object_pool") else "")


def _edge_key(edge: frozenset) -> list:
    return sorted(natural_key((w,)) for w in edge)


def _both_ways(edges: set[frozenset]) -> list[tuple[str, str]]:
    """Each undirected edge ``{a, b}`` as the pairs ``(a, b)`` and ``(b, a)``."""
    return [(a, b) for edge in edges for a in edge for b in edge if a != b]


def _random_tree(rng: random.Random, nodes: list[str], edges: set[frozenset]) -> set[frozenset]:
    """A random spanning tree of the connected graph ``(nodes, edges)`` (randomised Prim)."""
    start = rng.choice(nodes)
    reached, tree = {start}, set()
    while len(reached) < len(nodes):
        frontier = sorted((e for e in edges if len(e & reached) == 1), key=_edge_key)
        edge = rng.choice(frontier)
        tree.add(edge)
        reached |= edge
    return tree


def _graph(nodes: list[str], edges: set[frozenset]) -> Graph:
    graph: Graph = {n: [] for n in nodes}
    for edge in edges:
        a, b = sorted(edge)
        graph[a].append(b)
        graph[b].append(a)
    return {n: sorted(ns, key=lambda w: natural_key((w,))) for n, ns in graph.items()}


def _path_to_nearest(graph: Graph, start: str, targets: set[str]) -> list[str]:
    """Shortest path ``[start, ..., t]`` to the first target breadth-first search reaches (ties: by name)."""
    parent = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node in targets:
            path = [node]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            return path[::-1]
        for nxt in graph[node]:
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no path from {start} to {sorted(targets)}: the generator broke its own invariant")


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random, solvable Rovers task.

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"rovers-<size tag>"``.
        rovers (int, 1..200): number of rovers, each with one store.
        waypoints (int, 2..200): number of waypoints.
        cameras (int, 1..200): number of cameras.
        objectives (int, 1..200): number of objectives (image subjects and calibration targets).
        name_pool (int, optional, >= waypoints): draw the waypoint names at random from ``waypoint0 ..
            waypoint<name_pool - 1>`` and the rover, camera and objective names from pools of
            :data:`NAME_POOLS` indices, instead of numbering them from 0. Names are fixed by index, so
            without a pool a model trained on small tasks never sees ``waypoint7`` or ``rover1``.
        object_pool (int, optional, with ``name_pool``): draw the rover, camera and objective names
            from ``max(object_pool, NAME_POOLS[kind])`` indices each instead of :data:`NAME_POOLS`.
            A pretraining-corpus lever: a blind guess of a task's one camera then costs ln 4 nats a
            mention instead of ln 2. Measured (``experiments/logs/levers_gen0.md``): the 1.1 M planner
            still does not copy the names, so no shipped size uses it. The shared vocabulary holds
            ``rover0..3``, ``camera0..3`` and ``objective0..5``: 4 is the largest pool every kind can use.

    Returns:
        A :class:`GeneratedProblem` whose goal has 1 to ``objectives + 2`` ``communicated_*`` atoms
        (never true initially) and whose witness plan is valid.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n_rovers = size_int(size, "rovers", 1, MAX_OBJECTS)
    n_waypoints = size_int(size, "waypoints", 2, MAX_OBJECTS)
    n_cameras = size_int(size, "cameras", 1, MAX_OBJECTS)
    n_objectives = size_int(size, "objectives", 1, MAX_OBJECTS)

    counts = {"rovers": n_rovers, "waypoints": n_waypoints, "cameras": n_cameras, "objectives": n_objectives}
    if size.get("name_pool") is not None:
        pools = {**NAME_POOLS, "waypoints": size_int(size, "name_pool", n_waypoints, MAX_OBJECTS)}
        if size.get("object_pool") is not None:
            wide = size_int(size, "object_pool", 1, MAX_OBJECTS)
            pools.update({kind: max(wide, n) for kind, n in NAME_POOLS.items()})
        index = {kind: sorted(rng.sample(range(max(n, pools[kind])), n)) for kind, n in counts.items()}
    elif size.get("object_pool") is not None:
        raise ValueError("size parameter 'object_pool' needs 'name_pool' (object names are numbered from 0 without it)")
    else:
        index = {kind: list(range(n)) for kind, n in counts.items()}
    rovers = [f"rover{i}" for i in index["rovers"]]
    stores = [f"{r}store" for r in rovers]
    waypoints = [f"waypoint{i}" for i in index["waypoints"]]
    cameras = [f"camera{i}" for i in index["cameras"]]
    objectives = [f"objective{i}" for i in index["objectives"]]
    init: set[tuple[str, ...]] = set()

    # Map: visibility = random spanning tree + extra edges; each rover traverses a spanning sub-graph.
    order = list(waypoints)
    rng.shuffle(order)
    visible = {frozenset((order[i], rng.choice(order[:i]))) for i in range(1, len(order))}
    visible |= {
        frozenset((a, b)) for i, a in enumerate(waypoints) for b in waypoints[i + 1 :] if rng.random() < 0.3
    }
    init |= {("visible", a, b) for a, b in _both_ways(visible)}
    visible_graph = _graph(waypoints, visible)
    lander_at = rng.choice(waypoints)
    init.add(("at_lander", LANDER, lander_at))
    sees_lander = set(visible_graph[lander_at])

    roads: dict[str, Graph] = {}
    for rover, store in zip(rovers, stores):
        tree = _random_tree(rng, waypoints, visible)
        edges = tree | {e for e in sorted(visible - tree, key=_edge_key) if rng.random() < 0.5}
        roads[rover] = _graph(waypoints, edges)
        init |= {("can_traverse", rover, a, b) for a, b in _both_ways(edges)}
        init |= {("at", rover, rng.choice(waypoints)), ("store_of", store, rover), ("empty", store)}

    # Equipment: each capability on at least one rover.
    equipped = {cap: [r for r in rovers if rng.random() < 0.5] for cap in ("soil", "rock", "imaging")}
    for cap, owners in equipped.items():
        if not owners:
            owners.append(rng.choice(rovers))
        init |= {(f"equipped_for_{cap}" + ("_analysis" if cap != "imaging" else ""), r) for r in owners}

    soil = [w for w in waypoints if rng.random() < 0.5]
    rock = [w for w in waypoints if rng.random() < 0.5]
    init |= {("at_soil_sample", w) for w in soil} | {("at_rock_sample", w) for w in rock}

    seen_from: dict[str, list[str]] = {}
    for objective in objectives:
        seen_from[objective] = [w for w in waypoints if rng.random() < 0.4] or [rng.choice(waypoints)]
        init |= {("visible_from", objective, w) for w in seen_from[objective]}

    camera_rover, camera_target, camera_modes = {}, {}, {}
    for camera in cameras:
        camera_rover[camera] = rng.choice(equipped["imaging"])
        camera_target[camera] = rng.choice(objectives)
        camera_modes[camera] = [m for m in MODES if rng.random() < 0.5] or [rng.choice(MODES)]
        init.add(("on_board", camera, camera_rover[camera]))
        init.add(("calibration_target", camera, camera_target[camera]))
        init |= {("supports", camera, m) for m in camera_modes[camera]}

    # Goals: only data that can be gathered.
    modes_seen = sorted({m for ms in camera_modes.values() for m in ms})
    candidates = [("communicated_soil_data", w) for w in soil] + [("communicated_rock_data", w) for w in rock]
    candidates += [("communicated_image_data", o, m) for o in objectives for m in modes_seen]
    goal = set(rng.sample(candidates, rng.randint(1, min(len(candidates), n_objectives + 2))))

    # Witness plan: one goal at a time.
    position = {a[1]: a[2] for a in init if a[0] == "at"}
    full: set[str] = set()
    plan: list[str] = []

    def go(rover: str, targets: set[str]) -> str:
        path = _path_to_nearest(roads[rover], position[rover], targets)
        plan.extend(action("navigate", rover, a, b) for a, b in zip(path, path[1:]))
        position[rover] = path[-1]
        return path[-1]

    def distance(rover: str, targets: set[str]) -> int:
        return len(_path_to_nearest(roads[rover], position[rover], targets))

    for atom in sorted(goal, key=natural_key):
        if atom[0] in ("communicated_soil_data", "communicated_rock_data"):
            kind, where = atom[0].split("_")[1], atom[1]
            rover = min(equipped[kind], key=lambda r: (distance(r, {where}), natural_key((r,))))
            store = f"{rover}store"
            if store in full:
                plan.append(action("drop", rover, store))
            go(rover, {where})
            plan.append(action(f"sample_{kind}", rover, store, where))
            full.add(store)
            x = go(rover, sees_lander)
            plan.append(action(f"communicate_{kind}_data", rover, LANDER, where, x, lander_at))
        else:
            _, objective, mode = atom
            camera = min((c for c in cameras if mode in camera_modes[c]), key=lambda c: natural_key((c,)))
            rover, target = camera_rover[camera], camera_target[camera]
            w = go(rover, set(seen_from[target]))
            plan.append(action("calibrate", rover, camera, target, w))
            p = go(rover, set(seen_from[objective]))
            plan.append(action("take_image", rover, p, objective, camera, mode))
            x = go(rover, sees_lander)
            plan.append(action("communicate_image_data", rover, LANDER, objective, mode, x, lander_at))

    name = name or f"{DOMAIN}-{size_tag(size)}"
    objects = [
        ([LANDER], "lander"),
        (list(MODES), "mode"),
        (rovers, "rover"),
        (stores, "store"),
        (waypoints, "waypoint"),
        (cameras, "camera"),
        (objectives, "objective"),
    ]
    return make_problem(name, DOMAIN, size, objects, init, goal, plan, domain_name=PDDL_DOMAIN_NAME)
