"""Renamed copies of curated plans: the same task and plan under another naming of its objects.

A valid plan stays valid when every object of its task is renamed consistently (an isomorphic task:
the names of a PDDL problem carry no meaning unless the domain gives them one). ``--renamings R``
trains each generation on the curated rows plus ``R`` renamed copies of each, so a tiny model sees each
plan it found under several namings instead of memorising one. It adds no plan the model did not find
and no task it was not deployed on: every copy is its own curated plan, relabelled. Not in the paper
(which trains on the curated plans as they are); Blocksworld's block names, for instance, are already
drawn at random per task, so a copy is another draw of the same task.

Which names may change is a domain fact, :data:`RENAMEABLE`: a name ``<prefix><digits><suffix>`` whose
prefix is listed gets another index of the same prefix (``rover0`` and ``rover0store`` move together),
drawn from the indices the run's task set uses for that prefix, so every new name is one the model
already reads. Sokoban's ``loc_<row>_<col>`` names are the grid itself (its prompt omits the
``adjacent`` atoms, which the names imply), so they are not permuted: a Sokoban copy is the board
mirrored and/or transposed (one of the square's 8 symmetries, :func:`grid_symmetry`), its direction
constants mapped with it, and its boxes renumbered. Every copy is re-validated
(:func:`~itdeploy_lite.planning.validate`); a copy whose validity differs from its source's is dropped
and counted.
"""

from __future__ import annotations

import dataclasses
import random
import re
from typing import Sequence

#: Built-in domain -> name prefixes whose indices are arbitrary (renaming them gives an isomorphic task).
RENAMEABLE: dict[str, tuple[str, ...]] = {
    "blocksworld": ("b",),
    "rovers": ("rover", "waypoint", "camera", "objective"),
    "ferry": ("car", "loc"),
    "miconic": ("p",),  # passengers only: floors f1 < f2 < ... follow their numbers in every generated task
    "sokoban": ("box",),  # and the grid's symmetries (grid_symmetry)
}

_LOC = re.compile(r"^loc_(\d+)_(\d+)$")
#: How each of the square's generating symmetries moves Sokoban's direction constants (down: row + 1,
#: right: column + 1, as the generator writes them).
_TRANSPOSE = {"up": "left", "left": "up", "down": "right", "right": "down"}
_FLIP_ROWS = {"up": "down", "down": "up", "left": "left", "right": "right"}
_FLIP_COLUMNS = {"up": "up", "down": "down", "left": "right", "right": "left"}

_NAME = re.compile(r"^([a-z_]+?)(\d+)([a-z_]*)$")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _split(name: str, prefixes: Sequence[str]) -> tuple[str, int, str] | None:
    match = _NAME.match(name)
    if match is None or match.group(1) not in prefixes:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


def name_indices(object_names, prefixes: Sequence[str]) -> dict[str, list[int]]:
    """The indices each renameable prefix takes among ``object_names`` (a run's task set: the names a copy
    may use). ``{"b": [1, ..., 10]}`` for Blocksworld's pool."""
    indices: dict[str, set[int]] = {}
    for name in object_names:
        parts = _split(name, prefixes)
        if parts is not None:
            indices.setdefault(parts[0], set()).add(parts[1])
    return {prefix: sorted(values) for prefix, values in indices.items()}


def grid_symmetry(task_objects, transpose: bool, flip_rows: bool, flip_columns: bool) -> dict[str, str]:
    """One of the 8 symmetries of a square Sokoban board as a renaming: every ``loc_<r>_<c>`` and the
    direction constants ``up``/``down``/``left``/``right``.

    Args:
        task_objects: the task's object names; the board is ``m x m`` with ``m`` the largest row or column.
        transpose: swap rows and columns first (``up`` <-> ``left``, ``down`` <-> ``right``).
        flip_rows: then mirror the rows, ``r -> m + 1 - r`` (``up`` <-> ``down``).
        flip_columns: then mirror the columns, ``c -> m + 1 - c`` (``left`` <-> ``right``).

    Returns:
        old name -> new name (the identity for every name when all three are False).
    """
    cells = {name: (int(m.group(1)), int(m.group(2))) for name in task_objects if (m := _LOC.match(name))}
    size = max((max(rc) for rc in cells.values()), default=0)
    directions = {d: d for d in _TRANSPOSE}
    mapping = {}
    for name, (row, col) in cells.items():
        if transpose:
            row, col = col, row
        if flip_rows:
            row = size + 1 - row
        if flip_columns:
            col = size + 1 - col
        mapping[name] = f"loc_{row}_{col}"
    for flag, table in ((transpose, _TRANSPOSE), (flip_rows, _FLIP_ROWS), (flip_columns, _FLIP_COLUMNS)):
        if flag:
            directions = {d: table[new] for d, new in directions.items()}
    return {**mapping, **directions}


