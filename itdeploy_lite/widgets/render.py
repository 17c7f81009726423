"""Drawing a planning state and a validated plan as text and HTML (pure functions, no ipywidgets).

A state is a frozenset of ground atoms (``("on", "a", "b")``). :func:`draw_state` picks a picture by
domain and falls back to the sorted atom list:

============  ==============================================================================
blocksworld   the towers, bottom block on the floor line, and the block in the hand
sokoban       the grid from the ``loc_<row>_<col>`` names: ``#`` wall, ``$`` box, ``.`` goal,
              ``*`` box on a goal, ``@`` robot (``+`` on a goal), `` `` free floor
rovers        per rover its waypoint, store, analyses and images held; the samples left on the
              ground; the data communicated so far
other         the atoms, one per line
============  ==============================================================================

:func:`plan_lines` lists the plan's steps with what happened to each (executed, the first failing step
with why, not executed), :func:`trace_html` puts a whole trace together: the task drawn, the plan with
the validator's verdict, the final state drawn.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from itdeploy_lite.planning import Task, ValidationResult, atom_str, validate
from itdeploy_lite.planning.plan_text import MalformedStep, parse_plan

_DIGITS = re.compile(r"(\d+)")


def _natural(name: str) -> tuple:
    return tuple(int(c) if c.isdigit() else c for c in _DIGITS.split(name))


# --- states ----------------------------------------------------------------------------------------
def atoms_text(state: frozenset) -> str:
    """The atoms of ``state``, one per line, in natural order (``b2`` before ``b10``)."""
    atoms = sorted(state, key=lambda a: tuple(_natural(p) for p in a))
    return "\n".join(atom_str(a) for a in atoms) if atoms else "(no true atoms)"


def blocksworld_text(state: frozenset) -> str:
    """Blocksworld towers drawn bottom-up, side by side, over a floor line; then the held block.

    Example: ``(ontable a) (on b a) (holding c)`` ->::

        [b]
        [a]
        ---
        hand: c
    """
    on = {a[1]: a[2] for a in state if a[0] == "on"}
    below_of = {below: top for top, below in on.items()}
    towers = []
    for base in sorted((a[1] for a in state if a[0] == "ontable"), key=_natural):
        tower, block, seen = [base], base, {base}
        while block in below_of and below_of[block] not in seen:
            block = below_of[block]
            tower.append(block)
            seen.add(block)
        towers.append(tower)
    placed = {b for t in towers for b in t}
    # blocks on no tower that reaches the table (a broken state) are listed, not drawn
    stray = sorted(set(on) - placed, key=_natural)
    held = sorted((a[1] for a in state if a[0] == "holding"), key=_natural)
    width = max([len(b) for t in towers for b in t] + [1]) + 2
    height = max([len(t) for t in towers] + [0])
    rows = []
    for level in range(height - 1, -1, -1):
        cells = [(f"[{t[level]}]" if level < len(t) else "").center(width) for t in towers]
        rows.append(" ".join(cells).rstrip())
    rows.append("-" * max(len(towers) * (width + 1) - 1, 3))
    rows.append("hand: " + (", ".join(held) if held else "empty"))
    if stray:
        rows.append("not on a tower: " + ", ".join(f"{b} on {on[b]}" for b in stray))
    return "\n".join(rows)


_LOC = re.compile(r"^loc_(\d+)_(\d+)$")


def sokoban_text(task: Task, state: frozenset) -> str:
    """The Sokoban grid: ``#`` wall, ``$`` box, ``.`` goal square, ``*`` box on goal, ``@`` robot,
    ``+`` robot on goal. Cells come from ``loc_<row>_<col>`` names; a cell that is neither clear nor
    holds the robot or a box (or is no object at all) is a wall. Goal squares are the goal's box places."""
    cells = {}
    for name in task.objects:
        match = _LOC.match(name)
        if match:
            cells[name] = (int(match.group(1)), int(match.group(2)))
    if not cells:
        return atoms_text(state)
    clear = {a[1] for a in state if a[0] == "clear"}
    robot = {a[1] for a in state if a[0] == "at-robot"}
    boxes = {a[2] for a in state if a[0] == "at" and len(a) == 3}
    goals = {a[2] for a in task.goal_pos if a[0] == "at" and len(a) == 3}
    rows = max(r for r, _ in cells.values())
    cols = max(c for _, c in cells.values())
    by_pos = {pos: name for name, pos in cells.items()}
    lines = []
    for r in range(1, rows + 1):
        line = []
        for c in range(1, cols + 1):
            name = by_pos.get((r, c))
            goal = name in goals
            if name in robot:
                ch = "+" if goal else "@"
            elif name in boxes:
                ch = "*" if goal else "$"
            elif name in clear:
                ch = "." if goal else " "
            else:
                ch = "#"
            line.append(ch)
        lines.append("#" + "".join(line) + "#")
    border = "#" * (cols + 2)
    legend = "# wall  $ box  . goal  * box on goal  @ robot  + robot on goal"
    return "\n".join([border, *lines, border, legend])


