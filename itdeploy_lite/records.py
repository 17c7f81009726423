"""The trace record: one sampled completion, the row every stage after sampling reads and writes.

Records are plain dicts (one JSON object per line in ``traces.jsonl``, ``eval.jsonl``,
``pool_eval.jsonl``), so a run folder reads back with ``json`` alone; these ``TypedDict`` s are their
schema, each key documented once here. Deployment writes a :class:`SampledTrace`
(:func:`~itdeploy_lite.deploy.deploy`); validation stamps it into a :class:`TraceRecord`
(:func:`~itdeploy_lite.deploy.validate_records`); curation reads :data:`CURATION_KEYS`
(:mod:`itdeploy_lite.curate`)::

    {"generation": 0, "task_id": "blocksworld-pool-b5p10-003", "sample_id": 2,
     "prompt": "init: ...", "completion": "(unstack b3 b7)\\n...</s>", "n_tokens": 31, "ended": True,
     "size": "b5", "valid": True, "plan_length": 6, "failed_step": None, "reason": None}
"""

from __future__ import annotations

from typing import TypedDict

try:
    from typing import NotRequired
except ImportError:  # Python 3.10
    from typing_extensions import NotRequired


class SampledTrace(TypedDict):
    """One completion as the sampler wrote it.

    Attributes:
        generation: the generation whose model sampled it (``M_g``).
        task_id: the task's id (a generated problem's name, or a ``--tasks`` file's stem).
        sample_id: ``0 .. k-1`` among the task's samples in this generation.
        prompt: the prompt text, as the model saw it (the format's :meth:`~itdeploy_lite.formats.PromptFormat.prompt`).
        completion: the decoded completion up to and including the end token if the model wrote it.
        n_tokens: completion tokens sampled.
        ended: the model wrote its end token (False: it ran out of its token budget).
        forced_answer: present (``True``) only on a thinking model's completion that ran out inside
            ``<think>`` and was given ``</think>`` and a continuation (:func:`~itdeploy_lite.deploy.force_answers`).
    """

    generation: int
    task_id: str
    sample_id: int
    prompt: str
    completion: str
    n_tokens: int
    ended: bool
    forced_answer: NotRequired[bool]


class TraceRecord(SampledTrace):
    """A sampled trace with the validator's verdict (VAL semantics, :func:`~itdeploy_lite.planning.validate`).

    Attributes:
        size: the task's size label (e.g. ``"b5"``: 5 blocks; ``"7obj"`` for user tasks).
        valid: the plan read from the completion reaches the goal with every precondition met.
        plan_length: plan steps read (for a valid plan, its length).
        failed_step: the 1-based step that failed, or ``None`` (valid, or no step failed: goal unmet).
        reason: why the plan is invalid (one line, with the step and line), ``None`` if valid.
        first_action: the action name of the plan's first step as the format read it (``""``: none).
    """

    size: str
    valid: bool
    plan_length: int
    failed_step: int | None
    reason: str | None
    first_action: str


#: The keys a record must have for any curation policy (:func:`itdeploy_lite.curate.curate`).
CURATION_KEYS: tuple[str, ...] = ("generation", "task_id", "sample_id", "prompt", "completion", "n_tokens", "valid",
                                  "plan_length")
