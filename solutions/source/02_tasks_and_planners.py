# %% [markdown]
# # Lab 02 — Tasks, generators and planners
#
# Iterative deployment (Corrêa et al., [arXiv 2512.24940](https://arxiv.org/abs/2512.24940)) needs a
# steady supply of **tasks**: in every **generation** the model is deployed on fresh ones, and it is
# evaluated on held-out tasks that are *larger* than the ones it trained on. This lab looks at where the
# tasks come from and how hard they are:
#
# - the package's seeded **generators** and its named splits (`pretrain`, `train`, `heldout`);
# - how fast a task's state space grows with its size (you count it: exercise 1);
# - classical **planners** as a yardstick: breadth-first search, and Fast Downward in a satisficing
#   configuration (`lama-first`) and an optimal one (A* with LM-cut);
# - the length of their plans per size (exercise 2) and how far from optimal the fast planner is
#   (exercise 3). Shorter plans matter: the paper's curation keeps the shortest valid plan per task.
#
# *Run time, measured: about 18 s on a CPU, top to bottom (`pytest --nbmake`, one torch thread, on a
# 2-core machine shared with two other long jobs; expect less on a free laptop). The graded exercise cells
# alone load in a few seconds.*

# %% tags=["setup"]
import math
from collections import deque

from itdeploy_lite.planning import Task, domain_path, parse_task

# %% [markdown]
# ## Generators and splits
#
# A generator draws a random, solvable task of a given size from a seed, with a witness plan that proves
# it solvable. The same seed gives byte-identical PDDL on every machine.

# %%
from itdeploy_lite.planning.generators import SPLITS, generate_problems, make_split

for split, sizes in SPLITS["blocksworld"].items():
    print(f"{split:9}", [size["blocks"] for size in sizes], "blocks")

problem = generate_problems("blocksworld", {"blocks": 6}, count=1, seed=0)[0]
print(problem.name, "— witness plan of", len(problem.witness_plan), "steps")

# %% [markdown]
# How big is a task? Objects, atoms in the initial state, and ground actions all grow with the number of
# blocks — the ground actions roughly quadratically (`stack` and `unstack` take two blocks).

# %%
blocksworld = domain_path("blocksworld").read_text()
print(f"{'blocks':>6} {'objects':>8} {'init atoms':>11} {'ground actions':>15}")
for blocks in range(3, 11):
    generated = generate_problems("blocksworld", {"blocks": blocks}, count=1, seed=0)[0]
    task = parse_task(blocksworld, generated.pddl)
    print(f"{blocks:6} {len(task.objects):8} {len(task.init):11} {len(task.ground_actions()):15}")

# %% [markdown]
# ## Exercise 1 — how many states?
#
# A planner searches the **state space**: every state reachable from the initial state by applying
# applicable ground actions. Count it with breadth-first search.

# %% tags=["exercise"]
def count_reachable_states(task: Task, max_states: int = 100_000) -> int:
    """The number of distinct states reachable from ``task.init``, the initial state included.

    Breadth-first search over states: start from ``task.init`` (a frozenset of atoms); the successors of
    a state are ``action.apply(state)`` for each ``action`` in ``task.applicable_actions(state)``.
    States are frozensets, so a ``set`` of them remembers the ones already seen.

    Args:
        task: a planning task (goal ignored).
        max_states: the largest count allowed.

    Returns:
        int: the number of reachable states (>= 1).

    Raises:
        RuntimeError: as soon as more than ``max_states`` distinct states have been found.
    """
    ### BEGIN SOLUTION
    seen = {task.init}
    queue = deque([task.init])
    while queue:
        state = queue.popleft()
        for action in task.applicable_actions(state):
            successor = action.apply(state)
            if successor not in seen:
                seen.add(successor)
                if len(seen) > max_states:
                    raise RuntimeError(f"more than {max_states} reachable states in {task.name}")
                queue.append(successor)
    return len(seen)
    ### END SOLUTION


# %% [markdown]
# With the hand empty, *n* blocks can stand in 1, 3, 13, 73, 501, 4051 … arrangements (towers are ordered
# lists, the set of towers is not); holding one block adds *n* times the arrangements of the other *n − 1*.

