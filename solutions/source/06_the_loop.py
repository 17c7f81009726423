# %% [markdown]
# # Lab 06 — The loop
#
# Labs 03–05 took one step each: **deploy** a model on tasks, **curate** its valid plans, **fine-tune** the
# next generation on them. Iterative deployment (Corrêa et al., [arXiv 2512.24940](https://arxiv.org/abs/2512.24940),
# experimental setup and results) repeats the three steps for about five **generations**. Every generation is
# deployed on the same **pool** of tasks (the paper's task set), and a task counts as solved when one of its
# k samples is valid; beside it, each generation is measured on a **fixed held-out** task set of tasks the loop
# never deploys on, up to sizes larger than any in pre-training. The paper's headline: the share of solved
# tasks more than doubles, and the model starts solving longer plans than it ever saw. This lab runs the loop,
# then asks how much of that our own measured runs support: over seeds, with intervals over the held-out tasks.
#
# In this lab you run the whole loop with `itdeploy_lite.loop.run`, at a deliberately tiny size so that it
# finishes in about a minute on a laptop CPU, then read what it wrote and put it next to the project's
# full-size default run. You write four small functions to read a run:
#
# 1. `heldout_ratio` — generation $g$'s held-out solved fraction relative to generation 0;
# 2. `solved_by_size` — the solved fraction per task size, from the held-out evaluation records;
# 3. `longest_valid_plan` — the longest valid plan each generation wrote while deployed;
# 4. `first_generation_solved` — for each held-out size, the first generation that solved any task of it;
# 5. `gap_closed` — how much of what sampling found (pass@k) the next generation's greedy decoding recovers;
# 6. `collapse_summary` — best, final and drop over a long run, with and without curation.
#
# *Run time, measured: about 43 s on a CPU, top to bottom (`pytest --nbmake`, one torch thread, on a
# 2-core machine shared with two other long jobs; expect less on a free laptop). The graded exercise cells
# alone load in a few seconds.*

# %% tags=["setup"]
import math

# %%
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from itdeploy_lite.curate import curate, read_jsonl
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.loop import RunConfig, run
from itdeploy_lite.report import load_metrics, table

# %% [markdown]
# ## The backend
#
# The lab runs the **embedded planner** shipped with the package, a 1.1 M-parameter Llama trained from scratch
# on optimal plans of 3–4-block Blocksworld tasks with a thin tail of 5-block ones (its model card is in
# `data/models/blocksworld/MODEL_CARD.md`), on any machine. On a CUDA GPU you may instead run a pretrained LLM
# (Qwen3-0.6B with Unsloth in 4-bit, the paper's recipe at Colab size, with a 2,048-token thinking budget per
# plan): set `USE_GPU = True` below. It is opt-in because it is a different experiment (another model, other
# prompts) and takes far longer than the CPU run (generation time, not memory, is the limit).

# %%
USE_GPU = False  # True: Qwen3-0.6B with Unsloth on a CUDA GPU (slow; see above)
choice = {}
if USE_GPU:
    import torch

    from itdeploy_lite.backends import default_choice

    if not torch.cuda.is_available():
        raise RuntimeError("USE_GPU = True but no CUDA GPU is visible: set it back to False")
    choice = default_choice()
print("backend:", choice or "the embedded planner (CPU)")

# %% [markdown]
# ## A tiny run
#
# The default `itdeploy run` deploys each generation on a pool of 1,002 tasks (167 each of 5–10 blocks) × 8
# samples and evaluates on 25 held-out tasks for each of six sizes (5–10 blocks, none of them in the pool);
# on a 2-core CPU it takes about 17 minutes. Here every
# count is cut down (the comments say to what), so the run is small, fast and **noisy**: with 4 held-out tasks
# per size, one task more or less moves a size's solved fraction by 0.25. Read its numbers as a demonstration
# of the machinery; the effect itself is in the full-size figures further down.
#
# Per generation $g$ the loop: curates the traces of generations $0..g-1$ (the paper's rule: per task the
# shortest valid plan, pooled) → fine-tunes a LoRA adapter from the base model on them → evaluates greedily
# on the fixed held-out set and on the pool → deploys on the pool (sampling, temperature 0.6) and validates
# every plan.

