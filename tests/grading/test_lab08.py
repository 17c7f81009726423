"""Grading lab 08 (safety): implicit_reward, preference_rate, selection_differential.

Expectations are independent of the package's answer (``safety.implicit_reward``, which the grader makes
unavailable to the notebook): hand-computed values, and for every registered curation policy the property
that defines the implicit reward (the records marked 1 are exactly the pool the curator keeps). Edge cases: records of generations later than the curator may use,
a task whose only valid plans lack the property, invalid records in the baseline, empty inputs.
"""

import random

import pytest

from itdeploy_lite.curate import POLICIES, curate
from itdeploy_lite.safety import example_records, hidden, trace_record


@pytest.fixture(scope="module")
def lab(load_lab):
    return load_lab("08")


RECORDS = example_records()


def _random_records(seed, generations=3, tasks=6, samples=4):
    rng = random.Random(seed)
    out = []
    for g in range(generations):
        for t in range(tasks):
            for k in range(samples):
                first = rng.choice(["pick-up", "unstack"])
                length = rng.randint(1, 6)
                completion = "\n".join([f"({first} b1 b2)"] + ["(put-down b1)"] * (length - 1) + ["</s>"])
                rec = trace_record(f"t{t}", k + samples * g, completion, rng.random() < 0.6, length, generation=g)
                rec["n_tokens"] = rng.randint(5, 40)
                out.append(rec)
    return out


# --- exercise 1 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("implicit_reward")
def test_implicit_reward_by_hand(lab):
    assert lab.implicit_reward(RECORDS, "paper", 1) == [1, 0, 0, 1, 0, 1, 0]
    assert lab.implicit_reward(RECORDS, "hidden-first-pickup", 1) == [0, 1, 0, 0, 1, 0, 0]
    assert lab.implicit_reward(RECORDS, "none", 1) == [1, 1, 1, 1, 1, 1, 0]  # generation 2 is not usable yet
    assert lab.implicit_reward(RECORDS, "hidden-first-pickup", 2) == [0, 1, 0, 0, 1, 0, 1]


def _key(r):
    return r["generation"], r["task_id"], r["sample_id"]


@pytest.mark.exercise("implicit_reward")
def test_implicit_reward_marks_the_pool_for_every_policy(lab):
    for seed in range(3):
        records = _random_records(seed)
        for policy in sorted(POLICIES):
            if policy == "manual":  # needs a decisions file
                continue
            for generation in (0, 2):
                reward = lab.implicit_reward(records, policy, generation)
                assert len(reward) == len(records) and set(reward) <= {0, 1}, (policy, generation)
                marked = sorted(_key(r) for r, x in zip(records, reward) if x == 1)
                assert marked == sorted(_key(r) for r in curate(records, policy, generation)), (policy, generation, seed)


@pytest.mark.exercise("implicit_reward")
def test_implicit_reward_sums_to_the_pool_size(lab):
    records = _random_records(5)
    for policy in ("paper", "hidden-first-pickup", "longest"):
        assert sum(lab.implicit_reward(records, policy, 2)) == len(curate(records, policy, 2))


@pytest.mark.exercise("implicit_reward")
def test_implicit_reward_of_an_unknown_policy_raises(lab):
    with pytest.raises(ValueError):
        lab.implicit_reward(RECORDS, "best", 1)


# --- exercise 2 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("preference_rate")
def test_preference_rate_by_hand(lab):
    assert lab.preference_rate(RECORDS, hidden) == pytest.approx(4 / 7)
    assert lab.preference_rate(RECORDS, lambda r: r["valid"]) == pytest.approx(6 / 7)
    assert lab.preference_rate(RECORDS[:1], hidden) == 0.0
    assert lab.preference_rate(RECORDS, lambda r: r["plan_length"] > 100) == 0.0


@pytest.mark.exercise("preference_rate")
def test_preference_rate_of_nothing_is_none(lab):
    assert lab.preference_rate([], hidden) is None


# --- exercise 3 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("selection_differential")
def test_selection_differential_by_hand(lab):
    records = RECORDS[:6]  # valid: a0 (unstack), a1 (pick-up), b0 (unstack), b1 (pick-up), c0 (unstack) -> 0.4
    hidden_kept = curate(records, "hidden-first-pickup", 1)   # a1, b1: both pick-up -> 1.0
    paper_kept = curate(records, "paper", 1)                  # a0, b0, c0: none pick-up -> 0.0
    assert lab.selection_differential(records, hidden_kept, hidden) == pytest.approx(0.6)
    assert lab.selection_differential(records, paper_kept, hidden) == pytest.approx(-0.4)


@pytest.mark.exercise("selection_differential")
def test_selection_differential_ignores_invalid_candidates(lab):
    records = [trace_record("a", 0, "(pick-up b1)\n</s>", False, 1), trace_record("a", 1, "(pick-up b1)\n</s>", False, 1),
               trace_record("a", 2, "(unstack b1 b2)\n</s>", True, 1), trace_record("b", 0, "(pick-up b2)\n</s>", True, 1)]
    # valid candidates: 1 of 2 start with pick-up; kept: the pick-up one -> 1.0 - 0.5
    assert lab.selection_differential(records, [records[3]], hidden) == pytest.approx(0.5)
    assert lab.selection_differential(records, records[2:], hidden) == pytest.approx(0.0)


@pytest.mark.exercise("selection_differential")
def test_selection_differential_without_data_is_none(lab):
    assert lab.selection_differential(RECORDS, [], hidden) is None
    invalid = [trace_record("a", 0, "(pick-up b1)\n</s>", False, 1)]
    assert lab.selection_differential(invalid, invalid, hidden) is None
