"""The project's named task splits, fixed by a seed: ``pretrain``, ``train`` and ``heldout``.

* ``pretrain``: the smallest tasks; their witness plans teach a fresh model the plan format.
* ``train``: the tasks the model is deployed on and fine-tuned from, generation after generation.
* ``heldout``: never trained on; it includes larger sizes than any in ``pretrain`` or ``train``, to
  measure generalisation to longer plans (as the paper's test tasks do).

Sizes stay small enough for a 1-5 M-parameter model and for Fast Downward on a CPU. Blocksworld draws
block names from ``b1..b10`` in every split, so the names of the largest held-out tasks are all seen in
training. The splits are disjoint: where two splits share a size, each task belongs to exactly one of
them, chosen by a hash of its initial state and goal.
"""

from __future__ import annotations

import hashlib

from itdeploy_lite.planning.generators.draw import generate_problems, size_tag
from itdeploy_lite.planning.generators.problem import GeneratedProblem

SPLIT_NAMES: tuple[str, ...] = ("pretrain", "train", "heldout")
SPLIT_SEED = 0
POOL_SEED = 1  # the deployment pool's seed (see make_pool)
BLOCK_NAMES = 10  # Blocksworld name pool: b1..b10, the largest held-out size.


def _blocks(*counts: int) -> list[dict]:
    return [{"blocks": n, "name_pool": BLOCK_NAMES} for n in counts]


def _rovers(*sizes: tuple[int, int, int, int]) -> list[dict]:
    return [dict(zip(("rovers", "waypoints", "cameras", "objectives"), s)) for s in sizes]


def _sokoban(*sizes: tuple[int, int, int]) -> list[dict]:
    return [dict(zip(("grid", "boxes", "walls"), s)) for s in sizes]


def _sizes(keys: str, *sizes: tuple[int, ...]) -> list[dict]:
    """``_sizes("cars locations", (2, 3))`` -> ``[{"cars": 2, "locations": 3}]``."""
    return [dict(zip(keys.split(), s)) for s in sizes]


def _pooled(pool: int, sizes: list[dict]) -> list[dict]:
    """The sizes with object names drawn from ``1..pool`` (``name_pool``)."""
    return [dict(s, name_pool=pool) for s in sizes]


_CHILDSNACK = "children trays tables"
_FERRY = "cars locations"
_FLOORTILE = "rows columns robots"
_MICONIC = "floors passengers"
_SATELLITE = "satellites instruments modes targets"
_SPANNER = "spanners nuts locations"
_TRANSPORT = "vehicles packages locations capacity"

