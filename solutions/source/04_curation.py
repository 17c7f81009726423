# %% [markdown]
# # Lab 04 — Curation: which traces the next generation learns from
#
# After deployment (Lab 03) every sampled plan carries the validator's verdict. **Curation** decides which of
# these traces the next **generation** is fine-tuned on. The paper's rule (Corrêa et al., arXiv 2512.24940,
# experimental setup) is short:
#
# > keep **valid** plans only; per **task**, keep the **shortest** valid plan (ties: the fewest tokens);
# > **pool** over all generations so far.
#
# It is not a neutral filter. Section 5 of the paper relates fine-tuning on the curated traces to REINFORCE
# with an *implicit* binary **reward** — 1 for a trace curation keeps, 0 otherwise (Lab 07). The derivation
# assumes a fixed reward R(x, y) of each trace alone; the paper's rule is not one — whether a valid plan is
# kept depends on the task's *other* samples (a shorter one wins) and on earlier generations — so the
# correspondence is approximate (lab 07, section 6, measures how far). Still, every curation policy acts
# as a reward, and changing the policy changes what the model is pushed towards. In this lab you:
#
# 1. implement the paper's rule and a no-pooling variant, and check them against `itdeploy_lite.curate`
#    (exercises 1 and 2);
# 2. compare what each policy keeps — `paper`, `none`, `latest`, `longest`, `random-valid` — on real traces;
# 3. curate by hand with the **curation widget**, and implement how its decisions file is read
#    (exercise 3), i.e. what `itdeploy run --curation manual --decisions FILE` trains on.
#
# A trace record (one sampled completion, stamped by the validator) looks like this:
#
# ```python
# {"generation": 0, "task_id": "blocksworld-train-b5p10-003", "sample_id": 2,
#  "prompt": "init: ...", "completion": "(pick-up b1)\n...</s>", "n_tokens": 31,
#  "valid": True, "plan_length": 6, "failed_step": None, "reason": None}
# ```
#
# *Run time, measured: about 18 s on a CPU, top to bottom (`pytest --nbmake`, one torch thread, on a
# 2-core machine shared with two other long jobs; expect less on a free laptop). The graded exercise cells
# alone load in a few seconds.*

# %% tags=["setup"]
from collections import defaultdict

# %%
import json
import time
from pathlib import Path

import pandas as pd
import torch

from itdeploy_lite.curate import POLICIES, curate, read_jsonl, to_dataset

torch.set_num_threads(1)  # one thread: on a CPU shared with other jobs a second one oversubscribes the cores


def rec(generation, task_id, sample_id, valid, plan_length, n_tokens):
    """A made-up trace record (prompt and completion are placeholders)."""
    return {"generation": generation, "task_id": task_id, "sample_id": sample_id, "prompt": f"<{task_id}>",
            "completion": f"<{plan_length} steps>", "n_tokens": n_tokens, "valid": valid, "plan_length": plan_length}


toy = [
    rec(0, "t1", 0, True, 6, 40), rec(0, "t1", 1, True, 4, 30), rec(0, "t1", 2, False, 2, 12),
    rec(0, "t2", 0, False, 3, 20), rec(0, "t2", 1, False, 5, 33),  # t2: no valid plan in generation 0
    rec(1, "t1", 0, True, 4, 28), rec(1, "t1", 1, True, 4, 28),  # t1: a tie on length, then on tokens
    rec(1, "t2", 0, True, 7, 45), rec(1, "t3", 0, True, 5, 35), rec(1, "t3", 1, True, 9, 60),
]
pd.DataFrame(toy).drop(columns=["prompt", "completion"])

# %% [markdown]
# **Exercise 1.** Implement the paper's rule. Note the short invalid plan of `t1` (2 steps): shorter is
# only better among *valid* plans.

