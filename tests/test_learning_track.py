"""The loop on the IPC 2023 learning track's own files (issue 15): ``itdeploy run --tasks DIR --domain
DIR/domain.pddl``, where the domain file and the problem files are the track's (``tests/fixtures/ipc2023``,
copied unchanged), and the embedded planner is chosen by the name the domain file declares."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from itdeploy_lite.config import RunConfig
from itdeploy_lite.curate import read_jsonl
from itdeploy_lite.loop import run
from itdeploy_lite.planning import breadth_first_search, load_task, validate
from itdeploy_lite.planning.domains import domain_name
from itdeploy_lite.prompts import completion_plan_text

TRACK = Path(__file__).parent / "fixtures" / "ipc2023"

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("domain", ["ferry", "miconic"])
def test_the_tracks_files_parse_and_an_optimal_plan_validates(domain):
    folder = TRACK / domain
    assert domain_name(folder / "domain.pddl") == domain
    for problem in sorted(folder.glob("p*.pddl")):
        task = load_task(folder / "domain.pddl", problem)
        plan = breadth_first_search(task, max_states=200_000)
        assert plan and validate(task, plan).valid, problem.name


@pytest.mark.parametrize("domain", ["ferry", "miconic"])
def test_run_on_the_tracks_tasks_deploys_the_domains_embedded_planner(tmp_path, monkeypatch, domain):
    folder = TRACK / domain
    monkeypatch.chdir(tmp_path)  # the default run folder is relative: runs/<declared name>-paper-s0
    config = RunConfig(tasks=str(folder), domain=str(folder / "domain.pddl"), generations=1, samples_per_task=2,
                       progress=False, threads=1)
    assert config.run_dir() == Path("runs") / f"{domain}-paper-s0"
    metrics = run(config)
    out = tmp_path / config.run_dir()
    assert (out / "base_model" / "config.json").is_file()  # the embedded checkpoint, copied into the run
    traces = read_jsonl(out / "gen_00" / "traces.jsonl")
    problems = sorted(p.stem for p in folder.glob("p*.pddl"))
    assert sorted({t["task_id"] for t in traces}) == problems and len(traces) == 2 * len(problems)
    # every trace's verdict is the validator's on the track's own domain file
    for t in traces:
        task = load_task(folder / "domain.pddl", folder / f"{t['task_id']}.pddl")
        assert t["valid"] == validate(task, completion_plan_text(t["completion"])).valid
    assert len(metrics) == 2 and metrics[0]["pool_solved_fraction"] is not None


def test_a_domain_file_without_a_shipped_planner_names_its_declared_domain(tmp_path):
    folder = tmp_path / "boats"
    shutil.copytree(TRACK / "ferry", folder)
    text = (folder / "domain.pddl").read_text().replace("(domain ferry)", "(domain boats)")
    (folder / "domain.pddl").write_text(text)
    for problem in folder.glob("p*.pddl"):
        problem.write_text(problem.read_text().replace("(:domain ferry)", "(:domain boats)"))
    with pytest.raises(FileNotFoundError, match="no embedded model 'boats'.*--model smollm2-135m"):
        run(RunConfig(tasks=str(folder), domain=str(folder / "domain.pddl"), generations=0, out=str(tmp_path / "run"),
                      progress=False, threads=1))
    assert not (tmp_path / "run").exists()  # nothing written before the error
