"""The seeded generators: every witness plan is valid, tasks are non-trivial, distinct and reproducible,
named splits are fixed and disjoint, and bad sizes fail with clear errors."""

from __future__ import annotations

import hashlib
import importlib
import random
import subprocess
import sys
from functools import lru_cache

import pytest
from pddl.parser.problem import ProblemParser

from itdeploy_lite.paths import data_dir
from itdeploy_lite.planning import BUILTIN_DOMAINS, parse_task, validate
from itdeploy_lite.planning.generators import (
    GENERATORS,
    SPLITS,
    GeneratedProblem,
    generate_problems,
    make_split,
    size_tag,
    write_problems,
)
from itdeploy_lite.planning.generators.ipc2023 import IPC2023_SIZES, IPC2023_TASKS_PER_SPLIT
from itdeploy_lite.planning.generators.splits import POOL_TASKS_PER_SIZE, POOLS, SPLIT_NAMES, make_pool

SIZES = {
    "blocksworld": [{"blocks": 2}, {"blocks": 3}, {"blocks": 6}, {"blocks": 9, "name_pool": 15}],
    "gripper": [{"balls": 1}, {"balls": 4}, {"balls": 7}],
    "rovers": [
        {"rovers": 1, "waypoints": 2, "cameras": 1, "objectives": 1},
        {"rovers": 1, "waypoints": 5, "cameras": 1, "objectives": 2},
        {"rovers": 3, "waypoints": 7, "cameras": 3, "objectives": 3},
    ],
    "sokoban": [
        {"grid": 3, "boxes": 1, "walls": 0},
        {"grid": 5, "boxes": 2, "walls": 3},
        {"grid": 7, "boxes": 3, "walls": 8},
    ],
    "childsnack": [{"children": 1, "trays": 1, "tables": 2}, {"children": 3, "trays": 2, "tables": 2},
                   {"children": 6, "trays": 3, "tables": 4, "allergic": 3}],
    "ferry": [{"cars": 1, "locations": 2}, {"cars": 3, "locations": 4}, {"cars": 6, "locations": 6}],
    "floortile": [{"rows": 1, "columns": 2, "robots": 1}, {"rows": 2, "columns": 3, "robots": 2},
                  {"rows": 4, "columns": 5, "robots": 3}],
    "miconic": [{"floors": 2, "passengers": 1}, {"floors": 4, "passengers": 3}, {"floors": 8, "passengers": 6}],
    "satellite": [{"satellites": 1, "instruments": 1, "modes": 1, "targets": 3},
                  {"satellites": 1, "instruments": 2, "modes": 2, "targets": 3},
                  {"satellites": 3, "instruments": 4, "modes": 3, "targets": 6}],
    "spanner": [{"spanners": 2, "nuts": 1, "locations": 2}, {"spanners": 3, "nuts": 2, "locations": 5},
                {"spanners": 6, "nuts": 5, "locations": 7}],
    "transport": [{"vehicles": 1, "packages": 1, "locations": 3, "capacity": 1},
                  {"vehicles": 2, "packages": 3, "locations": 5, "capacity": 2},
                  {"vehicles": 3, "packages": 5, "locations": 7, "capacity": 3}],
}
#: The ten IPC 2023 learning-track domains of the paper's second experiment, and Gripper.
NEW_DOMAINS = ("childsnack", "ferry", "floortile", "miconic", "satellite", "spanner", "transport")
CASES = [(domain, size) for domain, sizes in SIZES.items() for size in sizes]


@lru_cache(maxsize=None)
def domain_text(domain: str) -> str:
    return (data_dir() / "domains" / domain / "domain.pddl").read_text()


def check_problem(problem: GeneratedProblem) -> None:
    """Parse with our loader; the atoms match; the goal is not yet true; the witness plan is valid."""
    task = parse_task(domain_text(problem.domain), problem.pddl, problem_file=problem.name)
    assert task.init == problem.init
    assert task.goal_pos == problem.goal and not task.goal_neg
    assert not problem.goal <= problem.init
    result = validate(task, list(problem.witness_plan), strict=True)
    assert result.valid, f"{problem.name}: {result.reason}\n{problem.pddl}\n" + "\n".join(problem.witness_plan)


