# %% [markdown]
# # Lab 05 — Fine-tuning the next generation: LoRA, 4-bit, Unsloth
#
# The last step of one round of iterative deployment: the next **generation** is fine-tuned on the curated
# traces (Lab 04). The paper (Corrêa et al., arXiv 2512.24940, experimental setup) fine-tunes
# Qwen3-4B-Thinking with **LoRA** (rank r = 16, alpha = 32, dropout 0.05, on all linear projections), AdamW at
# learning rate 1e-5 for 2 epochs, with the base weights loaded in **4-bit** (QLoRA) through **Unsloth**, and
# retrains a fresh adapter from the base model every generation on the whole pool. The package keeps these
# settings as the preset `paper`:
#
# *Run time, measured: about 25 s on a CPU, top to bottom (`pytest --nbmake`, one torch thread, on a
# 2-core machine shared with two other long jobs; expect less on a free laptop). The graded exercise cells
# alone load in a few seconds.*

# %% tags=["setup"]
import torch
import torch.nn.functional as F

# %%
import tempfile
import time
from pathlib import Path

from itdeploy_lite.llm import get_preset

torch.set_num_threads(1)  # one thread: on a CPU shared with other jobs a second one oversubscribes the cores
try:
    from itdeploy_lite.backends import default_choice

    choice = default_choice()
except ImportError:  # an older itdeploy_lite: the embedded model
    choice = {"backend": "hf", "model": "", "load_in_4bit": False, "preset": ""}
print("this machine's backend:", choice)
if choice["backend"] == "unsloth":  # a GPU: Unsloth patches transformers and TRL, so it is imported first
    import unsloth  # noqa: F401
get_preset("paper")

# %% [markdown]
# On a CPU we fine-tune the project's 1.1 M-parameter embedded planner instead, with the package's
# `itdeploy_lite.finetune` (TRL's `SFTTrainer` + PEFT's LoRA, the code the loop runs). The last sections load
# it in 4-bit and run Unsloth's recipe, which falls back to the CPU when there is no GPU; a cell tagged `gpu`
# runs the paper's recipe on Qwen3 when there is one.
#
# ## 1. LoRA: how many parameters are trained?
#
# LoRA freezes a pretrained weight matrix $W \in \mathbb{R}^{d_\text{out} \times d_\text{in}}$ and learns a
# low-rank update: $W x + \frac{\alpha}{r} B A x$ with $A \in \mathbb{R}^{r \times d_\text{in}}$ and
# $B \in \mathbb{R}^{d_\text{out} \times r}$ ($B$ starts at zero, so training starts from the base model).
#
# **Exercise 1.** Count the trainable parameters of LoRA on every linear projection of a Llama-style model
# (what PEFT's `target_modules="all-linear"` adapts: attention `q, k, v, o` and MLP `gate, up, down`; not the
# embeddings or the output head).

# %% tags=["exercise"]
def lora_parameter_count(d_in: int, d_out: int, r: int) -> int:
    """Trainable parameters of a LoRA adapter of rank ``r`` on one ``d_in -> d_out`` linear layer (no bias).

    Returns:
        The number of entries of ``A`` (``r x d_in``) and ``B`` (``d_out x r``).
    """
    ### BEGIN SOLUTION
    return r * (d_in + d_out)
    ### END SOLUTION