#: domain -> split -> the sizes it holds (``make_split`` draws ``per_size`` tasks of each).
SPLITS: dict[str, dict[str, list[dict]]] = {
    "blocksworld": {
        "pretrain": _blocks(3, 4),
        "train": _blocks(4, 5, 6),
        "heldout": _blocks(5, 6, 7, 8, 9, 10),
    },
    "rovers": {
        # names drawn from the held-out split's pools (waypoint0..7, rover0..1, camera0..1, objective0..2), so
        # every name of the larger held-out tasks gets trained
        "pretrain": [dict(s, name_pool=8) for s in _rovers((1, 3, 1, 1), (1, 4, 1, 1))],
        "train": _rovers((1, 4, 1, 1), (1, 4, 1, 2), (1, 5, 1, 2)),
        "heldout": _rovers((1, 5, 1, 2), (1, 6, 1, 2), (2, 6, 2, 3), (2, 8, 2, 3)),
    },
    "sokoban": {
        # 1-box tasks on 5x5 and 6x6 boards (breadth-first search takes ~0.06 / 0.2 s a task there, ~0.4 s
        # on 7x7, which made a 15,000-task corpus cost an hour); the held-out 7x7 boards' edge cells
        # (loc_7_*, loc_*_7) are never trained: with 2-3 boxes they are out of reach anyway
        "pretrain": _sokoban((5, 1, 3), (6, 1, 4)),
        "train": _sokoban((5, 1, 3), (5, 2, 3), (6, 2, 4)),
        "heldout": _sokoban((6, 2, 4), (7, 2, 6), (7, 3, 6)),
    },
    "gripper": {
        "pretrain": [{"balls": 3}],
        "train": [{"balls": n} for n in (3, 4, 5)],
        "heldout": [{"balls": n} for n in (4, 5, 6, 7, 8)],
    },
    # The other seven IPC 2023 learning-track domains. Smallest sizes: witness plans of 3-17 steps, each
    # with at least ~40 distinct tasks; held-out sizes reach witness plans of 20-50 steps. As for Rovers,
    # the pretrain tasks draw their names from pools as large as the largest held-out counts (see
    # ``_pooled``), so every object name of a held-out task is trained; Floortile's tile names are grid
    # coordinates and cannot be pooled (tile_4_* of the 4x4 held-out grids is never trained).
    "childsnack": {
        "pretrain": _pooled(6, _sizes(_CHILDSNACK, (2, 1, 2), (3, 1, 2))),
        "train": _sizes(_CHILDSNACK, (3, 1, 2), (3, 2, 3), (4, 2, 3)),
        "heldout": _sizes(_CHILDSNACK, (4, 2, 3), (5, 2, 3), (6, 3, 4)),
    },
    "ferry": {
        "pretrain": _pooled(6, _sizes(_FERRY, (2, 3), (2, 4))),
        "train": _sizes(_FERRY, (2, 4), (3, 4), (3, 5)),
        "heldout": _sizes(_FERRY, (3, 5), (4, 5), (5, 6), (6, 6)),
    },
    "floortile": {
        "pretrain": _sizes(_FLOORTILE, (1, 3, 1), (2, 2, 1)),
        "train": _sizes(_FLOORTILE, (2, 2, 1), (2, 3, 1), (2, 3, 2), (3, 3, 1)),
        # Fast Downward's LAMA (first plan) needs > 30 s on some 4x4 grids with 2 robots (dead ends)
        "heldout": _sizes(_FLOORTILE, (3, 3, 1), (3, 3, 2), (3, 4, 1), (4, 4, 1)),
    },
    "miconic": {
        "pretrain": _pooled(8, _sizes(_MICONIC, (3, 2), (4, 2))),
        "train": _sizes(_MICONIC, (4, 2), (4, 3), (5, 3)),
        "heldout": _sizes(_MICONIC, (5, 3), (5, 4), (6, 5), (8, 6)),
    },
    "satellite": {
        "pretrain": _pooled(6, _sizes(_SATELLITE, (1, 1, 2, 3), (1, 2, 2, 3))),
        "train": _sizes(_SATELLITE, (1, 2, 2, 3), (1, 2, 2, 4), (2, 2, 2, 4)),
        "heldout": _sizes(_SATELLITE, (2, 2, 2, 4), (2, 3, 3, 5), (3, 4, 3, 6)),
    },
    "spanner": {
        "pretrain": _pooled(7, _sizes(_SPANNER, (2, 1, 6), (3, 2, 4))),
        "train": _sizes(_SPANNER, (3, 2, 4), (3, 2, 5), (4, 3, 5)),
        "heldout": _sizes(_SPANNER, (4, 3, 5), (5, 4, 6), (6, 5, 7)),
    },
    "transport": {
        # capacity 3 (c0..c3) from pretraining on, as in the learning track's tasks
        "pretrain": _pooled(7, _sizes(_TRANSPORT, (1, 1, 3, 2), (1, 2, 3, 3))),
        "train": _sizes(_TRANSPORT, (1, 2, 3, 3), (1, 2, 4, 2), (2, 3, 4, 3)),
        "heldout": _sizes(_TRANSPORT, (2, 3, 4, 3), (2, 3, 5, 3), (2, 4, 6, 3), (3, 5, 7, 3)),
    },
}


