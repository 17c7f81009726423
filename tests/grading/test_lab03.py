"""Grading lab 03 (deploying a model): extract_actions, pass_at_k / solved_fraction, failure_kind.

Expectations are independent of the package's answers (its plan parser, ``completion_plan_text`` and
``pass_at_k_by_size``, which the grader makes unavailable to the notebook): the extraction of each text
written out by hand, random mixtures of one-line pieces whose extractions are known (the rules are line by
line), the pass@k estimator computed from the formula, and properties of the validator's verdicts on plans
built to fail in each way. Edge cases: reasoning blocks opened in the
prompt or never closed, text after the end token, malformed lines, empty input, ties n - c < k, tasks with
different sample counts, empty record lists.
"""

import math
import random

import pytest

from itdeploy_lite.planning import domain_path, parse_task, validate
from itdeploy_lite.planning.generators import generate_problems
from itdeploy_lite.planning.mutate import mutations
from itdeploy_lite.prompts import plan_completion


@pytest.fixture(scope="module")
def lab(load_lab):
    return load_lab("03")


@pytest.fixture(scope="module")
def problems():
    ps = generate_problems("blocksworld", {"blocks": 4}, 3, seed=5)
    domain = domain_path("blocksworld").read_text(encoding="utf-8")
    return [(p, parse_task(domain, p.pddl, "blocksworld", p.name)) for p in ps]


# --- exercise 1: extract_actions ------------------------------------------------------------------------
TEXTS = {
    "clean": "(pick-up b1)\n(stack b1 b2)\n</s>",
    "case and spaces": "  (Pick-Up   B1 )\n(STACK b1  b2)",
    "think block": "<think>maybe (pick-up b9) first\n(stack b9 b1)?</think>\n(pick-up b1)\n(stack b1 b2)",
    "think opened in the prompt": "b3 is under b1, so (unstack b1 b3)\n</think>\n\n(unstack b1 b3)\n(put-down b1)",
    "unclosed think": "(pick-up b1)\n<think>now (stack b1 b2)\n(pick-up b3)",
    "two think blocks": "<THINK>a</THINK>(pick-up b1)\n<think>\n(x)\n</think>\n(stack b1 b2)",
    "end token": "(pick-up b1)\n</s>(stack b1 b2)\n(put-down b2)",
    "comments": "(pick-up b1) ; +(holding b1) -(clear b1)\n; a whole-line comment (x y)\n(stack b1 b2);done",
    "fences and prose": "Here is the plan:\n```pddl\n(unstack b1 b3)\n(put-down b1)\n```\nThat solves it.",
    "numbering": "1. (unstack b1 b3)\n2) (put-down b1)\n3: (pick-up b3)\nStep 4: (stack b3 b2)\nstep 5:(pick-up b1)",
    "bullets": "- (pick-up b1)\n* (stack b1 b2)\n-   3. (pick-up b4)",
    "several per line": "(pick-up b1) (stack b1 b2), (pick-up b3),(stack b3 b1)",
    "malformed lines": "(pick-up b1\n((stack b1 b2))\n(pick-up b1) then\n()\n( )\n(put-down b1))\n(unstack b2 b3)",
    "prose with parentheses": "I will (carefully) move b1.\nFirst (pick-up b1)\n(pick-up b2)",
    "empty": "",
    "only prose": "I cannot solve this task.",
    "only reasoning": "<think>(pick-up b1)\n(stack b1 b2)</think>",
    "blank lines and tabs": "\n\n\t(pick-up b1)\t\n\n(stack\tb1 b2)\n",
}


EXPECTED = {
    "clean": ["(pick-up b1)", "(stack b1 b2)"],
    "case and spaces": ["(pick-up b1)", "(stack b1 b2)"],
    "think block": ["(pick-up b1)", "(stack b1 b2)"],
    "think opened in the prompt": ["(unstack b1 b3)", "(put-down b1)"],
    "unclosed think": ["(pick-up b1)"],
    "two think blocks": ["(pick-up b1)", "(stack b1 b2)"],
    "end token": ["(pick-up b1)"],
    "comments": ["(pick-up b1)", "(stack b1 b2)"],
    "fences and prose": ["(unstack b1 b3)", "(put-down b1)"],
    "numbering": ["(unstack b1 b3)", "(put-down b1)", "(pick-up b3)", "(stack b3 b2)", "(pick-up b1)"],
    "bullets": ["(pick-up b1)", "(stack b1 b2)", "(pick-up b4)"],
    "several per line": ["(pick-up b1)", "(stack b1 b2)", "(pick-up b3)", "(stack b3 b1)"],
    "malformed lines": ["(unstack b2 b3)"],
    "prose with parentheses": ["(pick-up b2)"],  # "First (pick-up b1)" has text before the action: skipped
    "empty": [],
    "only prose": [],
    "only reasoning": [],
    "blank lines and tabs": ["(pick-up b1)", "(stack b1 b2)"],
}