def test_every_domain_has_a_generator():
    assert set(GENERATORS) == {"blocksworld", "rovers", "sokoban", "gripper", *NEW_DOMAINS}
    assert set(SPLITS) == set(GENERATORS)
    assert set(POOLS) == set(GENERATORS) == set(POOL_TASKS_PER_SIZE)
    assert set(BUILTIN_DOMAINS) == set(GENERATORS)


@pytest.mark.parametrize("domain, size", CASES, ids=[f"{d}-{'-'.join(map(str, s.values()))}" for d, s in CASES])
def test_witness_plans_are_valid(domain, size):
    problems = generate_problems(domain, size, count=4, seed=11)  # 1 ball: only 4 distinct tasks
    assert len(problems) == 4
    for problem in problems:
        check_problem(problem)


@pytest.mark.parametrize("domain", sorted(GENERATORS))
def test_witness_plans_valid_for_many_seeds(domain):
    size = SIZES[domain][1]
    for seed in range(25):
        check_problem(generate_problems(domain, size, count=1, seed=seed)[0])


def test_problems_parse_with_the_pddl_library():
    parser = ProblemParser()
    for domain, size in CASES:
        for problem in generate_problems(domain, size, count=2, seed=3):
            parsed = parser(problem.pddl)
            assert parsed.name == problem.name


def test_same_seed_same_bytes_and_different_seed_different_tasks():
    for domain, size in CASES:
        first = generate_problems(domain, size, count=4, seed=5)
        again = generate_problems(domain, size, count=4, seed=5)
        assert [p.pddl for p in first] == [p.pddl for p in again]
        assert [p.witness_plan for p in first] == [p.witness_plan for p in again]
    other = generate_problems("rovers", SIZES["rovers"][2], count=4, seed=6)
    assert {p.key for p in other}.isdisjoint({p.key for p in generate_problems("rovers", SIZES["rovers"][2], 4, 5)})