# %%
run_dir = Path(tempfile.mkdtemp(prefix="itdeploy-lab06-")) / "paper"
config = RunConfig(
    **choice,
    generations=5,              # as the paper and the default run
    sizes="4;5;6",              # default: the pool's sizes, see RunConfig.sizes
    tasks_per_generation=12,    # the pool: 4 tasks per size, the same 12 tasks every generation
    samples_per_task=4,         # default 8 (the paper's k)
    heldout_per_size=4,         # default 25: 4 held-out tasks for each of 5..10 blocks
    finetune=FinetuneConfig(min_steps=12, max_steps=12, train_batch_size=16),  # default 40-120 steps of 32 rows
    curation="paper",
    out=str(run_dir),
    threads=1,                  # one torch thread: the tiny model gains nothing from more
)
metrics = run(config)

# %% [markdown]
# `run` returned one metrics dict per generation and wrote everything under the run folder: per generation
# the deployment traces, the curated pool, the adapter, the held-out evaluation and `metrics.json`; at the top
# `config.json`, `metrics.csv` and plots. Re-running the cell resumes: finished stages are skipped.

# %%
for path in sorted(run_dir.iterdir()):
    print(path.name + ("/" if path.is_dir() else ""))
print("\ngen_01:", sorted(p.name for p in (run_dir / "gen_01").iterdir()))
print("\n" + (run_dir / "metrics.csv").read_text())

# %% [markdown]
# ## Exercise 1 — improvement over generation 0
#
# The paper reports the held-out solved fraction of each generation relative to the base model. Each metrics
# dict has `"generation"` and `"heldout_solved_fraction"`.

# %% tags=["exercise"]
def heldout_ratio(metrics: list[dict]) -> list[float]:
    """Each generation's held-out solved fraction divided by generation 0's.

    Args:
        metrics: one dict per generation (``itdeploy_lite.loop.run``'s return value or
            ``itdeploy_lite.report.load_metrics``), each with ``"generation"`` (int) and
            ``"heldout_solved_fraction"`` (float in [0, 1]); in any order.

    Returns:
        ``[f_0 / f_0, f_1 / f_0, ...]`` in generation order (so the first entry is 1.0), where ``f_g`` is
        generation g's held-out solved fraction.

    Raises:
        ValueError: there is no generation 0, or generation 0 solved nothing (``f_0 == 0``: no baseline).
    """
    ### BEGIN SOLUTION
    rows = sorted(metrics, key=lambda m: m["generation"])
    if not rows or rows[0]["generation"] != 0:
        raise ValueError("no generation 0 in the metrics")
    base = rows[0]["heldout_solved_fraction"]
    if base == 0:
        raise ValueError("generation 0 solved no held-out task: the ratio is undefined")
    return [m["heldout_solved_fraction"] / base for m in rows]
    ### END SOLUTION


# %%
try:
    ratios = heldout_ratio(metrics)
    print("held-out solved, relative to generation 0:", " ".join(f"{r:.2f}" for r in ratios))
except ValueError as err:  # a tiny run can fail to solve any held-out task in generation 0
    print("no ratio for this run:", err)
print(table(metrics))

# %% [markdown]
# ## Exercise 2 — solved fraction per size
#
# Generalisation shows *per size*: the held-out set has 5–10 blocks, while the model was pre-trained on 3–4
# (with a thin tail of 5); your tiny run deploys on 4–6, the default run on other tasks of 5–10. Each generation's `gen_XX/eval.jsonl` holds one greedy
# record per held-out task, with its `"size"` label (`"b7"`: 7 blocks) and the validator's `"valid"` verdict.

# %% tags=["exercise"]
def solved_by_size(records: list[dict]) -> dict[str, float]:
    """The fraction of tasks solved per size label.

    Args:
        records: validated trace records, each with ``"size"`` (str, e.g. ``"b5"``), ``"task_id"`` (str) and
            ``"valid"`` (bool). A task may have several records (samples): it counts as solved if at least
            one of its records is valid (pass@k; on ``eval.jsonl``, one greedy record per task).

    Returns:
        ``{size: solved tasks of that size / tasks of that size}``, sizes in the order they first appear in
        ``records``; ``{}`` for no records.
    """
    ### BEGIN SOLUTION
    solved: dict[str, dict[str, bool]] = {}
    for r in records:
        tasks = solved.setdefault(r["size"], {})
        tasks[r["task_id"]] = tasks.get(r["task_id"], False) or bool(r["valid"])
    return {size: sum(tasks.values()) / len(tasks) for size, tasks in solved.items()}
    ### END SOLUTION


