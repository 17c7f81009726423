"""Sampling speed of the embedded planner: the project's sampler against a plain KV-cache decode loop.

    python benchmarks/sampling.py                      # Blocksworld pool tasks, k=8, T=0.6, batch 128, 1 thread
    python benchmarks/sampling.py --tasks 96 --batch-size 256 --threads 1

On the same prompts (the first ``--tasks`` tasks of the default deployment pool, spread over its sizes)
and budgets, in one process, it measures completion tokens per second (tokens up to and including the
end token, divided by wall seconds) of:

* ``generate``: :func:`itdeploy_lite.deploy.sample_completions`, the sampler every deployment uses
  (its default engine, ``refill``);
* ``hf_generate``: the same with ``engine="generate"`` (``model.generate``, batches padded to the slowest row);
* ``decode_loop``: a plain loop written here: batches of ``--batch-size`` rows, one prefill, then one
  forward pass per token on the model's ``DynamicCache`` until every row of the batch has ended, no
  logits processors.

Each is run ``--repeats`` times and the best time is kept. The last line is ``ratio R`` with
R = generate_tok_s / decode_loop_tok_s (the target is >= 0.8). Not a test: timings depend on the machine
and on what else runs; say what else was running when you quote a figure.
"""

from __future__ import annotations

import argparse
import json
import time

import torch


@torch.no_grad()
def decode_loop(model, tokenizer, prompts: list[str], budgets: list[int], k: int, temperature: float,
                batch_size: int, seed: int = 0) -> int:
    """The reference: static left-padded batches, one forward per step; returns completion tokens written."""
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    rows = sorted(((len(tokenizer(prompts[t], add_special_tokens=False)["input_ids"]), t) for t in range(len(prompts))
                   for _ in range(k)))
    torch.manual_seed(seed)
    tokenizer.padding_side = "left"
    total = 0
    for start in range(0, len(rows), batch_size):
        batch = [t for _, t in rows[start:start + batch_size]]
        enc = tokenizer([prompts[t] for t in batch], return_tensors="pt", padding=True, add_special_tokens=False)
        mask = enc["attention_mask"]
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        out = model(input_ids=enc["input_ids"], attention_mask=mask, position_ids=positions, use_cache=True)
        cache, logits, pos = out.past_key_values, out.logits[:, -1], positions[:, -1] + 1
        budget = torch.tensor([budgets[t] for t in batch])
        alive = torch.ones(len(batch), dtype=torch.bool)
        for step in range(int(budget.max())):
            token = torch.multinomial(torch.softmax(logits / temperature, -1), 1).squeeze(1)
            total += int(alive.sum())
            alive &= (token != eos) & (step + 1 < budget)
            if not alive.any():
                break
            mask = torch.cat([mask, torch.ones(len(batch), 1, dtype=mask.dtype)], 1)
            out = model(input_ids=token[:, None], attention_mask=mask, position_ids=pos[:, None],
                        past_key_values=cache, use_cache=True)
            cache, logits, pos = out.past_key_values, out.logits[:, -1], pos + 1
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", default="blocksworld")
    parser.add_argument("--tasks", type=int, default=96, help="pool tasks (spread over the pool's sizes)")
    parser.add_argument("--samples", type=int, default=8, help="samples per task (k)")
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from itdeploy_lite.deploy import sample_completions
    from itdeploy_lite.formats import token_budget
    from itdeploy_lite.config import RunConfig
    from itdeploy_lite.task_sets import pool_tasks
    from itdeploy_lite.models import load_embedded
    from itdeploy_lite.prompts import task_prompt

    model, tokenizer = load_embedded(args.domain)
    model.eval()
    tasks = pool_tasks(RunConfig(domain=args.domain, tasks_per_generation=args.tasks), set())
    prompts = [task_prompt(t.task) for t in tasks]
    budgets = [token_budget(t.task) for t in tasks]

    def sampler(engine: str):
        def go() -> int:
            out = sample_completions(model, tokenizer, prompts, budgets, args.samples, args.temperature, 1.0,
                                     args.batch_size, 0, False, engine=engine)
            return sum(s["n_tokens"] for row in out for s in row)
        return go

    runs = {"generate": sampler("refill"), "hf_generate": sampler("generate"),
            "decode_loop": lambda: decode_loop(model, tokenizer, prompts, budgets, args.samples, args.temperature,
                                               args.batch_size)}
    figures = {}
    for name, fn in runs.items():
        best = None
        for _ in range(args.repeats):
            start = time.perf_counter()
            tokens = fn()
            seconds = time.perf_counter() - start
            best = (tokens, seconds) if best is None or seconds < best[1] else best
        figures[f"{name}_tokens"] = best[0]
        figures[f"{name}_tok_s"] = round(best[0] / best[1], 1)
        print(f"{name}: {best[0]} tokens in {best[1]:.2f} s = {best[0] / best[1]:.0f} tok/s", flush=True)
    figures["ratio"] = round(figures["generate_tok_s"] / figures["decode_loop_tok_s"], 3)
    print(json.dumps({**vars(args), **figures}))
    print(f"generate_tok_s {figures['generate_tok_s']}")
    print(f"decode_loop_tok_s {figures['decode_loop_tok_s']}")
    print(f"ratio {figures['ratio']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