def draw_renaming(task_objects, indices: dict[str, list[int]], rng: random.Random,
                  prefixes: Sequence[str], grid: bool = False) -> dict[str, str]:
    """A random one-to-one renaming of a task's renameable objects.

    Args:
        task_objects: the task's object names.
        indices: per prefix, the indices a new name may take (:func:`name_indices`).
        rng: the random source.
        prefixes: the renameable prefixes (:data:`RENAMEABLE`).
        grid: also apply one of the board's 8 symmetries, drawn uniformly (Sokoban; :func:`grid_symmetry`).

    Returns:
        old name -> new name, for every renameable object (the identity where nothing else fits).

    Raises:
        ValueError: a task uses more indices of a prefix than ``indices`` allows (names outside the set).
    """
    index_map: dict[tuple[str, int], int] = {}
    for prefix, old in name_indices(task_objects, prefixes).items():
        pool = indices.get(prefix, [])
        if not set(old) <= set(pool):
            raise ValueError(f"names {prefix}{sorted(set(old) - set(pool))} are outside the run's names of prefix "
                             f"{prefix!r} ({pool})")
        for source, target in zip(old, rng.sample(pool, len(old))):
            index_map[(prefix, source)] = target
    mapping = {}
    for name in task_objects:
        parts = _split(name, prefixes)
        if parts is not None:
            prefix, index, suffix = parts
            mapping[name] = f"{prefix}{index_map[(prefix, index)]}{suffix}"
    if grid:
        mapping.update(grid_symmetry(task_objects, *(rng.random() < 0.5 for _ in range(3))))
    return mapping


def rename_text(text: str, mapping: dict[str, str]) -> str:
    """``text`` with every whole word that is a key of ``mapping`` replaced (all at once, so swaps work)."""
    return _WORD.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


def rename_task(task, mapping: dict[str, str]):
    """A grounded :class:`~itdeploy_lite.planning.Task` with its objects renamed (``mapping``: old -> new;
    unmapped names kept): objects, initial state and goal; the domain's schemas are untouched. The same
    task as parsing the renamed problem file, without the parse."""

    def atoms(state):
        return frozenset((a[0], *(mapping.get(w, w) for w in a[1:])) for a in state)

    return dataclasses.replace(task, objects={mapping.get(o, o): t for o, t in task.objects.items()},
                               init=atoms(task.init), goal_pos=atoms(task.goal_pos), goal_neg=atoms(task.goal_neg),
                               _cache={}, _all_actions=None, _fluent_init=None)


def renamed_rows(rows: list[dict], tasks: dict, copies: int, prompt_format, domain: str,
                 seed: int = 0) -> tuple[list[dict], dict]:
    """``copies`` renamed copies of each curated row.

    Args:
        rows: curated records (``task_id``, ``completion``, ``valid``; :func:`~itdeploy_lite.curate.curate`).
        tasks: task id -> :class:`~itdeploy_lite.task_sets.LoopTask` (with ``pddl``), the deployed tasks.
        copies: renamed copies per row (>= 0); a draw that gives the row's own prompt and completion, or
            an earlier copy's, is skipped, so a small task may get fewer.
        prompt_format: the run's :class:`~itdeploy_lite.formats.PromptFormat` (renders the copy's prompt).
        domain: the built-in domain name (a key of :data:`RENAMEABLE`).
        seed: the random seed (same seed, same copies).

    Returns:
        ``(copies, stats)``: rows ``{"prompt", "completion", "task_id", "renamed_from", "valid"}`` and
        ``{"rows": int, "dropped": int}`` (``dropped``: copies whose validity differed from the source's,
        which a symmetric renaming never gives).

    Raises:
        ValueError: a domain with no renameable names, or a row whose task is not in ``tasks``.
    """
    from itdeploy_lite.planning import validate

    if domain not in RENAMEABLE:
        raise ValueError(f"--renamings: domain {domain!r} has no known renameable object names; known: "
                         f"{', '.join(RENAMEABLE)}")
    prefixes = RENAMEABLE[domain]
    indices = name_indices({o for t in tasks.values() for o in t.task.objects}, prefixes)
    rng = random.Random(seed)
    out, dropped = [], 0
    for row in rows:
        if row["task_id"] not in tasks:
            raise ValueError(f"--renamings: curated row of task {row['task_id']!r} (generation "
                             f"{row.get('generation')}, sample {row.get('sample_id')}) is not a deployed task")
        source = tasks[row["task_id"]]
        seen = {(row["prompt"], row["completion"])}
        for _ in range(copies):
            mapping = draw_renaming(source.task.objects, indices, rng, prefixes, grid=domain == "sokoban")
            pddl, task = rename_text(source.pddl, mapping), rename_task(source.task, mapping)
            prompt, completion = prompt_format.prompt(task, pddl), rename_text(row["completion"], mapping)
            if (prompt, completion) in seen:
                continue
            seen.add((prompt, completion))
            valid = validate(task, prompt_format.plan_text(completion)).valid
            if valid != bool(row["valid"]):
                dropped += 1
                continue
            out.append({"prompt": prompt, "completion": completion,
                        "task_id": row["task_id"], "renamed_from": row.get("sample_id"), "valid": valid})
    return out, {"rows": len(out), "dropped": dropped}
