"""Random Floortile tasks (IPC 2023 learning track, typed, no action costs), solvable by construction,
with a witness plan.

The IPC 2023 learning-track generator's parameters (``floortile/generate_all.py`` of
https://github.com/ipc2023-learning/benchmarks): grid rows, columns and robots (``robots <= columns``).
As in the IPC 2011 tasks, the grid has ``rows + 1`` rows of tiles ``tile_<row>_<col>`` (row 0 at the
bottom, columns from 1); the goal paints every tile of rows 1..``rows``, and row 0 is where the last row
is painted from. Colours are ``white`` and ``black``. Unlike the IPC's checkerboard goal, each tile's
goal colour is drawn at random (more distinct small tasks). Robots ``robot1..`` start in distinct
random columns, at random rows, holding a random colour.

Solvable by construction: the witness plan gives each robot the block of columns from its own column
to the next robot's; it moves the robot straight to row ``rows - 1`` in its own column, then paints the
rows from the top down, walking its block along the row below the one it paints (changing colour where
needed) and stepping down a row after each. No robot enters another's block, and a robot only stands on
tiles that are painted later, never on painted ones. Domain file: ``data/domains/floortile/domain.pddl``.
"""

from __future__ import annotations

import random

from itdeploy_lite.planning.generators.problem import GeneratedProblem, action, check_keys, make_problem, size_int

DOMAIN = "floortile"
SIZE_KEYS = ("rows", "columns", "robots")
COLORS = ("white", "black")
MAX_SIDE = 100


def size_tag(size: dict) -> str:
    """A short name part: ``{"rows": 3, "columns": 3, "robots": 2}`` -> ``"g3x3r2"``."""
    return "g{rows}x{columns}r{robots}".format(**size)


def tile(row: int, col: int) -> str:
    """``tile(0, 1)`` -> ``"tile_0_1"`` (the learning track's names)."""
    return f"tile_{row}_{col}"


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Floortile task (IPC 2023 learning track, action costs dropped).

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"floortile-<size tag>"``.
        rows (int, 1..100): rows to paint (the grid has one more, row 0).
        columns (int, 1..100): columns.
        robots (int, 1..columns): robots.

    Returns:
        A :class:`GeneratedProblem` whose goal paints ``rows * columns`` tiles and whose witness plan is
        valid.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter (also ``robots > columns``).
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    rows = size_int(size, "rows", 1, MAX_SIDE)
    columns = size_int(size, "columns", 1, MAX_SIDE)
    n_robots = size_int(size, "robots", 1, columns)
    robots = [f"robot{i}" for i in range(1, n_robots + 1)]
    tiles = [tile(r, c) for r in range(rows + 1) for c in range(1, columns + 1)]
    robot_cols = sorted(rng.sample(range(1, columns + 1), n_robots))
    position = {rb: (rng.randint(0, rows), col) for rb, col in zip(robots, robot_cols)}
    holds = {rb: rng.choice(COLORS) for rb in robots}
    paint = {(r, c): rng.choice(COLORS) for r in range(1, rows + 1) for c in range(1, columns + 1)}

    init = {("available-color", c) for c in COLORS} | {("robot-has", rb, c) for rb, c in holds.items()}
    init |= {("robot-at", rb, tile(*rc)) for rb, rc in position.items()}
    occupied = set(position.values())
    init |= {("clear", tile(r, c)) for r in range(rows + 1) for c in range(1, columns + 1) if (r, c) not in occupied}
    for r in range(rows + 1):
        for c in range(1, columns + 1):
            if r < rows:
                init |= {("up", tile(r + 1, c), tile(r, c)), ("down", tile(r, c), tile(r + 1, c))}
            if c < columns:
                init |= {("right", tile(r, c + 1), tile(r, c)), ("left", tile(r, c), tile(r, c + 1))}
    goal = {("painted", tile(r, c), color) for (r, c), color in paint.items()}

    plan: list[str] = []
    for k, rb in enumerate(robots):
        low = 1 if k == 0 else robot_cols[k]
        high = robot_cols[k + 1] - 1 if k + 1 < n_robots else columns
        row, col = position[rb]

        def move(verb: str, to: tuple[int, int]) -> None:
            nonlocal row, col
            plan.append(action(verb, rb, tile(row, col), tile(*to)))
            row, col = to

        while row < rows - 1:
            move("move_up", (row + 1, col))
        while row > rows - 1:
            move("move_down", (row - 1, col))
        while col > low:
            move("move_left", (row, col - 1))
        step = 1
        for target_row in range(rows, 0, -1):  # robot stands on target_row - 1
            while True:
                color = paint[(target_row, col)]
                if holds[rb] != color:
                    plan.append(action("change_color", rb, holds[rb], color))
                    holds[rb] = color
                plan.append(action("paint_up", rb, tile(target_row, col), tile(row, col), color))
                if not low <= col + step <= high:
                    break
                move("move_right" if step > 0 else "move_left", (row, col + step))
            step = -step
            if row > 0:
                move("move_down", (row - 1, col))

    objects = [(robots, "robot"), (tiles, "tile"), (list(COLORS), "color")]
    return make_problem(name or f"{DOMAIN}-{size_tag(size)}", DOMAIN, size, objects, init, goal, plan)