# %%
expected = {3: 13 + 3 * 3, 4: 73 + 4 * 13, 5: 501 + 5 * 73, 6: 4051 + 6 * 501}
state_counts = {}
for blocks, count in expected.items():
    generated = generate_problems("blocksworld", {"blocks": blocks}, count=1, seed=0)[0]
    state_counts[blocks] = count_reachable_states(parse_task(blocksworld, generated.pddl))
    print(f"{blocks} blocks: {state_counts[blocks]:6} reachable states (by hand: {count})")
assert state_counts == expected

# %% [markdown]
# Each extra block multiplies the state space by a factor that itself grows: 5.7x, 6.9x and 8.2x from 3 to
# 6 blocks (the counts above), and by the same formula about 13x from 9 to 10 blocks, which have about 105
# million states.
# Breadth-first search is fine for the small tasks used to pre-train the embedded model (it gives
# *optimal* plans), but larger tasks need a real planner.

# %% [markdown]
# ## Planners: breadth-first search and Fast Downward
#
# `itdeploy_lite.planning.planner.solve` runs Fast Downward (from the `up-fast-downward` wheel) and
# checks its plan with the package's validator. `lama-first` returns the first plan of LAMA — fast, not
# necessarily short; `optimal=True` runs A* with the admissible LM-cut heuristic, whose plans are
# shortest (every action costs 1). We run both on three held-out tasks per size, 5 to 9 blocks.

# %%
import time

from itdeploy_lite.planning import breadth_first_search
from itdeploy_lite.planning.planner import planner_available, solve

assert planner_available(), "Fast Downward is missing: pip install up-fast-downward==1.0.0"
heldout = [p for p in make_split("blocksworld", "heldout", per_size=3) if p.size["blocks"] <= 9]
rows = []  # one dict per (task, planner)
start = time.perf_counter()
for generated in heldout:
    size = generated.size["blocks"]
    for planner, optimal in (("lama-first", False), ("astar(lmcut())", True)):
        result = solve("blocksworld", generated.pddl, optimal=optimal, timeout=60)
        length = len(result.plan) if result.status == "solved" else None
        rows.append({"task": generated.name, "size": size, "planner": planner, "length": length,
                     "seconds": result.seconds})
    rows.append({"task": generated.name, "size": size, "planner": "witness",
                 "length": len(generated.witness_plan), "seconds": 0.0})
    if size <= 6:
        bfs = breadth_first_search(parse_task(blocksworld, generated.pddl))
        rows.append({"task": generated.name, "size": size, "planner": "bfs", "length": len(bfs), "seconds": 0.0})
print(f"{len(heldout)} tasks, two Fast Downward configurations: {time.perf_counter() - start:.0f} s")
for row in rows[:8]:
    print(row)

# %% [markdown]
# ## Exercise 2 — mean plan length per size

# %% tags=["exercise"]
def mean_length_by_size(rows: list[tuple[int, int | None]]) -> dict[int, float | None]:
    """Mean plan length per task size, over the tasks that were solved.

    Args:
        rows: one ``(size, length)`` pair per task, ``length`` the number of plan steps or ``None`` if the
            planner found no plan. Sizes may come in any order and repeat.

    Returns:
        dict[int, float | None]: size -> the mean length of its solved tasks (a float), with the sizes in
        increasing order; ``None`` for a size none of whose tasks was solved. An empty ``rows`` gives ``{}``.
    """
    ### BEGIN SOLUTION
    lengths: dict[int, list[int]] = {}
    for size, length in rows:
        lengths.setdefault(size, [])
        if length is not None:
            lengths[size].append(length)
    return {size: (sum(found) / len(found) if found else None) for size, found in sorted(lengths.items())}
    ### END SOLUTION


# %%
import matplotlib.pyplot as plt

curves = {}
for planner in ("witness", "lama-first", "astar(lmcut())", "bfs"):
    pairs = [(row["size"], row["length"]) for row in rows if row["planner"] == planner]
    curves[planner] = mean_length_by_size(pairs)
    print(f"{planner:15}", {size: round(mean, 1) for size, mean in curves[planner].items() if mean is not None})
