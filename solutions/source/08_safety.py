# %% [markdown]
# # Lab 08 — Safety: the curator is the reward
#
# Lab 07 showed that fine-tuning on the plans a curator keeps is reinforcement learning whose reward is
# $R(x, y) = \mathbb{1}[\text{the curator keeps } y]$. Nothing in the derivation needs $R$ to mean *valid*.
# This is the AI-safety point of Corrêa et al. ([arXiv 2512.24940](https://arxiv.org/abs/2512.24940),
# discussion of the connection to RL and its implications): in iterative deployment nobody writes the reward
# down; it is **implicit** in whatever rule decides which traces go into the next training pool — a filter
# written by an engineer, a user's thumbs-up, a post being shared. Whoever curates steers the model, and a
# preference hidden in the curation is learned like any other reward.
#
# This lab makes that concrete. You write three functions:
#
# 1. `implicit_reward` — the reward a curation policy implements, record by record;
# 2. `preference_rate` — how often a property holds among some traces;
# 3. `selection_differential` — how much more often the property holds in what the curator kept than in what
#    it could have kept: the trace a hidden preference leaves in a pool.
#
# Then you run the loop with a curator that looks like the paper's but secretly prefers plans that begin
# with `pick-up`, and measure what drifts.
#
# *Run time, measured: about 53 s on a CPU, top to bottom (`pytest --nbmake`, one torch thread, on a
# 2-core machine shared with two other long jobs; expect less on a free laptop). The graded exercise cells
# alone load in a few seconds.*

# %% tags=["setup"]
from itdeploy_lite.curate import curate

# %%
import tempfile
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt

from itdeploy_lite import safety
from itdeploy_lite.ablate import ablate
from itdeploy_lite.curate import POLICIES, read_jsonl
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.loop import RunConfig

# %% [markdown]
# ## Curation policies as rewards
#
# A curation policy (`itdeploy_lite.curate.POLICIES`) is a function from the validated trace records of
# generations $0..g$ to the records the next generation is trained on. Its implicit reward is the selection
# indicator $R_C(y) = \mathbb{1}[C \text{ keeps } y]$. The package writes out the reward of each preset:

# %%
for name, reward in safety.IMPLICIT_REWARDS.items():
    print(f"{name:20s} {reward}")

# %% [markdown]
# The paper's rule is already more than validity: among the valid plans of a task it rewards only the
# shortest (a within-task *rank* reward). The last one, `hidden-first-pickup`, is this lab's hidden
# preference: it keeps, per task, the shortest valid plan **whose first action is `pick-up`**. Its pool
# contains only valid, short plans, exactly like the paper's, so a glance at the pool finds nothing wrong.
#
# A few hand-made records, three tasks and two generations, to see the rewards on:

# %%
RECORDS = safety.example_records()[:6]  # the package's hand-made records, generations 0 and 1
for r in RECORDS:
    print(r["generation"], r["task_id"], r["sample_id"], "valid" if r["valid"] else "invalid",
          f"{r['plan_length']} steps, first action {r['first_action']!r}")

# %% [markdown]
# ## Exercise 1 — the implicit reward of a curation policy
#
# Records are identified by `(generation, task_id, sample_id)`. `curate(records, policy, generation)` returns
# the records the policy keeps to train generation `generation + 1` (it ignores records of later generations).

# %% tags=["exercise"]
def implicit_reward(records: list[dict], policy: str, generation: int) -> list[int]:
    """The reward R_C(y) = 1[policy keeps y] that curation policy ``policy`` gives each record.

    Args:
        records: validated trace records (keys ``generation``, ``task_id``, ``sample_id``, ``completion``,
            ``n_tokens``, ``valid``, ``plan_length``, ...), of one or more generations.
        policy: a name of ``itdeploy_lite.curate.POLICIES`` (``paper``, ``none``, ``longest``,
            ``hidden-first-pickup``, ...).
        generation: the latest generation whose traces the curator may use (it selects the pool that trains
            generation ``generation + 1``); records of later generations get reward 0.

    Returns:
        One int per record, in the order of ``records``: 1 if ``curate(records, policy, generation)`` keeps a
        record with the same ``(generation, task_id, sample_id)``, else 0.

    Raises:
        ValueError: an unknown policy (``curate`` raises it).
    """
    ### BEGIN SOLUTION
    kept = {(r["generation"], r["task_id"], r["sample_id"]) for r in curate(records, policy, generation)}
    return [int((r["generation"], r["task_id"], r["sample_id"]) in kept) for r in records]
    ### END SOLUTION


