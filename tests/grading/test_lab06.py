"""Grading lab 06 (the loop): heldout_ratio, solved_by_size, longest_valid_plan, first_generation_solved.

Expectations are independent of the package's answers (``metrics.pass_at_k_by_size`` and
``generation_metrics``, which the grader makes unavailable to the notebook): hand-computed values, and a
second implementation written here (``_solved``, ``_longest``) on synthetic validated records. Edge cases: metrics out of
order, generation 0 missing or solving nothing, several samples per task (pass@k), invalid plans longer than
the valid ones, generations without a valid plan, sizes never solved.
"""

import random

import pytest



@pytest.fixture(scope="module")
def lab(load_lab):
    return load_lab("06")


def _records(seed=0, generations=3, sizes=("b5", "b6", "b7", "b10"), tasks=4, samples=3):
    """Synthetic validated trace records: several samples per task, random validity and lengths."""
    rng = random.Random(seed)
    out = []
    for g in range(generations):
        for size in sizes:
            for t in range(tasks):
                for k in range(samples):
                    valid = rng.random() < 0.3
                    out.append({"generation": g, "task_id": f"g{g}-{size}-{t}", "sample_id": k, "size": size,
                                "valid": valid, "plan_length": rng.randint(1, 9) if valid else rng.randint(0, 30)})
    return out


def _solved(records):
    """Size -> fraction of its tasks with a valid sample, sizes in order of first appearance (second implementation)."""
    sizes = list(dict.fromkeys(r["size"] for r in records))
    out = {}
    for size in sizes:
        tasks = {r["task_id"] for r in records if r["size"] == size}
        out[size] = len({r["task_id"] for r in records if r["size"] == size and r["valid"]}) / len(tasks)
    return out


def _longest(records, g):
    return max([r["plan_length"] for r in records if r["generation"] == g and r["valid"]], default=0)


# --- exercise 1 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("heldout_ratio")
def test_heldout_ratio_by_hand(lab):
    metrics = [{"generation": 0, "heldout_solved_fraction": 0.2}, {"generation": 1, "heldout_solved_fraction": 0.25},
               {"generation": 2, "heldout_solved_fraction": 0.1}]
    assert lab.heldout_ratio(metrics) == pytest.approx([1.0, 1.25, 0.5])


@pytest.mark.exercise("heldout_ratio")
def test_heldout_ratio_sorts_by_generation(lab):
    metrics = [{"generation": 2, "heldout_solved_fraction": 0.3}, {"generation": 0, "heldout_solved_fraction": 0.2},
               {"generation": 1, "heldout_solved_fraction": 0.1, "other": "keys are ignored"}]
    assert lab.heldout_ratio(metrics) == pytest.approx([1.0, 0.5, 1.5])


@pytest.mark.exercise("heldout_ratio")
def test_heldout_ratio_of_the_default_run(lab):
    solved = [0.22, 0.2267, 0.2467, 0.28, 0.2733, 0.2733]  # README: 1.24x after five generations
    ratios = lab.heldout_ratio([{"generation": g, "heldout_solved_fraction": f} for g, f in enumerate(solved)])
    assert len(ratios) == 6 and ratios[-1] == pytest.approx(1.2423, abs=1e-3)


@pytest.mark.exercise("heldout_ratio")
def test_heldout_ratio_without_a_baseline_raises(lab):
    with pytest.raises(ValueError):
        lab.heldout_ratio([{"generation": 0, "heldout_solved_fraction": 0.0},
                           {"generation": 1, "heldout_solved_fraction": 0.1}])
    with pytest.raises(ValueError):
        lab.heldout_ratio([{"generation": 1, "heldout_solved_fraction": 0.1},
                           {"generation": 2, "heldout_solved_fraction": 0.2}])


# --- exercise 2 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("solved_by_size")
def test_solved_by_size_on_synthetic_runs(lab):
    for seed in range(3):
        records = _records(seed)
        mine, loop = lab.solved_by_size(records), _solved(records)
        assert list(mine) == list(loop)
        assert mine == pytest.approx(loop)


@pytest.mark.exercise("solved_by_size")
def test_solved_by_size_by_hand(lab):
    records = [
        {"size": "b7", "task_id": "x", "valid": False},
        {"size": "b7", "task_id": "x", "valid": True},   # a task is solved if any of its samples is valid
        {"size": "b5", "task_id": "y", "valid": False},
        {"size": "b7", "task_id": "z", "valid": False},
        {"size": "b5", "task_id": "w", "valid": True},
        {"size": "b5", "task_id": "v", "valid": False},
    ]
    result = lab.solved_by_size(records)
    assert list(result) == ["b7", "b5"]  # order of first appearance
    assert result == pytest.approx({"b7": 0.5, "b5": 1 / 3})
    assert lab.solved_by_size([]) == {}


@pytest.mark.exercise("solved_by_size")
def test_solved_by_size_on_greedy_eval_records(lab):
    records = [r for r in _records(7, generations=1, samples=1)]  # one sample per task: solved = valid
    for size, fraction in lab.solved_by_size(records).items():
        rows = [r for r in records if r["size"] == size]
        assert fraction == pytest.approx(sum(r["valid"] for r in rows) / len(rows))


