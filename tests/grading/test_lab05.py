"""Grading lab 05 (fine-tuning): LoRA parameter counts, completion-only labels, the shifted completion loss.

References: PEFT's trainable parameters of ``LoraConfig(target_modules="all-linear")`` on Llama and Qwen3
shells built on the meta device (grouped-query attention, an explicit ``head_dim``); TRL's ``SFTTrainer``
tokenized dataset (``input_ids``/``labels``, truncation, rows dropped when no completion token is left);
transformers' causal-LM loss. Edge cases: rank 0, configs without ``num_key_value_heads``/``head_dim``,
truncation inside the prompt, padding labels in a batch.
"""

from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def lab(load_lab):
    return load_lab("05")


# --- exercise 1: LoRA parameter counts ------------------------------------------------------------------------
@pytest.mark.exercise("lora_parameter_count")
@pytest.mark.parametrize("d_in, d_out, r, expected", [(128, 128, 16, 4096), (10, 20, 1, 30), (512, 128, 8, 5120),
                                                       (64, 64, 0, 0)])
def test_lora_parameter_count(lab, d_in, d_out, r, expected):
    assert lab.lora_parameter_count(d_in, d_out, r) == expected


def _peft_trainable(config, r: int) -> int:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        shell = AutoModelForCausalLM.from_config(config)
    model = get_peft_model(shell, LoraConfig(r=r, lora_alpha=2 * r, target_modules="all-linear"))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


CONFIGS = [
    ("llama", dict(hidden_size=128, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
                   num_key_value_heads=4, vocab_size=442)),
    ("llama", dict(hidden_size=96, intermediate_size=200, num_hidden_layers=3, num_attention_heads=6,
                   num_key_value_heads=2, vocab_size=100)),
    ("llama", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=1, head_dim=32, vocab_size=50)),
    ("qwen3", dict(hidden_size=80, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2, head_dim=24, vocab_size=64)),
]


@pytest.mark.exercise("llama_lora_parameters")
@pytest.mark.parametrize("index", range(len(CONFIGS)))
@pytest.mark.parametrize("r", [1, 4, 16])
def test_llama_lora_parameters_match_peft(lab, index, r):
    from transformers import AutoConfig

    kind, fields = CONFIGS[index]
    config = AutoConfig.for_model(kind, **fields)
    assert lab.llama_lora_parameters(config, r) == _peft_trainable(config, r)


@pytest.mark.exercise("llama_lora_parameters")
def test_llama_lora_parameters_defaults_by_hand(lab):
    # no num_key_value_heads, head_dim None: kv heads = heads, head_dim = hidden / heads
    config = SimpleNamespace(hidden_size=8, intermediate_size=16, num_hidden_layers=2, num_attention_heads=2,
                             head_dim=None)
    per_layer = 4 * 2 * (8 + 8) + 2 * 2 * (8 + 16) + 2 * (16 + 8)
    assert lab.llama_lora_parameters(config, 2) == 2 * per_layer
    gqa = SimpleNamespace(hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=4,
                          num_key_value_heads=1, head_dim=4)
    # q: 8 -> 16, k, v: 8 -> 4, o: 16 -> 8, gate, up: 8 -> 16, down: 16 -> 8
    assert lab.llama_lora_parameters(gqa, 1) == (8 + 16) + 2 * (8 + 4) + (16 + 8) + 2 * (8 + 16) + (16 + 8)


