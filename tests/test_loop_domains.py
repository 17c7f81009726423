"""The loop on every built-in domain (issue 15): ``itdeploy run --domain NAME`` with a pretrained LLM
(PDDL prompts, one few-shot example from the domain's ``pretrain`` split) deploys on the domain's pool and
evaluates on its held-out split. A tiny random Llama stands in for the LLM: what is checked is that every
stage runs and writes what it should, not that it solves anything."""

from __future__ import annotations

import pytest

from itdeploy_lite.config import RunConfig
from itdeploy_lite.curate import read_jsonl
from itdeploy_lite.finetune import FinetuneConfig
from itdeploy_lite.loop import run
from itdeploy_lite.planning.domains import BUILTIN_DOMAINS
from itdeploy_lite.planning.generators.splits import POOLS, SPLITS
from llm_tiny import build_tiny_llama

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def llm(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("llm") / "model")


def test_every_built_in_domain_has_splits_and_a_pool():
    assert {"childsnack", "ferry", "floortile", "miconic", "satellite", "spanner", "transport",
            "blocksworld", "rovers", "sokoban"} <= set(BUILTIN_DOMAINS)
    for domain in BUILTIN_DOMAINS:
        assert POOLS[domain] and all(SPLITS[domain][split] for split in ("pretrain", "train", "heldout")), domain


@pytest.mark.parametrize("domain", sorted(BUILTIN_DOMAINS))
def test_the_loop_runs_on_the_domain_with_an_llm(llm, tmp_path, domain):
    out = tmp_path / domain
    metrics = run(RunConfig(domain=domain, model=str(llm), out=str(out), generations=0, tasks_per_generation=2,
                            samples_per_task=1, heldout_per_size=1, max_new_tokens=8, few_shot=1, progress=False,
                            threads=1, finetune=FinetuneConfig(max_length=4096)))
    traces = read_jsonl(out / "gen_00/traces.jsonl")
    assert len(traces) == 2 and all(t["task_id"].startswith(f"{domain}-pool-") for t in traces)
    assert all(f"(define (domain" in t["prompt"] for t in traces)  # the PDDL prompt shows the domain
    held_out = read_jsonl(out / "gen_00/eval.jsonl")
    assert len(held_out) == len(SPLITS[domain]["heldout"])  # one task per held-out size
    assert metrics[0]["pool_solved_fraction"] is not None