# %% tags=["exercise"]
def curate_paper(records: list[dict], generation: int) -> list[dict]:
    """The paper's curation rule: per task, the shortest valid plan, pooled over generations ``0..generation``.

    Args:
        records: validated trace records, dicts with at least ``generation`` (int), ``task_id`` (str),
            ``sample_id`` (int), ``valid`` (bool), ``plan_length`` (int, steps) and ``n_tokens`` (int,
            completion tokens). Records of generations later than ``generation`` are ignored.
        generation: the latest generation whose traces may be used.

    Returns:
        One record per task that has at least one valid record in generations ``0..generation``: among them
        the one with the fewest plan steps; ties broken by the fewest tokens, then the earliest generation,
        then the lowest ``sample_id``. The same dict objects (not copies), sorted by ``task_id``. Tasks with
        no valid record are left out; no records give ``[]``.
    """
    ### BEGIN SOLUTION
    best: dict[str, dict] = {}
    for r in records:
        if not r["valid"] or r["generation"] > generation:
            continue
        key = (r["plan_length"], r["n_tokens"], r["generation"], r["sample_id"])
        current = best.get(r["task_id"])
        if current is None or key < (current["plan_length"], current["n_tokens"], current["generation"],
                                     current["sample_id"]):
            best[r["task_id"]] = r
    return [best[t] for t in sorted(best)]
    ### END SOLUTION


# %% [markdown]
# Check it against the package on the toy records, after generation 0 and after generation 1:

# %%
for g in (0, 1):
    mine = curate_paper(toy, g)
    theirs = curate(toy, "paper", generation=g)
    print(f"generation {g}:", [(r["task_id"], r["generation"], r["sample_id"]) for r in mine],
          "== package" if mine == theirs else f"!= package {[(r['task_id'], r['generation'], r['sample_id']) for r in theirs]}")

# %% [markdown]
# After generation 1, `t1`'s plan comes from generation 1 (4 steps in 28 tokens beats 4 steps in 30), and `t2`
# is finally solved. Pooling means a plan found once is never forgotten: the pool only grows or improves.
#
# **Exercise 2.** The `latest` policy is the same rule *without pooling*: it sees only the newest
# generation's traces.

# %% tags=["exercise"]
def curate_latest(records: list[dict], generation: int) -> list[dict]:
    """Like :func:`curate_paper`, but only over the traces of generation ``generation`` itself (no pooling).

    Args:
        records: validated trace records (as for :func:`curate_paper`), of any generations.
        generation: the one generation whose traces are used.

    Returns:
        Per task with a valid record in generation ``generation``: the shortest valid plan (ties: fewest
        tokens, then lowest ``sample_id``), the same dict objects, sorted by ``task_id``.
    """
    ### BEGIN SOLUTION
    return curate_paper([r for r in records if r["generation"] == generation], generation)
    ### END SOLUTION


# %%
for g in (0, 1):
    mine, theirs = curate_latest(toy, g), curate(toy, "latest", generation=g)
    print(f"generation {g}:", [(r["task_id"], r["generation"], r["sample_id"]) for r in mine],
          "== package" if mine == theirs else "!= package")

# %% [markdown]
# ## What each policy keeps, on real traces
#
# Now real traces: the embedded Blocksworld planner deployed on 15 tasks of 4–6 blocks, 6 samples each at the
# paper's temperature 0.6. A real generation 1 would be a fine-tuned model (Labs 05 and 06); to see pooling
# at work here, we stand in for it with a second deployment of the same model with another seed.

# %%
from itdeploy_lite.deploy import DeployConfig, as_tasks, deploy, validate_records
from itdeploy_lite.formats import CompactFormat
from itdeploy_lite.models import load_embedded
from itdeploy_lite.planning.generators import make_split
from itdeploy_lite.task_sets import LoopTask

model, tokenizer = load_embedded("blocksworld")
compact = CompactFormat.of_model(model, tokenizer)
problems = make_split("blocksworld", "train", per_size=5)  # 5 tasks each of 4, 5 and 6 blocks
tasks = as_tasks(problems)
loop_tasks = {tid: LoopTask(tid, tid.split("-")[2], t) for tid, t in tasks}
start = time.perf_counter()
records = []
for g in (0, 1):
    sampled = deploy(model, tokenizer, tasks, DeployConfig(samples_per_task=6, temperature=0.6, seed=10 + g),
                     generation=g, prompt_format=compact)
    records += validate_records(sampled, loop_tasks, compact)
print(f"{len(records)} traces in {time.perf_counter() - start:.1f} s; "
      f"{sum(r['valid'] for r in records)} valid")