def llama_lora_parameters(config, r: int) -> int:
    """Trainable parameters of rank-``r`` LoRA on all linear projections of a Llama-style decoder.

    Args:
        config: a model config (``transformers.LlamaConfig``, ``Qwen3Config``, ...) or any object with the
            attributes ``hidden_size``, ``intermediate_size``, ``num_hidden_layers``, ``num_attention_heads``,
            and optionally ``num_key_value_heads`` (default: ``num_attention_heads``) and ``head_dim``
            (default, also when it is ``None``: ``hidden_size // num_attention_heads``).
        r: the LoRA rank.

    Returns:
        The sum over the ``num_hidden_layers`` blocks of :func:`lora_parameter_count` for each projection:
        ``q_proj``: hidden -> heads x head_dim; ``k_proj`` and ``v_proj``: hidden -> kv_heads x head_dim
        (grouped-query attention); ``o_proj``: heads x head_dim -> hidden; ``gate_proj`` and ``up_proj``:
        hidden -> intermediate; ``down_proj``: intermediate -> hidden.
    """
    ### BEGIN SOLUTION
    hidden, inter = config.hidden_size, config.intermediate_size
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    per_layer = (
        lora_parameter_count(hidden, heads * head_dim, r)
        + 2 * lora_parameter_count(hidden, kv_heads * head_dim, r)
        + lora_parameter_count(heads * head_dim, hidden, r)
        + 2 * lora_parameter_count(hidden, inter, r)
        + lora_parameter_count(inter, hidden, r)
    )
    return config.num_hidden_layers * per_layer
    ### END SOLUTION


# %% [markdown]
# Check against PEFT on three models: the embedded planner, SmolLM2-135M and the paper's Qwen3-4B. The last
# two are built on PyTorch's `meta` device — shapes only, no memory, no download.

# %%
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM, Qwen3Config

from itdeploy_lite.models import embedded_dir