# --- exercise 2: completion_labels ---------------------------------------------------------------------------
@pytest.mark.exercise("completion_labels")
def test_completion_labels_by_hand(lab):
    out = lab.completion_labels([1, 2, 3], [4, 5])
    assert out == {"input_ids": [1, 2, 3, 4, 5], "labels": [-100, -100, -100, 4, 5]}
    assert isinstance(out["input_ids"], list) and isinstance(out["labels"], list)
    assert lab.completion_labels([1, 2, 3], [4, 5], max_length=4) == {"input_ids": [1, 2, 3, 4], "labels": [-100, -100, -100, 4]}
    assert lab.completion_labels([1, 2, 3], [4, 5], max_length=5) == out
    assert lab.completion_labels([1, 2, 3], [4, 5], max_length=99) == out
    assert lab.completion_labels([1, 2, 3], [4, 5], max_length=3) is None  # no completion token left
    assert lab.completion_labels([1, 2, 3], [4, 5], max_length=1) is None
    assert lab.completion_labels([], [7]) == {"input_ids": [7], "labels": [7]}
    assert lab.completion_labels((1,), (2, 3)) == {"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}


@pytest.fixture(scope="module")
def embedded():
    from itdeploy_lite.models import load_embedded

    return load_embedded("blocksworld")


def _rows(n: int = 10) -> list[dict]:
    from itdeploy_lite.planning.generators import make_split
    from itdeploy_lite.prompts import plan_completion, task_prompt

    problems = make_split("blocksworld", "pretrain", per_size=n // 2)
    return [{"prompt": task_prompt(p), "completion": plan_completion(list(p.witness_plan))} for p in problems]


@pytest.mark.exercise("completion_labels")
@pytest.mark.parametrize("max_length", [30, 45, 1024])
def test_completion_labels_equal_trls_rows(lab, embedded, tmp_path, max_length):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model, tokenizer = embedded
    rows = _rows()
    trainer = SFTTrainer(model=model, processing_class=tokenizer, train_dataset=Dataset.from_list(rows),
                         args=SFTConfig(output_dir=str(tmp_path), max_length=max_length, use_cpu=True, report_to=[]))
    trl_rows = [{"input_ids": list(x["input_ids"]), "labels": list(x["labels"])} for x in trainer.train_dataset]
    mine = [lab.completion_labels(tokenizer(r["prompt"], add_special_tokens=False)["input_ids"],
                                  tokenizer(r["completion"], add_special_tokens=False)["input_ids"], max_length)
            for r in rows]
    assert [m for m in mine if m is not None] == trl_rows
    if max_length == 30:
        assert any(m is None for m in mine)  # prompts are ~25-40 tokens: some rows lose their whole completion


# --- exercise 3: completion_loss -----------------------------------------------------------------------------
@pytest.mark.exercise("completion_loss")
def test_completion_loss_uniform_logits_is_log_vocab(lab):
    logits = torch.zeros(2, 5, 7)
    labels = torch.tensor([[-100, -100, 3, 4, 1], [-100, 2, -100, -100, -100]])
    assert lab.completion_loss(logits, labels).item() == pytest.approx(torch.log(torch.tensor(7.0)).item(), rel=1e-6)


@pytest.mark.exercise("completion_loss")
def test_completion_loss_is_shifted_by_one(lab):
    # position t predicts label t + 1: put all mass on the right next token at positions 0..2
    labels = torch.tensor([[-100, 2, 0, 1]])
    logits = torch.full((1, 4, 3), -30.0)
    for t, nxt in enumerate([2, 0, 1]):
        logits[0, t, nxt] = 30.0
    assert lab.completion_loss(logits, labels).item() == pytest.approx(0.0, abs=1e-6)
    unshifted = torch.full((1, 4, 3), -30.0)
    for t, tok in enumerate([0, 2, 0, 1]):
        unshifted[0, t, tok] = 30.0
    assert lab.completion_loss(unshifted, labels).item() > 10.0


@pytest.mark.exercise("completion_loss")
def test_completion_loss_matches_transformers(lab):
    from transformers.loss.loss_utils import ForCausalLMLoss

    gen = torch.Generator().manual_seed(0)
    for batch, seq, vocab in [(1, 6, 11), (3, 9, 17), (4, 20, 50)]:
        logits = torch.randn(batch, seq, vocab, generator=gen) * 3
        labels = torch.randint(0, vocab, (batch, seq), generator=gen)
        labels[torch.rand(batch, seq, generator=gen) < 0.4] = -100
        labels[:, -1] = -100 if batch > 1 else labels[:, -1]  # padding at the end of some rows
        labels[0, 1] = 3  # at least one labelled position
        expected = ForCausalLMLoss(logits, labels, vocab_size=vocab)
        assert lab.completion_loss(logits, labels).item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.exercise("completion_loss")
def test_completion_loss_matches_the_embedded_models_loss(lab, embedded):
    model, tokenizer = embedded
    model.eval()
    row = _rows(2)[0]
    p = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
    c = tokenizer(row["completion"], add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p + c])
    labels = torch.tensor([[-100] * len(p) + c])
    with torch.no_grad():
        out = model(input_ids=ids, labels=labels)
    assert lab.completion_loss(out.logits, labels).item() == pytest.approx(out.loss.item(), rel=1e-5)
