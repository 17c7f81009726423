"""Breadth-first search: optimal (shortest) plans for small unit-cost tasks, in pure Python.

Used to make reference plans of small tasks quickly (thousands per minute for 3-5 blocks), where
starting Fast Downward per task would dominate; larger tasks go to :mod:`~itdeploy_lite.planning.planner`.
"""

from __future__ import annotations

from collections import deque

from itdeploy_lite.planning.task import GroundAction, Task


def breadth_first_search(task: Task, max_states: int = 200_000) -> list[GroundAction] | None:
    """A shortest plan, or ``None`` if the goal is unreachable.

    Args:
        task: the task (its ground actions are computed once, see :meth:`Task.ground_actions`).
        max_states: give up after visiting this many states.

    Returns:
        The plan as ground actions (``str(action)`` gives ``"(name arg ...)"``); ``[]`` if the goal
        holds initially; ``None`` if the goal is unreachable.

    Raises:
        RuntimeError: more than ``max_states`` states were visited (the task is too large for BFS;
            use Fast Downward).
    """
    if task.goal_reached(task.init):
        return []
    goal_pos, goal_neg = task.goal_pos - task.static_atoms, task.goal_neg
    if not (task.goal_pos & task.static_atoms) <= task.init or goal_neg & task.static_atoms:
        return None  # a static goal atom is false forever
    start = task.fluent_init  # states without static atoms: smaller sets, faster hashing
    parents: dict[frozenset, tuple[frozenset, GroundAction] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for action in task.applicable_actions(state):
            succ = action.apply(state)
            if succ in parents:
                continue
            parents[succ] = (state, action)
            if goal_pos <= succ and goal_neg.isdisjoint(succ):
                plan = []
                while parents[succ] is not None:
                    succ, act = parents[succ]
                    plan.append(act)
                return plan[::-1]
            if len(parents) > max_states:
                raise RuntimeError(f"breadth-first search visited more than {max_states} states on {task.name}")
            queue.append(succ)
    return None