def rovers_text(state: frozenset) -> str:
    """A Rovers summary: per rover its waypoint, store, analyses and images held, calibrated cameras;
    the soil and rock samples still on the ground; the data communicated so far."""
    def args(pred: str) -> list[tuple]:
        return sorted((a[1:] for a in state if a[0] == pred), key=lambda t: tuple(_natural(x) for x in t))

    rovers = sorted({a[1] for a in state if a[0] == "at" and len(a) == 3}
                    | {a[1] for a in state if a[0].startswith("have_")}, key=_natural)
    at = {a[1]: a[2] for a in state if a[0] == "at" and len(a) == 3}
    full = {a[1] for a in state if a[0] == "full"}
    empty = {a[1] for a in state if a[0] == "empty"}
    lines = []
    for rover in rovers:
        held = [f"soil@{w}" for r, w in args("have_soil_analysis") if r == rover]
        held += [f"rock@{w}" for r, w in args("have_rock_analysis") if r == rover]
        held += [f"image {o}/{m}" for r, o, m in args("have_image") if r == rover]
        stores = sorted((s for s in full | empty if s.startswith(rover)), key=_natural)
        store = ", ".join(f"{s} {'full' if s in full else 'empty'}" for s in stores) or "-"
        calibrated = [c for c, r in args("calibrated") if r == rover]
        lines.append(f"{rover} at {at.get(rover, '?')} | store: {store} | holds: {', '.join(held) or '-'}"
                     + (f" | calibrated: {', '.join(calibrated)}" if calibrated else ""))
    soil = [w for (w,) in args("at_soil_sample")]
    rock = [w for (w,) in args("at_rock_sample")]
    lines.append(f"soil samples on the ground: {', '.join(soil) or '-'}")
    lines.append(f"rock samples on the ground: {', '.join(rock) or '-'}")
    sent = [f"soil@{w}" for (w,) in args("communicated_soil_data")]
    sent += [f"rock@{w}" for (w,) in args("communicated_rock_data")]
    sent += [f"image {o}/{m}" for o, m in args("communicated_image_data")]
    lines.append(f"communicated: {', '.join(sent) or '-'}")
    return "\n".join(lines)


def draw_state(task: Task, state: frozenset) -> str:
    """``state`` drawn for ``task``'s domain (Blocksworld, Sokoban, Rovers), else the atom list.

    Static atoms (Sokoban's ``adjacent``, Rovers' ``can_traverse`` ...) are left out: they never change.
    """
    fluent = frozenset(a for a in state if a[0] not in task.static_predicates)
    domain = task.domain_name.lower()
    if "blocks" in domain:
        return blocksworld_text(fluent)
    if "sokoban" in domain:
        return sokoban_text(task, fluent)
    if "rover" in domain:
        return rovers_text(fluent)
    return atoms_text(fluent)


# --- plans -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepLine:
    """One plan step as shown: 1-based ``index``, the plan-text ``line``, its ``text``, and ``status``:
    ``"ok"`` (executed), ``"failed"`` (the first failing step; ``why`` says why) or ``"skipped"`` (after it)."""

    index: int
    line: int
    text: str
    status: str
    why: str = ""


