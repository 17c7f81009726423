"""Curation ablations: the same run under several curation presets, one comparison plot (``itdeploy ablate``).

Each preset is a :data:`~itdeploy_lite.curate.POLICIES` name run as ``itdeploy run --curation NAME`` with every
other setting equal, in its own run folder ``<out>/<name>-s<seed>`` (resumable: a finished preset is read back,
not re-run). The plot has one line per preset: held-out solved fraction (greedy, the loop's fixed held-out set)
per generation::

    itdeploy ablate --policies paper,none,latest,longest,random-valid --generations 3 \\
        --tasks-per-generation 60 --samples-per-task 4 --out runs/ablate

=============  ===========================================================================================
paper          shortest valid plan per task, pooled over generations (the paper's rule)
none           every trace, valid or not (no curation)
latest         shortest valid plan per task, this generation only (no pooling)
longest        longest valid plan per task, pooled
random-valid   a random valid plan per task, pooled
=============  ===========================================================================================
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from itdeploy_lite.loop import RunConfig, run

DEFAULT_POLICIES = ("paper", "none", "latest", "longest", "random-valid")


def ablate(config: RunConfig, policies: list[str], out: str | Path) -> dict[str, list[dict]]:
    """Run ``config`` once per curation policy, each in ``<out>/<policy>-s<seed>``.

    Returns:
        policy -> that run's per-generation metrics (see :func:`itdeploy_lite.metrics.generation_metrics`).

    Raises:
        ValueError: an unknown policy (before anything runs), or a bad config.
    """
    configs = {name: replace(config, curation=name, out=str(Path(out) / f"{name}-s{config.seed}")) for name in policies}
    for c in configs.values():
        c.check()
    return {name: run(c) for name, c in configs.items()}


def comparison_plot(curves: dict[str, list[float]], path: str | Path, title: str = "",
                    ylabel: str = "held-out solved fraction (greedy)") -> Path:
    """One line per name: ``curves[name][g]`` against generation ``g``; saved as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ys in curves.items():
        ax.plot(range(len(ys)), ys, "-o", label=name)
    longest = max((len(ys) for ys in curves.values()), default=0)
    ax.set(xlabel="generation", ylabel=ylabel, title=title)
    ax.set_xticks(range(longest))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def comparison_table(curves: dict[str, list[float]], label: str = "preset") -> str:
    """A plain-text table: one row per name, one column per generation."""
    longest = max((len(ys) for ys in curves.values()), default=0)
    width = max([len(label)] + [len(n) for n in curves])
    lines = [f"{label:<{width}}  " + "  ".join(f"gen{g:<3d}" for g in range(longest))]
    for name, ys in curves.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{y:6.3f}" for y in ys))
    return "\n".join(lines)


def solved_curves(results: dict[str, list[dict]]) -> dict[str, list[float]]:
    """policy -> held-out solved fraction per generation."""
    return {name: [m["heldout_solved_fraction"] for m in metrics] for name, metrics in results.items()}
