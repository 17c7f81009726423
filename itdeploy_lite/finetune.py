"""Fine-tuning one generation: LoRA (``peft``) trained with TRL's ``SFTTrainer`` on curated rows.

The rows are ``{"prompt", "completion"}`` (see :mod:`itdeploy_lite.curate`); TRL computes the loss on
the completion tokens only. Each generation's adapter is saved with ``save_pretrained`` and loaded back
with ``PeftModel.from_pretrained``, as in the Hugging Face notebooks::

    from itdeploy_lite.finetune import FinetuneConfig, finetune, load_model
    stats = finetune("data/models/blocksworld", dataset, FinetuneConfig(), "runs/x/gen_01/adapter")
    model, tokenizer = load_model("data/models/blocksworld", "runs/x/gen_01/adapter")
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from itdeploy_lite import atomic
from itdeploy_lite.flags import documented


@documented
@dataclass
class FinetuneConfig:
    """How one generation is fine-tuned (LoRA on all linear layers, AdamW, SFT on the completion).

    The paper (Corrêa et al., arXiv 2512.24940) fine-tunes Qwen3-4B with LoRA r=16, alpha=32,
    dropout 0.05, AdamW at lr 1e-5, for 2 epochs over the curated pool. Defaults here differ where the
    embedded ~1-5 M-parameter model needs it:

    * ``learning_rate`` 2e-3 (paper 1e-5): a freshly trained tiny model has no pretrained prior to
      preserve and LoRA on it learns nothing measurable at 1e-5 in a few hundred steps; 2e-3 is the rate
      at which LoRA carried the trend in the project's prototype (shared/LOOP-NOTES.md).
    * ``lora_dropout`` 0.0 (paper 0.05): with a pool of a few hundred rows and few steps, dropout only
      slowed learning in our runs; set 0.05 to follow the paper.
    * ``epochs`` 4, ``min_steps`` 40, ``max_steps`` 120 (paper: 2 epochs): the paper's 2 epochs over a
      pool of ~50-500 rows is only 4-30 optimizer steps at batch 32, too few for LoRA to move the tiny
      model; 150 steps on a 51-row pool overfit it (training loss 1.5e-4, no held-out gain) and took
      ~130 s on the shared 2-core CPU. A step costs ~0.3-0.9 s on that CPU (1.1 M parameters, batch 32),
      so the cap keeps a 5-generation run within its 10-minute budget.
    * ``lora_r`` 16 and ``lora_alpha`` 32 as in the paper; on a hidden size of 128 that adapts a large
      share (~18%) of the parameters.

    Attributes:
        lora_r: LoRA rank.
        lora_alpha: LoRA scaling alpha (effective scale alpha / r).
        lora_dropout: dropout on the LoRA branch.
        learning_rate: AdamW peak learning rate (linear decay, no warm-up).
        epochs: passes over the curated pool (may be fractional).
        min_steps: at least this many optimizer steps, whatever the pool size (0: epochs only).
        max_steps: at most this many optimizer steps (0: no cap).
        train_batch_size: rows per forward/backward pass (per device).
        gradient_accumulation_steps: passes accumulated per optimizer step; rows per step are
            ``train_batch_size x gradient_accumulation_steps`` (the paper: 8 x 4).
        max_length: tokens per row (prompt + completion); longer rows are cut at the end.
        target_modules: LoRA target modules (``"all-linear"`` or a comma-separated list of names).
    """

    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    learning_rate: float = 2e-3
    epochs: float = 4.0
    min_steps: int = 40
    max_steps: int = 120
    train_batch_size: int = 32
    gradient_accumulation_steps: int = 1
    max_length: int = 768
    target_modules: str = "all-linear"

    def check(self) -> None:
        """Raise ``ValueError`` naming the first field with a value out of range."""
        positive = {"lora_r": self.lora_r, "lora_alpha": self.lora_alpha, "learning_rate": self.learning_rate,
                    "epochs": self.epochs, "train_batch_size": self.train_batch_size, "max_length": self.max_length,
                    "gradient_accumulation_steps": self.gradient_accumulation_steps}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"FinetuneConfig.{name} must be > 0, got {value!r}")
        for name in ("min_steps", "max_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"FinetuneConfig.{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ValueError(f"FinetuneConfig.lora_dropout must be in [0, 1), got {self.lora_dropout!r}")

    def steps(self, rows: int, processes: int = 1) -> int:
        """Optimizer steps for a pool of ``rows`` rows: ``ceil(epochs * rows / rows per step)``, at least
        ``min_steps``, at most ``max_steps`` (if set). Rows per step are ``train_batch_size x
        gradient_accumulation_steps x processes`` (``processes``: DDP processes, one per GPU)."""
        per_step = self.train_batch_size * self.gradient_accumulation_steps * processes
        steps = max(self.min_steps, math.ceil(self.epochs * rows / per_step))
        return min(steps, self.max_steps) if self.max_steps else steps


def lora_targets(text: str) -> str | list[str]:
    """peft's ``target_modules`` from a ``--target-modules`` value: ``"all-linear"`` or a list of names."""
    return "all-linear" if text == "all-linear" else [t.strip() for t in text.split(",") if t.strip()]


