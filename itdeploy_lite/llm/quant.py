"""nf4 4-bit loading with bitsandbytes, and the guard against its AVX512-BF16 trap on CPUs.

4-bit loading is the QLoRA recipe: frozen base weights stored in nf4 (double-quantized), LoRA adapters
trained in full precision on top::

    from transformers import AutoModelForCausalLM
    from itdeploy_lite.llm.quant import bnb_4bit_config, guard_cpu_4bit
    model = AutoModelForCausalLM.from_pretrained(path, quantization_config=bnb_4bit_config())
    guard_cpu_4bit(model)   # before any generate() on a CPU

**The AVX512-BF16 trap.** bitsandbytes 0.50 runs nf4 on the CPU. On a CPU with AVX512-BF16, the first
forward pass of a ``Linear4bit`` in eval mode and without gradients (a ``generate()``, an evaluation)
repacks the layer's weight *in place* into a layout for its fast inference kernel, and never packs it
back. A backward pass through a repacked layer is wrong, without any error: fine-tuning after a
deployment step then learns from wrong gradients (here: a different loss curve, no learning). Our loop
deploys and then fine-tunes, so it would fall in exactly this trap. :func:`guard_cpu_4bit` switches the
repacking off on every 4-bit layer (``support_avx512bf16_for_cpu = False``); the cost is a slower CPU
generate. :func:`check_trainable` refuses to fine-tune a model some of whose layers were already
repacked (the inverse repacking that bitsandbytes ships is lossy for double-quantized weights, so the
only fix then is to reload). Unsloth's CPU loader applies the same switch; ``tests/test_unsloth_cpu.py``
shows the loss with and without the guard.
"""

from __future__ import annotations

import functools
import warnings

from itdeploy_lite.llm.errors import LLMSetupError, has_package, require


def native_bf16() -> bool:
    """Whether the CUDA GPU computes in bfloat16 natively (compute capability >= 8.0: Ampere and later).

    ``torch.cuda.is_bf16_supported()`` alone also answers True on a T4 (7.5), where bfloat16 is emulated
    (pytorch#148322); Unsloth loads float16 there and its trainer then refuses ``bf16=True`` ("Model is in
    float16 precision but you want to use bfloat16"). False without a GPU.
    """
    import torch

    if not torch.cuda.is_available():
        return False
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # an older torch without the argument
        return torch.cuda.get_device_capability()[0] >= 8


def gpu_half_dtype():
    """The 16-bit dtype a GPU model is loaded and trained in: bfloat16 where native, else float16."""
    import torch

    return torch.bfloat16 if native_bf16() else torch.float16


def training_precision(on_gpu: bool) -> dict[str, bool]:
    """TRL/transformers mixed-precision flags: ``{"bf16": ..., "fp16": ...}``; both False on a CPU."""
    bf16 = on_gpu and native_bf16()
    return {"bf16": bf16, "fp16": on_gpu and not bf16}