# %% [markdown]
# Check it against what the loop itself computed (`heldout_solved_by_size` in each `metrics.json`).

# %%
by_size = []
for g in range(config.generations + 1):
    mine = solved_by_size(read_jsonl(run_dir / f"gen_{g:02d}" / "eval.jsonl"))
    loop = metrics[g]["heldout_solved_by_size"]
    assert mine.keys() == loop.keys() and all(math.isclose(mine[s], loop[s], abs_tol=1e-4) for s in mine), (mine, loop)
    by_size.append(mine)
    print(f"gen {g}: " + "  ".join(f"{s} {v:.2f}" for s, v in mine.items()))

# %% [markdown]
# ## Exercise 3 — the longest valid plan
#
# Longer tasks need longer plans. The paper tracks the longest valid plan a generation produces; here, from
# the deployment traces (`gen_XX/traces.jsonl`: every sample, with `"generation"`, `"valid"` and
# `"plan_length"`, the number of steps).

# %% tags=["exercise"]
def longest_valid_plan(records: list[dict]) -> dict[int, int]:
    """The length of the longest valid plan of each generation.

    Args:
        records: trace records of one or more generations, each with ``"generation"`` (int), ``"valid"`` (bool)
            and ``"plan_length"`` (int, steps; meaningless when the plan is invalid).

    Returns:
        ``{generation: longest valid plan_length}`` for every generation that has at least one record, in
        increasing generation order; 0 for a generation without a valid plan. Invalid plans never count,
        however long.
    """
    ### BEGIN SOLUTION
    longest: dict[int, int] = {}
    for r in records:
        g = r["generation"]
        longest[g] = max(longest.get(g, 0), r["plan_length"] if r["valid"] else 0)
    return dict(sorted(longest.items()))
    ### END SOLUTION


# %%
traces = []
for g in range(config.generations + 1):  # the pool protocol deploys every generation, the last one too
    traces += read_jsonl(run_dir / f"gen_{g:02d}" / "traces.jsonl")
longest = longest_valid_plan(traces)
print("longest valid deployment plan per generation:", longest)
assert all(longest[g] == metrics[g]["deploy"]["longest_valid_plan"] for g in longest)

# %% [markdown]
# ## Exercise 4 — when is a size first solved?
#
# A held-out size that generation 0 cannot solve at all, solved by a later generation: a first sign of
# generalisation beyond what was solved before (the deployment pool has tasks of every held-out size, so
# "never trained on that size" holds only for the sizes above the pool's). One task of 25 is 0.04, so one
# seed's "first solved" can be a single lucky task: the seeds below show how stable it is.

# %% tags=["exercise"]
def first_generation_solved(by_size: list[dict[str, float]]) -> dict[str, int | None]:
    """For each size, the first generation with a solved fraction above 0.

    Args:
        by_size: one dict per generation, in generation order (``by_size[g]`` is generation g's
            ``{size: solved fraction}``, as :func:`solved_by_size` returns); all with the same sizes.

    Returns:
        ``{size: first g with by_size[g][size] > 0, or None if no generation solved that size}``, sizes in
        the order of ``by_size[0]``; ``{}`` for an empty list.
    """
    ### BEGIN SOLUTION
    if not by_size:
        return {}
    return {size: next((g for g, row in enumerate(by_size) if row.get(size, 0) > 0), None) for size in by_size[0]}
    ### END SOLUTION


# %%
print("tiny run, first generation solving each held-out size:", first_generation_solved(by_size))

# %% [markdown]
# ## The full-size default run
#
# Below are the figures of the project's measured default run, `itdeploy run` (Blocksworld, 5 generations,
# a pool of 1,002 tasks × 8 samples per generation, 25 held-out tasks per size, seed 0, 1,042 s on a 2-core
# CPU shared with another run), and of the same run with `--curation none`, with the per-size held-out
# figures of the default run (`benchmarks/results/fidelity.json`). If you ran `itdeploy run` yourself from the repository root, the
# cell reads your `runs/blocksworld-paper-s0` instead.

