"""How large the IPC 2023 learning-track tasks are: facts, kept as data, for comparison with our splits.

Source: the IPC 2023 learning track (Seipp, Segovia-Aguas et al.; https://ipc2023-learning.github.io),
benchmark repository https://github.com/ipc2023-learning/benchmarks (``<domain>/generate_all.py`` and
the ``;; <sizes>`` header line of each generated task file), and the released task files as mirrored in
https://github.com/DillonZChen/goose (``benchmarks/ipc23-learning``).

Each domain has 99 training tasks (``training/easy``, a few hand-written base cases first) and 30 test
tasks in each of ``testing/easy``, ``testing/medium``, ``testing/hard``; sizes grow with the task number.
``schedule`` gives the generator parameters ``(first, last)`` per split where the released files agree
with them; ``observed`` gives sizes read from released task headers (task -> sizes). The repository
history holds several revisions of the Rovers and Sokoban schedules, and the released files do not all
match one of them, so for those two we record observations only.
"""

from __future__ import annotations

IPC2023_TASKS_PER_SPLIT = {"training/easy": 99, "testing/easy": 30, "testing/medium": 30, "testing/hard": 30}

IPC2023_SIZES: dict[str, dict] = {
    "blocksworld": {
        # blocksworld/generate_all.py: blocks = int(first + (last - first) * i / n) for the i-th of n tasks.
        # training/easy: p15-p99 generated (p01-p14 base cases), seed 42; testing: seed 1007.
        "schedule": {
            "training/easy": {"blocks": (5, 30)},
            "testing/easy": {"blocks": (5, 30)},
            "testing/medium": {"blocks": (35, 150)},
            "testing/hard": {"blocks": (160, 500)},
        },
        "observed": {"testing/easy/p26": {"blocks": 25}},
    },
    "rovers": {
        "schedule": None,
        "observed": {
            "testing/easy/p01": {"rovers": 1, "waypoints": 4, "cameras": 2, "objectives": 2},
            "testing/easy/p17": {"rovers": 3, "waypoints": 7, "cameras": 3, "objectives": 6},
            "testing/easy/p28": {"rovers": 4, "waypoints": 10, "cameras": 4, "objectives": 10},
            "testing/hard/p29": {"rovers": 29, "waypoints": 194, "cameras": 98, "objectives": 231},
        },
    },
    "sokoban": {
        "schedule": None,
        # grid = side of the square board (walls included), as in the task headers' grid_size.
        "observed": {
            "training/easy/p19": {"grid": 8, "boxes": 1},
            "testing/easy/p01": {"grid": 4, "boxes": 1},
            "testing/easy/p25": {"grid": 12, "boxes": 4},
            "testing/medium/p28": {"grid": 47, "boxes": 32},
        },
    },
}