configs = {
    "embedded blocksworld": AutoConfig.from_pretrained(embedded_dir("blocksworld")),
    "SmolLM2-135M": AutoConfig.for_model("llama", hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                                         num_attention_heads=9, num_key_value_heads=3, vocab_size=49152,
                                         tie_word_embeddings=True),
    "Qwen3-4B": Qwen3Config(hidden_size=2560, intermediate_size=9728, num_hidden_layers=36, num_attention_heads=32,
                            num_key_value_heads=8, head_dim=128, vocab_size=151936, tie_word_embeddings=True),
}
for name, config in configs.items():
    with torch.device("meta"):
        shell = AutoModelForCausalLM.from_config(config)
    total = sum(p.numel() for p in shell.parameters())
    peft_model = get_peft_model(shell, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    mine = llama_lora_parameters(config, 16)
    print(f"{name:22s} {total:>13,} parameters; LoRA r=16 trains {mine:>11,} ({mine / total:6.2%})",
          "== PEFT" if mine == trainable else f"!= PEFT {trainable:,}")

# %% [markdown]
# On the 4 B model LoRA trains under 1% of the weights; the frozen base can then be stored in 4 bits.
# On the tiny embedded model LoRA with r = 16 is a large share (its hidden size is only 128): there, it is
# less a memory saving than a way to keep every generation close to the base model.
#
# ## 2. Training rows: the loss is on the completion only
#
# The curated pool (Lab 04) is a dataset of `{"prompt", "completion"}` rows. TRL's `SFTTrainer` trains on the
# prompt followed by the completion, with the loss only on the completion's tokens: the model should learn to
# *write plans*, not to predict the tasks it is given. Let us make a pool: deploy the embedded model on
# 18 tasks of 4–6 blocks and curate with the paper's rule.

# %%
from itdeploy_lite.curate import curate, to_dataset
from itdeploy_lite.deploy import DeployConfig, as_tasks, deploy, evaluate, validate_records
from itdeploy_lite.formats import CompactFormat
from itdeploy_lite.models import load_embedded
from itdeploy_lite.planning.generators import make_split
from itdeploy_lite.task_sets import LoopTask

base = embedded_dir("blocksworld")
model, tokenizer = load_embedded(base)
compact = CompactFormat.of_model(model, tokenizer)
tasks = as_tasks(make_split("blocksworld", "train", per_size=6))
records = deploy(model, tokenizer, tasks, DeployConfig(samples_per_task=4, temperature=0.6, seed=0), prompt_format=compact)
records = validate_records(records, {tid: LoopTask(tid, tid.split("-")[2], t) for tid, t in tasks}, compact)
pool = to_dataset(curate(records, "paper", generation=0))
print(f"{sum(r['valid'] for r in records)} valid of {len(records)} samples; the pool has {len(pool)} rows")
print(pool[0]["prompt"] + pool[0]["completion"])

# %% [markdown]
# **Exercise 2.** Build one training example the way TRL does for a prompt-completion row: the prompt's
# tokens followed by the completion's tokens, with labels `-100` (PyTorch's "ignore" index) on the prompt.

# %% tags=["exercise"]
IGNORE = -100


def completion_labels(prompt_ids: list[int], completion_ids: list[int], max_length: int | None = None) -> dict | None:
    """One training example with the loss on the completion only.

    Args:
        prompt_ids: the prompt's token ids.
        completion_ids: the completion's token ids (ending with the end token).
        max_length: keep at most this many tokens of the concatenation, cutting at the end (as TRL's
            ``SFTConfig.max_length`` truncates); ``None``: no limit.

    Returns:
        ``{"input_ids": prompt_ids + completion_ids, "labels": [IGNORE] * len(prompt_ids) + completion_ids}``
        (both plain lists, both truncated to ``max_length``), or ``None`` if truncation leaves no completion
        token (TRL drops such rows: they would contribute no loss).
    """
    ### BEGIN SOLUTION
    input_ids = list(prompt_ids) + list(completion_ids)
    labels = [IGNORE] * len(prompt_ids) + list(completion_ids)
    if max_length is not None:
        input_ids, labels = input_ids[:max_length], labels[:max_length]
    if all(label == IGNORE for label in labels):
        return None
    return {"input_ids": input_ids, "labels": labels}
    ### END SOLUTION


# %% [markdown]
# Check against what TRL's `SFTTrainer` prepares from the same pool (its tokenized dataset holds `input_ids`
# and `labels`):

# %%
from trl import SFTConfig, SFTTrainer

workdir = Path(tempfile.mkdtemp(prefix="lab05-"))
trainer = SFTTrainer(
    model=get_peft_model(load_embedded(base)[0], LoraConfig(r=16, lora_alpha=32, target_modules="all-linear")),
    args=SFTConfig(output_dir=str(workdir / "trl"), max_length=64, use_cpu=True, report_to=[]),
    train_dataset=pool, processing_class=tokenizer)
ours = [completion_labels(tokenizer(row["prompt"], add_special_tokens=False)["input_ids"],
                          tokenizer(row["completion"], add_special_tokens=False)["input_ids"], max_length=64)
        for row in pool]
trl_rows = [{"input_ids": prepared["input_ids"], "labels": prepared["labels"]} for prepared in trainer.train_dataset]
print(f"max_length 64: {sum(o is None for o in ours)} of {len(pool)} rows lose their whole completion and are dropped;",
      "the rest equal TRL's:", [o for o in ours if o is not None] == trl_rows)
p = tokenizer(pool[0]["prompt"], add_special_tokens=False)["input_ids"]
c = tokenizer(pool[0]["completion"], add_special_tokens=False)["input_ids"]
example = completion_labels(p, c)
print(len(p), "prompt tokens (no loss),", len(c), "completion tokens (loss); labels around the boundary:",
      example["labels"][len(p) - 3 : len(p) + 6], "...")

# %% [markdown]
# Note the dropped rows: a `max_length` shorter than a prompt leaves no completion token to learn from, and TRL
# silently drops the row — the pool shrinks without an error. The package's `FinetuneConfig.max_length` is 768.
#
# **Exercise 3.** The loss itself. A causal LM's output at position *t* is a distribution over the token at
# position *t + 1*: the logits and the labels are compared *shifted by one*. The training loss is the mean
# cross-entropy over the positions whose label is not ignored.

# %% tags=["exercise"]
def completion_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over the labelled positions (nats per completion token).

    Args:
        logits: ``(batch, seq, vocab)`` float tensor, the model's output on ``input_ids``.
        labels: ``(batch, seq)`` long tensor: the token ids, ``IGNORE`` (-100) where there is no loss
            (prompt tokens, padding).

    Returns:
        A scalar tensor: the mean over all pairs ``(b, t)`` with ``labels[b, t + 1] != IGNORE`` of
        ``-log softmax(logits[b, t])[labels[b, t + 1]]`` — the loss ``model(input_ids, labels=labels).loss``
        of a Hugging Face causal LM. (The last position predicts nothing; the first label is never predicted.)
    """
    ### BEGIN SOLUTION
    shifted_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1]).float()
    shifted_labels = labels[:, 1:].reshape(-1)
    return F.cross_entropy(shifted_logits, shifted_labels, ignore_index=IGNORE, reduction="mean")
    ### END SOLUTION


# %%
def pool_loss(model, rows) -> float:
    """The base or fine-tuned model's completion loss on the rows, with our two functions."""
    total, count = 0.0, 0
    for row in rows:
        example = completion_labels(tokenizer(row["prompt"], add_special_tokens=False)["input_ids"],
                                    tokenizer(row["completion"], add_special_tokens=False)["input_ids"])
        ids, labels = torch.tensor([example["input_ids"]]), torch.tensor([example["labels"]])
        with torch.no_grad():
            loss = completion_loss(model(input_ids=ids).logits, labels)
        n = sum(label != IGNORE for label in example["labels"][1:])
        total, count = total + loss.item() * n, count + n
    return total / count


ids, labels = torch.tensor([example["input_ids"]]), torch.tensor([example["labels"]])
with torch.no_grad():
    out = model(input_ids=ids, labels=labels)
print(f"ours {completion_loss(out.logits, labels).item():.6f}, transformers {out.loss.item():.6f}")
before = pool_loss(model, pool)
print(f"the base model's completion loss on the pool: {before:.4f} nats per token")

# %% [markdown]
# ## 3. Fine-tuning: one generation
#
# `itdeploy_lite.finetune.finetune` is the loop's fine-tuning step: a fresh LoRA adapter on the base model,
# `SFTTrainer` on the rows, the adapter saved with `save_pretrained`. Its defaults depart from the paper where
# a 1 M-parameter model needs it (learning rate 2e-3 instead of 1e-5, no dropout; see `FinetuneConfig`'s
# docstring). Here: 20 steps. The pool is the model's own best plans, so the loss is already low; fine-tuning
# makes the model more certain of them — and its greedy plan becomes the one it found only by sampling before.

# %%
from itdeploy_lite.finetune import FinetuneConfig, finetune, load_model

config = FinetuneConfig(min_steps=20, max_steps=20, train_batch_size=16)
stats = finetune(base, pool, config, workdir / "gen_01" / "adapter", seed=0)
print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in stats.items() if k != "config"})
tuned, _ = load_model(base, workdir / "gen_01" / "adapter")
after = pool_loss(tuned, pool)
print(f"completion loss on the pool: {before:.4f} -> {after:.4f}")
greedy = DeployConfig(samples_per_task=1, temperature=0.0, progress=False)
print(f"greedy solved fraction on the 18 deployment tasks: {evaluate(model, tokenizer, tasks, config=greedy, prompt_format=compact)['solved_fraction']:.2f}"
      f" -> {evaluate(tuned, tokenizer, tasks, config=greedy, prompt_format=compact)['solved_fraction']:.2f}")