def plan_lines(plan_text: str, result: ValidationResult) -> list[StepLine]:
    """The steps of ``plan_text`` (as the validator parsed them) with what happened to each."""
    out = []
    for index, step in enumerate(parse_plan(plan_text), start=1):
        text = step.text
        if result.failed_step is None or index < result.failed_step:
            out.append(StepLine(index, step.line, text, "ok"))
        elif index == result.failed_step:
            if isinstance(step, MalformedStep):
                why = step.reason
            elif result.unsatisfied:
                why = "precondition(s) not satisfied: " + ", ".join(result.unsatisfied)
            else:
                why = (result.reason or "").split(": ", 1)[-1]
            out.append(StepLine(index, step.line, text, "failed", why))
        else:
            out.append(StepLine(index, step.line, text, "skipped"))
    return out


def verdict_text(result: ValidationResult) -> str:
    """One line: ``VALID (n steps)`` or ``INVALID at step k: ...`` / ``INVALID: goal not reached ...``."""
    if result.valid:
        return f"VALID ({result.plan_length} steps)"
    return f"INVALID: {result.reason}"


def plan_text_view(plan_text: str, result: ValidationResult) -> str:
    """The plan as plain text: ``>>`` marks the first failing step, ``  -`` the steps never executed."""
    rows = [verdict_text(result)]
    for s in plan_lines(plan_text, result):
        mark = {"ok": "   ", "failed": ">> ", "skipped": " - "}[s.status]
        rows.append(f"{mark}{s.index:3d}. {s.text}" + (f"    <-- {s.why}" if s.why else ""))
    if not result.valid and result.unmet_goals:
        rows.append("unmet goals: " + ", ".join(result.unmet_goals))
    return "\n".join(rows)


_STYLE = {
    "ok": "",
    "failed": "background:#fdd;color:#900;font-weight:bold",
    "skipped": "color:#999",
}


def plan_html(plan_text: str, result: ValidationResult) -> str:
    """The plan as an HTML ordered list with the verdict above it; the first failing step is
    highlighted (class ``failed``, red) with the reason, later steps are greyed (class ``skipped``)."""
    color = "#070" if result.valid else "#900"
    parts = [f'<div class="verdict" style="color:{color};font-weight:bold">{html.escape(verdict_text(result))}</div>',
             '<ol style="font-family:monospace">']
    for s in plan_lines(plan_text, result):
        why = f" &larr; {html.escape(s.why)}" if s.why else ""
        parts.append(f'<li class="{s.status}" style="{_STYLE[s.status]}">{html.escape(s.text)}{why}</li>')
    parts.append("</ol>")
    if not result.valid and result.unmet_goals:
        parts.append(f'<div class="unmet">unmet goals: {html.escape(", ".join(result.unmet_goals))}</div>')
    return "\n".join(parts)


def _pre(text: str) -> str:
    return f'<pre style="line-height:1.2">{html.escape(text)}</pre>'


def trace_html(task: Task, plan_text: str, result: ValidationResult | None = None, title: str = "") -> str:
    """A whole trace as HTML: the initial state drawn and the goal, the plan with the verdict and the
    first failing step highlighted, the final state drawn (where execution stopped).

    Args:
        task: the task. plan_text: the plan as written (e.g. ``completion_plan_text(completion)``).
        result: ``validate(task, plan_text)``; computed when ``None``.
        title: a heading (e.g. the trace's ids).
    """
    if result is None:
        result = validate(task, plan_text)
    goal = ", ".join(atom_str(a) for a in sorted(task.goal_pos)) or "-"
    return "\n".join([
        f"<h4>{html.escape(title)}</h4>" if title else "",
        '<div style="display:flex;gap:2em;flex-wrap:wrap">',
        f"<div><b>initial state</b>{_pre(draw_state(task, task.init))}<b>goal</b><br><code>{html.escape(goal)}</code></div>",
        f"<div><b>plan</b>{plan_html(plan_text, result)}</div>",
        f"<div><b>final state</b> (after {result.steps_executed} step(s)){_pre(draw_state(task, result.final_state))}</div>",
        "</div>",
    ])


def trace_text(task: Task, plan_text: str, result: ValidationResult | None = None) -> str:
    """The same as :func:`trace_html` as plain text (for a terminal or a test)."""
    if result is None:
        result = validate(task, plan_text)
    goal = " ".join(atom_str(a) for a in sorted(task.goal_pos))
    return "\n\n".join([
        "initial state:\n" + draw_state(task, task.init),
        "goal: " + goal,
        "plan: " + plan_text_view(plan_text, result),
        f"final state (after {result.steps_executed} step(s)):\n" + draw_state(task, result.final_state),
    ])
