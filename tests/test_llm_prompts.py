"""PDDL prompts for pretrained LLMs and plan extraction (itdeploy_lite.llm.prompts). Fast: no model."""

from __future__ import annotations

import pytest

from itdeploy_lite.llm.prompts import (
    INSTRUCTIONS,
    PLAN_END_TAG,
    PLAN_TAG,
    PROBLEM_TAG,
    Example,
    answer_text,
    build_prompt,
    clean_pddl,
    completion_end,
    domain_text,
    examples_from,
    extract_plan,
    plain_prompt,
    plan_messages,
    render_prompt,
    sft_row,
    split_reasoning,
)
from itdeploy_lite.planning import parse_task, validate
from itdeploy_lite.planning.generators import make_split


@pytest.fixture(scope="module")
def problems():
    return make_split("blocksworld", "pretrain", per_size=3)


@pytest.fixture(scope="module")
def chat_tokenizer(tmp_path_factory):
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    from transformers import AutoTokenizer

    from llm_tiny import build_tiny_llama

    folder = build_tiny_llama(tmp_path_factory.mktemp("tiny"), layers=1)
    return AutoTokenizer.from_pretrained(folder)


def test_domain_text_drops_comments_and_blank_lines():
    text = domain_text("blocksworld")
    assert text.startswith("(define (domain blocksworld)")
    assert ";" not in text and "\n\n" not in text
    assert clean_pddl("(a) ; note\n\n\n(b)  \n") == "(a)\n(b)"


def test_zero_shot_messages_hold_domain_instructions_and_problem(problems):
    messages = plan_messages(domain_text("blocksworld"), problems[0].pddl)
    assert [m["role"] for m in messages] == ["user"]
    content = messages[0]["content"]
    assert "(define (domain blocksworld)" in content and INSTRUCTIONS in content
    assert content.index(INSTRUCTIONS) < content.index(PROBLEM_TAG) < content.index("(define (problem")
    assert problems[0].name in content


def test_few_shot_examples_are_earlier_turns_and_never_the_asked_problem(problems):
    asked = problems[0]
    examples = examples_from(problems, 2, exclude=[asked.name])
    assert len(examples) == 2 and all(isinstance(e, Example) for e in examples)
    messages = plan_messages(domain_text("blocksworld"), asked.pddl, examples, system="Be brief.")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[2]["content"] == "\n".join(problems[1].witness_plan)
    # The domain and instructions come once, in the first user turn.
    assert sum("(define (domain" in m["content"] for m in messages) == 1
    assert asked.name in messages[-1]["content"]
    assert all(asked.name not in m["content"] for m in messages[:-1])


def test_plain_prompt_wraps_plans_and_ends_open(problems):
    examples = examples_from(problems[1:], 1)
    text = plain_prompt(plan_messages(domain_text("blocksworld"), problems[0].pddl, examples))
    assert text.endswith(f"{PLAN_TAG}\n")
    assert text.count(PLAN_END_TAG) == 1 and text.count(PLAN_TAG) == 2
    assert build_prompt(None, domain_text("blocksworld"), problems[0].pddl, examples) == text


def test_chat_template_is_applied_with_generation_prompt(chat_tokenizer, problems):
    text = build_prompt(chat_tokenizer, domain_text("blocksworld"), problems[0].pddl, examples_from(problems[1:], 1))
    assert text.startswith("<|im_start|>user\n")
    assert text.count("<|im_start|>assistant\n") == 2  # one example answer, then the open turn
    assert text.endswith("<|im_start|>assistant\n")


def test_thinking_flag_reaches_the_template(chat_tokenizer):
    template = chat_tokenizer.chat_template
    try:
        chat_tokenizer.chat_template = template + "{% if enable_thinking is defined and not enable_thinking %}<think>\n\n</think>\n\n{% endif %}"
        messages = [{"role": "user", "content": "x"}]
        assert render_prompt(chat_tokenizer, messages, thinking=False).endswith("</think>\n\n")
        assert "<think>" not in render_prompt(chat_tokenizer, messages, thinking=True)
        assert "<think>" not in render_prompt(chat_tokenizer, messages)
    finally:
        chat_tokenizer.chat_template = template


def test_sft_row_completion_ends_with_the_turn_end(chat_tokenizer, problems):
    p = problems[0]
    row = sft_row(chat_tokenizer, domain_text("blocksworld"), p.pddl, p.witness_plan)
    assert row["completion"] == "\n".join(p.witness_plan) + "\n<|im_end|>"
    assert completion_end(chat_tokenizer) == "<|im_end|>"
    plain = sft_row(None, domain_text("blocksworld"), p.pddl, p.witness_plan)
    assert plain["prompt"].endswith(PLAN_TAG + "\n") and plain["completion"].endswith(PLAN_END_TAG)
    assert extract_plan(plain["completion"]) == list(p.witness_plan)


@pytest.mark.parametrize(
    "text, reasoning, answer",
    [
        ("<think>a\nb</think>\n(x)", "a\nb", "\n(x)"),
        ("a\nb</think>(x)", "a\nb", "(x)"),  # the template opened <think> in the prompt
        ("<think>still thinking (x)", "still thinking (x)", ""),  # ran out of tokens
        ("(x)\n(y)", "", "(x)\n(y)"),
        ("<THINK>r</THINK>(x)", "r", "(x)"),
    ],
)
def test_split_reasoning(text, reasoning, answer):
    assert split_reasoning(text) == (reasoning, answer)


@pytest.mark.parametrize(
    "completion",
    [
        "(unstack b5 b4)\n(put-down b5)",
        "<think>\nFirst (pick-up b2)? No.\n</think>\n\n(unstack b5 b4)\n(put-down b5)",
        "Okay, b5 is on b4.</think>\nHere is the plan:\n```pddl\n1. (unstack b5 b4)\n2. (put-down b5)\n```\nDone.",
        "Step 1: (UNSTACK b5 b4)\nStep 2: (put-down b5)\n[PLAN END]\n\n[PROBLEM]\n(define (problem other))\n(pick-up b2)",
        "- (unstack b5 b4)\n- (put-down b5)\n<|im_end|>",
    ],
)
def test_extract_and_validate_plans_from_free_text(problems, completion):
    p = problems[0]
    assert list(p.witness_plan) == ["(unstack b5 b4)", "(put-down b5)"]
    assert extract_plan(completion) == list(p.witness_plan)
    task = parse_task(domain_text("blocksworld"), p.pddl)
    assert validate(task, answer_text(completion)).valid


def test_a_plan_only_inside_the_reasoning_is_no_plan(problems):
    p = problems[0]
    completion = "<think>(unstack b5 b4)\n(put-down b5)"
    assert extract_plan(completion) == []
    assert not validate(parse_task(domain_text("blocksworld"), p.pddl), answer_text(completion)).valid


def test_rambling_after_plan_end_is_ignored_but_a_bad_step_before_it_is_not(problems):
    p = problems[0]
    task = parse_task(domain_text("blocksworld"), p.pddl)
    good = "(unstack b5 b4)\n(put-down b5)\n[PLAN END]\n(stack b5 b9 b9)"
    bad = "(unstack b5 b4)\n(put-down b5\n[PLAN END]"
    assert validate(task, answer_text(good)).valid
    result = validate(task, answer_text(bad))
    assert not result.valid and "put-down b5" in result.reason