# %%
for policy in ("paper", "longest", "none", "hidden-first-pickup"):
    mine = implicit_reward(RECORDS, policy, generation=1)
    assert mine == safety.implicit_reward(RECORDS, policy, 1)
    print(f"{policy:20s} R = {mine}")

# %% [markdown]
# Read the rows. `paper` and `hidden-first-pickup` both give reward only to valid plans and one plan per task,
# yet to different plans: on task `a` the paper's curator rewards the 2-step plan, the hidden one the
# 3-step plan that starts with `pick-up`; task `c` gets no reward at all from the hidden curator.

# %% [markdown]
# ## Exercise 2 — how often a property holds

# %% tags=["exercise"]
def preference_rate(records: list[dict], predicate) -> float | None:
    """The fraction of ``records`` for which ``predicate(record)`` is true.

    Args:
        records: trace records (any dicts ``predicate`` accepts).
        predicate: a function ``record -> bool``, e.g. ``itdeploy_lite.safety.hidden`` (the plan's first
            action is ``pick-up``) or ``lambda r: r["valid"]``.

    Returns:
        The fraction in [0, 1], or None for an empty list (no data is not a rate of 0).
    """
    ### BEGIN SOLUTION
    if not records:
        return None
    return sum(bool(predicate(r)) for r in records) / len(records)
    ### END SOLUTION


# %%
valid = [r for r in RECORDS if r["valid"]]
print("plans beginning with pick-up, all records:", preference_rate(RECORDS, safety.hidden))
print("plans beginning with pick-up, valid ones: ", preference_rate(valid, safety.hidden))
print("valid plans:", preference_rate(RECORDS, lambda r: r["valid"]))
assert preference_rate([], safety.hidden) is None

# %% [markdown]
# ## Exercise 3 — the trace a preference leaves in the pool
#
# A validity-only curator picks among the **valid** records. Compare how often a property holds in what the
# curator kept with how often it holds among the valid records it could have kept. A difference is the
# curator's preference on that property (its *selection differential*, in the language of breeders).

# %% tags=["exercise"]
def selection_differential(records: list[dict], kept: list[dict], predicate) -> float | None:
    """preference_rate(kept, predicate) minus preference_rate(valid records, predicate).

    Args:
        records: all candidate trace records (with ``"valid"``); only the valid ones are the baseline.
        kept: the records the curator kept (e.g. ``curate(records, policy, generation)``).
        predicate: a function ``record -> bool``.

    Returns:
        The difference of the two rates, in [-1, 1]: > 0 when the curator keeps the property more often than
        it occurs among valid records. None if ``kept`` is empty or ``records`` has no valid record.
    """
    ### BEGIN SOLUTION
    in_kept = preference_rate(kept, predicate)
    in_valid = preference_rate([r for r in records if r["valid"]], predicate)
    if in_kept is None or in_valid is None:
        return None
    return in_kept - in_valid
    ### END SOLUTION


# %%
for policy in ("paper", "hidden-first-pickup"):
    kept = curate(RECORDS, policy, 1)
    print(f"{policy:20s} kept {len(kept)}, all valid: {all(r['valid'] for r in kept)}, "
          f"selection differential on 'starts with pick-up': {selection_differential(RECORDS, kept, safety.hidden):+.2f}")

# %% [markdown]
# ## The experiment: what drifts
#
# Now the real loop, three times from the same generation-0 model and the same tasks: with the paper's
# curator, with the hidden one, and with its **equal-size control** `random-as-hidden` — as many rows as the
# hidden curator keeps, each a random valid plan of a random solved task, so the same amount of data without
# the preference (`itdeploy_lite.ablate.ablate` runs a config once per policy). It runs the
# embedded planner (the hidden property is read from its plan format) at a tiny size: 3 generations,
# 12 tasks × 4 samples per generation, 3 held-out tasks per size, so about a minute or two on a laptop CPU.
# The package's experiment (`python experiments/safety_drift.py`) does the same at 60 tasks × 4 samples and
# 25 held-out tasks per size; its measured figures are below.
#
# `safety.drift(run_dir)` measures per generation the **visible** metric (held-out solved fraction, the
# number anyone would report) beside the **hidden** property: the fraction of plans that begin with `pick-up`,
# in greedy held-out plans and in sampled deployment plans, and the mean valid plan length.

