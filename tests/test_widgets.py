"""The curation widget (issue 6, item 4): drawings, the decisions file, and the widget driven by its callbacks."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

pytest.importorskip("ipywidgets")

from itdeploy_lite.curate import curate  # noqa: E402
from itdeploy_lite.planning import domain_path, parse_task, validate  # noqa: E402
from itdeploy_lite.planning.generators import SPLITS, generate_problems  # noqa: E402
from itdeploy_lite.prompts import plan_completion, task_prompt  # noqa: E402
from itdeploy_lite.widgets import (  # noqa: E402
    CurationWidget,
    append_decision,
    blocksworld_text,
    draw_state,
    latest_decisions,
    load_run,
    plan_html,
    plan_lines,
    trace_html,
    trace_text,
)


def _problem(domain: str, seed: int = 1, index: int = 0):
    size = SPLITS[domain]["train"][0]
    p = generate_problems(domain, size, index + 1, seed=seed)[index]
    return p, parse_task(domain_path(domain).read_text(encoding="utf-8"), p.pddl, domain, p.name)


def _broken(plan) -> list[str]:
    """The witness plan with its first step repeated: the repeat is the first step to fail in these
    domains (a block picked up twice, a robot or rover moved twice from where it no longer is)."""
    return list(plan[:1]) + list(plan)


# --- drawings --------------------------------------------------------------------------------------
def test_blocksworld_towers_bottom_up_and_the_held_block():
    state = frozenset({("ontable", "a"), ("on", "b", "a"), ("clear", "b"), ("ontable", "d"), ("holding", "c")})
    lines = blocksworld_text(state).splitlines()
    assert lines[0].split() == ["[b]"]
    assert lines[1].split() == ["[a]", "[d]"]
    assert set(lines[2]) == {"-"}
    assert lines[3] == "hand: c"


def test_sokoban_grid_shows_walls_boxes_goals_and_robot():
    p, task = _problem("sokoban")
    grid = draw_state(task, task.init).splitlines()[:-1]  # without the legend
    text = "\n".join(grid)
    boxes = sum(1 for a in task.init if a[0] == "at")
    assert text.count("@") + text.count("+") == 1
    assert text.count("$") + text.count("*") == boxes
    goals = {a[2] for a in task.goal_pos}
    assert text.count(".") + text.count("*") + text.count("+") == len(goals)
    n = max(int(o.split("_")[1]) for o in task.objects if o.startswith("loc_"))
    assert len(grid) == n + 2 and set(grid[0]) == {"#"}
    # the witness plan ends with every box on a goal
    final = validate(task, "\n".join(p.witness_plan)).final_state
    assert "$" not in "\n".join(draw_state(task, final).splitlines()[:-1])


def test_rovers_summary_names_rovers_samples_and_communicated_data():
    p, task = _problem("rovers")
    start = draw_state(task, task.init)
    assert "rover0 at waypoint" in start and "communicated: -" in start
    final = draw_state(task, validate(task, "\n".join(p.witness_plan)).final_state)
    for atom in task.goal_pos:
        assert atom[1] in final.split("communicated:")[1]


def test_other_domains_fall_back_to_the_atom_list():
    p, task = _problem("gripper")
    text = draw_state(task, task.init)
    assert all(f"({' '.join(a)})" in text for a in task.fluent_init)


@pytest.mark.parametrize("domain", ["blocksworld", "sokoban", "rovers"])
def test_plan_view_highlights_the_first_failing_step(domain):
    p, task = _problem(domain)
    plan = "\n".join(_broken(p.witness_plan))
    result = validate(task, plan)
    assert not result.valid and result.failed_step is not None
    lines = plan_lines(plan, result)
    statuses = [s.status for s in lines]
    k = result.failed_step
    assert statuses == ["ok"] * (k - 1) + ["failed"] + ["skipped"] * (len(lines) - k)
    assert lines[k - 1].text == result.failed_action and lines[k - 1].why
    page = plan_html(plan, result)
    assert page.count('class="failed"') == 1 and "INVALID" in page
    assert result.failed_action in page
    whole = trace_html(task, plan, result)
    assert "initial state" in whole and "final state" in whole
    ok = trace_text(task, "\n".join(p.witness_plan))
    assert "VALID (" in ok and ">>" not in ok


def test_plan_view_of_a_malformed_step_and_of_a_goal_not_reached():
    p, task = _problem("blocksworld")
    plan = p.witness_plan[0] + "\n(pick-up b1\n" + "\n".join(p.witness_plan[1:])
    result = validate(task, plan)
    assert [s.status for s in plan_lines(plan, result)][:3] == ["ok", "failed", "skipped"]
    short = "\n".join(p.witness_plan[:1])
    result = validate(task, short)
    assert [s.status for s in plan_lines(short, result)] == ["ok"]
    assert "unmet goals" in plan_html(short, result)


# --- the decisions file ----------------------------------------------------------------------------
def test_decisions_file_appends_and_the_latest_line_wins(tmp_path):
    path = tmp_path / "d.jsonl"
    rec = {"generation": 0, "task_id": "t", "sample_id": 1}
    append_decision(path, rec, "accept")
    append_decision(path, rec, "reject")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines == [{"task_id": "t", "sample_id": 1, "generation": 0, "decision": d} for d in ("accept", "reject")]
    assert latest_decisions(path) == {(0, "t", 1): "reject"}
    with pytest.raises(ValueError):
        append_decision(path, rec, "skip")


def test_a_torn_last_line_is_cut_before_the_next_append(tmp_path):
    path = tmp_path / "d.jsonl"
    rec = {"generation": 0, "task_id": "t", "sample_id": 1}
    append_decision(path, rec, "accept")
    with path.open("a") as f:
        f.write('{"task_id": "t", "sam')  # a crash in the middle of a write
    append_decision(path, {**rec, "sample_id": 2}, "accept")
    assert latest_decisions(path) == {(0, "t", 1): "accept", (0, "t", 2): "accept"}


# --- the widget ------------------------------------------------------------------------------------
def _records_and_tasks():
    """Two Blocksworld tasks x two samples (a valid plan and a broken one), as deploy + validate write them."""
    problems = generate_problems("blocksworld", {"blocks": 4}, 2, seed=3)
    text = domain_path("blocksworld").read_text(encoding="utf-8")
    tasks, records = {}, []
    for p in problems:
        task = parse_task(text, p.pddl, "blocksworld", p.name)
        tasks[p.name] = task
        for sample_id, plan in enumerate((list(p.witness_plan), _broken(p.witness_plan))):
            completion = plan_completion(plan)
            result = validate(task, "\n".join(plan))
            records.append({"generation": 0, "task_id": p.name, "sample_id": sample_id, "prompt": task_prompt(task),
                            "completion": completion, "n_tokens": len(plan) * 4, "valid": result.valid,
                            "plan_length": result.plan_length, "failed_step": result.failed_step,
                            "reason": result.reason})
    return records, tasks


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_widget_clicks_write_decisions_and_a_new_widget_resumes(tmp_path):
    records, tasks = _records_and_tasks()
    path = tmp_path / "decisions.jsonl"
    w = CurationWidget(records=records, tasks=tasks, decisions_path=path)
    assert w.index == 0 and w.progress().startswith("trace 1/4")
    assert "VALID" in w.html.value and "initial state" in w.html.value
    w.buttons["accept"].click()            # trace 0
    assert w.index == 1 and 'class="failed"' in w.html.value  # trace 1 is the broken plan
    w.reject()                             # trace 1
    w.skip()                               # trace 2: stays undecided
    assert w.index == 3
    w.press("a")                           # trace 3
    assert [(x["task_id"], x["sample_id"], x["decision"]) for x in _lines(path)] == [
        (records[0]["task_id"], 0, "accept"), (records[1]["task_id"], 1, "reject"), (records[3]["task_id"], 1, "accept")]
    assert all(x["generation"] == 0 for x in _lines(path))
    assert w.index == 2 and "accepted 2, rejected 1, undecided 1" in w.progress()

    # a kernel restart: a new widget on the same file starts at the skipped trace
    w2 = CurationWidget(records=records, tasks=tasks, decisions_path=path)
    assert w2.index == 2 and w2.decisions == w.decisions
    selected = curate(records, "manual", 0, decisions=path)
    assert [(r["task_id"], r["sample_id"]) for r in selected] == sorted(
        (r["task_id"], r["sample_id"]) for r in (records[0], records[3]))

    # change one's mind: go back and reject the first trace; the later line wins
    w2.go(0)
    w2.reject()
    selected = curate(records, "manual", 0, decisions=path)
    assert [(r["task_id"], r["sample_id"]) for r in selected] == [(records[3]["task_id"], 1)]
    w2.accept()                            # the last undecided one
    assert "every trace has a decision" in w2.status.value
    w3 = CurationWidget(records=records, tasks=tasks, decisions_path=path)
    assert w3.index == 0 and "undecided 0" in w3.progress()


def test_keyboard_box_and_navigation(tmp_path):
    records, tasks = _records_and_tasks()
    path = tmp_path / "decisions.jsonl"
    w = CurationWidget(records=records, tasks=tasks, decisions_path=path)
    w.keys.value = "r"                     # what typing "r" into the keys box does
    assert w.keys.value == "" and _lines(path)[-1]["decision"] == "reject" and w.index == 1
    w.keys.value = "n"
    w.keys.value = "n"
    assert w.index == 3
    w.keys.value = "N"                     # at the end: stays
    assert w.index == 3
    w.keys.value = "p"
    w.buttons["prev"].click()
    assert w.index == 1
    w.keys.value = "x"                     # not a shortcut: nothing happens
    w.keys.value = "s"
    assert w.index == 2 and len(_lines(path)) == 1
    assert w.text().splitlines()[0].endswith("decision: -") and "failed" not in w.text()


@pytest.mark.parametrize("protocol", ["pool", "fresh"])
def test_widget_reads_a_run_folder(tmp_path, protocol):
    from itdeploy_lite.config import RunConfig
    from itdeploy_lite.task_sets import deployment_tasks
    from itdeploy_lite.planning.generators.splits import make_split

    config = RunConfig(domain="blocksworld", sizes="4;5", tasks_per_generation=2, heldout_per_size=2,
                       out=str(tmp_path / "run"), protocol=protocol)
    run_dir = tmp_path / "run"
    (run_dir / "gen_00").mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(config)))
    exclude = {p.key for p in make_split("blocksworld", "heldout", 2)}
    loop_tasks = deployment_tasks(config, 0, exclude)
    rows = [{"generation": 0, "task_id": t.task_id, "sample_id": 0, "prompt": task_prompt(t.task),
             "completion": "(pick-up b1)\n</s>", "n_tokens": 5, "valid": False, "plan_length": 1,
             "failed_step": None, "reason": "x"} for t in loop_tasks]
    (run_dir / "gen_00" / "traces.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    records, tasks = load_run(run_dir)
    assert [r["task_id"] for r in records] == [t.task_id for t in loop_tasks] and set(tasks) == {t.task_id for t in loop_tasks}
    w = CurationWidget(run_dir, tmp_path / "d.jsonl", generation=0)
    w.accept()
    assert [r["task_id"] for r in curate(w.records, "manual", 0, decisions=tmp_path / "d.jsonl")] == [rows[0]["task_id"]]
    rows[0]["prompt"] = "init: (handempty)\ngoal: (clear b1)\nplan:\n"  # a trace from another task
    (run_dir / "gen_00" / "traces.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValueError, match="prompt differs"):
        load_run(run_dir)
