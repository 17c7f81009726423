"""Random Sokoban tasks, solvable by construction (reverse play), with a witness plan.

Construction: on a ``grid x grid`` board, ``walls`` random cells become walls (the floor stays
connected). Each box is put on its goal cell and the robot on a random free cell; then the game is
played *backwards*: the robot walks (a reversed ``move``) and *pulls* boxes (a reversed ``push``) away
from their goals, and finally walks to a random cell. The initial state is where reverse play ends, so
the reversed moves and pulls, read forwards, are a valid plan: the witness. Loops (a state visited
twice) are cut out of it.

The encoding is the IPC 2023 learning-track one: locations ``loc_<row>_<col>`` (1-based, row 1 at the
top; only floor cells are objects), boxes ``box1..boxN``, directions ``up down left right`` (domain
constants), ``(clear ?l)`` = no box on ``?l`` (the robot's cell is clear). The goal puts each named box on
its own goal cell. Domain file: ``data/domains/sokoban/domain.pddl``.
"""

from __future__ import annotations

import random
from collections import deque

from itdeploy_lite.planning.generators.problem import (
    GeneratedProblem,
    action,
    check_keys,
    make_problem,
    size_int,
)

DOMAIN = "sokoban"
SIZE_KEYS = ("grid", "boxes", "walls")
DIRECTIONS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
MAX_GRID = 30
WALL_TRIES = 200

Cell = tuple[int, int]


def size_tag(size: dict) -> str:
    """A short name part, e.g. ``{"grid": 5, "boxes": 2, "walls": 3}`` -> ``"g5b2w3"``."""
    return "g{grid}b{boxes}w{walls}".format(**size)


def loc(cell: Cell) -> str:
    """``(2, 3)`` -> ``"loc_2_3"``."""
    return f"loc_{cell[0]}_{cell[1]}"


def _step(cell: Cell, direction: str, times: int = 1) -> Cell:
    dr, dc = DIRECTIONS[direction]
    return (cell[0] + times * dr, cell[1] + times * dc)


def _reachable(floor: set[Cell], blocked: set[Cell], start: Cell) -> dict[Cell, Cell | None]:
    """Breadth-first search over ``floor - blocked`` from ``start``: each reached cell -> its parent."""
    parent: dict[Cell, Cell | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for direction in DIRECTIONS:
            nxt = _step(cell, direction)
            if nxt in floor and nxt not in blocked and nxt not in parent:
                parent[nxt] = cell
                queue.append(nxt)
    return parent


def _path(parent: dict[Cell, Cell | None], goal: Cell) -> list[Cell]:
    path = [goal]
    while parent[path[-1]] is not None:
        path.append(parent[path[-1]])
    return path[::-1]


def _direction(a: Cell, b: Cell) -> str:
    return next(d for d in DIRECTIONS if _step(a, d) == b)


def _floor(rng: random.Random, grid: int, walls: int) -> set[Cell]:
    cells = [(r, c) for r in range(1, grid + 1) for c in range(1, grid + 1)]
    for _ in range(WALL_TRIES):
        floor = set(cells) - set(rng.sample(cells, walls))
        if len(_reachable(floor, set(), min(floor))) == len(floor):
            return floor
    raise ValueError(
        f"cannot place {walls} walls on a {grid}x{grid} grid and keep the floor connected "
        f"({WALL_TRIES} tries); use fewer walls"
    )


def _state(robot: Cell, boxes: dict[str, Cell]) -> tuple:
    return (robot, tuple(sorted(boxes.items())))


def _without_loops(start: tuple, steps: list[tuple[str, tuple]]) -> list[str]:
    """Drop every stretch of ``steps`` that returns to a state seen before. ``steps``: (text, next state)."""
    kept: list[tuple[str, tuple]] = []
    seen = {start: 0}
    for text, state in steps:
        if state in seen:
            del kept[seen[state] :]
            seen = {s: i for s, i in seen.items() if i <= seen[state]}
        else:
            kept.append((text, state))
            seen[state] = len(kept)
    return [text for text, _ in kept]


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random, solvable Sokoban task.

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"sokoban-<size tag>"``.
        grid (int, 3..30): the board is ``grid x grid`` cells.
        boxes (int, >= 1): number of boxes (and goal cells).
        walls (int, >= 0): number of wall cells inside the board; at least ``boxes + 3`` floor cells
            must remain.

    Returns:
        A :class:`GeneratedProblem` with a witness plan. Reverse play can (rarely) bring every box back
        to its goal; :func:`~itdeploy_lite.planning.generators.generate_problems` rejects such tasks.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter, or walls that cannot be
            placed with the floor connected.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    grid = size_int(size, "grid", 3, MAX_GRID)
    n_boxes = size_int(size, "boxes", 1, grid * grid - 3)
    n_walls = size_int(size, "walls", 0, grid * grid - n_boxes - 3)

    floor = _floor(rng, grid, n_walls)
    cells = sorted(floor)
    box_names = [f"box{i}" for i in range(1, n_boxes + 1)]
    goal_cells = rng.sample(cells, n_boxes)
    boxes = dict(zip(box_names, goal_cells))
    robot = rng.choice([c for c in cells if c not in goal_cells])

    # Reverse play from the goal state S0 to the initial state ST. Reverse step k turns S(k-1) into
    # S(k); the forward step that undoes it turns S(k) back into S(k-1). We record (forward step, S(k-1)).
    reverse: list[tuple[str, tuple]] = []

    def walk(to: Cell) -> None:
        nonlocal robot
        path = _path(_reachable(floor, set(boxes.values()), robot), to)
        for a, b in zip(path, path[1:]):  # reversed move a -> b is the forward move b -> a
            before, robot = _state(robot, boxes), b
            reverse.append((action("move", loc(b), loc(a), _direction(b, a)), before))

    for _ in range(rng.randint(n_boxes, 3 * n_boxes + 2)):
        occupied = set(boxes.values())
        region = _reachable(floor, occupied, robot)
        pulls = []  # robot at b next to the box at f = b + d steps back to r = b - d; the box follows to b
        for box, f in sorted(boxes.items()):
            for direction in DIRECTIONS:
                b, r = _step(f, direction, -1), _step(f, direction, -2)
                if b in region and r in floor and r not in occupied:
                    pulls.append((box, f, b, r, direction))
        if not pulls:
            break
        box, f, b, r, direction = rng.choice(pulls)
        walk(b)
        before = _state(robot, boxes)
        robot, boxes[box] = r, b
        reverse.append((action("push", loc(r), loc(b), loc(f), direction, box), before))
    walk(rng.choice(sorted(_reachable(floor, set(boxes.values()), robot))))

    # Read forwards from ST: (step, state after it) pairs are the records in reverse order.
    plan = _without_loops(_state(robot, boxes), reverse[::-1])
    while plan and plan[-1].startswith("(move "):  # the goal says nothing about the robot
        plan.pop()

    init = {("at-robot", loc(robot))} | {("at", b, loc(c)) for b, c in boxes.items()}
    init |= {("clear", loc(c)) for c in cells if c not in boxes.values()}
    init |= {
        ("adjacent", loc(c), loc(_step(c, d)), d) for c in cells for d in DIRECTIONS if _step(c, d) in floor
    }
    goal = {("at", b, loc(c)) for b, c in zip(box_names, goal_cells)}
    name = name or f"{DOMAIN}-{size_tag(size)}"
    objects = [([loc(c) for c in cells], "location"), (box_names, "box")]
    return make_problem(name, DOMAIN, size, objects, init, goal, plan)