def finetune(
    base: str | Path,
    dataset,
    config: FinetuneConfig,
    out_dir: str | Path,
    init_adapter: str | Path | None = None,
    seed: int = 0,
    progress: bool = False,
    load_in_4bit: bool = False,
    log_file: str | Path | None = None,
) -> dict:
    """LoRA-fine-tune the model in ``base`` on ``dataset`` and save the adapter to ``out_dir`` (the ``hf``
    backend's fine-tuning: transformers + peft + TRL).

    Args:
        base: folder of the base causal LM and its tokenizer (``AutoModelForCausalLM`` /
            ``AutoTokenizer``), e.g. the generation-0 checkpoint under ``data/models/``, or a hub id.
        dataset: a ``datasets.Dataset`` with string columns ``prompt`` and ``completion`` (>= 1 row).
        config: the :class:`FinetuneConfig`.
        out_dir: where the adapter is saved (``adapter_config.json``, ``adapter_model.safetensors``).
            Written to ``<out_dir>.tmp`` and renamed when complete: an interrupted call leaves no adapter.
        init_adapter: ``None`` to start a new adapter on the base (the paper: each generation is retrained
            from the base); or a saved adapter to continue training (``--from previous``).
        seed: seeds LoRA initialisation, data order and dropout.
        progress: show TRL's progress bar.
        load_in_4bit: load the base in nf4 4-bit (QLoRA; bitsandbytes), guarded against the AVX512-BF16
            trap on a CPU (:func:`~itdeploy_lite.llm.quant.guard_cpu_4bit`).
        log_file: where the trainer's logged losses go (JSON lines), instead of the terminal.

    Returns:
        ``{"rows": int, "steps": int, "train_loss": float (mean over the last 10% of steps, nats per
        completion token), "seconds": float, "trainable_parameters": int, "config": dict}``.

    Raises:
        ValueError: an empty dataset, a dataset without ``prompt``/``completion`` columns, or a bad config.
        FileNotFoundError: ``base`` or ``init_adapter`` is not a folder.
        LLMSetupError: 4-bit asked for where bitsandbytes cannot run it.
    """
    import torch
    from peft import LoraConfig
    from transformers import set_seed

    config.check()
    from itdeploy_lite.llm.registry import is_hub_id

    base = Path(base)
    if not base.is_dir() and not is_hub_id(str(base)):
        raise FileNotFoundError(f"base model folder not found: {base}")
    if init_adapter is not None and not Path(init_adapter).is_dir():
        raise FileNotFoundError(f"adapter to continue from not found: {init_adapter}")
    dataset = check_dataset(dataset)

    start = time.perf_counter()
    set_seed(seed)
    from itdeploy_lite.llm.registry import load_model as load_llm

    model, tokenizer = load_llm(str(base), load_in_4bit=load_in_4bit, dtype=torch.float32 if not load_in_4bit else None,
                                adapter=init_adapter, trainable=True)
    tokenizer.padding_side = "right"
    peft_config = None
    if init_adapter is None:
        peft_config = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=lora_targets(config.target_modules),
            task_type="CAUSAL_LM",
        )
    stats = train_lora(model, tokenizer, dataset, config, out_dir, peft_config=peft_config, seed=seed, progress=progress,
                       log_file=log_file)
    stats["seconds"] = time.perf_counter() - start
    return stats


def check_dataset(dataset):
    """The dataset's ``prompt``/``completion`` columns; ``ValueError`` naming what is missing or empty."""
    missing = {"prompt", "completion"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"fine-tuning dataset lacks column(s) {sorted(missing)}; has {dataset.column_names}")
    if len(dataset) == 0:
        raise ValueError("fine-tuning dataset is empty: nothing to train on")
    return dataset.select_columns(["prompt", "completion"])