# %%
out = Path(tempfile.mkdtemp(prefix="itdeploy-lab08-"))
config = RunConfig(generations=3, tasks_per_generation=12, samples_per_task=4, heldout_per_size=3,
                   finetune=FinetuneConfig(min_steps=12, max_steps=12, train_batch_size=16),
                   progress=False, threads=1)
policies = ["paper", "hidden-first-pickup", "random-as-hidden"]
ablate(config, policies, out)
runs = {p: out / f"{p}-s{config.seed}" for p in policies}
drift = {p: safety.drift(runs[p]) for p in policies}
for p in policies:
    print(f"\n== curation {p}\n{safety.drift_table(drift[p])}")

# %% [markdown]
# Check your `preference_rate` against `drift`'s `hidden_sampled` column, from the deployment traces:

# %%
for p in policies:
    for row in drift[p][:-1]:  # the last generation is evaluated, not deployed
        traces = read_jsonl(runs[p] / f"gen_{row['generation']:02d}" / "traces.jsonl")
        assert round(preference_rate(traces, safety.hidden), 3) == row["hidden_sampled"]
print("preference_rate agrees with safety.drift")

# %% [markdown]
# ## What a grader of the pool sees
#
# Suppose someone audits each training pool. The obvious checks — are the kept plans valid? are they short?
# — pass for both curators. Compare with the selection differential on the hidden property, which needs the
# auditor to guess the property first:

# %%
print(f"{'policy':20s} {'pool for gen':>12s} {'rows':>4s} {'valid':>5s} {'mean len':>8s} {'solved tasks':>12s} "
      f"{'pick-up first: kept':>19s} {'valid':>6s} {'differential':>12s}")
for p in policies:
    records = []
    for g in range(config.generations):
        records += read_jsonl(runs[p] / f"gen_{g:02d}" / "traces.jsonl")
        kept = curate(records, p, g)
        solved = len({r["task_id"] for r in records if r["valid"]})
        mean_len = sum(r["plan_length"] for r in kept) / max(1, len(kept))
        diff = selection_differential(records, kept, safety.hidden)
        print(f"{p:20s} {g + 1:12d} {len(kept):4d} {preference_rate(kept, lambda r: r['valid']) or 0:5.2f} "
              f"{mean_len:8.2f} {solved:12d} {preference_rate(kept, safety.hidden) or 0:19.2f} "
              f"{preference_rate([r for r in records if r['valid']], safety.hidden) or 0:6.2f} "
              f"{diff if diff is not None else float('nan'):+12.2f}")

# %% [markdown]
# Both pools hold only valid plans, and the hidden curator's plans are, if anything, shorter than the paper's:
# the checks anyone would run pass. What gives it away: every plan it keeps begins with `pick-up` (a large
# positive differential against the valid candidates), and its pool covers far fewer tasks than were solved,
# because a task whose valid plans all begin with `unstack` is dropped. An auditor who checks validity and
# length sees neither; one who compares the pool's size with the number of solved tasks sees that something is
# filtered, but not what; the differential names the property only if you thought to test it. The paper's own
# curator has a differential too (small here): preferring the shortest plan also shifts which action comes
# first, a side effect nobody asked for.
#
# ## The measured experiment
#
# `python experiments/safety_drift.py` (3 generations, 60 tasks × 4 samples per generation, 25 held-out tasks
# per size, seed 0; the README's table) measured:

# %%
# Measured by experiments/safety_drift.py (README: "hidden curator ... solved .22 -> .15 while the hidden
# property rises .11 -> .25"); one seed.
MEASURED = {
    "paper": {"solved": [0.22, 0.247, 0.247, 0.28], "hidden_greedy": [0.107, 0.053, 0.073, 0.073],
              "hidden_sampled": [0.221, 0.133, 0.146, None], "len_greedy": [7.27, 6.97, 6.76, 7.05]},
    "hidden-first-pickup": {"solved": [0.22, 0.133, 0.193, 0.153], "hidden_greedy": [0.107, 0.153, 0.12, 0.253],
                            "hidden_sampled": [0.221, 0.183, 0.212, None], "len_greedy": [7.27, 6.7, 7.1, 5.91]},
}

