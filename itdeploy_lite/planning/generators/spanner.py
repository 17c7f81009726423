"""Random Spanner tasks (IPC 2023 learning track, typed), solvable by construction, with a witness plan.

The IPC 2023 learning-track generator's parameters (``spanner/generate_all.py`` of
https://github.com/ipc2023-learning/benchmarks): the number of spanners, of nuts and of locations. As
there, the man ``bob`` starts at the ``shed``; one-way links lead ``shed -> location1 -> ... ->
location<L> -> gate``; each spanner lies at a random one of ``location1..location<L>`` (the
``locations`` parameter counts these, not the shed and the gate); all nuts are loose at the gate and the
goal tightens them all. A spanner tightens one nut, so the generator requires ``spanners >= nuts``,
which makes every task solvable.

The witness plan walks the chain once, picking up spanners until it carries one per nut, and tightens
each nut at the gate. Domain file: ``data/domains/spanner/domain.pddl``.
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

DOMAIN = "spanner"
SIZE_KEYS = ("spanners", "nuts", "locations", "name_pool")
MAN = "bob"
MAX_OBJECTS = 1000


def size_tag(size: dict) -> str:
    """A short name part: ``{"spanners": 3, "nuts": 2, "locations": 5}`` -> ``"s3n2l5"`` (``"s3n2l5p7"``
    with name pool 7)."""
    tag = "s{spanners}n{nuts}l{locations}".format(**size)
    return tag + (f"p{size['name_pool']}" if size.get("name_pool") else "")


def witness_plan(chain: list[str], spanner_at: dict[str, str], nuts: list[str]) -> tuple[str, ...]:
    """A valid plan: walk ``chain`` (shed to gate), pick up the first ``len(nuts)`` spanners met, tighten."""
    plan: list[str] = []
    carried: list[str] = []
    for here, nxt in zip(chain, chain[1:] + [None]):
        for spanner in (s for s, where in spanner_at.items() if where == here):
            if len(carried) < len(nuts):
                plan.append(action("pickup_spanner", here, spanner, MAN))
                carried.append(spanner)
        if nxt is not None:
            plan.append(action("walk", here, nxt, MAN))
    gate = chain[-1]
    plan += [action("tighten_nut", gate, spanner, MAN, nut) for spanner, nut in zip(carried, nuts)]
    return tuple(plan)


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Spanner task (IPC 2023 learning track).

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"spanner-<size tag>"``.
        spanners (int, 1..1000): number of spanners, ``spanner1..``; at least ``nuts``.
        nuts (int, 1..1000): number of nuts, ``nut1..``.
        locations (int, 1..1000): locations between the shed and the gate, ``location1..``.
        name_pool (int, optional): draw each kind's numbered names at random from ``1..name_pool`` (see
            :func:`~itdeploy_lite.planning.generators.problem.numbered`) instead of numbering from 1. The chain
            keeps its order: ``shed``, then the locations by number, then ``gate``.

    Returns:
        A :class:`GeneratedProblem` whose goal tightens every nut and whose witness plan is valid.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter, or fewer spanners than nuts
            (the task would be unsolvable).
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n_spanners = size_int(size, "spanners", 1, MAX_OBJECTS)
    n_nuts = size_int(size, "nuts", 1, MAX_OBJECTS)
    n_locations = size_int(size, "locations", 1, MAX_OBJECTS)
    if n_spanners < n_nuts:
        raise ValueError(f"size parameter 'spanners' must be >= 'nuts' ({n_nuts}), got {n_spanners}: "
                         "each spanner tightens one nut")
    pool = name_pool(size, max(n_spanners, n_nuts, n_locations))
    spanners = numbered("spanner", n_spanners, rng, pool)
    nuts = numbered("nut", n_nuts, rng, pool)
    middle = numbered("location", n_locations, rng, pool)
    chain = ["shed", *middle, "gate"]
    spanner_at = {s: rng.choice(middle) for s in spanners}

    init = {("at", MAN, "shed")} | {("link", a, b) for a, b in zip(chain, chain[1:])}
    init |= {("at", s, where) for s, where in spanner_at.items()} | {("usable", s) for s in spanners}
    init |= {("at", nut, "gate") for nut in nuts} | {("loose", nut) for nut in nuts}
    goal = {("tightened", nut) for nut in nuts}
    objects = [([MAN], "man"), (spanners, "spanner"), (nuts, "nut"), (chain, "location")]
    return make_problem(name or f"{DOMAIN}-{size_tag(size)}", DOMAIN, size, objects, init, goal,
                        witness_plan(chain, spanner_at, nuts))