# %%
# Measured default run, seed 0 (held-out solved .22 .26 .32 .35 .35 .43, 1.94x; the pool's solved
# fraction .25 → .50, 2.00x).
DEFAULT_RUN = {
    "solved": [0.22, 0.26, 0.32, 0.3467, 0.3467, 0.4267],
    "by_size": [  # held-out solved fraction per size, generation 0..5 (25 tasks per size)
        {"b5": 0.76, "b6": 0.20, "b7": 0.24, "b8": 0.12, "b9": 0.00, "b10": 0.00},
        {"b5": 0.80, "b6": 0.16, "b7": 0.36, "b8": 0.20, "b9": 0.04, "b10": 0.00},
        {"b5": 0.80, "b6": 0.36, "b7": 0.36, "b8": 0.28, "b9": 0.08, "b10": 0.04},
        {"b5": 0.76, "b6": 0.52, "b7": 0.36, "b8": 0.28, "b9": 0.12, "b10": 0.04},
        {"b5": 0.72, "b6": 0.52, "b7": 0.36, "b8": 0.32, "b9": 0.12, "b10": 0.04},
        {"b5": 0.72, "b6": 0.56, "b7": 0.52, "b8": 0.36, "b9": 0.32, "b10": 0.08},
    ],
}
# Measured `itdeploy run --curation none`, seed 0 (held-out .22 .21 .22 .20 .23 .23, 1.06x; pool .25 → .25).
NONE_RUN = {"solved": [0.22, 0.2133, 0.22, 0.20, 0.2267, 0.2333]}

for folder in (Path("runs/blocksworld-paper-s0"), Path("../runs/blocksworld-paper-s0")):
    if (folder / "config.json").is_file() and len(load_metrics(folder)) == 6:
        rows = load_metrics(folder)
        DEFAULT_RUN = {"solved": [m["heldout_solved_fraction"] for m in rows],
                       "by_size": [m["heldout_solved_by_size"] for m in rows]}
        print("read the default run from", folder)
        break

print("default run, relative to generation 0:",
      " ".join(f"{r:.2f}" for r in heldout_ratio([{"generation": g, "heldout_solved_fraction": f}
                                                    for g, f in enumerate(DEFAULT_RUN["solved"])])))
print("default run, first generation solving each size:", first_generation_solved(DEFAULT_RUN["by_size"]))

# %% [markdown]
# ## Seeds and intervals
#
# One seed is one draw. `benchmarks/results/fidelity.json` (in a student release: `data/fidelity.json`) holds
# the default run for three seeds with `paper` curation and two with `none`. For each run: the held-out
# solved fraction of generation 0 and 5 with a 95% bootstrap interval over its 150 held-out tasks
# (`itdeploy_lite.stats`), and the interval of the gain. The saved results keep per-size fractions, so the
# tasks are rebuilt from them without their pairing across generations: the gain's interval is that of
# independent samples, wider than a paired one would be.

# %%
from itdeploy_lite.paths import data_dir
from itdeploy_lite.stats import bootstrap_interval, difference_interval, outcomes_by_size

FIDELITY = next((p for p in (data_dir().parent / "benchmarks" / "results" / "fidelity.json", Path("data/fidelity.json"),
                             Path("../benchmarks/results/fidelity.json")) if p.is_file()), None)
fidelity = json.loads(FIDELITY.read_text()) if FIDELITY else []
print(f"{'run':18s} {'seed':>4s} {'gen 0 [95% CI]':>20s} {'gen 5 [95% CI]':>20s} {'gain [95% CI]':>22s} {'b9 at gen 5':>11s}")
for experiment in ("blocksworld", "blocksworld-none"):
    for seed in sorted({r["seed"] for r in fidelity if r["experiment"] == experiment}):
        rows = {r["generation"]: r for r in fidelity if r["experiment"] == experiment and r["seed"] == seed}
        first, last = (outcomes_by_size(rows[g]["heldout_solved_by_size"], 25) for g in (0, 5))
        ci = [bootstrap_interval(o, seed=seed) for o in (first, last)]
        gain = difference_interval(first, last, seed=seed)
        f0, f5 = sum(first) / len(first), sum(last) / len(last)
        print(f"{experiment:18s} {seed:4d} {f0:6.2f} [{ci[0][0]:.2f}, {ci[0][1]:.2f}]   {f5:6.2f} [{ci[1][0]:.2f}, {ci[1][1]:.2f}]"
              f"   {f5 - f0:+6.2f} [{gain[0]:+.2f}, {gain[1]:+.2f}] {rows[5]['heldout_solved_by_size']['b9']:11.2f}")

