"""Reference plans: optimal plans of ``pretrain``-split tasks as ``{"prompt", "completion"}`` rows.

Two uses, neither in the paper: the LLM warm start (:mod:`itdeploy_lite.warm_start`) and ``--replay``,
which mixes such rows into every generation's fine-tuning set (the data generation 0 was pretrained on,
replayed against overfitting a small curated set).
"""

from __future__ import annotations

from collections.abc import Collection

from itdeploy_lite.formats import PromptFormat
from itdeploy_lite.task_sets import domain_pddl


def reference_rows(domain: str, fmt: PromptFormat, n: int, exclude: Collection = ()) -> list[dict]:
    """``n`` training rows: the first tasks of ``domain``'s ``pretrain`` split (spread over its sizes;
    the split never holds a held-out task) with their optimal plans (breadth-first search), in the run's
    prompt format.

    Args:
        domain: a built-in domain (a key of :data:`~itdeploy_lite.planning.generators.splits.SPLITS`).
        fmt: the run's prompt format (:func:`~itdeploy_lite.formats.run_format`).
        n: rows wanted (>= 1).
        exclude: task keys never used (the run's pool and held-out tasks: a pool task's optimal plan
            would be a solution the loop did not find).

    Returns:
        ``n`` rows ``{"prompt": str, "completion": str, "task_id": str}``, size by size.

    Raises:
        ValueError: an unknown domain, ``n < 1``, fewer than ``n`` tasks left after ``exclude``, or a
            task the search cannot solve (the generators only write solvable tasks, so this is a bug).
    """
    from itdeploy_lite.planning import parse_task
    from itdeploy_lite.planning.generators.splits import SPLITS, make_split
    from itdeploy_lite.planning.search import breadth_first_search

    if n < 1:
        raise ValueError(f"reference_rows needs n >= 1, got {n}")
    if domain not in SPLITS:
        raise ValueError(f"no pretrain split for domain {domain!r}: reference plans need a built-in domain "
                         f"({', '.join(SPLITS)})")
    per_size = -(-n // len(SPLITS[domain]["pretrain"]))  # ceiling division
    try:  # a few spare tasks per size stand in for excluded ones
        drawn = make_split(domain, "pretrain", per_size + max(2, per_size // 4))
    except ValueError:  # a small task space: no spares
        drawn = make_split(domain, "pretrain", per_size)
    taken: dict = {}
    for p in drawn:
        if p.key not in exclude and len(taken.setdefault(str(p.size), [])) < per_size:
            taken[str(p.size)].append(p)
    chosen = [p for size in taken.values() for p in size][:n]
    if len(chosen) < n:
        raise ValueError(f"only {len(chosen)} of the {n} {domain} pretrain-split tasks asked for are not "
                         "pool or held-out tasks")
    text, rows = domain_pddl(domain), []
    for p in chosen:
        task = parse_task(text, p.pddl, domain, p.name)
        plan = breadth_first_search(task)
        if plan is None:
            raise ValueError(f"{p.name}: the pretrain-split task has no plan (breadth-first search)")
        rows.append({"prompt": fmt.prompt(task, p.pddl), "completion": fmt.completion([str(a) for a in plan], task),
                     "task_id": p.name})
    return rows
