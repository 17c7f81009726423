"""``benchmarks/domains.py`` (issue 15): which model each of the ten domains runs, and the table it prints."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def domains(load_benchmark):
    return load_benchmark("domains")


def test_the_ten_domains_are_the_learning_tracks(domains):
    assert set(domains.TEN_DOMAINS) == {"blocksworld", "childsnack", "ferry", "floortile", "miconic", "rovers",
                                        "satellite", "sokoban", "spanner", "transport"}


def test_embedded_planner_where_shipped_otherwise_the_cpu_llm(domains, tmp_path):
    args = domains.argparse.Namespace(out=str(tmp_path), seed=0, threads=1, generations=2, pool=120,
                                      heldout_per_size=10, llm_generations=1, llm_pool=4)
    shipped = {d for d in domains.TEN_DOMAINS if domains.has_embedded(d)}
    assert shipped == {"blocksworld", "ferry", "miconic", "rovers", "sokoban"}
    ferry = domains.domain_config("ferry", args)
    assert ferry.model == "" and ferry.tasks_per_generation == 120 and ferry.out == str(tmp_path / "ferry")
    spanner = domains.domain_config("spanner", args)
    assert spanner.model == domains.CPU_LLM and spanner.few_shot == 1 and spanner.tasks_per_generation == 4
    spanner.check()


def test_record_and_table(domains):
    metrics = [{"generation": g, "pool_solved_fraction": f, "heldout_solved_fraction": h, "pool_longest_valid_plan": L,
                "seconds": 10.0, "deploy": {"tasks": 6, "samples": 48}} for g, f, h, L in ((0, .25, .1, 7), (1, .5, .2, 9))]
    config = domains.RunConfig(domain="ferry", generations=1)
    record = domains.domain_record("ferry", config, metrics)
    assert record["first_pool_solved_fraction"] == .25 and record["last_pool_solved_fraction"] == .5
    assert record["longest_valid_plan"] == 9 and record["seconds"] == 20.0 and record["model"] == "embedded"
    line = domains.markdown([record]).splitlines()[-1]
    assert line == "| ferry | embedded | 1 | 6 | 0.25 → 0.50 | 0.10 → 0.20 | 9 | 20 |"


def test_tables_only_rebuilds_records_from_run_folders_and_runs_nothing(domains, tmp_path, capsys):
    import json

    run = tmp_path / "runs" / "ferry"
    for g, fraction in ((0, .25), (1, .5)):
        (run / f"gen_{g:02d}").mkdir(parents=True)
        (run / f"gen_{g:02d}" / "metrics.json").write_text(json.dumps(
            {"generation": g, "pool_solved_fraction": fraction, "heldout_solved_fraction": .1,
             "pool_longest_valid_plan": 7 + g, "seconds": 5.0, "deploy": {"tasks": 6}}))
    (run / "config.json").write_text("{}")
    results = tmp_path / "domains.json"
    assert domains.main(["ferry", "miconic", "--tables-only", "--out", str(tmp_path / "runs"),
                         "--results", str(results)]) == 0
    (record,) = json.loads(results.read_text())  # miconic has no run folder: left out, not run
    assert record["domain"] == "ferry" and record["pool_tasks"] == 6 and record["longest_valid_plan"] == 8
    assert "| ferry | embedded | 2 | 6 | 0.25 → 0.50 |" in capsys.readouterr().out


def test_the_cpu_llm_runs_take_the_smollm2_cpu_preset_without_its_warm_start(domains, tmp_path):
    args = domains.argparse.Namespace(out=str(tmp_path), seed=0, threads=1, generations=2, pool=120,
                                      heldout_per_size=10, llm_generations=1, llm_pool=4)
    config = domains.domain_config("transport", args)
    assert (config.max_new_tokens, config.load_in_4bit, config.top_p, config.top_k, config.warm_start) == (160, False, 1.0, 0, 0)
    assert (config.finetune.learning_rate, config.finetune.train_batch_size, config.finetune.max_length) == (1e-3, 2, 4096)