#: One-line pieces and what each extracts to; a text of such lines extracts to their concatenation.
PIECES = {"(pick-up b1)": ["(pick-up b1)"], "(Stack B1 b2)": ["(stack b1 b2)"], "1. (put-down b3)": ["(put-down b3)"],
          "Step 2: (unstack b2 b1)": ["(unstack b2 b1)"], "- (pick-up b4)": ["(pick-up b4)"], "prose line": [],
          "(broken b1": [], "((nested))": [], "; comment": [], "```": [], "": [], "<think>(x)</think>": [],
          "(a b) (c d)": ["(a b)", "(c d)"], "(pick-up b1) ; +(holding b1)": ["(pick-up b1)"]}


@pytest.mark.exercise("extract_actions")
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_extract_actions_by_hand(lab, name):
    assert lab.extract_actions(TEXTS[name]) == EXPECTED[name]


@pytest.mark.exercise("extract_actions")
def test_extract_actions_known_answers(lab):
    assert lab.extract_actions(TEXTS["think opened in the prompt"]) == ["(unstack b1 b3)", "(put-down b1)"]
    assert lab.extract_actions(TEXTS["unclosed think"]) == ["(pick-up b1)"]
    assert lab.extract_actions(TEXTS["malformed lines"]) == ["(unstack b2 b3)"]
    assert lab.extract_actions(TEXTS["several per line"]) == ["(pick-up b1)", "(stack b1 b2)", "(pick-up b3)", "(stack b3 b1)"]
    assert lab.extract_actions(TEXTS["end token"]) == ["(pick-up b1)"]
    assert lab.extract_actions("") == [] and lab.extract_actions("no plan") == []
    example = "<think>try (pick-up b9)</think>\nPlan:\n1. (Pick-Up  b1)\n(stack b1 b2) ; done\n</s>(x)"
    assert lab.extract_actions(example) == ["(pick-up b1)", "(stack b1 b2)"]


@pytest.mark.exercise("extract_actions")
def test_extract_actions_on_embedded_model_completions(lab, problems):
    for p, task in problems:
        for trace in ("none", "delta"):
            completion = plan_completion(list(p.witness_plan), task if trace == "delta" else None, trace=trace)
            assert lab.extract_actions(completion) == [" ".join(s.split()) for s in p.witness_plan]
            assert lab.extract_actions(completion + "(pick-up b1)\n") == [" ".join(s.split()) for s in p.witness_plan]


@pytest.mark.exercise("extract_actions")
def test_extract_actions_on_random_mixtures(lab, problems):
    rng = random.Random(3)
    pieces = sorted(PIECES)
    for _ in range(200):
        lines = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        text = "\n".join(lines)
        if rng.random() < 0.3:
            text += "\n</s>\n" + rng.choice(pieces)  # nothing after the end token counts
        assert lab.extract_actions(text) == [a for line in lines for a in PIECES[line]], text


# --- exercise 2: pass_at_k, solved_fraction -------------------------------------------------------------
@pytest.mark.exercise("pass_at_k")
@pytest.mark.parametrize("n, c, k, expected", [
    (4, 1, 1, 0.25),
    (4, 1, 2, 0.5),
    (4, 2, 2, 1 - 1 / 6),
    (10, 2, 5, 1 - 56 / 252),
    (5, 0, 3, 0.0),
    (5, 3, 3, 1.0),  # n - c < k: every choice holds a valid sample
    (1, 1, 1, 1.0),
    (8, 8, 1, 1.0),
    (8, 1, 8, 1.0),
])
def test_pass_at_k_values(lab, n, c, k, expected):
    assert lab.pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.exercise("pass_at_k")
def test_pass_at_k_matches_the_formula(lab):
    for n in range(1, 12):
        for c in range(n + 1):
            for k in range(1, n + 1):
                expected = 1.0 if n - c < k else 1 - math.comb(n - c, k) / math.comb(n, k)
                assert lab.pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.exercise("pass_at_k")
