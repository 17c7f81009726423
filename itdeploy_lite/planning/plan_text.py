"""Reading plans from the text that models (and people) really write.

Lenient mode (the default) takes:
    code fences (```` ``` ```` lines), numbering (``1.``, ``1:``, ``1)``, ``Step 1:``, VAL time stamps
    ``0.000: (a) [1]``), bullets, ``;`` comments, blank lines, upper case, extra spaces, several steps
    on one line, ``<think>...</think>`` reasoning blocks, and prose before or after the plan (a line
    that does not start with ``(`` once numbering is stripped is prose and is skipped).
A line that starts with ``(`` is a step attempt: if it is not a run of balanced ``(name arg ...)``
groups it becomes a :class:`MalformedStep`, which makes the plan invalid with a reason naming the
line. Parsing never raises.

Strict mode accepts only canonical ``(action arg ...)`` lines, one per line (blank lines allowed);
every other line is a :class:`MalformedStep`.

Where VAL differs (shared/VAL-NOTES.md): VAL stops reading at the first line it cannot parse (prose,
a fence with a language tag) and judges only the steps before it, and rejects ``1. (a)``; the lenient
parser extracts the plan instead, the strict parser rejects such lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_THINK_END = re.compile(r"\A.*</think>", re.DOTALL | re.IGNORECASE)
_PREFIX = re.compile(
    r"^(?:[-*\u2022>]+\s*)?"  # bullet or quote marker
    r"(?:(?:step|action)\s*)?"  # "Step 1:"
    r"(?:\d+(?:\.\d+)?\s*[.:)\]]?\s*)?"  # "1." "1:" "1)" "0.000:"
    r"(?=\()",
    re.IGNORECASE,
)
_GROUP = re.compile(r"\(([^()]*)\)")
_DURATION = re.compile(r"\s*\[[^\]]*\]\s*$")
_STRICT = re.compile(r"^\(\s*([^\s()]+(?:\s+[^\s()]+)*)\s*\)$")


@dataclass(frozen=True, slots=True)
class PlanStep:
    """A well-formed step: ``line`` is 1-based in the text; ``name`` and ``args`` lower case."""

    line: int
    name: str
    args: tuple[str, ...]

    @property
    def text(self) -> str:
        """Canonical PDDL: ``(name arg ...)``."""
        return "(" + " ".join((self.name, *self.args)) + ")"


@dataclass(frozen=True, slots=True)
class MalformedStep:
    """A line that tries to be a step and is not one: ``text`` is the line, ``reason`` says why."""

    line: int
    text: str
    reason: str


def _strip_reasoning(text: str) -> str:
    """Blank out ``<think>`` blocks, keeping newlines so line numbers stay right."""

    def blank(match: re.Match) -> str:
        return "\n" * match.group(0).count("\n")

    if "</think>" in text.lower() and "<think>" not in text.lower():
        text = _THINK_END.sub(blank, text)  # chat templates often put <think> in the prompt
    return _THINK.sub(blank, text)


def _split_groups(body: str, line_no: int, raw: str) -> list[PlanStep | MalformedStep]:
    """``(a x) (b y)`` -> steps; anything else on the line -> one MalformedStep."""
    depth = 0
    for char in body:
        depth += (char == "(") - (char == ")")
        if depth < 0 or depth > 1:
            break
    if depth != 0:
        reason = "nested parentheses" if depth > 1 else "unbalanced parentheses"
        return [MalformedStep(line_no, raw, reason)]
    steps, pos = [], 0
    for match in _GROUP.finditer(body):
        between = body[pos : match.start()].strip(" \t,")
        if between:
            return [MalformedStep(line_no, raw, f"unexpected text {between!r}")]
        tokens = match.group(1).split()
        if not tokens:
            return [MalformedStep(line_no, raw, "empty step '()'")]
        steps.append(PlanStep(line_no, tokens[0].lower(), tuple(t.lower() for t in tokens[1:])))
        pos = match.end()
    rest = body[pos:].strip(" \t,.")
    if rest:
        return [MalformedStep(line_no, raw, f"unexpected text {rest!r}")]
    return steps


def parse_plan(text: str, strict: bool = False) -> list[PlanStep | MalformedStep]:
    """Split plan text into steps.

    Args:
        text: the plan as written (a model's completion, a ``.plan`` file, ...).
        strict: accept only canonical ``(action arg ...)`` lines.

    Returns:
        The steps in order; malformed step attempts are :class:`MalformedStep` items. Whether names
        exist in a task is checked later, by :func:`itdeploy_lite.planning.validate`.
    """
    items: list[PlanStep | MalformedStep] = []
    if strict:
        for line_no, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            match = _STRICT.match(line)
            if match:
                name, *args = match.group(1).lower().split()
                items.append(PlanStep(line_no, name, tuple(args)))
            else:
                items.append(MalformedStep(line_no, raw, "not a canonical '(action arg ...)' line (strict mode)"))
        return items
    for line_no, raw in enumerate(_strip_reasoning(text).splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line or line.startswith("```"):
            continue
        line = _PREFIX.sub("", line, count=1)
        if not line.startswith("("):
            continue  # prose
        items.extend(_split_groups(_DURATION.sub("", line), line_no, raw.strip()))
    return items


def canonical_plan(text: str, strict: bool = False) -> list[str]:
    """The well-formed steps of ``text`` as canonical ``(name arg ...)`` lines (malformed ones dropped)."""
    return [s.text for s in parse_plan(text, strict) if isinstance(s, PlanStep)]
