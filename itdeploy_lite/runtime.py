"""What a run sets up in its process before the first stage: derived seeds, quiet libraries, threads."""

from __future__ import annotations

import hashlib
import logging


def derive_seed(*parts) -> int:
    """A stable 31-bit seed derived from ``parts`` (the same on every run and machine).

    Each stage seeds itself from ``(run seed, generation, stage name)``, so a resumed run gives the same
    numbers as an uninterrupted one: ``derive_seed(0, 3, "deploy")``.
    """
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:4], "big") % 2**31


def quiet_bitsandbytes() -> None:
    """bitsandbytes (imported by peft and unsloth when installed) warns at import that an optional CPU
    kernel package is missing; nothing here needs it. Call before the backend is imported."""
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


def quiet_libraries() -> None:
    """Silence library chatter (dataset map bars, weight-loading bars, warnings); our own bars stay.
    Imports transformers: call after :meth:`~itdeploy_lite.backends.Backend.prepare` (Unsloth patches it)."""
    import datasets
    import transformers

    quiet_bitsandbytes()
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def set_threads(threads: int) -> None:
    """Use ``threads`` torch CPU threads (0: leave torch's default, one per core)."""
    if threads:
        import torch

        torch.set_num_threads(threads)
