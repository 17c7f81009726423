"""What a run measured: the per-generation table, ``metrics.csv`` and PNG plots.

Everything is read back from a run folder written by :mod:`itdeploy_lite.loop`
(``gen_XX/metrics.json`` for each finished generation), so ``itdeploy report RUN_DIR`` works on a
finished run, a running one and an interrupted one alike.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from itdeploy_lite import atomic

#: The keys of ``itdeploy report --json`` (one dict per generation), in order.
SUMMARY_KEYS = (
    "generation",
    "heldout_solved_fraction",
    "heldout_solved_by_size",
    "longest_valid_plan",
    "mean_valid_plan_length",
    "pool_solved_fraction",
    "pool_greedy_solved_fraction",
    "pool_solved_by_size",
    "pool_longest_valid_plan",
    "pool_mean_valid_plan_length",
    "train_pool_size",
    "seconds",
)


def load_metrics(run_dir: str | Path) -> list[dict]:
    """Read ``gen_XX/metrics.json`` of every finished generation, in generation order.

    Args:
        run_dir: a run folder (has ``config.json``).

    Returns:
        One dict per finished generation (see :func:`itdeploy_lite.metrics.generation_metrics` for keys).

    Raises:
        FileNotFoundError: ``run_dir`` is not a run folder (no ``config.json``).
        ValueError: a ``metrics.json`` that is not JSON (the message names the file).
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise FileNotFoundError(f"not a run folder (no config.json): {run_dir}")
    rows = []
    for path in sorted(run_dir.glob("gen_*/metrics.json")):
        try:
            rows.append(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not JSON ({err.msg})") from None
    return sorted(rows, key=lambda r: r["generation"])


def summary(rows: list[dict]) -> list[dict]:
    """The :data:`SUMMARY_KEYS` of each generation's metrics (what ``itdeploy report --json`` prints)."""
    return [{k: row.get(k) for k in SUMMARY_KEYS} for row in rows]


def _fmt(value, width: int, digits: int = 2) -> str:
    if value is None:
        return "-".rjust(width)
    if isinstance(value, float):
        return f"{value:.{digits}f}".rjust(width)
    return str(value).rjust(width)


def table(rows: list[dict]) -> str:
    """A plain-text table, one line per generation. With the pool protocol it starts with the deployment
    pool (``pool``: solved fraction, a task solved when one of its k samples is valid; ``greedy``; the
    ``longest`` of the solved tasks' shortest plans); then the held-out set (``held-out``: greedy solved
    fraction overall and per size, its longest valid plan), the training rows, the deployment's solved
    tasks and the wall time (seconds).

    Returns:
        The table text (header, rule, rows), without a trailing newline; ``"(no finished generation)"``
        if ``rows`` is empty.
    """
    if not rows:
        return "(no finished generation)"
    sizes = list(rows[0].get("heldout_solved_by_size", {}))
    has_pool = rows[0].get("pool_solved_fraction") is not None
    head = (["gen"] + (["pool", "greedy", "longest"] if has_pool else []) + ["held-out"] + sizes
            + ["longest", "train", "deploy solved", "seconds"])
    widths = [3] + ([5, 6, 7] if has_pool else []) + [8] + [max(4, len(s)) for s in sizes] + [7, 5, 13, 7]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        deploy = row.get("deploy") or {}
        solved = f"{deploy['solved_tasks']}/{deploy['tasks']}" if deploy else None
        cells = [row["generation"]]
        if has_pool:
            cells += [row.get("pool_solved_fraction"), row.get("pool_greedy_solved_fraction"),
                      row.get("pool_longest_valid_plan")]
        cells += [row["heldout_solved_fraction"]] + [row["heldout_solved_by_size"].get(s) for s in sizes]
        cells += [row["longest_valid_plan"], row["train_pool_size"], solved, row["seconds"]]
        lines.append("  ".join(_fmt(c, w, 1 if i == len(cells) - 1 else 2) for i, (c, w) in enumerate(zip(cells, widths))))
    return "\n".join(lines)


def write_csv(rows: list[dict], path: str | Path) -> Path:
    """Write ``metrics.csv``: one row per generation, per-size columns ``solved_<size>``; atomic (temp + rename)."""
    path = Path(path)
    sizes = list(rows[0].get("heldout_solved_by_size", {})) if rows else []
    pool_sizes = list(rows[0].get("pool_solved_by_size") or {}) if rows else []
    fields = ["generation", "heldout_solved_fraction"] + [f"solved_{s}" for s in sizes]
    fields += ["longest_valid_plan", "mean_valid_plan_length", "pool_solved_fraction", "pool_greedy_solved_fraction"]
    fields += [f"pool_solved_{s}" for s in pool_sizes]
    fields += ["pool_longest_valid_plan", "pool_mean_valid_plan_length", "train_pool_size", "train_loss",
               "deploy_tasks", "deploy_samples", "deploy_valid_fraction", "deploy_solved_tasks",
               "deploy_longest_valid_plan", "seconds"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        deploy = row.get("deploy") or {}
        out = {k: row.get(k) for k in fields if k in row}
        out.update({f"solved_{s}": row["heldout_solved_by_size"].get(s) for s in sizes})
        out.update({f"pool_solved_{s}": (row.get("pool_solved_by_size") or {}).get(s) for s in pool_sizes})
        out["train_loss"] = (row.get("finetune") or {}).get("train_loss")
        out.update({f"deploy_{k}": deploy.get(k) for k in ("tasks", "samples", "valid_fraction", "solved_tasks", "longest_valid_plan")})
        writer.writerow(out)
    atomic.write_text(path, buffer.getvalue())
    return path


def plot(rows: list[dict], out_dir: str | Path, title: str = "") -> list[Path]:
    """Write the run's PNG plots to ``out_dir`` (each atomically).

    * ``solved.png``: with the pool protocol, the pool's solved fraction (a task solved when one of its
      k samples is valid) and greedy solved fraction per generation, beside the held-out solved
      fraction per generation (overall, and per task size);
    * ``plan_lengths.png``: distribution of valid plan lengths per generation (box plots): the pool's
      solved tasks (shortest plan each) and the held-out set's;
    * ``longest_plan.png``: longest valid plan per generation: pool, held-out and deployment samples.

    Returns:
        The paths written (none if ``rows`` is empty).
    """
    if not rows:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    gens = [r["generation"] for r in rows]
    paths = []

    has_pool = rows[0].get("pool_solved_fraction") is not None
    fig, axes = plt.subplots(1, 2 if has_pool else 1, figsize=(11 if has_pool else 6, 4), squeeze=False)
    if has_pool:
        ax = axes[0][0]
        ax.plot(gens, [r["pool_solved_fraction"] for r in rows], "k-o", lw=2.5, label="pool, pass@k (all sizes)")
        ax.plot(gens, [r["pool_greedy_solved_fraction"] for r in rows], "k--s", lw=1.5, label="pool, greedy")
        for size in rows[0]["pool_solved_by_size"]:
            ax.plot(gens, [r["pool_solved_by_size"].get(size) for r in rows], "-o", ms=3, lw=1, label=size)
        ax.set(xlabel="generation", ylabel="deployment pool solved fraction", ylim=(-0.02, 1.02),
               title=f"{title}: the deployment pool")
        ax.set_xticks(gens)
        ax.legend(fontsize=7, ncol=2)
    ax = axes[0][-1]
    ax.plot(gens, [r["heldout_solved_fraction"] for r in rows], "k-o", lw=2.5, label="all sizes")
    for size in rows[0]["heldout_solved_by_size"]:
        ax.plot(gens, [r["heldout_solved_by_size"].get(size) for r in rows], "-o", ms=3, lw=1, label=size)
    ax.set(xlabel="generation", ylabel="held-out solved fraction (greedy)", ylim=(-0.02, 1.02),
           title=f"{title}: held-out" if has_pool else title)
    ax.set_xticks(gens)
    ax.legend(fontsize=7, ncol=2)
    paths.append(_save(fig, out_dir / "solved.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    series = [("held-out", "heldout_valid_plan_lengths", "tab:blue")]
    if has_pool:
        series.insert(0, ("pool", "pool_valid_plan_lengths", "tab:orange"))
    width = 0.8 / len(series)
    for i, (label, key, colour) in enumerate(series):
        lengths = [r.get(key) or [float("nan")] for r in rows]
        offset = (i - (len(series) - 1) / 2) * width
        box = ax.boxplot(lengths, positions=[g + offset for g in gens], widths=width * 0.9, patch_artist=True,
                         manage_ticks=False)
        for patch in box["boxes"]:
            patch.set(facecolor=colour, alpha=0.6)
        ax.plot([], [], "s", color=colour, label=label)
    ax.set(xlabel="generation", ylabel="valid plan length (steps)", title=title)
    ax.set_xticks(gens)
    ax.legend()
    paths.append(_save(fig, out_dir / "plan_lengths.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    if has_pool:
        ax.plot(gens, [r["pool_longest_valid_plan"] or 0 for r in rows], "-^", label="pool (solved tasks' shortest plans)")
    ax.plot(gens, [r["longest_valid_plan"] or 0 for r in rows], "-o", label="held-out (greedy)")
    deployed = [(r["generation"], r["deploy"]["longest_valid_plan"] or 0) for r in rows if r.get("deploy")]
    if deployed:
        ax.plot(*zip(*deployed), "-s", label="deployment (sampled)")
    ax.set(xlabel="generation", ylabel="longest valid plan (steps)", title=title)
    ax.set_xticks(gens)
    ax.legend()
    paths.append(_save(fig, out_dir / "longest_plan.png"))
    return paths


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic.open_atomic(path, "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)
    return path


def write_report(run_dir: str | Path) -> list[Path]:
    """Rewrite ``metrics.csv`` and the PNG plots of a run folder from its finished generations.

    Returns:
        The files written.

    Raises:
        FileNotFoundError, ValueError: as :func:`load_metrics`.
    """
    run_dir = Path(run_dir)
    rows = load_metrics(run_dir)
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    title = f"{config.get('domain', '')}, curation={config.get('curation', '')}"
    return [write_csv(rows, run_dir / "metrics.csv"), *plot(rows, run_dir, title)]