def test_reproducible_across_processes_and_hash_seeds():
    code = (
        "import hashlib\n"
        "from itdeploy_lite.planning.generators import make_split\n"
        "h = hashlib.sha256()\n"
        "from itdeploy_lite.planning.generators import SPLITS\n"
        "for d in sorted(SPLITS):\n"
        "    for p in make_split(d, 'heldout', per_size=2): h.update(p.pddl.encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {"PYTHONHASHSEED": hash_seed, "PATH": ""}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    here = hashlib.sha256()
    for d in sorted(SPLITS):  # all eleven domains
        for p in make_split(d, "heldout", per_size=2):
            here.update(p.pddl.encode())
    assert digests == {here.hexdigest()}


def test_no_duplicates_and_no_trivial_tasks_in_a_small_task_space():
    # 2 blocks: 3 arrangements, so 6 non-trivial tasks; all of them, and no more, can be drawn.
    problems = generate_problems("blocksworld", {"blocks": 2}, count=6, seed=0)
    assert len({p.key for p in problems}) == 6
    assert not any(p.trivial for p in problems)
    with pytest.raises(ValueError, match="found only 6 of 7 distinct non-trivial blocksworld tasks"):
        generate_problems("blocksworld", {"blocks": 2}, count=7, seed=0)


def test_duplicates_are_found_whatever_the_atom_order():
    problem = generate_problems("gripper", {"balls": 3}, count=1, seed=0)[0]
    shuffled = list(problem.init)
    random.Random(0).shuffle(shuffled)
    assert GeneratedProblem("x", "gripper", {}, "", None, frozenset(shuffled), problem.goal,
                            frozenset(sorted(problem.objects, reverse=True))).key == problem.key


def test_names_objects_and_sizes():
    (bw,) = generate_problems("blocksworld", {"blocks": 4}, count=1, seed=2)
    assert bw.name == "blocksworld-b4-s2-000" and bw.size == {"blocks": 4}
    assert "(:objects\n    b1 b2 b3 b4)" in bw.pddl
    (rv,) = generate_problems("rovers", SIZES["rovers"][1], count=1, seed=2)
    for name in ("general - lander", "colour high_res low_res - mode", "rover0 - rover", "rover0store - store",
                 "waypoint4 - waypoint", "camera0 - camera", "objective1 - objective", "(:domain rover)"):
        assert name in rv.pddl
    (sk,) = generate_problems("sokoban", {"grid": 4, "boxes": 1, "walls": 0}, count=1, seed=2)
    assert "loc_1_1" in sk.pddl and "loc_4_4" in sk.pddl and "box1 - box" in sk.pddl
    (gr,) = generate_problems("gripper", {"balls": 2}, count=1, seed=2, prefix="my-task")
    assert gr.name == "my-task-000"
    assert "rooma roomb ball1 ball2 left right)" in gr.pddl


def test_blocksworld_name_pool_draws_names_from_the_pool():
    names = set()
    for problem in generate_problems("blocksworld", {"blocks": 3, "name_pool": 12}, count=40, seed=1):
        objects = problem.pddl.split("(:objects")[1].split(")")[0].split()
        assert len(objects) == 3 and all(1 <= int(o[1:]) <= 12 for o in objects)
        names.update(objects)
    assert len(names) > 8


@pytest.mark.parametrize(
    "domain, size, message",
    [
        ("blocksworld", {"blocks": 1}, "'blocks' must be in 2..200, got 1"),
        ("blocksworld", {"blocks": "5"}, "'blocks' must be an int"),
        ("blocksworld", {"blocks": 5, "name_pool": 4}, "'name_pool' must be in 5..2000"),
        ("blocksworld", {"block": 5}, "unknown size parameter"),
        ("rovers", {"rovers": 1, "waypoints": 1, "cameras": 1, "objectives": 1}, "'waypoints' must be in 2..200"),
        ("rovers", {"rovers": 1, "waypoints": 3, "cameras": 1}, "missing size parameter 'objectives'"),
        ("sokoban", {"grid": 2, "boxes": 1, "walls": 0}, "'grid' must be in 3..30"),
        ("sokoban", {"grid": 4, "boxes": 1, "walls": 13}, "'walls' must be in 0..12"),
        ("gripper", {"balls": 0}, "'balls' must be in 1..100"),
        ("ferry", {"cars": 2, "locations": 1}, "'locations' must be in 2..1000"),
        ("miconic", {"floors": 3}, "missing size parameter 'passengers'"),
        ("spanner", {"spanners": 1, "nuts": 2, "locations": 3}, "'spanners' must be >= 'nuts'"),
        ("childsnack", {"children": 2, "trays": 1, "tables": 1, "allergic": 3}, "'allergic' must be in 0..2"),
        ("satellite", {"satellites": 2, "instruments": 1, "modes": 1, "targets": 2}, "'instruments' must be in 2..1000"),
        ("floortile", {"rows": 2, "columns": 2, "robots": 3}, "'robots' must be in 1..2"),
        ("transport", {"vehicles": 1, "packages": 1, "locations": 3, "capacity": 0}, "'capacity' must be in 1..100"),
        ("chess", {"pieces": 3}, "no generator for domain 'chess'"),
    ],
)
def test_bad_sizes_raise_clear_errors(domain, size, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        generate_problems(domain, size, count=1, seed=0)


def test_bad_count_seed_or_prefix():
    with pytest.raises(ValueError, match="count must be an int >= 0"):
        generate_problems("gripper", {"balls": 2}, count=-1, seed=0)
    with pytest.raises(ValueError, match="seed must be an int"):
        generate_problems("gripper", {"balls": 2}, count=1, seed="0")
    with pytest.raises(ValueError, match="prefix 'Bad Name' is not a PDDL name"):
        generate_problems("gripper", {"balls": 2}, count=1, seed=0, prefix="Bad Name")


def test_write_problems(tmp_path):
    problems = generate_problems("blocksworld", {"blocks": 3}, count=3, seed=0)
    paths = write_problems(problems, tmp_path / "out")
    assert [p.name for p in paths] == [f"{p.name}.pddl" for p in problems]
    assert paths[0].read_text() == problems[0].pddl
    plan = (tmp_path / "out" / "witness" / f"{problems[0].name}.plan").read_text().splitlines()
    assert tuple(plan) == problems[0].witness_plan
    with pytest.raises(ValueError, match="repeated"):
        write_problems([problems[0], problems[0]], tmp_path / "dup")


# --- splits ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", sorted(SPLITS))
def test_splits_are_fixed_disjoint_and_valid(domain):
    keys = {}
    for split in SPLIT_NAMES:
        problems = make_split(domain, split, per_size=3)
        assert [p.pddl for p in problems] == [p.pddl for p in make_split(domain, split, per_size=3)]
        assert len(problems) == 3 * len(SPLITS[domain][split])
        assert all(p.name.startswith(f"{domain}-{split}-") for p in problems)
        keys[split] = {p.key for p in problems}
        assert len(keys[split]) == len(problems)
        for problem in problems[::3]:
            check_problem(problem)
    assert keys["pretrain"].isdisjoint(keys["train"])
    assert keys["pretrain"].isdisjoint(keys["heldout"])
    assert keys["train"].isdisjoint(keys["heldout"])


def _largest(domain: str, split: str) -> tuple:
    return max(tuple(size[k] for k in size if k != "name_pool") for size in SPLITS[domain][split])


@pytest.mark.parametrize("domain", sorted(SPLITS))
def test_heldout_has_larger_sizes_than_training(domain):
    seen = SPLITS[domain]["pretrain"] + SPLITS[domain]["train"]
    larger = [s for s in SPLITS[domain]["heldout"] if s not in seen]
    assert larger, "heldout must include sizes never trained on"
    assert _largest(domain, "heldout") > _largest(domain, "train") >= _largest(domain, "pretrain")


def test_blocksworld_splits_share_one_name_pool():
    pools = {size["name_pool"] for sizes in SPLITS["blocksworld"].values() for size in sizes}
    largest = max(size["blocks"] for size in SPLITS["blocksworld"]["heldout"])
    assert pools == {largest}


def test_make_split_errors():
    with pytest.raises(ValueError, match="unknown split 'test'"):
        make_split("blocksworld", "test", per_size=1)
    with pytest.raises(ValueError, match="no splits for domain 'chess'"):
        make_split("chess", "train", per_size=1)
    with pytest.raises(ValueError, match="split 'pretrain' of gripper: found only"):
        make_split("gripper", "pretrain", per_size=100)


def test_ipc2023_sizes_are_recorded_for_the_papers_domains():
    assert set(IPC2023_SIZES) == {"blocksworld", "rovers", "sokoban", *NEW_DOMAINS}
    for domain in NEW_DOMAINS:  # the schedules name our generators' size parameters (and cover all splits)
        size_keys = set(importlib.import_module(f"itdeploy_lite.planning.generators.{domain}").SIZE_KEYS)
        schedule = IPC2023_SIZES[domain]["schedule"] or {}
        assert set(schedule) <= set(IPC2023_TASKS_PER_SPLIT)
        for split in schedule.values():
            assert set(split) <= size_keys | {"sandwiches"} and all(lo <= hi for lo, hi in split.values())
        for task, sizes in IPC2023_SIZES[domain]["observed"].items():
            assert set(sizes) <= size_keys | {"sandwiches"}
            lo_hi = schedule.get(task.rsplit("/", 1)[0], {})  # an observation lies inside its split's schedule
            assert all(lo_hi[k][0] <= v <= lo_hi[k][1] for k, v in sizes.items() if k in lo_hi), task
    assert IPC2023_SIZES["blocksworld"]["schedule"]["testing/hard"]["blocks"] == (160, 500)
    for facts in IPC2023_SIZES.values():
        assert facts["observed"]


@pytest.mark.planner
@pytest.mark.parametrize("domain", sorted(SPLITS))
def test_fast_downward_solves_the_largest_heldout_tasks_quickly(domain):
    from itdeploy_lite.planning.planner import planner_available, solve

    if not planner_available():
        pytest.skip("Fast Downward is not installed")
    largest = max(SPLITS[domain]["heldout"], key=lambda size: tuple(size.values()))
    (problem,) = generate_problems(domain, largest, count=1, seed=0)
    result = solve(domain, problem.pddl, timeout=30)
    assert result.status == "solved", result.reason
    assert result.seconds < 10


def test_rovers_name_pool_draws_names_from_the_heldout_pools():
    size = {"rovers": 1, "waypoints": 3, "cameras": 1, "objectives": 1, "name_pool": 8}
    problems = generate_problems("rovers", size, 60, seed=3)
    names = {o for p in problems for at in p.init for o in at[1:]}
    waypoints = {n for n in names if n.startswith("waypoint")}
    assert waypoints == {f"waypoint{i}" for i in range(8)}  # every pooled name occurs, none beyond
    assert {n for n in names if n.startswith("rover") and not n.endswith("store")} == {"rover0", "rover1"}
    assert {n for n in names if n.startswith("objective")} == {"objective0", "objective1", "objective2"}
    for p in problems:  # parses, and the witness plan is still valid with drawn names
        check_problem(p)


def test_blocksworld_near_tasks_have_full_goals_and_optimal_witness_plans():
    from itdeploy_lite.deploy import as_tasks
    from itdeploy_lite.planning import breadth_first_search

    for moves in (1, 2, 3):
        problems = generate_problems("blocksworld", {"blocks": 5, "moves": moves, "name_pool": 10}, 12, seed=moves)
        assert problems[0].name.startswith(f"blocksworld-b5m{moves}p10")
        full = 0
        for problem, (_, task) in zip(problems, as_tasks(problems)):
            assert sorted(a[1] for a in problem.goal) == sorted(task.objects)  # every block's support is named
            assert validate(task, "\n".join(problem.witness_plan)).valid
            assert len(problem.witness_plan) == len(breadth_first_search(task)) <= 2 * moves  # optimal
            full += len(problem.witness_plan) == 2 * moves  # fewer only when no unmoved clear block is left
        assert full >= 6
    with pytest.raises(ValueError, match="moves"):
        generate_problems("blocksworld", {"blocks": 3, "moves": 0}, 1, seed=0)


# --- the other seven IPC 2023 learning-track domains --------------------------------------------------


@pytest.mark.parametrize("domain", NEW_DOMAINS)
def test_new_domains_pools_are_distinct_and_outside_heldout(domain):
    heldout = {p.key for p in make_split(domain, "heldout", per_size=5)}
    pool = make_pool(domain, POOL_TASKS_PER_SIZE[domain], exclude=heldout)
    assert len(pool) == POOL_TASKS_PER_SIZE[domain] * len(POOLS[domain])
    assert len({p.key for p in pool}) == len(pool) and heldout.isdisjoint(p.key for p in pool)
    assert all(p.name.startswith(f"{domain}-pool-") for p in pool)


def test_new_domains_smallest_sizes_have_short_witness_plans():
    """The pretrain sizes are for a 1-5 M-parameter model: short plans, yet enough distinct tasks."""
    for domain in NEW_DOMAINS:
        problems = make_split(domain, "pretrain", per_size=20)
        assert max(len(p.witness_plan) for p in problems) <= 17, domain
        longest = max(len(p.witness_plan) for p in make_split(domain, "heldout", per_size=5))
        assert longest > max(len(p.witness_plan) for p in problems), domain


def test_ferry_miconic_and_spanner_follow_the_learning_track_encoding():
    (ferry,) = generate_problems("ferry", {"cars": 2, "locations": 3}, 1, seed=1)
    assert "car1 car2 - car" in ferry.pddl and "loc1 loc2 loc3 - location" in ferry.pddl
    assert ("empty-ferry",) in ferry.init and len([a for a in ferry.init if a[0] == "at-ferry"]) == 1
    (miconic,) = generate_problems("miconic", {"floors": 3, "passengers": 2}, 1, seed=1)
    assert {a for a in miconic.init if a[0] == "above"} == {("above", "f1", "f2"), ("above", "f1", "f3"),
                                                            ("above", "f2", "f3")}
    assert miconic.goal == {("served", "p1"), ("served", "p2")}
    (satellite,) = generate_problems("satellite", {"satellites": 2, "instruments": 3, "modes": 2, "targets": 4}, 1, 1)
    for names in ("sat1 sat2 - satellite", "ins1 ins2 ins3 - instrument", "mod1 mod2 - mode",
                  "dir1 dir2 dir3 dir4 - direction"):
        assert names in satellite.pddl
    (transport,) = generate_problems("transport", {"vehicles": 1, "packages": 1, "locations": 2, "capacity": 2}, 1, 1)
    assert "c0 c1 c2 - size" in transport.pddl and ("capacity-predecessor", "c1", "c2") in transport.init
    (spanner,) = generate_problems("spanner", {"spanners": 2, "nuts": 1, "locations": 2}, 1, seed=1)
    links = {a[1:] for a in spanner.init if a[0] == "link"}
    assert links == {("shed", "location1"), ("location1", "location2"), ("location2", "gate")}
    assert ("at", "bob", "shed") in spanner.init and ("at", "nut1", "gate") in spanner.init


def test_childsnack_allergic_children_get_gluten_free_portions():
    for problem in generate_problems("childsnack", {"children": 4, "trays": 1, "tables": 2, "allergic": 2}, 10, 3):
        allergic = {a[1] for a in problem.init if a[0] == "allergic_gluten"}
        assert len(allergic) == 2
        assert len({a for a in problem.init if a[0] == "no_gluten_bread"}) == 2
        assert "kitchen" not in problem.pddl.split("(:init")[0]  # a domain constant, not a problem object
        served = [step.split()[2] for step in problem.witness_plan if step.startswith("(serve_sandwich_no_gluten")]
        assert sorted(served) == sorted(allergic)


def test_floortile_goal_paints_every_row_but_the_bottom_one():
    (problem,) = generate_problems("floortile", {"rows": 2, "columns": 3, "robots": 2}, 1, seed=4)
    painted = {a[1] for a in problem.goal}
    assert painted == {f"tile_{r}_{c}" for r in (1, 2) for c in (1, 2, 3)}
    assert ("up", "tile_1_1", "tile_0_1") in problem.init and ("right", "tile_0_2", "tile_0_1") in problem.init
    robots_at = {a[2] for a in problem.init if a[0] == "robot-at"}
    assert robots_at.isdisjoint(a[1] for a in problem.init if a[0] == "clear")


def test_a_task_with_an_extra_unused_object_is_another_task():
    small = generate_problems("ferry", {"cars": 1, "locations": 2}, 1, seed=0)[0]
    # same atoms, one more (unused) location: not a duplicate
    bigger = GeneratedProblem("y", "ferry", {}, "", None, small.init, small.goal, small.objects | {"loc3"})
    assert bigger.key != small.key


@pytest.mark.parametrize("domain, size, tag", [
    ("childsnack", {"children": 3, "trays": 1, "tables": 2}, "ch3tr1tb2"),
    ("childsnack", {"children": 3, "trays": 1, "tables": 2, "allergic": 1}, "ch3tr1tb2al1"),
    ("ferry", {"cars": 3, "locations": 4}, "c3l4"),
    ("floortile", {"rows": 3, "columns": 4, "robots": 2}, "g3x4r2"),
    ("miconic", {"floors": 4, "passengers": 2}, "f4p2"),
    ("satellite", {"satellites": 1, "instruments": 2, "modes": 2, "targets": 3}, "s1i2m2t3"),
    ("spanner", {"spanners": 3, "nuts": 2, "locations": 5}, "s3n2l5"),
    ("transport", {"vehicles": 2, "packages": 3, "locations": 5, "capacity": 2}, "v2p3l5c2"),
])
def test_new_domains_size_tags_name_the_problems(domain, size, tag):
    (problem,) = generate_problems(domain, size, 1, seed=0)
    assert problem.name == f"{domain}-{tag}-s0-000"


@pytest.mark.parametrize("domain", NEW_DOMAINS)
def test_every_heldout_name_is_trained(domain):
    """The pretrain split's name pools cover the held-out tasks' object names (as Rovers' do), so a model
    is never asked for a name it has not seen; Floortile's tiles are grid coordinates: only the tiles of
    the largest held-out grids are exempt."""
    def names(split):
        return {o for p in make_split(domain, split, per_size=20) for o in p.objects}

    unseen = names("heldout") - names("pretrain") - names("train")
    if domain == "floortile":
        largest = max(s["rows"] for s in SPLITS[domain]["train"] + SPLITS[domain]["pretrain"])
        assert unseen and all(o.startswith("tile_") and max(map(int, o[5:].split("_"))) > largest for o in unseen)
    else:
        assert not unseen


def test_name_pools_draw_sorted_names_from_the_pool():
    from itdeploy_lite.planning.generators.problem import numbered

    assert numbered("car", 3) == ["car1", "car2", "car3"]
    drawn = [numbered("car", 3, random.Random(seed), pool=6) for seed in range(30)]
    assert all(len(d) == 3 and d == sorted(d, key=lambda n: int(n[3:])) for d in drawn)
    assert set().union(*drawn) == {f"car{i}" for i in range(1, 7)}
    with pytest.raises(ValueError, match="needs an rng"):
        numbered("car", 3, pool=6)
    (miconic,) = generate_problems("miconic", {"floors": 3, "passengers": 2, "name_pool": 8}, 1, seed=2)
    floors = sorted((a for a in miconic.objects if a.startswith("f")), key=lambda n: int(n[1:]))
    above = {a[1:] for a in miconic.init if a[0] == "above"}
    assert above == {(a, b) for i, a in enumerate(floors) for b in floors[i + 1:]}  # order kept
    assert miconic.name == "miconic-f3p2n8-s2-000"
    with pytest.raises(ValueError, match="'name_pool' must be in 4"):
        generate_problems("ferry", {"cars": 4, "locations": 3, "name_pool": 3}, 1, seed=0)


def test_rovers_object_pool_widens_the_rover_camera_and_objective_pools_only_when_asked():
    size = {"rovers": 1, "waypoints": 3, "cameras": 1, "objectives": 1, "name_pool": 8}
    wide = generate_problems("rovers", {**size, "object_pool": 4}, 80, seed=3)
    names = {o for p in wide for at in p.init for o in at[1:]}
    assert {n for n in names if n.startswith("camera")} == {f"camera{i}" for i in range(4)}
    assert {n for n in names if n.startswith("objective")} == {f"objective{i}" for i in range(4)}
    assert size_tag("rovers", {**size, "object_pool": 4}) == "r1w3c1o1p8k4"
    for p in wide[::8]:
        check_problem(p)
    narrow = generate_problems("rovers", size, 80, seed=3)  # without the key: the tasks of before
    assert {n for p in narrow for at in p.init for n in at[1:] if n.startswith("camera")} == {"camera0", "camera1"}
    with pytest.raises(ValueError, match="'object_pool' needs 'name_pool'"):
        generate_problems("rovers", {"rovers": 1, "waypoints": 3, "cameras": 1, "objectives": 1, "object_pool": 4}, 1, seed=0)
