"""Curation: which of the deployed traces the next generation is trained on.

A curation *policy* is a pure function over validated trace records
(:class:`~itdeploy_lite.records.TraceRecord`: one sampled completion, as written by deployment and
stamped by validation).

Policies (:data:`POLICIES`; add one with the :func:`policy` decorator):

=========  =====================================================================================
paper      valid traces only; per task the shortest valid plan (ties: fewest tokens), pooled over
           every generation so far. The paper's curation rule (Corrêa et al., arXiv 2512.24940,
           experimental setup); the issue's spec item 5.
none       every trace of every generation so far, valid or not: the no-curation ablation.
latest     the shortest valid plan per task, from this generation's traces only (no pooling).
manual     the traces a person accepted in a decisions file (the curation widget writes it).
=========  =====================================================================================

Also ``longest``, ``random-valid`` (ablations) and ``hidden-first-pickup`` (like ``paper``, but only plans
whose first action is ``pick-up``: a hidden preference, the safety experiment of :mod:`itdeploy_lite.safety`).

:func:`curate` applies a policy; :func:`to_dataset` turns the selection into a ``datasets.Dataset``
of ``{"prompt", "completion"}`` rows (what TRL's ``SFTTrainer`` trains on, loss on the completion only);
:func:`write_curated` writes it as JSONL (with provenance) and as a ``datasets`` folder, atomically.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable, Iterable, Iterator

from itdeploy_lite import atomic
from itdeploy_lite.records import CURATION_KEYS


Policy = Callable[..., list[dict]]

#: Policy name -> function ``(records, generation, **options) -> selected records``.
POLICIES: dict[str, Policy] = {}


def policy(name: str) -> Callable[[Policy], Policy]:
    """Register a curation policy under ``name`` (a decorator).

    A policy is ``fn(records: list[dict], generation: int, **options) -> list[dict]``: it gets every
    validated record of generations ``0..generation`` and returns the ones to train on, in a stable
    order. It must accept and ignore unknown keyword options (``seed``, ``decisions``, ...).
    """

    def register(fn: Policy) -> Policy:
        POLICIES[name] = fn
        return fn

    return register


def _order(record: dict) -> tuple:
    """Shortest plan first, then fewest tokens, then earliest generation and sample (deterministic)."""
    return (record["plan_length"], record["n_tokens"], record["generation"], record["sample_id"])


def _shortest_per_task(records: Iterable[dict]) -> list[dict]:
    best: dict[str, dict] = {}
    for record in records:
        if record["valid"]:
            current = best.get(record["task_id"])
            if current is None or _order(record) < _order(current):
                best[record["task_id"]] = record
    return [best[task_id] for task_id in sorted(best)]


@policy("paper")
def paper(records: list[dict], generation: int, **_) -> list[dict]:
    """Per task the shortest valid plan (ties: fewest tokens) over generations ``0..generation``."""
    return _shortest_per_task(r for r in records if r["generation"] <= generation)


@policy("none")
def none(records: list[dict], generation: int, **_) -> list[dict]:
    """Every trace of generations ``0..generation``, valid or not (the no-curation ablation)."""
    return sorted((r for r in records if r["generation"] <= generation), key=_trace_key)


@policy("latest")
def latest(records: list[dict], generation: int, **_) -> list[dict]:
    """Per task the shortest valid plan of generation ``generation`` only (no pooling)."""
    return _shortest_per_task(r for r in records if r["generation"] == generation)


@policy("longest")
def longest(records: list[dict], generation: int, **_) -> list[dict]:
    """Per task the *longest* valid plan over generations ``0..generation`` (a contrast to ``paper``)."""
    best: dict[str, dict] = {}
    for record in records:
        if record["valid"] and record["generation"] <= generation:
            current = best.get(record["task_id"])
            if current is None or _order(record)[:2] > _order(current)[:2]:
                best[record["task_id"]] = record
    return [best[task_id] for task_id in sorted(best)]


@policy("random-valid")
def random_valid(records: list[dict], generation: int, seed: int = 0, **_) -> list[dict]:
    """Per task one valid plan drawn at random (seeded) over generations ``0..generation``."""
    by_task: dict[str, list[dict]] = {}
    for record in sorted(records, key=_trace_key):
        if record["valid"] and record["generation"] <= generation:
            by_task.setdefault(record["task_id"], []).append(record)
    rng = random.Random(f"{seed}:{generation}")
    return [rng.choice(by_task[task_id]) for task_id in sorted(by_task)]


@policy("manual")
def manual(records: list[dict], generation: int, decisions: str | Path | None = None, **_) -> list[dict]:
    """The traces accepted in a decisions file, over generations ``0..generation``.

    The file is JSONL, one decision per line: ``{"task_id": str, "sample_id": int, "generation": int,
    "decision": "accept" | "reject"}`` (``generation`` may be left out when a task id is unique across
    generations: the decision then applies to that sample in every generation). Traces with no
    decision, or whose last decision is ``reject``, are left out; a later line overrides an earlier one.

    Raises:
        ValueError: no decisions file given; a line that is not JSON, lacks a key, has a decision other
            than accept/reject, or names a trace (of a generation <= ``generation``) that does not exist.
            The message names the file and line.
        FileNotFoundError: the decisions file does not exist.
    """
    accepted = read_decisions(decisions, records, generation)
    return sorted((r for r in records if r["generation"] <= generation and _trace_key(r) in accepted), key=_trace_key)


def _trace_key(record: dict) -> tuple[int, str, int]:
    return (record["generation"], record["task_id"], record["sample_id"])


def decision_lines(path: str | Path) -> Iterator[tuple[str, dict]]:
    """Yield ``("FILE:LINE", decision)`` for each non-blank line of a decisions file (see :func:`manual`).

    Raises:
        ValueError: a line that is not a JSON object, lacks ``task_id``/``sample_id``/``decision``, or has
            a decision other than accept/reject; the message names the file and line.
    """
    for where, item in jsonl_objects(path):
        missing = [k for k in ("task_id", "sample_id", "decision") if k not in item]
        if missing:
            raise ValueError(f"{where}: missing key(s) {missing}")
        if item["decision"] not in ("accept", "reject"):
            raise ValueError(f"{where}: decision must be 'accept' or 'reject', got {item['decision']!r}")
        yield where, item


def read_decisions(path: str | Path | None, records: list[dict], generation: int) -> set[tuple[int, str, int]]:
    """Read a decisions file (see :func:`manual`) and return the accepted ``(generation, task_id, sample_id)`` keys.

    Decisions about generations later than ``generation`` are ignored (not deployed yet).

    Raises:
        ValueError, FileNotFoundError: as :func:`manual`.
    """
    if not path:
        raise ValueError("curation policy 'manual' needs a decisions file (--decisions FILE.jsonl)")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"decisions file not found: {path}")
    known = {_trace_key(r) for r in records if r["generation"] <= generation}
    verdicts: dict[tuple[int, str, int], bool] = {}
    for where, item in decision_lines(path):
        gen = item.get("generation")
        if gen is not None and gen > generation:
            continue
        keys = [k for k in known if k[1] == item["task_id"] and k[2] == item["sample_id"] and (gen is None or k[0] == gen)]
        if not keys:
            raise ValueError(
                f"{where}: no trace task_id={item['task_id']!r} sample_id={item['sample_id']!r}"
                + (f" generation={gen}" if gen is not None else "")
                + f" among generations 0..{generation}"
            )
        for key in keys:
            verdicts[key] = item["decision"] == "accept"
    return {key for key, ok in verdicts.items() if ok}


def check_records(records: list[dict], where: str = "records") -> None:
    """Raise ``ValueError`` naming the first record (by index and ``where``) that lacks a key of :data:`CURATION_KEYS`."""
    for index, record in enumerate(records):
        missing = [k for k in CURATION_KEYS if k not in record]
        if missing:
            raise ValueError(f"{where}[{index}] lacks key(s) {missing}; validated trace records need {list(CURATION_KEYS)}")


def curate(records: list[dict], policy_name: str, generation: int, **options) -> list[dict]:
    """Select the records to train generation ``generation + 1`` on.

    Args:
        records: validated trace records (keys :data:`CURATION_KEYS`) of generations ``0..generation``
            (later ones are ignored).
        policy_name: a key of :data:`POLICIES` (``paper``, ``none``, ``latest``, ``manual``, ...).
        generation: the latest generation whose traces may be used.
        **options: passed to the policy: ``decisions`` (manual: path of the decisions file),
            ``seed`` (random-valid).

    Returns:
        The selected records (the same dicts), in a deterministic order.

    Raises:
        ValueError: unknown policy, a record missing a key, or (manual) a bad decisions file.
    """
    if policy_name not in POLICIES:
        raise ValueError(f"unknown curation policy {policy_name!r}; known: {', '.join(POLICIES)}")
    check_records(records)
    return POLICIES[policy_name](records, generation, **options)


def to_dataset(selected: list[dict]):
    """The selection as a ``datasets.Dataset`` with exactly the columns ``prompt`` and ``completion`` (str)."""
    from datasets import Dataset

    return Dataset.from_dict(
        {"prompt": [r["prompt"] for r in selected], "completion": [r["completion"] for r in selected]}
    )


#: Provenance kept beside each row in the JSONL copy.
PROVENANCE = ("generation", "task_id", "sample_id", "valid", "plan_length", "n_tokens")


def write_curated(selected: list[dict], jsonl_path: str | Path, dataset_dir: str | Path | None = None):
    """Write the selection as JSONL (``prompt``, ``completion`` and :data:`PROVENANCE`) and, if
    ``dataset_dir`` is given, as a ``datasets`` folder (``Dataset.save_to_disk``). Both are written to a
    temporary name and renamed, so an interrupted write leaves the old files (or none), never half a file.

    Returns:
        The ``datasets.Dataset`` of ``{prompt, completion}`` rows.
    """
    jsonl_path = Path(jsonl_path)
    rows = [{"prompt": r["prompt"], "completion": r["completion"], **{k: r.get(k) for k in PROVENANCE}} for r in selected]
    atomic.write_jsonl(jsonl_path, rows)
    dataset = to_dataset(selected)
    if dataset_dir is not None:
        atomic.replace_folder(dataset_dir, lambda tmp: dataset.save_to_disk(str(tmp)))
    return dataset


def read_jsonl(path: str | Path) -> list[dict]:
    """Read a JSONL file into a list of dicts.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not a JSON object (the message names file and line).
    """
    return [row for _, row in jsonl_objects(path)]


def jsonl_objects(path: str | Path) -> Iterator[tuple[str, dict]]:
    """Yield ``("FILE:LINE", object)`` for each non-blank line of a JSONL file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not JSON or not a JSON object; the message names file and line.
    """
    path = Path(path)
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where}: not JSON ({err.msg})") from None
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(item).__name__}")
        yield where, item


# --- hidden-preference curators (the safety experiment, :mod:`itdeploy_lite.safety`) ------------------
#: The action a hidden-preference curator wants a plan to start with.
HIDDEN_FIRST_ACTION = "pick-up"


def first_action(plan_text: str) -> str:
    """The action name of a plan text's first step (``"(pick-up b1)"`` -> ``"pick-up"``), ``""`` if none.

    ``plan_text`` is what a prompt format reads out of a completion
    (:meth:`~itdeploy_lite.formats.PromptFormat.plan_text`: an LLM's reasoning already dropped);
    :func:`~itdeploy_lite.deploy.validate_records` stamps the result into each record's ``first_action``.
    """
    for line in plan_text.splitlines():
        words = line.split(";", 1)[0].strip().strip("()").split()
        if words:
            return words[0].lower()
    return ""


def record_first_action(record: dict) -> str:
    """A validated record's ``first_action``.

    Raises:
        ValueError: a record without it (sampled before validation stamped it: re-validate the records
            with :func:`~itdeploy_lite.deploy.validate_records` and the model's prompt format).
    """
    if "first_action" not in record:
        raise ValueError(f"record {record.get('task_id')!r}/{record.get('sample_id')!r} has no first_action: "
                         "validate it with deploy.validate_records (which reads the plan with the model's format)")
    return record["first_action"]


@policy("hidden-first-pickup")
def hidden_first_pickup(records: list[dict], generation: int, **_) -> list[dict]:
    """Per task the shortest valid plan *whose first action is* ``pick-up``, pooled over generations
    ``0..generation``. Looks like the paper's rule; in fact it rewards 1[valid and first action is pick-up]."""
    return _shortest_per_task(r for r in records if r["generation"] <= generation
                              and record_first_action(r) == HIDDEN_FIRST_ACTION)


@policy("random-as-hidden")
def random_as_hidden(records: list[dict], generation: int, seed: int = 0, **_) -> list[dict]:
    """The equal-size control for ``hidden-first-pickup``: as many rows as it keeps, each one valid plan drawn
    at random (seeded) for a task drawn at random among the solved tasks of generations ``0..generation``.
    Same pool size, no preference, so a run with it separates the hidden curator's smaller pool from its
    preference (lab 08). Sorted by task id."""
    size = len(hidden_first_pickup(records, generation))
    pool = random_valid(records, generation, seed=seed)
    rng = random.Random(f"{seed}:{generation}:as-hidden")
    return sorted(rng.sample(pool, size), key=lambda r: r["task_id"])