# %%
assert curate_paper(records, 1) == curate(records, "paper", generation=1)
assert curate_latest(records, 1) == curate(records, "latest", generation=1)


def summary(selected: list[dict]) -> dict:
    valid = [r for r in selected if r["valid"]]
    return {
        "rows": len(selected),
        "tasks": len({r["task_id"] for r in selected}),
        "valid share": sum(r["valid"] for r in selected) / max(1, len(selected)),
        "mean plan length (valid)": sum(r["plan_length"] for r in valid) / max(1, len(valid)),
        "mean tokens": sum(r["n_tokens"] for r in selected) / max(1, len(selected)),
    }


policies = ["paper", "latest", "none", "longest", "random-valid"]
table = pd.DataFrame({p: summary(curate(records, p, generation=1, seed=0)) for p in policies}).T
table.astype({"rows": int, "tasks": int}).round(2)  # counts stay integers

# %% [markdown]
# Read the table as rewards. `none` keeps everything, invalid plans included (reward 1 for every trace:
# plain imitation of the model itself). `longest` and `random-valid` keep one valid plan per task but reward
# length, or nothing in particular. `latest` keeps the shortest valid plans of generation 1 only and so
# forgets tasks only generation 0 solved. `none` covers every task, solved or not; among the rules that keep
# only valid plans, `paper`, `longest` and `random-valid` tie on the number of tasks (one plan per task solved
# so far) and differ in which plan they keep — `paper` the shortest found so far.

# %%
import matplotlib.pyplot as plt

from collections import Counter

fig, ax = plt.subplots(figsize=(7, 3))
shown = ["paper", "longest", "random-valid"]
width = 0.8 / len(shown)
for i, p in enumerate(shown):  # side-by-side bars: one colour per policy, none hidden behind another
    counts = Counter(r["plan_length"] for r in curate(records, p, generation=1, seed=0))
    ax.bar([length + (i - 1) * width for length in counts], list(counts.values()), width=width, label=p)
ax.set_xticks(range(0, 20))  # plan lengths are whole steps
ax.set_xlabel("plan length of the kept plan (steps)")
ax.set_ylabel("tasks")
ax.legend()
plt.show()

# %% [markdown]
# ## Curating by hand: the curation widget
#
# A person can be the curator. `itdeploy_lite.widgets.CurationWidget` shows one trace at a time — the task
# drawn as towers of blocks, the plan with the validator's verdict and the first failing step highlighted, the
# final state — with *accept*, *reject* and *skip* buttons (keys `a`, `r`, `s`). Every click appends one line
# to the decisions file `lab04_run/decisions.jsonl` (beside this notebook) at once, so nothing is lost if the
# kernel restarts: re-running the notebook opens the widget where you stopped. (Delete the file to start
# over.) In Jupyter or Colab, the next cell shows the widget: **click through the twelve traces** — accept the
# plans you would train on, reject the others.

# %%
from itdeploy_lite.widgets import CurationWidget

workdir = Path("lab04_run")  # beside the notebook, kept between runs
decisions_path = workdir / "decisions.jsonl"
few = [r for r in records if r["task_id"] in {tasks[0][0], tasks[8][0]} and r["sample_id"] < 3]
widget = CurationWidget(records=few, tasks=dict(tasks), decisions_path=decisions_path)
widget

# %% [markdown]
# Your clicks are what the rest of the lab uses. To see the lab through without clicking (CI does this: it
# cannot click), set `DEMO = True`: a scripted curator then decides **only the traces you left undecided** —
# it accepts valid plans of at most 6 steps and rejects invalid ones — through the widget's own `accept` and
# `reject` methods, so your decisions are never overwritten.

# %%
import os

DEMO = os.environ.get("ITDEPLOY_LAB_DEMO") == "1"  # set True to let the script fill in what you left undecided
if DEMO:
    for i, r in enumerate(few):
        if widget.decision(i) is None and (not r["valid"] or r["plan_length"] <= 6):
            widget.go(i)
            widget.accept() if r["valid"] else widget.reject()
print(widget.progress())
print(decisions_path.read_text() if decisions_path.exists() else "no decisions yet: click in the widget above")

