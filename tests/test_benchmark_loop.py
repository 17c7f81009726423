"""``benchmarks/loop.py``: its records and the README's results table, for both protocols."""

from __future__ import annotations

from dataclasses import replace

import pytest

from itdeploy_lite.config import RunConfig


@pytest.fixture(scope="module")
def loop(load_benchmark):
    return load_benchmark("loop")


def _metrics(pool: list[float | None], deployed: list[int | None]) -> list[dict]:
    """Per-generation metrics as the loop writes them (1,000 tasks deployed; None: nothing deployed)."""
    return [{"generation": g, "heldout_solved_fraction": 0.2 + 0.01 * g, "pool_solved_fraction": p,
             "pool_greedy_solved_fraction": None if p is None else p / 2, "pool_longest_valid_plan": None if p is None else 9,
             "deploy": {} if d is None else {"tasks": 1000, "solved_tasks": d, "longest_valid_plan": 10 + g}}
            for g, (p, d) in enumerate(zip(pool, deployed))]


def test_a_pool_run_shows_its_pool_and_a_fresh_run_its_deployed_tasks(loop):
    pool = loop.records("pool-run", RunConfig(), _metrics([0.2, 0.3, 0.5], [200, 300, 500]))
    fresh = loop.records("fresh-run", replace(RunConfig(), protocol="fresh"), _metrics([None] * 3, [250, 400, None]))
    assert fresh[1]["deploy_solved_fraction"] == 0.4 and fresh[2]["deploy_solved_fraction"] is None
    assert pool[0]["protocol"] == "pool" and pool[2]["deploy_longest_valid_plan"] == 12
    table = loop.markdown_table(pool + fresh, ["pool-run", "fresh-run"]).splitlines()
    assert table[2].startswith("| pool-run | 1 | 0.20 0.30 0.50 | 2.50x | 0.10 0.15 0.25 | 9 9 9 |")
    # fresh: no pool; the deployed tasks' pass@k and longest plan, over the generations that deployed
    assert table[3].startswith("| fresh-run | 1 | 0.25 0.40 | 1.60x | - | 10 11 | 0.20 0.21 0.22 |")


def test_every_experiment_is_a_valid_run_config(loop):
    for name, (_, overrides) in loop.EXPERIMENTS.items():
        replace(RunConfig(), **overrides).check()