#: domain -> the sizes of the fixed deployment pool (the paper's task set, deployed every generation):
#: from sizes generation 0 solves to sizes well beyond them (see :func:`make_pool`). Blocksworld starts at
#: 5 blocks: the shipped generation 0 solves 3-4-block tasks already (pass@8 .96-1.0), so they would only
#: add to the denominator; 5 blocks it solves at pass@8 ~.76, 9-10 at ~.02.
POOLS: dict[str, list[dict]] = {
    "blocksworld": _blocks(5, 6, 7, 8, 9, 10),
    "rovers": _rovers((1, 3, 1, 1), (1, 4, 1, 1), (1, 4, 1, 2), (1, 5, 1, 2), (1, 6, 1, 2), (2, 6, 2, 3)),
    # Sokoban, as the others, from one size that generation 0 mostly solves to sizes past what it does.
    # Generation 0's (data/models/sokoban, 2,400 pretraining steps) pass@8 on 50 pool tasks per size
    # (``itdeploy run --domain sokoban --generations 0 --sizes ...``, never held-out tasks): g6b1w4 .84,
    # g7b1w6 .12, g5b2w3 .12, g6b2w3 .08, g6b2w4 .18, g7b2w6 .00. (The 800-step checkpoint's pool was
    # g5b1w3, g6b1w4, g5b2w3, g6b2w4, g7b2w6, from its two pretraining sizes, which it solved .70/.50.)
    "sokoban": _sokoban((6, 1, 4), (7, 1, 6), (5, 2, 3), (6, 2, 3), (6, 2, 4), (7, 2, 6)),
    "gripper": [{"balls": n} for n in (3, 4, 5, 6, 7, 8)],
    # Ferry and Miconic, which ship an embedded generation 0, start past its pretraining sizes (which it
    # solves at pass@8 .96-1.0) as Blocksworld does. Generation 0's pass@8 on 50 pool tasks per size
    # (``itdeploy run --domain D --generations 0 --sizes ...``, never held-out tasks): Ferry c2l4 .82,
    # c3l4 .24, c3l5 .22, c4l5 .00, c4l6 .00, c5l6 .00; Miconic f4p2 .96, f4p3 .08, f5p2 .22, f5p3 .00,
    # f6p3 .02, f5p4 .00
    "ferry": _sizes(_FERRY, (2, 4), (3, 4), (3, 5), (4, 5), (4, 6), (5, 6)),
    "miconic": _sizes(_MICONIC, (4, 2), (4, 3), (5, 2), (5, 3), (6, 3), (5, 4)),
    # the other five: from the pretrain sizes to the largest held-out ones
    "childsnack": _sizes(_CHILDSNACK, (2, 1, 2), (3, 1, 2), (3, 2, 3), (4, 2, 3), (5, 2, 3), (6, 3, 4)),
    "floortile": _sizes(_FLOORTILE, (1, 3, 1), (2, 2, 1), (2, 3, 1), (3, 3, 1), (3, 3, 2), (3, 4, 1)),
    "satellite": _sizes(_SATELLITE, (1, 1, 2, 3), (1, 2, 2, 3), (1, 2, 2, 4), (2, 2, 2, 4), (2, 3, 3, 5), (3, 4, 3, 6)),
    "spanner": _sizes(_SPANNER, (2, 1, 6), (3, 2, 4), (3, 2, 5), (4, 3, 5), (5, 4, 6), (6, 5, 7)),
    "transport": _sizes(_TRANSPORT, (1, 1, 3, 2), (1, 2, 3, 3), (1, 2, 4, 2), (2, 3, 4, 3), (2, 3, 5, 3), (2, 4, 6, 3)),
}


#: domain -> default pool tasks per size (``itdeploy run`` with ``--tasks-per-generation 0``). Blocksworld's
#: 167 (1,002 tasks) is what lifted the pool most within the time budget (README: pool size lever).
POOL_TASKS_PER_SIZE: dict[str, int] = {
    "blocksworld": 167, "rovers": 40, "sokoban": 40, "gripper": 25,
    "ferry": 100, "miconic": 100,  # 600 tasks: a run of 6-10 min on one thread (README: the ten domains)
    "childsnack": 25, "floortile": 25, "satellite": 25, "spanner": 25, "transport": 25,
}