# --- exercise 3 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("longest_valid_plan")
def test_longest_valid_plan_per_generation(lab):
    records = _records(3, generations=4)
    result = lab.longest_valid_plan(records)
    assert list(result) == [0, 1, 2, 3]
    for g in range(4):
        assert result[g] == _longest(records, g)


@pytest.mark.exercise("longest_valid_plan")
def test_longest_valid_plan_by_hand(lab):
    records = [
        {"generation": 2, "valid": True, "plan_length": 4},
        {"generation": 0, "valid": True, "plan_length": 6},
        {"generation": 0, "valid": False, "plan_length": 40},  # invalid: never counts
        {"generation": 2, "valid": True, "plan_length": 9},
        {"generation": 1, "valid": False, "plan_length": 12},  # a generation without a valid plan
        {"generation": 0, "valid": True, "plan_length": 3},
    ]
    result = lab.longest_valid_plan(records)
    assert result == {0: 6, 1: 0, 2: 9}
    assert list(result) == [0, 1, 2]
    assert lab.longest_valid_plan([]) == {}


# --- exercise 4 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("first_generation_solved")
def test_first_generation_solved_by_hand(lab):
    by_size = [{"b5": 0.5, "b8": 0.0, "b9": 0.0}, {"b5": 0.0, "b8": 0.0, "b9": 0.0},
               {"b5": 0.25, "b8": 0.04, "b9": 0.0}, {"b5": 0.5, "b8": 0.0, "b9": 0.0}]
    result = lab.first_generation_solved(by_size)
    assert result == {"b5": 0, "b8": 2, "b9": None}
    assert list(result) == ["b5", "b8", "b9"]
    assert lab.first_generation_solved([]) == {}


@pytest.mark.exercise("first_generation_solved")
def test_first_generation_solved_in_the_default_run(lab):
    b9 = [0.0, 0.0, 0.0, 0.04, 0.04, 0.04]
    by_size = [{"b7": 0.24, "b9": v, "b10": 0.0} for v in b9]
    assert lab.first_generation_solved(by_size) == {"b7": 0, "b9": 3, "b10": None}


# --- exercise 5 ---------------------------------------------------------------------------------------------
def _pool(g, pass_k, greedy):
    return {"generation": g, "pool_solved_fraction": pass_k, "pool_greedy_solved_fraction": greedy, "other": 1}


@pytest.mark.exercise("gap_closed")
def test_gap_closed_by_hand(lab):
    rows = [_pool(0, 0.30, 0.20), _pool(1, 0.40, 0.25), _pool(2, 0.40, 0.40), _pool(3, 0.5, 0.38)]
    result = lab.gap_closed(rows)
    assert list(result) == [0, 1, 2]
    assert result[0] == pytest.approx(0.5)            # (0.25 - 0.20) / (0.30 - 0.20)
    assert result[1] == pytest.approx(1.0)            # (0.40 - 0.25) / 0.15
    assert result[2] is None                          # no headroom at generation 2
    assert lab.gap_closed(list(reversed(rows))) == result


@pytest.mark.exercise("gap_closed")
def test_gap_closed_negative_gaps_holes_and_errors(lab):
    rows = [_pool(0, 0.5, 0.3), _pool(1, 0.5, 0.2), _pool(3, 0.6, 0.1), _pool(4, 0.2, 0.5)]
    result = lab.gap_closed(rows)
    assert list(result) == [0, 3]                     # generation 1 has no generation 2 after it
    assert result[0] == pytest.approx(-0.5) and result[3] == pytest.approx(0.8)
    assert lab.gap_closed([_pool(0, 0.5, 0.3)]) == {} and lab.gap_closed([]) == {}
    with pytest.raises(ValueError):
        lab.gap_closed([_pool(0, 0.5, 0.3), _pool(0, 0.4, 0.3)])


# --- exercise 6 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("collapse_summary")
def test_collapse_summary_by_hand(lab):
    result = lab.collapse_summary([0.2, 0.4, 0.5, 0.3, 0.5, 0.35])
    assert result["best_generation"] == 2 and result["best"] == pytest.approx(0.5)   # the first of the tied maxima
    assert result["final"] == pytest.approx(0.35) and result["drop"] == pytest.approx(0.15)
    assert result["gain"] == pytest.approx(0.15)
    assert set(result) == {"best_generation", "best", "final", "drop", "gain"}


@pytest.mark.exercise("collapse_summary")
def test_collapse_summary_edges(lab):
    assert lab.collapse_summary([0.3]) == {"best_generation": 0, "best": 0.3, "final": 0.3, "drop": 0.0, "gain": 0.0}
    falling = lab.collapse_summary([0.4, 0.3, 0.1])
    assert falling["best_generation"] == 0 and falling["drop"] == pytest.approx(0.3) and falling["gain"] == pytest.approx(-0.3)
    with pytest.raises(ValueError):
        lab.collapse_summary([])
