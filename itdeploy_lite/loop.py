"""The main job: iterative deployment, generation after generation (``itdeploy run``).

For generation ``g = 0 .. G`` (model ``M_0`` is the embedded base model)::

    if g >= 1:  curate   the traces of generations 0..g-1            -> gen_g/curated.jsonl, gen_g/curated/
                rename   (--renamings R) R renamed copies of each       -> gen_g/renamed.jsonl
                finetune M_g from the base (or from M_{g-1}) on them   -> gen_g/adapter/
    evaluate    M_g greedily on the FIXED held-out tasks               -> gen_g/eval.jsonl
    pool_eval   M_g greedily on the deployment pool (protocol pool)    -> gen_g/pool_eval.jsonl
    deploy      M_g on the pool, k samples each, validate             -> gen_g/traces.jsonl
    metrics     of generation g                                        -> gen_g/metrics.json

Two protocols say what the model is deployed on. ``pool`` (the default) is the paper's: one fixed task
set, drawn once (:func:`~itdeploy_lite.planning.generators.splits.make_pool`), from sizes generation 0
solves to sizes well beyond them, deployed on in every generation including the last; a task is solved
in a generation when one of its ``k`` samples is valid (the paper's count). ``fresh`` deploys on new
tasks each generation and skips the last generation's deployment (nothing would be trained on it).
Either way the held-out tasks (disjoint, up to larger sizes) are the stronger test of generalisation.

The base model is copied into the run folder (``base_model/``) at the start, and its weight hash is
kept in ``config.json``: every generation, resumed or not, builds on the same weights.

This is the paper's loop (Corrêa et al., arXiv 2512.24940): deploy, keep what a validator accepts,
fine-tune the next generation on the curated pool, repeat. The held-out set is generated once from the
``heldout`` split (fixed seed; sizes larger than any in pretraining) and never trained on.

Resuming: every stage writes its outputs whole (:mod:`itdeploy_lite.atomic`), then a
``<stage>.done.json`` marker with its summary (:func:`~itdeploy_lite.run_folder.run_stage`). Re-running
the same command skips every stage that has a marker and redoes the one that was interrupted, from the
start. Files are replaced whole, never appended to, so no record is lost or written twice; the one
journal is the deploy stage's ``traces.partial.jsonl`` with ``--deploy-chunk-tasks``, whose saved chunks
a re-run reads back instead of sampling them again. Each stage seeds itself from ``(seed, generation,
stage)``, so a resumed run gives the same numbers as an uninterrupted one.

The pieces around the loop live in modules named after them: the settings in :mod:`~itdeploy_lite.config`,
the task sets in :mod:`~itdeploy_lite.task_sets`, sampling and validation in :mod:`~itdeploy_lite.deploy`,
the measures in :mod:`~itdeploy_lite.metrics`, the run folder in :mod:`~itdeploy_lite.run_folder`.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from itdeploy_lite import atomic
from itdeploy_lite.config import RunConfig, apply_preset, sequence_tokens
from itdeploy_lite.curate import curate, read_jsonl, to_dataset, write_curated
from itdeploy_lite.deploy import sample_tasks, sample_tasks_in_chunks
from itdeploy_lite.formats import run_format
from itdeploy_lite.metrics import deployment_summary, generation_metrics, pool_metrics
from itdeploy_lite.run_folder import copy_base, generation_dir, prepare_run_dir, run_stage
from itdeploy_lite.runtime import derive_seed, quiet_bitsandbytes, quiet_libraries, set_threads
from itdeploy_lite.task_sets import LoopTask, deployment_tasks, frontier_allocation, heldout_tasks

__all__ = ["RunConfig", "RunSetup", "run", "run_generation", "curate_stage", "finetune_stage",
           "evaluate_stage", "deploy_stage", "deploys"]


@dataclass
class RunSetup:
    """What every generation of a run shares.

    Attributes:
        backend: the :class:`~itdeploy_lite.backends.Backend` that loads, samples and fine-tunes.
        base: the generation-0 model (a folder, or a hub id for an LLM).
        kind: ``"embedded"`` or ``"llm"``.
        prompt_format: generation 0's :class:`~itdeploy_lite.formats.PromptFormat`, filled by
            :func:`base_format` on first use (``None`` until then).
    """

    backend: object
    base: Path | str
    kind: str
    prompt_format: object = field(default=None, repr=False)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(config: RunConfig) -> list[dict]:
    """Run (or resume) the loop; see the module docstring for the stages and files.

    Args:
        config: the :class:`~itdeploy_lite.config.RunConfig`.

    Returns:
        The metrics of generations ``0..config.generations`` (see
        :func:`~itdeploy_lite.metrics.generation_metrics`).

    Raises:
        ValueError: a bad config (named field), or a run folder holding a different config.
        FileNotFoundError: a missing model, domain, task folder or decisions file.
    """
    from itdeploy_lite.backends import get_backend, resolve_base
    from itdeploy_lite.backends.vllm_sampler import choose_sampler
    from itdeploy_lite.report import table, write_report

    config = apply_preset(config)
    config.check()
    quiet_bitsandbytes()
    backend = get_backend(config.backend, config.load_in_4bit)
    backend.prepare()  # Unsloth must patch transformers/TRL before they are used
    quiet_libraries()
    set_threads(config.threads)

    # generation 0: the shipped embedded planner (copied into the run) or a pretrained LLM
    source, kind = resolve_base(config.model, config.domain)
    backend.max_seq_length = sequence_tokens(config, kind)
    backend.sampler = choose_sampler(config.sampler, kind, backend.device)
    backend.vllm_options = {"max_lora_rank": config.finetune.lora_r, "tensor_parallel_size": config.gpus,
                            "gpu_memory_utilization": config.vllm_memory}
    run_dir = prepare_run_dir(config, Path(source) if Path(source).is_dir() else None)
    base = copy_base(source, run_dir / "base_model") if kind == "embedded" else source

    # the task sets: held-out tasks are fixed; the pool (protocol pool) is the same every generation
    heldout = heldout_tasks(config)
    exclude = {t.key for t in heldout}
    pool = deployment_tasks(config, 0, exclude) if config.protocol == "pool" else None
    reference_exclude = exclude | {t.key for t in pool or ()}  # reference plans never solve a pool task
    if config.warm_start:
        from itdeploy_lite.warm_start import warm_start

        run_stage(run_dir, "warm_start",
                  lambda: warm_start(config, backend, kind, source, run_dir, exclude=reference_exclude))
        base = run_dir / "base_model"
    _log(f"run folder {run_dir}  (base model {source}, {kind}, backend {backend.name}"
         f"{', 4-bit' if config.load_in_4bit else ''}; generation 0 = {base})")
    setup = RunSetup(backend, Path(base) if Path(base).is_dir() else base, kind)
    if config.replay:
        run_stage(run_dir, "replay", lambda: replay_stage(config, setup, run_dir, reference_exclude))

    metrics: list[dict] = []
    for g in range(config.generations + 1):
        gen_dir = generation_dir(run_dir, g)
        done = (gen_dir / "metrics.json").is_file() and (not deploys(config, g) or (gen_dir / "deploy.done.json").is_file())
        if not done:
            run_generation(config, setup, run_dir, g, heldout, exclude, pool)
        metrics.append(json.loads((gen_dir / "metrics.json").read_text(encoding="utf-8")))
        if not done:
            write_report(run_dir)
            _log(table(metrics))
    print(table(metrics))
    return metrics


def deploys(config: RunConfig, g: int) -> bool:
    """Whether generation ``g`` is deployed: every generation on the pool, all but the last on fresh tasks."""
    return config.protocol == "pool" or g < config.generations


def run_generation(config: RunConfig, setup: RunSetup, run_dir: Path, g: int, heldout: list[LoopTask],
                   exclude: set, pool: list[LoopTask] | None) -> dict:
    """Run generation ``g``'s unfinished stages, then (re)write its ``metrics.json`` from the stage markers.

    Args:
        heldout: the fixed held-out tasks; ``exclude``: their keys (never deployed on).
        pool: the deployment pool (protocol ``pool``), or ``None`` (protocol ``fresh``).

    Returns:
        The generation's metrics (:func:`~itdeploy_lite.metrics.generation_metrics`).
    """
    gen_dir = generation_dir(run_dir, g)
    gen_dir.mkdir(exist_ok=True)
    summaries: dict[str, dict] = {}
    if g >= 1:  # M_g is trained on what earlier generations' deployments produced
        summaries["curate"] = run_stage(gen_dir, "curate", lambda: curate_stage(config, run_dir, g))
        if config.renamings:
            summaries["rename"] = run_stage(gen_dir, "rename", lambda: rename_stage(config, setup, run_dir, g, pool))
        summaries["finetune"] = run_stage(gen_dir, "finetune", lambda: finetune_stage(config, setup, run_dir, g))
        setup.backend.release()  # the trainer and its optimizer are gone before M_g is loaded for sampling
    adapter = (summaries.get("finetune") or {}).get("adapter")
    model, tokenizer = setup.backend.sampling_model(setup.base, run_dir / adapter if adapter else None)
    fmt = run_format(config, setup.kind, model, tokenizer)
    sampling = (model, tokenizer, fmt, setup.backend)
    summaries["evaluate"] = run_stage(gen_dir, "evaluate", lambda: evaluate_stage(config, sampling, heldout, gen_dir, g))
    if pool is not None:
        summaries["pool_eval"] = run_stage(gen_dir, "pool_eval",
                                           lambda: evaluate_stage(config, sampling, pool, gen_dir, g, "pool_eval"))
    if deploys(config, g):
        summaries["deploy"] = run_stage(gen_dir, "deploy",
                                        lambda: deploy_stage(config, sampling, run_dir, g, exclude, pool))
    del model, tokenizer, sampling
    setup.backend.release()  # M_g leaves the accelerator before M_{g+1} is trained

    pool_row = None
    if pool is not None:
        pool_row = pool_metrics(read_jsonl(gen_dir / "traces.jsonl"), read_jsonl(gen_dir / "pool_eval.jsonl"))
    row = generation_metrics(
        g, read_jsonl(gen_dir / "eval.jsonl"), list(dict.fromkeys(t.size for t in heldout)),
        summaries["curate"]["rows"] if g >= 1 else 0, summaries.get("finetune"), summaries.get("deploy"),
        {name: s["seconds"] for name, s in summaries.items()}, pool_row,
    )
    atomic.write_json(gen_dir / "metrics.json", row)
    return row


# --- the stages ------------------------------------------------------------------------------------
def curate_stage(config: RunConfig, run_dir: Path, g: int) -> dict:
    """Curate the traces of generations ``0..g-1`` with ``config.curation`` (the paper: per task the
    shortest valid plan, pooled over generations) -> ``gen_g/curated.jsonl`` and ``gen_g/curated/``.

    Returns:
        ``{"rows": int (training rows), "tasks": int, "valid_rows": int, "policy": str}``.
    """
    records = []
    for prev in range(g):
        records += read_jsonl(generation_dir(run_dir, prev) / "traces.jsonl")
    selected = curate(records, config.curation, g - 1, seed=config.seed, decisions=config.decisions or None)
    gen_dir = generation_dir(run_dir, g)
    write_curated(selected, gen_dir / "curated.jsonl", gen_dir / "curated")
    return {"rows": len(selected), "tasks": len({r["task_id"] for r in selected}),
            "valid_rows": sum(bool(r["valid"]) for r in selected), "policy": config.curation}


def base_format(config: RunConfig, setup: RunSetup):
    """Generation 0's prompt format (:func:`~itdeploy_lite.formats.run_format` of the base model), for
    rows written without sampling (replay, renamed copies). The first call loads the base model only to
    read it, releases it, and keeps the format in ``setup.prompt_format``; later calls (every generation's
    renamed copies) return that one, so a run loads the base model for this at most once."""
    if setup.prompt_format is None:
        model, tokenizer = setup.backend.sampling_model(setup.base, None)
        setup.prompt_format = run_format(config, setup.kind, model, tokenizer)
        del model, tokenizer
        setup.backend.release()
    return setup.prompt_format


def replay_stage(config: RunConfig, setup: RunSetup, run_dir: Path, exclude: set) -> dict:
    """``--replay N``: ``N`` reference rows (optimal plans of ``pretrain``-split tasks, none of them a pool
    or held-out task: ``exclude``), in generation 0's prompt format -> ``replay.jsonl``; every
    generation's fine-tuning set adds them to its curated rows (:func:`finetune_stage`). Not in the paper.

    Returns:
        ``{"rows": int}``.
    """
    from itdeploy_lite.reference_plans import reference_rows

    rows = reference_rows(config.domain, base_format(config, setup), config.replay, exclude)
    atomic.write_jsonl(run_dir / "replay.jsonl", rows)
    return {"rows": len(rows)}


def rename_stage(config: RunConfig, setup: RunSetup, run_dir: Path, g: int, pool: list[LoopTask]) -> dict:
    """``--renamings R``: ``R`` renamed copies of each of ``gen_g/curated.jsonl``'s rows (the same pool
    task and plan with its objects renamed consistently, re-validated; :func:`itdeploy_lite.rename.renamed_rows`)
    in generation 0's prompt format -> ``gen_g/renamed.jsonl``; :func:`finetune_stage` trains on them too.
    Not in the paper.

    Returns:
        ``{"rows": int, "dropped": int}``.
    """
    from itdeploy_lite.rename import renamed_rows

    gen_dir = generation_dir(run_dir, g)
    rows, stats = renamed_rows(read_jsonl(gen_dir / "curated.jsonl"), {t.task_id: t for t in pool}, config.renamings,
                               base_format(config, setup), config.domain, seed=derive_seed(config.seed, g, "rename"))
    atomic.write_jsonl(gen_dir / "renamed.jsonl", rows)
    return stats


def finetune_stage(config: RunConfig, setup: RunSetup, run_dir: Path, g: int) -> dict:
    """Fine-tune ``M_g`` with LoRA on ``gen_g/curated.jsonl``, from the base model (the paper) or, with
    ``--from previous``, continuing ``M_{g-1}``'s adapter -> ``gen_g/adapter/``. With ``--gpus N`` (N > 1)
    the stage runs under ``accelerate launch`` as N DDP processes (:mod:`itdeploy_lite.finetune_job`).
    With ``--replay N`` the ``N`` rows of ``replay.jsonl`` (:func:`replay_stage`) are trained on too, and
    with ``--renamings R`` the renamed copies of ``gen_g/renamed.jsonl`` (:func:`rename_stage`).

    An empty curated set trains nothing (whatever the replay): ``M_g`` is the previous model.

    Returns:
        The backend's fine-tuning summary (:func:`~itdeploy_lite.finetune.train_lora`: ``rows``,
        ``steps``, ``train_loss``, ...) plus ``adapter`` (relative to the run folder, or ``None``) and
        ``init`` (``"base"`` or the adapter continued).
    """
    gen_dir = generation_dir(run_dir, g)
    rows = read_jsonl(gen_dir / "curated.jsonl")
    previous = generation_dir(run_dir, g - 1) / "adapter"
    init = previous if config.init_from == "previous" and previous.is_dir() else None
    if not rows:  # nothing valid yet: this generation is the previous model
        if init is not None:
            atomic.replace_folder(gen_dir / "adapter", lambda tmp: shutil.copytree(init, tmp))
            return {"adapter": f"gen_{g:02d}/adapter", "rows": 0, "steps": 0, "note": "empty pool: previous adapter kept"}
        return {"adapter": None, "rows": 0, "steps": 0, "note": "empty pool: base model kept"}
    curated = len(rows)
    renamed = read_jsonl(gen_dir / "renamed.jsonl") if config.renamings else []
    replayed = read_jsonl(run_dir / "replay.jsonl") if config.replay else []
    rows += renamed + replayed  # to_dataset keeps only prompt and completion
    if not config.progress:
        _log(f"gen {g}: fine-tuning on {len(rows)} rows ({curated} curated)")
    seed, log_file = derive_seed(config.seed, g, "finetune"), gen_dir / "trainer_log.jsonl"
    if config.gpus > 1:  # one DDP process per GPU under accelerate launch
        from itdeploy_lite.finetune_job import run_job

        stats = run_job(config.backend, config.load_in_4bit, setup.base, to_dataset(rows), config.finetune,
                        gen_dir / "adapter", config.gpus, init_adapter=init, seed=seed, log_file=log_file)
    else:
        stats = setup.backend.finetune(setup.base, to_dataset(rows), config.finetune, gen_dir / "adapter",
                                       init_adapter=init, seed=seed, progress=config.progress, log_file=log_file)
    stats["adapter"] = f"gen_{g:02d}/adapter"
    stats["init"] = str(init.relative_to(run_dir)) if init else "base"
    stats["renamed_rows"], stats["replay_rows"] = len(renamed), len(replayed)
    return stats


def evaluate_stage(config: RunConfig, sampling: tuple, tasks: list[LoopTask], gen_dir: Path, g: int,
                   name: str = "eval") -> dict:
    """Greedy completions of ``tasks``, validated -> ``gen_dir/<name>.jsonl`` (``eval``: the held-out
    tasks; ``pool_eval``: the deployment pool).

    A thinking model (``PddlFormat`` with ``thinking``) is evaluated by one seeded sample at the run's
    temperature, top-p and top-k instead: Qwen3's model cards warn that greedy decoding repeats endlessly
    in thinking mode.

    Args:
        sampling: ``(model, tokenizer, prompt format, backend)`` of generation ``g``.

    Returns:
        ``{"tasks": int, "solved": int}``.
    """
    model, tokenizer, fmt, backend = sampling
    if name == "pool_eval" and config.tasks:  # the user's tasks are both the pool and the evaluation set
        records = read_jsonl(gen_dir / "eval.jsonl")
    else:
        greedy = not getattr(fmt, "thinking", False)
        records = sample_tasks(model, tokenizer, tasks, 1, config, g, seed=derive_seed(config.seed, g, name),
                               temperature=0.0 if greedy else None, prompt_format=fmt, backend=backend)
    atomic.write_jsonl(gen_dir / f"{name}.jsonl", records)
    return {"tasks": len(records), "solved": sum(r["valid"] for r in records)}


def deploy_stage(config: RunConfig, sampling: tuple, run_dir: Path, g: int, exclude: set,
                 pool: list[LoopTask] | None) -> dict:
    """Deploy ``M_g``: ``samples_per_task`` samples per task on the pool (or on fresh tasks, spread
    towards the frontier with ``--frontier``), each validated -> ``gen_g/traces.jsonl``.

    With ``deploy_chunk_tasks`` the stage journals its work chunk by chunk in
    ``gen_g/traces.partial.jsonl`` (:func:`~itdeploy_lite.deploy.sample_tasks_in_chunks`): a re-run after
    an interruption samples only the chunks not yet saved.

    Args:
        sampling: ``(model, tokenizer, prompt format, backend)`` of generation ``g``.
        exclude: the held-out tasks' keys (fresh tasks never equal one).

    Returns:
        :func:`~itdeploy_lite.metrics.deployment_summary`.
    """
    model, tokenizer, fmt, backend = sampling
    samples: dict[str, int] | int = config.samples_per_task
    allocation = None
    if config.frontier and g >= 1:
        previous = json.loads((generation_dir(run_dir, g - 1) / "deploy.done.json").read_text(encoding="utf-8"))
        allocation, samples = frontier_allocation(config, previous["pass_at_k_by_size"])
    tasks = pool if pool is not None else deployment_tasks(config, g, exclude, allocation)
    seed, gen_dir = derive_seed(config.seed, g, "deploy"), generation_dir(run_dir, g)
    if config.deploy_chunk_tasks:
        journal = gen_dir / "traces.partial.jsonl"
        records = sample_tasks_in_chunks(model, tokenizer, tasks, samples, config, g, seed=seed, prompt_format=fmt,
                                         journal=journal, chunk_tasks=config.deploy_chunk_tasks, backend=backend)
    else:
        records = sample_tasks(model, tokenizer, tasks, samples, config, g, seed=seed, prompt_format=fmt,
                               backend=backend)
    atomic.write_jsonl(gen_dir / "traces.jsonl", records)
    if config.deploy_chunk_tasks:
        journal.unlink(missing_ok=True)
    return deployment_summary(tasks, records, samples)
