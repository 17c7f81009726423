"""Generation 0: train the embedded planner from scratch on reference plans of small tasks.

A pretrained LLM already has some planning skill before the paper deploys it; our tiny model gets its
"pretraining" here: supervised next-token prediction (loss on the completion only) on optimal plans
(breadth-first search) of freshly generated SMALL tasks, e.g. Blocksworld with 3-4 blocks. Data
diversity is what makes it generalise: thousands of distinct tasks, Blocksworld names drawn from the
whole name pool ``b1..b10`` so every name embedding is trained (shared/LOOP-NOTES.md). Tasks of the
project's ``train`` and ``heldout`` splits are never used. A thin tail of slightly larger tasks
(:data:`DEFAULT_TAILS`: 10% 5-block tasks for Blocksworld) mimics the weak but non-zero long-horizon
skill of a pretrained LLM; it moved the frontier a lot (experiments/gen0_levers.md).

One plain PyTorch loop (nanoGPT style): AdamW, linear warm-up then cosine decay, gradient clipping.
The result (safetensors, tokenizer, config, ``MODEL_CARD.md``, ``metrics.json``) goes to
``data/models/<domain>/`` by default. Run: ``python -m itdeploy_lite.pretrain --domain blocksworld``
(about 12 minutes on one busy CPU core). :func:`pretrain` sets torch's thread count (``threads``) for
the process.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from functools import lru_cache
from dataclasses import asdict, dataclass, field, replace

import torch
from tqdm.auto import tqdm

from itdeploy_lite.models import ModelConfig, build_model, build_tokenizer, count_parameters, save_embedded
from itdeploy_lite.planning.generators.splits import SPLITS
from itdeploy_lite.prompts import plan_completion, task_prompt

#: Default generation-0 task sizes per domain: the ``pretrain`` split's sizes
#: (:data:`~itdeploy_lite.planning.generators.splits.SPLITS`), the one place they are defined.
DEFAULT_SIZES: dict[str, list[dict]] = {domain: splits["pretrain"] for domain, splits in SPLITS.items()}

#: Default thin tail of slightly larger tasks per domain, as ``(sizes, fraction of the corpus)`` (lever (c):
#: on Blocksworld a 10% tail of 5-block tasks raised greedy dev solved fractions at 5/6/7 blocks from
#: .10/.10/.03 to .63/.17/.23; experiments/gen0_levers.md).
DEFAULT_TAILS: dict[str, tuple[list[dict], float]] = {
    "blocksworld": ([{"blocks": 5, "name_pool": 10}], 0.1),
    "rovers": ([{"rovers": 1, "waypoints": 5, "cameras": 1, "objectives": 2, "name_pool": 8}], 0.1),
    "sokoban": ([{"grid": 5, "boxes": 2, "walls": 3}], 0.1),
    "ferry": ([{"cars": 3, "locations": 4, "name_pool": 6}], 0.1),
    "miconic": ([{"floors": 4, "passengers": 3, "name_pool": 8}], 0.1),
}


@dataclass
class PretrainConfig:
    """Generation-0 training run (defaults: Blocksworld, 3-4 blocks, ~1.1 M-parameter model, ~12 min on
    one busy CPU core: 15,000 tasks, 600 steps of 64).

    Attributes:
        domain: any built-in domain (``"blocksworld"``, ``"rovers"``, ``"sokoban"``, ``"ferry"``, ...).
        sizes: generator sizes of the main corpus (default :data:`DEFAULT_SIZES`), drawn uniformly.
        tail_sizes: sizes of a thin tail of larger tasks (lever (c)); ``None``: the domain's
            :data:`DEFAULT_TAILS` entry; ``[]`` for none.
        tail_fraction: share of the corpus drawn from ``tail_sizes`` (``None``: the default's).
        n_problems: distinct tasks generated for the corpus (each solved once by BFS).
        steps: optimiser steps. batch_size: sequences per step.
        lr: peak learning rate. warmup_steps: linear warm-up. weight_decay: AdamW decay.
        model: the model shape (its ``plan_trace`` also sets the completion format).
        seed: seeds the corpus, the initial weights and the batch order.
        out_dir: where to save; default ``data/models/<domain>``; ``""`` to not save.
        eval_per_size: greedy evaluation tasks per size after training (0 to skip).
        eval_split: ``"heldout"`` (the project's fixed held-out split, for the model card) or ``"dev"``
            (fresh tasks of seed 10_000 + ``eval_sizes``, for choosing settings without touching held-out).
        eval_sizes: sizes for ``eval_split="dev"``; default: pretraining sizes then the held-out sizes.
        reference: ``"bfs"`` (optimal plans by breadth-first search) or ``"witness"`` (the generator's
            valid but longer plans; instant - Sokoban BFS takes ~0.2 s per task).
        max_states: BFS limit per task; tasks that exceed it fall back to the generator's witness plan.
        threads: torch CPU threads (1 is fastest on a busy shared 2-core machine).
        progress: show progress bars.
        init_from: ``""`` to train from random weights; else a checkpoint (a shipped name such as
            ``"sokoban"`` or a folder) whose weights this run continues: a second pretraining stage on a
            new corpus, e.g. one with more large tasks. ``model`` is then read from the checkpoint
            (:func:`~itdeploy_lite.models.model_config_of`) and the given one is ignored.
    """

    domain: str = "blocksworld"
    sizes: list[dict] | None = None
    tail_sizes: list[dict] | None = None
    tail_fraction: float | None = None
    n_problems: int = 15_000
    steps: int = 600
    batch_size: int = 64
    lr: float = 2e-3
    warmup_steps: int = 100
    weight_decay: float = 0.01
    model: ModelConfig = field(default_factory=ModelConfig)
    seed: int = 0
    out_dir: str | None = None
    eval_per_size: int = 50
    eval_split: str = "heldout"
    eval_sizes: list[dict] | None = None
    reference: str = "bfs"
    max_states: int = 50_000
    threads: int = 1
    progress: bool = True
    init_from: str = ""


#: Seed of the fresh small-size tasks that :func:`eval_problems` adds to the held-out split.
SMALL_EVAL_SEED = 20_000


def _keys_of_first(draw, counts: tuple[int, ...], required: bool = False) -> set:
    """The task keys of ``draw(count)`` for the first of ``counts`` that the task space holds (``draw``
    raises ``ValueError`` when a size has fewer distinct tasks); none if no count fits, or the last
    ``ValueError`` when ``required``."""
    for count in counts:
        try:
            return {p.key for p in draw(count)}
        except ValueError:
            if required and count == counts[-1]:
                raise
    return set()


@lru_cache(maxsize=None)
def excluded_keys(domain: str) -> frozenset:
    """(init, goal) keys pretraining must never see: the project's train and held-out tasks and the
    deployment pool's (first 500 per size, a superset of any per_size the loop uses; the pool's first 500
    drawn without the held-out exclusion, which contain every pool task of up to ~500 per size) and the
    first 200 small evaluation tasks per default size (:data:`SMALL_EVAL_SEED`; the first 50 where a size
    has fewer than 200, which covers the card's 50 per size: a seed's first n tasks are the same whatever
    the count asked).

    The pool is excluded because generation 0 is scored on it: a pool task seen in pretraining with its
    optimal plan would count as solved by the loop's starting point. (Before the pool was added here, 3 of
    Ferry's 600 pool tasks, all 2-car / 4-location ones, were in the shipped Ferry corpus; the Blocksworld,
    Rovers, Sokoban and Miconic corpora held none, so their corpora are unchanged by it.)"""
    from itdeploy_lite.planning.generators import generate_problems
    from itdeploy_lite.planning.generators.splits import POOLS, make_pool, make_split

    keys: set = set()
    for size in DEFAULT_SIZES[domain]:  # a tiny size (Floortile's 1 x 3 grid: 96 tasks) has fewer than 200
        keys |= _keys_of_first(lambda n: generate_problems(domain, size, n, seed=SMALL_EVAL_SEED), (200, 50))
    for split in ("train", "heldout"):
        keys |= _keys_of_first(lambda n: make_split(domain, split, per_size=n), (500, 50), required=True)
    for size in POOLS.get(domain, []):
        keys |= _keys_of_first(lambda n: make_pool(domain, n, [size]), (500, 50))
    return frozenset(keys)


def _tail(config: PretrainConfig) -> tuple[list[dict], float]:
    """The run's tail sizes and fraction, defaults filled in from :data:`DEFAULT_TAILS`."""
    sizes, fraction = DEFAULT_TAILS.get(config.domain, ([], 0.0))
    sizes = sizes if config.tail_sizes is None else config.tail_sizes
    fraction = fraction if config.tail_fraction is None else config.tail_fraction
    return (sizes, fraction) if sizes and fraction > 0 else ([], 0.0)


