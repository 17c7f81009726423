"""The refill decoder: same greedy completions as model.generate, budgets and end tokens, the sampler's law."""

import pytest
import torch

from itdeploy_lite.decode import decode, next_tokens
from itdeploy_lite.deploy import sample_completions
from itdeploy_lite.formats import token_budget
from itdeploy_lite.config import RunConfig
from itdeploy_lite.task_sets import pool_tasks
from itdeploy_lite.models import ModelConfig, build_model, build_tokenizer, load_embedded
from itdeploy_lite.prompts import task_prompt

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def shipped():
    model, tokenizer = load_embedded("blocksworld")
    tasks = pool_tasks(RunConfig(tasks_per_generation=24), set())  # 3 tasks each of 3..10 blocks
    return model, tokenizer, [task_prompt(t.task) for t in tasks], [token_budget(t.task) for t in tasks]


def test_greedy_refill_equals_generate_whatever_the_batch(shipped):
    model, tokenizer, prompts, budgets = shipped
    reference = sample_completions(model, tokenizer, prompts, budgets, temperature=0.0, batch_size=24,
                                   progress=False, engine="generate")
    for batch_size in (5, 24):  # 5: rows leave and join the batch many times, with other prompt lengths
        refill = sample_completions(model, tokenizer, prompts, budgets, temperature=0.0, batch_size=batch_size,
                                    progress=False, engine="refill")
        assert refill == reference
    assert sum(row[0]["ended"] for row in reference) >= 20  # the shipped model writes its end token


def test_samples_of_one_prompt_share_its_prefill_and_match_a_lone_decode(shipped):
    """k copies of a prompt are prefilled once and their cache rows copied: greedy, every copy must write
    what a lone decode of the prompt writes, whatever the batch (7: copies split across refills)."""
    model, tokenizer, prompts, budgets = shipped
    reference = sample_completions(model, tokenizer, prompts, budgets, temperature=0.0, batch_size=24,
                                   progress=False, engine="generate")
    for batch_size in (7, 72):
        shared = sample_completions(model, tokenizer, prompts, budgets, k=3, temperature=0.0, batch_size=batch_size,
                                    progress=False, engine="refill")
        assert shared == [[row[0]] * 3 for row in reference]


def test_rows_stop_at_their_budget_or_end_token_and_never_sample_suppressed_tokens():
    tokenizer = build_tokenizer()
    torch.manual_seed(0)
    model = build_model(tokenizer, ModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64))
    model.eval()
    prompts = [tokenizer("init: (handempty)\ngoal: (clear b1)\nplan:\n" * n, add_special_tokens=False)["input_ids"]
               for n in (1, 2, 3, 1, 2)]
    budgets = [3, 9, 1, 20, 6]
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    banned = [pad, tokenizer.unk_token_id, tokenizer.bos_token_id]
    out = decode(model, prompts, budgets, [eos], pad, temperature=3.0, batch_size=2, seed=1, suppress=banned)
    for ids, budget in zip(out, budgets):
        assert 1 <= len(ids) <= budget
        assert eos not in ids[:-1] and (ids[-1] == eos or len(ids) == budget)
        assert not set(ids) & set(banned)
    assert out == decode(model, prompts, budgets, [eos], pad, temperature=3.0, batch_size=2, seed=1, suppress=banned)
    with pytest.raises(ValueError, match="budgets"):
        decode(model, prompts, budgets[:2], [eos], pad)


def test_next_tokens_follow_the_tempered_nucleus_distribution():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(20_000, 1)
    generator = torch.Generator().manual_seed(0)
    counts = torch.bincount(next_tokens(logits.clone(), 1.0, 1.0, generator), minlength=4) / 20_000
    assert torch.allclose(counts, torch.tensor([0.5, 0.3, 0.15, 0.05]), atol=0.015)
    nucleus = torch.bincount(next_tokens(logits.clone(), 1.0, 0.7, generator), minlength=4) / 20_000
    assert nucleus[2:].sum() == 0 and abs(nucleus[0] - 0.5 / 0.8) < 0.015  # {0, 1} reach 0.7; renormalised
    hot = torch.bincount(next_tokens(logits.clone(), 2.0, 1.0, generator), minlength=4) / 20_000
    expected = torch.softmax(logits[0] / 2.0, -1)
    assert torch.allclose(hot, expected, atol=0.015)
    assert next_tokens(logits[:1].clone(), 0.0, 1.0, generator).item() == 0
    assert next_tokens(logits[:1].clone(), 0.0, 1.0, generator, torch.tensor([0])).item() == 1


def test_copy_only_tokens_are_written_only_where_the_prompt_holds_them():
    """The task-objects rule: an object token absent from a row's prompt is never sampled in that row, even
    at a temperature where the untrained model names any object; without the rule it names foreign ones."""
    from itdeploy_lite.models.tokenizer import object_token_ids

    tokenizer = build_tokenizer()
    torch.manual_seed(0)
    model = build_model(tokenizer, ModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64))
    model.eval()
    texts = ["init: (clear b1) (clear b2)\ngoal: (on b1 b2)\nplan:\n", "init: (clear b7)\ngoal: (clear b7)\nplan:\n",
             "init: (at rover0 waypoint3)\ngoal: (at rover0 waypoint1)\nplan:\n"]
    prompts = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts] * 4
    objects = set(object_token_ids(tokenizer))
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    args = (model, prompts, [40] * len(prompts), [eos], pad)
    ruled = decode(*args, temperature=3.0, batch_size=5, seed=2, copy_only=sorted(objects))
    free = decode(*args, temperature=3.0, batch_size=5, seed=2)
    for prompt, ids in zip(prompts, ruled):
        assert set(ids) & objects <= set(prompt)
    assert any(set(ids) & objects - set(prompt) for prompt, ids in zip(prompts, free))
    assert ruled == decode(*args, temperature=3.0, batch_size=5, seed=2, copy_only=sorted(objects))
