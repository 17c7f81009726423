"""Plan validation with VAL's semantics, explaining every verdict.

The loop is pyperplan's: from the initial state, for each step, check it names a ground action,
check its preconditions, apply it (delete, then add); at the end check the goal. The first step that
cannot be executed stops validation and is reported with the reason.

Verdicts equal VAL's ``Validate`` (tests/test_val_differential.py) for STRIPS with typing, negative
preconditions and equality. Where VAL is wrong or crashes we keep a clear "invalid": a missing
argument (VAL segfaults), an extra argument in an untyped domain (VAL ignores it). VAL rejects a
plan with a bad step before executing any step ("Bad plan description!"); we execute up to that step
so the result also says how far the plan got. The verdict is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from itdeploy_lite.planning.plan_text import MalformedStep, parse_plan
from itdeploy_lite.planning.task import GroundAction, PlanStepError, Task, atom_str


@dataclass
class ValidationResult:
    """The verdict on one plan, with why.

    Attributes:
        valid: the plan executes and reaches the goal.
        steps_executed: steps applied before execution stopped (all of them if none failed).
        plan_length: steps in the plan (well-formed or not).
        failed_step: 1-based index of the first step that could not be executed, or ``None``.
        failed_action: that step's text, or ``None``.
        line: the 1-based line of the failing step in the plan text, or ``None``.
        reason: why the plan is invalid (``None`` if valid); names the step and line.
        unsatisfied: the failing step's unsatisfied preconditions, as PDDL literals.
        unmet_goals: goal literals false in ``final_state``.
        final_state: the state where execution stopped (frozenset of ground atoms).
        plan: the plan's well-formed steps as canonical ``(name arg ...)`` lines.
    """

    valid: bool
    steps_executed: int
    plan_length: int
    failed_step: int | None = None
    failed_action: str | None = None
    line: int | None = None
    reason: str | None = None
    unsatisfied: list[str] = field(default_factory=list)
    unmet_goals: list[str] = field(default_factory=list)
    final_state: frozenset = frozenset()
    plan: tuple[str, ...] = ()

    def to_dict(self, with_state: bool = False) -> dict:
        """JSON-ready dict with keys ``valid, failed_step, failed_action, line, reason, unsatisfied,
        unmet_goals, steps_executed, plan_length`` (and ``final_state`` as sorted atom strings if asked)."""
        out = {
            "valid": self.valid,
            "failed_step": self.failed_step,
            "failed_action": self.failed_action,
            "line": self.line,
            "reason": self.reason,
            "unsatisfied": self.unsatisfied,
            "unmet_goals": self.unmet_goals,
            "steps_executed": self.steps_executed,
            "plan_length": self.plan_length,
        }
        if with_state:
            out["final_state"] = sorted(atom_str(a) for a in self.final_state)
        return out


def validate(task: Task, plan: str | Sequence[str | GroundAction], strict: bool = False) -> ValidationResult:
    """Validate ``plan`` on ``task`` (VAL semantics).

    Args:
        task: a task from :func:`load_task` / :func:`parse_task`.
        plan: plan text (parsed leniently, see :mod:`~itdeploy_lite.planning.plan_text`), or a
            sequence of steps, each a ``"(name arg ...)"`` string or a :class:`GroundAction`.
        strict: accept only canonical ``(action arg ...)`` lines.

    Returns:
        A :class:`ValidationResult`. Never raises on a bad plan: unknown actions or objects, wrong
        arity or types, and malformed lines make the plan invalid with a reason naming the line.
    """
    if not isinstance(plan, str):
        plan = "\n".join(str(step) for step in plan)
    steps = parse_plan(plan, strict=strict)
    state = task.fluent_init  # static atoms are checked once, when a step is grounded
    canonical: list[str] = []
    for index, step in enumerate(steps, start=1):
        if isinstance(step, MalformedStep):
            reason = f"step {index} (line {step.line}): {step.reason}: '{step.text}'"
            return _failure(task, steps, canonical, state, index, step.line, step.text, reason)
        text = step.text
        try:
            action = task.ground_action(step.name, step.args)
        except PlanStepError as err:
            return _failure(task, steps, canonical, state, index, step.line, text, f"step {index} (line {step.line}) {text}: {err}")
        if not action.applicable(state):
            missing = action.unsatisfied(state)
            reason = f"step {index} (line {step.line}) {text}: precondition(s) not satisfied: " + ", ".join(missing)
            return _failure(task, steps, canonical, state, index, step.line, text, reason, missing)
        state = action.apply(state)
        canonical.append(text)
    state = state | task.static_atoms
    unmet = task.unmet_goals(state)
    if not unmet:
        return ValidationResult(True, len(steps), len(steps), final_state=state, plan=tuple(canonical))
    if steps:
        reason = f"goal not satisfied after {len(steps)} step(s): " + ", ".join(unmet)
    elif plan.strip():
        reason = "no plan steps found (expected lines like '(action arg ...)'); goal not satisfied: " + ", ".join(unmet)
    else:
        reason = "empty plan; goal not satisfied: " + ", ".join(unmet)
    return ValidationResult(
        False, len(steps), len(steps), reason=reason, unmet_goals=unmet, final_state=state, plan=tuple(canonical)
    )


def _failure(task, steps, canonical, state, index, line, text, reason, unsatisfied=()) -> ValidationResult:
    state = state | task.static_atoms
    # the well-formed steps after the failing one still belong to the plan text
    rest = [s.text for s in steps[index - 1 :] if not isinstance(s, MalformedStep)]
    return ValidationResult(
        valid=False,
        steps_executed=index - 1,
        plan_length=len(steps),
        failed_step=index,
        failed_action=text,
        line=line,
        reason=reason,
        unsatisfied=list(unsatisfied),
        unmet_goals=task.unmet_goals(state),
        final_state=state,
        plan=tuple(canonical + rest),
    )
