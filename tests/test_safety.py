"""The hidden-preference curator, the implicit reward it implements, drift measurement, and `itdeploy ablate`."""

from __future__ import annotations

import json

import pytest

from itdeploy_lite import atomic
from itdeploy_lite.curate import POLICIES, curate, first_action
from itdeploy_lite.safety import IMPLICIT_REWARDS, drift, drift_table, example_records, hidden, implicit_reward

from tiny_model import build_tiny

pytestmark = pytest.mark.usefixtures("one_thread")


RECORDS = example_records()[:6]  # generations 0 and 1


def test_first_action():
    assert first_action("(pick-up b1)\n") == "pick-up"
    assert first_action("; note\n(unstack b1 b2)\n") == "unstack"
    assert first_action("") == ""


def test_first_action_is_read_through_the_models_format():
    """An LLM's reasoning mentions actions before the plan: its format drops it, so the first *plan* step
    counts; a record that validation did not stamp is refused, not guessed."""
    from itdeploy_lite.formats import PddlFormat

    answer = "<think>(pick-up b1) first?</think>\n(unstack b2 b1)\n(put-down b2)"
    fmt = PddlFormat(domain="blocksworld")
    assert first_action(fmt.plan_text(answer)) == "unstack"
    record = dict(RECORDS[0])
    del record["first_action"]
    with pytest.raises(ValueError, match="no first_action"):
        hidden(record)


def test_hidden_curator_keeps_only_plans_with_the_property():
    kept = curate(RECORDS, "hidden-first-pickup", 1)
    assert kept and all(r["valid"] and hidden(r) for r in kept)
    assert [(r["task_id"], r["sample_id"]) for r in kept] == [("a", 1), ("b", 1)]  # task c has no such plan
    assert [(r["task_id"], r["sample_id"]) for r in curate(RECORDS, "paper", 1)] == [("a", 0), ("b", 0), ("c", 0)]


def test_implicit_reward_is_the_selection_indicator():
    assert implicit_reward(RECORDS, "hidden-first-pickup", 1) == [0, 1, 0, 0, 1, 0]
    # paper: valid and shortest of its task (a within-task rank reward)
    assert implicit_reward(RECORDS, "paper", 1) == [1, 0, 0, 1, 0, 1]
    assert implicit_reward(RECORDS, "longest", 1) == [0, 1, 0, 0, 1, 1]
    assert set(IMPLICIT_REWARDS) <= set(POLICIES)


def test_drift_reads_a_run_folder(tmp_path):
    atomic.write_jsonl(tmp_path / "gen_00" / "eval.jsonl", RECORDS[:3])
    atomic.write_jsonl(tmp_path / "gen_00" / "traces.jsonl", RECORDS)
    atomic.write_jsonl(tmp_path / "gen_01" / "eval.jsonl", RECORDS[3:])
    rows = drift(tmp_path)
    assert [r["generation"] for r in rows] == [0, 1]
    assert rows[0]["hidden_greedy"] == pytest.approx(2 / 3, abs=1e-3)
    assert rows[0]["hidden_valid_greedy"] == 0.5
    assert rows[0]["hidden_sampled"] == 0.5 and rows[0]["hidden_valid_sampled"] == 0.4
    assert rows[1]["valid_sampled"] is None and rows[1]["len_greedy"] == pytest.approx(4 / 3, abs=0.01)
    assert "hidden_sampled" in drift_table(rows)


def test_ablate_command_draws_one_line_per_preset(tmp_path, monkeypatch, tmp_path_factory):
    import matplotlib.figure

    from itdeploy_lite.cli import main

    model = build_tiny(tmp_path_factory.mktemp("tiny") / "model")
    saved = []
    original = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, path, **kw: (saved.append((fig, str(path))), original(fig, path, **kw))[1])
    policies = ["none", "paper"]
    code = main(["ablate", "--policies", ",".join(policies), "--model", str(model), "--out", str(tmp_path / "ab"),
                 "--generations", "1", "--tasks-per-generation", "2", "--sizes", "4", "--samples-per-task", "2",
                 "--heldout-per-size", "1", "--max-new-tokens", "30", "--no-progress", "--threads", "1",
                 "--min-steps", "1", "--train-batch-size", "4"])
    assert code == 0
    plots = [(fig, path) for fig, path in saved if path.endswith("ablation-s0.png")]
    assert len(plots) == 1 and (tmp_path / "ab" / "ablation-s0.png").is_file()
    lines = plots[0][0].axes[0].get_lines()
    assert sorted(line.get_label() for line in lines) == policies
    for p in policies:
        assert json.loads((tmp_path / "ab" / f"{p}-s0" / "config.json").read_text())["curation"] == p


def test_random_as_hidden_is_an_equal_size_pool_without_the_preference():
    """The control for the hidden curator (lab 08): as many rows, valid, one per task, seeded, drawn from all
    solved tasks (so it keeps tasks whose plans all begin with unstack, which the hidden curator drops)."""
    import random

    from itdeploy_lite.safety import trace_record

    rng = random.Random(0)
    records = []
    for g in range(3):
        for t in range(12):
            for k in range(4):
                first = rng.choice(["pick-up", "unstack"])
                records.append(trace_record(f"t{t}", k + 4 * g, f"({first} b1 b2)\n</s>", rng.random() < 0.5, 1 + k, generation=g))
    dropped_somewhere = False
    for g in range(3):
        hidden_pool, control = curate(records, "hidden-first-pickup", g), curate(records, "random-as-hidden", g, seed=1)
        solved = {r["task_id"] for r in records if r["valid"] and r["generation"] <= g}
        assert len(control) == len(hidden_pool) and all(r["valid"] and r["generation"] <= g for r in control)
        assert len({r["task_id"] for r in control}) == len(control) and {r["task_id"] for r in control} <= solved
        assert control == curate(records, "random-as-hidden", g, seed=1)
        dropped_somewhere |= len(hidden_pool) < len(solved)
    assert dropped_somewhere  # the case the control exists for
    picks = [sum(hidden(r) for r in curate(records, "random-as-hidden", 2, seed=s)) for s in range(20)]
    assert min(picks) < len(curate(records, "hidden-first-pickup", 2))  # no preference for pick-up
