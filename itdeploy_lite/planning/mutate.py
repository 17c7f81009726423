"""Seeded plan mutations: the mistakes a planning model makes, applied to a valid plan.

Used by the differential test against VAL and by the labs. A mutation's label names what was done to
the plan, not a verdict: swapping two steps or repeating one can leave a plan valid (VAL-NOTES.md), so
judge every mutated plan with a validator.

Plans are sequences of steps written ``(action arg ...)``; mutated plans come back canonical: lower case,
one space between words, one step per string.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

MUTATION_KINDS = (
    "drop-step",            # one step removed
    "swap-steps",           # two different steps exchanged
    "duplicate-step",       # one step repeated right after itself
    "insert-step",          # a random ground action inserted at a random place
    "truncate",             # the plan cut short (possibly to nothing)
    "change-argument",      # one argument replaced by another object of the same type
    "wrong-type-argument",  # one argument replaced by an object of another declared type (typed domains;
                            # it may still fit a supertype parameter)
    "permute-arguments",    # the arguments of one step reordered
    "other-action",         # the action name replaced by another action of the same arity
    "missing-argument",     # one argument removed
    "extra-argument",       # one object appended to a step's arguments
    "unknown-action",       # the action name replaced by a name the domain does not define
    "unknown-object",       # one argument replaced by a name the problem does not declare
    "empty-plan",           # no steps at all
)

_MADE_UP_ACTIONS = ("teleport", "fly", "jump", "wait", "noop")
_MADE_UP_OBJECTS = ("ghost", "nowhere", "obj99", "zz")


def split_step(step: str) -> list[str]:
    """Split one step ``"(action arg ...)"`` into ``[action, arg, ...]``, lower case.

    Args:
        step: one plan step, with or without its parentheses.

    Returns:
        list[str]: the action name followed by its arguments.

    Raises:
        ValueError: if the step holds no action name (empty, or only parentheses).
    """
    words = step.strip().strip("()").lower().split()
    if not words:
        raise ValueError(f"split_step: the step {step!r} holds no action name.")
    return words


def join_step(words: Sequence[str]) -> str:
    """Write ``[action, arg, ...]`` as the canonical step ``"(action arg ...)"``."""
    return "(" + " ".join(words) + ")"


def _arity(value) -> int:
    """An arity given as an int, or read from an ``ActionSchema`` (its ``arity``)."""
    return value if isinstance(value, int) else value.arity


def mutate(
    plan: Sequence[str],
    kind: str,
    objects: Mapping[str, str],
    actions: Mapping,
    rng: random.Random,
) -> list[str] | None:
    """Apply one mutation of the given kind to a plan.

    Args:
        plan: the plan, one ``(action arg ...)`` step per string.
        kind: one of ``MUTATION_KINDS``.
        objects: object name -> type name (``Task.objects``; untyped domains give every object the type
            ``object``).
        actions: action name -> arity (an int), or ``Task.schemas`` (action name -> ``ActionSchema``).
        rng: the random source; the same seed gives the same mutation.

    Returns:
        list[str] | None: the mutated plan in canonical steps, or None when this kind cannot apply to this
        plan (a swap needs two different steps, a wrong-type argument needs a second type, ...).

    Raises:
        ValueError: for an unknown kind, or a step holding no action name.
    """
    if kind not in MUTATION_KINDS:
        raise ValueError(f"mutate: unknown mutation kind {kind!r}; expected one of {MUTATION_KINDS}.")
    steps = [split_step(step) for step in plan]
    n = len(steps)
    with_args = [i for i, words in enumerate(steps) if len(words) > 1]
    names = sorted(objects)

    if kind == "empty-plan":
        return [] if n else None
    if kind == "drop-step" and n:
        del steps[rng.randrange(n)]
    elif kind == "swap-steps":
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if steps[i] != steps[j]]
        if not pairs:
            return None
        i, j = rng.choice(pairs)
        steps[i], steps[j] = steps[j], steps[i]
    elif kind == "duplicate-step" and n:
        i = rng.randrange(n)
        steps.insert(i + 1, list(steps[i]))
    elif kind == "insert-step" and actions and names:
        name = rng.choice(sorted(actions))
        steps.insert(rng.randrange(n + 1), [name] + [rng.choice(names) for _ in range(_arity(actions[name]))])
    elif kind == "truncate" and n:
        steps = steps[: rng.randrange(n)]
    elif kind in ("change-argument", "wrong-type-argument", "unknown-object"):
        # every (step, argument) position that has a replacement of the wanted kind
        positions = []
        for i in with_args:
            for k, current in enumerate(steps[i][1:], start=1):
                if kind == "unknown-object":
                    choices = [o for o in _MADE_UP_OBJECTS if o not in objects]
                else:
                    same = kind == "change-argument"
                    choices = [o for o in names if o != current and (objects[o] == objects.get(current)) == same]
                if choices:
                    positions.append((i, k, choices))
        if not positions:
            return None
        i, k, choices = rng.choice(positions)
        steps[i][k] = rng.choice(choices)
    elif kind == "permute-arguments":
        candidates = [i for i in with_args if len(set(steps[i][1:])) > 1]
        if not candidates:
            return None
        i = rng.choice(candidates)
        args = steps[i][1:]
        while args == steps[i][1:]:
            rng.shuffle(args)
        steps[i][1:] = args
    elif kind == "other-action" and n:
        i = rng.randrange(n)
        name, arity = steps[i][0], len(steps[i]) - 1
        choices = sorted(a for a, value in actions.items() if a != name and _arity(value) == arity)
        if not choices:
            return None
        steps[i][0] = rng.choice(choices)
    elif kind == "missing-argument" and with_args:
        i = rng.choice(with_args)
        del steps[i][rng.randrange(1, len(steps[i]))]
    elif kind == "extra-argument" and n and names:
        i = rng.randrange(n)
        steps[i].append(rng.choice(names))
    elif kind == "unknown-action" and n:
        i = rng.randrange(n)
        steps[i][0] = rng.choice([a for a in _MADE_UP_ACTIONS if a not in actions] or ["no-such-action"])
    else:
        return None
    return [join_step(words) for words in steps]


def mutations(
    plan: Sequence[str],
    objects: Mapping[str, str],
    actions: Mapping,
    rng: random.Random,
    kinds: Sequence[str] = MUTATION_KINDS,
) -> list[tuple[str, list[str]]]:
    """Apply each mutation kind once to a plan.

    Args:
        plan: the plan, one ``(action arg ...)`` step per string (usually a valid one).
        objects: object name -> type name (``Task.objects``).
        actions: action name -> arity (an int), or ``Task.schemas`` (action name -> ``ActionSchema``).
        rng: the random source; the same seed gives the same mutations.
        kinds: which kinds to apply (default: all of ``MUTATION_KINDS``).

    Returns:
        list[tuple[str, list[str]]]: ``(kind, mutated plan)`` for each kind that applies to this plan, in
        the order of ``kinds``; a label is not a verdict.

    Raises:
        ValueError: for an unknown kind, or a step holding no action name.
    """
    found = []
    for kind in kinds:
        mutated = mutate(plan, kind, objects, actions, rng)
        if mutated is not None:
            found.append((kind, mutated))
    return found
