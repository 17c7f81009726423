"""The embedded model's text format: a compact prompt (init and goal atoms) and a plan completion.

Prompt (one task)::

    init: (clear b2) (handempty) (on b2 b1) (ontable b1)
    goal: (on b1 b2) (ontable b2)
    plan:

Completion (``trace="none"``): the plan in canonical PDDL action syntax, one action per line, then the
end token ``</s>``::

    (unstack b2 b1)
    (put-down b2)
    (pick-up b1)
    (stack b1 b2)
    </s>

Completion with a reasoning trace (``trace="delta"``): after each action, as a ``;`` comment that the
validator's lenient parser skips, the atoms the action made true (``+``) and false (``-``) - the model
writes down how the state changes, as the paper's thinking model reasons before it plans (Section 4)::

    (unstack b2 b1) ; +(clear b1) +(holding b2) -(clear b2) -(handempty) -(on b2 b1)

Atoms are written in natural order (``b2`` before ``b10``). For Sokoban the ``adjacent`` atoms are left
out of the prompt: they are the grid's neighbourhood, implied by the ``loc_<row>_<col>`` names, and
would make the prompt 4x longer. Every other initial atom is kept.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

EOS = "</s>"
TRACES: tuple[str, ...] = ("none", "delta")

#: Domain -> predicates left out of the prompt (static and implied by object names).
OMITTED_PREDICATES: dict[str, frozenset] = {"sokoban": frozenset({"adjacent"})}

_DIGITS = re.compile(r"(\d+)")


def _natural(atom: tuple) -> tuple:
    return tuple(tuple(int(c) if c.isdigit() else c for c in _DIGITS.split(part)) for part in atom)


def _atoms(atoms: Iterable[tuple]) -> str:
    return " ".join("(" + " ".join(a) + ")" for a in sorted(atoms, key=_natural))


def _domain(task) -> str:
    name = getattr(task, "domain", None) or getattr(task, "domain_name", "")
    return str(name).lower()


def task_prompt(task) -> str:
    """The compact prompt of a task.

    Args:
        task: a :class:`~itdeploy_lite.planning.Task` (uses ``init``, ``goal_pos``, ``domain_name``) or a
            :class:`~itdeploy_lite.planning.generators.GeneratedProblem` (``init``, ``goal``, ``domain``).

    Returns:
        ``"init: <atoms>\\ngoal: <atoms>\\nplan:\\n"``; atoms in natural order, Sokoban's ``adjacent``
        atoms omitted. Negative goals (none in the shipped domains) are not written.
    """
    goal = task.goal_pos if hasattr(task, "goal_pos") else task.goal
    omit = OMITTED_PREDICATES.get(_domain(task), frozenset())
    init = [a for a in task.init if a[0] not in omit]
    return f"init: {_atoms(init)}\ngoal: {_atoms(goal)}\nplan:\n"


def plan_completion(plan_lines: Sequence, task=None, trace: str | None = None) -> str:
    """The completion for a plan: one canonical action per line, then ``</s>``.

    Args:
        plan_lines: the plan's steps: ``"(name arg ...)"`` strings or ground actions (``str()`` of each
            is used), or plan text with one step per line.
        task: the task the plan is for; needed for ``trace="delta"``.
        trace: ``"none"`` (default when ``task`` is None) or ``"delta"`` (default when ``task`` is given):
            after each action, ``; +(added) ... -(deleted) ...``.

    Returns:
        The completion text, e.g. ``"(pick-up b1)\\n(stack b1 b2)\\n</s>"``.

    Raises:
        ValueError: unknown ``trace``, ``trace="delta"`` without a task, or a step that does not apply
            (the trace needs an executable plan; validate first).
    """
    if isinstance(plan_lines, str):
        plan_lines = [line for line in plan_lines.splitlines() if line.strip()]
    steps = [" ".join(str(s).split()) for s in plan_lines]
    trace = trace or ("delta" if task is not None else "none")
    if trace not in TRACES:
        raise ValueError(f"trace must be one of {TRACES}, got {trace!r}")
    if trace == "none":
        return "".join(s + "\n" for s in steps) + EOS
    if task is None:
        raise ValueError("trace='delta' needs the task, to compute each action's effects")
    from itdeploy_lite.planning.plan_text import parse_plan

    lines, state = [], task.init
    for text in steps:
        parsed = parse_plan(text)
        if len(parsed) != 1 or not hasattr(parsed[0], "args"):
            raise ValueError(f"not a plan step: {text!r}")
        action = task.ground_action(parsed[0].name, parsed[0].args)
        if not action.applicable(state):
            raise ValueError(f"step {text} does not apply; trace='delta' needs a valid plan")
        after = action.apply(state)
        added = " ".join("+(" + " ".join(a) + ")" for a in sorted(after - state, key=_natural))
        deleted = " ".join("-(" + " ".join(a) + ")" for a in sorted(state - after, key=_natural))
        lines.append(f"{parsed[0].text} ; {' '.join(x for x in (added, deleted) if x)}".rstrip(" ;"))
        state = after
    return "".join(line + "\n" for line in lines) + EOS


def completion_plan_text(completion: str) -> str:
    """What to give the validator: the completion up to its end token, special tokens removed.

    Trace comments (``; ...``) stay: the lenient plan parser skips them. A completion that never wrote
    ``</s>`` (cut by the token limit) is returned whole; its last line may be a malformed step.

    Args:
        completion: decoded model output (with or without special tokens).

    Returns:
        Plan text for :func:`itdeploy_lite.planning.validate`.
    """
    text = completion.split(EOS, 1)[0]
    for special in ("<pad>", "<s>", "<unk>"):
        text = text.replace(special, " " if special == "<unk>" else "")
    return text