print(sorted(p.name for p in (workdir / "gen_01" / "adapter").iterdir()))

# %% [markdown]
# ## 4. 4-bit weights (QLoRA) on a CPU, and the AVX512-BF16 trap
#
# QLoRA stores the frozen base in **nf4** (4-bit NormalFloat, double-quantized) and trains the LoRA adapter in
# full precision on top (`itdeploy_lite.llm.quant.bnb_4bit_config`). bitsandbytes ≥ 0.49 runs nf4 on a CPU
# too. Our linear layers are small, so the gain is modest, but the mechanics are the same as for Qwen3-4B:

# %%
from itdeploy_lite.llm.quant import (
    bnb_4bit_config,
    check_4bit_supported,
    check_trainable,
    cpu_has_avx512_bf16,
    four_bit_layers,
    guard_cpu_4bit,
    packed_4bit_layers,
)
from itdeploy_lite.llm import LLMSetupError

check_4bit_supported("cpu")
quantized = AutoModelForCausalLM.from_pretrained(base, quantization_config=bnb_4bit_config(), dtype=torch.float32)
guard_cpu_4bit(quantized)
print(f"{len(four_bit_layers(quantized))} linear layers in nf4; memory "
      f"{model.get_memory_footprint() / 1e6:.2f} MB (fp32) -> {quantized.get_memory_footprint() / 1e6:.2f} MB")
