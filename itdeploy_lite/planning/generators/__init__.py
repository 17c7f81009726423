"""Seeded generators of solvable planning tasks, each with a witness plan.

One module per domain, each with ``generate(rng, name=None, **size) -> GeneratedProblem``:

==============  ==========================================  =====================================
domain          size parameters                             solvable because
==============  ==========================================  =====================================
blocksworld     ``blocks`` (opt. ``name_pool``)             any two arrangements are connected
rovers          ``rovers waypoints cameras objectives``     connected maps, goals only on data
                (opt. ``name_pool``)                        that can be gathered
sokoban         ``grid boxes walls``                        built by reverse play from the goal
gripper         ``balls``                                   balls can always be carried
childsnack      ``children trays tables`` (opt. ``allergic``) one sandwich's portions per child,
                                                            gluten-free ones for the allergic
ferry           ``cars locations``                          any car can be carried anywhere
floortile       ``rows columns robots``                     one block of columns per robot,
                                                            painted top row first
miconic         ``floors passengers``                       the lift reaches every floor
satellite       ``satellites instruments modes targets``    every mode on some instrument, every
                                                            instrument with a calibration target
spanner         ``spanners nuts locations``                 at least one spanner per nut
transport       ``vehicles packages locations capacity``    connected road maps
==============  ==========================================  =====================================

Childsnack, Ferry, Miconic, Satellite, Spanner and Transport also take an optional ``name_pool`` (numbered
object names drawn from ``1..name_pool``). These seven domains are the rest of the IPC 2023 learning track
(its size parameters; :mod:`.ipc2023` records its sizes).

:func:`generate_problems` draws ``count`` distinct, non-trivial tasks of one size from one seed;
:func:`write_problems` writes them as ``<name>.pddl`` (and their witness plans under ``witness/``).
Named, seed-fixed splits (pretrain / train / heldout) are in :mod:`.splits`; the IPC 2023 learning-track
sizes, for comparison, in :mod:`.ipc2023`.
"""

from __future__ import annotations

from itdeploy_lite.planning.generators.draw import GENERATORS, generate_problems, parse_size, size_tag, write_problems
from itdeploy_lite.planning.generators.problem import GeneratedProblem
from itdeploy_lite.planning.generators.splits import SPLITS, make_split