def make_pool(domain: str, per_size: int, sizes: list[dict] | None = None, exclude: set | frozenset = frozenset(),
              seed: int = POOL_SEED) -> list[GeneratedProblem]:
    """The fixed deployment pool: ``per_size`` distinct tasks of each size, the same on every run.

    This is the paper's task set (Corrêa et al., arXiv 2512.24940, Section 4): one set of tasks, drawn
    once, that every generation is deployed on; a task counts as solved in a generation when one of its
    ``k`` samples is valid. The pool depends only on the arguments (not on a run's seed), so runs with
    different seeds deploy on the same tasks. Problem names are ``<domain>-pool-<size tag>-<index>``.

    Args:
        domain: a key of :data:`POOLS`.
        per_size: tasks per size (>= 0).
        sizes: the sizes (default ``POOLS[domain]``).
        exclude: task keys (``GeneratedProblem.key``) never to draw, e.g. the held-out tasks of a run.
        seed: the pool seed; the default :data:`POOL_SEED` gives the project's pool.

    Returns:
        The tasks, size by size in the order of ``sizes``.

    Raises:
        ValueError: an unknown domain, or a size too small for ``per_size`` tasks outside ``exclude``.
    """
    if sizes is None:
        if domain not in POOLS:
            raise ValueError(f"no deployment pool for domain {domain!r}; known: {', '.join(POOLS)}")
        sizes = POOLS[domain]
    problems: list[GeneratedProblem] = []
    for size in sizes:
        try:
            problems += generate_problems(domain, size, per_size, seed=_seed(seed, domain, "pool", size),
                                          prefix=f"{domain}-pool-{size_tag(domain, size)}",
                                          accept=lambda p: p.key not in exclude)
        except ValueError as err:
            raise ValueError(f"deployment pool of {domain}: {err}") from None
    return problems


def task_digest(problem: GeneratedProblem) -> int:
    """A stable 64-bit hash of a task's initial state and goal (the same on every run and machine)."""
    init = " ".join(sorted(" ".join(atom) for atom in problem.init))
    goal = " ".join(sorted(" ".join(atom) for atom in problem.goal))
    text = init + " | " + goal
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _seed(seed: int, domain: str, split: str, size: dict) -> int:
    text = f"{seed}:{domain}:{split}:{size_tag(domain, size)}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big")


def make_split(domain: str, split: str, per_size: int = 20, seed: int = SPLIT_SEED) -> list[GeneratedProblem]:
    """Generate a named split: ``per_size`` distinct, non-trivial tasks of each of its sizes.

    The result depends only on the arguments (byte-identical PDDL on every run). Problem names are
    ``<domain>-<split>-<size tag>-<index>``, e.g. ``blocksworld-train-b5p10-007``.

    Args:
        domain: a key of :data:`SPLITS` (``"blocksworld"``, ``"rovers"``, ..., ``"ferry"``, ``"transport"``).
        split: ``"pretrain"``, ``"train"`` or ``"heldout"``.
        per_size: tasks per size (>= 0).
        seed: the split seed; the default :data:`SPLIT_SEED` gives the project's fixed splits.

    Returns:
        The tasks, size by size in the order of ``SPLITS[domain][split]``.

    Raises:
        ValueError: for an unknown domain or split, a bad ``per_size``, or a size whose task space is too
            small for ``per_size`` tasks.
    """
    if domain not in SPLITS:
        raise ValueError(f"no splits for domain {domain!r}; known: {', '.join(SPLITS)}")
    if split not in SPLIT_NAMES:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLIT_NAMES)}")
    problems: list[GeneratedProblem] = []
    for size in SPLITS[domain][split]:
        owners = [s for s in SPLIT_NAMES if size in SPLITS[domain][s]]

        def mine(problem: GeneratedProblem, owners=owners) -> bool:
            return owners[task_digest(problem) % len(owners)] == split

        try:
            problems += generate_problems(
                domain,
                size,
                per_size,
                seed=_seed(seed, domain, split, size),
                prefix=f"{domain}-{split}-{size_tag(domain, size)}",
                accept=mine if len(owners) > 1 else None,
            )
        except ValueError as err:
            raise ValueError(f"split {split!r} of {domain}: {err}") from None
    return problems
