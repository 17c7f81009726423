"""Drawing tasks from the generators: :func:`generate_problems` draws ``count`` distinct, non-trivial tasks of
one size from one seed; :func:`write_problems` writes them as ``<name>.pddl`` (and their witness plans);
:data:`GENERATORS` maps a domain to its generator and :func:`size_tag` names a size."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable, Iterable

import itdeploy_lite.planning.generators.blocksworld as blocksworld
import itdeploy_lite.planning.generators.childsnack as childsnack
import itdeploy_lite.planning.generators.ferry as ferry
import itdeploy_lite.planning.generators.floortile as floortile
import itdeploy_lite.planning.generators.gripper as gripper
import itdeploy_lite.planning.generators.miconic as miconic
import itdeploy_lite.planning.generators.rovers as rovers
import itdeploy_lite.planning.generators.satellite as satellite
import itdeploy_lite.planning.generators.sokoban as sokoban
import itdeploy_lite.planning.generators.spanner as spanner
import itdeploy_lite.planning.generators.transport as transport
from itdeploy_lite.planning.generators.problem import GeneratedProblem, check_keys, check_name

_MODULES = {
    "blocksworld": blocksworld, "rovers": rovers, "sokoban": sokoban, "gripper": gripper,
    # the other seven IPC 2023 learning-track domains (the paper's second experiment)
    "childsnack": childsnack, "ferry": ferry, "floortile": floortile, "miconic": miconic,
    "satellite": satellite, "spanner": spanner, "transport": transport,
}

#: Domain name -> ``generate(rng, name=None, **size)``.
GENERATORS: dict[str, Callable[..., GeneratedProblem]] = {name: m.generate for name, m in _MODULES.items()}

__all__ = [
    "GENERATORS",
    "GeneratedProblem",
    "SPLITS",
    "generate_problems",
    "make_split",
    "size_tag",
    "write_problems",
]


def _module(domain: str):
    if domain not in _MODULES:
        raise ValueError(f"no generator for domain {domain!r}; known: {', '.join(_MODULES)}")
    return _MODULES[domain]


def size_tag(domain: str, size: dict) -> str:
    """The short size part of problem names, e.g. ``size_tag("rovers", {...})`` -> ``"r1w4c1o2"``.

    Raises:
        ValueError: for an unknown domain or a size missing a parameter the tag needs.
    """
    module = _module(domain)
    check_keys(size, module.SIZE_KEYS, domain)
    try:
        return module.size_tag(size)
    except KeyError as err:
        expected = list(module.SIZE_KEYS)
        raise ValueError(f"missing size parameter {err} for {domain} (expected {expected})") from None


def parse_size(text: str) -> dict[str, int]:
    """One size from text: ``"blocks=5"`` or ``"rovers=1,waypoints=4"`` -> ``{"rovers": 1, "waypoints": 4}``
    (dashes in keys become underscores). The one size parser of the CLI (``--size``, ``--sizes``).

    Raises:
        ValueError: an entry that is not ``KEY=INT`` (non-negative), or no entry (the message quotes the text).
    """
    size = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip().isdigit():
            raise ValueError(f"size {text!r}: expected KEY=INT[,KEY=INT...], e.g. blocks=5")
        size[key.strip().replace("-", "_")] = int(value)
    if not size:
        raise ValueError(f"size {text!r}: no KEY=INT given, e.g. blocks=5")
    return size


def generate_problems(
    domain: str,
    size: dict,
    count: int,
    seed: int,
    prefix: str | None = None,
    accept: Callable[[GeneratedProblem], bool] | None = None,
    max_tries: int | None = None,
) -> list[GeneratedProblem]:
    """Generate ``count`` distinct, non-trivial tasks of one domain and size, reproducibly.

    The same arguments give byte-identical PDDL on every run and machine (one ``random.Random(seed)``,
    no dependence on hash order). A task is rejected if its goal already holds initially, if it repeats
    an earlier task (same initial state and goal as sets of atoms), or if ``accept`` returns False.

    Args:
        domain: a key of :data:`GENERATORS` (``"blocksworld"``, ``"ferry"``, ...).
        size: the generator's size parameters, e.g. ``{"blocks": 5}``.
        count: how many tasks (>= 0).
        seed: the random seed (an int).
        prefix: problem names are ``<prefix>-<index>`` (index 000, 001, ...); default
            ``<domain>-<size tag>-s<seed>``.
        accept: optional extra filter on generated tasks.
        max_tries: generator calls allowed; default ``20 * count + 100``.

    Returns:
        ``count`` :class:`GeneratedProblem` s, in generation order.

    Raises:
        ValueError: for an unknown domain, bad size, count or seed, or if ``count`` distinct
            non-trivial tasks are not found within ``max_tries`` calls (the size's task space is too
            small for ``count``).
    """
    generate = _module(domain).generate
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be an int >= 0, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if prefix is None:
        seed_part = f"s{seed}" if seed >= 0 else f"sm{-seed}"  # a name cannot hold "s-3"
        prefix = f"{domain}-{size_tag(domain, size)}-{seed_part}"
    check_name(prefix, "prefix")
    max_tries = 20 * count + 100 if max_tries is None else max_tries

    rng = random.Random(seed)
    problems: list[GeneratedProblem] = []
    seen: set = set()
    for _ in range(max_tries):
        if len(problems) == count:
            break
        problem = generate(rng, name=f"{prefix}-{len(problems):03d}", **size)
        if problem.trivial or problem.key in seen or (accept is not None and not accept(problem)):
            continue
        seen.add(problem.key)
        problems.append(problem)
    if len(problems) < count:
        raise ValueError(
            f"found only {len(problems)} of {count} distinct non-trivial {domain} tasks of size {size} "
            f"in {max_tries} tries (seed {seed}); ask for fewer tasks or a larger size"
        )
    return problems


def write_problems(
    problems: Iterable[GeneratedProblem], out_dir: str | Path, witness: bool = True
) -> list[Path]:
    """Write each problem to ``<out_dir>/<name>.pddl`` and, if ``witness``, its witness plan to
    ``<out_dir>/witness/<name>.plan`` (one step per line).

    Returns:
        The paths of the problem files, in order.

    Raises:
        ValueError: if two problems share a name (one file would overwrite the other).
    """
    out_dir = Path(out_dir)
    problems = list(problems)
    names = [p.name for p in problems]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"problem names must be unique to be written to one folder; repeated: {duplicates}")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for problem in problems:
        path = out_dir / f"{problem.name}.pddl"
        path.write_text(problem.pddl, encoding="utf-8")
        paths.append(path)
        if witness and problem.witness_plan is not None:
            (out_dir / "witness").mkdir(exist_ok=True)
            plan = "".join(step + "\n" for step in problem.witness_plan)
            (out_dir / "witness" / f"{problem.name}.plan").write_text(plan, encoding="utf-8")
    return paths
