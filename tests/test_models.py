"""The embedded model: tokenizer coverage and round trip, model save/load with Auto* classes, prompt format."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from itdeploy_lite.deploy import as_tasks
from itdeploy_lite.models import ModelConfig, build_model, build_tokenizer, load_embedded, plan_trace, save_embedded
from itdeploy_lite.planning import breadth_first_search, validate
from itdeploy_lite.planning.generators import generate_problems
from itdeploy_lite.models.tokenizer import vocabulary
from itdeploy_lite.planning.domains import BUILTIN_DOMAINS, domain_path
from itdeploy_lite.planning.generators.splits import SPLITS, make_pool, make_split
from itdeploy_lite.planning.pddl_io import parse_domain_text
from itdeploy_lite.prompts import completion_plan_text, plan_completion, task_prompt

TINY = ModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
DOMAINS = BUILTIN_DOMAINS  # the first four and the seven other learning-track domains


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


def _texts(problem):
    (_, task), = as_tasks([problem])
    return task, task_prompt(task), plan_completion(problem.witness_plan, task, trace="delta")


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_split_name_is_a_token_and_text_round_trips(tokenizer, domain):
    problems = [p for split in SPLITS[domain] for p in make_split(domain, split, per_size=2)]
    problems += make_pool(domain, 2)
    for problem in problems:
        _, prompt, completion = _texts(problem)
        ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
        assert tokenizer.unk_token_id not in ids, problem.name
        assert tokenizer.decode(ids) == prompt + completion


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_action_predicate_and_constant_of_the_domain_file_is_a_token(tokenizer, domain):
    parsed = parse_domain_text(domain_path(domain).read_text(), domain)
    names = [a.name for a in parsed.actions] + [p.name for p in parsed.predicates]
    names += [str(c) for c in getattr(parsed, "constants", [])]
    assert names
    for name in names:
        assert tokenizer.convert_tokens_to_ids(name) != tokenizer.unk_token_id, (domain, name)
        assert tokenizer.convert_tokens_to_ids(" " + name) != tokenizer.unk_token_id, (domain, name)


@pytest.mark.parametrize("shipped", ["blocksworld", "rovers", "sokoban-800steps"])
def test_a_checkpoint_trained_before_the_vocabulary_grew_keeps_its_ids(shipped):
    """The vocabulary only grows at its end: the older checkpoints' tokenizers are a prefix of it."""
    _, old = load_embedded(shipped)
    old_tokens = sorted(old.get_vocab(), key=old.get_vocab().get)
    assert vocabulary()[:len(old_tokens)] == old_tokens
    assert len(vocabulary()) > len(old_tokens)  # the seven other domains' names came after


@pytest.mark.parametrize("shipped", ["ferry", "miconic", "sokoban", "sokoban-stage2"])
def test_a_checkpoint_trained_after_the_vocabulary_grew_has_all_of_it(shipped):
    _, tokenizer = load_embedded(shipped)
    assert sorted(tokenizer.get_vocab(), key=tokenizer.get_vocab().get) == vocabulary()


def test_one_token_per_word_and_parenthesis(tokenizer):
    tokens = tokenizer.tokenize("(stack b1 b10)\n")
    assert tokens == ["(", "stack", " b1", " b10", ")", "\n"]
    assert tokenizer("(pick-up b1)\n</s>", add_special_tokens=False)["input_ids"][-1] == tokenizer.eos_token_id


def test_model_and_tokenizer_load_with_auto_classes(tmp_path, tokenizer):
    torch.manual_seed(0)
    model = build_model(tokenizer, ModelConfig(**{**TINY.__dict__, "plan_trace": "delta"}))
    save_embedded(model, tokenizer, tmp_path)
    again = AutoModelForCausalLM.from_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert tok.padding_side == "left" and tok.pad_token == "<pad>" and len(tok) == len(tokenizer)
    x = torch.tensor([[5, 6, 7]])
    assert torch.allclose(model(x).logits, again(x).logits)
    m2, t2 = load_embedded(tmp_path)
    assert plan_trace(m2) == "delta" and not m2.training and t2.decode(t2("(on b1 b2)")["input_ids"]) == "(on b1 b2)"


def test_load_embedded_unknown_name_lists_shipped(tmp_path):
    with pytest.raises(FileNotFoundError, match="no embedded model"):
        load_embedded("no-such-model")


def test_build_model_rejects_bad_shape(tokenizer):
    with pytest.raises(ValueError):
        build_model(tokenizer, ModelConfig(hidden_size=30, num_heads=4))


@pytest.mark.parametrize("trace", ["none", "delta"])
@pytest.mark.parametrize("domain,size", [
    ("blocksworld", {"blocks": 4, "name_pool": 10}),
    ("rovers", {"rovers": 1, "waypoints": 4, "cameras": 1, "objectives": 1}),
    ("sokoban", {"grid": 5, "boxes": 1, "walls": 3}),
])
def test_completion_of_bfs_plan_validates(domain, size, trace):
    for problem in generate_problems(domain, size, 3, seed=1):
        (_, task), = as_tasks([problem])
        plan = breadth_first_search(task)
        completion = plan_completion(plan, task, trace=trace)
        assert completion.endswith("</s>") and completion.count("\n") == len(plan)
        result = validate(task, completion_plan_text(completion))
        assert result.valid and result.plan_length == len(plan)
        assert list(result.plan) == [str(a) for a in plan]


def test_prompt_is_compact_and_deterministic():
    problem = generate_problems("sokoban", {"grid": 5, "boxes": 1, "walls": 3}, 1, seed=0)[0]
    (_, task), = as_tasks([problem])
    prompt = task_prompt(task)
    assert prompt == task_prompt(problem)  # Task or GeneratedProblem
    assert prompt.startswith("init: (") and prompt.endswith("\nplan:\n") and "adjacent" not in prompt


def test_completion_plan_text_cuts_at_end_token():
    assert completion_plan_text("(a)\n(b)\n</s>(c)\n<pad>") == "(a)\n(b)\n"
    assert plan_completion(["(a x)", "(b)"]) == "(a x)\n(b)\n</s>"
    with pytest.raises(ValueError):
        plan_completion(["(a)"], trace="delta")