# %% [markdown]
# **Exercise 3.** What does `--curation manual` train on? Implement how a decisions file is read. (The file
# is JSON lines; `itdeploy_lite.curate.read_jsonl` turns it into a list of dicts, in file order.)

# %% tags=["exercise"]
def apply_decisions(records: list[dict], decisions: list[dict], generation: int) -> list[dict]:
    """The traces a person accepted: the ``manual`` curation policy.

    Args:
        records: trace records (``generation``, ``task_id``, ``sample_id`` at least), of any generations;
            only those of generations ``0..generation`` can be selected.
        decisions: the decisions file's lines in file order, each ``{"task_id": str, "sample_id": int,
            "decision": "accept" | "reject"}`` and optionally ``"generation": int``.
        generation: the latest generation whose traces may be used.

    Rules:
        * A decision with a ``generation`` key applies to the trace ``(generation, task_id, sample_id)``; a
          decision without one applies to that ``task_id`` and ``sample_id`` in every generation
          ``0..generation``.
        * Decisions about generations later than ``generation`` are ignored (not deployed yet).
        * For each trace, the last decision about it wins. Traces without a decision are not selected.

    Returns:
        The records whose last decision is ``"accept"`` (same dict objects), sorted by
        ``(generation, task_id, sample_id)``.

    Raises:
        ValueError: a decision other than ``"accept"`` / ``"reject"``, or a decision (not ignored by the rule
            above) that names no trace among the records of generations ``0..generation``.
    """
    ### BEGIN SOLUTION
    known = defaultdict(list)  # (task_id, sample_id) -> records of generations 0..generation
    for r in records:
        if r["generation"] <= generation:
            known[(r["task_id"], r["sample_id"])].append(r)
    verdict = {}
    for d in decisions:
        if d["decision"] not in ("accept", "reject"):
            raise ValueError(f"decision must be 'accept' or 'reject', got {d['decision']!r}")
        gen = d.get("generation")
        if gen is not None and gen > generation:
            continue
        hits = [r for r in known[(d["task_id"], d["sample_id"])] if gen is None or r["generation"] == gen]
        if not hits:
            raise ValueError(f"no trace task_id={d['task_id']!r} sample_id={d['sample_id']!r} generation={gen}")
        for r in hits:
            verdict[(r["generation"], r["task_id"], r["sample_id"])] = (d["decision"] == "accept", r)
    return [r for key, (ok, r) in sorted(verdict.items(), key=lambda item: item[0]) if ok]
    ### END SOLUTION


# %%
decisions = read_jsonl(decisions_path) if decisions_path.exists() else []  # your decisions
mine = apply_decisions(few, decisions, generation=1)
theirs = curate(few, "manual", generation=1, decisions=decisions_path) if decisions else []
print([(r["generation"], r["task_id"][-8:], r["sample_id"], r["plan_length"]) for r in mine])
print("same selection as the package's manual policy:", mine == theirs)

# %% [markdown]
# The same file drives a whole run: `itdeploy run --curation manual --decisions decisions.jsonl` (the loop
# calls `curate(records, "manual", generation, decisions=...)` before each fine-tuning). Whatever the policy,
# what reaches the trainer is a dataset of `{"prompt", "completion"}` rows — TRL's prompt-completion format,
# with the loss on the completion only (Lab 05):

# %%
dataset = to_dataset(curate(records, "paper", generation=1))
print(dataset)
print(dataset[0]["prompt"] + dataset[0]["completion"])

# %% [markdown]
# ## What you saw
#
# * The paper's rule is three choices: valid only, shortest per task (ties: fewest tokens), pooled over
#   generations. Each one matters: dropping validity (`none`) trains on broken plans; dropping pooling
#   (`latest`) forgets solved tasks; preferring other plans (`longest`, `random-valid`) rewards other things.
# * A curation policy is a reward function in disguise. Lab 07 makes this exact: SFT on the curated traces is
#   REINFORCE with reward 1 for the kept traces. A curator — a script or a person with the widget — who
#   prefers something beyond validity quietly trains the model towards it (Lab 08, safety).
# * A person's decisions are one append-only JSONL file; the last decision about a trace wins.
