"""From parsed PDDL (the ``pddl`` library's objects) to a :class:`~itdeploy_lite.planning.task.Task`.

Supported fragment (what VAL checks for our domains): STRIPS with ``:typing`` (including ``either``),
``:negative-preconditions`` and ``:equality``; preconditions and goals are conjunctions of literals;
effects are conjunctions of literals. Anything else (disjunction, quantifiers, conditional effects,
numeric fluents) raises :class:`~itdeploy_lite.planning.pddl_io.PDDLError` naming the construct.
"""

from __future__ import annotations

from pathlib import Path

from pddl.core import Domain, Problem
from pddl.logic.base import And, Not
from pddl.logic.predicates import EqualTo, Predicate
from pddl.logic.terms import Constant, Variable

from itdeploy_lite.planning.domains import domain_path
from itdeploy_lite.planning.pddl_io import (
    PDDLError,
    parse_domain_text,
    parse_problem_text,
    read_text,
)
from itdeploy_lite.planning.task import ActionSchema, GroundAction, Task


def _conjuncts(formula, source: str, where: str) -> list:
    """Flatten nested ``and`` into a list of literals."""
    if formula is None:
        return []
    if isinstance(formula, And):
        out = []
        for operand in formula.operands:
            out += _conjuncts(operand, source, where)
        return out
    if isinstance(formula, (Predicate, EqualTo)):
        return [formula]
    if isinstance(formula, Not) and isinstance(formula.argument, (Predicate, EqualTo)):
        return [formula]
    raise PDDLError(
        source,
        f"{where}: unsupported construct {formula} ({type(formula).__name__}); "
        "itdeploy_lite supports conjunctions of literals (STRIPS, typing, negative preconditions, equality)",
    )


def _term(term, params: dict[str, int], source: str, where: str):
    if isinstance(term, Variable):
        if term.name not in params:
            raise PDDLError(source, f"{where}: variable ?{term.name} is not a parameter")
        return params[term.name]
    return str(term.name)  # a constant (domain constant or, in a problem, an object)


def _template(pred: Predicate, params: dict[str, int], source: str, where: str):
    return (str(pred.name), tuple(_term(t, params, source, where) for t in pred.terms))


def _compile_action(action, source: str) -> ActionSchema:
    where = f"action '{action.name}'"
    params = {str(v.name): i for i, v in enumerate(action.parameters)}
    types = tuple(tuple(sorted(map(str, v.type_tags))) or ("object",) for v in action.parameters)
    pre_pos, pre_neg, equalities = [], [], []
    for lit in _conjuncts(action.precondition, source, f"{where} precondition"):
        positive = not isinstance(lit, Not)
        atom = lit if positive else lit.argument
        if isinstance(atom, EqualTo):
            equalities.append(
                (positive, _term(atom.left, params, source, where), _term(atom.right, params, source, where))
            )
        else:
            (pre_pos if positive else pre_neg).append(_template(atom, params, source, where))
    add, delete = [], []
    for lit in _conjuncts(action.effect, source, f"{where} effect"):
        if isinstance(lit, EqualTo) or (isinstance(lit, Not) and isinstance(lit.argument, EqualTo)):
            raise PDDLError(source, f"{where} effect: equality cannot be an effect")
        if isinstance(lit, Not):
            delete.append(_template(lit.argument, params, source, where))
        else:
            add.append(_template(lit, params, source, where))
    return ActionSchema(
        str(action.name),
        tuple(params),
        types,
        tuple(pre_pos),
        tuple(pre_neg),
        tuple(add),
        tuple(delete),
        tuple(equalities),
    )


def _ground_atom(pred: Predicate, objects: dict[str, str], arities: dict[str, int], source: str, where: str):
    if pred.name not in arities:
        raise PDDLError(source, f"{where}: unknown predicate '{pred.name}'")
    if len(pred.terms) != arities[pred.name]:
        raise PDDLError(source, f"{where}: '{pred.name}' takes {arities[pred.name]} argument(s), got {len(pred.terms)}")
    names = []
    for term in pred.terms:
        if not isinstance(term, Constant):
            raise PDDLError(source, f"{where}: variable ?{term.name} in a ground atom")
        if term.name not in objects:
            raise PDDLError(source, f"{where}: unknown object '{term.name}' in {pred}")
        names.append(str(term.name))
    return (str(pred.name), *names)