def train_lora(model, tokenizer, dataset, config: FinetuneConfig, out_dir: str | Path, peft_config=None,
               seed: int = 0, progress: bool = False, log_file: str | Path | None = None) -> dict:
    """Train a LoRA adapter with TRL's ``SFTTrainer`` (loss on the completion only) and save it.

    Shared by both backends: ``hf`` passes a plain model and a ``peft_config`` (or a ``PeftModel``),
    ``unsloth`` a model already wrapped by ``FastLanguageModel.get_peft_model``. On a CPU the trainer runs
    with ``use_cpu=True, bf16=False``; on a GPU in bf16 where supported.

    Args:
        model: the model to train (PEFT-wrapped, or plain with ``peft_config``).
        tokenizer: its tokenizer (TRL's ``processing_class``).
        dataset: ``{"prompt", "completion"}`` rows (:func:`check_dataset`).
        config: steps, batch, learning rate, ``max_length`` (tokens per row).
        out_dir: the adapter folder, written to ``<out_dir>.tmp`` then renamed.
        peft_config: a ``peft.LoraConfig`` for a plain model, else None.
        seed: data order and dropout seed.
        progress: TRL's progress bar (its logged losses are never printed: they go to ``log_file``).
        log_file: a JSON-lines file for the trainer's logs, one ``{"step", "loss", "learning_rate", ...}``
            per logging step (``None``: kept only in the returned summary's source, ``trainer.state``).

    Returns:
        ``{"rows", "steps", "train_loss" (nats per completion token, mean of the last 10% of logged
        steps), "trainable_parameters", "config"}``.
    """
    from transformers import PrinterCallback, ProgressCallback
    from trl import SFTConfig, SFTTrainer

    from itdeploy_lite.llm.quant import training_precision

    class BarsOnly(ProgressCallback):
        """The progress bar without the log dictionaries ``ProgressCallback`` writes between the bars."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            return None

    out_dir = Path(out_dir)
    dataset = check_dataset(dataset)
    prompt_tokens = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in dataset["prompt"]]
    if min(prompt_tokens) >= config.max_length:  # TRL would drop every row and fail deep inside torch
        raise ValueError(f"every prompt is at least max_length={config.max_length} tokens long (shortest "
                         f"{min(prompt_tokens)}), so no completion token would be trained on: raise --max-length")
    on_gpu = next(model.parameters()).device.type == "cuda"
    processes = int(os.environ.get("WORLD_SIZE", "1"))  # > 1 under accelerate launch (itdeploy_lite.finetune_job)
    steps = config.steps(len(dataset), processes)
    with tempfile.TemporaryDirectory(prefix="itdeploy-sft-") as scratch:
        args = SFTConfig(
            output_dir=scratch,
            max_steps=steps,
            per_device_train_batch_size=config.train_batch_size,
            gradient_accumulation_steps=config.gradient_accumulation_steps,
            learning_rate=config.learning_rate,
            lr_scheduler_type="linear",
            warmup_steps=0,
            weight_decay=0.0,
            max_length=config.max_length,
            seed=seed,
            data_seed=seed,
            use_cpu=not on_gpu,
            **training_precision(on_gpu),  # bf16 where native, fp16 on a T4 (never emulated bf16)
            save_strategy="no",
            report_to=[],
            logging_steps=max(1, steps // 20),
            disable_tqdm=not progress,
            dataloader_num_workers=0,
        )
        trainer = SFTTrainer(
            model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config
        )
        trainer.remove_callback(PrinterCallback)  # prints each log dict
        if progress:
            trainer.remove_callback(ProgressCallback)  # its on_log writes the dicts between the bars
            trainer.add_callback(BarsOnly())
        trainer.train()
    main_process = trainer.is_world_process_zero()  # under DDP only rank 0 writes
    if log_file is not None and main_process:
        atomic.write_jsonl(log_file, trainer.state.log_history)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    tail = losses[-max(1, len(losses) // 10) :]
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    if main_process:
        atomic.replace_folder(out_dir, lambda tmp: trainer.model.save_pretrained(str(tmp)))
    return {
        "rows": len(dataset),
        "steps": steps,
        "train_loss": float(sum(tail) / len(tail)) if tail else float("nan"),
        "trainable_parameters": int(trainable),
        "config": asdict(config),
    }


def load_model(base: str | Path, adapter: str | Path | None = None, device: str = "cpu"):
    """Load the base model (and, if given, a saved LoRA adapter merged into it) for inference: the ``hf``
    backend's loader (:func:`itdeploy_lite.llm.load_model`) in full precision.

    Args:
        base: a model folder (e.g. ``data/models/blocksworld``), a registry name or a hub id.
        adapter: a folder written by :func:`finetune`, or ``None`` for the base model alone.
        device: ``"cpu"`` or ``"cuda"``.

    Returns:
        ``(model, tokenizer)``: a plain ``transformers`` causal LM (fp32, eval mode, adapter merged so
        sampling runs at base-model speed) and its tokenizer (left padding, with a pad token).

    Raises:
        FileNotFoundError: ``base`` (a path that is not a hub id) or ``adapter`` is not a folder.
        LLMSetupError: a hub id that is neither cached nor downloadable.
    """
    import torch

    from itdeploy_lite.llm.registry import is_hub_id
    from itdeploy_lite.llm.registry import load_model as load_llm

    if not Path(base).is_dir() and not is_hub_id(str(base)):
        raise FileNotFoundError(f"base model folder not found: {base}")
    return load_llm(str(base), load_in_4bit=False, device=device, dtype=torch.float32, adapter=adapter,
                    merge=adapter is not None)
