"""Where a generation-0 checkpoint's loss goes: its mean NLL per completion token, by action and argument.

    python experiments/token_loss.py data/models/rovers data/models/rovers-h256 --per-size 40

Scores the optimal (breadth-first search) plans of fresh ``dev`` tasks of the first folder's pretraining
sizes (:func:`itdeploy_lite.pretrain.eval_problems`; never the held-out split) under each checkpoint, by
teacher forcing, and splits the completion's negative log-likelihood by what each token is: an action
name (``navigate``), an argument of an action (``calibrate:arg2``: the second argument of ``calibrate``,
its camera), or the line's punctuation and the end token (``punctuation``). Prints one markdown row per
kind, worst first (``--top``), for each folder the mean NLL in nats per token of that kind, then the mean NLL of a
whole plan.

Reading it: a token the model chooses at random among ``n`` equally likely names costs ln n nats (ln 2 =
0.69, ln 3 = 1.10); a token it copies correctly from the prompt costs about 0. An argument whose mean
sits at ln n of its name pool is one the model does not look up in the prompt at all. The argument's
meaning is the domain file's parameter order (``data/domains/<domain>/domain.pddl``).

Last, for each kind of object name in the prompts (``camera``, ``waypoint``, ...), the mean cosine
similarity between the input embeddings of the names of that kind the prompts use (`` camera0``,
`` camera1``): near 1, the model sees those names as one token and cannot copy the right one.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import torch

from itdeploy_lite.deploy import as_tasks
from itdeploy_lite.models import load_embedded, plan_trace
from itdeploy_lite.planning import breadth_first_search
from itdeploy_lite.pretrain import DEFAULT_SIZES, PretrainConfig, encode_rows, eval_problems
from itdeploy_lite.prompts import plan_completion, task_prompt

PUNCTUATION = "punctuation"


def token_kinds(tokens: list[str]) -> list[str]:
    """The kind of each completion token: the action name, ``<action>:arg<i>`` (1-based) or ``punctuation``.

    Args:
        tokens: the completion's tokens as the tokenizer writes them (``"("``, ``"navigate"``, ``" rover0"``,
            ..., ``")"``, ``"\\n"``, ``"</s>"``).

    Returns:
        One kind per token, e.g. ``["punctuation", "navigate", "navigate:arg1", ...]``.
    """
    kinds, action, position = [], None, None
    for token in tokens:
        text = token.strip()
        if text == "(":
            action, position = None, 0
            kinds.append(PUNCTUATION)
        elif position == 0:
            action, position = text, 1
            kinds.append(text)
        elif position is not None and text and text not in (")", "</s>"):
            kinds.append(f"{action}:arg{position}")
            position += 1
        else:
            kinds.append(PUNCTUATION)
    return kinds


def completion_nll(model, ids: list[int], n_prompt: int) -> list[float]:
    """Per-token NLL (nats) of ``ids[n_prompt:]`` given everything before it (teacher forcing)."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    logp = torch.log_softmax(logits[:-1].float(), dim=-1)
    nll = -logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]
    return nll[n_prompt - 1:].tolist()


def name_similarity(model, tokenizer, names: list[str]) -> float:
    """Mean pairwise cosine similarity of the input embeddings of ``names``.

    Args:
        model: a causal LM; tokenizer: its tokenizer (each name is looked up as one token with a leading
            space, as the prompts write it).
        names: two or more object names, e.g. ``["camera0", "camera1"]``.

    Returns:
        The mean cosine over the pairs (``nan`` for fewer than two names).

    Raises:
        KeyError: a name that is not one token of the vocabulary.
    """
    vocab = tokenizer.get_vocab()
    missing = [n for n in names if " " + n not in vocab]
    if missing:
        raise KeyError(f"not single tokens of the vocabulary: {missing}")
    if len(names) < 2:
        return float("nan")
    ids = [vocab[" " + n] for n in names]
    vectors = torch.nn.functional.normalize(model.get_input_embeddings().weight.detach()[ids].float(), dim=-1)
    cosine = vectors @ vectors.T
    return ((cosine.sum() - len(ids)) / (len(ids) * (len(ids) - 1))).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="checkpoint folders of one domain (with metrics.json)")
    parser.add_argument("--per-size", type=int, default=40, help="dev tasks per pretraining size")
    parser.add_argument("--top", type=int, default=15, help="rows shown (the costliest kinds in the first folder)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    first = json.loads((Path(args.folders[0]) / "metrics.json").read_text())["config"]
    sizes = first["sizes"] or DEFAULT_SIZES[first["domain"]]
    problems = eval_problems(PretrainConfig(domain=first["domain"], sizes=sizes, eval_sizes=sizes,
                                            eval_per_size=args.per_size, eval_split="dev"))
    rows = []
    for _, task in as_tasks(problems):
        plan = breadth_first_search(task)
        rows.append({"prompt": task_prompt(task), "completion": plan_completion(plan, task, trace="none")})
    names: dict[str, set] = defaultdict(set)  # kind -> the names of that kind the prompts use
    for row in rows:
        for match in re.finditer(r" (([a-z]+)\d+)\b", row["prompt"]):
            names[match.group(2)].add(match.group(1))
    columns, per_plan, similarity = [], [], []
    for folder in args.folders:
        model, tokenizer = load_embedded(folder)
        if plan_trace(model) != "none":  # the rows hold plain plans, and token_kinds reads no trace comments
            parser.error(f"{folder} was trained with plan_trace={plan_trace(model)!r}; only 'none' is scored")
        model.eval()
        by_kind, totals = defaultdict(list), []
        for ids, n_prompt in encode_rows(rows, tokenizer):
            nll = completion_nll(model, ids, n_prompt)
            for kind, value in zip(token_kinds(tokenizer.convert_ids_to_tokens(ids[n_prompt:])), nll):
                by_kind[kind].append(value)
            totals.append(sum(nll))
        columns.append({kind: sum(v) / len(v) for kind, v in by_kind.items()})
        per_plan.append(sum(totals) / len(totals))
        similarity.append({kind: name_similarity(model, tokenizer, sorted(group)) for kind, group in names.items()})
    kinds = sorted(columns[0], key=lambda k: -columns[0][k])[: args.top]
    print(f"{len(rows)} dev tasks of sizes {sizes}; mean NLL in nats per token")
    print("| token | " + " | ".join(Path(f).name for f in args.folders) + " |")
    print("|" + "---|" * (1 + len(args.folders)))
    for kind in kinds:
        print(f"| {kind} | " + " | ".join(f"{c.get(kind, float('nan')):.3f}" for c in columns) + " |")
    print("| whole plan | " + " | ".join(f"{p:.2f}" for p in per_plan) + " |")
    print("\nmean cosine similarity of the input embeddings of the names of each kind the prompts use")
    print("| names | " + " | ".join(Path(f).name for f in args.folders) + " |")
    print("|" + "---|" * (1 + len(args.folders)))
    for kind in sorted(names):
        print(f"| {kind} ({len(names[kind])}) | " + " | ".join(f"{s[kind]:.2f}" for s in similarity) + " |")


if __name__ == "__main__":
    main()