# %% [markdown]
# What the intervals support (measured: seed 0 +.21 [+.11, +.31]; seed 1 +.10 [.00, +.20]; seed 2 +.09
# [-.01, +.19]; `none` +.01 [-.09, +.11] in both seeds): with `paper` curation the held-out gain after five
# generations points up in all three seeds, but only seed 0's interval is clear of 0, and seed 0's 1.94x is
# the best of the three — the other two gain about 1.4x. With `none` there is no gain distinguishable from 0.
# 9-block tasks: 8 of 25 at seed 0, 2 of 25 at seeds 1 and 2, from 0 at generation 0 — a few tasks, not a
# reliable rate.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
ax = axes[0]
gens = range(config.generations + 1)
ax.plot(range(6), DEFAULT_RUN["solved"], "-o", label="default run, curation paper (measured)")
ax.plot(range(6), NONE_RUN["solved"], "--s", label="default run, curation none (measured)")
ax.plot(gens, [m["heldout_solved_fraction"] for m in metrics], ":^", label="your tiny run, curation paper")
ax.set(xlabel="generation", ylabel="held-out solved fraction (greedy)", title="held-out tasks solved", ylim=(0, None))
ax.legend(fontsize=8)

for ax, rows, title in [(axes[1], DEFAULT_RUN["by_size"], "default run (measured), per size"),
                        (axes[2], by_size, "your tiny run, per size")]:
    for size in rows[0]:
        ax.plot(range(len(rows)), [row[size] for row in rows], "-o", label=size)
    ax.set(xlabel="generation", ylabel="solved fraction", title=title, ylim=(-0.02, 1.02))
    ax.legend(title="held-out size", fontsize=8, ncol=2)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What `--curation none` does
#
# With `--curation none` the loop skips curation: the next generation is fine-tuned on **every** sampled
# plan of every generation so far, valid or not (`itdeploy_lite.curate.POLICIES["none"]`). Look at what the
# two rules would hand to the fine-tuning step from your tiny run's traces: the number of rows and of distinct
# tasks, the fraction of valid rows, and the fraction of valid rows that are as short as the shortest valid
# plan sampled for their task in the whole run.

# %%
shortest = {}  # task -> its shortest valid plan among all samples
for r in traces:
    if r["valid"]:
        shortest[r["task_id"]] = min(shortest.get(r["task_id"], r["plan_length"]), r["plan_length"])
print(f"{'pool for gen':>12s}  {'policy':6s}  {'rows':>4s}  {'tasks':>5s}  {'valid':>5s}  {'shortest known':>14s}")
for g in range(config.generations):
    for policy in ("paper", "none"):
        pool = curate(traces, policy, g)
        valid = [r for r in pool if r["valid"]]
        short = sum(r["plan_length"] == shortest[r["task_id"]] for r in valid) / max(1, len(valid))
        print(f"{g + 1:12d}  {policy:6s}  {len(pool):4d}  {len({r['task_id'] for r in pool}):5d}  "
              f"{len(valid) / max(1, len(pool)):5.2f}  {short:14.2f}")

# %% [markdown]
# Without curation the pool holds every sample (k per task): several times larger, with the invalid plans
# (about half of the first pool, a fifth of the last one here) and with valid plans as long as they happened
# to be sampled (on the tiny run's small tasks most valid plans are already the shortest known; at full size
# they are not). The model imitates its own mistakes along with its successes. In the measured full-size runs (seed 0) this is the
# difference between a 1.94x and a 1.06x held-out gain after five generations (first panel above; on the
# pool 2.00x against 1.00x), and the seeds above agree in direction. What this comparison does **not**
# separate is *which* part of curation matters: the `none` pool is about 85 times larger (40,080 rows
# against 473), holds invalid plans, and keeps every length. A random pool of the same size as `paper`'s
# would tell the size apart from the selection — the row below shows what such a pool holds, from your
# tiny run's traces — but no model has been trained on one at full size here, so the claim this lab can make
# is "more unfiltered data does not help", not "the amount of data does not matter". To run the control
# yourself (about 25 minutes on two cores): `itdeploy run --curation random-valid` (one random valid plan
# per solved task: the same number of rows as `paper`, without the shortest-plan rule).