print(f"completion loss on the pool: fp32 {before:.4f}, nf4 {pool_loss(quantized, pool):.4f}")

# %% [markdown]
# **The trap.** On a CPU with AVX512-BF16 (recent Intel and AMD server CPUs), the first forward pass of an nf4
# layer *in eval mode without gradients* — a `generate()`, i.e. a deployment step — repacks the layer's weights
# in place for a faster inference kernel and never packs them back. A backward pass through a repacked layer is
# wrong, **without any error**: the loop deploys and then fine-tunes, so it would train on wrong gradients.
# `guard_cpu_4bit` switches the repacking off (the package's loaders call it); `check_trainable` refuses a model
# that was already repacked.

# %%
print("this CPU has AVX512-BF16:", cpu_has_avx512_bf16())
for guarded in (False, True):
    m = AutoModelForCausalLM.from_pretrained(base, quantization_config=bnb_4bit_config(), dtype=torch.float32)
    if guarded:
        guard_cpu_4bit(m)
    m.eval()
    with torch.no_grad():  # one deployment step
        m.generate(**tokenizer([pool[0]["prompt"]], return_tensors="pt", add_special_tokens=False),
                   max_new_tokens=4, do_sample=False)
    try:
        check_trainable(m)
        verdict = "safe to fine-tune"
    except LLMSetupError as err:
        verdict = f"refused: {str(err)[:90]}..."
    print(f"guarded={guarded}: {len(packed_4bit_layers(m))} layers repacked -> {verdict}")

# %% [markdown]
# With the guard, QLoRA fine-tuning on the CPU is the same call with `load_in_4bit=True`:

# %%
stats_4bit = finetune(base, pool, config, workdir / "gen_01_4bit" / "adapter", seed=0, load_in_4bit=True)
print(f"nf4 base: {stats_4bit['steps']} steps in {stats_4bit['seconds']:.1f} s, "
      f"final training loss {stats_4bit['train_loss']:.4f} (fp32 base: {stats['train_loss']:.4f})")

# %% [markdown]
# ## 5. Unsloth: the same recipe, fast on a GPU, a fallback on a CPU
#
# Unsloth (`FastLanguageModel`) is what the paper's authors and most Colab notebooks use: it loads 4-bit models
# and patches the training kernels for speed on a GPU. Without a GPU, unsloth 2026.10.9 falls back to
# transformers + PEFT + TRL on the CPU, so the recipe below runs anywhere — on the embedded model here.
# (Importing unsloth patches transformers and TRL for the whole kernel, so this section comes last; Unsloth
# warns that it should be imported before them — in a notebook that uses only Unsloth, import it first.)

# %%
start = time.perf_counter()
from itdeploy_lite.llm import load_unsloth  # noqa: E402

fast_model, fast_tokenizer = load_unsloth(str(base), load_in_4bit=True, max_seq_length=256)
from unsloth import FastLanguageModel  # noqa: E402  (imported by load_unsloth above)

print(f"unsloth imported and the model loaded in {time.perf_counter() - start:.1f} s")
fast_model = FastLanguageModel.get_peft_model(fast_model, r=16, lora_alpha=32, lora_dropout=0.0, random_state=0,
                                              use_gradient_checkpointing=False)
FastLanguageModel.for_training(fast_model)
fast_trainer = SFTTrainer(
    model=fast_model, train_dataset=pool, processing_class=fast_tokenizer,
    args=SFTConfig(output_dir=str(workdir / "unsloth"), per_device_train_batch_size=16, max_steps=10,
                   learning_rate=2e-3, lr_scheduler_type="linear", max_length=256, logging_steps=2,
                   bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),  # mixed precision on a GPU
                   fp16=torch.cuda.is_available() and not torch.cuda.is_bf16_supported(),
                   save_strategy="no", report_to=[], disable_tqdm=True, seed=0))
