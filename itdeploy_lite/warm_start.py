"""A warm start for pretrained LLMs: a short SFT on reference plans before generation 0 (``--warm-start N``)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from itdeploy_lite.formats import run_format
from itdeploy_lite.config import RunConfig
from itdeploy_lite.runtime import derive_seed


def warm_start(config: RunConfig, backend, kind: str, source, run_dir: Path, exclude: Collection = ()) -> dict:
    """A short SFT of the pretrained model on ``config.warm_start`` reference plans (optimal plans by
    breadth-first search of ``pretrain``-split tasks, never held-out ones nor a task whose key is in
    ``exclude``: the run's pool and held-out tasks), merged into
    ``run_dir/base_model``, which is then the run's generation 0. Departs from the paper (which starts
    from the pretrained model as it is): a 135 M model solves almost no task zero-shot."""
    from transformers import AutoTokenizer

    from itdeploy_lite.curate import to_dataset
    from itdeploy_lite.reference_plans import reference_rows

    if kind == "embedded":
        raise ValueError("--warm-start is for pretrained LLMs; the embedded planner's generation 0 is "
                         "trained by `itdeploy pretrain`")
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    rows = reference_rows(config.domain, run_format(config, kind, None, tokenizer), config.warm_start, exclude)
    adapter = run_dir / "warm_start_adapter"
    stats = backend.finetune(source, to_dataset(rows), config.finetune, adapter,
                             seed=derive_seed(config.seed, "warm_start"), progress=config.progress)
    backend.merge(source, adapter, run_dir / "base_model")
    return {"rows": len(rows), "steps": stats["steps"], "train_loss": stats["train_loss"],
            "base_model": "base_model"}