# %%
import random

for g in (config.generations - 1,):
    paper_pool, none_pool = curate(traces, "paper", g), curate(traces, "none", g)
    control = random.Random(0).sample(none_pool, min(len(paper_pool), len(none_pool)))  # equal-size random pool
    for name, pool in (("paper", paper_pool), ("random, same size", control), ("none", none_pool)):
        valid = [r for r in pool if r["valid"]]
        print(f"pool for gen {g + 1}: {name:18s} rows {len(pool):4d}  valid {len(valid) / max(1, len(pool)):.2f}  "
              f"shortest known {sum(r['plan_length'] == shortest[r['task_id']] for r in valid) / max(1, len(valid)):.2f}")

# %% [markdown]
# ## Exercise 5 — greedy vs pass@k across generations
#
# Each generation is measured on the pool twice: **pass@k** (`pool_solved_fraction`: a task counts when one
# of its k samples is valid) and **greedy** (`pool_greedy_solved_fraction`: the one most likely plan). The
# gap between them is the headroom curation can harvest: tasks the model *can* solve by sampling but does not
# solve by default. If the loop works as its story says, the next generation's greedy decoding recovers part
# of that gap. How much?

# %% tags=["exercise"]
def gap_closed(rows: list[dict]) -> dict[int, float | None]:
    """The share of generation g's pass@k headroom that generation g+1's greedy decoding recovers.

    Args:
        rows: one dict per generation of one run, in any order, each with ``"generation"`` (int),
            ``"pool_solved_fraction"`` (pass@k on the pool, in [0, 1]) and ``"pool_greedy_solved_fraction"``
            (greedy on the pool, in [0, 1]).

    Returns:
        ``{g: (greedy[g+1] - greedy[g]) / (pass_k[g] - greedy[g])}`` for every generation g whose next
        generation g+1 is also in ``rows``, in increasing g. The value is None when there is no headroom
        (``pass_k[g] <= greedy[g]``). It can be negative (greedy got worse) or above 1 (it gained more than
        the headroom).

    Raises:
        ValueError: two rows with the same generation.
    """
    ### BEGIN SOLUTION
    by_generation = {}
    for row in rows:
        if row["generation"] in by_generation:
            raise ValueError(f"generation {row['generation']} appears twice")
        by_generation[row["generation"]] = row
    out = {}
    for g in sorted(by_generation):
        if g + 1 not in by_generation:
            continue
        greedy, pass_k = by_generation[g]["pool_greedy_solved_fraction"], by_generation[g]["pool_solved_fraction"]
        headroom = pass_k - greedy
        nxt = by_generation[g + 1]["pool_greedy_solved_fraction"]
        out[g] = None if headroom <= 0 else (nxt - greedy) / headroom
    return out
    ### END SOLUTION


# %%
for experiment in ("blocksworld", "blocksworld-none"):
    rows = [r for r in fidelity if r["experiment"] == experiment and r["seed"] == 0]
    closed = gap_closed(rows)
    print(f"{experiment:17s} pass@k - greedy per generation:",
          " ".join(f"{r['pool_solved_fraction'] - r['pool_greedy_solved_fraction']:.2f}" for r in sorted(rows, key=lambda r: r["generation"])))
    print(f"{'':17s} share of the gap closed by the next greedy:",
          " ".join("-" if v is None else f"{v:.2f}" for v in closed.values()))

