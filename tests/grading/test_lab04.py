"""Grading lab 04 (curation): curate_paper, curate_latest, apply_decisions.

Expectations are independent of the package's answers (``curate`` and its policies ``paper``, ``latest``,
``manual``, which the grader makes unavailable to the notebook): hand-written toys, and a second
implementation of each rule written here (``_shortest_per_task``, ``_decided``) for random record sets. Edge cases: ties on plan length (fewest tokens wins), ties on both (earliest
generation, then lowest sample id, whatever the input order), a shorter invalid plan, tasks with no valid
plan, later generations ignored, empty input; decisions without a generation, later lines overriding
earlier ones, decisions about future generations, unknown traces and bad decision values.
"""

import random

import pytest



@pytest.fixture(scope="module")
def lab(load_lab):
    return load_lab("04")


def rec(generation, task_id, sample_id, valid, plan_length, n_tokens):
    return {"generation": generation, "task_id": task_id, "sample_id": sample_id, "prompt": f"<{task_id}>",
            "completion": f"<{generation}/{sample_id}>", "n_tokens": n_tokens, "valid": valid,
            "plan_length": plan_length}


def keys(records):
    return [(r["generation"], r["task_id"], r["sample_id"]) for r in records]


def random_records(rng: random.Random, generations: int = 3) -> list[dict]:
    """Small random record sets with many ties (few distinct lengths and token counts)."""
    records = []
    for g in range(generations):
        for t in range(rng.randint(0, 5)):
            for s in range(rng.randint(1, 4)):
                length = rng.randint(2, 5)
                records.append(rec(g, f"task-{rng.randint(0, 5)}", s * 10 + t, rng.random() < 0.5, length,
                                   length * 5 + rng.randint(0, 2)))
    # unique (generation, task_id, sample_id) keys, like real traces
    unique = {}
    for r in records:
        unique.setdefault((r["generation"], r["task_id"], r["sample_id"]), r)
    records = list(unique.values())
    rng.shuffle(records)
    return records


def _shortest_per_task(records, generation, only_latest=False):
    """The paper's rule, written as a min over each task's usable valid records (second implementation)."""
    usable = [r for r in records if r["valid"] and
              (r["generation"] == generation if only_latest else r["generation"] <= generation)]
    order = lambda r: (r["plan_length"], r["n_tokens"], r["generation"], r["sample_id"])  # noqa: E731
    return [min((r for r in usable if r["task_id"] == task), key=order) for task in sorted({r["task_id"] for r in usable})]


def _decided(records, decisions, generation):
    """Manual curation (second implementation): the last decision about each trace wins."""
    traces = {(r["generation"], r["task_id"], r["sample_id"]): r for r in records if r["generation"] <= generation}
    final = {}
    for d in decisions:
        if d["decision"] not in {"accept", "reject"}:
            raise ValueError(d)
        if d.get("generation") is not None and d["generation"] > generation:
            continue
        hit = [k for k in traces if k[1:] == (d["task_id"], d["sample_id"]) and d.get("generation") in (None, k[0])]
        if not hit:
            raise ValueError(d)
        final.update((k, d["decision"]) for k in hit)
    return [traces[k] for k in sorted(final) if final[k] == "accept"]


# --- exercise 1: curate_paper -------------------------------------------------------------------------------
@pytest.mark.exercise("curate_paper")
def test_curate_paper_on_the_notebooks_toy(lab):
    toy = [
        rec(0, "t1", 0, True, 6, 40), rec(0, "t1", 1, True, 4, 30), rec(0, "t1", 2, False, 2, 12),
        rec(0, "t2", 0, False, 3, 20), rec(0, "t2", 1, False, 5, 33),
        rec(1, "t1", 0, True, 4, 28), rec(1, "t1", 1, True, 4, 28),
        rec(1, "t2", 0, True, 7, 45), rec(1, "t3", 0, True, 5, 35), rec(1, "t3", 1, True, 9, 60),
    ]
    assert keys(lab.curate_paper(toy, 0)) == [(0, "t1", 1)]  # the shorter invalid plan is not kept; t2 unsolved
    assert keys(lab.curate_paper(toy, 1)) == [(1, "t1", 0), (1, "t2", 0), (1, "t3", 0)]
    assert keys(lab.curate_paper(toy, 5)) == keys(lab.curate_paper(toy, 1))


@pytest.mark.exercise("curate_paper")
def test_curate_paper_breaks_full_ties_by_generation_then_sample(lab):
    records = [rec(1, "t", 0, True, 4, 20), rec(0, "t", 7, True, 4, 20), rec(0, "t", 3, True, 4, 20),
               rec(0, "t", 1, True, 4, 21), rec(2, "t", 0, True, 3, 25)]
    assert keys(lab.curate_paper(records, 1)) == [(0, "t", 3)]
    assert keys(lab.curate_paper(records, 2)) == [(2, "t", 0)]  # fewer steps beats fewer tokens
    assert keys(lab.curate_paper(list(reversed(records)), 1)) == [(0, "t", 3)]


@pytest.mark.exercise("curate_paper")
def test_curate_paper_returns_the_records_sorted_by_task(lab):
    records = [rec(0, "b", 0, True, 3, 10), rec(0, "a", 0, True, 5, 10), rec(0, "c", 0, False, 1, 3)]
    selected = lab.curate_paper(records, 0)
    assert [r["task_id"] for r in selected] == ["a", "b"]
    assert selected == [records[1], records[0]]  # whole records, every field kept


