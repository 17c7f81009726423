"""``experiments/failure_modes.py`` (why sampled plans fail, and the samples' diversity) and
``experiments/token_loss.py`` (which completion tokens carry a checkpoint's loss) and
``experiments/sokoban_boxes.py`` (how many boxes a solved Sokoban task still had to move)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _experiment(name: str):
    path = Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"experiments_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def failure_modes():
    return _experiment("failure_modes")


def _trace(task: str, completion: str, valid: bool, reason: str = "", step: int | None = None) -> dict:
    return {"task_id": task, "completion": completion, "valid": valid, "reason": reason, "failed_step": step}


def test_tally_counts_classes_first_steps_and_the_unsolved_tasks_distinct_samples(failure_modes):
    unmet = "step 1 (navigate rover0 waypoint1 waypoint2): precondition(s) not satisfied: (can_traverse rover0 waypoint1 waypoint2)"
    traces = [
        _trace("a", "(x)", True), _trace("a", "(y)", False, "goal not satisfied", 2),   # solved: not counted below
        _trace("b", "(p)", False, unmet, 1), _trace("b", "(p)", False, unmet, 1),
        _trace("b", "(q)", False, "step 2: unknown object camera3", 2),
        _trace("c", "(r)", False, "goal not satisfied", 3),
    ]
    counts = failure_modes.tally(traces)
    assert (counts["samples"], counts["valid"], counts["first_step"]) == (6, 1, 2)
    assert counts["classes"] == {"goal unmet": 2, "precondition": 2, "unknown object": 1}
    assert counts["predicates"] == {"can_traverse": 2}
    assert counts["unsolved_tasks"] == 2 and counts["distinct_unsolved"] == pytest.approx((2 + 1) / 2)


def test_no_unsolved_task_gives_zero_distinct(failure_modes):
    assert failure_modes.distinct_unsolved([_trace("a", "(x)", True)]) == (0, 0.0)


def test_token_kinds_name_each_action_argument_by_its_position():
    tokens = ["(", "calibrate", " rover0", " camera1", " objective2", " waypoint3", ")", "\n", "(", "drop", " rover0",
              " rover0store", ")", "\n", "</s>"]
    kinds = _experiment("token_loss").token_kinds(tokens)
    assert kinds[1:6] == ["calibrate", "calibrate:arg1", "calibrate:arg2", "calibrate:arg3", "calibrate:arg4"]
    assert kinds[9:12] == ["drop", "drop:arg1", "drop:arg2"]
    assert {kinds[i] for i in (0, 6, 7, 8, 12, 13, 14)} == {"punctuation"}


def test_name_similarity_is_one_for_collapsed_names_and_zero_for_orthogonal_ones():
    import torch

    class Model:
        def __init__(self, rows):
            self.embedding = torch.nn.Embedding.from_pretrained(torch.tensor(rows, dtype=torch.float))

        def get_input_embeddings(self):
            return self.embedding

    class Tokenizer:
        def get_vocab(self):
            return {" camera0": 0, " camera1": 1, " waypoint0": 2}

    similarity = _experiment("token_loss").name_similarity
    assert similarity(Model([[1, 0], [2, 0], [0, 1]]), Tokenizer(), ["camera0", "camera1"]) == pytest.approx(1.0)
    assert similarity(Model([[1, 0], [2, 0], [0, 1]]), Tokenizer(), ["camera0", "waypoint0"]) == pytest.approx(0.0)
    with pytest.raises(KeyError, match="camera7"):
        similarity(Model([[1, 0], [2, 0], [0, 1]]), Tokenizer(), ["camera0", "camera7"])


def _sokoban_prompt(init_boxes: dict, goal_boxes: dict) -> str:
    init = " ".join(f"(at {b} {loc})" for b, loc in init_boxes.items())
    goal = " ".join(f"(at {b} {loc})" for b, loc in goal_boxes.items())
    return f"init: {init} (at-robot loc_1_1) (clear loc_1_2)\ngoal: {goal}\nplan:\n"


def test_sokoban_boxes_counts_boxes_off_goal_and_splits_the_solved_tasks_by_it():
    boxes = _experiment("sokoban_boxes")
    one_on_goal = _sokoban_prompt({"box1": "loc_2_2", "box2": "loc_3_3"}, {"box1": "loc_2_3", "box2": "loc_3_3"})
    both_off = _sokoban_prompt({"box1": "loc_2_2", "box2": "loc_3_3"}, {"box1": "loc_2_3", "box2": "loc_3_4"})
    assert boxes.boxes_off_goal(one_on_goal) == 1 and boxes.boxes_off_goal(both_off) == 2
    push, move = "(push loc_2_1 loc_2_2 loc_2_3 right box1)", "(move loc_1_1 loc_2_1 down)"
    traces = [
        {"task_id": "a", "size": "g5b2w3", "prompt": one_on_goal, "valid": True, "plan_length": 3,
         "completion": f"{move}\n{push}\n{push}\n</s>"},
        {"task_id": "a", "size": "g5b2w3", "prompt": one_on_goal, "valid": True, "plan_length": 2,
         "completion": f"{move}\n{push}\n</s>"},
        {"task_id": "b", "size": "g5b2w3", "prompt": both_off, "valid": False, "plan_length": None, "completion": ""},
    ]
    table = boxes.tally(traces)
    assert table[("g5b2w3", 1)] == {"tasks": 1, "solved": 1, "pushes": [1]}  # the shortest valid plan's pushes
    assert table[("g5b2w3", 2)] == {"tasks": 1, "solved": 0, "pushes": []}
    with pytest.raises(ValueError, match="no 'goal:' line"):
        boxes.boxes_off_goal("(define (problem p) ...)")
