"""Random Blocksworld tasks (4 operators: pick-up, put-down, stack, unstack) with a witness plan.

The initial state and the goal are two random arrangements of the blocks into towers; the goal names
every ``on`` and ``ontable`` atom of its arrangement. Every such task is solvable; the witness plan is the
classic one: put every block that is not yet on its final support (and everything above it) on the
table, then build the goal towers bottom-up. It is at most twice as long as an optimal plan.

With ``moves=m`` the task is *near*: the goal is the initial arrangement after ``m`` moves of distinct
clear blocks, each onto a new support (the table or another tower's top). The goal still names every
``on`` and ``ontable`` atom, so the prompt is as long as any task of that many blocks, but an optimal plan
has only ``2m`` steps (each of the ``m`` blocks whose support changed must be picked up and put down at
least once), and the witness plan is those moves: optimal.
Domain file: ``data/domains/blocksworld/domain.pddl``.
"""

from __future__ import annotations

import random

from itdeploy_lite.planning.generators.problem import (
    GeneratedProblem,
    action,
    check_keys,
    make_problem,
    size_int,
)

DOMAIN = "blocksworld"
SIZE_KEYS = ("blocks", "name_pool", "moves")
MAX_BLOCKS = 200

Towers = list[list[str]]  # each tower bottom -> top


def size_tag(size: dict) -> str:
    """A short name part for a size, e.g. ``{"blocks": 5}`` -> ``"b5"``."""
    tag = f"b{size['blocks']}" + (f"m{size['moves']}" if size.get("moves") else "")
    return tag + (f"p{size['name_pool']}" if size.get("name_pool") else "")


def random_towers(rng: random.Random, blocks: list[str]) -> Towers:
    """Split the blocks, in random order, into a random number of towers (bottom -> top)."""
    order = list(blocks)
    rng.shuffle(order)
    count = rng.randint(1, len(order))
    cuts = sorted(rng.sample(range(1, len(order)), count - 1))
    edges = [0, *cuts, len(order)]
    return [order[a:b] for a, b in zip(edges, edges[1:])]


def tower_atoms(towers: Towers) -> set[tuple[str, ...]]:
    """The ``ontable`` and ``on`` atoms of an arrangement (no ``clear``, no ``handempty``)."""
    atoms = set()
    for tower in towers:
        atoms.add(("ontable", tower[0]))
        atoms.update(("on", upper, lower) for lower, upper in zip(tower, tower[1:]))
    return atoms


def state_atoms(towers: Towers) -> set[tuple[str, ...]]:
    """The full initial state of an arrangement with the hand empty."""
    return tower_atoms(towers) | {("clear", t[-1]) for t in towers} | {("handempty",)}


def near_goal(rng: random.Random, init: Towers, moves: int) -> tuple[Towers, tuple[str, ...]]:
    """The arrangement after up to ``moves`` moves of distinct clear blocks from ``init``, each onto a new
    support, and the plan that makes them (``unstack``/``pick-up`` then ``stack``/``put-down``). Stops
    early when no unmoved clear block can move (the plan then has fewer moves). Optimal: see the module."""
    towers = [list(t) for t in init]
    moved: set[str] = set()
    plan: list[str] = []
    for _ in range(moves):
        sources = [t for t in towers if t[-1] not in moved and (len(t) > 1 or len(towers) > 1)]
        if not sources:
            break
        source = rng.choice(sources)
        block = source.pop()
        below = source[-1] if source else None
        targets = [t for t in towers if t and t is not source] + ([None] if below is not None else [])
        target = rng.choice(targets)
        plan.append(action("unstack", block, below) if below else action("pick-up", block))
        if target is None:
            towers.append([block])
            plan.append(action("put-down", block))
        else:
            plan.append(action("stack", block, target[-1]))
            target.append(block)
        towers = [t for t in towers if t]
        moved.add(block)
    return towers, tuple(plan)


def witness_plan(init: Towers, goal: Towers) -> tuple[str, ...]:
    """A valid plan from arrangement ``init`` to arrangement ``goal`` (same blocks).

    A block is *well placed* if it sits on its goal support (a block or the table) and that support is
    well placed too. Well-placed blocks never move; every other block is put on the table (top-down),
    then the goal towers are built bottom-up.
    """
    goal_support = {}
    for tower in goal:
        goal_support[tower[0]] = "table"
        goal_support.update({upper: lower for lower, upper in zip(tower, tower[1:])})

    well_placed: set[str] = set()
    plan: list[str] = []
    for tower in init:
        n_good = 0
        for i, block in enumerate(tower):
            support = "table" if i == 0 else tower[i - 1]
            if goal_support[block] == support and (i == 0 or tower[i - 1] in well_placed):
                well_placed.add(block)
                n_good = i + 1
            else:
                break
        for i in range(len(tower) - 1, max(n_good, 1) - 1, -1):  # top-down, never the bottom block
            plan += [action("unstack", tower[i], tower[i - 1]), action("put-down", tower[i])]
    for tower in goal:
        for lower, upper in zip(tower, tower[1:]):
            if upper not in well_placed:
                plan += [action("pick-up", upper), action("stack", upper, lower)]
    return tuple(plan)


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Blocksworld task.

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"blocksworld-<size tag>"``.
        blocks (int, 2..200): number of blocks.
        name_pool (int, optional, >= blocks): draw the block names from ``b1..b<name_pool>`` instead of
            ``b1..b<blocks>``, so that a small model sees every name of the pool during training.
        moves (int, optional, >= 1): a near task (see the module): the goal is ``moves`` block moves away.

    Returns:
        A :class:`GeneratedProblem` with a witness plan. The goal may (rarely, for few blocks) equal the
        initial arrangement; :func:`~itdeploy_lite.planning.generators.generate_problems` rejects those.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n = size_int(size, "blocks", 2, MAX_BLOCKS)
    if size.get("name_pool") is not None:
        pool = size_int(size, "name_pool", n, 10 * MAX_BLOCKS)
        numbers = sorted(rng.sample(range(1, pool + 1), n))
    else:
        numbers = list(range(1, n + 1))
    blocks = [f"b{k}" for k in numbers]

    init_towers = random_towers(rng, blocks)
    if size.get("moves") is not None:
        goal_towers, plan = near_goal(rng, init_towers, size_int(size, "moves", 1, n))
    else:
        goal_towers = random_towers(rng, blocks)
        plan = witness_plan(init_towers, goal_towers)
    init = state_atoms(init_towers)
    goal = tower_atoms(goal_towers)
    name = name or f"{DOMAIN}-{size_tag(size)}"
    objects = [(blocks, None)]
    return make_problem(name, DOMAIN, size, objects, init, goal, plan)
