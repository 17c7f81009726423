"""Generation-0 pretraining on a tiny config: runs in seconds, reproducible with a seed, saves a loadable folder."""

import json

import pytest

from itdeploy_lite.models import ModelConfig, load_embedded
from itdeploy_lite.pretrain import PretrainConfig, excluded_keys, pretrain, reference_corpus

TINY = PretrainConfig(n_problems=40, steps=4, batch_size=4, warmup_steps=2, eval_per_size=0,
                      model=ModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64),
                      out_dir="", progress=False)


def test_corpus_is_seeded_and_avoids_project_splits():
    rows = reference_corpus(TINY)
    assert rows == reference_corpus(TINY)
    assert len({r["prompt"] for r in rows}) == 40
    assert all(r["completion"].endswith("</s>") and r["size"]["blocks"] in (3, 4, 5) for r in rows)
    assert len(excluded_keys("blocksworld")) > 1000


def test_pretrain_is_reproducible_and_saves(tmp_path):
    a = pretrain(TINY)
    b = pretrain(TINY)
    assert a["loss_log"][-1]["loss"] == b["loss_log"][-1]["loss"]
    config = PretrainConfig(**{**TINY.__dict__, "out_dir": str(tmp_path), "eval_per_size": 1, "eval_split": "dev",
                               "eval_sizes": [{"blocks": 3, "name_pool": 10}]})
    metrics = pretrain(config)
    model, tokenizer = load_embedded(tmp_path)
    assert "b3p10" in metrics["eval"] and (tmp_path / "MODEL_CARD.md").is_file()
    assert json.loads((tmp_path / "metrics.json").read_text())["n_problems"] == 40


def test_excluded_keys_of_a_domain_whose_smallest_size_has_fewer_than_200_tasks():
    """Floortile's 1 x 3 grid holds 96 distinct tasks: the exclusion set still holds its first 50."""
    from itdeploy_lite.planning.generators import generate_problems
    from itdeploy_lite.pretrain import DEFAULT_SIZES, SMALL_EVAL_SEED, excluded_keys

    tiny = DEFAULT_SIZES["floortile"][0]
    keys = excluded_keys("floortile")
    assert {p.key for p in generate_problems("floortile", tiny, 50, seed=SMALL_EVAL_SEED)} <= keys


def test_pretraining_never_sees_a_deployment_pool_task():
    """Generation 0 is scored on the pool: its tasks are excluded like the held-out ones. Ferry's pool
    starts at a pretraining size (2 cars, 4 locations), where the shipped corpus had held 3 pool tasks."""
    from itdeploy_lite.config import RunConfig
    from itdeploy_lite.task_sets import heldout_tasks, pool_tasks

    config = RunConfig(domain="ferry")
    pool = {t.key for t in pool_tasks(config, {t.key for t in heldout_tasks(config)})}
    assert len(pool) == 600 and pool <= excluded_keys("ferry")


def test_model_card_command_names_a_non_default_width():
    """The card's command must rebuild the same model: a non-default ``--hidden-size`` / ``--layers``
    appears in it (the 4.5 M Rovers card once lacked ``--hidden-size 256``), the defaults do not."""
    from dataclasses import asdict

    from itdeploy_lite.models import ModelConfig
    from itdeploy_lite.pretrain import PretrainConfig, model_card

    def card(model: ModelConfig) -> str:
        config = asdict(PretrainConfig(domain="rovers", model=model))
        metrics = {"config": config, "parameters": 1, "n_problems": 10, "mean_plan_length": 7.0, "mean_tokens": 200.0, "steps": 10,
                   "final_loss": 0.1, "seconds_data": 1.0, "seconds_train": 1.0, "eval": {}}
        return model_card(metrics)

    wide = card(ModelConfig(hidden_size=256, num_layers=6, intermediate_size=1024))
    assert "--hidden-size 256 --layers 6" in wide
    assert "--hidden-size" not in card(ModelConfig()) and "--layers" not in card(ModelConfig())
    assert "--untied-embeddings" in card(ModelConfig(tie_embeddings=False))
    assert "--untied-embeddings" not in card(ModelConfig())
    assert "MLP 512, untied embeddings" in card(ModelConfig(tie_embeddings=False))  # the shape line says it too
    assert "MLP 512, tied embeddings" in card(ModelConfig())


def test_untied_embeddings_save_and_load_as_two_matrices(tmp_path):
    """``--untied-embeddings``: the output embedding is its own matrix, and it survives a save and load."""
    import torch

    untied = ModelConfig(**{**TINY.model.__dict__, "tie_embeddings": False})
    pretrain(PretrainConfig(**{**TINY.__dict__, "model": untied, "out_dir": str(tmp_path)}))
    model, _ = load_embedded(tmp_path)
    inputs, outputs = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    assert inputs.data_ptr() != outputs.data_ptr() and not torch.equal(inputs, outputs)
    assert model.config.tie_word_embeddings is False


def test_a_second_stage_continues_the_checkpoint_with_its_shape(tmp_path):
    """``init_from``: the weights of a checkpoint are trained on, not a fresh model; its shape wins over the
    given ``model``; the card says so; a missing checkpoint fails before any corpus is generated."""
    first = PretrainConfig(**{**TINY.__dict__, "steps": 8, "out_dir": str(tmp_path / "stage1")})
    pretrain(first)
    fresh = pretrain(PretrainConfig(**{**TINY.__dict__, "seed": 1, "steps": 8}))
    second = PretrainConfig(**{**TINY.__dict__, "seed": 1, "steps": 8, "init_from": str(tmp_path / "stage1"),
                               "model": ModelConfig(), "out_dir": str(tmp_path / "stage2")})
    metrics = pretrain(second)
    assert metrics["config"]["model"]["hidden_size"] == 32  # the checkpoint's, not ModelConfig()'s 128
    assert metrics["loss_log"][-1]["loss"] < fresh["loss_log"][-1]["loss"]
    card = (tmp_path / "stage2" / "MODEL_CARD.md").read_text()
    assert "second stage" in card and f"--init-from {tmp_path / 'stage1'}" in card and "--hidden-size" not in card
    with pytest.raises(FileNotFoundError, match="no embedded model"):
        pretrain(PretrainConfig(**{**TINY.__dict__, "init_from": str(tmp_path / "missing")}))
