"""Intervals for the labs' claims: percentile bootstrap over tasks (issue 13).

A run's held-out solved fraction is a mean over tasks (150 in the default run: 25 per size), so one task
more or less moves it by 1/150. :func:`bootstrap_interval` resamples the tasks with replacement and
reports the central ``level`` interval of the statistic; :func:`difference_interval` does the same for the
difference of two independent sets of tasks. The saved results (``benchmarks/results/fidelity.json``)
keep per-size fractions, not per-task outcomes, so :func:`outcomes_by_size` rebuilds the 0/1 outcomes
from a fraction and the number of tasks (exact for the per-size counts, but without the pairing of tasks
across generations: intervals on a difference between generations are then those of independent samples,
wider than a paired bootstrap would give).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def bootstrap_interval(outcomes: Sequence[float], statistic: Callable[[Sequence[float]], float] = _mean,
                       resamples: int = 4000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over ``outcomes`` (e.g. one 0/1 per task).

    Args:
        outcomes: the per-task values.
        statistic: computed on each resample (default: the mean).
        resamples: number of bootstrap resamples.
        level: the interval's coverage, in (0, 1).
        seed: seed of the resampling.

    Returns:
        ``(low, high)``.

    Raises:
        ValueError: no outcomes, ``resamples < 1`` or ``level`` outside (0, 1).
    """
    if not outcomes or resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need outcomes, resamples >= 1 and 0 < level < 1; got {len(outcomes)}, {resamples}, {level}")
    rng = random.Random(seed)
    values = list(outcomes)
    stats = sorted(statistic(rng.choices(values, k=len(values))) for _ in range(resamples))
    tail = (1 - level) / 2
    return stats[int(tail * (resamples - 1))], stats[int(round((1 - tail) * (resamples - 1)))]


def difference_interval(before: Sequence[float], after: Sequence[float], resamples: int = 4000,
                        level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(after) - mean(before)``, the two resampled independently.

    Raises:
        ValueError: either sequence empty, or bad ``resamples``/``level`` (as :func:`bootstrap_interval`).
    """
    if not before or not after or resamples < 1 or not 0 < level < 1:
        raise ValueError("need two non-empty samples, resamples >= 1 and 0 < level < 1")
    rng = random.Random(seed)
    a, b = list(before), list(after)
    stats = sorted(_mean(rng.choices(b, k=len(b))) - _mean(rng.choices(a, k=len(a))) for _ in range(resamples))
    tail = (1 - level) / 2
    return stats[int(tail * (resamples - 1))], stats[int(round((1 - tail) * (resamples - 1)))]


def outcomes_by_size(by_size: dict[str, float], tasks_per_size: int) -> list[int]:
    """0/1 outcomes of the tasks behind per-size solved fractions: ``round(f * n)`` ones per size.

    Raises:
        ValueError: a fraction that is not a whole number of tasks out of ``tasks_per_size`` (to 1e-6), so a
            wrong task count is caught.
    """
    out = []
    for size, fraction in by_size.items():
        solved = round(fraction * tasks_per_size)
        if abs(solved - fraction * tasks_per_size) > 1e-6 * max(1, tasks_per_size) + 1e-3:
            raise ValueError(f"{size}: {fraction} is not a whole number of {tasks_per_size} tasks")
        out += [1] * solved + [0] * (tasks_per_size - solved)
    return out
