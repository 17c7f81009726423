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

For the other seven domains (the paper's second experiment), ``schedule`` gives the ``(smallest,
largest)`` value of each parameter over a split, computed by replaying the schedule loop of the
revision of ``<domain>/generate_all.py`` in the stored index, and is kept only for the splits where a
released task we read agrees with it; ``observed`` gives sizes read from released task files (their
objects). The Spanner, Satellite and Floortile schedules, and Ferry's testing schedule, do not match the
released tasks we read (e.g. Spanner ``testing/easy/p05`` has 6 spanners, 6 nuts and 11 locations where
the schedule gives 2, 1 and 4), so there we record observations only. Parameter names are our
generators': Satellite's ``directions`` is our ``targets``, Transport's ``max_capacity`` our
``capacity``, Spanner's ``locations`` counts the locations between shed and gate. Childsnack's
generator there takes children, allergic children, trays and sandwiches (tables are not a parameter;
the task files have 3). Floortile's ``rows`` counts the rows to paint (the files have one more).
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
    "childsnack": {
        "schedule": {
            "training/easy": {"children": (1, 4), "trays": (1, 4), "allergic": (0, 3), "sandwiches": (1, 8)},
            "testing/easy": {"children": (2, 3), "trays": (1, 3), "allergic": (0, 3), "sandwiches": (2, 6)},
            "testing/medium": {"children": (25, 34), "trays": (2, 4), "allergic": (15, 25), "sandwiches": (30, 54)},
            "testing/hard": {"children": (100, 150), "trays": (2, 4), "allergic": (50, 110), "sandwiches": (100, 300)},
        },
        "observed": {"testing/easy/p05": {"children": 2, "trays": 1, "tables": 3, "allergic": 2, "sandwiches": 2}},
    },
    "ferry": {
        "schedule": {"training/easy": {"cars": (1, 20), "locations": (5, 15)}},  # agrees with p23
        "observed": {
            "training/easy/p23": {"cars": 3, "locations": 6},  # its header: ";; cars=3, locations=6, ..."
            "testing/easy/p05": {"cars": 4, "locations": 8},
        },
    },
    "floortile": {
        "schedule": None,
        "observed": {"testing/easy/p05": {"rows": 2, "columns": 3, "robots": 3}},
    },
    "miconic": {
        "schedule": {
            "training/easy": {"floors": (2, 19), "passengers": (1, 10)},
            "testing/easy": {"floors": (2, 17), "passengers": (3, 10)},
            "testing/medium": {"floors": (10, 150), "passengers": (50, 90)},
            "testing/hard": {"floors": (100, 1200), "passengers": (400, 600)},
        },
        "observed": {"testing/easy/p05": {"floors": 8, "passengers": 4}},
    },
    "satellite": {
        "schedule": None,
        "observed": {"testing/easy/p05": {"satellites": 2, "instruments": 2, "modes": 3, "targets": 2}},
    },
    "spanner": {
        "schedule": None,
        "observed": {"testing/easy/p05": {"spanners": 6, "nuts": 6, "locations": 11}},
    },
    "transport": {
        "schedule": {
            "training/easy": {"vehicles": (1, 3), "packages": (1, 8), "locations": (2, 14), "capacity": (3, 3)},
            "testing/easy": {"vehicles": (1, 2), "packages": (1, 5), "locations": (2, 8), "capacity": (3, 3)},
            "testing/medium": {"vehicles": (15, 15), "packages": (15, 19), "locations": (10, 34), "capacity": (6, 6)},
            "testing/hard": {"vehicles": (25, 25), "packages": (25, 45), "locations": (45, 80), "capacity": (10, 10)},
        },
        "observed": {"testing/easy/p05": {"vehicles": 1, "packages": 3, "locations": 2, "capacity": 3}},
    },
}
