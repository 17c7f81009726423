"""What a generator returns, and how its atoms are written as a PDDL problem.

A generator builds a task as sets of ground atoms (``("on", "b1", "b2")``) and hands them to
:func:`problem_pddl`, so every generated problem file has the same layout: objects grouped by type,
one atom per line, the goal as an ``(and ...)``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

Atom = tuple[str, ...]

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class GeneratedProblem:
    """One generated planning task.

    Attributes:
        name: the problem name, e.g. ``"blocksworld-b5-s0-003"`` (domain, size, seed, index).
        domain: the generator's domain key (``"blocksworld"``, ``"ferry"``, ...: a key of ``GENERATORS``).
        size: the size parameters it was generated with, e.g. ``{"blocks": 5}``.
        pddl: the problem as standard PDDL text.
        witness_plan: a valid plan, one canonical ``"(action arg ...)"`` string per step, or ``None``.
        init: the initial state as a frozenset of atoms (closed world).
        goal: the goal atoms.
        objects: the names of the objects the problem declares (an object may occur in no atom, e.g.
            a Ferry location no car starts or ends at).
    """

    name: str
    domain: str
    size: dict = field(hash=False)
    pddl: str
    witness_plan: tuple[str, ...] | None
    init: frozenset = field(default=frozenset(), repr=False)
    goal: frozenset = field(default=frozenset(), repr=False)
    objects: frozenset = field(default=frozenset(), repr=False)

    @property
    def key(self) -> tuple[frozenset, frozenset, frozenset]:
        """``(init, goal, objects)``: two problems with the same key are the same task, whatever their
        names. The objects count: a Ferry task with an extra, unused location is another task."""
        return (self.init, self.goal, self.objects)

    @property
    def trivial(self) -> bool:
        """True if the goal already holds in the initial state."""
        return self.goal <= self.init


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a plain PDDL name (lower case letter, then letters, digits, ``-``, ``_``).

    Raises:
        ValueError: naming ``what`` and the bad name.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} {name!r} is not a PDDL name (a-z, then a-z 0-9 - _)")
    return name


def action(*parts: str) -> str:
    """``action("stack", "b1", "b2")`` -> ``"(stack b1 b2)"``: one canonical plan step."""
    return "(" + " ".join(parts) + ")"


def natural_key(atom: Atom) -> tuple:
    """Sort key that orders names by their numbers: ``b2`` before ``b10``, ``loc_2_9`` before ``loc_2_10``."""
    return tuple(
        tuple(int(chunk) if chunk.isdigit() else chunk for chunk in _DIGITS.split(part)) for part in atom
    )


def _atom_text(atom: Atom) -> str:
    return "(" + " ".join(atom) + ")"


def problem_pddl(
    name: str,
    domain_name: str,
    objects: list[tuple[list[str], str | None]],
    init: list[Atom],
    goal: list[Atom],
) -> str:
    """Write a PDDL problem.

    Args:
        name: problem name (checked by :func:`check_name`).
        domain_name: the ``(define (domain ...))`` name the problem refers to.
        objects: groups ``(names, type)``, written in order; type ``None`` for an untyped domain.
        init: initial atoms, written in the order given.
        goal: goal atoms, written in the order given.

    Returns:
        The problem text, ending in a newline.
    """
    check_name(name, "problem name")
    lines = [f"(define (problem {name})", f"  (:domain {domain_name})", "  (:objects"]
    for names, type_name in objects:
        if names:
            lines.append("    " + " ".join(names) + (f" - {type_name}" if type_name else ""))
    lines[-1] += ")"
    lines.append("  (:init")
    lines += ["    " + _atom_text(a) for a in init]
    lines[-1] += ")"
    lines.append("  (:goal (and")
    lines += ["    " + _atom_text(a) for a in goal]
    lines[-1] += ")))"
    return "\n".join(lines) + "\n"


def make_problem(
    name: str,
    domain: str,
    size: dict,
    objects: list[tuple[list[str], str | None]],
    init: set,
    goal: set,
    witness_plan,
    domain_name: str | None = None,
) -> GeneratedProblem:
    """Write ``init`` and ``goal`` as a PDDL problem (atoms in natural order) and wrap it with its data.

    Args:
        name: problem name. domain: the generator's domain key. size: the size parameters used.
        objects: groups ``(names, type)`` as for :func:`problem_pddl`.
        init, goal: sets of atoms. witness_plan: a sequence of plan steps, or ``None``.
        domain_name: the ``(:domain ...)`` name in the file, if it differs from ``domain``.

    Raises:
        ValueError: a name that is not a PDDL name.
    """
    text = problem_pddl(
        name,
        domain_name or domain,
        objects,
        sorted(init, key=natural_key),
        sorted(goal, key=natural_key),
    )
    return GeneratedProblem(
        name=name,
        domain=domain,
        size=dict(size),
        pddl=text,
        witness_plan=None if witness_plan is None else tuple(witness_plan),
        init=frozenset(init),
        goal=frozenset(goal),
        objects=frozenset(name for names, _ in objects for name in names),
    )


def size_int(size: dict, key: str, low: int, high: int | None = None) -> int:
    """Read an integer size parameter and check its range.

    Args:
        size: the size dict given to a generator.
        key: the parameter name, e.g. ``"blocks"``.
        low, high: inclusive bounds (``high=None``: no upper bound).

    Raises:
        ValueError: if the key is missing, not an int, or out of range; the message names the key.
    """
    if key not in size:
        raise ValueError(f"missing size parameter {key!r} (given: {sorted(size)})")
    value = size[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"size parameter {key!r} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"size parameter {key!r} must be {bound}, got {value}")
    return value


def numbered(prefix: str, count: int, rng: random.Random | None = None, pool: int | None = None) -> list[str]:
    """Numbered object names: ``numbered("car", 3)`` -> ``["car1", "car2", "car3"]``.

    With a name ``pool``, the ``count`` indices are drawn at random (and sorted) from ``1..max(count,
    pool)``, e.g. ``["car2", "car5", "car6"]``, so that small tasks use every name of larger ones (a model
    trained on 2-car tasks then knows ``car6``). Without one, ``rng`` is not used.

    Raises:
        ValueError: a pool without an ``rng``.
    """
    if pool is None:
        return [f"{prefix}{i}" for i in range(1, count + 1)]
    if rng is None:
        raise ValueError("numbered: a name pool needs an rng")
    return [f"{prefix}{i}" for i in sorted(rng.sample(range(1, max(count, pool) + 1), count))]


def name_pool(size: dict, low: int) -> int | None:
    """The optional ``name_pool`` size parameter (``None`` when absent), checked to be ``>= low``.

    Raises:
        ValueError: not an int, or below ``low`` (the largest object count it must cover).
    """
    if size.get("name_pool") is None:
        return None
    return size_int(size, "name_pool", low, 10_000)


def check_keys(size: dict, allowed: tuple[str, ...], domain: str) -> None:
    """Raise ``ValueError`` if ``size`` has a key the ``domain`` generator does not know."""
    unknown = sorted(set(size) - set(allowed))
    if unknown:
        raise ValueError(f"unknown size parameter(s) {unknown} for {domain}; expected {list(allowed)}")