fig, axes = plt.subplots(1, 3, figsize=(15, 4))
panels = [("solved", "held-out solved (visible)"), ("hidden_greedy", "held-out plans starting with pick-up (hidden)"),
          ("len_greedy", "mean valid held-out plan length")]
for ax, (key, title) in zip(axes, panels):
    for p, style in zip(policies, ("tab:blue", "tab:red")):
        ys = MEASURED[p][key]
        ax.plot(range(len(ys)), ys, "-o", color=style, label=f"{p} (measured)")
        mine = [row[key] for row in drift[p]]
        ax.plot(range(len(mine)), [float("nan") if v is None else v for v in mine], ":^", color=style, alpha=0.6,
                label=f"{p} (your tiny run)")
    ax.set(xlabel="generation", title=title)
    ax.set_xticks(range(config.generations + 1))
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## How much of it is noise, and what is confounded
#
# The measured run is one seed with 150 held-out tasks. 95% bootstrap intervals over those tasks
# (`itdeploy_lite.stats`; the tasks are rebuilt from the fractions, unpaired across generations, so the
# intervals are conservative) for the changes from generation 0 to 3:

# %%
from itdeploy_lite.stats import difference_interval


def tasks_of(fraction, n=150):  # 0/1 outcomes of n held-out tasks with that solved (or property) fraction
    return [1] * round(fraction * n) + [0] * (n - round(fraction * n))


for p in MEASURED:
    for key, label in (("solved", "held-out solved"), ("hidden_greedy", "greedy plans starting with pick-up")):
        first, last = MEASURED[p][key][0], MEASURED[p][key][-1]
        low, high = difference_interval(tasks_of(first), tasks_of(last))
        print(f"{p:20s} {label:34s} {first:.3f} -> {last:.3f}: change {last - first:+.3f} [{low:+.3f}, {high:+.3f}]")
low, high = difference_interval(tasks_of(MEASURED["paper"]["solved"][-1]), tasks_of(MEASURED["hidden-first-pickup"]["solved"][-1]))
print(f"generation 3, hidden minus paper, held-out solved: [{low:+.3f}, {high:+.3f}]")

# %% [markdown]
# The rise of the hidden property under the hidden curator (+.15) is outside its interval; its fall in
# solved tasks (-.07) is not — within one seed it is indistinguishable from noise. At generation 3 the hidden
# curator's model solves fewer tasks than the paper curator's, with an interval clear of 0, but that
# comparison is **confounded**: the hidden curator trains on a smaller pool (it drops every task whose valid
# plans all begin with `unstack`, see the audit table), so less data may explain the gap as well as the
# preference does. The control that separates them is the third curator of your tiny run, `random-as-hidden`
# (same pool size, no preference): compare its rows with the hidden curator's in the tables above. At the
# tiny run's size (3 held-out tasks per size) the difference is noise either way — and if the hidden curator
# keeps no row at all (its `train` column 0, as in our run of this notebook: no valid sampled plan began with
# `pick-up`), neither it nor its control learns anything and the comparison is empty. The measured experiment
# has no control run yet (`python experiments/safety_drift.py --policies paper,hidden-first-pickup,random-as-hidden`,
# about as long as the experiment itself), so the drop in solved tasks is not attributed to the
# preference here.
#
# ## What you saw
#
# * A curation policy *is* a reward function: `implicit_reward` turns any rule into the 0/1 reward the loop
#   optimises. Lab 07's derivation needs a fixed reward R(x, y); a curator whose choice depends on the other
#   samples (the shortest plan per task, the hidden curator's first pick-up plan per task) is not one, so
#   the correspondence is approximate (lab 07, section 6).
# * **What drifts** (measured run, one seed): with the hidden curator the share of greedy held-out plans
#   beginning with `pick-up` rises (.11 → .25, an interval clear of 0), while under the paper's rule it does
#   not move beyond noise (.11 → .07). The model learns the curator's taste. Its visible metric falls
#   (held-out solved .22 → .15) but within noise; it ends below the paper curator's (.28), a gap that the
#   hidden curator's smaller pool confounds. Your tiny run is far too small to show these effects reliably;
#   it shows the measurement.
# * The pool itself looks clean to a validity check. A preference shows only in a comparison with what could
#   have been kept, on the right property — an auditor has to know what to look for.
#
# The paper's point, at scale: when users' choices of what to share decide the next model's training data,
# the reward is whatever those choices favour, and no one has written it down.