# %% [markdown]
# With `paper` curation (seed 0) the headroom is 3-7 points of the pool each generation, and the next
# generation's greedy decoding gains about as much or more (shares 1.58, 1.38, 1.12, 0.47, 0.92): the pool
# of shortest valid plans teaches more than the tasks it holds, and sampling keeps finding new tasks (the
# headroom shrinks only from .07 to .04). Without curation the greedy fraction barely moves (shares near 0).
# So the pass@k gap is not "exactly" what curation feeds back; it is a rough guide to the next step's gain,
# in one seed.
#
# ## Exercise 6 — collapse, with and without curation
#
# A loop that trains on its own outputs can **collapse**: quality rises, then falls as the model feeds on its
# own mistakes. The collapse experiment ran the default loop for 15 generations with `paper` curation and with
# `none` (`benchmarks/results/collapse.png`; the rows are in `fidelity.json` as `collapse` and `collapse-none`).

# %% tags=["exercise"]
def collapse_summary(solved: list[float]) -> dict:
    """Summarise a run's held-out solved fraction over generations: where it peaked and how far it fell.

    Args:
        solved: ``solved[g]`` is generation g's held-out solved fraction (g = 0, 1, ...).

    Returns:
        ``{"best_generation": g of the maximum (the first one if tied), "best": the maximum,
        "final": solved[-1], "drop": best - final (>= 0), "gain": final - solved[0]}``.

    Raises:
        ValueError: ``solved`` is empty.
    """
    ### BEGIN SOLUTION
    if not solved:
        raise ValueError("no generations")
    best = max(solved)
    return {"best_generation": solved.index(best), "best": best, "final": solved[-1], "drop": best - solved[-1],
            "gain": solved[-1] - solved[0]}
    ### END SOLUTION


# %%
for experiment in ("collapse", "collapse-none"):
    rows = sorted((r for r in fidelity if r["experiment"] == experiment), key=lambda r: r["generation"])
    if not rows:
        continue
    summary = collapse_summary([r["heldout_solved_fraction"] for r in rows])
    best, last = (outcomes_by_size(rows[g]["heldout_solved_by_size"], 25) for g in (summary["best_generation"], -1))
    low, high = difference_interval(best, last)
    print(f"{experiment:14s} best {summary['best']:.2f} at generation {summary['best_generation']}, final "
          f"{summary['final']:.2f} (generation {len(rows) - 1}), drop {summary['drop']:.2f} "
          f"[final - best: {low:+.2f}, {high:+.2f}], gain over generation 0 {summary['gain']:+.2f}")
collapse_png = next((p for p in (FIDELITY.parent / "collapse.png",) if p.is_file()), None) if FIDELITY else None
if collapse_png:
    from IPython.display import Image, display

    display(Image(filename=str(collapse_png)))

# %% [markdown]
# Neither run collapses within 15 generations at this size. With curation the held-out fraction rises to
# about .43 by generation 5 and then plateaus (the drop from its best is inside the interval of one-seed
# noise); without curation it stays at generation 0's level throughout, while the pool it trains on grows
# by 8,000 rows a generation. One seed, one domain, a 1.1 M-parameter model: "no collapse here" is what it
# supports, not "curation prevents collapse".

# %% [markdown]
# ## What you saw
#
# * One call, `run(RunConfig(...))`, runs deploy → validate → curate → fine-tune for every generation and
#   writes every intermediate result, resumable, under one folder; `metrics.csv` and `load_metrics` read it back.
# * At the tiny size the numbers move by whole tasks (0.25 per task per size) and say little. At full size
#   the default run raises the held-out solved fraction in all three seeds (.22 → .43, .32, .31), by an
#   amount that varies between seeds from +.09 to +.21; only seed 0's gain has a 95% interval over tasks
#   clear of 0 (an unpaired interval, so a conservative one). Seed 0
#   also doubles the pool tasks it solves (.25 → .50) and solves 8 of 25 9-block held-out tasks that
#   generation 0 never solves; seeds 1 and 2 solve 2 of them.
# * Training on every trace (`--curation none`, two seeds) gives no gain distinguishable from 0. Which part
#   of curation makes the difference — filtering invalid plans, the shortest-plan rule or the pool's size —
#   needs the equal-size control, not run here.
# * Over 15 more generations (the collapse experiment) curation plateaus instead of collapsing, and no
#   curation neither gains nor collapses within the intervals.
#
# Lab 07 relates the loop to policy-gradient reinforcement learning with the validator as the reward (and
# measures how the loop departs from it). Lab 08 asks what happens when the curator rewards something else as well.
