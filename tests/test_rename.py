"""Renamed copies of curated plans (``--renamings``): a consistent renaming keeps a plan valid."""

from __future__ import annotations

import random

import pytest

from itdeploy_lite.formats import CompactFormat
from itdeploy_lite.planning import parse_task
from itdeploy_lite.planning.generators.splits import make_pool
from itdeploy_lite.planning.validate import validate
from itdeploy_lite.rename import RENAMEABLE, draw_renaming, grid_symmetry, name_indices, rename_text, renamed_rows
from itdeploy_lite.task_sets import LoopTask, domain_pddl


def pool_tasks(domain: str, per_size: int) -> dict[str, LoopTask]:
    text = domain_pddl(domain)
    return {p.name: LoopTask(p.name, "s", parse_task(text, p.pddl, domain, p.name), p.key, p.pddl)
            for p in make_pool(domain, per_size)}


def witness_row(task: LoopTask, problem_plan, valid=True, sample_id=0) -> dict:
    return {"task_id": task.task_id, "prompt": CompactFormat().prompt(task.task, task.pddl),
            "completion": CompactFormat().completion(problem_plan), "valid": valid,
            "generation": 0, "sample_id": sample_id}


def test_rename_text_swaps_whole_words_at_once():
    assert rename_text("(on b1 b10) (on b10 b1)", {"b1": "b10", "b10": "b1"}) == "(on b10 b1) (on b1 b10)"
    assert rename_text("(at rover0 waypoint1) (store_of rover0store rover0)",
                       {"rover0": "rover1", "rover0store": "rover1store"}) == \
        "(at rover1 waypoint1) (store_of rover1store rover1)"


def test_a_renaming_is_one_to_one_within_the_names_and_moves_a_suffixed_name_with_its_index():
    prefixes = RENAMEABLE["rovers"]
    objects = ["rover0", "rover0store", "rover1", "rover1store", "waypoint0", "waypoint1", "waypoint2",
               "camera0", "objective0", "general", "colour"]
    indices = {"rover": [0, 1], "waypoint": [0, 1, 2, 3, 4, 5], "camera": [0, 1], "objective": [0, 1, 2]}
    for seed in range(20):
        mapping = draw_renaming(objects, indices, random.Random(seed), prefixes)
        assert "general" not in mapping and "colour" not in mapping  # constants of the domain's own naming
        assert len(set(mapping.values())) == len(mapping)  # one-to-one
        assert mapping["rover0store"] == mapping["rover0"] + "store"
        assert all(mapping[f"waypoint{i}"][len("waypoint"):] in {"0", "1", "2", "3", "4", "5"} for i in range(3))
    with pytest.raises(ValueError, match=r"waypoint\[7\]"):
        draw_renaming(["waypoint7"], indices, random.Random(0), prefixes)


def test_name_indices_come_from_the_task_set():
    tasks = pool_tasks("blocksworld", 2)
    indices = name_indices({o for t in tasks.values() for o in t.task.objects}, RENAMEABLE["blocksworld"])
    assert indices == {"b": list(range(1, 11))}


@pytest.mark.parametrize("domain", ["blocksworld", "rovers", "ferry", "miconic", "sokoban"])
def test_renamed_copies_of_a_valid_plan_are_valid_plans_of_renamed_tasks(domain):
    tasks = pool_tasks(domain, 2)
    problems = {p.name: p for p in make_pool(domain, 2)}
    rows = [witness_row(t, problems[name].witness_plan) for name, t in list(tasks.items())[:6]]
    copies, stats = renamed_rows(rows, tasks, 3, CompactFormat(), domain, seed=1)
    assert stats["dropped"] == 0 and stats["rows"] == len(copies) > len(rows)
    text = domain_pddl(domain)
    for copy in copies:
        source = tasks[copy["task_id"]]
        assert copy["valid"] and copy["prompt"] != CompactFormat().prompt(source.task, source.pddl)
        # the copy's prompt is the compact prompt of a task the copy's plan solves
        init, goal = copy["prompt"].split("\n")[:2]
        atoms = lambda line: [a.split() for a in line.split(": ", 1)[1][1:-1].split(") (")]
        pddl = _problem(atoms(init) + _implied_adjacency(atoms(init)), atoms(goal), source)
        assert validate(parse_task(text, pddl, domain, "copy"), CompactFormat().plan_text(copy["completion"])).valid
    again, _ = renamed_rows(rows, tasks, 3, CompactFormat(), domain, seed=1)
    assert again == copies  # same seed, same copies


