"""A run folder on disk: ``config.json`` (checked on resume), the copied base model, one ``gen_XX/``
folder per generation, and the ``<stage>.done.json`` markers that make a run resumable.

Every stage writes its outputs to a temporary name and puts them in place whole
(:mod:`itdeploy_lite.atomic`), then its marker. Re-running the same command skips every stage that has a
marker and redoes the one that was interrupted, from the start.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from itdeploy_lite import atomic
from itdeploy_lite.config import RunConfig


def generation_dir(run_dir: Path, generation: int) -> Path:
    """``run_dir/gen_XX`` (two digits) of ``generation``."""
    return Path(run_dir) / f"gen_{generation:02d}"


def run_stage(gen_dir: Path, name: str, fn: Callable[[], dict]) -> dict:
    """Run a stage once: return its saved summary if ``<name>.done.json`` exists, else run ``fn()``
    (which writes its outputs atomically and returns a JSON-able summary), add ``"seconds"`` (wall time)
    and save the marker. An interrupted stage has no marker and is redone from the start."""
    marker = gen_dir / f"{name}.done.json"
    if marker.is_file():
        return json.loads(marker.read_text(encoding="utf-8"))
    start = time.perf_counter()
    summary = fn()
    summary["seconds"] = round(time.perf_counter() - start, 2)
    atomic.write_json(marker, summary)
    return summary


def model_fingerprint(folder: Path) -> dict:
    """``{"path": str, "sha256": hex digest of the weights}`` of a model folder (``model.safetensors``)."""
    digest = hashlib.sha256()
    for weights in sorted(Path(folder).glob("*.safetensors")):
        digest.update(weights.read_bytes())
    return {"path": str(folder), "sha256": digest.hexdigest()}


def with_defaults(saved: dict) -> dict:
    """A saved ``config.json`` with the fields added to :class:`~itdeploy_lite.config.RunConfig` (and its
    ``finetune``) since it was written filled in at their defaults: a run made before a setting existed
    ran as its default does, so it resumes."""
    defaults = asdict(RunConfig())
    return {**defaults, **saved, "finetune": {**defaults["finetune"], **saved.get("finetune", {})}}


def prepare_run_dir(config: RunConfig, base: Path | None = None) -> Path:
    """Create the run folder and write ``config.json`` (the config, plus the base model's path and weight
    hash under ``base_model``); on a re-run, check both are the same.

    Only ``generations``, ``progress`` and ``threads`` may change between runs of one folder (so a finished
    run can be extended with more generations). A changed base model (e.g. a re-trained
    ``data/models/<domain>``) is refused: its generations would not continue the ones on disk.

    Raises:
        ValueError: the folder holds a run with another config or base model (the message lists the
            differing fields).
    """
    run_dir = config.run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "config.json"
    current = asdict(config)
    if base is not None:
        current["base_model"] = model_fingerprint(base)
    if path.is_file():
        saved = with_defaults(json.loads(path.read_text(encoding="utf-8")))
        changed = sorted(k for k in set(saved) | set(current)
                         if k not in ("generations", "progress", "threads") and saved.get(k) != current.get(k))
        if changed:
            details = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
            raise ValueError(f"{run_dir} holds a run with another config ({details}); "
                             "re-run with the same flags to resume, or give a new --out")
    atomic.write_json(path, current)
    return run_dir


def copy_base(source: Path, dest: Path) -> Path:
    """Copy the base model folder into the run once (temp + rename), so every generation of the run,
    resumed or not, loads the same weights even if the shipped checkpoint is replaced meanwhile."""
    if not dest.is_dir():
        atomic.replace_folder(dest, lambda tmp: shutil.copytree(source, tmp))
    return dest