assert curves["bfs"] == {size: curves["astar(lmcut())"][size] for size in curves["bfs"]}  # both optimal

fig, ax = plt.subplots(figsize=(5, 3.2))
for planner, curve in curves.items():
    ax.plot(list(curve), list(curve.values()), marker="o", label=planner)
ax.set_xlabel("blocks")
ax.set_ylabel("mean plan length (steps)")
ax.set_title("Blocksworld held-out tasks")
ax.legend()
plt.show()

# %% [markdown]
# ## Exercise 3 — the optimality gap
#
# How much longer are LAMA's first plans than the shortest ones? Compare task by task.

# %% tags=["exercise"]
def optimality_gap(satisficing: dict[str, int | None], optimal: dict[str, int | None]) -> float:
    """The mean relative excess length of satisficing plans over optimal ones.

    Args:
        satisficing: task name -> the satisficing plan's length, or None if unsolved.
        optimal: task name -> the optimal plan's length, or None if unsolved.

    Returns:
        float: over the tasks solved in both dicts (a length that is not None in each), the mean of
        ``(satisficing - optimal) / optimal``; 0.0 means every satisficing plan was optimal, 0.5 means
        50 % longer on average. A task whose optimal length is 0 (goal true initially) counts as 0.0.

    Raises:
        ValueError: if no task is solved in both; or if a satisficing plan is shorter than the optimal
            one of the same task (then the "optimal" lengths are not optimal), naming the task.
    """
    ### BEGIN SOLUTION
    common = [t for t in satisficing if satisficing[t] is not None and optimal.get(t) is not None]
    if not common:
        raise ValueError("optimality_gap: no task is solved by both planners")
    excess = []
    for task in common:
        fast, best = satisficing[task], optimal[task]
        if fast < best:
            raise ValueError(f"optimality_gap: task {task}: satisficing length {fast} < optimal {best}")
        excess.append((fast - best) / best if best else 0.0)
    return sum(excess) / len(excess)
    ### END SOLUTION


# %%
for size in sorted({row["size"] for row in rows}):
    by_planner = {planner: {row["task"]: row["length"] for row in rows if row["size"] == size and row["planner"] == planner}
                  for planner in ("lama-first", "astar(lmcut())")}
    gap = optimality_gap(by_planner["lama-first"], by_planner["astar(lmcut())"])
    seconds = {p: sum(r["seconds"] for r in rows if r["size"] == size and r["planner"] == p) for p in by_planner}
    print(f"{size} blocks: lama-first plans {gap:5.1%} longer than optimal; "
          f"seconds lama-first {seconds['lama-first']:.1f}, optimal {seconds['astar(lmcut())']:.1f}")

# %% [markdown]
# On these sizes both configurations take a fraction of a second. The guarantee of optimality has a
# price that shows on larger tasks: here is a 14-block task, with a 10-second limit.

# %%
large = generate_problems("blocksworld", {"blocks": 14}, count=1, seed=3)[0]
for optimal in (False, True):
    result = solve("blocksworld", large.pddl, optimal=optimal, timeout=10)
    length = len(result.plan) if result.plan else "-"
    print(f"optimal={optimal!s:5}: {result.status:8} plan length {length:>3} in {result.seconds:4.1f} s")

# %% [markdown]
# ## What you saw
#
# - Tasks come from seeded generators; the held-out split contains sizes larger than any the model
#   trains on, which is how the paper measures generalisation.
# - The state space grows by a factor that itself grows with the size (5.7x from 3 to 4 blocks, 8.2x from
#   5 to 6, about 13x from 9 to 10): breadth-first search is only for the smallest tasks.
# - Fast Downward solves the held-out tasks in well under a second each. LAMA's first plans are optimal
#   on some tasks and much longer on others (the gap above is their average); the optimal search is
#   as fast on small tasks and can run out of time on larger ones. The generators' witness plans are
#   valid but not always short.
# - Plan length is what the paper's curation rewards: among a task's valid plans, the shortest is kept.
#   Lab 03 deploys a model on such tasks; lab 04 curates its plans.