@pytest.mark.exercise("curate_paper")
def test_curate_paper_edge_cases(lab):
    assert lab.curate_paper([], 0) == []
    assert lab.curate_paper([rec(0, "t", 0, False, 1, 5), rec(0, "t", 1, False, 2, 6)], 0) == []
    assert lab.curate_paper([rec(1, "t", 0, True, 1, 5)], 0) == []  # a later generation is not deployed yet


@pytest.mark.exercise("curate_paper")
def test_curate_paper_on_random_records(lab):
    rng = random.Random(0)
    for _ in range(300):
        records = random_records(rng)
        for g in range(3):
            assert keys(lab.curate_paper(records, g)) == keys(_shortest_per_task(records, g))


@pytest.mark.exercise("curate_latest")
def test_curate_latest_on_random_records(lab):
    rng = random.Random(1)
    for _ in range(300):
        records = random_records(rng)
        for g in range(3):
            assert keys(lab.curate_latest(records, g)) == keys(_shortest_per_task(records, g, only_latest=True))


# --- exercise 2: curate_latest ------------------------------------------------------------------------------
@pytest.mark.exercise("curate_latest")
def test_curate_latest_uses_one_generation(lab):
    records = [rec(0, "t1", 0, True, 3, 15), rec(1, "t1", 0, True, 5, 25), rec(1, "t2", 0, True, 4, 20),
               rec(1, "t2", 1, True, 4, 19), rec(0, "t3", 0, True, 2, 10), rec(2, "t3", 0, False, 1, 4)]
    assert keys(lab.curate_latest(records, 0)) == [(0, "t1", 0), (0, "t3", 0)]
    assert keys(lab.curate_latest(records, 1)) == [(1, "t1", 0), (1, "t2", 1)]  # t1 from gen 1 only, t3 forgotten
    assert lab.curate_latest(records, 2) == []
    assert lab.curate_latest(records, 3) == []
    assert lab.curate_latest([], 0) == []


# --- exercise 3: apply_decisions ----------------------------------------------------------------------------
@pytest.mark.exercise("apply_decisions")
def test_apply_decisions_by_hand(lab):
    records = [rec(0, "t1", 0, True, 3, 15), rec(0, "t1", 1, False, 3, 15), rec(1, "t1", 0, True, 4, 20),
               rec(1, "t2", 0, True, 2, 12), rec(2, "t2", 0, True, 2, 12)]
    decisions = [
        {"task_id": "t1", "sample_id": 0, "decision": "accept"},  # no generation: gen 0 and gen 1
        {"task_id": "t1", "sample_id": 1, "generation": 0, "decision": "accept"},
        {"task_id": "t1", "sample_id": 0, "generation": 1, "decision": "reject"},  # overrides gen 1 only
        {"task_id": "t2", "sample_id": 0, "generation": 1, "decision": "reject"},
        {"task_id": "t2", "sample_id": 0, "generation": 1, "decision": "accept"},  # the last line wins
        {"task_id": "t2", "sample_id": 0, "generation": 2, "decision": "accept"},  # not deployed yet at 1
        {"task_id": "t9", "sample_id": 0, "generation": 5, "decision": "accept"},  # ignored: later generation
    ]
    assert keys(lab.apply_decisions(records, decisions, 1)) == [(0, "t1", 0), (0, "t1", 1), (1, "t2", 0)]
    assert keys(lab.apply_decisions(records, decisions, 2)) == [(0, "t1", 0), (0, "t1", 1), (1, "t2", 0), (2, "t2", 0)]
    assert lab.apply_decisions(records, [], 2) == []


@pytest.mark.exercise("apply_decisions")
def test_apply_decisions_errors(lab):
    records = [rec(0, "t1", 0, True, 3, 15), rec(1, "t1", 1, True, 3, 15)]
    with pytest.raises(ValueError):
        lab.apply_decisions(records, [{"task_id": "t1", "sample_id": 0, "decision": "maybe"}], 1)
    with pytest.raises(ValueError):
        lab.apply_decisions(records, [{"task_id": "t2", "sample_id": 0, "decision": "accept"}], 1)
    with pytest.raises(ValueError):  # exists only in generation 1, asked at generation 0
        lab.apply_decisions(records, [{"task_id": "t1", "sample_id": 1, "decision": "accept"}], 0)
    with pytest.raises(ValueError):  # the trace exists, but not in that generation
        lab.apply_decisions(records, [{"task_id": "t1", "sample_id": 0, "generation": 1, "decision": "reject"}], 1)


@pytest.mark.exercise("apply_decisions")
def test_apply_decisions_on_random_decisions(lab):
    rng = random.Random(2)
    for i in range(150):
        records = random_records(rng)
        if not records:
            continue
        decisions = []
        for _ in range(rng.randint(0, 12)):
            r = rng.choice(records)
            d = {"task_id": r["task_id"], "sample_id": r["sample_id"], "decision": rng.choice(["accept", "reject"])}
            if rng.random() < 0.7:
                d["generation"] = r["generation"]
            decisions.append(d)
        top = max(r["generation"] for r in records)
        for g in range(top + 1):
            try:
                expected = keys(_decided(records, decisions, g))
            except ValueError:
                with pytest.raises(ValueError):
                    lab.apply_decisions(records, decisions, g)
                continue
            assert keys(lab.apply_decisions(records, decisions, g)) == expected
