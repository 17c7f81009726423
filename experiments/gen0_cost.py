"""What an embedded generation 0 would cost, per domain: measured on a small corpus, scaled to the recipe.

    python experiments/gen0_cost.py                        # the five domains without a shipped planner
    python experiments/gen0_cost.py ferry childsnack --sample 200

For each domain it builds ``--sample`` rows of the pretraining corpus exactly as ``itdeploy pretrain``
does (the domain's ``pretrain`` sizes and default tail, optimal plans by breadth-first search with the
generator's witness plan as the fallback past ``max_states``), times it, and times ``--steps`` training
steps of the shipped model shape on those rows. Printed, per domain: seconds per reference plan, the
share of rows that fell back to the witness plan, mean plan length (steps) and tokens per row, training
seconds per step at batch 64, and the projection to the shipped recipe (15,000 tasks, 600 steps x 64):
corpus minutes, training minutes. Figures are for one thread on the machine as it is: say what else
was running when you quote them.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

from itdeploy_lite.models import build_model, build_tokenizer
from itdeploy_lite.pretrain import PretrainConfig, encode_rows, reference_corpus, train_sft

#: The domains of the paper's ten without a shipped embedded generation 0.
WITHOUT_PLANNER: tuple[str, ...] = ("childsnack", "floortile", "satellite", "spanner", "transport")


def cost(domain: str, sample: int, steps: int, recipe: PretrainConfig = PretrainConfig()) -> dict:
    """Measure one domain: corpus seconds per task, tokens per row, training seconds per step.

    Returns:
        ``{"domain", "seconds_per_plan", "witness_share", "mean_plan_length", "mean_tokens",
        "seconds_per_step", "corpus_minutes", "train_minutes"}``; the last two project ``recipe``
        (``n_problems`` tasks, ``steps`` x ``batch_size``).
    """
    config = replace(recipe, domain=domain, n_problems=sample, progress=False)
    start = time.perf_counter()
    rows = reference_corpus(config)
    corpus_seconds = time.perf_counter() - start
    tokenizer = build_tokenizer()
    examples = encode_rows(rows, tokenizer)
    torch.manual_seed(0)
    model = build_model(tokenizer, config.model)
    start = time.perf_counter()
    train_sft(model, examples, steps=steps, batch_size=config.batch_size, lr=config.lr,
              pad_id=tokenizer.pad_token_id, progress=False, log_every=steps + 1)
    per_step = (time.perf_counter() - start) / steps
    witness = sum(1 for r in rows if r.get("reference") == "witness")
    return {
        "domain": domain,
        "seconds_per_plan": corpus_seconds / len(rows),
        "witness_share": witness / len(rows),
        "mean_plan_length": sum(r["plan_length"] for r in rows) / len(rows),
        "mean_tokens": sum(len(ids) for ids, _ in examples) / len(examples),
        "seconds_per_step": per_step,
        "corpus_minutes": corpus_seconds / len(rows) * recipe.n_problems / 60,
        "train_minutes": per_step * recipe.steps / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("domains", nargs="*", default=list(WITHOUT_PLANNER))
    parser.add_argument("--sample", type=int, default=200, help="corpus rows to measure")
    parser.add_argument("--steps", type=int, default=10, help="training steps to time")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("| domain | s per reference plan | witness fallback | mean plan length | tokens per row "
          "| s per step (batch 64) | corpus, 15,000 tasks (min) | training, 600 steps (min) |")
    print("|---|---|---|---|---|---|---|---|")
    for domain in args.domains:
        try:
            r = cost(domain, args.sample, args.steps)
        except ValueError as err:  # e.g. a pretrain size whose task space is smaller than the corpus
            print(f"| {domain} | cannot build the corpus: {err} |||||||", flush=True)
            continue
        print(f"| {domain} | {r['seconds_per_plan']:.3f} | {r['witness_share']:.0%} | {r['mean_plan_length']:.1f} "
              f"| {r['mean_tokens']:.0f} | {r['seconds_per_step']:.2f} | {r['corpus_minutes']:.0f} "
              f"| {r['train_minutes']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
