"""Notebook widgets: the curation widget and the drawings it shows.

* :mod:`.render` - pure functions: a state drawn as text (Blocksworld towers, Sokoban grid, Rovers
  summary, atom list), a plan with the validator's verdict and its first failing step highlighted.
* :mod:`.decisions` - the append-only decisions file (the format ``--curation manual`` reads).
* :mod:`.curator` - :class:`CurationWidget` (ipywidgets): accept / reject / skip traces one at a time.

``ipywidgets`` is imported only when a widget is built, so the rest works without it.
"""

from itdeploy_lite.widgets.curator import CurationWidget, load_run, run_records, run_tasks
from itdeploy_lite.widgets.decisions import append_decision, latest_decisions
from itdeploy_lite.widgets.render import (
    atoms_text,
    blocksworld_text,
    draw_state,
    plan_html,
    plan_lines,
    rovers_text,
    sokoban_text,
    trace_html,
    trace_text,
)

__all__ = [
    "CurationWidget",
    "append_decision",
    "atoms_text",
    "blocksworld_text",
    "draw_state",
    "latest_decisions",
    "load_run",
    "plan_html",
    "plan_lines",
    "rovers_text",
    "run_records",
    "run_tasks",
    "sokoban_text",
    "trace_html",
    "trace_text",
]
