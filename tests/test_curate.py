"""Curation policies: pure functions over validated trace records."""

from __future__ import annotations

import json

import pytest

from itdeploy_lite.curate import POLICIES, curate, policy, read_jsonl, to_dataset, write_curated


def rec(gen, task, sample, valid, length, tokens=None, completion=None):
    return {
        "generation": gen, "task_id": task, "sample_id": sample, "prompt": f"P {task}",
        "completion": completion or f"C {gen}/{task}/{sample}", "n_tokens": tokens if tokens is not None else 6 * length,
        "valid": valid, "plan_length": length,
    }


RECORDS = [
    rec(0, "t1", 0, True, 6), rec(0, "t1", 1, True, 4, tokens=30), rec(0, "t1", 2, False, 2),
    rec(0, "t2", 0, False, 5), rec(0, "t2", 1, False, 7),
    rec(1, "t1", 0, True, 4, tokens=24),  # same length as gen 0's best, fewer tokens: wins the tie
    rec(1, "t2", 0, True, 9), rec(1, "t3", 0, True, 3), rec(1, "t3", 1, True, 3, tokens=18),
]


def keys(records):
    return [(r["generation"], r["task_id"], r["sample_id"]) for r in records]


def test_paper_keeps_shortest_valid_per_task_pooled_over_generations():
    assert keys(curate(RECORDS, "paper", 0)) == [(0, "t1", 1)]
    # gen 1: t1 tie on length 4 broken by tokens (24 < 30); t2 only valid in gen 1; t3 tie on tokens -> earlier sample
    assert keys(curate(RECORDS, "paper", 1)) == [(1, "t1", 0), (1, "t2", 0), (1, "t3", 0)]


def test_paper_never_selects_an_invalid_trace_and_ignores_later_generations():
    selected = curate(RECORDS, "paper", 1)
    assert all(r["valid"] for r in selected)
    assert curate(RECORDS + [rec(2, "t4", 0, True, 1)], "paper", 1) == selected


def test_none_keeps_every_trace_so_far():
    assert len(curate(RECORDS, "none", 0)) == 5
    assert len(curate(RECORDS, "none", 1)) == len(RECORDS)
    assert any(not r["valid"] for r in curate(RECORDS, "none", 1))


def test_latest_uses_this_generation_only():
    assert keys(curate(RECORDS, "latest", 1)) == [(1, "t1", 0), (1, "t2", 0), (1, "t3", 0)]
    assert keys(curate(RECORDS, "latest", 0)) == [(0, "t1", 1)]


def test_longest_and_random_valid_presets():
    assert [r["plan_length"] for r in curate(RECORDS, "longest", 1)] == [6, 9, 3]
    a = curate(RECORDS, "random-valid", 1, seed=3)
    assert a == curate(RECORDS, "random-valid", 1, seed=3) and all(r["valid"] for r in a)
    assert [r["task_id"] for r in a] == ["t1", "t2", "t3"]


def test_registry_takes_a_new_policy_in_one_function():
    @policy("first-valid")
    def first_valid(records, generation, **_):
        return [r for r in records if r["valid"] and r["generation"] <= generation][:1]

    try:
        assert keys(curate(RECORDS, "first-valid", 1)) == [(0, "t1", 0)]
    finally:
        POLICIES.pop("first-valid")


def test_manual_decisions(tmp_path):
    path = tmp_path / "decisions.jsonl"
    lines = [
        {"task_id": "t2", "sample_id": 1, "generation": 0, "decision": "accept"},  # an invalid plan a person accepts
        {"task_id": "t1", "sample_id": 0, "generation": 1, "decision": "accept"},
        {"task_id": "t1", "sample_id": 0, "generation": 1, "decision": "reject"},  # later line wins
        {"task_id": "t3", "sample_id": 1, "decision": "accept"},  # no generation: matches any
        {"task_id": "t9", "sample_id": 0, "generation": 5, "decision": "accept"},  # future generation: ignored
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    assert keys(curate(RECORDS, "manual", 1, decisions=path)) == [(0, "t2", 1), (1, "t3", 1)]


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "not JSON"),
        ('{"task_id": "t1", "decision": "accept"}', "missing key(s) ['sample_id']"),
        ('{"task_id": "t1", "sample_id": 0, "decision": "maybe"}', "'accept' or 'reject'"),
        ('{"task_id": "nope", "sample_id": 0, "decision": "accept"}', "no trace task_id='nope'"),
    ],
)
def test_manual_bad_decisions_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "d.jsonl"
    path.write_text('{"task_id": "t1", "sample_id": 0, "decision": "accept"}\n' + line + "\n")
    with pytest.raises(ValueError) as err:
        curate(RECORDS, "manual", 1, decisions=path)
    assert f"{path}:2" in str(err.value) and message in str(err.value)


def test_manual_needs_an_existing_file(tmp_path):
    with pytest.raises(ValueError, match="decisions file"):
        curate(RECORDS, "manual", 1)
    with pytest.raises(FileNotFoundError, match="decisions file not found"):
        curate(RECORDS, "manual", 1, decisions=tmp_path / "missing.jsonl")


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown curation policy 'best'"):
        curate(RECORDS, "best", 1)
    broken = [dict(RECORDS[0]), {k: v for k, v in RECORDS[1].items() if k != "valid"}]
    with pytest.raises(ValueError, match=r"records\[1\] lacks key\(s\) \['valid'\]"):
        curate(broken, "paper", 0)


def test_dataset_and_jsonl_copy(tmp_path):
    selected = curate(RECORDS, "paper", 1)
    dataset = write_curated(selected, tmp_path / "curated.jsonl", tmp_path / "curated")
    assert dataset.column_names == ["prompt", "completion"] and len(dataset) == 3
    assert dataset[0] == {"prompt": "P t1", "completion": "C 1/t1/0"}
    rows = read_jsonl(tmp_path / "curated.jsonl")
    assert [r["task_id"] for r in rows] == ["t1", "t2", "t3"] and rows[0]["plan_length"] == 4
    from datasets import load_from_disk

    assert load_from_disk(str(tmp_path / "curated"))[:] == dataset[:]
    assert not list(tmp_path.glob("*.tmp"))
    assert len(to_dataset([])) == 0


def test_read_jsonl_names_bad_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n[1]\n')
    with pytest.raises(ValueError, match=r"x.jsonl:2: expected a JSON object"):
        read_jsonl(path)
