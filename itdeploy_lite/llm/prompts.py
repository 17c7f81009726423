"""PDDL prompts for pretrained LLMs (PlanBench style), and the plan read back from what they write.

The embedded model has its own compact format (:mod:`itdeploy_lite.prompts`). A pretrained chat model
is instead shown the task as PDDL, as in PlanBench's PDDL prompts and the paper: the domain file, the
instructions, optionally a few solved problems of the same domain, then the problem to solve::

    Here is a planning domain in PDDL:

    (define (domain blocksworld) ...)

    Solve planning problems of this domain. A plan is the list of actions to execute, in order. Write
    each action on its own line in PDDL syntax, (action-name argument ...), and write nothing but the plan.

    [PROBLEM]
    (define (problem p1) ...)

Each solved example is a ``[PROBLEM]`` followed by its plan. With a chat template (every instruct
model) the examples are earlier conversation turns, the user giving a problem and the assistant
answering with its plan, and the tokenizer's template renders the conversation
(:func:`render_prompt`). Without one, the prompt is plain text in which each plan stands between
``[PLAN]`` and ``[PLAN END]`` and the prompt ends with ``[PLAN]``, so a base model continues with a plan.

Reading the answer (:func:`answer_text`, :func:`extract_plan`) drops ``<think>...</think>`` reasoning
(also when the template opened the block in the prompt) and anything after ``[PLAN END]``; the rest is
the planning core's lenient plan parser (:func:`itdeploy_lite.planning.parse_plan`), which already
skips prose, code fences, numbering and bullets. :func:`~itdeploy_lite.planning.validate` takes the
answer text as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from itdeploy_lite.planning import PlanStep, domain_path, parse_plan

INSTRUCTIONS = (
    "Solve planning problems of this domain. A plan is the list of actions to execute, in order. Write each "
    "action on its own line in PDDL syntax, (action-name argument ...), and write nothing but the plan."
)
PROBLEM_TAG = "[PROBLEM]"
PLAN_TAG = "[PLAN]"
PLAN_END_TAG = "[PLAN END]"

_COMMENT = re.compile(r";[^\n]*")
_BLANKS = re.compile(r"\n\s*\n+")
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_PLAN_END = re.compile(re.escape(PLAN_END_TAG), re.IGNORECASE)


@dataclass(frozen=True)
class Example:
    """A solved problem shown to the model: the problem's PDDL and a valid plan (one step a string)."""

    problem_pddl: str
    plan: tuple[str, ...]


def clean_pddl(text: str) -> str:
    """PDDL without ``;`` comments, trailing spaces and blank-line runs (fewer tokens, same meaning)."""
    text = _COMMENT.sub("", text)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANKS.sub("\n", "\n".join(line for line in lines if line.strip()))


def domain_text(domain: str | Path) -> str:
    """The cleaned PDDL text of a built-in domain (``"blocksworld"``...) or of a domain file."""
    return clean_pddl(domain_path(domain).read_text(encoding="utf-8"))


def examples_from(problems: Iterable, k: int, exclude: Iterable[str] = ()) -> list[Example]:
    """Up to ``k`` solved examples from generated problems that carry witness plans.

    Args:
        problems: :class:`~itdeploy_lite.planning.generators.GeneratedProblem` objects (or anything with
            ``name``, ``pddl`` and ``witness_plan``), e.g. ``make_split("blocksworld", "pretrain")``.
        k: how many examples to take, in order.
        exclude: problem names never to use (the problem being asked, so it is not answered in the prompt).
    """
    skip = set(exclude)
    out = []
    for problem in problems:
        if len(out) >= k:
            break
        if problem.name in skip or not problem.witness_plan:
            continue
        out.append(Example(clean_pddl(problem.pddl), tuple(problem.witness_plan)))
    return out


def _plan_lines(plan: Sequence[str]) -> str:
    return "\n".join(str(step).strip() for step in plan)


def plan_messages(domain_pddl: str, problem_pddl: str, examples: Sequence[Example] = (),
                  instructions: str = INSTRUCTIONS, system: str | None = None) -> list[dict]:
    """The prompt as chat messages: examples as earlier user/assistant turns, the problem last.

    Args:
        domain_pddl: the domain's PDDL text (see :func:`domain_text`).
        problem_pddl: the problem's PDDL text.
        examples: solved problems of the same domain (few-shot); none for zero-shot.
        instructions: what to write and how (default :data:`INSTRUCTIONS`).
        system: an optional system message (None keeps the template's default, if it has one).

    Returns:
        ``[{"role": ..., "content": ...}, ...]`` ending with the user's problem.
    """
    head = f"Here is a planning domain in PDDL:\n\n{clean_pddl(domain_pddl)}\n\n{instructions}\n\n"
    messages = [{"role": "system", "content": system}] if system else []
    for example in examples:
        messages.append({"role": "user", "content": f"{head}{PROBLEM_TAG}\n{example.problem_pddl}"})
        messages.append({"role": "assistant", "content": _plan_lines(example.plan)})
        head = ""
    messages.append({"role": "user", "content": f"{head}{PROBLEM_TAG}\n{clean_pddl(problem_pddl)}"})
    return messages


