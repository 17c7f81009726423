"""How a task becomes a prompt and a completion becomes a plan, for each kind of model.

* :class:`CompactFormat` (the embedded planner): the task's initial and goal atoms; the completion is the
  plan, one canonical action per line, then ``</s>`` (:mod:`itdeploy_lite.prompts`).
* :class:`PddlFormat` (pretrained LLMs): PlanBench-style, the domain and problem PDDL with instructions
  and optionally solved examples of the same domain, rendered with the tokenizer's chat template; the
  plan is read back from free text, ``<think>`` blocks dropped (:mod:`itdeploy_lite.llm.prompts`).

Each format owns its prompt, its plan extraction and its token budget; the loop only ever calls
:meth:`PromptFormat.prompt`, :meth:`PromptFormat.plan_text`, :meth:`PromptFormat.completion` and
:meth:`PromptFormat.budget`, so the same loop runs on both. Every sampler and validator takes the format
explicitly: a completion read with the wrong format is misread, so there is no default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Sequence

#: Completion tokens one plan step takes, per completion format (measured on reference plans: a
#: Blocksworld step is 6 tokens plain and 25-30 with the ``delta`` trace; Rovers/Sokoban steps are longer).
TOKENS_PER_STEP = {"none": 10, "delta": 45}

#: Completion tokens one plan step takes in the ``pddl`` format with a BPE tokenizer (SmolLM2/Qwen3:
#: ``(unstack b2 b1)`` is 8-9 tokens plus the newline).
PDDL_TOKENS_PER_STEP = 12


def token_budget(task, trace: str = "none", steps_per_object: float = 3.0, cap: int = 1024,
                 tokens_per_step: int | None = None, floor: int = 16) -> int:
    """Completion-token budget for a task: ``steps_per_object x objects`` plan steps, at most ``cap``.

    Args:
        task: a :class:`~itdeploy_lite.planning.Task` (its ``objects`` are counted).
        trace: the model's completion format (``"none"`` / ``"delta"``), which sets tokens per step.
        steps_per_object: plan steps allowed per object (3 gives a 10-block task 32 steps; an optimal
            Blocksworld plan has at most about ``2n`` steps).
        cap: hard maximum, in tokens.
        tokens_per_step: overrides ``trace``'s tokens per step (another tokenizer, e.g. an LLM's BPE).
        floor: the smallest budget, in tokens.

    Returns:
        The budget in tokens: ``min(cap, max(floor, steps x tokens per step))``.
    """
    steps = math.ceil(steps_per_object * max(1, len(task.objects))) + 2
    per_step = tokens_per_step or TOKENS_PER_STEP.get(trace, TOKENS_PER_STEP["none"])
    return min(cap, max(floor, steps * per_step))


class PromptFormat:
    """The interface of a prompt/completion format (:class:`CompactFormat`, :class:`PddlFormat`)."""

    #: the format's name (``--prompt-format``)
    name: ClassVar[str] = ""

    def prompt(self, task, problem_pddl: str = "") -> str:
        """The prompt for one task (a :class:`~itdeploy_lite.planning.Task`; ``problem_pddl`` its PDDL text)."""
        raise NotImplementedError

    def plan_text(self, completion: str) -> str:
        """The text the validator reads from a completion (action lines; the end token, comments and
        reasoning dropped here or by the validator's lenient parser)."""
        raise NotImplementedError

    def completion(self, plan: Sequence[str], task=None) -> str:
        """The training completion for a plan (a warm start's reference plan): canonical action lines,
        then the format's end marker."""
        raise NotImplementedError

    def budget(self, task, cap: int, steps_per_object: float = 3.0) -> int:
        """Completion-token budget for ``task``, at most ``cap`` tokens (:func:`token_budget`)."""
        raise NotImplementedError

    def _cut_at_end_token(self, completion: str) -> str:
        end = getattr(getattr(self, "tokenizer", None), "eos_token", None)
        return completion.split(end, 1)[0] if end and end != "</s>" else completion


@dataclass
class CompactFormat(PromptFormat):
    """The embedded planner's format: atoms in, one action per line out.

    Attributes:
        tokenizer: the model's tokenizer (only its end token is read; ``None``: ``</s>``).
        trace: the completion's reasoning trace (``"none"`` / ``"delta"``; :func:`CompactFormat.of_model`
            reads it from the model's config).
    """

    tokenizer: object = None
    trace: str = "none"
    name: ClassVar[str] = "compact"

    @classmethod
    def of_model(cls, model, tokenizer=None) -> "CompactFormat":
        """The format an embedded planner was trained on (its trace from ``model.config``)."""
        from itdeploy_lite.models.embedded import plan_trace

        return cls(tokenizer, plan_trace(model))

    def prompt(self, task, problem_pddl: str = "") -> str:
        """The task's initial and goal atoms (``problem_pddl`` unused)."""
        from itdeploy_lite.prompts import task_prompt

        return task_prompt(task)

    def plan_text(self, completion: str) -> str:
        from itdeploy_lite.prompts import completion_plan_text

        return completion_plan_text(self._cut_at_end_token(completion))

    def completion(self, plan: Sequence[str], task=None) -> str:
        """Action lines (with the trace, given ``task``), then ``</s>`` or the tokenizer's end token."""
        from itdeploy_lite.prompts import EOS, plan_completion

        lines = [str(step).strip() for step in plan]
        text = plan_completion(lines, task, trace=self.trace) if task is not None else plan_completion(lines)
        end = getattr(self.tokenizer, "eos_token", None) or EOS
        return text[: -len(EOS)] + end if text.endswith(EOS) else text  # an LLM stops at its own end token

    def budget(self, task, cap: int, steps_per_object: float = 3.0) -> int:
        return token_budget(task, self.trace, steps_per_object, cap)


@dataclass
class PddlFormat(PromptFormat):
    """PlanBench-style prompts for pretrained LLMs: domain and problem PDDL, the plan read from free text.

    Attributes:
        tokenizer: the model's tokenizer (its chat template renders the prompt).
        domain: the domain name or domain file (its PDDL text is in every prompt).
        examples: solved examples shown before the task (few-shot), as
            :class:`~itdeploy_lite.llm.prompts.Example`.
        thinking: ``enable_thinking`` for hybrid thinking models (None: the template's default).
    """

    tokenizer: object = None
    domain: str = "blocksworld"
    examples: Sequence = ()
    thinking: bool | None = None
    name: ClassVar[str] = "pddl"
    _domain_pddl: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self._domain_pddl:
            from itdeploy_lite.llm.prompts import domain_text

            self._domain_pddl = domain_text(self.domain)

    def prompt(self, task, problem_pddl: str = "") -> str:
        """The chat-rendered prompt showing the domain and ``problem_pddl``.

        Raises:
            ValueError: no ``problem_pddl``.
        """
        if not problem_pddl:
            raise ValueError("the pddl prompt format needs the problem's PDDL text")
        from itdeploy_lite.llm.prompts import build_prompt

        return build_prompt(self.tokenizer, self._domain_pddl, problem_pddl, self.examples, thinking=self.thinking)

    def plan_text(self, completion: str) -> str:
        from itdeploy_lite.llm.prompts import answer_text

        return answer_text(self._cut_at_end_token(completion))

    def completion(self, plan: Sequence[str], task=None) -> str:
        """Action lines, then the tokenizer's end-of-turn token."""
        from itdeploy_lite.llm.prompts import completion_end

        return "\n".join(str(step).strip() for step in plan) + "\n" + completion_end(self.tokenizer)

    #: appended to a thinking completion that ran out of its budget inside ``<think>`` (budget forcing)
    CLOSE_THINKING: ClassVar[str] = "\n</think>\n\n"

    def budget(self, task, cap: int, steps_per_object: float = 3.0) -> int:
        """:data:`PDDL_TOKENS_PER_STEP` per plan step; with ``thinking``, ``cap`` less the task's
        :meth:`answer_budget` (the reasoning gets the rest of the cap; see :meth:`answer_budget`)."""
        if self.thinking:
            return max(1, cap - self.answer_budget(task, cap, steps_per_object))
        return token_budget(task, steps_per_object=steps_per_object, cap=cap, tokens_per_step=PDDL_TOKENS_PER_STEP, floor=32)

    def answer_budget(self, task, cap: int, steps_per_object: float = 3.0) -> int:
        """Tokens kept for the plan after a forced ``</think>`` (thinking models): the task's plan budget
        without thinking, at most half of ``cap``. A completion still inside ``<think>`` at its
        :meth:`budget` gets :data:`CLOSE_THINKING` appended and this many tokens more to write its plan
        (budget forcing, Muennighoff et al. 2025, "s1: Simple test-time scaling"), so prompt + reasoning +
        plan stay within ``cap``."""
        return token_budget(task, steps_per_object=steps_per_object, cap=max(1, cap // 2),
                            tokens_per_step=PDDL_TOKENS_PER_STEP, floor=32)

    def needs_answer(self, completion: str, ended: bool) -> bool:
        """Whether a sampled completion stopped inside ``<think>`` (no end token, no ``</think>``): it gets a
        forced answer (:meth:`answer_budget`). Always ``False`` without ``thinking``."""
        return bool(self.thinking) and not ended and "</think>" not in completion.lower()


#: ``--prompt-format`` name -> class.
FORMATS: dict[str, type[PromptFormat]] = {"compact": CompactFormat, "pddl": PddlFormat}


def format_for(model_kind: str, requested: str, tokenizer, domain: str, trace: str = "none",
               examples: Sequence = (), thinking: bool | None = None) -> PromptFormat:
    """The format a run uses: ``requested`` (``compact``/``pddl``), or with ``"auto"`` the model's own
    (``compact`` for the embedded planner, whose vocabulary has no room for PDDL text; ``pddl`` for LLMs).

    ``compact`` for an LLM is allowed (a fine-tune on compact prompts).

    Raises:
        ValueError: an unknown format, or ``pddl`` for the embedded planner (its word-level vocabulary
            cannot spell a PDDL file).
    """
    name = ("compact" if model_kind == "embedded" else "pddl") if requested == "auto" else requested
    if name not in FORMATS:
        raise ValueError(f"unknown prompt format {name!r}; known: {', '.join(FORMATS)}")
    if name == "pddl" and model_kind == "embedded":
        raise ValueError("--prompt-format pddl needs a pretrained LLM: the embedded planner's word-level "
                         "vocabulary cannot spell PDDL files; use --prompt-format compact (or auto)")
    if name == "compact":
        return CompactFormat(tokenizer, trace)
    return PddlFormat(tokenizer, domain, examples, thinking)


def run_format(config, kind: str, model, tokenizer) -> PromptFormat:
    """The run's :class:`PromptFormat` for a loaded model: the embedded planner's compact format (its
    trace from the model's config), or the PDDL format with ``config.few_shot`` solved ``pretrain``-split
    examples (thinking on for the registry's thinking models).

    Args:
        config: the run's :class:`~itdeploy_lite.config.RunConfig` (``prompt_format``, ``model``,
            ``few_shot``, ``domain``).
        kind: ``"embedded"`` or ``"llm"`` (:func:`~itdeploy_lite.backends.resolve_base`).
        model: the loaded model (the embedded planner's config names its trace; unused for LLMs).
        tokenizer: its tokenizer.

    Raises:
        ValueError: ``pddl`` asked for the embedded planner (:func:`format_for`).
    """
    trace, examples, thinking = "none", (), None
    if kind == "embedded":
        from itdeploy_lite.models.embedded import plan_trace

        trace = plan_trace(model)
    else:
        from itdeploy_lite.llm.prompts import examples_from
        from itdeploy_lite.llm.registry import MODELS

        spec = MODELS.get(config.model.lower())
        thinking = True if spec is not None and spec.thinking else None
        if config.few_shot and not config.tasks:
            from itdeploy_lite.planning.generators.splits import make_split

            examples = examples_from(make_split(config.domain, "pretrain", config.few_shot), config.few_shot)
    return format_for(kind, config.prompt_format, tokenizer, config.domain, trace, examples, thinking)
