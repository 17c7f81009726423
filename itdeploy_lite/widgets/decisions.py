"""The decisions file the curation widget writes and ``--curation manual`` reads.

The format is :func:`itdeploy_lite.curate.manual`'s, one JSON object a line::

    {"task_id": "blocksworld-g0-b4-000", "sample_id": 2, "generation": 0, "decision": "accept"}

The file is append-only: every click appends one line, then flushes and fsyncs it, so a kernel restart
(or a crash) loses at most the click being written. A later line about the same trace overrides an
earlier one. A "skip" writes nothing: the trace stays undecided, as one that was never shown.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from itdeploy_lite.curate import decision_lines

DECISIONS = ("accept", "reject")

#: A trace's identity: ``(generation, task_id, sample_id)``, as :mod:`itdeploy_lite.curate` keys traces.
Key = tuple[int, str, int]


def trace_key(record: dict) -> Key:
    """``(generation, task_id, sample_id)`` of a trace record."""
    return (record["generation"], record["task_id"], record["sample_id"])


def _repair(path: Path) -> None:
    """Cut a torn last line (a write interrupted before its newline), so every line is whole JSON."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return
        f.truncate(data.rfind(b"\n") + 1)
        f.flush()
        os.fsync(f.fileno())


def append_decision(path: str | Path, record: dict, decision: str) -> dict:
    """Append one decision about ``record`` (a trace record, or any dict with ``generation``,
    ``task_id`` and ``sample_id``) to ``path``, flushed and fsynced; create the file if needed.

    Returns:
        The line written, as a dict.

    Raises:
        ValueError: ``decision`` is not ``"accept"`` or ``"reject"``.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be 'accept' or 'reject', got {decision!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _repair(path)
    line = {"task_id": record["task_id"], "sample_id": record["sample_id"],
            "generation": record["generation"], "decision": decision}
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return line


def latest_decisions(path: str | Path, records: list[dict] | None = None) -> dict[Key, str]:
    """The latest decision per trace in ``path`` (missing file: none yet).

    Lines are read as :func:`itdeploy_lite.curate.read_decisions` reads them (the same checks, a later
    line overrides an earlier one). A line without ``generation`` applies to that task and sample in
    every generation of ``records``; with ``records`` given, lines naming no trace in them are ignored
    (e.g. decisions about another run's traces sharing the file).

    Returns:
        ``{(generation, task_id, sample_id): "accept" | "reject"}``.

    Raises:
        ValueError: a line that is not a JSON object, lacks a key or has another decision (file and line named).
    """
    path = Path(path)
    if not path.is_file():
        return {}
    known: dict[tuple[str, int], list[Key]] | None = None
    if records is not None:
        known = {}
        for record in records:
            known.setdefault((record["task_id"], record["sample_id"]), []).append(trace_key(record))
    latest: dict[Key, str] = {}
    for _, item in decision_lines(path):
        gen = item.get("generation")
        if known is None:
            keys = [(gen, item["task_id"], item["sample_id"])]
        else:
            keys = [k for k in known.get((item["task_id"], item["sample_id"]), []) if gen is None or k[0] == gen]
        for key in keys:
            latest[key] = item["decision"]
    return latest
