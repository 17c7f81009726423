"""The grounded STRIPS model: ground atoms, ground actions and a task (pyperplan's ``task.py``, typed).

A ground atom is a tuple of lower-case names, ``("on", "a", "b")``; a state is a frozenset of the atoms
that are true (closed world). A ground action applies as VAL does: delete effects first, then add
effects, so an atom that one action both deletes and adds ends true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

Atom = tuple[str, ...]
State = frozenset  # frozenset[Atom]


def atom_str(atom: Atom) -> str:
    """``("on", "a", "b")`` -> ``"(on a b)"``."""
    return "(" + " ".join(atom) + ")"


class PlanStepError(ValueError):
    """A plan step that names no ground action of the task (unknown action or object, wrong arity or type)."""


@dataclass(frozen=True, slots=True)
class GroundAction:
    """One instantiated action.

    Attributes:
        name: action name, lower case.
        args: object names bound to the parameters, in order.
        pre_pos: atoms that must be true (positive preconditions).
        pre_neg: atoms that must be false (negative preconditions, closed world).
        add: atoms made true. delete: atoms made false (applied before ``add``).
        static_failures: preconditions that are false for these arguments whatever the state, as
            text: equalities (e.g. ``"(not (= a a))"``) and atoms of static predicates false in the
            initial state; a non-empty tuple makes the action never applicable. Static preconditions
            that hold are not in ``pre_pos``/``pre_neg``.
    """

    name: str
    args: tuple[str, ...]
    pre_pos: frozenset
    pre_neg: frozenset
    add: frozenset
    delete: frozenset
    static_failures: tuple[str, ...] = ()

    def applicable(self, state: frozenset) -> bool:
        """True if every precondition holds in ``state``."""
        return not self.static_failures and self.pre_pos <= state and self.pre_neg.isdisjoint(state)

    def apply(self, state: frozenset) -> frozenset:
        """The successor state: ``(state - delete) | add`` (VAL: delete then add)."""
        return (state - self.delete) | self.add

    def unsatisfied(self, state: frozenset) -> list[str]:
        """The preconditions false in ``state``, as PDDL literals (``"(clear b)"``, ``"(not (on a b))"``)."""
        missing = [atom_str(a) for a in sorted(self.pre_pos - state)]
        missing += [f"(not {atom_str(a)})" for a in sorted(self.pre_neg & state)]
        return list(self.static_failures) + missing

    def __str__(self) -> str:
        return "(" + " ".join((self.name, *self.args)) + ")"


# An atom template: a predicate name and, per position, a parameter index (int) or a constant (str).
Template = tuple[str, tuple]


def _instantiate(template: Template, args: tuple[str, ...]) -> Atom:
    pred, terms = template
    return (pred, *[args[t] if type(t) is int else t for t in terms])


@dataclass(frozen=True)
class ActionSchema:
    """A lifted action: typed parameters and templated preconditions and effects.

    Attributes:
        name: action name. parameters: parameter names (without ``?``).
        parameter_types: per parameter, the tuple of allowed types (``either``); ``("object",)`` if untyped.
        pre_pos, pre_neg, add, delete: atom templates.
        equalities: ``(positive, term1, term2)`` for ``(= ?x ?y)`` / ``(not (= ?x ?y))`` preconditions.
    """

    name: str
    parameters: tuple[str, ...]
    parameter_types: tuple[tuple[str, ...], ...]
    pre_pos: tuple[Template, ...]
    pre_neg: tuple[Template, ...]
    add: tuple[Template, ...]
    delete: tuple[Template, ...]
    equalities: tuple[tuple[bool, object, object], ...] = ()

    @property
    def arity(self) -> int:
        return len(self.parameters)

    def ground(self, args: tuple[str, ...], static: frozenset = frozenset(), init: frozenset = frozenset()) -> GroundAction:
        """Instantiate with ``args`` (already checked for arity and type by :meth:`Task.ground_action`).

        Preconditions on ``static`` predicates (never changed by any action) are decided here, once,
        against ``init``: false ones go to ``static_failures``, true ones are dropped, so states need
        not carry static atoms (e.g. Sokoban's ~1,400 ``adjacent`` atoms on a 20x20 grid).
        """
        failures = []
        for positive, left, right in self.equalities:
            lv = args[left] if type(left) is int else left
            rv = args[right] if type(right) is int else right
            if (lv == rv) != positive:
                failures.append(f"(= {lv} {rv})" if positive else f"(not (= {lv} {rv}))")
        pre_pos, pre_neg = [], []
        for templates, positive, fluent in ((self.pre_pos, True, pre_pos), (self.pre_neg, False, pre_neg)):
            for template in templates:
                atom = _instantiate(template, args)
                if template[0] not in static:
                    fluent.append(atom)
                elif (atom in init) != positive:
                    failures.append(atom_str(atom) if positive else f"(not {atom_str(atom)})")
        return GroundAction(
            self.name,
            args,
            frozenset(pre_pos),
            frozenset(pre_neg),
            frozenset(_instantiate(t, args) for t in self.add),
            frozenset(_instantiate(t, args) for t in self.delete),
            tuple(failures),
        )


@dataclass
class Task:
    """A planning task: a domain's action schemas over a problem's objects, initial state and goal.

    Build one with :func:`itdeploy_lite.planning.load_task` or :func:`~itdeploy_lite.planning.parse_task`.
    Ground actions are instantiated on demand and cached, so a task is grounded once and reused
    across many plans.

    Attributes:
        name: problem name. domain_name: domain name.
        objects: object (and domain constant) name -> its declared type (``"object"`` if untyped).
        type_parents: type -> parent type (``"object"`` at the top).
        schemas: action name -> :class:`ActionSchema`.
        init: the initial state. goal_pos / goal_neg: goal atoms that must be true / false.
        predicates: predicate name -> arity.
        typed: whether the domain declares ``:typing``.
        static_predicates: predicates no action adds or deletes (decided once, at grounding).
    """

    name: str
    domain_name: str
    objects: dict[str, str]
    type_parents: dict[str, str]
    schemas: dict[str, ActionSchema]
    init: frozenset
    goal_pos: frozenset
    goal_neg: frozenset
    predicates: dict[str, int]
    typed: bool = False
    static_predicates: frozenset = frozenset()
    domain_file: str = "<domain>"
    problem_file: str = "<problem>"
    _cache: dict = field(default_factory=dict, repr=False, compare=False)
    _all_actions: list | None = field(default=None, repr=False, compare=False)
    _fluent_init: frozenset | None = field(default=None, repr=False, compare=False)

    # --- types -------------------------------------------------------------------------------------
    def is_of_type(self, obj: str, type_name: str) -> bool:
        """True if object ``obj`` is of ``type_name`` or one of its subtypes."""
        current = self.objects.get(obj)
        seen = set()
        while current is not None and current not in seen:
            if current == type_name:
                return True
            seen.add(current)
            current = self.type_parents.get(current)
        return type_name == "object"

    def objects_of_type(self, types: tuple[str, ...]) -> list[str]:
        """Sorted objects that belong to any of ``types``."""
        return sorted(o for o in self.objects if any(self.is_of_type(o, t) for t in types))

    # --- ground actions ----------------------------------------------------------------------------
    def ground_action(self, name: str, args: tuple[str, ...] | list[str]) -> GroundAction:
        """The ground action ``(name args...)``; names are case-insensitive.

        Raises:
            PlanStepError: unknown action, wrong number of arguments, unknown object, or an object of
                the wrong type (VAL: "Bad plan description!"; VAL ignores extra arguments in untyped
                domains and crashes on missing ones - we reject both).
        """
        key = (name, tuple(args))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        lname, largs = name.lower(), tuple(a.lower() for a in args)
        schema = self.schemas.get(lname)
        if schema is None:
            raise PlanStepError(f"unknown action '{lname}' (the domain has: {', '.join(sorted(self.schemas))})")
        if len(largs) != schema.arity:
            raise PlanStepError(
                f"action '{lname}' takes {schema.arity} argument(s) "
                f"({' '.join('?' + p for p in schema.parameters)}), got {len(largs)}"
            )
        for param, types, arg in zip(schema.parameters, schema.parameter_types, largs):
            if arg not in self.objects:
                raise PlanStepError(f"unknown object '{arg}' (argument ?{param} of '{lname}')")
            if self.typed and not any(self.is_of_type(arg, t) for t in types):
                raise PlanStepError(
                    f"object '{arg}' is of type '{self.objects[arg]}', but ?{param} of '{lname}' "
                    f"needs {' or '.join(types)}"
                )
        action = schema.ground(largs, self.static_predicates, self.init)
        self._cache[key] = action
        return action

    def ground_actions(self) -> list[GroundAction]:
        """Every ground action whose static preconditions hold in the initial state (computed once).

        A predicate is static when no action adds or deletes it; actions needing a false static atom
        can never apply and are left out. Meant for search on small tasks.
        """
        if self._all_actions is None:
            self._all_actions = ground_all_actions(self)
        return self._all_actions

    def applicable_actions(self, state: frozenset) -> Iterator[GroundAction]:
        """The ground actions applicable in ``state``, in a fixed order."""
        return (a for a in self.ground_actions() if a.applicable(state))

    @property
    def fluent_init(self) -> frozenset:
        """The initial state without static atoms (what validation and search carry from step to step)."""
        if self._fluent_init is None:
            self._fluent_init = frozenset(a for a in self.init if a[0] not in self.static_predicates)
        return self._fluent_init

    @property
    def static_atoms(self) -> frozenset:
        """The atoms of static predicates (true in every reachable state)."""
        return self.init - self.fluent_init

    # --- goal --------------------------------------------------------------------------------------
    def goal_reached(self, state: frozenset) -> bool:
        """True if every positive goal atom is in ``state`` and no negative one is."""
        return self.goal_pos <= state and self.goal_neg.isdisjoint(state)

    def unmet_goals(self, state: frozenset) -> list[str]:
        """The goal literals false in ``state``, as PDDL text."""
        unmet = [atom_str(a) for a in sorted(self.goal_pos - state)]
        return unmet + [f"(not {atom_str(a)})" for a in sorted(self.goal_neg & state)]


def ground_all_actions(task: Task) -> list[GroundAction]:
    """Every type-correct ground action whose static preconditions hold initially.

    Parameters are bound one at a time; a static positive precondition (a predicate no action
    changes) is checked against the initial state as soon as its arguments are bound, which keeps
    e.g. Sokoban's ``push`` (five parameters) cheap to ground.

    Returns:
        Ground actions sorted by name and arguments.
    """
    result = []
    for schema in task.schemas.values():
        static = [t for t in schema.pre_pos if t[0] in task.static_predicates]
        # check each static template after its last parameter is bound
        ready: dict[int, list] = {}
        for pred, terms in static:
            last = max((t for t in terms if type(t) is int), default=-1)
            ready.setdefault(last, []).append((pred, terms))
        domains = [task.objects_of_type(types) for types in schema.parameter_types]

        def holds(bound: list[str], templates) -> bool:
            return all((pred, *[bound[t] if type(t) is int else t for t in terms]) in task.init for pred, terms in templates)

        if not holds([], ready.get(-1, [])):
            continue

        def extend(bound: list[str]):
            i = len(bound)
            if i == schema.arity:
                action = schema.ground(tuple(bound), task.static_predicates, task.init)
                if not action.static_failures:
                    result.append(action)
                return
            for obj in domains[i]:
                bound.append(obj)
                if holds(bound, ready.get(i, [])):
                    extend(bound)
                bound.pop()

        extend([])
    result.sort(key=lambda a: (a.name, a.args))
    return result
