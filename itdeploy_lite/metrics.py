"""What a generation is measured by: the held-out solved fraction, the pool's pass@k and plan lengths
(the paper's figures), and the deployment's summary, all computed from validated trace records."""

from __future__ import annotations


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


def deployment_summary(tasks: list, records: list[dict], samples_per_task: dict[str, int] | int) -> dict:
    """The summary of one deployment (``gen_XX/deploy.done.json``, ``metrics.json["deploy"]``).

    Args:
        tasks: the :class:`~itdeploy_lite.task_sets.LoopTask` s deployed on.
        records: their validated traces.
        samples_per_task: samples per task (one number, or per size label with ``--frontier``).

    Returns:
        ``{"tasks", "samples", "valid_fraction" (of samples), "solved_tasks" (with a valid sample),
        "pass_at_k_by_size": {size: fraction}, "tasks_by_size": {size: count}, "samples_per_task",
        "longest_valid_plan" (steps, over all valid samples), "ended_fraction" (samples that wrote the
        end token), "completion_tokens"}``.
    """
    valid_lengths = [r["plan_length"] for r in records if r["valid"]]
    return {
        "tasks": len(tasks),
        "samples": len(records),
        "valid_fraction": round(sum(r["valid"] for r in records) / max(1, len(records)), 4),
        "solved_tasks": len({r["task_id"] for r in records if r["valid"]}),
        "pass_at_k_by_size": {k: round(v, 4) for k, v in pass_at_k_by_size(records).items()},
        "tasks_by_size": {s: sum(t.size == s for t in tasks) for s in dict.fromkeys(t.size for t in tasks)},
        "samples_per_task": samples_per_task,
        "longest_valid_plan": max(valid_lengths, default=0),
        "ended_fraction": round(sum(r["ended"] for r in records) / max(1, len(records)), 4),
        "completion_tokens": sum(r["n_tokens"] for r in records),
    }
