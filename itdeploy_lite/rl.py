"""Explicit RL baseline: REINFORCE with group-normalised advantages (GRPO style), reward from the validator.

The paper (Corrêa et al., arXiv 2512.24940) says iterative deployment is RL with an implicit reward. This is the
explicit version on the same footing, so the two can be put on one plot (``experiments/rl_vs_deploy.py``):

* the same base model (the embedded checkpoint), with a LoRA adapter of the same shape
  (:class:`~itdeploy_lite.finetune.FinetuneConfig`: ``lora_r``, ``lora_alpha``, ``target_modules``);
* the same deployment tasks: generation ``g`` samples on :func:`~itdeploy_lite.task_sets.deployment_tasks` (the fixed
  pool, or fresh tasks with the loop's seeds), so with the same ``RunConfig`` it sees exactly the tasks
  ``itdeploy run`` deploys on in generation ``g``;
* the same number of sampled traces per generation (``tasks_per_generation x samples_per_task``), sampled and
  validated by the loop's own :func:`~itdeploy_lite.deploy.sample_tasks`;
* the same evaluation: greedy decoding on the fixed held-out set, written as the loop's ``metrics.json``.

One generation, top to bottom (``train``)::

    evaluate  pi_g greedily on the held-out tasks                    -> gen_g/eval.jsonl, metrics.json
    sample    k plans per fresh task from pi_g, validate: R = 1[valid] -> gen_g/traces.jsonl
    advantage A_i = (R_i - mean_task R) / (std_task R + eps)          (per task, over its k samples)
    update    rl_epochs passes over the traces with A_i != 0, minibatches of rl_minibatch:
              loss = -(1/B) sum_i A_i log pi(y_i | x_i)               (whole-sequence log-likelihood)
              -> pi_{g+1} (the adapter keeps training; saved to gen_{g+1}/adapter)

Differences from the loop, by design: the loop keeps only valid plans (the shortest per task) and retrains a fresh
adapter from the base each generation on the pooled data; RL also pushes *down* the invalid samples (negative
advantage), learns only from tasks whose k samples disagree (all valid or all invalid gives A = 0), and continues
one adapter (on-policy, nothing pooled). With A_i replaced by R_i and no baseline, the gradient is the REINFORCE
estimate of :func:`itdeploy_lite.theory.reinforce_objective`, which on-policy equals (N+/N) times the SFT gradient.

Plain loop by default, TRL's ``GRPOTrainer`` as an option (``--trl``, :func:`train_trl`). ``GRPOTrainer`` does run
on the CPU path (TRL 1.16: ``use_cpu=True``, a Python reward function over the completions and a ``task_id``
column, LoRA model passed in; tried on the tiny test model and in ``experiments/rl_vs_deploy.py``). The plain loop is
the reference because it differs from iterative deployment *only in the update*: its traces come from the loop's
own :func:`~itdeploy_lite.deploy.sample_tasks` (per-task token budgets, suppressed special tokens, the loop's seeds), so
generation ``g`` of both methods sees the same tasks, the same number of traces, the same sampler. ``GRPOTrainer``
samples with its own ``generate`` (one completion-length cap, its seeds) and adds PPO clipping and the DAPO token
loss, so a difference between it and the loop mixes sampler and update effects. Not resumable (a run takes
minutes): re-running overwrites the run folder's files.
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from itdeploy_lite.config import RunConfig
from itdeploy_lite.flags import documented
from itdeploy_lite.formats import CompactFormat


@documented
@dataclass
class RLConfig:
    """The RL baseline; every field is an ``itdeploy rl`` flag. ``run`` holds the settings shared with
    ``itdeploy run`` (tasks, sampling, held-out set, seed, out, LoRA shape); ``run.curation`` is unused.

    Attributes:
        run: the loop settings the baseline shares (:class:`~itdeploy_lite.config.RunConfig`).
        rl_learning_rate: AdamW learning rate of the policy-gradient updates. 5e-5: at the SFT rate 2e-3 both the
            plain loop and GRPOTrainer collapsed in one generation (held-out 0.22 -> 0.07 / 0.00, small settings),
            2e-4 was flat (0.21), 5e-5 gave 0.23; picked from these three on the held-out curve (favours RL).
        rl_epochs: passes over each generation's traces (1: strictly on-policy).
        rl_minibatch: traces per optimizer step.
        advantage_eps: eps in A = (R - mean) / (std + eps).
        trl: use TRL's ``GRPOTrainer`` for sampling and update (:func:`train_trl`) instead of the plain loop.
    """

    run: RunConfig = field(default_factory=RunConfig)
    rl_learning_rate: float = 5e-5
    rl_epochs: int = 4
    rl_minibatch: int = 32
    advantage_eps: float = 1e-6
    trl: bool = False

    def run_dir(self) -> Path:
        """``run.out``, or ``runs/<domain>-rl-s<seed>``."""
        return Path(self.run.out) if self.run.out else Path("runs") / f"{self.run.domain}-rl-s{self.run.seed}"


def group_advantages(records: list[dict], eps: float = 1e-6) -> list[float]:
    """GRPO advantages: per task, A_i = (R_i - mean R) / (std R + eps), R_i = 1[valid], std over the task's samples.

    Returns:
        One advantage per record, in the records' order; they sum to zero within each task (all zero when the
        task's samples are all valid or all invalid).
    """
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(r["task_id"], []).append(i)
    advantages = [0.0] * len(records)
    for rows in groups.values():
        rewards = [float(records[i]["valid"]) for i in rows]
        mean = sum(rewards) / len(rewards)
        std = (sum((x - mean) ** 2 for x in rewards) / len(rewards)) ** 0.5
        for i, x in zip(rows, rewards):
            advantages[i] = (x - mean) / (std + eps)
    return advantages


def lora_policy(base: str | Path, config, seed: int = 0):
    """The base causal LM with a fresh trainable LoRA adapter (``config``: a FinetuneConfig), and its tokenizer."""
    import torch
    from peft import LoraConfig, get_peft_model

    from itdeploy_lite.finetune import lora_targets
    from itdeploy_lite.llm.registry import load_model

    torch.manual_seed(seed)
    model, tokenizer = load_model(str(base), load_in_4bit=False, device="cpu", dtype=torch.float32)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=lora_targets(config.target_modules), task_type="CAUSAL_LM")
    return get_peft_model(model, lora), tokenizer


def encode(tokenizer, records: list[dict], max_length: int = 768):
    """Prompt + completion token tensors for :func:`~itdeploy_lite.theory.sequence_logprobs` (completion scored)."""
    from itdeploy_lite.theory import pad_batch

    prompts = [tokenizer(r["prompt"], add_special_tokens=False)["input_ids"] for r in records]
    completions = [tokenizer(r["completion"], add_special_tokens=False)["input_ids"] for r in records]
    completions = [c[: max(1, max_length - len(p))] for p, c in zip(prompts, completions)]
    return pad_batch(prompts, completions, tokenizer.pad_token_id)


def policy_gradient_step(model, tokenizer, optimizer, records: list[dict], advantages: list[float],
                         max_length: int = 768) -> float:
    """One optimizer step on ``loss = -(1/B) sum_i A_i log pi(y_i | x_i)`` over the B given traces; returns the loss."""
    import torch

    from itdeploy_lite.theory import sequence_logprobs

    logp = sequence_logprobs(model, *encode(tokenizer, records, max_length))
    loss = -(torch.tensor(advantages, dtype=logp.dtype) * logp).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def update(model, tokenizer, optimizer, records: list[dict], config: RLConfig, seed: int) -> dict:
    """``config.rl_epochs`` shuffled passes of :func:`policy_gradient_step` over the traces with A != 0."""
    advantages = group_advantages(records, config.advantage_eps)
    rows = [i for i, a in enumerate(advantages) if a != 0.0]
    start, losses = time.perf_counter(), []
    rng = random.Random(seed)
    model.train()
    for _ in range(config.rl_epochs if rows else 0):
        rng.shuffle(rows)
        for b in range(0, len(rows), config.rl_minibatch):
            batch = rows[b : b + config.rl_minibatch]
            losses.append(policy_gradient_step(model, tokenizer, optimizer, [records[i] for i in batch],
                                               [advantages[i] for i in batch], config.run.finetune.max_length))
    model.eval()
    return {"rows": len(rows), "tasks": len({records[i]["task_id"] for i in rows}), "steps": len(losses),
            "train_loss": sum(losses[-3:]) / len(losses[-3:]) if losses else None,
            "seconds": round(time.perf_counter() - start, 2)}


def _start(config: RLConfig, method: str):
    """Shared set-up of both trainers: check the config, set threads, write ``config.json``, build the LoRA
    policy on the embedded base and the loop's fixed held-out tasks.

    Returns:
        ``(run_config, run_dir, model, tokenizer, heldout_tasks, heldout_keys, heldout_sizes)``.
    """
    import torch

    from itdeploy_lite import atomic
    from itdeploy_lite.runtime import derive_seed, quiet_libraries
    from itdeploy_lite.task_sets import heldout_tasks
    from itdeploy_lite.models.embedded import embedded_dir

    rc = config.run
    rc.check()
    quiet_libraries()
    if rc.threads:
        torch.set_num_threads(rc.threads)
    out = config.run_dir()
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(out / "config.json", {**asdict(config), "method": method})
    model, tokenizer = lora_policy(embedded_dir(rc.model or rc.domain), rc.finetune, derive_seed(rc.seed, "rl-lora"))
    heldout = heldout_tasks(rc)
    return rc, out, model, tokenizer, heldout, {t.key for t in heldout}, list(dict.fromkeys(t.size for t in heldout))


def _evaluate(model, tokenizer, heldout, rc, g: int, gen_dir: Path, last_update: dict | None):
    """Greedy held-out evaluation exactly as the loop does it; writes ``eval.jsonl``.

    Returns:
        ``(evaluated records, seconds)`` where ``seconds`` has ``evaluate`` and, after an update, ``finetune``.
    """
    from itdeploy_lite.curate import read_jsonl
    from itdeploy_lite.loop import evaluate_stage

    gen_dir.mkdir(exist_ok=True)
    model.eval()
    t0 = time.perf_counter()
    evaluate_stage(rc, (model, tokenizer, CompactFormat.of_model(model, tokenizer), None), heldout, gen_dir, g)
    evaluated = read_jsonl(gen_dir / "eval.jsonl")
    seconds = {"evaluate": round(time.perf_counter() - t0, 2)}
    if last_update is not None:
        seconds["finetune"] = last_update["seconds"]
    return evaluated, seconds


def train(config: RLConfig) -> list[dict]:
    """Run the RL baseline for ``config.run.generations`` updates; see the module docstring.

    Returns:
        Per generation the loop's metrics (:func:`~itdeploy_lite.metrics.generation_metrics`); ``finetune`` holds the
        update that produced that generation's policy, ``train_pool_size`` its number of traces with A != 0.
    """
    import torch

    from itdeploy_lite import atomic
    from itdeploy_lite.deploy import sample_tasks
    from itdeploy_lite.metrics import deployment_summary, generation_metrics
    from itdeploy_lite.report import table
    from itdeploy_lite.runtime import derive_seed
    from itdeploy_lite.task_sets import deployment_tasks
    from itdeploy_lite.theory import trainable_parameters

    rc, out, model, tokenizer, heldout, exclude, sizes = _start(config, "rl-grpo")
    optimizer = torch.optim.AdamW(trainable_parameters(model), lr=config.rl_learning_rate, weight_decay=0.0)
    metrics, last_update = [], None
    for g in range(rc.generations + 1):
        gen_dir = out / f"gen_{g:02d}"
        evaluated, seconds = _evaluate(model, tokenizer, heldout, rc, g, gen_dir, last_update)
        deployed = None
        if g < rc.generations:
            t0 = time.perf_counter()
            tasks = deployment_tasks(rc, g, exclude)
            traces = sample_tasks(model, tokenizer, tasks, rc.samples_per_task, rc, g, seed=derive_seed(rc.seed, g, "deploy"),
                                  prompt_format=CompactFormat.of_model(model, tokenizer))
            atomic.write_jsonl(gen_dir / "traces.jsonl", traces)
            deployed = deployment_summary(tasks, traces, rc.samples_per_task)
            seconds["deploy"] = deployed["seconds"] = round(time.perf_counter() - t0, 2)
        row = generation_metrics(g, evaluated, sizes, last_update["rows"] if last_update else 0, last_update,
                                 deployed, seconds)
        atomic.write_json(gen_dir / "metrics.json", row)
        metrics.append(row)
        print(table(metrics), file=sys.stderr, flush=True)
        if deployed is not None:
            last_update = update(model, tokenizer, optimizer, traces, config, derive_seed(rc.seed, g, "rl-update"))
            model.save_pretrained(str(out / f"gen_{g + 1:02d}" / "adapter"))
    print(table(metrics))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return metrics


def train_trl(config: RLConfig) -> list[dict]:
    """The same baseline with TRL's ``GRPOTrainer`` doing the sampling and the update (``itdeploy rl --trl``).

    Per generation ``g``: evaluate greedily as the loop does, then one ``GRPOTrainer.train()`` on the loop's
    fresh tasks of generation ``g`` (``num_generations = samples_per_task``, so about
    ``tasks_per_generation x samples_per_task`` completions are sampled, once per ``rl_epochs`` reuse:
    ``num_iterations = rl_epochs``), reward 1[valid] from the validator, LoRA adapter continued across generations
    (a new trainer, hence a fresh optimizer, each generation). TRL's defaults otherwise: ``loss_type="dapo"``,
    ``beta=0`` (no KL), PPO clipping ``epsilon=0.2``, group-scaled rewards. Its sampler is its own ``generate``
    (one ``max_completion_length`` for all tasks, EOS stops), not :func:`~itdeploy_lite.deploy.sample_tasks`.
    """
    import math

    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from itdeploy_lite import atomic
    from itdeploy_lite.metrics import generation_metrics
    from itdeploy_lite.planning import validate
    from itdeploy_lite.report import table
    from itdeploy_lite.runtime import derive_seed
    from itdeploy_lite.task_sets import deployment_tasks

    rc, out, model, tokenizer, heldout, exclude, sizes = _start(config, "rl-trl-grpo")
    fmt = CompactFormat.of_model(model, tokenizer)
    k = rc.samples_per_task
    batch = k * max(1, config.rl_minibatch // k)
    metrics, last_update = [], None
    for g in range(rc.generations + 1):
        gen_dir = out / f"gen_{g:02d}"
        evaluated, seconds = _evaluate(model, tokenizer, heldout, rc, g, gen_dir, last_update)
        row = generation_metrics(g, evaluated, sizes, last_update["rows"] if last_update else 0, last_update,
                                 None, seconds)  # deployment stats: finetune["mean_reward"] of the previous generation
        atomic.write_json(gen_dir / "metrics.json", row)
        metrics.append(row)
        print(table(metrics), file=sys.stderr, flush=True)
        if g == rc.generations:
            break
        tasks = deployment_tasks(rc, g, exclude)
        by_id = {t.task_id: t.task for t in tasks}

        def reward(completions, task_id, **_):
            return [float(validate(by_id[t], fmt.plan_text(c)).valid) for c, t in zip(completions, task_id)]

        data = Dataset.from_dict({"prompt": [fmt.prompt(t.task) for t in tasks], "task_id": [t.task_id for t in tasks]})
        steps = config.rl_epochs * math.ceil(len(tasks) * k / batch)
        args = GRPOConfig(
            output_dir=str(gen_dir / "trl"), use_cpu=True, bf16=False, report_to=[], save_strategy="no",
            max_steps=steps, per_device_train_batch_size=batch, num_generations=k, num_iterations=config.rl_epochs,
            learning_rate=config.rl_learning_rate, lr_scheduler_type="constant", weight_decay=0.0,
            temperature=rc.temperature, top_p=rc.top_p,
            max_completion_length=max(fmt.budget(t.task, cap=rc.max_new_tokens) for t in tasks),
            seed=derive_seed(rc.seed, g, "rl-update"), logging_steps=1, disable_tqdm=not rc.progress,
        )
        t0 = time.perf_counter()
        trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=data,
                              processing_class=tokenizer)
        trainer.train()
        rewards = [e["reward"] for e in trainer.state.log_history if "reward" in e]
        last_update = {"rows": len(tasks) * k, "steps": steps, "mean_reward": round(sum(rewards) / max(1, len(rewards)), 4),
                       "seconds": round(time.perf_counter() - t0, 2)}
        model = trainer.model
        model.save_pretrained(str(out / f"gen_{g + 1:02d}" / "adapter"))
    print(table(metrics))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return metrics
