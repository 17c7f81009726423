"""Planning core: PDDL reading, grounding, VAL-exact validation, plan text, search, generators, planners.

Typical use::

    from itdeploy_lite.planning import load_task, validate
    task = load_task("blocksworld", "problem.pddl")
    result = validate(task, model_output_text)
    result.valid, result.failed_step, result.reason
"""

from itdeploy_lite.planning.domains import BUILTIN_DOMAINS, domain_path
from itdeploy_lite.planning.grounding import build_task, load_task, parse_task
from itdeploy_lite.planning.pddl_io import PDDLError
from itdeploy_lite.planning.plan_text import MalformedStep, PlanStep, canonical_plan, parse_plan
from itdeploy_lite.planning.search import breadth_first_search
from itdeploy_lite.planning.task import GroundAction, PlanStepError, Task, atom_str
from itdeploy_lite.planning.validate import ValidationResult, validate

__all__ = [
    "BUILTIN_DOMAINS",
    "GroundAction",
    "MalformedStep",
    "PDDLError",
    "PlanStep",
    "PlanStepError",
    "Task",
    "ValidationResult",
    "atom_str",
    "breadth_first_search",
    "build_task",
    "canonical_plan",
    "domain_path",
    "load_task",
    "parse_plan",
    "parse_task",
    "validate",
]
