"""The main job: iterative deployment, generation after generation (``itdeploy run``).

For generation ``g = 0 .. G`` (model ``M_0`` is the embedded base model)::

    if g >= 1:  curate   the traces of generations 0..g-1            -> gen_g/curated.jsonl, gen_g/curated/
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

Resuming: every stage writes its outputs to a temporary name, flushes and renames them, then writes a
``<stage>.done.json`` marker with its summary. Re-running the same command skips every stage that has a
marker and redoes the one that was interrupted, from the start (its partial files are overwritten).
Files are replaced whole, never appended to, so no record is lost or written twice. Each stage seeds
itself from ``(seed, generation, stage)``, so a resumed run gives the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from itdeploy_lite.curate import POLICIES, curate, read_jsonl, write_curated, write_jsonl_atomic
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.paths import replace_folder


@dataclass
class RunConfig:
    """One run of the loop; every field is an ``itdeploy run`` flag (``--tasks-per-generation``, ...).

    The defaults are the main job: Blocksworld, 5 generations, the paper's protocol and curation rule.

    Attributes:
        domain: ``blocksworld``, ``rovers`` or ``sokoban`` (with ``tasks``: a built-in name or a domain file).
        generations: fine-tuned generations after generation 0 (the paper: ~5).
        protocol: ``pool`` (the paper's: the same fixed pool of tasks deployed on every generation) or
            ``fresh`` (new tasks every generation). See the module docstring.
        tasks_per_generation: tasks deployed on per generation, spread evenly over ``sizes``: the pool's
            size (protocol ``pool``), or the fresh tasks drawn per generation (protocol ``fresh``). 0: the
            domain's default (:func:`task_count`).
        sizes: deployment task sizes, ``;``-separated ``K=V[,K=V]`` (e.g. ``blocks=4;blocks=5``); a bare
            integer means that many blocks (Blocksworld). Empty: the domain's pool sizes
            (:data:`~itdeploy_lite.planning.generators.splits.POOLS`; protocol ``pool``) or its ``train``
            split sizes (protocol ``fresh``).
        samples_per_task: completions sampled per task (the paper's k).
        temperature: sampling temperature (the paper: 0.6).
        top_p: nucleus sampling threshold (1.0: off).
        max_new_tokens: hard cap on completion tokens (each task's budget grows with its size below it).
        sample_batch_size: sequences per ``generate`` call.
        curation: a policy of :data:`itdeploy_lite.curate.POLICIES` (``paper``, ``none``, ``latest``,
            ``manual``, ``longest``, ``random-valid``).
        decisions: the decisions file for ``curation=manual`` (JSONL, see :func:`itdeploy_lite.curate.manual`).
        init_from: ``base`` (the paper: each generation is fine-tuned from the base model on the whole
            pool) or ``previous`` (continue the previous generation's adapter). Flag: ``--from``.
        frontier: focus deployment on the frontier (protocol ``fresh`` only): sizes whose pass@k in the
            previous generation was strictly between 0 and 1 (and the first unsolved size above them) get
            most of the sampling budget and ``frontier_samples`` samples per task; the total number of
            samples is unchanged.
        frontier_samples: samples per task on frontier sizes (with ``frontier``).
        frontier_floor: relative weight of non-frontier sizes in the budget (with ``frontier``).
        heldout_per_size: held-out tasks per size (the ``heldout`` split, fixed seed).
        tasks: a folder of PDDL problem files to deploy on instead of generated tasks (the pool, with
            protocol ``pool``); they are also the evaluation set (there is no separate held-out set for
            user tasks).
        model: the generation-0 model: empty for the shipped embedded checkpoint of ``domain``; a shipped
            checkpoint name (``blocksworld-small``); a model folder; a pretrained LLM by registry name
            (``smollm2-135m`` offline, ``qwen3-0.6b``, ``qwen3-1.7b``, ``qwen3-4b-thinking`` on a GPU) or a
            hub id ``org/name``.
        backend: ``hf`` (transformers + peft + TRL) or ``unsloth`` (``FastLanguageModel``; falls back to
            the CPU without a GPU). See :mod:`itdeploy_lite.backends`.
        load_in_4bit: load base weights in nf4 4-bit (QLoRA, bitsandbytes; also on a CPU).
        preset: a training/sampling preset of :data:`itdeploy_lite.llm.PRESETS` (``paper``,
            ``qwen3-small``, ``smollm2-cpu``); it sets every field it covers that is still at its default.
        prompt_format: ``auto`` (``compact`` for the embedded planner, ``pddl`` for LLMs), ``compact`` or
            ``pddl`` (PlanBench style: domain and problem PDDL; see :mod:`itdeploy_lite.backends.formats`).
        few_shot: ``pddl`` format: solved examples of the domain shown before each task.
        warm_start: reference plans (optimal, small ``pretrain``-split tasks) in a short SFT before
            generation 0, whose result is the run's generation 0 (0: none, as in the paper; a 135 M LLM
            solves almost nothing without it).
        seed: seeds task generation, sampling and fine-tuning (same seed, same metrics).
        out: the run folder; empty: ``runs/<domain>-<curation>-s<seed>`` (``-frontier`` appended with ``frontier``).
        progress: show progress bars.
        threads: torch CPU threads (0: torch's default, one per core). On a machine shared with other
            jobs, 1 avoids oversubscription (two threads on two busy cores ran ~8x slower here).
        finetune: LoRA fine-tuning settings (:class:`~itdeploy_lite.finetune.FinetuneConfig`; flags
            ``--lora-r``, ``--learning-rate``, ...).
    """

    domain: str = "blocksworld"
    generations: int = 5
    protocol: str = field(default="pool", metadata={"choices": ("pool", "fresh")})
    tasks_per_generation: int = 0
    sizes: str = ""
    samples_per_task: int = 8
    temperature: float = 0.6
    top_p: float = 1.0
    max_new_tokens: int = 1024
    sample_batch_size: int = 128
    curation: str = "paper"
    decisions: str = ""
    init_from: str = field(default="base", metadata={"flag": "--from", "choices": ("base", "previous")})
    frontier: bool = False
    frontier_samples: int = 16
    frontier_floor: float = 0.1
    heldout_per_size: int = 25
    tasks: str = ""
    model: str = ""
    backend: str = field(default="hf", metadata={"choices": ("hf", "unsloth")})
    load_in_4bit: bool = False
    preset: str = ""
    prompt_format: str = field(default="auto", metadata={"choices": ("auto", "compact", "pddl")})
    few_shot: int = 0
    warm_start: int = 0
    seed: int = 0
    out: str = ""
    progress: bool = True
    threads: int = 0
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)

    def run_dir(self) -> Path:
        """The run folder (``out``, or the default name)."""
        if self.out:
            return Path(self.out)
        name = Path(self.domain).stem if self.tasks else self.domain
        return Path("runs") / f"{name}-{self.curation}-s{self.seed}{'-frontier' if self.frontier else ''}"

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad field (before anything is written)."""
        if self.threads < 0:
            raise ValueError(f"--threads must be >= 0, got {self.threads}")
        for name in ("generations", "tasks_per_generation", "samples_per_task", "sample_batch_size",
                     "heldout_per_size", "frontier_samples", "max_new_tokens"):
            low = 0 if name in ("generations", "tasks_per_generation") else 1
            if getattr(self, name) < low:
                raise ValueError(f"--{name.replace('_', '-')} must be >= {low}, got {getattr(self, name)}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError(f"--temperature must be >= 0 and --top-p in (0, 1]; got {self.temperature}, {self.top_p}")
        if self.protocol not in ("pool", "fresh"):
            raise ValueError(f"--protocol must be 'pool' or 'fresh', got {self.protocol!r}")
        if self.frontier and self.protocol != "fresh":
            raise ValueError("--frontier moves deployment between sizes, so the pool would change: "
                             "use it with --protocol fresh")
        if self.curation not in POLICIES:
            raise ValueError(f"--curation {self.curation!r}: unknown; known: {', '.join(POLICIES)}")
        if self.curation == "manual" and not self.decisions:
            raise ValueError("--curation manual needs --decisions FILE.jsonl")
        if self.init_from not in ("base", "previous"):
            raise ValueError(f"--from must be 'base' or 'previous', got {self.init_from!r}")
        if self.tasks and not Path(self.tasks).is_dir():
            raise ValueError(f"--tasks {self.tasks}: not a folder")
        if self.backend not in ("hf", "unsloth"):
            raise ValueError(f"--backend must be 'hf' or 'unsloth', got {self.backend!r}")
        if self.prompt_format not in ("auto", "compact", "pddl"):
            raise ValueError(f"--prompt-format must be auto, compact or pddl, got {self.prompt_format!r}")
        if self.few_shot < 0 or self.warm_start < 0:
            raise ValueError(f"--few-shot and --warm-start must be >= 0, got {self.few_shot}, {self.warm_start}")
        if self.frontier_floor < 0:
            raise ValueError(f"--frontier-floor must be >= 0, got {self.frontier_floor}")
        self.finetune.check()


# --- tasks -----------------------------------------------------------------------------------------
@dataclass
class LoopTask:
    """A task the loop deploys on or evaluates: ``task_id``, a ``size`` label (e.g. ``"b5"``), the
    grounded :class:`~itdeploy_lite.planning.Task` and, for generated tasks, the generator's ``key``
    (initial state and goal atoms, to keep held-out tasks out of deployment)."""

    task_id: str
    size: str
    task: object
    key: tuple = ()
    pddl: str = ""


def parse_sizes(domain: str, text: str, protocol: str = "fresh") -> list[dict]:
    """``"blocks=4;blocks=5"`` (or ``"4;5"`` for Blocksworld) -> size dicts; empty: the domain's
    default for ``protocol`` (``pool``: its pool sizes; ``fresh``: the ``train`` split's).

    Raises:
        ValueError: a malformed entry (named) or an unknown domain.
    """
    from itdeploy_lite.planning.generators.splits import BLOCK_NAMES, POOLS, SPLITS

    if not text.strip():
        defaults = POOLS.get(domain) if protocol == "pool" else SPLITS.get(domain, {}).get("train")
        if defaults is None:
            raise ValueError(f"no default sizes for domain {domain!r}; give --sizes or --tasks")
        return [dict(s) for s in defaults]
    sizes = []
    for entry in filter(None, (e.strip() for e in text.replace(" ", "").split(";"))):
        if entry.isdigit() and domain == "blocksworld":
            sizes.append({"blocks": int(entry), "name_pool": max(BLOCK_NAMES, int(entry))})
            continue
        size = {}
        for part in entry.split(","):
            key, sep, value = part.partition("=")
            if not sep or not value.isdigit():
                raise ValueError(f"--sizes entry {entry!r}: expected K=INT[,K=INT], e.g. blocks=5")
            size[key.replace("-", "_")] = int(value)
        sizes.append(size)
    if not sizes:
        raise ValueError(f"--sizes {text!r}: no size given")
    return sizes


def size_label(domain: str, size: dict) -> str:
    """The size's short tag without the Blocksworld name pool, e.g. ``"b5"`` or ``"r1w4c1o2"``."""
    from itdeploy_lite.planning.generators import size_tag

    return size_tag(domain, {k: v for k, v in size.items() if k != "name_pool"})


def _seed(*parts) -> int:
    """A stable 31-bit seed derived from ``parts`` (the same on every run and machine)."""
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:4], "big") % 2**31


def _domain_text(domain: str) -> str:
    from itdeploy_lite.planning import domain_path

    return domain_path(domain).read_text(encoding="utf-8")


def heldout_tasks(config: RunConfig) -> list[LoopTask]:
    """The FIXED evaluation set: ``heldout_per_size`` tasks per size of the domain's ``heldout`` split
    (split seed fixed, independent of ``config.seed``), or the user's ``--tasks`` problems."""
    from itdeploy_lite.planning import parse_task
    from itdeploy_lite.planning.generators.splits import make_split

    if config.tasks:
        return user_tasks(config)
    text = _domain_text(config.domain)
    return [LoopTask(p.name, size_label(config.domain, p.size), parse_task(text, p.pddl, config.domain, p.name), p.key, p.pddl)
            for p in make_split(config.domain, "heldout", config.heldout_per_size)]


def user_tasks(config: RunConfig) -> list[LoopTask]:
    """The problems of ``config.tasks`` (``*.pddl`` except domain files), labelled by object count.

    Raises:
        ValueError: the folder holds no problem file.
        PDDLError: a problem that does not parse (the message names the file).
    """
    from itdeploy_lite.planning import domain_path, load_task

    folder = Path(config.tasks)
    domain_file = domain_path(config.domain)
    problems = [p for p in sorted(folder.glob("*.pddl"))
                if "(problem" in p.read_text(encoding="utf-8", errors="replace").lower()]
    if not problems:
        raise ValueError(f"--tasks {folder}: no problem files (*.pddl)")
    out = []
    for path in problems:
        task = load_task(domain_file, path)
        out.append(LoopTask(path.stem, f"{len(task.objects)}obj", task, pddl=path.read_text(encoding="utf-8")))
    return out


def pool_tasks(config: RunConfig, exclude: set) -> list[LoopTask]:
    """The fixed deployment pool (protocol ``pool``): ``tasks_per_generation`` tasks spread evenly over
    the sizes, drawn once from the pool seed (the same tasks for every run seed and generation), none
    equal to a held-out task (``exclude``: their keys).

    Raises:
        ValueError: a size too small for its share of tasks (from the generator).
    """
    from itdeploy_lite.planning import parse_task
    from itdeploy_lite.planning.generators.splits import make_pool

    text = _domain_text(config.domain)
    allocation = uniform_allocation(config)
    tasks = []
    for size in parse_sizes(config.domain, config.sizes, config.protocol):
        label = size_label(config.domain, size)
        for p in make_pool(config.domain, allocation[label], [size], exclude):
            tasks.append(LoopTask(p.name, label, parse_task(text, p.pddl, config.domain, p.name), p.key, p.pddl))
    return tasks


def fresh_tasks(config: RunConfig, generation: int, allocation: dict[str, int], exclude: set) -> list[LoopTask]:
    """Generate this generation's deployment tasks: ``allocation[size label]`` new tasks per size.

    Tasks are drawn with a seed of ``(config.seed, generation, size)``, so every generation sees new tasks;
    a task equal to a held-out one (same initial state and goal, in ``exclude``) is never drawn.
    """
    from itdeploy_lite.planning import parse_task
    from itdeploy_lite.planning.generators import generate_problems

    text = _domain_text(config.domain)
    tasks = []
    for size in parse_sizes(config.domain, config.sizes, config.protocol):
        label = size_label(config.domain, size)
        count = allocation.get(label, 0)
        if count == 0:
            continue
        problems = generate_problems(
            config.domain, size, count, seed=_seed(config.seed, generation, label),
            prefix=f"{config.domain}-g{generation}-{label}", accept=lambda p: p.key not in exclude,
        )
        tasks += [LoopTask(p.name, label, parse_task(text, p.pddl, config.domain, p.name), p.key, p.pddl) for p in problems]
    return tasks


def deployment_tasks(config: RunConfig, generation: int, exclude: set, allocation: dict[str, int] | None = None
                     ) -> list[LoopTask]:
    """The tasks generation ``generation`` is deployed on: the user's ``--tasks``, the fixed pool (protocol
    ``pool``, the same every generation) or fresh tasks (protocol ``fresh``; ``allocation`` tasks per size
    label, default :func:`uniform_allocation`). ``exclude``: the held-out tasks' keys."""
    if config.tasks:
        return user_tasks(config)
    if config.protocol == "pool":
        return pool_tasks(config, exclude)
    return fresh_tasks(config, generation, allocation or uniform_allocation(config), exclude)


#: Fresh tasks per generation with protocol ``fresh`` when ``tasks_per_generation`` is 0.
FRESH_TASKS = 150


def task_count(config: RunConfig) -> int:
    """Tasks deployed on per generation: ``tasks_per_generation``, or if it is 0 the domain's default: with
    protocol ``pool`` :data:`~itdeploy_lite.planning.generators.splits.POOL_TASKS_PER_SIZE` per pool size
    (Blocksworld: 167 x 6 = 1,002 tasks; the measured levers behind it are in the README), with ``fresh``
    :data:`FRESH_TASKS`."""
    from itdeploy_lite.planning.generators.splits import POOL_TASKS_PER_SIZE

    if config.tasks_per_generation:
        return config.tasks_per_generation
    if config.protocol == "pool":
        return POOL_TASKS_PER_SIZE.get(config.domain, 25) * len(parse_sizes(config.domain, config.sizes, config.protocol))
    return FRESH_TASKS


def uniform_allocation(config: RunConfig) -> dict[str, int]:
    """:func:`task_count` tasks spread evenly over the sizes (the remainder to the first sizes)."""
    labels = [size_label(config.domain, s) for s in parse_sizes(config.domain, config.sizes, config.protocol)]
    base, extra = divmod(task_count(config), len(labels))
    return {label: base + (i < extra) for i, label in enumerate(labels)}


def frontier_allocation(config: RunConfig, pass_at_k: dict[str, float]) -> tuple[dict[str, int], dict[str, int]]:
    """Spread the sampling budget towards the frontier (lever (b) of the issue).

    Frontier sizes are those with ``0 < pass@k < 1`` in the previous generation's deployment, plus the
    first size with pass@k = 0 above a size with pass@k > 0. They get weight 1 and ``frontier_samples``
    samples per task; the others weight ``frontier_floor`` and ``samples_per_task``. The total number of
    samples stays ``tasks_per_generation * samples_per_task``.

    Args:
        pass_at_k: size label -> the previous generation's pass@k (fraction of tasks with a valid sample).

    Returns:
        ``(tasks per size label, samples per task per size label)``; uniform if no size is on the frontier.
    """
    labels = [size_label(config.domain, s) for s in parse_sizes(config.domain, config.sizes, config.protocol)]
    frontier = {l for l in labels if 0 < pass_at_k.get(l, 0) < 1}
    for low, high in zip(labels, labels[1:]):
        if pass_at_k.get(low, 0) > 0 and pass_at_k.get(high, 0) == 0:
            frontier.add(high)
            break
    if not frontier:
        return uniform_allocation(config), {l: config.samples_per_task for l in labels}
    budget = task_count(config) * config.samples_per_task
    weight = {l: 1.0 if l in frontier else config.frontier_floor for l in labels}
    samples = {l: config.frontier_samples if l in frontier else config.samples_per_task for l in labels}
    total = sum(weight.values())
    tasks = {l: int(round(budget * weight[l] / total / samples[l])) for l in labels}
    return tasks, samples


# --- stages ----------------------------------------------------------------------------------------
def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stage(gen_dir: Path, name: str, fn) -> dict:
    """Run a stage once: return its saved summary if ``<name>.done.json`` exists, else run ``fn()``
    (which writes its outputs atomically and returns a JSON-able summary) and save the marker."""
    marker = gen_dir / f"{name}.done.json"
    if marker.is_file():
        return json.loads(marker.read_text(encoding="utf-8"))
    start = time.perf_counter()
    summary = fn()
    summary["seconds"] = round(time.perf_counter() - start, 2)
    _write_json_atomic(marker, summary)
    return summary


def _write_json_atomic(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def validate_records(records: list[dict], tasks: dict[str, LoopTask], prompt_format=None) -> list[dict]:
    """Stamp every trace with the validator's verdict (in place; returns ``records``).

    Args:
        records: trace records (``task_id``, ``completion``; ``ended`` if the sampler set it).
        tasks: task id -> :class:`LoopTask`.
        prompt_format: reads the plan out of a completion (default: the embedded model's compact format).

    Adds ``size``, ``valid``, ``plan_length`` (steps), ``failed_step`` (1-based or ``None``), ``reason``
    (``None`` if valid) and ``ended`` (the completion wrote the end token).
    """
    from itdeploy_lite.planning import validate
    from itdeploy_lite.prompts import EOS, completion_plan_text

    plan_text = prompt_format.plan_text if prompt_format is not None else completion_plan_text
    for record in records:
        item = tasks[record["task_id"]]
        result = validate(item.task, plan_text(record["completion"]))
        record.update(size=item.size, valid=result.valid, plan_length=result.plan_length,
                      failed_step=result.failed_step, reason=result.reason,
                      ended=record.get("ended", EOS in record["completion"]))
    return records


def sample(model, tokenizer, tasks: list[LoopTask], samples: dict[str, int] | int, config: RunConfig,
           generation: int, seed: int, temperature: float | None = None, prompt_format=None,
           backend=None) -> list[dict]:
    """Sample completions for ``tasks`` with :func:`itdeploy_lite.deploy.deploy` and validate them.

    Args:
        samples: samples per task, one number or per size label.
        temperature: ``0`` for greedy decoding; default ``config.temperature``.
        prompt_format: the model's :class:`~itdeploy_lite.backends.formats.PromptFormat` (default compact).
        backend: the run's :class:`~itdeploy_lite.backends.Backend` (samples with its ``generate``).

    Returns:
        Validated trace records (see :func:`validate_records`), ordered by task then sample.
    """
    from itdeploy_lite.deploy import DeployConfig, deploy

    per_size = samples if isinstance(samples, dict) else {t.size: samples for t in tasks}
    records = []
    for k in sorted(set(per_size[t.size] for t in tasks)):
        group = [t for t in tasks if per_size[t.size] == k]
        deploy_config = DeployConfig(
            samples_per_task=k, temperature=config.temperature if temperature is None else temperature,
            top_p=config.top_p, batch_size=config.sample_batch_size, max_new_tokens=config.max_new_tokens,
            seed=seed + k, progress=config.progress,
        )
        records += deploy(model, tokenizer, [(t.task_id, t.task) for t in group], deploy_config, generation,
                          prompt_format=prompt_format, problems=[t.pddl for t in group], backend=backend)
    order = {t.task_id: i for i, t in enumerate(tasks)}
    records.sort(key=lambda r: (order[r["task_id"]], r["sample_id"]))
    return validate_records(records, {t.task_id: t for t in tasks}, prompt_format)


def pass_at_k_by_size(records: list[dict]) -> dict[str, float]:
    """Size label -> fraction of that size's tasks with at least one valid record."""
    solved: dict[str, dict[str, bool]] = {}
    for r in records:
        solved.setdefault(r["size"], {})
        solved[r["size"]][r["task_id"]] = solved[r["size"]].get(r["task_id"], False) or r["valid"]
    return {size: sum(v.values()) / len(v) for size, v in solved.items()}


#: The keys :func:`pool_metrics` adds to a generation's metrics.
POOL_KEYS = ("pool_tasks", "pool_solved_fraction", "pool_solved_by_size", "pool_greedy_solved_fraction",
             "pool_greedy_solved_by_size", "pool_valid_plan_lengths", "pool_longest_valid_plan",
             "pool_mean_valid_plan_length")


def pool_metrics(deploy_records: list[dict], greedy_records: list[dict]) -> dict:
    """The paper's measures of one generation on the fixed deployment pool (protocol ``pool``).

    Args:
        deploy_records: the generation's validated deployment traces on the pool (k samples per task).
        greedy_records: its validated greedy completions on the pool (one per task).

    Returns:
        ``{"pool_tasks": int, "pool_solved_fraction": fraction of pool tasks with a valid sample (the
        paper's solved count, pass@k), "pool_solved_by_size": {size: fraction},
        "pool_greedy_solved_fraction", "pool_greedy_solved_by_size", "pool_valid_plan_lengths": [steps]
        (the shortest valid plan of each solved task: what curation keeps), "pool_longest_valid_plan":
        steps (the longest of those; 0 if none solved), "pool_mean_valid_plan_length": steps or None}``.
        The longest plan is taken over each task's *shortest* valid plan, so it grows when longer tasks
        get solved, not when a solved task is solved with detours.
    """
    by_size = pass_at_k_by_size(deploy_records)
    greedy_by_size = pass_at_k_by_size(greedy_records)
    shortest: dict[str, int] = {}
    for r in deploy_records:
        if r["valid"]:
            shortest[r["task_id"]] = min(r["plan_length"], shortest.get(r["task_id"], r["plan_length"]))
    lengths = sorted(shortest.values())
    n_tasks = len({r["task_id"] for r in deploy_records})
    return {
        "pool_tasks": n_tasks,
        "pool_solved_fraction": round(len(shortest) / max(1, n_tasks), 4),
        "pool_solved_by_size": {s: round(v, 4) for s, v in by_size.items()},
        "pool_greedy_solved_fraction": round(sum(r["valid"] for r in greedy_records) / max(1, len(greedy_records)), 4),
        "pool_greedy_solved_by_size": {s: round(v, 4) for s, v in greedy_by_size.items()},
        "pool_valid_plan_lengths": lengths,
        "pool_longest_valid_plan": max(lengths, default=0),
        "pool_mean_valid_plan_length": round(sum(lengths) / len(lengths), 3) if lengths else None,
    }


def generation_metrics(generation: int, eval_records: list[dict], sizes: list[str], pool_size: int,
                       finetune_summary: dict | None, deploy_summary: dict | None, seconds: dict,
                       pool: dict | None = None) -> dict:
    """The ``metrics.json`` of one generation.

    Returns:
        ``{"generation", "heldout_solved_fraction", "heldout_solved_by_size": {size: fraction},
        "heldout_valid_plan_lengths": [steps], "longest_valid_plan" (steps, held-out, 0 if none),
        "mean_valid_plan_length" (steps or None), "train_pool_size" (rows M_g was trained on),
        "finetune": summary or None, "deploy": summary or None (M_g's deployment: tasks, samples,
        valid_fraction, solved_tasks, pass_at_k_by_size, longest_valid_plan, ...),
        "stage_seconds": {stage: s}, "seconds": float (wall time of the generation's stages)}``, and with
        protocol ``pool`` the keys of :func:`pool_metrics` (``pool``; otherwise they are ``None``).
        ``train_pool_size`` is the curated training set; ``pool_*`` keys are the deployment pool.
    """
    by_size = pass_at_k_by_size(eval_records)
    lengths = sorted(r["plan_length"] for r in eval_records if r["valid"])
    return {
        "generation": generation,
        "heldout_solved_fraction": round(sum(r["valid"] for r in eval_records) / max(1, len(eval_records)), 4),
        "heldout_solved_by_size": {s: round(by_size.get(s, 0.0), 4) for s in sizes},
        "heldout_valid_plan_lengths": lengths,
        "longest_valid_plan": max(lengths, default=0),
        "mean_valid_plan_length": round(sum(lengths) / len(lengths), 3) if lengths else None,
        "train_pool_size": pool_size,
        "finetune": finetune_summary,
        "deploy": deploy_summary,
        "stage_seconds": seconds,
        "seconds": round(sum(seconds.values()), 2),
        **(pool or dict.fromkeys(POOL_KEYS)),
    }


# --- the loop --------------------------------------------------------------------------------------
def model_fingerprint(folder: Path) -> dict:
    """``{"path": str, "sha256": hex digest of the weights}`` of a model folder (``model.safetensors``)."""
    digest = hashlib.sha256()
    for weights in sorted(Path(folder).glob("*.safetensors")):
        digest.update(weights.read_bytes())
    return {"path": str(folder), "sha256": digest.hexdigest()}


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
        saved = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in set(saved) | set(current)
                         if k not in ("generations", "progress", "threads") and saved.get(k) != current.get(k))
        if changed:
            details = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
            raise ValueError(f"{run_dir} holds a run with another config ({details}); "
                             "re-run with the same flags to resume, or give a new --out")
    _write_json_atomic(path, current)
    return run_dir


def run(config: RunConfig) -> list[dict]:
    """Run (or resume) the loop; see the module docstring for the stages and files.

    Args:
        config: the :class:`RunConfig`.

    Returns:
        The metrics of generations ``0..config.generations`` (see :func:`generation_metrics`).

    Raises:
        ValueError: a bad config (named field), or a run folder holding a different config.
        FileNotFoundError: a missing model, domain, task folder or decisions file.
    """
    from itdeploy_lite.backends import get_backend, resolve_base
    from itdeploy_lite.report import table, write_report

    config = apply_preset(config)
    config.check()
    # bitsandbytes (imported by peft and unsloth when installed) warns at import that an optional CPU
    # kernel package is missing; nothing here needs it.
    import logging

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    backend = get_backend(config.backend, config.load_in_4bit)
    backend.prepare()  # Unsloth must patch transformers/TRL before they are used
    _quiet()
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)
    source, kind = resolve_base(config.model, config.domain)
    run_dir = prepare_run_dir(config, Path(source) if Path(source).is_dir() else None)
    base = _copy_base(source, run_dir / "base_model") if kind == "embedded" else source
    if config.warm_start:
        _stage(run_dir, "warm_start", lambda: _warm_start(config, backend, kind, source, run_dir))
        base = run_dir / "base_model"
    _log(f"run folder {run_dir}  (base model {source}, {kind}, backend {backend.name}"
         f"{', 4-bit' if config.load_in_4bit else ''}; generation 0 = {base})")
    setup = _Setup(backend, Path(base) if Path(base).is_dir() else base, kind)
    heldout = heldout_tasks(config)
    exclude = {t.key for t in heldout}
    pool = deployment_tasks(config, 0, exclude) if config.protocol == "pool" else None
    metrics: list[dict] = []
    for g in range(config.generations + 1):
        gen_dir = run_dir / f"gen_{g:02d}"
        gen_dir.mkdir(exist_ok=True)
        done = (gen_dir / "metrics.json").is_file() and (not _deploys(config, g) or (gen_dir / "deploy.done.json").is_file())
        if not done:
            _generation(config, setup, run_dir, g, heldout, exclude, pool)
        metrics.append(json.loads((gen_dir / "metrics.json").read_text(encoding="utf-8")))
        if not done:
            write_report(run_dir)
            _log(table(metrics))
    print(table(metrics))
    return metrics


def _deploys(config: RunConfig, g: int) -> bool:
    """Whether generation ``g`` is deployed: every generation on the pool, all but the last on fresh tasks."""
    return config.protocol == "pool" or g < config.generations


@dataclass
class _Setup:
    """What every generation of a run shares: the backend, the generation-0 model, its kind."""

    backend: object
    base: Path | str
    kind: str


def prompt_format(config: RunConfig, kind: str, model, tokenizer):
    """The run's :class:`~itdeploy_lite.backends.formats.PromptFormat` for a loaded model: the embedded
    planner's compact format (its trace from the model's config), or the PDDL format with
    ``config.few_shot`` solved ``pretrain``-split examples (thinking on for the registry's thinking models).
    """
    from itdeploy_lite.backends.formats import format_for

    trace, examples, thinking = "none", (), None
    if kind == "embedded":
        from itdeploy_lite.models.embedded import plan_trace

        trace = plan_trace(model)
    else:
        from itdeploy_lite.llm.prompts import examples_from
        from itdeploy_lite.llm.registry import MODELS

        spec = MODELS.get(config.model.lower())
        thinking = True if spec is not None and spec.thinking else None
        if config.few_shot and not config.tasks:
            from itdeploy_lite.planning.generators.splits import make_split

            examples = examples_from(make_split(config.domain, "pretrain", config.few_shot), config.few_shot)
    return format_for(kind, config.prompt_format, tokenizer, config.domain, trace, examples, thinking)


def _generation(config: RunConfig, setup: _Setup, run_dir: Path, g: int, heldout: list[LoopTask], exclude: set,
                pool: list[LoopTask] | None) -> None:
    """Run generation ``g``'s unfinished stages, then (re)write its ``metrics.json`` from the stage markers."""
    gen_dir = run_dir / f"gen_{g:02d}"
    seconds: dict[str, float] = {}
    pool_size, ft, adapter, dep = 0, None, None, None
    if g >= 1:
        curated = _stage(gen_dir, "curate", lambda: _curate(config, run_dir, g))
        pool_size, seconds["curate"] = curated["rows"], curated["seconds"]
        ft = _stage(gen_dir, "finetune", lambda: _finetune(config, setup, run_dir, g))
        seconds["finetune"], adapter = ft["seconds"], ft.get("adapter")
    model, tokenizer = setup.backend.load(setup.base, run_dir / adapter if adapter else None)
    fmt = prompt_format(config, setup.kind, model, tokenizer)
    ev = _stage(gen_dir, "evaluate", lambda: _evaluate(config, setup, model, tokenizer, heldout, gen_dir, g, fmt))
    seconds["evaluate"] = ev["seconds"]
    if pool is not None:
        pe = _stage(gen_dir, "pool_eval", lambda: _evaluate(config, setup, model, tokenizer, pool, gen_dir, g, fmt,
                                                            "pool_eval"))
        seconds["pool_eval"] = pe["seconds"]
    if _deploys(config, g):
        dep = _stage(gen_dir, "deploy", lambda: _deploy(config, setup, model, tokenizer, run_dir, gen_dir, g, exclude,
                                                        fmt, pool))
        seconds["deploy"] = dep["seconds"]
    sizes = list(dict.fromkeys(t.size for t in heldout))
    pool_row = None
    if pool is not None:
        pool_row = pool_metrics(read_jsonl(gen_dir / "traces.jsonl"), read_jsonl(gen_dir / "pool_eval.jsonl"))
    row = generation_metrics(g, read_jsonl(gen_dir / "eval.jsonl"), sizes, pool_size, ft, dep, seconds, pool_row)
    _write_json_atomic(gen_dir / "metrics.json", row)


def _warm_start(config: RunConfig, backend, kind: str, source, run_dir: Path) -> dict:
    """A short SFT of the pretrained model on ``config.warm_start`` reference plans (optimal plans by
    breadth-first search of ``pretrain``-split tasks, never held-out ones), merged into
    ``run_dir/base_model``, which is then the run's generation 0. Departs from the paper (which starts
    from the pretrained model as it is): a 135 M model solves almost no task zero-shot."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    from itdeploy_lite.planning import parse_task
    from itdeploy_lite.planning.generators.splits import SPLITS, make_split
    from itdeploy_lite.planning.search import breadth_first_search

    if kind == "embedded":
        raise ValueError("--warm-start is for pretrained LLMs; the embedded planner's generation 0 is "
                         "trained by `itdeploy pretrain`")
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    fmt = prompt_format(config, kind, None, tokenizer)
    per_size = -(-config.warm_start // len(SPLITS[config.domain]["pretrain"]))  # ceiling division
    problems = make_split(config.domain, "pretrain", max(1, per_size))
    text = _domain_text(config.domain)
    rows = []
    for p in problems[: config.warm_start]:
        task = parse_task(text, p.pddl, config.domain, p.name)
        plan = breadth_first_search(task) or []
        rows.append({"prompt": fmt.prompt(task, p.pddl), "completion": fmt.completion([str(a) for a in plan], task)})
    adapter = run_dir / "warm_start_adapter"
    stats = backend.finetune(source, Dataset.from_list(rows), config.finetune, adapter,
                             seed=_seed(config.seed, "warm_start"), progress=config.progress)
    backend.merge(source, adapter, run_dir / "base_model")
    return {"rows": len(rows), "steps": stats["steps"], "train_loss": stats["train_loss"],
            "base_model": "base_model"}


def apply_preset(config: RunConfig) -> RunConfig:
    """``config`` with its preset's values (:data:`itdeploy_lite.llm.PRESETS`) in every field the preset
    covers that is still at its default; with no preset, ``config`` unchanged. Flags given explicitly
    (at a non-default value) win over the preset.

    The preset's ``epochs`` become the number of passes over the pool, with no step floor or cap
    (``min_steps``/``max_steps`` 0), as in the paper; ``batch_size`` x ``gradient_accumulation_steps``
    becomes ``train_batch_size`` (rows per optimizer step).

    Raises:
        LLMSetupError: an unknown preset name (the message lists the known ones).
    """
    if not config.preset:
        return config
    from itdeploy_lite.llm.registry import get_preset

    preset = get_preset(config.preset)
    defaults, ft_defaults = RunConfig(), FinetuneConfig()
    ft_values = {"lora_r": preset.lora_r, "lora_alpha": preset.lora_alpha, "lora_dropout": preset.lora_dropout,
                 "learning_rate": preset.learning_rate, "epochs": float(preset.epochs), "min_steps": 0, "max_steps": 0,
                 "train_batch_size": preset.batch_size * preset.gradient_accumulation_steps,
                 "max_length": preset.max_seq_length, "target_modules": ",".join(preset.target_modules)}
    run_values = {"temperature": preset.temperature, "top_p": preset.top_p, "max_new_tokens": preset.max_new_tokens,
                  "load_in_4bit": preset.load_in_4bit, "warm_start": preset.warm_start_plans,
                  "init_from": "base" if preset.retrain_from_base else "previous"}
    ft = dataclasses.replace(config.finetune, **{k: v for k, v in ft_values.items()
                                                  if getattr(config.finetune, k) == getattr(ft_defaults, k)})
    run = {k: v for k, v in run_values.items() if getattr(config, k) == getattr(defaults, k)}
    return dataclasses.replace(config, finetune=ft, **run)


def _copy_base(source: Path, dest: Path) -> Path:
    """Copy the base model folder into the run once (temp + rename), so every generation of the run,
    resumed or not, loads the same weights even if the shipped checkpoint is replaced meanwhile."""
    if not dest.is_dir():
        replace_folder(dest, lambda tmp: shutil.copytree(source, tmp))
    return dest


def _quiet() -> None:
    """Silence library chatter (dataset map bars, weight-loading bars, warnings); our own bars stay."""
    import logging

    import datasets
    import transformers

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)  # see run()
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def _curate(config: RunConfig, run_dir: Path, g: int) -> dict:
    records = []
    for prev in range(g):
        records += read_jsonl(run_dir / f"gen_{prev:02d}" / "traces.jsonl")
    selected = curate(records, config.curation, g - 1, seed=config.seed, decisions=config.decisions or None)
    gen_dir = run_dir / f"gen_{g:02d}"
    write_curated(selected, gen_dir / "curated.jsonl", gen_dir / "curated")
    return {"rows": len(selected), "tasks": len({r["task_id"] for r in selected}),
            "valid_rows": sum(bool(r["valid"]) for r in selected), "policy": config.curation}


def _finetune(config: RunConfig, setup: _Setup, run_dir: Path, g: int) -> dict:
    from itdeploy_lite.curate import to_dataset

    gen_dir = run_dir / f"gen_{g:02d}"
    rows = read_jsonl(gen_dir / "curated.jsonl")
    previous = run_dir / f"gen_{g - 1:02d}" / "adapter"
    init = previous if config.init_from == "previous" and previous.is_dir() else None
    if not rows:  # nothing valid yet: this generation is the previous model
        if init is not None:
            replace_folder(gen_dir / "adapter", lambda tmp: shutil.copytree(init, tmp))
            return {"adapter": f"gen_{g:02d}/adapter", "rows": 0, "steps": 0, "note": "empty pool: previous adapter kept"}
        return {"adapter": None, "rows": 0, "steps": 0, "note": "empty pool: base model kept"}
    if not config.progress:
        _log(f"gen {g}: fine-tuning on {len(rows)} rows")
    stats = setup.backend.finetune(setup.base, to_dataset(rows), config.finetune, gen_dir / "adapter", init_adapter=init,
                                   seed=_seed(config.seed, g, "finetune"), progress=config.progress)
    stats["adapter"] = f"gen_{g:02d}/adapter"
    stats["init"] = str(init.relative_to(run_dir)) if init else "base"
    return stats


def _evaluate(config: RunConfig, setup: _Setup, model, tokenizer, tasks: list[LoopTask], gen_dir: Path, g: int,
              fmt, name: str = "eval") -> dict:
    """Greedy completions of ``tasks`` (held-out: ``eval``, or the pool: ``pool_eval``) -> ``gen_dir/<name>.jsonl``."""
    if name == "pool_eval" and config.tasks:  # the user's tasks are both the pool and the evaluation set
        records = read_jsonl(gen_dir / "eval.jsonl")
    else:
        records = sample(model, tokenizer, tasks, 1, config, g, seed=_seed(config.seed, g, name), temperature=0.0,
                         prompt_format=fmt, backend=setup.backend)
    write_jsonl_atomic(gen_dir / f"{name}.jsonl", records)
    return {"tasks": len(records), "solved": sum(r["valid"] for r in records)}


def _deploy(config: RunConfig, setup: _Setup, model, tokenizer, run_dir: Path, gen_dir: Path, g: int, exclude: set,
            fmt, pool: list[LoopTask] | None) -> dict:
    samples: dict[str, int] | int = config.samples_per_task
    allocation = None
    if config.frontier and g >= 1:
        previous = json.loads((run_dir / f"gen_{g - 1:02d}" / "deploy.done.json").read_text(encoding="utf-8"))
        allocation, samples = frontier_allocation(config, previous["pass_at_k_by_size"])
    tasks = pool if pool is not None else deployment_tasks(config, g, exclude, allocation)
    records = sample(model, tokenizer, tasks, samples, config, g, seed=_seed(config.seed, g, "deploy"), prompt_format=fmt,
                     backend=setup.backend)
    write_jsonl_atomic(gen_dir / "traces.jsonl", records)
    valid_lengths = [r["plan_length"] for r in records if r["valid"]]
    return {
        "tasks": len(tasks),
        "samples": len(records),
        "valid_fraction": round(sum(r["valid"] for r in records) / max(1, len(records)), 4),
        "solved_tasks": len({r["task_id"] for r in records if r["valid"]}),
        "pass_at_k_by_size": {k: round(v, 4) for k, v in pass_at_k_by_size(records).items()},
        "tasks_by_size": {s: sum(t.size == s for t in tasks) for s in dict.fromkeys(t.size for t in tasks)},
        "samples_per_task": samples,
        "longest_valid_plan": max(valid_lengths, default=0),
        "ended_fraction": round(sum(r["ended"] for r in records) / max(1, len(records)), 4),
        "completion_tokens": sum(r["n_tokens"] for r in records),
    }


# --- command line ----------------------------------------------------------------------------------
def _flag(f: dataclasses.Field, prefix: str = "") -> str:
    return f.metadata.get("flag") or "--" + (prefix + f.name).replace("_", "-")


def add_config_arguments(parser, cls=RunConfig, prefix: str = "") -> None:
    """Add one flag per field of ``cls`` (nested config dataclasses are flattened), defaults from the class."""
    defaults = cls()
    for f in dataclasses.fields(cls):
        default = getattr(defaults, f.name)
        if dataclasses.is_dataclass(default):
            add_config_arguments(parser, type(default), prefix)
            continue
        doc = _field_doc(cls, f.name)
        kwargs = {"dest": f.name, "default": default, "help": f"{doc} (default: {default!r})"}
        if isinstance(default, bool):
            import argparse

            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = type(default)
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(_flag(f, prefix), **kwargs)


def _field_doc(cls, name: str) -> str:
    """The text of ``name:`` in the class docstring's Attributes section (first sentence)."""
    doc = cls.__doc__ or ""
    marker = f"        {name}:"
    if marker not in doc:
        return name
    text = doc.split(marker, 1)[1]
    lines = [text.split("\n", 1)[0]]
    for line in text.split("\n")[1:]:
        if not line.startswith("            "):
            break
        lines.append(line.strip())
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", " ".join(" ".join(lines).split()))
    return text.replace("``", "").replace("%", "%%")


def config_from_args(args, cls=RunConfig):
    """Build a ``cls`` from parsed flags (the inverse of :func:`add_config_arguments`)."""
    values = {}
    for f in dataclasses.fields(cls):
        default = getattr(cls(), f.name)
        values[f.name] = config_from_args(args, type(default)) if dataclasses.is_dataclass(default) else getattr(args, f.name)
    return cls(**values)