def default_compute_dtype(device: str = "cpu"):
    """The dtype 4-bit layers compute in: float32 on a CPU (exact, and what the tests compare), on a GPU
    :func:`gpu_half_dtype` (bfloat16 where native, float16 on a T4)."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return gpu_half_dtype()
    return torch.float32


def bnb_4bit_config(compute_dtype=None, device: str = "cpu", skip_modules: tuple[str, ...] = ("lm_head",)):
    """The QLoRA ``BitsAndBytesConfig``: nf4, double quantization, ``lm_head`` kept in full precision.

    Args:
        compute_dtype: dtype of the 4-bit matmuls; default :func:`default_compute_dtype` for ``device``.
        device: ``"cpu"`` or ``"cuda"``; only used for the default compute dtype.
        skip_modules: modules left unquantized (the output head, as Unsloth's loaders do).
    """
    require("bitsandbytes", "4-bit loading")
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype or default_compute_dtype(device),
        llm_int8_skip_modules=list(skip_modules),
    )


@functools.cache
def _cpu_4bit_problem() -> str | None:
    """None if an nf4 layer runs forward and backward on this CPU, else a short reason."""
    try:
        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import bitsandbytes as bnb

            layer = bnb.nn.Linear4bit(128, 64, bias=False, compute_dtype=torch.float32, quant_type="nf4")
            layer.weight = layer.weight._quantize("cpu") if not getattr(layer.weight, "bnb_quantized", False) else layer.weight
            x = torch.randn(4, 128, requires_grad=True)
            y = layer(x)
            y.sum().backward()
        if not (torch.isfinite(y).all() and x.grad is not None and torch.isfinite(x.grad).all()):
            return "an nf4 test layer gave non-finite values"
        return None
    except Exception as err:  # bitsandbytes raises many kinds when its native library is unusable
        first = (str(err).strip().splitlines() or [""])[0][:160]
        return f"{type(err).__name__}: {first}"


def check_4bit_supported(device: str = "cpu") -> None:
    """Raise :class:`LLMSetupError` (one sentence) if nf4 4-bit cannot run on ``device``.

    Needs bitsandbytes (>= 0.49 for its CPU backend); a CPU is probed with a real nf4 layer, forward
    and backward. Apple's ``mps`` has no bitsandbytes 4-bit backend.
    """
    require("bitsandbytes", "4-bit loading (--load-in-4bit)")
    if device.startswith("mps"):
        raise LLMSetupError("4-bit loading does not run on Apple's MPS (bitsandbytes has no nf4 backend there): drop --load-in-4bit.")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise LLMSetupError("4-bit loading on 'cuda' was asked for but torch sees no CUDA GPU: use the CPU or drop --load-in-4bit.")
        return
    problem = _cpu_4bit_problem()
    if problem is not None:
        raise LLMSetupError(
            f"4-bit loading does not work on this CPU with the installed bitsandbytes ({problem}): "
            'install "bitsandbytes==0.50.2" or drop --load-in-4bit.'
        )


def cpu_has_avx512_bf16() -> bool:
    """True if this CPU has AVX512-BF16, i.e. bitsandbytes would repack 4-bit weights for inference."""
    if has_package("bitsandbytes"):
        try:
            from bitsandbytes.functional import has_avx512bf16

            return bool(has_avx512bf16())
        except Exception:
            pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return "avx512_bf16" in f.read()
    except OSError:
        return False


def four_bit_layers(model) -> list:
    """The bitsandbytes 4-bit linear layers of ``model`` (an empty list for an unquantized model)."""
    return [m for m in model.modules() if hasattr(m, "support_avx512bf16_for_cpu")]


def guard_cpu_4bit(model) -> int:
    """Switch off bitsandbytes' in-place CPU repacking on every 4-bit layer; return how many layers.

    Call it right after loading (``load_model`` does), before any forward pass. Safe on any model.
    """
    layers = four_bit_layers(model)
    for layer in layers:
        layer.support_avx512bf16_for_cpu = False
    return len(layers)


def packed_4bit_layers(model) -> list[str]:
    """Names of 4-bit layers whose weight was already repacked for CPU inference (the trap's symptom)."""
    names = []
    for name, module in model.named_modules():
        if hasattr(module, "support_avx512bf16_for_cpu"):
            state = getattr(module.weight, "quant_state", None)
            if getattr(state, "packing_format_for_cpu", False):
                names.append(name)
    return names


def check_trainable(model) -> None:
    """Raise :class:`LLMSetupError` if any 4-bit layer was repacked for inference (backward would be wrong)."""
    packed = packed_4bit_layers(model)
    if packed:
        raise LLMSetupError(
            f"{len(packed)} 4-bit layers (e.g. {packed[0]}) were repacked for CPU inference by a forward pass "
            "without gradients, so fine-tuning them would be silently wrong: reload the model, and call "
            "itdeploy_lite.llm.quant.guard_cpu_4bit(model) right after loading (load_model does)."
        )