def _implied_adjacency(init) -> list[list[str]]:
    """Sokoban's ``adjacent`` atoms, which its prompt leaves to the names (down: row + 1, right: column + 1)."""
    cells = {w for a in init for w in a[1:] if w.startswith("loc_")}
    steps = {"down": (1, 0), "up": (-1, 0), "right": (0, 1), "left": (0, -1)}
    out = []
    for cell in cells:
        r, c = map(int, cell.split("_")[1:])
        for d, (dr, dc) in steps.items():
            if f"loc_{r + dr}_{c + dc}" in cells:
                out.append(["adjacent", cell, f"loc_{r + dr}_{c + dc}", d])
    return out


def _problem(init, goal, source: LoopTask) -> str:
    """A PDDL problem from a copy's prompt atoms (built independently of :mod:`itdeploy_lite.rename`), each
    object typed as the source task's objects of its shape (``rover#store``; the prompt lists no types)."""
    import re

    from itdeploy_lite.planning.generators.problem import problem_pddl

    shape = lambda name: re.sub(r"\d+", "#", name)
    types = {shape(name): kind for name, kind in source.task.objects.items()}
    names = {w for a in init + goal for w in a[1:]} | {n for n in source.task.objects if "#" not in shape(n)}
    by_type: dict[str, list[str]] = {}
    for name in sorted(names):
        by_type.setdefault(types[shape(name)], []).append(name)
    declared = [(v, k if source.task.typed else None) for k, v in by_type.items()]
    return problem_pddl("copy", source.task.domain_name, declared, [tuple(a) for a in init], [tuple(a) for a in goal])


def test_an_invalid_row_gets_invalid_copies_and_a_domain_without_arbitrary_names_is_refused():
    tasks = pool_tasks("blocksworld", 1)
    first = next(iter(tasks.values()))
    block = sorted(first.task.objects)[0]
    bad = {"task_id": first.task_id, "prompt": CompactFormat().prompt(first.task, first.pddl), "completion": f"(stack {block} {block})\n</s>", "valid": False, "generation": 0, "sample_id": 0}
    copies, stats = renamed_rows([bad], tasks, 2, CompactFormat(), "blocksworld")
    assert copies and not any(c["valid"] for c in copies) and stats["dropped"] == 0
    with pytest.raises(ValueError, match="'gripper' has no known renameable"):
        renamed_rows([], {}, 2, CompactFormat(), "gripper")
    with pytest.raises(ValueError, match="not a deployed task"):
        renamed_rows([dict(bad, task_id="nope")], tasks, 2, CompactFormat(), "blocksworld")


def test_the_board_symmetries_move_cells_and_directions_together():
    cells = [f"loc_{r}_{c}" for r in (1, 2, 3) for c in (1, 2, 3)]
    mirror = grid_symmetry(cells, transpose=False, flip_rows=True, flip_columns=False)
    assert mirror["loc_1_2"] == "loc_3_2" and mirror["down"] == "up" and mirror["left"] == "left"
    turn = grid_symmetry(cells, transpose=True, flip_rows=False, flip_columns=True)  # a quarter turn
    # moving down from (1,2) to (2,2): transposed (2,1) -> (2,2), columns mirrored (2,3) -> (2,2): leftwards
    assert turn["loc_1_2"] == "loc_2_3" and turn["loc_2_2"] == "loc_2_2" and turn["down"] == "left"
    assert grid_symmetry(cells, False, False, False) == {**{c: c for c in cells}, **{d: d for d in ("up", "down", "left", "right")}}
