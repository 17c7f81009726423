"""The settings of one run of the loop (:class:`RunConfig`) and the presets applied to them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from itdeploy_lite.curate import POLICIES
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.flags import documented


@documented
@dataclass
class RunConfig:
    """One run of the loop; every field is an ``itdeploy run`` flag (``--tasks-per-generation``, ...).

    The defaults are the main job: Blocksworld, 5 generations, the paper's protocol and curation rule.

    Attributes:
        domain: a built-in domain (``blocksworld``, ``rovers``, ``sokoban``, ``ferry``, ``miconic`` with an
            embedded planner; the others with ``model``), or with ``tasks`` a domain file.
        generations: fine-tuned generations after generation 0 (the paper: ~5).
        protocol: ``pool`` (the paper's: the same fixed pool of tasks deployed on every generation) or
            ``fresh`` (new tasks every generation). See the module docstring.
        tasks_per_generation: tasks deployed on per generation, spread evenly over ``sizes``: the pool's
            size (protocol ``pool``), or the fresh tasks drawn per generation (protocol ``fresh``). 0: the
            domain's default (:func:`~itdeploy_lite.task_sets.task_count`).
        sizes: deployment task sizes, ``;``-separated ``K=V[,K=V]`` (e.g. ``blocks=4;blocks=5``); a bare
            integer means that many blocks (Blocksworld). Empty: the domain's pool sizes
            (:data:`~itdeploy_lite.planning.generators.splits.POOLS`; protocol ``pool``) or its ``train``
            split sizes (protocol ``fresh``).
        samples_per_task: completions sampled per task (the paper's k).
        temperature: sampling temperature (the paper: 0.6).
        top_p: nucleus sampling threshold (1.0: off).
        top_k: sample among the top_k most likely tokens only (0: off; Qwen3's model cards: 20).
        task_objects_only: every sample (deployment and evaluation) names only objects its task's prompt
            names: the embedded planner's other object tokens are masked
            (:attr:`~itdeploy_lite.deploy.DeployConfig.task_objects_only`). Not the paper's (it samples
            freely); the embedded planner only.
        max_new_tokens: hard cap on completion tokens (each task's budget grows with its size below it).
        sample_batch_size: sequences per ``generate`` call.
        sampler: ``auto``, ``hf`` or ``vllm``: what samples completions. ``vllm`` keeps one vLLM engine
            for the whole run and attaches each generation's adapter to its requests
            (:mod:`itdeploy_lite.backends.vllm_sampler`); ``auto`` is ``vllm`` for an LLM on a GPU where
            vLLM is installed, ``hf`` otherwise (:func:`~itdeploy_lite.deploy.sample_completions`).
        gpus: GPUs the run uses: vLLM shards the model over them (``tensor_parallel_size``) and the
            fine-tune stage runs under ``accelerate launch`` with one DDP process per GPU (README: more
            than one GPU).
        vllm_memory: share of each GPU's memory the vLLM engine reserves for the run (weights and KV
            cache); the fine-tune stage uses the rest.
        deploy_chunk_tasks: the deploy stage saves its validated traces every this many tasks
            (``gen_g/traces.partial.jsonl``) and a re-run resumes from the last saved chunk: set it where
            a stage takes long and a session may end (Colab; the GPU presets set 64). 0: the stage is
            sampled in one piece and an interrupted one is redone from the start. Chunked stages are
            seeded per chunk, so their samples differ from an unchunked stage's (same distribution).
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
            ``pddl`` (PlanBench style: domain and problem PDDL; see :mod:`itdeploy_lite.formats`).
        few_shot: ``pddl`` format: solved examples of the domain shown before each task.
        warm_start: reference plans (optimal, small ``pretrain``-split tasks) in a short SFT before
            generation 0, whose result is the run's generation 0 (0: none, as in the paper; a 135 M LLM
            solves almost nothing without it).
        replay: reference rows added to every generation's fine-tuning set: optimal plans of
            ``pretrain``-split tasks (generation 0's own training distribution; never a held-out or pool
            task), replayed against overfitting a small curated set (0: none, as in the paper). Built-in
            domains only; the rows are written once to the run folder's ``replay.jsonl``.
        renamings: renamed copies of each curated row added to its generation's fine-tuning set: the same
            task and plan with the task's objects renamed consistently (an isomorphic task, so the plan
            stays valid; re-validated; Sokoban: the board mirrored or transposed), :mod:`itdeploy_lite.rename`
            (0: none, as in the paper). Blocksworld, Rovers, Sokoban, Ferry, Miconic; protocol ``pool``.
            Written to ``gen_<g>/renamed.jsonl``.
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
    top_k: int = 0
    task_objects_only: bool = False
    max_new_tokens: int = 1024
    sample_batch_size: int = 128
    deploy_chunk_tasks: int = 0
    sampler: str = field(default="auto", metadata={"choices": ("auto", "hf", "vllm")})
    gpus: int = 1
    vllm_memory: float = 0.5
    curation: str = "paper"
    decisions: str = ""
    init_from: str = field(default="base", metadata={"aliases": ["--from"], "choices": ("base", "previous")})
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
    replay: int = 0
    renamings: int = 0
    seed: int = 0
    out: str = ""
    progress: bool = True
    threads: int = 0
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)

    def run_dir(self) -> Path:
        """The run folder: ``out``, or ``runs/<domain>-<curation>-s<seed>``, where ``<domain>`` is a built-in
        name or the name a domain file declares (``(define (domain ferry) ...)``)."""
        if self.out:
            return Path(self.out)
        name = self.domain
        if Path(self.domain).is_file():  # a domain file: the name it declares (the track's files are all domain.pddl)
            from itdeploy_lite.planning.domains import domain_name

            name = domain_name(self.domain)
        return Path("runs") / f"{name}-{self.curation}-s{self.seed}{'-frontier' if self.frontier else ''}"

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad field (before anything is written)."""
        if self.threads < 0:
            raise ValueError(f"--threads must be >= 0, got {self.threads}")
        for name in ("generations", "tasks_per_generation", "samples_per_task", "sample_batch_size",
                     "heldout_per_size", "frontier_samples", "max_new_tokens", "deploy_chunk_tasks"):
            low = 0 if name in ("generations", "tasks_per_generation", "deploy_chunk_tasks") else 1
            if getattr(self, name) < low:
                raise ValueError(f"--{name.replace('_', '-')} must be >= {low}, got {getattr(self, name)}")
        if self.top_k < 0:
            raise ValueError(f"--top-k must be >= 0 (0: off), got {self.top_k}")
        if self.gpus < 1:
            raise ValueError(f"--gpus must be >= 1, got {self.gpus}")
        if self.gpus > 1 and self.backend != "hf":
            raise ValueError(f"--gpus {self.gpus} needs --backend hf (Unsloth's fast_inference engine and "
                             "trainer run on one GPU here)")
        if not 0 < self.vllm_memory < 1:
            raise ValueError(f"--vllm-memory must be in (0, 1), got {self.vllm_memory}")
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
        if self.few_shot < 0 or self.warm_start < 0 or self.replay < 0:
            raise ValueError(f"--few-shot, --warm-start and --replay must be >= 0, got {self.few_shot}, "
                             f"{self.warm_start}, {self.replay}")
        if self.replay and self.tasks:
            raise ValueError("--replay draws pretrain-split tasks of a built-in domain; a --tasks folder has none")
        if self.renamings < 0:
            raise ValueError(f"--renamings must be >= 0, got {self.renamings}")
        if self.renamings and (self.protocol != "pool" or self.tasks):
            raise ValueError("--renamings copies the curated plans of the generated pool's tasks: it needs "
                             "--protocol pool and no --tasks folder")
        if self.frontier_floor < 0:
            raise ValueError(f"--frontier-floor must be >= 0, got {self.frontier_floor}")
        self.finetune.check()


#: Prompt tokens allowed for beside the completion budget: PDDL prompts (domain + problem, Rovers and
#: Sokoban 1.5-3k tokens with Qwen's tokenizer; few-shot examples add more) and the compact prompts.
PROMPT_TOKENS = {"llm": 4096, "embedded": 1024}


def sequence_tokens(config: RunConfig, kind: str) -> int:
    """The longest row (prompt + completion, tokens) the backend must hold: the fine-tune's ``max_length``
    or the completion budget plus :data:`PROMPT_TOKENS` of ``kind`` (``"llm"``/``"embedded"``), whichever
    is larger (``paper`` preset: 8,192; ``qwen3-small``: 6,144; the embedded planner: 2,048)."""
    return max(config.finetune.max_length, config.max_new_tokens + PROMPT_TOKENS.get(kind, PROMPT_TOKENS["llm"]))


def apply_preset(config: RunConfig) -> RunConfig:
    """``config`` with its preset's overrides (:data:`itdeploy_lite.llm.PRESETS`: RunConfig and
    FinetuneConfig fields under their own names) in every field still at its default; with no preset,
    ``config`` unchanged. Flags given explicitly (at a non-default value) win over the preset.

    Raises:
        LLMSetupError: an unknown preset name (the message lists the known ones).
        ValueError: a preset naming a field neither config has (a registry bug).
    """
    if not config.preset:
        return config
    from itdeploy_lite.llm.registry import get_preset

    preset = get_preset(config.preset)
    run_defaults, ft_defaults = RunConfig(), FinetuneConfig()
    for fields, defaults in ((preset.run, run_defaults), (preset.finetune, ft_defaults)):
        unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(defaults)})
        if unknown:
            raise ValueError(f"preset {preset.name!r} sets unknown {type(defaults).__name__} field(s) {unknown}")
    ft = dataclasses.replace(config.finetune, **{k: v for k, v in preset.finetune.items()
                                                  if getattr(config.finetune, k) == getattr(ft_defaults, k)})
    run = {k: v for k, v in preset.run.items() if getattr(config, k) == getattr(run_defaults, k)}
    return dataclasses.replace(config, finetune=ft, **run)
