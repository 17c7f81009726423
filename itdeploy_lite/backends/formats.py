"""How a task becomes a prompt and a completion becomes a plan, for each kind of model.

* ``compact`` (the embedded planner): the task's initial and goal atoms; the completion is the plan, one
  canonical action per line, then ``</s>`` (:mod:`itdeploy_lite.prompts`).
* ``pddl`` (pretrained LLMs): PlanBench-style, the domain and problem PDDL with instructions and
  optionally solved examples of the same domain, rendered with the tokenizer's chat template; the plan
  is read back from free text, ``<think>`` blocks dropped (:mod:`itdeploy_lite.llm.prompts`).

The loop only ever calls :meth:`PromptFormat.prompt`, :meth:`PromptFormat.plan_text`,
:meth:`PromptFormat.completion` and :meth:`PromptFormat.budget`, so the same loop runs on both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

FORMATS: tuple[str, ...] = ("compact", "pddl")

#: Completion tokens one plan step takes in the ``pddl`` format with a BPE tokenizer (SmolLM2/Qwen3:
#: ``(unstack b2 b1)`` is 8-9 tokens plus the newline).
PDDL_TOKENS_PER_STEP = 12


@dataclass
class PromptFormat:
    """A prompt/completion format bound to a tokenizer.

    Attributes:
        name: ``"compact"`` or ``"pddl"``.
        tokenizer: the model's tokenizer (the ``pddl`` format renders its chat template with it).
        domain: the domain name or domain file (``pddl``: its PDDL text is in every prompt).
        trace: ``compact`` only: the completion's reasoning trace (``"none"`` / ``"delta"``).
        examples: ``pddl`` only: solved examples shown before the task (few-shot), as
            :class:`~itdeploy_lite.llm.prompts.Example`.
        thinking: ``pddl`` only: ``enable_thinking`` for hybrid thinking models (None: the template's default).
    """

    name: str
    tokenizer: object = None
    domain: str = "blocksworld"
    trace: str = "none"
    examples: Sequence = ()
    thinking: bool | None = None
    _domain_pddl: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.name not in FORMATS:
            raise ValueError(f"unknown prompt format {self.name!r}; known: {', '.join(FORMATS)}")
        if self.name == "pddl" and not self._domain_pddl:
            from itdeploy_lite.llm.prompts import domain_text

            self._domain_pddl = domain_text(self.domain)

    def prompt(self, task, problem_pddl: str = "") -> str:
        """The prompt for one task.

        Args:
            task: a :class:`~itdeploy_lite.planning.Task` (``compact`` reads its atoms).
            problem_pddl: the problem's PDDL text (``pddl`` shows it; required there).

        Raises:
            ValueError: ``pddl`` format without the problem's PDDL text.
        """
        if self.name == "compact":
            from itdeploy_lite.prompts import task_prompt

            return task_prompt(task)
        if not problem_pddl:
            raise ValueError("the pddl prompt format needs the problem's PDDL text")
        from itdeploy_lite.llm.prompts import build_prompt

        return build_prompt(self.tokenizer, self._domain_pddl, problem_pddl, self.examples, thinking=self.thinking)

    def plan_text(self, completion: str) -> str:
        """The text the validator reads from a completion (action lines; the end token, comments and
        reasoning dropped here or by the validator's lenient parser)."""
        end = getattr(self.tokenizer, "eos_token", None)
        if end and end != "</s>":
            completion = completion.split(end, 1)[0]
        if self.name == "compact":
            from itdeploy_lite.prompts import completion_plan_text

            return completion_plan_text(completion)
        from itdeploy_lite.llm.prompts import answer_text

        return answer_text(completion)

    def completion(self, plan: Sequence[str], task=None) -> str:
        """The training completion for a plan (a warm start's reference plan): canonical action lines,
        then the format's end marker (``</s>``; the tokenizer's end-of-turn token with a chat template)."""
        lines = [str(step).strip() for step in plan]
        if self.name == "compact":
            from itdeploy_lite.prompts import EOS, plan_completion

            text = plan_completion(lines, task, trace=self.trace) if task is not None else plan_completion(lines)
            end = getattr(self.tokenizer, "eos_token", None) or EOS
            return text[: -len(EOS)] + end if text.endswith(EOS) else text  # an LLM stops at its own end token
        from itdeploy_lite.llm.prompts import completion_end

        return "\n".join(lines) + "\n" + completion_end(self.tokenizer)

    def budget(self, task, cap: int, steps_per_object: float = 3.0) -> int:
        """Completion-token budget for ``task``: ``steps_per_object`` plan steps per object, at most ``cap``
        (a thinking model's reasoning needs ``cap`` itself: with ``thinking`` the budget is ``cap``)."""
        from itdeploy_lite.deploy import token_budget

        if self.name == "compact":
            return token_budget(task, self.trace, steps_per_object, cap)
        if self.thinking:
            return cap
        return token_budget(task, steps_per_object=steps_per_object, cap=cap, tokens_per_step=PDDL_TOKENS_PER_STEP, floor=32)


def format_for(model_kind: str, requested: str, tokenizer, domain: str, trace: str = "none",
               examples: Sequence = (), thinking: bool | None = None) -> PromptFormat:
    """The format a run uses: ``requested`` (``compact``/``pddl``), or with ``"auto"`` the model's own
    (``compact`` for the embedded planner, whose vocabulary has no room for PDDL text; ``pddl`` for LLMs).

    ``compact`` for an LLM is allowed (a fine-tune on compact prompts).

    Raises:
        ValueError: ``pddl`` for the embedded planner (its word-level vocabulary cannot spell a PDDL file).
    """
    name = ("compact" if model_kind == "embedded" else "pddl") if requested == "auto" else requested
    if name == "pddl" and model_kind == "embedded":
        raise ValueError("--prompt-format pddl needs a pretrained LLM: the embedded planner's word-level "
                         "vocabulary cannot spell PDDL files; use --prompt-format compact (or auto)")
    return PromptFormat(name, tokenizer, domain, trace if name == "compact" else "none", examples if name == "pddl" else (), thinking)
