"""Reading plans from what models really write."""

import pytest

from itdeploy_lite.planning import MalformedStep, PlanStep, canonical_plan, parse_plan

CANON = ["(unstack b2 b1)", "(stack b2 b3)"]


@pytest.mark.parametrize(
    "text",
    [
        "(unstack b2 b1)\n(stack b2 b3)",
        "```pddl\n(unstack b2 b1)\n(stack b2 b3)\n```",
        "1. (unstack b2 b1)\n2. (stack b2 b3)",
        "1: (unstack b2 b1)\n2: (stack b2 b3)",
        "1) (unstack b2 b1)\n2) (stack b2 b3)",
        "Step 1: (unstack b2 b1)\nStep 2: (stack b2 b3)",
        "0.000: (unstack b2 b1) [1.000]\n1.000: (stack b2 b3) [1.000]",
        "- (unstack b2 b1)\n* (stack b2 b3)",
        "; a comment\n(unstack b2 b1) ; why\n\n\n(stack b2 b3)\n",
        "(UNSTACK B2 B1)\n(Stack   b2    b3  )",
        "(unstack b2 b1) (stack b2 b3)",
        "(unstack b2 b1),\n(stack b2 b3).",
        "Here is my plan:\n(unstack b2 b1)\n(stack b2 b3)\nThis reaches the goal.",
        "<think>\nmaybe (pick-up b1)?\nno.\n</think>\n(unstack b2 b1)\n(stack b2 b3)",
        "Okay, (pick-up b1) is wrong.\n</think>\n(unstack b2 b1)\n(stack b2 b3)",  # <think> was in the prompt
        "\r\n(unstack b2 b1)\r\n\t(stack b2 b3)\r\n",
    ],
)
def test_lenient_reads_what_models_write(text):
    assert canonical_plan(text) == CANON
    assert all(isinstance(s, PlanStep) for s in parse_plan(text))


def test_line_numbers_survive_fences_and_reasoning():
    steps = parse_plan("<think>\na\nb\n</think>\n```\n(unstack b2 b1)\n```")
    assert steps == [PlanStep(6, "unstack", ("b2", "b1"))]


@pytest.mark.parametrize(
    "line, reason",
    [
        ("(unstack b2 b1", "unbalanced"),
        ("(unstack (b2) b1)", "parentheses"),
        ("()", "empty step"),
        ("(a) junk (b)", "unexpected text"),
        ("(a) junk", "unexpected text"),
    ],
)
def test_malformed_lines(line, reason):
    (step,) = parse_plan(line)
    assert isinstance(step, MalformedStep) and reason in step.reason and step.line == 1


def test_strict_accepts_only_canonical_lines():
    assert canonical_plan("(unstack b2 b1)\n\n(stack b2 b3)\n", strict=True) == CANON
    for text in ["1. (unstack b2 b1)", "```", "(unstack b2 b1) ; c", "(a) (b)", "prose", "(unstack b2 b1"]:
        steps = parse_plan(text, strict=True)
        assert len(steps) == 1 and isinstance(steps[0], MalformedStep), text


def test_unclosed_think_block_hides_everything_after_it():
    assert canonical_plan("(unstack b2 b1)\n<think>\n(stack b2 b3)") == ["(unstack b2 b1)"]
