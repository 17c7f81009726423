"""The fine-tune stage on more than one GPU (``--gpus N``): the stage runs as its own job under
``accelerate launch`` with one process per GPU, and TRL's ``SFTTrainer`` trains with DDP (Accelerate
wraps the model; every process takes ``train_batch_size`` rows per pass, gradients are averaged). No
distribution code of our own: the job is the one-GPU fine-tune, launched N times.

    accelerate launch --multi_gpu --num_processes N -m itdeploy_lite.finetune_job gen_03/finetune_job/job.json

``job.json`` (written by :func:`run_job`) names the backend, the base model, the curated rows (a
``datasets`` folder saved with ``save_to_disk``), the :class:`~itdeploy_lite.finetune.FinetuneConfig`, the
adapter folder, the seed and where the main process writes its summary. Only the main process (rank 0)
saves the adapter, the trainer log and the summary.

Rows per optimizer step are ``train_batch_size x gradient_accumulation_steps x N``; the paper's 32 (8 x 4)
on 4 GPUs is ``--train-batch-size 8 --gradient-accumulation-steps 1 --gpus 4``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path


def launch_command(job_file: str | Path, processes: int, cpu: bool = False) -> list[str]:
    """The command line that runs ``job_file`` on ``processes`` processes: ``accelerate launch --multi_gpu``
    on GPUs; with ``cpu`` (tests) ``torchrun --standalone``, the launcher ``accelerate launch --multi_gpu``
    runs underneath (its ``--cpu`` mode starts one process only), and Accelerate then trains with DDP
    over gloo."""
    job = ["-m", "itdeploy_lite.finetune_job", str(job_file)]
    if cpu:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *job]
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
            "--num_machines", "1", *job]


def run_job(backend_name: str, load_in_4bit: bool, base: str | Path, dataset, config, out_dir: str | Path,
            processes: int, init_adapter: str | Path | None = None, seed: int = 0,
            log_file: str | Path | None = None, cpu: bool = False, timeout: float | None = None) -> dict:
    """Fine-tune under ``accelerate launch`` with ``processes`` processes; return the main process's summary.

    Args:
        backend_name, load_in_4bit: the backend each process builds (:func:`~itdeploy_lite.backends.get_backend`).
        base, dataset, config, out_dir, init_adapter, seed, log_file: as for
            :meth:`Backend.finetune <itdeploy_lite.backends.base.Backend.finetune>`.
        processes: DDP processes (one per GPU).
        cpu: DDP on the CPU (gloo, under ``torchrun``), for tests.
        timeout: seconds before the job is killed (``None``: no limit).

    Returns:
        The summary of :meth:`Backend.finetune` (``rows``, ``steps``, ``train_loss``, ...) plus ``processes``.

    Raises:
        RuntimeError: the job failed (its exit status and the end of its output in the message).
    """
    from itdeploy_lite import atomic

    out_dir = Path(out_dir)
    job_dir = out_dir.parent / f"{out_dir.name}.job"
    job_dir.mkdir(parents=True, exist_ok=True)
    atomic.replace_folder(job_dir / "rows", lambda tmp: dataset.save_to_disk(str(tmp)))
    job = {"backend": backend_name, "load_in_4bit": load_in_4bit, "base": str(base), "dataset": str(job_dir / "rows"),
           "config": asdict(config), "out_dir": str(out_dir), "init_adapter": str(init_adapter) if init_adapter else None,
           "seed": seed, "log_file": str(log_file) if log_file else None, "summary": str(job_dir / "summary.json")}
    job_file = atomic.write_json(job_dir / "job.json", job)
    done = subprocess.run(launch_command(job_file, processes, cpu), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise RuntimeError(f"the fine-tune job {job_file} failed (exit {done.returncode}):\n{tail}")
    summary = json.loads(Path(job["summary"]).read_text(encoding="utf-8"))
    return {**summary, "processes": processes}


def main(argv: list[str] | None = None) -> int:
    """One process of the job: fine-tune as on one GPU; rank 0 writes the adapter and the summary."""
    from datasets import load_from_disk

    from itdeploy_lite import atomic
    from itdeploy_lite.backends import get_backend
    from itdeploy_lite.finetune import FinetuneConfig

    argv = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    backend = get_backend(job["backend"], job["load_in_4bit"])
    backend.prepare()
    stats = backend.finetune(job["base"], load_from_disk(job["dataset"]), FinetuneConfig(**job["config"]),
                             job["out_dir"], init_adapter=job["init_adapter"], seed=job["seed"],
                             log_file=job["log_file"])
    if int(os.environ.get("RANK", "0")) == 0:
        atomic.write_json(job["summary"], stats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