def plain_prompt(messages: Sequence[dict]) -> str:
    """Messages as plain text for a model without a chat template; the text ends with ``[PLAN]``.

    Each assistant plan is wrapped in ``[PLAN]`` ... ``[PLAN END]`` (PlanBench's layout), so the model
    learns where a plan ends and :func:`answer_text` can cut what it writes after it.
    """
    parts = []
    for message in messages:
        if message["role"] == "assistant":
            parts.append(f"{PLAN_TAG}\n{message['content']}\n{PLAN_END_TAG}\n\n")
        else:
            parts.append(message["content"].rstrip() + "\n")
    return "".join(parts) + PLAN_TAG + "\n"


def has_chat_template(tokenizer) -> bool:
    """True if the tokenizer carries a chat template."""
    return bool(getattr(tokenizer, "chat_template", None))


def render_prompt(tokenizer, messages: Sequence[dict], thinking: bool | None = None) -> str:
    """The prompt string the model sees: the tokenizer's chat template with the generation prompt
    (assistant turn opened), or :func:`plain_prompt` when there is no template.

    Args:
        tokenizer: a Hugging Face tokenizer (or None for plain text).
        messages: from :func:`plan_messages`.
        thinking: for hybrid thinking models (Qwen3), passed to the template as ``enable_thinking``;
            None leaves the template's default. Templates that do not know it ignore it.
    """
    if tokenizer is None or not has_chat_template(tokenizer):
        return plain_prompt(messages)
    extra = {} if thinking is None else {"enable_thinking": bool(thinking)}
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True, **extra)


def build_prompt(tokenizer, domain_pddl: str, problem_pddl: str, examples: Sequence[Example] = (),
                 thinking: bool | None = None, instructions: str = INSTRUCTIONS, system: str | None = None) -> str:
    """:func:`plan_messages` rendered by :func:`render_prompt`: the whole prompt for one task."""
    messages = plan_messages(domain_pddl, problem_pddl, examples, instructions=instructions, system=system)
    return render_prompt(tokenizer, messages, thinking=thinking)


def completion_end(tokenizer) -> str:
    """What ends a completion in training rows: the end-of-turn token with a chat template (its
    ``eos_token``, e.g. ``<|im_end|>``), else ``[PLAN END]`` for the plain format."""
    if tokenizer is not None and has_chat_template(tokenizer) and tokenizer.eos_token:
        return tokenizer.eos_token
    return PLAN_END_TAG


def sft_row(tokenizer, domain_pddl: str, problem_pddl: str, plan: Sequence[str],
            examples: Sequence[Example] = (), thinking: bool | None = None) -> dict:
    """A ``{"prompt", "completion"}`` training row (TRL's prompt-completion format, loss on the completion)
    for a solved task, e.g. a reference plan for a warm start or a curated plan from deployment."""
    prompt = build_prompt(tokenizer, domain_pddl, problem_pddl, examples, thinking=thinking)
    return {"prompt": prompt, "completion": _plan_lines(plan) + "\n" + completion_end(tokenizer)}


def split_reasoning(text: str) -> tuple[str, str]:
    """``(reasoning, answer)``: the ``<think>`` block(s) and what follows the last ``</think>``.

    Chat templates of thinking models often open ``<think>`` in the prompt, so the completion starts
    inside the block and has only ``</think>``. An unclosed ``<think>`` (the model ran out of tokens
    while thinking) means there is no answer: ``(text after <think>, "")``.
    """
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        last = closes[-1]
        reasoning = _THINK_CLOSE.sub("", _THINK_OPEN.sub("", text[: last.start()])).strip()
        return reasoning, text[last.end():]
    opened = _THINK_OPEN.search(text)
    if opened:
        return text[opened.end():].strip(), text[: opened.start()]
    return "", text


def answer_text(completion: str) -> str:
    """The part of a completion that holds the plan: reasoning dropped, cut at ``[PLAN END]``.

    Pass this to :func:`~itdeploy_lite.planning.validate` (it also strips think blocks itself, but not
    what a base model rambles on with after ``[PLAN END]``).
    """
    _, answer = split_reasoning(completion)
    match = _PLAN_END.search(answer)
    return answer[: match.start()] if match else answer


def extract_plan(completion: str) -> list[str]:
    """The well-formed steps of the plan in a completion, canonical ``"(name arg ...)"``, in order.

    Malformed step lines are left out here; :func:`~itdeploy_lite.planning.validate` on
    :func:`answer_text` is what judges the plan (and reports them).
    """
    return [step.text for step in parse_plan(answer_text(completion)) if isinstance(step, PlanStep)]


__all__ = [
    "Example", "INSTRUCTIONS", "PLAN_END_TAG", "PLAN_TAG", "PROBLEM_TAG", "answer_text", "build_prompt", "clean_pddl",
    "completion_end", "domain_text", "examples_from", "extract_plan", "has_chat_template", "plain_prompt",
    "plan_messages", "render_prompt", "sft_row", "split_reasoning",
]
