"""The explicit RL baseline: group advantages, one policy-gradient step on a tiny model, a tiny run."""

from __future__ import annotations

import pytest

from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.config import RunConfig
from itdeploy_lite.rl import RLConfig, group_advantages, lora_policy, policy_gradient_step, train

from tiny_model import build_tiny, example_rows

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("tiny") / "model")


def _records(valid: dict[str, list[bool]]) -> list[dict]:
    return [{"task_id": t, "sample_id": i, "valid": v} for t, vs in valid.items() for i, v in enumerate(vs)]


def test_group_advantages_zero_mean_per_task():
    records = _records({"a": [True, False, False, True], "b": [True, True, True, True], "c": [False, True, False, False]})
    adv = group_advantages(records)
    for task in "abc":
        assert abs(sum(a for r, a in zip(records, adv) if r["task_id"] == task)) < 1e-9
    assert adv[4:8] == [0.0] * 4  # all valid: no signal
    assert adv[0] == pytest.approx(1.0, abs=1e-5) and adv[1] == pytest.approx(-1.0, abs=1e-5)
    assert adv[9] > 0 > adv[8]


def test_update_raises_logprob_of_rewarded_sample(tiny):
    import torch

    from itdeploy_lite.rl import encode
    from itdeploy_lite.theory import sequence_logprobs, trainable_parameters

    model, tokenizer = lora_policy(tiny, FinetuneConfig(), seed=0)
    rows = example_rows(2)
    good = {**rows[0], "task_id": "t", "valid": True}
    bad = {**rows[0], "completion": rows[1]["completion"], "task_id": "t", "valid": False}
    batch = [good, bad]
    adv = group_advantages(batch)

    def logp():
        with torch.no_grad():
            return sequence_logprobs(model, *encode(tokenizer, batch))

    before = logp()
    optimizer = torch.optim.AdamW(trainable_parameters(model), lr=1e-2, weight_decay=0.0)
    for _ in range(3):
        policy_gradient_step(model, tokenizer, optimizer, batch, adv)
    after = logp()
    assert after[0] > before[0]  # the rewarded completion became more likely
    assert after[0] - after[1] > before[0] - before[1]  # and relative to the unrewarded one (they share tokens)


def test_tiny_rl_run(tiny, tmp_path):
    config = RLConfig(run=RunConfig(model=str(tiny), out=str(tmp_path / "rl"), generations=1, tasks_per_generation=2,
                                    sizes="4", samples_per_task=2, heldout_per_size=1, max_new_tokens=30,
                                    progress=False, threads=1), rl_epochs=1)
    metrics = train(config)
    assert [m["generation"] for m in metrics] == [0, 1]
    from itdeploy_lite.curate import read_jsonl

    for g in (0, 1):  # the metric is the validator's verdict on the greedy held-out completions written
        evaluated = read_jsonl(tmp_path / "rl" / f"gen_{g:02d}" / "eval.jsonl")
        assert len(evaluated) == len(metrics[g]["heldout_solved_by_size"])  # heldout_per_size=1 per size
        assert metrics[g]["heldout_solved_fraction"] == round(sum(r["valid"] for r in evaluated) / len(evaluated), 4)
    update = metrics[1]["finetune"]  # the update behind generation 1: one step per minibatch of traces with A != 0
    assert metrics[0]["finetune"] is None and update["steps"] == -(-update["rows"] // config.rl_minibatch) * config.rl_epochs
    assert (tmp_path / "rl" / "gen_01" / "adapter" / "adapter_config.json").is_file()


def test_tiny_trl_run(tiny, tmp_path):
    from itdeploy_lite.rl import train_trl

    config = RLConfig(run=RunConfig(model=str(tiny), out=str(tmp_path / "trl"), generations=1, tasks_per_generation=2,
                                    sizes="4", samples_per_task=2, heldout_per_size=1, max_new_tokens=30,
                                    progress=False, threads=1), rl_epochs=1, rl_minibatch=4, trl=True)
    metrics = train_trl(config)
    assert [m["generation"] for m in metrics] == [0, 1]
    assert metrics[1]["finetune"]["steps"] == 1
    assert (tmp_path / "trl" / "gen_01" / "adapter" / "adapter_config.json").is_file()
