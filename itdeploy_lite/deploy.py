"""Deployment: sample plans from the model for many tasks at once, and score them.

:func:`deploy` is the paper's deployment step (Section 3): every task gets ``k`` sampled completions,
recorded as trace rows ``{generation, task_id, sample_id, prompt, completion, n_tokens}``. Sampling is
batched with the KV cache and LEFT padding (a decoder-only model continues from the last position, so
prompts of different lengths are padded on the left), by :func:`itdeploy_lite.decode.decode`: a row
that is done leaves the batch and a waiting one takes its place (``model.generate`` remains as the
fallback). Each row stops at ``</s>`` or at its own token budget, set by the task's size
(:func:`token_budget`), so a model that rambles on a large task does not hold up the others.

:func:`sample_tasks` is what the loop calls: it samples the loop's tasks and stamps each trace with
the validator's verdict (:func:`validate_records`). :func:`evaluate` samples (greedy by default),
validates, and gives the solved fraction per task size and pass@k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from tqdm.auto import tqdm
from transformers import StoppingCriteria, StoppingCriteriaList

from itdeploy_lite.formats import PromptFormat, token_budget
from itdeploy_lite.records import SampledTrace, TraceRecord



@dataclass
class DeployConfig:
    """How to sample.

    Attributes:
        samples_per_task: completions per task (the paper's k).
        temperature: sampling temperature (the paper: 0.6, as ``itdeploy run``); 0 means greedy decoding.
        top_p: nucleus sampling threshold (1.0 = off).
        top_k: keep the ``top_k`` most likely tokens (0 = off; Qwen3: 20).
        batch_size: sequences per ``generate`` call (prompts x samples are flattened and batched).
        max_new_tokens: hard cap on completion tokens for any task.
        steps_per_object: plan-step budget per object of the task (see :func:`token_budget`).
        seed: sampling seed; the same seed, model and tasks give the same traces.
        progress: show a tqdm progress bar.
        task_objects_only: a sample may name only objects its task's prompt names (the embedded
            planner's object tokens, :func:`~itdeploy_lite.models.tokenizer.object_token_ids`, are masked
            unless the prompt holds them; see :func:`itdeploy_lite.decode.decode`'s ``copy_only``).
            Without it, a third of the shipped Rovers planner's invalid samples at generation 0 (601 of
            1,784) name an object the task does not declare (``experiments/logs/levers_gen0.md``).
    """

    samples_per_task: int = 8
    temperature: float = 0.6
    top_p: float = 1.0
    top_k: int = 0
    batch_size: int = 128
    max_new_tokens: int = 1024
    steps_per_object: float = 3.0
    seed: int = 0
    progress: bool = True
    task_objects_only: bool = False




class _RowBudget(StoppingCriteria):
    """Stop each row when it has generated its own budget of tokens (``generate`` pads finished rows)."""

    def __init__(self, prompt_length: int, budgets: torch.Tensor):
        self.prompt_length = prompt_length
        self.budgets = budgets

    def __call__(self, input_ids: torch.LongTensor, scores=None, **kwargs) -> torch.BoolTensor:
        generated = input_ids.shape[1] - self.prompt_length
        return generated >= self.budgets.to(input_ids.device)


@torch.no_grad()
def sample_completions(model, tokenizer, prompts: Sequence[str], budgets: Sequence[int], k: int = 1,
                       temperature: float = 0.6, top_p: float = 1.0, batch_size: int = 128, seed: int = 0,
                       progress: bool = True, desc: str = "sample", engine: str = "auto", top_k: int = 0,
                       eos_ids: Sequence[int] | None = None, copy_only: Sequence[int] = ()) -> list[list[dict]]:
    """Sample ``k`` completions per prompt, batched, with the KV cache.

    Any causal LM works: the embedded planner, a transformers or PEFT model, an Unsloth model after
    ``FastLanguageModel.for_inference``. Rows of similar prompt length share a batch; each row stops at
    the tokenizer's end token or after its own budget.

    Args:
        model: a causal LM; put in eval mode here.
        tokenizer: its tokenizer (needs a pad token; for ``generate`` the padding side is forced to left
            for the call, then restored).
        prompts: prompt strings (already rendered, e.g. with a chat template; no special tokens are added).
        budgets: completion-token budget per prompt (tokens).
        k: samples per prompt (>= 1).
        temperature: 0 for greedy decoding.
        top_p: nucleus threshold (1.0 = off).
        batch_size: sequences decoded together (>= 1).
        top_k: keep the ``top_k`` most likely tokens (0 = off; Qwen3's model cards: 20).
        eos_ids: the ids that end a completion; default :func:`end_token_ids` (the tokenizer's end token
            and every ``eos_token_id`` of the model's generation config: Qwen3 has two).
        seed: the same seed, model, prompts and engine give the same completions.
        progress: show a tqdm bar labelled ``desc``.
        engine: ``"refill"`` (:func:`itdeploy_lite.decode.decode`: finished rows leave the batch and
            waiting rows join it; ~2-3x ``generate``'s tokens/s on the embedded model, see
            ``benchmarks/sampling.py``), ``"generate"`` (``model.generate``, each batch padded to its
            slowest row) or ``"auto"`` (``refill`` where the model's cache allows it, else ``generate``).
        copy_only: token ids a completion may hold only if its prompt holds them (``refill`` only; see
            :func:`itdeploy_lite.decode.decode`). Empty: no such rule.

    Returns:
        ``out[i][j]`` = ``{"completion": str, "n_tokens": int, "ended": bool}`` for prompt ``i``, sample
        ``j``: the decoded text up to and including the end token if written (special tokens kept, no
        padding); ``n_tokens`` counts its tokens; ``ended`` says whether the end token was written.

    Raises:
        ValueError: ``k < 1``, ``batch_size < 1``, ``budgets`` not one per prompt, an unknown engine, or
            ``copy_only`` with the ``generate`` engine (or a model whose cache cannot be refilled).
    """
    if copy_only and engine == "generate":
        raise ValueError("copy_only (task objects only) needs the refill engine; model.generate has no per-row rule")
    if k < 1 or batch_size < 1:
        raise ValueError("samples per task (k) and batch_size must be >= 1")
    if len(budgets) != len(prompts):
        raise ValueError(f"{len(budgets)} budgets for {len(prompts)} prompts")
    if engine not in ("auto", "refill", "generate"):
        raise ValueError(f"engine must be 'auto', 'refill' or 'generate', got {engine!r}")
    model.eval()
    prompt_ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    rows = [(t, s) for t in range(len(prompts)) for s in range(k)]
    rows.sort(key=lambda r: (len(prompt_ids[r[0]]), budgets[r[0]]))  # similar lengths share a batch: less padding
    ends = list(eos_ids) if eos_ids is not None else end_token_ids(model, tokenizer)
    pad = tokenizer.pad_token_id
    # Never sample padding, BOS or UNK - unless one of them is also an end token (SmolLM2 pads with it).
    suppress = [t for t in (pad, tokenizer.bos_token_id, tokenizer.unk_token_id) if t is not None and t not in ends]
    bar = tqdm(total=len(rows), desc=desc, unit="sample", disable=not progress)
    try:
        ids = None
        if engine in ("auto", "refill"):
            from itdeploy_lite.decode import RefillUnsupported, decode

            try:
                ids = decode(model, [prompt_ids[t] for t, _ in rows], [budgets[t] for t, _ in rows], ends, pad,
                             temperature, top_p, batch_size, seed, suppress, on_finish=lambda _: bar.update(1),
                             top_k=top_k, copy_only=copy_only)
            except RefillUnsupported as error:
                if engine == "refill":
                    raise
                if copy_only:
                    raise ValueError(f"copy_only (task objects only) needs the refill engine: {error}") from error
        if ids is None:
            ids = _generate(model, tokenizer, prompts, budgets, rows, temperature, top_p, batch_size, seed, suppress, bar,
                            top_k, ends)
    finally:
        bar.close()
    out: dict[tuple[int, int], dict] = {}
    for (t, s), completion in zip(rows, ids):
        completion = completion[: budgets[t]]
        end = next((i for i, token in enumerate(completion) if token in ends), None)
        ended = end is not None
        if ended:
            completion = completion[: end + 1]
        out[(t, s)] = {"completion": tokenizer.decode(completion, skip_special_tokens=False),
                       "n_tokens": len(completion), "ended": ended}
    return [[out[(t, s)] for s in range(k)] for t in range(len(prompts))]


def end_token_ids(model, tokenizer) -> list[int]:
    """The ids that end a completion: the tokenizer's ``eos_token_id`` and every ``eos_token_id`` of the
    model's generation config (Qwen3: ``<|im_end|>`` 151645 and ``<|endoftext|>`` 151643), in that order."""
    ids = [tokenizer.eos_token_id]
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids += configured if isinstance(configured, (list, tuple)) else [configured]
    return [int(i) for i in dict.fromkeys(ids) if i is not None]


def _generate(model, tokenizer, prompts, budgets, rows, temperature, top_p, batch_size, seed, suppress, bar,
              top_k=0, ends=None):
    """``model.generate`` over ``rows`` (``(prompt, sample)`` pairs), left-padded batches of ``batch_size``;
    each row's token ids without padding."""
    pad = tokenizer.pad_token_id
    ends = ends or [tokenizer.eos_token_id]
    device = next(model.parameters()).device
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    out = []
    try:
        for b, start in enumerate(range(0, len(rows), batch_size)):
            batch = rows[start : start + batch_size]
            enc = tokenizer([prompts[t] for t, _ in batch], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(device)
            row_budget = torch.tensor([budgets[t] for t, _ in batch])
            prompt_length = enc["input_ids"].shape[1]
            torch.manual_seed(seed * 1_000_003 + b)
            sampling = temperature > 0
            output = model.generate(
                **enc,
                do_sample=sampling,
                temperature=temperature if sampling else None,
                top_p=top_p if sampling else None,
                top_k=top_k if sampling else None,
                max_new_tokens=int(row_budget.max()),
                stopping_criteria=StoppingCriteriaList([_RowBudget(prompt_length, row_budget)]),
                eos_token_id=list(ends),
                pad_token_id=pad,
                suppress_tokens=suppress or None,
                use_cache=True,
            )
            for ids in output[:, prompt_length:].tolist():
                if not any(token in ends for token in ids):
                    while ids and ids[-1] == pad:
                        ids.pop()
                out.append(ids)
            bar.update(len(batch))
    finally:
        tokenizer.padding_side = side
    return out


def deploy(model, tokenizer, tasks: Sequence[tuple[str, object]], config: DeployConfig = DeployConfig(),
           generation: int = 0, *, prompt_format: PromptFormat, problems: Sequence[str] | None = None,
           backend=None) -> list[SampledTrace]:
    """Sample ``config.samples_per_task`` completions for every task (the paper's deployment step).

    Args:
        model: a causal LM (``LlamaForCausalLM``, optionally with a PEFT adapter; any LLM with
            ``prompt_format``); put in eval mode here.
        tokenizer: its tokenizer (left padding is forced for the call).
        tasks: ``(task_id, task)`` pairs; ``task`` a :class:`~itdeploy_lite.planning.Task`.
        config: sampling settings.
        generation: written into every record.
        prompt_format: the model's :class:`~itdeploy_lite.formats.PromptFormat` (keyword, required), e.g.
            ``CompactFormat.of_model(model)`` for the embedded planner.
        problems: the problems' PDDL texts, one per task (the ``pddl`` format shows them).
        backend: the :class:`~itdeploy_lite.backends.Backend` whose ``generate`` samples; default
            :func:`sample_completions` (what every backend uses).

    Returns:
        One :class:`~itdeploy_lite.records.SampledTrace` per sample, ordered by task then ``sample_id``
        (no padding in ``completion``; ``<pad>``, ``<s>`` and ``<unk>`` are never sampled). Validate
        them with :func:`validate_records`.

    Raises:
        ValueError: ``samples_per_task < 1`` or ``batch_size < 1``; ``task_objects_only`` with a tokenizer
            that has no object tokens (an LLM's).
    """
    if config.samples_per_task < 1 or config.batch_size < 1:
        raise ValueError("samples_per_task and batch_size must be >= 1")
    rule = {}
    if config.task_objects_only:
        from itdeploy_lite.models.tokenizer import object_token_ids

        rule["copy_only"] = object_token_ids(tokenizer)
        if not rule["copy_only"]:
            raise ValueError("task_objects_only: the tokenizer has no object-name tokens (only the embedded "
                             "planner's word-level tokenizer has them; an LLM's objects span several subwords)")
    problems = list(problems) if problems is not None else [""] * len(tasks)
    prompts = [prompt_format.prompt(task, pddl) for (_, task), pddl in zip(tasks, problems)]
    budgets = [prompt_format.budget(task, config.max_new_tokens, config.steps_per_object) for _, task in tasks]
    generate = backend.generate if backend is not None else sample_completions
    samples = generate(model, tokenizer, prompts, budgets, config.samples_per_task, config.temperature,
                       config.top_p, config.batch_size, config.seed, config.progress, f"deploy gen {generation}",
                       top_k=config.top_k, **rule)
    if getattr(prompt_format, "thinking", None):
        force_answers(generate, model, tokenizer, prompt_format, prompts, [task for _, task in tasks], samples, config)
    return [{"generation": generation, "task_id": task_id, "sample_id": s, "prompt": prompts[t], **sample}
            for t, (task_id, _) in enumerate(tasks) for s, sample in enumerate(samples[t])]


def force_answers(generate, model, tokenizer, prompt_format: PromptFormat, prompts: Sequence[str], tasks: Sequence,
                  samples: list[list[dict]], config: DeployConfig) -> int:
    """Budget forcing for thinking models: every sample that ran out of tokens inside ``<think>``
    (:meth:`PddlFormat.needs_answer <itdeploy_lite.formats.PddlFormat.needs_answer>`) gets ``</think>``
    appended and one more sampled continuation of at most the task's
    :meth:`~itdeploy_lite.formats.PddlFormat.answer_budget` tokens, in which to write its plan
    (Muennighoff et al. 2025, "s1: Simple test-time scaling"). Without it an over-long reasoning trace has
    no plan and is simply invalid.

    Args:
        generate: the sampler (:meth:`Backend.generate <itdeploy_lite.backends.base.Backend.generate>` or
            :func:`sample_completions`).
        prompts, tasks: one per task; ``samples[t][j]``: :func:`sample_completions`' records, updated in
            place: ``completion`` and ``n_tokens`` grow by the closing text and the continuation,
            ``ended`` is the continuation's, and ``forced_answer`` is ``True``.
        config: the sampling settings (the continuation uses the same temperature, top-p and top-k, and
            the seed ``config.seed + 1``).

    Returns:
        How many samples were forced.
    """
    close = prompt_format.CLOSE_THINKING
    todo = [(t, j) for t, row in enumerate(samples) for j, sample in enumerate(row)
            if prompt_format.needs_answer(sample["completion"], sample["ended"])]
    if not todo:
        return 0
    continued = generate(model, tokenizer, [prompts[t] + samples[t][j]["completion"] + close for t, j in todo],
                         [prompt_format.answer_budget(tasks[t], config.max_new_tokens, config.steps_per_object)
                          for t, _ in todo], 1, config.temperature, config.top_p, config.batch_size, config.seed + 1,
                         False, "forced answers", top_k=config.top_k)
    close_tokens = len(tokenizer(close, add_special_tokens=False)["input_ids"])
    for (t, j), (answer,) in zip(todo, continued):
        sample = samples[t][j]
        sample.update(completion=sample["completion"] + close + answer["completion"], ended=answer["ended"],
                      n_tokens=sample["n_tokens"] + close_tokens + answer["n_tokens"], forced_answer=True)
    return len(todo)


def validate_records(records: list[SampledTrace], tasks: dict, prompt_format: PromptFormat) -> list[TraceRecord]:
    """Stamp every sampled trace with the validator's verdict, making it a
    :class:`~itdeploy_lite.records.TraceRecord` (in place; returns ``records``).

    Args:
        records: trace records (``task_id``, ``completion``; ``ended`` if the sampler set it).
        tasks: task id -> :class:`~itdeploy_lite.task_sets.LoopTask`.
        prompt_format: the :class:`~itdeploy_lite.formats.PromptFormat` that reads the plan out of a completion.

    Adds ``size``, ``valid``, ``plan_length``, ``failed_step``, ``reason`` and ``first_action`` (and ``ended`` where the
    sampler did not set it: the completion holds the end token).
    """
    from itdeploy_lite.curate import first_action
    from itdeploy_lite.planning import validate
    from itdeploy_lite.prompts import EOS

    for record in records:
        item = tasks[record["task_id"]]
        plan = prompt_format.plan_text(record["completion"])
        result = validate(item.task, plan)
        record.update(size=item.size, valid=result.valid, plan_length=result.plan_length,
                      failed_step=result.failed_step, reason=result.reason, first_action=first_action(plan),
                      ended=record.get("ended", EOS in record["completion"]))
    return records


def sample_tasks(model, tokenizer, tasks: list, samples: dict[str, int] | int, config, generation: int, seed: int,
                 prompt_format: PromptFormat, temperature: float | None = None, backend=None) -> list[TraceRecord]:
    """Sample completions for the loop's tasks with :func:`deploy` and validate them (what every stage
    that samples calls: held-out and pool evaluation greedily, deployment with ``k`` samples).

    Args:
        tasks: :class:`~itdeploy_lite.task_sets.LoopTask` s.
        samples: samples per task, one number or per size label.
        config: the run's :class:`~itdeploy_lite.config.RunConfig` (sampling settings).
        generation: written into every record.
        seed: the sampling seed (the loop derives it from run seed, generation and stage).
        temperature: ``0`` for greedy decoding; default ``config.temperature``.
        prompt_format: the model's :class:`~itdeploy_lite.formats.PromptFormat`.
        backend: the run's :class:`~itdeploy_lite.backends.Backend` (samples with its ``generate``).

    Returns:
        Validated trace records (see :func:`validate_records`), ordered by task then sample.
    """
    per_size = samples if isinstance(samples, dict) else {t.size: samples for t in tasks}
    records = []
    for k in sorted(set(per_size[t.size] for t in tasks)):
        group = [t for t in tasks if per_size[t.size] == k]
        deploy_config = DeployConfig(
            samples_per_task=k, temperature=config.temperature if temperature is None else temperature,
            top_p=config.top_p, top_k=config.top_k, batch_size=config.sample_batch_size,
            max_new_tokens=config.max_new_tokens,
            seed=seed + k, progress=config.progress, task_objects_only=config.task_objects_only,
        )
        records += deploy(model, tokenizer, [(t.task_id, t.task) for t in group], deploy_config, generation,
                          prompt_format=prompt_format, problems=[t.pddl for t in group], backend=backend)
    order = {t.task_id: i for i, t in enumerate(tasks)}
    records.sort(key=lambda r: (order[r["task_id"]], r["sample_id"]))
    return validate_records(records, {t.task_id: t for t in tasks}, prompt_format)


def sample_tasks_in_chunks(model, tokenizer, tasks: list, samples: dict[str, int] | int, config, generation: int,
                           seed: int, prompt_format: PromptFormat, journal: str | Path, chunk_tasks: int,
                           backend=None) -> list[TraceRecord]:
    """:func:`sample_tasks` on ``chunk_tasks`` tasks at a time, each chunk's validated records appended to
    the ``journal`` (one JSON line per chunk, fsync'd) as soon as it is done; chunks already in the journal
    are read back, not sampled again. A deploy stage cut off midway (a Colab disconnect, a killed job)
    loses at most the chunk in progress.

    Chunk ``i`` is sampled with seed ``derive_seed(seed, "chunk", i)``, so a resumed stage gives the same
    records as an uninterrupted one; one chunk holding every task is sampled with ``seed`` itself and
    gives exactly :func:`sample_tasks`' records.

    Args:
        journal: the journal file (the loop: ``gen_g/traces.partial.jsonl``); the caller deletes it once
            the stage's output is written.
        chunk_tasks: tasks per chunk (>= 1).
        others: as for :func:`sample_tasks`.

    Returns:
        Every task's records, ordered by task then sample (as :func:`sample_tasks`).

    Raises:
        ValueError: ``chunk_tasks`` < 1, or the journal holds a chunk whose tasks are not this call's
            chunk of that number (it was written by another deployment; the message names the file).
    """
    from itdeploy_lite import atomic
    from itdeploy_lite.runtime import derive_seed

    if chunk_tasks < 1:
        raise ValueError(f"chunk_tasks must be >= 1, got {chunk_tasks}")
    chunks = [tasks[i:i + chunk_tasks] for i in range(0, len(tasks), chunk_tasks)]
    saved = {entry["chunk"]: entry for entry in atomic.read_json_lines(journal)}
    records: list[TraceRecord] = []
    for i, chunk in enumerate(chunks):
        ids = [t.task_id for t in chunk]
        if i in saved:
            if saved[i]["task_ids"] != ids:
                raise ValueError(f"{journal}: chunk {i} holds tasks {saved[i]['task_ids'][:3]}... , not this "
                                 f"deployment's {ids[:3]}...; delete the file to sample the stage again")
            records += saved[i]["records"]
            continue
        chunk_seed = seed if len(chunks) == 1 else derive_seed(seed, "chunk", i)
        rows = sample_tasks(model, tokenizer, chunk, samples, config, generation, seed=chunk_seed,
                            prompt_format=prompt_format, backend=backend)
        atomic.append_json_line(journal, {"chunk": i, "task_ids": ids, "records": rows})
        records += rows
    return records


def evaluate(model, tokenizer, tasks: Sequence[tuple[str, object]], groups: Sequence[str] | None = None,
             config: DeployConfig = DeployConfig(samples_per_task=1, temperature=0.0), *,
             prompt_format: PromptFormat) -> dict:
    """Sample, validate, and report the solved fraction per group (e.g. per task size).

    Args:
        model, tokenizer: as for :func:`deploy`.
        tasks: ``(task_id, task)`` pairs.
        groups: a label per task (e.g. the size tag ``"b5p10"``); default: one group ``"all"``.
        config: sampling settings; the default is greedy decoding, one sample per task.
        prompt_format: the model's :class:`~itdeploy_lite.formats.PromptFormat` (keyword, required).

    Returns:
        ``{"solved_fraction": float, "by_group": {label: {"n": int, "solved": float, "sample_valid":
        float, "mean_plan_length": float | None}}, "k": int, "records": list}``. ``solved`` is pass@k
        (a task counts if any of its k samples is valid); ``sample_valid`` is the fraction of valid
        samples; ``records`` are :func:`deploy`'s rows stamped by :func:`validate_records`.
    """
    from itdeploy_lite.task_sets import LoopTask

    groups = list(groups) if groups is not None else ["all"] * len(tasks)
    records = deploy(model, tokenizer, tasks, config, prompt_format=prompt_format)
    validate_records(records, {tid: LoopTask(tid, g, task) for (tid, task), g in zip(tasks, groups)}, prompt_format)
    solved: dict[str, bool] = {}
    for rec in records:
        solved[rec["task_id"]] = solved.get(rec["task_id"], False) or rec["valid"]
    by_group: dict[str, dict] = {}
    for label in dict.fromkeys(groups):
        ids = {tid for (tid, _), g in zip(tasks, groups) if g == label}
        recs = [r for r in records if r["task_id"] in ids]
        lengths = [r["plan_length"] for r in recs if r["valid"]]
        by_group[label] = {
            "n": len(ids),
            "solved": sum(solved[t] for t in ids) / len(ids),
            "sample_valid": sum(r["valid"] for r in recs) / len(recs),
            "mean_plan_length": sum(lengths) / len(lengths) if lengths else None,
        }
    return {
        "solved_fraction": sum(solved.values()) / max(1, len(solved)),
        "by_group": by_group,
        "k": config.samples_per_task,
        "records": records,
    }


_DOMAINS: dict[str, object] = {}


def as_tasks(problems) -> list[tuple[str, object]]:
    """``(name, Task)`` pairs for generated problems, parsing each domain file once (~1 ms per task).

    Args:
        problems: :class:`~itdeploy_lite.planning.generators.GeneratedProblem` s of built-in domains.

    Raises:
        PDDLError: a problem does not parse (a generator bug).
    """
    from itdeploy_lite.planning import domain_path
    from itdeploy_lite.planning.grounding import build_task
    from itdeploy_lite.planning.pddl_io import parse_domain_text, parse_problem_text

    pairs = []
    for p in problems:
        if p.domain not in _DOMAINS:
            path = domain_path(p.domain)
            _DOMAINS[p.domain] = parse_domain_text(path.read_text(encoding="utf-8"), str(path))
        pairs.append((p.name, build_task(_DOMAINS[p.domain], parse_problem_text(p.pddl, p.name))))
    return pairs