def build_task(domain: Domain, problem: Problem, domain_file: str = "<domain>", problem_file: str = "<problem>") -> Task:
    """Compile a parsed domain and problem into a :class:`Task`.

    Raises:
        PDDLError: unsupported constructs, undeclared predicates or objects in the initial state or
            goal, a problem naming another domain; the message names the file.
    """
    if problem.domain_name and problem.domain_name != domain.name:
        raise PDDLError(problem_file, f"problem is for domain '{problem.domain_name}', not '{domain.name}'")
    typed = any(str(r) == ":typing" for r in domain.requirements)
    # names become plain str: the pddl library's name type compares in Python (slow state updates)
    type_parents = {str(t): str(p or "object") for t, p in dict(domain.types).items()}
    objects: dict[str, str] = {str(c.name): str(c.type_tag or "object") for c in domain.constants}
    for obj in problem.objects:
        objects[str(obj.name)] = str(obj.type_tag or "object")
    arities = {str(p.name): p.arity for p in domain.predicates}
    schemas = {str(a.name): _compile_action(a, domain_file) for a in domain.actions}
    changed = {t[0] for s in schemas.values() for t in s.add + s.delete}
    init = frozenset(
        _ground_atom(p, objects, arities, problem_file, ":init")
        for p in problem.init
        if isinstance(p, Predicate)
    )
    goal_pos, goal_neg = set(), set()
    for lit in _conjuncts(problem.goal, problem_file, ":goal"):
        if isinstance(lit, EqualTo) or (isinstance(lit, Not) and isinstance(lit.argument, EqualTo)):
            raise PDDLError(problem_file, ":goal: equality in goals is not supported")
        if isinstance(lit, Not):
            goal_neg.add(_ground_atom(lit.argument, objects, arities, problem_file, ":goal"))
        else:
            goal_pos.add(_ground_atom(lit, objects, arities, problem_file, ":goal"))
    return Task(
        name=str(problem.name),
        domain_name=str(domain.name),
        objects=objects,
        type_parents=type_parents,
        schemas=schemas,
        init=init,
        goal_pos=frozenset(goal_pos),
        goal_neg=frozenset(goal_neg),
        predicates=arities,
        typed=typed,
        static_predicates=frozenset(arities) - changed,
        domain_file=domain_file,
        problem_file=problem_file,
    )


def parse_task(domain_text: str, problem_text: str, domain_file: str = "<domain>", problem_file: str = "<problem>") -> Task:
    """Build a task from PDDL text (e.g. a generated problem).

    Args:
        domain_text, problem_text: PDDL source (any case).
        domain_file, problem_file: names used in error messages.

    Raises:
        PDDLError: the text does not parse or is outside the supported fragment.
    """
    domain = parse_domain_text(domain_text, domain_file)
    problem = parse_problem_text(problem_text, problem_file)
    return build_task(domain, problem, domain_file, problem_file)


_DOMAIN_CACHE: dict[tuple[str, float], Domain] = {}


def load_task(domain: str | Path, problem: str | Path) -> Task:
    """Build a task from files.

    Args:
        domain: a built-in domain name (:data:`~itdeploy_lite.planning.domains.BUILTIN_DOMAINS`)
            or the path of a domain file. Parsed domains are cached by path and modification time.
        problem: the path of a problem file.

    Raises:
        FileNotFoundError: a missing file (the message names it).
        PDDLError: malformed or unsupported PDDL (the message names the file and, where known, the line).
    """
    dpath = domain_path(domain)
    key = (str(dpath.resolve()), dpath.stat().st_mtime)
    parsed = _DOMAIN_CACHE.get(key)
    if parsed is None:
        parsed = _DOMAIN_CACHE[key] = parse_domain_text(read_text(dpath, "domain file"), str(dpath))
    ppath = Path(problem)
    return build_task(parsed, parse_problem_text(read_text(ppath, "problem file"), str(ppath)), str(dpath), str(ppath))
