"""Random Childsnack tasks (IPC 2023 learning track, typed, constant ``kitchen``), solvable by
construction, with a witness plan.

Size parameters: children, trays and tables, and optionally ``allergic``, the number of children
allergic to gluten (the IPC 2014 generator's gluten ratio times the number of children; the IPC 2023
learning track's ``childsnack/generate_all.py``, https://github.com/ipc2023-learning/benchmarks, steps
it from 0 to ``children``). Without ``allergic`` each child is allergic with probability 1/2.
As in the track's files: one sandwich name, one bread portion and one content portion per child;
exactly as many gluten-free bread portions and gluten-free content portions as allergic children
(chosen at random); all trays start in the kitchen; each child waits at a random table; the goal serves
every child. There is enough of everything, so every task is solvable.

The witness plan makes every sandwich (gluten-free for the allergic children, from the gluten-free
portions), puts them all on ``tray1``, and carries the tray from table to table, serving. Domain file:
``data/domains/childsnack/domain.pddl``.
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

DOMAIN = "childsnack"
SIZE_KEYS = ("children", "trays", "tables", "allergic", "name_pool")
KITCHEN = "kitchen"  # a domain constant: not declared in the problem
MAX_OBJECTS = 1000


def size_tag(size: dict) -> str:
    """A short name part: ``{"children": 3, "trays": 1, "tables": 2}`` -> ``"ch3tr1tb2"`` (``"ch3tr1tb2al1"``
    with ``"allergic": 1``)."""
    tag = "ch{children}tr{trays}tb{tables}".format(**size)
    tag += f"al{size['allergic']}" if size.get("allergic") is not None else ""
    return tag + (f"n{size['name_pool']}" if size.get("name_pool") else "")


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Childsnack task (IPC 2023 learning track).

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"childsnack-<size tag>"``.
        children (int, 1..1000): ``child1..``; as many sandwiches ``sandw1..``, bread portions
            ``bread1..`` and content portions ``content1..``.
        trays (int, 1..1000): ``tray1..``, all in the kitchen.
        tables (int, 1..1000): ``table1..``, where the children wait.
        allergic (int, optional, 0..children): how many children are allergic to gluten.
        name_pool (int, optional): draw each kind's numbered names at random from ``1..name_pool`` (see
            :func:`~itdeploy_lite.planning.generators.problem.numbered`) instead of numbering from 1.

    Returns:
        A :class:`GeneratedProblem` whose goal serves every child and whose witness plan is valid.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n = size_int(size, "children", 1, MAX_OBJECTS)
    n_trays = size_int(size, "trays", 1, MAX_OBJECTS)
    n_tables = size_int(size, "tables", 1, MAX_OBJECTS)
    pool = name_pool(size, max(n, n_trays, n_tables))
    children = numbered("child", n, rng, pool)
    if size.get("allergic") is not None:
        n_allergic = size_int(size, "allergic", 0, n)
        allergic = set(rng.sample(children, n_allergic))
    else:
        allergic = {c for c in children if rng.random() < 0.5}
    sandwiches = numbered("sandw", n, rng, pool)
    breads = numbered("bread", n, rng, pool)
    contents = numbered("content", n, rng, pool)
    trays = numbered("tray", n_trays, rng, pool)
    tables = numbered("table", n_tables, rng, pool)
    gf_breads = sorted(rng.sample(range(n), len(allergic)))
    gf_contents = sorted(rng.sample(range(n), len(allergic)))
    waiting = {c: rng.choice(tables) for c in children}

    init = {("at", t, KITCHEN) for t in trays} | {("notexist", s) for s in sandwiches}
    init |= {("at_kitchen_bread", b) for b in breads} | {("at_kitchen_content", c) for c in contents}
    init |= {("no_gluten_bread", breads[i]) for i in gf_breads}
    init |= {("no_gluten_content", contents[i]) for i in gf_contents}
    init |= {("allergic_gluten" if c in allergic else "not_allergic_gluten", c) for c in children}
    init |= {("waiting", c, table) for c, table in waiting.items()}
    goal = {("served", c) for c in children}

    # Witness: allergic children get the gluten-free portions, the others the rest.
    order = [c for c in children if c in allergic] + [c for c in children if c not in allergic]
    bread_order = [breads[i] for i in gf_breads] + [b for i, b in enumerate(breads) if i not in gf_breads]
    content_order = [contents[i] for i in gf_contents] + [c for i, c in enumerate(contents) if i not in gf_contents]
    sandwich_of = dict(zip(order, sandwiches))
    plan = [action("make_sandwich_no_gluten" if c in allergic else "make_sandwich", s, b, k)
            for c, s, b, k in zip(order, sandwiches, bread_order, content_order)]
    plan += [action("put_on_tray", s, trays[0]) for s in sandwiches]
    here = KITCHEN
    for table in tables:
        served = [c for c in children if waiting[c] == table]
        if not served:
            continue
        plan.append(action("move_tray", trays[0], here, table))
        here = table
        for c in served:
            verb = "serve_sandwich_no_gluten" if c in allergic else "serve_sandwich"
            plan.append(action(verb, sandwich_of[c], c, trays[0], table))

    objects = [(children, "child"), (breads, "bread-portion"), (contents, "content-portion"),
               (trays, "tray"), (sandwiches, "sandwich"), (tables, "place")]
    return make_problem(name or f"{DOMAIN}-{size_tag(size)}", DOMAIN, size, objects, init, goal, plan)