@pytest.mark.parametrize("n, c, k", [(4, 1, 5), (4, 5, 1), (4, -1, 1), (4, 1, 0), (0, 0, 1)])
def test_pass_at_k_rejects_bad_arguments(lab, n, c, k):
    with pytest.raises(ValueError):
        lab.pass_at_k(n, c, k)


def _records(spec: dict[str, list[bool]], size: str = "b4") -> list[dict]:
    return [{"task_id": t, "sample_id": i, "valid": v, "size": size} for t, vs in spec.items() for i, v in enumerate(vs)]


@pytest.mark.exercise("solved_fraction")
def test_solved_fraction_by_hand(lab):
    records = _records({"a": [False, True, False, False], "b": [False] * 4, "c": [True, True]})
    random.Random(0).shuffle(records)
    assert lab.solved_fraction(records) == pytest.approx(2 / 3)
    assert lab.solved_fraction(records, 1) == pytest.approx((0.25 + 0 + 1) / 3)
    assert lab.solved_fraction(records, 2) == pytest.approx((0.5 + 0 + 1) / 3)
    with pytest.raises(ValueError):
        lab.solved_fraction(records, 3)  # task c has only 2 samples
    with pytest.raises(ValueError):
        lab.solved_fraction([])


@pytest.mark.exercise("solved_fraction")
def test_solved_fraction_weighs_tasks_not_samples(lab):
    records = _records({"a": [True] * 10, "b": [False]})
    assert lab.solved_fraction(records) == pytest.approx(0.5)
    assert lab.solved_fraction(records, 1) == pytest.approx(0.5)


@pytest.mark.exercise("solved_fraction")
def test_solved_fraction_with_k_n_is_any_valid(lab):
    rng = random.Random(1)
    for _ in range(30):
        spec = {f"t{i}": [rng.random() < 0.3 for _ in range(6)] for i in range(rng.randint(1, 9))}
        records = _records(spec)
        solved = sum(any(v) for v in spec.values()) / len(spec)  # a task is solved when any sample is valid
        assert lab.solved_fraction(records) == pytest.approx(solved)
        assert lab.solved_fraction(records, 6) == pytest.approx(solved)
        per_task = [sum(v) / len(v) for v in spec.values()]
        assert lab.solved_fraction(records, 1) == pytest.approx(sum(per_task) / len(per_task))


# --- exercise 3: failure_kind -----------------------------------------------------------------------------
@pytest.mark.exercise("failure_kind")
def test_failure_kind_on_plans_built_to_fail(lab, problems):
    p, task = problems[0]
    plan = list(p.witness_plan)
    cases = {
        "valid": "\n".join(plan),
        "no plan": "I give up.",
        "bad step": "\n".join(plan[:1] + ["(pick-up b99)"] + plan[1:]),
        "precondition": "\n".join(plan[:1] + plan),  # the first step twice
        "goal not reached": "\n".join(plan[:1]),
    }
    for kind, text in cases.items():
        assert lab.failure_kind(validate(task, text)) == kind, (kind, text)
    assert lab.failure_kind(validate(task, "")) == "no plan"
    assert lab.failure_kind(validate(task, plan[0] + "\n(stack b1")) == "bad step"  # malformed
    assert lab.failure_kind(validate(task, "(fly b1)")) == "bad step"  # unknown action


@pytest.mark.exercise("failure_kind")
def test_failure_kind_on_mutated_plans(lab, problems):
    seen = set()
    for seed, (p, task) in enumerate(problems):
        rng = random.Random(seed)
        for _ in range(5):
            for _, plan in [("none", list(p.witness_plan))] + mutations(list(p.witness_plan), task.objects, task.schemas, rng):
                result = validate(task, "\n".join(plan))
                kind = lab.failure_kind(result)
                # each kind's defining property (the docstring's contract), one at a time
                assert (kind == "valid") == result.valid, plan
                assert (kind == "no plan") == (not result.valid and result.plan_length == 0), plan
                if kind in ("bad step", "precondition"):
                    assert result.failed_step is not None and bool(result.unsatisfied) == (kind == "precondition"), plan
                if kind == "goal not reached":
                    assert result.failed_step is None and result.plan_length > 0, plan
                seen.add(kind)
    assert seen == set(lab.FAILURE_KINDS)  # the mutations reach every kind