start = time.perf_counter()
fast_trainer.train()
print(f"10 steps in {time.perf_counter() - start:.1f} s; losses",
      [round(h["loss"], 4) for h in fast_trainer.state.log_history if "loss" in h])

# %% [markdown]
# ### On a GPU: the paper's recipe on Qwen3
#
# With a CUDA GPU, `default_choice()` picks Unsloth and Qwen3-0.6B in 4-bit (the paper used Qwen3-4B-Thinking,
# which in 4-bit also fits a free Colab T4's memory; what rules it out there is generation time: thousands of
# thinking tokens per plan, for k plans per task and hundreds of tasks per generation). The cell below — tagged `gpu`, skipped in CI, a no-op on a CPU —
# warm-starts it on reference plans with the preset's LoRA and optimizer settings: the rows are the PDDL
# prompts of Lab 03 (`itdeploy_lite.llm.sft_row`) and their witness plans.

# %% tags=["gpu", "skip-execution"]
if choice["backend"] != "unsloth" or not torch.cuda.is_available():
    print("no CUDA GPU here: skipped (the embedded model above is this machine's model)")
else:
    from datasets import Dataset
    from unsloth import FastLanguageModel

    from itdeploy_lite.llm import domain_text, sft_row
    from itdeploy_lite.llm.quant import training_precision

    ft = get_preset(choice["preset"] or "qwen3-small").finetune  # FinetuneConfig field -> value
    gpu_model, gpu_tokenizer = load_unsloth(choice["model"], load_in_4bit=True, max_seq_length=ft["max_length"])
    gpu_model = FastLanguageModel.get_peft_model(
        gpu_model, r=ft["lora_r"], lora_alpha=ft["lora_alpha"], lora_dropout=ft["lora_dropout"],
        target_modules=ft["target_modules"].split(","), random_state=0, use_gradient_checkpointing="unsloth")
    problems = make_split("blocksworld", "pretrain", per_size=16)
    rows = Dataset.from_list([sft_row(gpu_tokenizer, domain_text("blocksworld"), p.pddl, p.witness_plan, thinking=False)
                              for p in problems])
    FastLanguageModel.for_training(gpu_model)
    gpu_trainer = SFTTrainer(
        model=gpu_model, train_dataset=rows, processing_class=gpu_tokenizer,
        args=SFTConfig(output_dir=str(workdir / "qwen3"), per_device_train_batch_size=ft["train_batch_size"],
                       gradient_accumulation_steps=ft["gradient_accumulation_steps"],
                       num_train_epochs=ft["epochs"], learning_rate=ft["learning_rate"],
                       max_length=ft["max_length"], **training_precision(on_gpu=True), logging_steps=1, save_strategy="no", report_to=[],
                       seed=0))
    gpu_trainer.train()
    print([round(h["loss"], 4) for h in gpu_trainer.state.log_history if "loss" in h])
    gpu_model.save_pretrained(workdir / "qwen3" / "adapter")

# %% [markdown]
# ## What you saw
#
# * LoRA trains a low-rank update `B A` on each linear projection — `r (d_in + d_out)` parameters per layer,
#   under 1% of Qwen3-4B at the paper's r = 16 (exercise 1) — so the base model can stay frozen, and in 4 bits.
# * Supervised fine-tuning on curated rows is next-token cross-entropy on the completion only: prompt tokens get
#   label -100 (exercise 2) and the logits are compared with the labels shifted by one (exercise 3). Lab 07
#   shows that this loss on valid traces *is* a REINFORCE gradient with a binary reward.
# * The package's `finetune` is exactly this with TRL and PEFT; one generation takes seconds on the embedded model.
# * nf4 4-bit works on a CPU, but a deployment step can silently corrupt it on AVX512-BF16 CPUs unless the
#   repacking is switched off: guard, then fine-tune.
# * Unsloth runs the same recipe everywhere: with its kernels on a GPU, as plain transformers + TRL on a CPU.
#
# Next, Lab 06 puts deploy → validate → curate → fine-tune in a loop over generations.
