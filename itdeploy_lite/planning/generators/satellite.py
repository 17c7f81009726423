"""Random Satellite tasks (IPC 2023 learning track, typed STRIPS), solvable by construction, with a
witness plan.

The IPC 2023 learning-track generator's parameters (``satellite/generate_all.py`` of
https://github.com/ipc2023-learning/benchmarks): satellites, instruments, modes and directions (here
``targets``, the number of directions). As in the track's files, objects are ``sat1..``, ``ins1..``,
``mod1..`` and ``dir1..``; every satellite points at a random direction with power available; the goal
asks for images ``(have_image dir mod)``. Construction: every satellite has at least one instrument (so
``instruments >= satellites``), further instruments go to random satellites; every instrument supports
a random non-empty set of modes and every mode is supported by some instrument; every instrument's
calibration target is a random direction. The goal asks for 1 to ``targets`` images of random
directions in random modes.

The witness plan takes the images one by one with the first instrument supporting the mode: switch it
on (switching off its satellite's other instrument), calibrate it if needed, turn to the direction,
take the image. Domain file: ``data/domains/satellite/domain.pddl``.
"""

from __future__ import annotations

import random

from itdeploy_lite.planning.generators.problem import (
    GeneratedProblem,
    action,
    check_keys,
    make_problem,
    name_pool,
    numbered,
    size_int,
)

DOMAIN = "satellite"
SIZE_KEYS = ("satellites", "instruments", "modes", "targets", "name_pool")
MAX_OBJECTS = 1000


def size_tag(size: dict) -> str:
    """A short name part: ``{"satellites": 1, "instruments": 2, "modes": 2, "targets": 3}`` -> ``"s1i2m2t3"``."""
    tag = "s{satellites}i{instruments}m{modes}t{targets}".format(**size)
    return tag + (f"n{size['name_pool']}" if size.get("name_pool") else "")


def generate(rng: random.Random, name: str | None = None, **size) -> GeneratedProblem:
    """Generate one random Satellite task (IPC 2023 learning track).

    Args:
        rng: the random source (seed it for reproducible tasks).
        name: problem name; default ``"satellite-<size tag>"``.
        satellites (int, 1..1000): ``sat1..``.
        instruments (int, satellites..1000): ``ins1..``.
        modes (int, 1..1000): observation modes ``mod1..``.
        targets (int, 2..1000): directions ``dir1..`` (calibration targets and image subjects).
        name_pool (int, optional): draw each kind's numbered names at random from ``1..name_pool`` (see
            :func:`~itdeploy_lite.planning.generators.problem.numbered`) instead of numbering from 1.

    Returns:
        A :class:`GeneratedProblem` whose goal is 1 to ``targets`` ``have_image`` atoms (never true
        initially) and whose witness plan is valid.

    Raises:
        ValueError: for a missing, unknown or out-of-range size parameter.
    """
    check_keys(size, SIZE_KEYS, DOMAIN)
    n_satellites = size_int(size, "satellites", 1, MAX_OBJECTS)
    n_instruments = size_int(size, "instruments", n_satellites, MAX_OBJECTS)
    n_modes = size_int(size, "modes", 1, MAX_OBJECTS)
    n_targets = size_int(size, "targets", 2, MAX_OBJECTS)
    pool = name_pool(size, max(n_satellites, n_instruments, n_modes, n_targets))
    satellites = numbered("sat", n_satellites, rng, pool)
    instruments = numbered("ins", n_instruments, rng, pool)
    modes = numbered("mod", n_modes, rng, pool)
    directions = numbered("dir", n_targets, rng, pool)

    board = {i: satellites[k] if k < n_satellites else rng.choice(satellites) for k, i in enumerate(instruments)}
    supports = {i: [m for m in modes if rng.random() < 0.5] for i in instruments}
    for m in modes:
        if not any(m in ms for ms in supports.values()):
            supports[rng.choice(instruments)].append(m)
    for i in instruments:
        if not supports[i]:
            supports[i].append(rng.choice(modes))
    target = {i: rng.choice(directions) for i in instruments}
    pointing = {s: rng.choice(directions) for s in satellites}

    init = {("power_avail", s) for s in satellites} | {("pointing", s, d) for s, d in pointing.items()}
    init |= {("on_board", i, s) for i, s in board.items()} | {("calibration_target", i, d) for i, d in target.items()}
    init |= {("supports", i, m) for i, ms in supports.items() for m in ms}
    candidates = [(d, m) for d in directions for m in modes]
    images = sorted(rng.sample(candidates, rng.randint(1, min(len(candidates), n_targets))),
                    key=lambda dm: (directions.index(dm[0]), modes.index(dm[1])))
    goal = {("have_image", d, m) for d, m in images}

    plan: list[str] = []
    powered: dict[str, str] = {}
    calibrated: set[str] = set()

    def turn(s: str, d: str) -> None:
        if pointing[s] != d:
            plan.append(action("turn_to", s, d, pointing[s]))
            pointing[s] = d

    for d, m in images:
        i = next(i for i in instruments if m in supports[i])
        s = board[i]
        if powered.get(s) != i:
            if s in powered:
                plan.append(action("switch_off", powered[s], s))
            plan.append(action("switch_on", i, s))
            powered[s] = i
            calibrated.discard(i)
        if i not in calibrated:
            turn(s, target[i])
            plan.append(action("calibrate", s, i, target[i]))
            calibrated.add(i)
        turn(s, d)
        plan.append(action("take_image", s, d, i, m))

    objects = [(satellites, "satellite"), (instruments, "instrument"), (modes, "mode"), (directions, "direction")]
    return make_problem(name or f"{DOMAIN}-{size_tag(size)}", DOMAIN, size, objects, init, goal, plan)