def reference_corpus(config: PretrainConfig) -> list[dict]:
    """Generate the corpus: ``n_problems`` distinct tasks with optimal (BFS) plans, as text rows.

    Returns:
        Rows ``{"prompt": str, "completion": str, "size": dict, "plan_length": int, "reference": str}``
        (``"bfs"``, or ``"witness"`` where the search passed ``max_states`` or was not run), in
        generation order.
        Deterministic for a given config.
    """
    from itdeploy_lite.deploy import as_tasks
    from itdeploy_lite.planning import breadth_first_search
    from itdeploy_lite.planning.generators import GENERATORS

    generate = GENERATORS[config.domain]
    sizes = config.sizes or DEFAULT_SIZES[config.domain]
    tail_sizes, tail_fraction = _tail(config)
    rng = random.Random(config.seed)
    excluded = excluded_keys(config.domain)
    seen: set = set()
    rows: list[dict] = []
    bar = tqdm(total=config.n_problems, desc="reference plans", unit="task", disable=not config.progress)
    tries = 0
    while len(rows) < config.n_problems:
        tries += 1
        if tries > 50 * config.n_problems + 1000:
            raise ValueError(f"only {len(rows)} distinct tasks of sizes {sizes} exist; lower n_problems")
        tail = bool(tail_sizes) and rng.random() < tail_fraction
        size = rng.choice(tail_sizes if tail else sizes)
        problem = generate(rng, name="pretrain", **size)
        if problem.trivial or problem.key in seen or problem.key in excluded:
            continue
        seen.add(problem.key)
        (_, task), = as_tasks([problem])
        plan = None
        if config.reference == "bfs" and not size.get("moves"):  # a near task's witness is optimal already
            try:
                plan = breadth_first_search(task, max_states=config.max_states)
            except RuntimeError:
                pass
        reference = "bfs" if plan is not None else "witness"
        if plan is None:
            plan = list(problem.witness_plan)
        rows.append({
            "prompt": task_prompt(task),
            "completion": plan_completion(plan, task, trace=config.model.plan_trace),
            "size": size,
            "plan_length": len(plan),
            "reference": reference,
        })
        bar.update(1)
    bar.close()
    return rows


