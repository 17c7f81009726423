"""The task sets of a run: the fixed held-out tasks, the deployment pool (protocol ``pool``), fresh tasks
per generation (protocol ``fresh``), or the user's problem files (``--tasks``), and how deployment is
spread over task sizes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from itdeploy_lite.config import RunConfig
from itdeploy_lite.runtime import derive_seed


@dataclass
class LoopTask:
    """A task the loop deploys on or evaluates: ``task_id``, a ``size`` label (e.g. ``"b5"``), the
    grounded :class:`~itdeploy_lite.planning.Task` and, for generated tasks, the generator's ``key``
    (initial state and goal atoms, to keep held-out tasks out of deployment)."""

    task_id: str
    size: str
    task: object
    key: tuple = ()
    pddl: str = ""


def parse_sizes(domain: str, text: str, protocol: str = "fresh") -> list[dict]:
    """``"blocks=4;blocks=5"`` (or ``"4;5"`` for Blocksworld) -> size dicts; empty: the domain's
    default for ``protocol`` (``pool``: its pool sizes; ``fresh``: the ``train`` split's).

    Raises:
        ValueError: a malformed entry (named) or an unknown domain.
    """
    from itdeploy_lite.planning.generators import parse_size
    from itdeploy_lite.planning.generators.splits import BLOCK_NAMES, POOLS, SPLITS

    if not text.strip():
        defaults = POOLS.get(domain) if protocol == "pool" else SPLITS.get(domain, {}).get("train")
        if defaults is None:
            raise ValueError(f"no default sizes for domain {domain!r}; give --sizes or --tasks")
        return [dict(s) for s in defaults]
    sizes = []
    for entry in filter(None, (e.strip() for e in text.replace(" ", "").split(";"))):
        if entry.isdigit() and domain == "blocksworld":
            sizes.append({"blocks": int(entry), "name_pool": max(BLOCK_NAMES, int(entry))})
            continue
        try:
            sizes.append(parse_size(entry))
        except ValueError as err:
            raise ValueError(f"--sizes: {err}") from None
    if not sizes:
        raise ValueError(f"--sizes {text!r}: no size given")
    return sizes


def size_label(domain: str, size: dict) -> str:
    """The size's short tag without the Blocksworld name pool, e.g. ``"b5"`` or ``"r1w4c1o2"``."""
    from itdeploy_lite.planning.generators import size_tag

    return size_tag(domain, {k: v for k, v in size.items() if k != "name_pool"})


def domain_pddl(domain: str) -> str:
    """The PDDL text of a built-in domain's name or of a domain file (:func:`~itdeploy_lite.planning.domain_path`)."""
    from itdeploy_lite.planning import domain_path

    return domain_path(domain).read_text(encoding="utf-8")


def heldout_tasks(config: RunConfig) -> list[LoopTask]:
    """The FIXED evaluation set: ``heldout_per_size`` tasks per size of the domain's ``heldout`` split
    (split seed fixed, independent of ``config.seed``), or the user's ``--tasks`` problems."""
    from itdeploy_lite.planning import parse_task
    from itdeploy_lite.planning.generators.splits import make_split

    if config.tasks:
        return user_tasks(config)
    text = domain_pddl(config.domain)
    return [LoopTask(p.name, size_label(config.domain, p.size), parse_task(text, p.pddl, config.domain, p.name), p.key, p.pddl)
            for p in make_split(config.domain, "heldout", config.heldout_per_size)]


def user_tasks(config: RunConfig) -> list[LoopTask]:
    """The problems of ``config.tasks`` (``*.pddl`` except domain files), labelled by object count.

    Raises:
        ValueError: the folder holds no problem file.
        PDDLError: a problem that does not parse (the message names the file).
    """
    from itdeploy_lite.planning import domain_path, load_task

    folder = Path(config.tasks)
    domain_file = domain_path(config.domain)
    problems = [p for p in sorted(folder.glob("*.pddl"))
                if "(problem" in p.read_text(encoding="utf-8", errors="replace").lower()]
    if not problems:
        raise ValueError(f"--tasks {folder}: no problem files (*.pddl)")
    out = []
    for path in problems:
        task = load_task(domain_file, path)
        out.append(LoopTask(path.stem, f"{len(task.objects)}obj", task, pddl=path.read_text(encoding="utf-8")))
    return out


def pool_tasks(config: RunConfig, exclude: set) -> list[LoopTask]:
    """The fixed deployment pool (protocol ``pool``): ``tasks_per_generation`` tasks spread evenly over
    the sizes, drawn once from the pool seed (the same tasks for every run seed and generation), none
    equal to a held-out task (``exclude``: their keys).

    Raises:
        ValueError: a size too small for its share of tasks (from the generator).
    """
    from itdeploy_lite.planning import parse_task
    from itdeploy_lite.planning.generators.splits import make_pool

    text = domain_pddl(config.domain)
    allocation = uniform_allocation(config)
    tasks = []
    for size in parse_sizes(config.domain, config.sizes, config.protocol):
        label = size_label(config.domain, size)
        for p in make_pool(config.domain, allocation[label], [size], exclude):
            tasks.append(LoopTask(p.name, label, parse_task(text, p.pddl, config.domain, p.name), p.key, p.pddl))
    return tasks


def fresh_tasks(config: RunConfig, generation: int, allocation: dict[str, int], exclude: set) -> list[LoopTask]:
    """Generate this generation's deployment tasks: ``allocation[size label]`` new tasks per size.

    Tasks are drawn with a seed of ``(config.seed, generation, size)``, so every generation sees new tasks;
    a task equal to a held-out one (same initial state and goal, in ``exclude``) is never drawn.
    """
    from itdeploy_lite.planning import parse_task
    from itdeploy_lite.planning.generators import generate_problems

    text = domain_pddl(config.domain)
    tasks = []
    for size in parse_sizes(config.domain, config.sizes, config.protocol):
        label = size_label(config.domain, size)
        count = allocation.get(label, 0)
        if count == 0:
            continue
        problems = generate_problems(
            config.domain, size, count, seed=derive_seed(config.seed, generation, label),
            prefix=f"{config.domain}-g{generation}-{label}", accept=lambda p: p.key not in exclude,
        )
        tasks += [LoopTask(p.name, label, parse_task(text, p.pddl, config.domain, p.name), p.key, p.pddl) for p in problems]
    return tasks


def deployment_tasks(config: RunConfig, generation: int, exclude: set, allocation: dict[str, int] | None = None
                     ) -> list[LoopTask]:
    """The tasks generation ``generation`` is deployed on: the user's ``--tasks``, the fixed pool (protocol
    ``pool``, the same every generation) or fresh tasks (protocol ``fresh``; ``allocation`` tasks per size
    label, default :func:`uniform_allocation`). ``exclude``: the held-out tasks' keys."""
    if config.tasks:
        return user_tasks(config)
    if config.protocol == "pool":
        return pool_tasks(config, exclude)
    return fresh_tasks(config, generation, allocation or uniform_allocation(config), exclude)


#: Fresh tasks per generation with protocol ``fresh`` when ``tasks_per_generation`` is 0.
FRESH_TASKS = 150


def task_count(config: RunConfig) -> int:
    """Tasks deployed on per generation: ``tasks_per_generation``, or if it is 0 the domain's default: with
    protocol ``pool`` :data:`~itdeploy_lite.planning.generators.splits.POOL_TASKS_PER_SIZE` per pool size
    (Blocksworld: 167 x 6 = 1,002 tasks; the measured levers behind it are in the README), with ``fresh``
    :data:`FRESH_TASKS`."""
    from itdeploy_lite.planning.generators.splits import POOL_TASKS_PER_SIZE

    if config.tasks_per_generation:
        return config.tasks_per_generation
    if config.protocol == "pool":
        return POOL_TASKS_PER_SIZE.get(config.domain, 25) * len(parse_sizes(config.domain, config.sizes, config.protocol))
    return FRESH_TASKS


def uniform_allocation(config: RunConfig) -> dict[str, int]:
    """:func:`task_count` tasks spread evenly over the sizes (the remainder to the first sizes)."""
    labels = [size_label(config.domain, s) for s in parse_sizes(config.domain, config.sizes, config.protocol)]
    base, extra = divmod(task_count(config), len(labels))
    return {label: base + (i < extra) for i, label in enumerate(labels)}


def frontier_allocation(config: RunConfig, pass_at_k: dict[str, float]) -> tuple[dict[str, int], dict[str, int]]:
    """Spread the sampling budget towards the frontier (lever (b) of the issue).

    Frontier sizes are those with ``0 < pass@k < 1`` in the previous generation's deployment, plus the
    first size with pass@k = 0 above a size with pass@k > 0. They get weight 1 and ``frontier_samples``
    samples per task; the others weight ``frontier_floor`` and ``samples_per_task``. The total number of
    samples stays ``tasks_per_generation * samples_per_task``.

    Args:
        pass_at_k: size label -> the previous generation's pass@k (fraction of tasks with a valid sample).

    Returns:
        ``(tasks per size label, samples per task per size label)``; uniform if no size is on the frontier.
    """
    labels = [size_label(config.domain, s) for s in parse_sizes(config.domain, config.sizes, config.protocol)]
    frontier = {l for l in labels if 0 < pass_at_k.get(l, 0) < 1}
    for low, high in zip(labels, labels[1:]):
        if pass_at_k.get(low, 0) > 0 and pass_at_k.get(high, 0) == 0:
            frontier.add(high)
            break
    if not frontier:
        return uniform_allocation(config), {l: config.samples_per_task for l in labels}
    budget = task_count(config) * config.samples_per_task
    weight = {l: 1.0 if l in frontier else config.frontier_floor for l in labels}
    samples = {l: config.frontier_samples if l in frontier else config.samples_per_task for l in labels}
    total = sum(weight.values())
    tasks = {l: int(round(budget * weight[l] / total / samples[l])) for l in labels}
    return tasks, samples
