"""LoRA fine-tuning with TRL's SFTTrainer on prompt/completion rows (a tiny model, a few steps)."""

from __future__ import annotations

import json

import pytest

from itdeploy_lite.curate import to_dataset
from itdeploy_lite.finetune import FinetuneConfig, finetune, load_model

from tiny_model import build_tiny, example_rows

pytestmark = pytest.mark.usefixtures("one_thread")

FAST = FinetuneConfig(min_steps=30, train_batch_size=8, learning_rate=1e-2)



@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("base") / "model")


def completion_loss(model, tokenizer, rows):
    """Mean loss on the completion tokens only."""
    import torch

    total, count = 0.0, 0
    for row in rows:
        p = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
        c = tokenizer(row["completion"], add_special_tokens=False)["input_ids"]
        ids = torch.tensor([p + c])
        labels = torch.tensor([[-100] * len(p) + c])
        with torch.no_grad():
            total += model(input_ids=ids, labels=labels).loss.item() * len(c)
        count += len(c)
    return total / count


def test_lora_learns_the_completions_and_saves_an_adapter(base, tmp_path):
    rows = example_rows(16)
    before = completion_loss(*load_model(base), rows)
    stats = finetune(base, to_dataset(rows), FAST, tmp_path / "adapter", seed=0)
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    assert not (tmp_path / "adapter.tmp").exists()
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["r"] == FAST.lora_r and config["lora_alpha"] == FAST.lora_alpha
    assert stats["steps"] == 30 and stats["rows"] == 16 and stats["trainable_parameters"] > 0
    model, tokenizer = load_model(base, tmp_path / "adapter")
    after = completion_loss(model, tokenizer, rows)
    assert after < 0.7 * before, (before, after)


def test_continue_from_previous_adapter_and_same_seed_same_weights(base, tmp_path):
    import torch
    from safetensors.torch import load_file

    data = to_dataset(example_rows(8))
    short = FinetuneConfig(min_steps=3, train_batch_size=4)
    finetune(base, data, short, tmp_path / "a", seed=1)
    finetune(base, data, short, tmp_path / "b", seed=1)
    a = load_file(tmp_path / "a" / "adapter_model.safetensors")
    b = load_file(tmp_path / "b" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    finetune(base, data, short, tmp_path / "c", init_adapter=tmp_path / "a", seed=1)
    c = load_file(tmp_path / "c" / "adapter_model.safetensors")
    assert c.keys() == a.keys() and any(not torch.equal(a[k], c[k]) for k in a)


def test_steps_rule():
    config = FinetuneConfig(epochs=2, min_steps=10, train_batch_size=32)
    assert config.steps(16) == 10  # 2 epochs of 16 rows is one step: min_steps wins
    assert config.steps(320) == 20
    assert FinetuneConfig(epochs=2, min_steps=0, max_steps=5, train_batch_size=32).steps(320) == 5


def test_rows_per_step_count_every_ddp_process():
    config = FinetuneConfig(epochs=2, min_steps=0, train_batch_size=8, gradient_accumulation_steps=4)
    assert config.steps(320) == 20 and config.steps(320, processes=4) == 5  # 8 x 4 x 4 GPUs = 128 rows a step


@pytest.mark.slow
def test_two_ddp_processes_under_accelerate_launch_train_one_adapter(base, tmp_path):
    from itdeploy_lite.finetune_job import launch_command, run_job

    rows = example_rows(16)
    config = FinetuneConfig(min_steps=0, epochs=4, train_batch_size=4, learning_rate=1e-2)
    before = completion_loss(*load_model(base), rows)
    stats = run_job("hf", False, base, to_dataset(rows), config, tmp_path / "adapter", processes=2, seed=0,
                    log_file=tmp_path / "trainer_log.jsonl", cpu=True, timeout=600)
    assert stats["processes"] == 2 and stats["rows"] == 16
    assert stats["steps"] == 8  # 4 epochs x 16 rows / (4 rows x 2 processes)
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file() and not (tmp_path / "adapter.tmp").exists()
    assert [json.loads(line)["step"] for line in (tmp_path / "trainer_log.jsonl").read_text().splitlines()][-1] == 8
    after = completion_loss(*load_model(base, tmp_path / "adapter"), rows)
    assert after < 0.8 * before, (before, after)
    assert "--multi_gpu" in launch_command("job.json", 4) and "--cpu" not in launch_command("job.json", 4)


def test_bad_input_is_named(base, tmp_path):
    with pytest.raises(ValueError, match="empty"):
        finetune(base, to_dataset([]), FAST, tmp_path / "x")
    from datasets import Dataset

    with pytest.raises(ValueError, match=r"lacks column\(s\) \['completion'\]"):
        finetune(base, Dataset.from_dict({"prompt": ["a"]}), FAST, tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="base model folder not found"):
        finetune(tmp_path / "nope", to_dataset(example_rows(2)), FAST, tmp_path / "x")
    with pytest.raises(ValueError, match="lora_r must be > 0"):
        finetune(base, to_dataset(example_rows(2)), FinetuneConfig(lora_r=0), tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="adapter to continue from"):
        finetune(base, to_dataset(example_rows(2)), FAST, tmp_path / "x", init_adapter=tmp_path / "none")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("progress", [False, True])
def test_trainer_logs_go_to_the_log_file_not_the_terminal(base, tmp_path, capfd, progress):
    """``itdeploy run`` shows progress bars and its table only: the loss dictionaries TRL's callbacks
    print go to ``log_file`` (``gen_XX/trainer_log.jsonl`` in a run), with a progress bar or without."""
    log = tmp_path / "trainer_log.jsonl"
    finetune(base, to_dataset(example_rows(8)), FinetuneConfig(min_steps=4, max_steps=4, train_batch_size=4),
             tmp_path / "adapter", seed=0, progress=progress, log_file=log)
    printed = capfd.readouterr()
    assert "'loss'" not in printed.out + printed.err and "train_runtime" not in printed.out + printed.err
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3, 4] and "train_runtime" in rows[-1]