def encode_rows(rows: list[dict], tokenizer) -> list[tuple[list[int], int]]:
    """Token ids of prompt + completion and the prompt length (loss starts after it)."""
    out = []
    for row in rows:
        p = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
        c = tokenizer(row["completion"], add_special_tokens=False)["input_ids"]
        out.append((p + c, len(p)))
    return out


def _batch(examples: list[tuple[list[int], int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (-100 on prompt and padding)."""
    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id)
    labels = torch.full((len(examples), width), -100)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (ids, n_prompt) in enumerate(examples):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels[i, n_prompt : len(ids)] = torch.tensor(ids[n_prompt:])
        mask[i, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def train_sft(model, examples: list[tuple[list[int], int]], steps: int, batch_size: int, lr: float,
              pad_id: int, seed: int = 0, warmup_steps: int = 100, weight_decay: float = 0.01,
              progress: bool = True, log_every: int = 50) -> list[dict]:
    """Plain supervised fine-tuning: random batches, loss on completion tokens only.

    Args:
        model: a causal LM (trained in place).
        examples: ``(ids, prompt_length)`` pairs (see :func:`encode_rows`).
        steps, batch_size, lr, warmup_steps, weight_decay: optimiser settings (AdamW, cosine decay to 10%).
        pad_id: padding token id. seed: batch-order seed.

    Returns:
        The loss log: ``[{"step": int, "loss": float, "seconds": float}, ...]`` every ``log_every`` steps.
    """
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.95))
    rng = random.Random(seed)
    log, start, running = [], time.time(), []
    bar = tqdm(range(steps), desc="train", disable=not progress)
    for step in bar:
        scale = (step + 1) / warmup_steps if step < warmup_steps else \
            0.1 + 0.45 * (1 + math.cos(math.pi * (step - warmup_steps) / max(1, steps - warmup_steps)))
        for group in optimiser.param_groups:
            group["lr"] = lr * scale
        batch = _batch([examples[rng.randrange(len(examples))] for _ in range(batch_size)], pad_id)
        loss = model(**batch).loss
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        running.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == steps:
            log.append({"step": step + 1, "loss": sum(running) / len(running), "seconds": time.time() - start})
            bar.set_postfix(loss=f"{log[-1]['loss']:.4f}")
            if not progress:
                print(f"step {step + 1}/{steps} loss {log[-1]['loss']:.4f} {log[-1]['seconds']:.0f}s", flush=True)
            running = []
    model.eval()
    return log


def eval_problems(config: PretrainConfig) -> list:
    """The evaluation tasks: the held-out split, or fresh ``dev`` tasks (never the held-out ones)."""
    from itdeploy_lite.planning.generators import generate_problems
    from itdeploy_lite.planning.generators.splits import SPLITS, make_split

    if config.eval_split == "heldout":
        pretrain_sizes = config.sizes or DEFAULT_SIZES[config.domain]
        small = [p for s in pretrain_sizes
                 for p in generate_problems(config.domain, s, min(200, config.eval_per_size), seed=SMALL_EVAL_SEED)]
        return small + make_split(config.domain, "heldout", per_size=config.eval_per_size)
    if config.eval_split != "dev":
        raise ValueError(f"eval_split must be 'heldout' or 'dev', got {config.eval_split!r}")
    sizes = config.eval_sizes or (config.sizes or DEFAULT_SIZES[config.domain]) + SPLITS[config.domain]["heldout"]
    excluded = excluded_keys(config.domain)
    out = []
    for s in sizes:
        out += generate_problems(config.domain, s, config.eval_per_size, seed=10_000,
                                 accept=lambda p: p.key not in excluded)
    return out


def evaluate_sizes(model, tokenizer, problems, samples: int = 1, temperature: float = 0.0,
                   progress: bool = False, task_objects_only: bool = False) -> dict[str, dict]:
    """Greedy (or sampled, pass@k) solved fraction per size tag (``task_objects_only``: as
    :class:`~itdeploy_lite.deploy.DeployConfig`'s). Returns ``{tag: {n, solved, ...}}``."""
    from itdeploy_lite.deploy import DeployConfig, as_tasks, evaluate
    from itdeploy_lite.formats import CompactFormat
    from itdeploy_lite.planning.generators import size_tag

    tags = [size_tag(p.domain, p.size) for p in problems]
    result = evaluate(model, tokenizer, as_tasks(problems), tags,
                      DeployConfig(samples_per_task=samples, temperature=temperature, progress=progress,
                                   task_objects_only=task_objects_only),
                      prompt_format=CompactFormat.of_model(model, tokenizer))
    return result["by_group"]


def pretrain(config: PretrainConfig = PretrainConfig()) -> dict:
    """Train generation 0 from scratch and save it with a model card.

    Args:
        config: the run's settings.

    Returns:
        Metrics: ``{"parameters", "n_problems", "steps", "final_loss", "seconds_data", "seconds_train",
        "loss_log", "eval": {size_tag: {"n", "solved", "sample_valid", "mean_plan_length"}}, "config"}``.
        Times in seconds.

    Raises:
        ValueError: unknown domain or impossible corpus size.
        FileNotFoundError: ``init_from`` names no checkpoint (checked before the corpus is generated).
    """
    if config.domain not in DEFAULT_SIZES:
        raise ValueError(f"unknown domain {config.domain!r}; known: {', '.join(DEFAULT_SIZES)}")
    torch.set_num_threads(config.threads)
    if config.init_from:
        from itdeploy_lite.models import load_embedded, model_config_of

        start, _ = load_embedded(config.init_from)  # a missing checkpoint fails before minutes of BFS
        config = replace(config, model=model_config_of(start))
    t0 = time.time()
    rows = reference_corpus(config)
    seconds_data = time.time() - t0
    tokenizer = build_tokenizer()
    examples = encode_rows(rows, tokenizer)
    torch.manual_seed(config.seed)
    model = start if config.init_from else build_model(tokenizer, config.model)
    t1 = time.time()
    log = train_sft(model, examples, config.steps, config.batch_size, config.lr, tokenizer.pad_token_id,
                    seed=config.seed, warmup_steps=config.warmup_steps, weight_decay=config.weight_decay,
                    progress=config.progress)
    seconds_train = time.time() - t1
    metrics = {
        "parameters": count_parameters(model),
        "n_problems": len(rows),
        "mean_plan_length": sum(r["plan_length"] for r in rows) / len(rows),
        "mean_tokens": sum(len(ids) for ids, _ in examples) / len(examples),
        "steps": config.steps,
        "final_loss": log[-1]["loss"] if log else None,
        "seconds_data": round(seconds_data, 1),
        "seconds_train": round(seconds_train, 1),
        "loss_log": log,
        "config": {**asdict(config), "tail_sizes": _tail(config)[0], "tail_fraction": _tail(config)[1]},
    }
    if config.eval_per_size:
        t2 = time.time()
        metrics["eval"] = evaluate_sizes(model, tokenizer, eval_problems(config), progress=config.progress)
        metrics["eval_split"] = config.eval_split
        metrics["seconds_eval"] = round(time.time() - t2, 1)
    out_dir = config.out_dir
    if out_dir is None:
        from itdeploy_lite.paths import data_dir

        out_dir = str(data_dir() / "models" / config.domain)
    if out_dir:
        folder = save_embedded(model, tokenizer, out_dir)
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
        (folder / "MODEL_CARD.md").write_text(model_card(metrics), encoding="utf-8")
    return metrics


def _shape_flags(model: dict) -> str:
    """The command-line flags that rebuild a non-default model shape (``asdict`` of a :class:`ModelConfig`)."""
    return ((f" --hidden-size {model['hidden_size']}" if model["hidden_size"] != ModelConfig.hidden_size else "")
            + (f" --layers {model['num_layers']}" if model["num_layers"] != ModelConfig.num_layers else "")
            + (" --untied-embeddings" if not model.get("tie_embeddings", True) else ""))


def model_card(metrics: dict) -> str:
    """The ``MODEL_CARD.md`` text for a pretraining run's metrics."""
    c = metrics["config"]
    sizes = c["sizes"] or DEFAULT_SIZES[c["domain"]]
    embeddings = "tied" if c["model"].get("tie_embeddings", True) else "untied"
    lines = [
        f"# Embedded planner, generation 0: {c['domain']}",
        "",
        f"A {metrics['parameters']:,}-parameter Llama-architecture causal LM (hidden {c['model']['hidden_size']}, "
        f"{c['model']['num_layers']} layers, {c['model']['num_heads']} heads, MLP {c['model']['intermediate_size']}, "
        f"{embeddings} embeddings, fp32) over the project's shared word-level PDDL vocabulary, trained "
        + (f"in a second stage from the checkpoint `{c['init_from']}` (its weights continued on the corpus below) "
           if c.get("init_from") else "from scratch ")
        + "by `itdeploy_lite.pretrain` (seed {}). Completion format: `plan_trace={}`.".format(c["seed"], c["model"]["plan_trace"]),
        "",
        "One checkpoint per domain (all share the tokenizer): each domain's generation 0 gets the whole "
        "parameter and time budget, the loop runs one domain at a time, and at this size a shared model "
        "would only trade one domain's skill for another's.",
        "",
        "## Data",
        f"- {metrics['n_problems']:,} distinct generated tasks of sizes {sizes}"
        + (f", plus a tail of {c['tail_fraction']:.0%} from {c['tail_sizes']}" if c["tail_sizes"] and c["tail_fraction"] else "")
        + "; tasks of the project's train and held-out splits excluded.",
        ("- Targets: optimal plans by breadth-first search" if c.get("reference", "bfs") == "bfs"
         else "- Targets: the generator's witness plans (valid, not optimal)") + f" (mean {metrics['mean_plan_length']:.2f} steps, "
        f"{metrics['mean_tokens']:.0f} tokens per prompt + completion); loss on completion tokens only.",
        "",
        "## Training",
        f"- Command: `itdeploy pretrain --domain {c['domain']} --n-problems {c['n_problems']} --steps {c['steps']} "
        f"--batch-size {c['batch_size']} --lr {c['lr']} --seed {c['seed']}"
        + (f" --trace {c['model']['plan_trace']}" if c["model"]["plan_trace"] != "none" else "")
        + (f" --init-from {c['init_from']}" if c.get("init_from") else _shape_flags(c["model"]))
        + (f" --sizes '{json.dumps(c['sizes'])}'" if c.get("sizes") else "")
        + (f" --tail '{json.dumps(c['tail_sizes'])}' --tail-fraction {c['tail_fraction']}" if c["tail_sizes"] else " --tail '[]'")
        + (" --reference witness" if c.get("reference", "bfs") != "bfs" else "")
        + "` (then `python experiments/gen0_card.py <folder> --samples 8` for this card's table).",
        f"- {metrics['steps']} steps x batch {c['batch_size']}, AdamW lr {c['lr']} (warm-up {c['warmup_steps']}, "
        f"cosine to 10%), weight decay {c['weight_decay']}, gradient clip 1.0.",
        f"- Final training loss {metrics['final_loss']:.4f}; {metrics['seconds_data']:.0f} s data, "
        f"{metrics['seconds_train']:.0f} s training on a shared 2-core CPU ({c['threads']} thread).",
        "",
    ]
    if "eval" in metrics:
        split = metrics.get("eval_split", "heldout")
        lines += [
            f"## Greedy solved fraction per size ({'fresh small tasks + the held-out split' if split == 'heldout' else 'dev tasks'})",
            "",
            "| size | tasks | solved | mean valid plan length |",
            "|---|---|---|---|",
        ]
        passk = sorted({k for r in metrics["eval"].values() for k in r if k.startswith("pass@")})
        if passk:
            lines[-2] = lines[-2].replace(" solved |", " solved (greedy) | " + " | ".join(passk) + " |")
            lines[-1] += "---|" * len(passk)
        for tag, r in metrics["eval"].items():
            mean = f"{r['mean_plan_length']:.1f}" if r["mean_plan_length"] is not None else "-"
            extra = "".join(f" {r[k]:.2f} |" for k in passk if k in r)
            lines.append(f"| {tag} | {r['n']} | {r['solved']:.2f} |{extra} {mean} |")
        lines.append("")
    lines += [
        "## Use",
        "```python",
        "from itdeploy_lite.models import load_embedded",
        f"model, tokenizer = load_embedded({c['domain']!r})",
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m itdeploy_lite.pretrain [--domain D] [--steps N] ...`` (see ``--help``).

    Returns:
        0 on success.
    """
    parser = argparse.ArgumentParser(prog="itdeploy pretrain", description="Train the generation-0 embedded planner.")
    defaults = PretrainConfig()
    parser.add_argument("--domain", default=defaults.domain, choices=sorted(DEFAULT_SIZES))
    parser.add_argument("--n-problems", type=int, default=defaults.n_problems)
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--trace", choices=("none", "delta"), default=defaults.model.plan_trace)
    parser.add_argument("--hidden-size", type=int, default=defaults.model.hidden_size)
    parser.add_argument("--layers", type=int, default=defaults.model.num_layers)
    parser.add_argument("--untied-embeddings", action="store_true",
                        help="separate input and output embeddings (default: tied). Tied, the embeddings of names "
                             "that are rarely a target (camera0, camera1) collapse onto one vector, and the model "
                             "cannot tell them apart in the prompt (experiments/logs/levers_gen0.md)")
    parser.add_argument("--sizes", default=None, help="JSON list of the main corpus' sizes, e.g. "
                        "'[{\"grid\": 5, \"boxes\": 1, \"walls\": 3}]'; default: the domain's DEFAULT_SIZES")
    parser.add_argument("--tail", default=None, help="JSON list of tail sizes, e.g. '[{\"blocks\": 5, \"name_pool\": 10}]'; "
                        "'[]' for none; default: the domain's DEFAULT_TAILS")
    parser.add_argument("--tail-fraction", type=float, default=None)
    parser.add_argument("--reference", choices=("bfs", "witness"), default=defaults.reference)
    parser.add_argument("--eval-per-size", type=int, default=defaults.eval_per_size)
    parser.add_argument("--eval-split", choices=("heldout", "dev"), default=defaults.eval_split)
    parser.add_argument("--out", default=None, help="output folder (default data/models/<domain>; '' = do not save)")
    parser.add_argument("--init-from", default="", help="continue this checkpoint (a shipped name or a folder) on "
                        "the new corpus instead of training from random weights: a second pretraining stage; "
                        "its shape replaces --hidden-size, --layers, --untied-embeddings and --trace")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    model = ModelConfig(hidden_size=args.hidden_size, num_layers=args.layers,
                        intermediate_size=4 * args.hidden_size, tie_embeddings=not args.untied_embeddings,
                        plan_trace=args.trace)
    config = PretrainConfig(domain=args.domain, n_problems=args.n_problems, steps=args.steps,
                            batch_size=args.batch_size, lr=args.lr, seed=args.seed, model=model,
                            sizes=json.loads(args.sizes) if args.sizes else None,
                            tail_sizes=json.loads(args.tail) if args.tail is not None else None, tail_fraction=args.tail_fraction,
                            eval_per_size=args.eval_per_size, eval_split=args.eval_split, out_dir=args.out,
                            reference=args.reference, init_from=args.init_from,
                            progress=not args.no_progress)
    metrics = pretrain(config)
    summary = {k: v for k, v in metrics.items() if k not in ("loss_log", "config")}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
