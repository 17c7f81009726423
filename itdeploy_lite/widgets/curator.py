"""The curation widget: a person accepts or rejects deployed traces, one at a time, in a notebook.

::

    from itdeploy_lite.widgets import CurationWidget
    w = CurationWidget("runs/blocksworld-manual-s0", decisions_path="decisions.jsonl", generation=0)
    w            # shows the first undecided trace

    # then: itdeploy run --curation manual --decisions decisions.jsonl ...
    # or:   curate(records, "manual", generation=0, decisions="decisions.jsonl")

Each trace is shown with its task drawn (Blocksworld stacks, Sokoban grid, Rovers summary), the plan
with the validator's verdict and the first failing step highlighted, and the final state. Buttons
accept / reject / skip and prev / next; keyboard: click into the "keys" box and type ``a`` (accept),
``r`` (reject), ``s`` (skip), ``n`` (next), ``p`` (previous).

Every accept or reject appends a line to the decisions file at once (fsynced; see
:mod:`.decisions`), so nothing is lost when the kernel restarts; a new widget on the same file starts
at the first undecided trace. Skip writes nothing and moves on: the trace stays undecided.

The widget's logic lives in plain methods (:meth:`CurationWidget.accept`, ``reject``, ``skip``,
``next``, ``prev``, ``press``), which the buttons call; tests call them directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from itdeploy_lite.planning import Task, validate
from itdeploy_lite.prompts import completion_plan_text, task_prompt
from itdeploy_lite.widgets.decisions import append_decision, latest_decisions, trace_key
from itdeploy_lite.widgets.render import trace_html, trace_text

#: Keyboard shortcut -> method name.
KEYS = {"a": "accept", "r": "reject", "s": "skip", "n": "next", "p": "prev"}


# --- reading a run folder --------------------------------------------------------------------------
def run_records(run_dir: str | Path, generation: int | None = None) -> list[dict]:
    """The deployment traces of a run folder (``gen_XX/traces.jsonl``), of ``generation`` only or of all
    generations, in order."""
    from itdeploy_lite.curate import read_jsonl

    run_dir = Path(run_dir)
    records = []
    for gen_dir in sorted(run_dir.glob("gen_*")):
        g = int(gen_dir.name.split("_")[1])
        if (generation is None or g == generation) and (gen_dir / "traces.jsonl").is_file():
            records += read_jsonl(gen_dir / "traces.jsonl")
    return records


def run_tasks(run_dir: str | Path, generation: int) -> dict[str, Task]:
    """The tasks generation ``generation`` of a run was deployed on, by task id.

    The run folder keeps no PDDL: tasks are rebuilt as :mod:`itdeploy_lite.loop` made them, from
    ``config.json``, with :func:`~itdeploy_lite.task_sets.deployment_tasks`: the problems of ``--tasks`` (task id =
    file stem), the fixed pool (protocol ``pool``), or the fresh tasks of that generation with the per-size
    counts recorded in ``gen_XX/deploy.done.json`` (``tasks_by_size``; the frontier allocation included).
    """
    import dataclasses

    from itdeploy_lite.config import RunConfig
    from itdeploy_lite.planning.generators.splits import make_split
    from itdeploy_lite.task_sets import deployment_tasks

    run_dir = Path(run_dir)
    saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    saved.setdefault("protocol", "fresh")  # runs written before the pool protocol deployed on fresh tasks
    names = {f.name for f in dataclasses.fields(RunConfig)} - {"finetune"}
    config = RunConfig(**{k: v for k, v in saved.items() if k in names})
    marker = run_dir / f"gen_{generation:02d}" / "deploy.done.json"
    allocation = None
    if marker.is_file():
        allocation = json.loads(marker.read_text(encoding="utf-8")).get("tasks_by_size")
    exclude = {p.key for p in make_split(config.domain, "heldout", config.heldout_per_size)} if not config.tasks else set()
    return {t.task_id: t.task for t in deployment_tasks(config, generation, exclude, allocation)}


def load_run(run_dir: str | Path, generation: int | None = None) -> tuple[list[dict], dict[str, Task]]:
    """``(records, tasks)`` of a run folder: its traces and, by task id, the tasks they were sampled on.

    Raises:
        ValueError: a trace whose prompt is not its rebuilt task's prompt (the folder's config or code
            changed since the run), or a trace whose task could not be rebuilt.
    """
    records = run_records(run_dir, generation)
    tasks: dict[str, Task] = {}
    for g in sorted({r["generation"] for r in records}):
        tasks.update(run_tasks(run_dir, g))
    for r in records:
        task = tasks.get(r["task_id"])
        if task is None:
            raise ValueError(f"{run_dir}: trace {trace_key(r)}: its task could not be rebuilt from config.json")
        if task_prompt(task) != r["prompt"]:
            raise ValueError(f"{run_dir}: trace {trace_key(r)}: the rebuilt task's prompt differs from the trace's")
    return records, tasks


# --- the widget ------------------------------------------------------------------------------------
class CurationWidget:
    """Accept / reject / skip deployed traces one at a time; decisions go to ``decisions_path``.

    Args:
        run_dir: a run folder of ``itdeploy run`` (traces and tasks are read from it), or ``None``.
        records: trace records (``generation, task_id, sample_id, completion`` at least), instead of ``run_dir``.
        tasks: task id -> :class:`~itdeploy_lite.planning.Task` (or an object with a ``.task``, such as
            :class:`~itdeploy_lite.task_sets.LoopTask`), with ``records``.
        decisions_path: the decisions file (created on the first decision; an existing one is resumed).
        generation: with ``run_dir``, curate this generation's traces only (default: all).

    Attributes:
        records: the traces, in the order shown. index: the trace shown (0-based).
        decisions: ``{(generation, task_id, sample_id): "accept" | "reject"}``, the latest per trace.
        view: the ``ipywidgets`` box (displayed when the widget is the cell's value).
    """

    def __init__(self, run_dir: str | Path | None = None, decisions_path: str | Path = "decisions.jsonl", *,
                 records: list[dict] | None = None, tasks: Mapping | None = None, generation: int | None = None):
        if run_dir is not None:
            if records is not None or tasks is not None:
                raise ValueError("give run_dir, or records and tasks, not both")
            records, tasks = load_run(run_dir, generation)
        elif records is None or tasks is None:
            raise ValueError("give run_dir, or records and tasks")
        self.tasks = {k: getattr(v, "task", v) for k, v in tasks.items()}
        missing = sorted({r["task_id"] for r in records} - set(self.tasks))
        if missing:
            raise ValueError(f"no task for task id(s) {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        self.records = list(records)
        self.decisions_path = Path(decisions_path)
        self.decisions = latest_decisions(self.decisions_path, self.records)
        self._results: dict[int, object] = {}
        self.message = ""
        self.index = self.first_undecided()
        if self.index is None:
            self.index = 0
            self.message = "every trace has a decision" if self.records else "no traces"
        self._build_view()
        self._refresh()

    # --- state -------------------------------------------------------------------------------------
    @property
    def record(self) -> dict:
        """The trace shown."""
        return self.records[self.index]

    def decision(self, index: int | None = None) -> str | None:
        """The latest decision about trace ``index`` (default: the one shown), or ``None``."""
        return self.decisions.get(trace_key(self.records[self.index if index is None else index]))

    def first_undecided(self, start: int = 0) -> int | None:
        """The first trace at or after ``start`` without a decision, wrapping around; ``None`` if all have one."""
        n = len(self.records)
        for offset in range(n):
            i = (start + offset) % n
            if trace_key(self.records[i]) not in self.decisions:
                return i
        return None

    def result(self, index: int | None = None):
        """The validator's verdict on trace ``index`` (computed once)."""
        index = self.index if index is None else index
        if index not in self._results:
            r = self.records[index]
            self._results[index] = validate(self.tasks[r["task_id"]], completion_plan_text(r["completion"]))
        return self._results[index]

    def progress(self) -> str:
        """``"trace 3/40 | accepted 1, rejected 1, undecided 38"``."""
        accepted = sum(1 for r in self.records if self.decisions.get(trace_key(r)) == "accept")
        rejected = sum(1 for r in self.records if self.decisions.get(trace_key(r)) == "reject")
        n = len(self.records)
        return (f"trace {self.index + 1}/{n} | accepted {accepted}, rejected {rejected}, "
                f"undecided {n - accepted - rejected}")

    def text(self) -> str:
        """The trace shown, as plain text (what the HTML view shows)."""
        if not self.records:
            return "no traces"
        r = self.record
        task = self.tasks[r["task_id"]]
        head = f"generation {r['generation']}  task {r['task_id']}  sample {r['sample_id']}  decision: {self.decision() or '-'}"
        return head + "\n\n" + trace_text(task, completion_plan_text(r["completion"]), self.result())

    # --- actions (the buttons and keys call these) -------------------------------------------------
    def decide(self, decision: str) -> None:
        """Write ``decision`` (``accept``/``reject``) for the trace shown, then show the next undecided one."""
        if not self.records:
            return
        append_decision(self.decisions_path, self.record, decision)
        self.decisions[trace_key(self.record)] = decision
        self._advance()

    def accept(self) -> None:
        """Accept the trace shown (one line appended to the decisions file)."""
        self.decide("accept")

    def reject(self) -> None:
        """Reject the trace shown (one line appended to the decisions file)."""
        self.decide("reject")

    def skip(self) -> None:
        """Leave the trace shown undecided and show the next undecided one (nothing is written)."""
        self._advance()

    def next(self) -> None:
        """Show the next trace (decided or not)."""
        self.go(min(self.index + 1, len(self.records) - 1))

    def prev(self) -> None:
        """Show the previous trace."""
        self.go(max(self.index - 1, 0))

    def go(self, index: int) -> None:
        """Show trace ``index``."""
        if self.records:
            self.index = index
            self.message = ""
            self._refresh()

    def press(self, key: str) -> None:
        """Handle a keyboard shortcut (:data:`KEYS`); other keys are ignored."""
        name = KEYS.get(key.strip().lower()[-1:] if key.strip() else "")
        if name:
            getattr(self, name)()

    def _advance(self) -> None:
        nxt = self.first_undecided(self.index + 1) if self.records else None
        if nxt is None:
            self.message = "every trace has a decision"
        else:
            self.index, self.message = nxt, ""
        self._refresh()

    # --- view --------------------------------------------------------------------------------------
    def _build_view(self) -> None:
        import ipywidgets as w

        def button(label, style, action, tip):
            b = w.Button(description=label, button_style=style, tooltip=tip, layout=w.Layout(width="auto"))
            b.on_click(lambda _: getattr(self, action)())
            return b

        self.buttons = {
            "accept": button("accept (a)", "success", "accept", "accept this trace"),
            "reject": button("reject (r)", "danger", "reject", "reject this trace"),
            "skip": button("skip (s)", "", "skip", "decide later"),
            "prev": button("< prev (p)", "", "prev", "previous trace"),
            "next": button("next (n) >", "", "next", "next trace"),
        }
        self.keys = w.Text(value="", placeholder="type a / r / s / n / p here", description="keys",
                           continuous_update=True, layout=w.Layout(width="22em"))
        self.keys.observe(self._on_key, names="value")
        self.status = w.HTML()
        self.html = w.HTML()
        self.view = w.VBox([
            w.HBox([self.buttons[k] for k in ("prev", "accept", "reject", "skip", "next")] + [self.keys]),
            self.status,
            self.html,
        ])

    def _on_key(self, change) -> None:
        value = change["new"]
        if value:
            self.keys.value = ""  # re-enters with "" and returns
            self.press(value)

    def _refresh(self) -> None:
        import html as _html

        decision = self.decision() if self.records else None
        color = {"accept": "#070", "reject": "#900"}.get(decision, "#666")
        status = f"<b>{_html.escape(self.progress())}</b>" if self.records else "<b>no traces</b>"
        status += f' &nbsp; decision: <span style="color:{color}">{decision or "undecided"}</span>'
        if self.message:
            status += f" &nbsp; <i>{_html.escape(self.message)}</i>"
        self.status.value = status
        if self.records:
            r = self.record
            title = f"generation {r['generation']} · task {r['task_id']} · sample {r['sample_id']}"
            self.html.value = trace_html(self.tasks[r["task_id"]], completion_plan_text(r["completion"]),
                                         self.result(), title)
        else:
            self.html.value = ""

    def _repr_mimebundle_(self, **kwargs):
        """Display the widget when it is a cell's value."""
        return self.view._repr_mimebundle_(**kwargs)
