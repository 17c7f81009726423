"""A tiny randomly initialised embedded model (the project's tokenizer, a 2-layer Llama), for the loop's tests.

Built with :mod:`itdeploy_lite.models` at a fraction of the shipped size, so curate/fine-tune/loop tests
run in seconds and do not depend on the shipped checkpoint. Saved as a folder that loads with
``AutoModelForCausalLM`` / ``AutoTokenizer``.
"""

from __future__ import annotations

from pathlib import Path


def build_tiny(folder: str | Path, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """Write a ~40 k-parameter embedded model and the shared tokenizer to ``folder``; return the folder."""
    import torch

    from itdeploy_lite.models import ModelConfig, build_model, build_tokenizer, save_embedded

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    model = build_model(tokenizer, ModelConfig(hidden_size=hidden, num_layers=layers, num_heads=4,
                                               intermediate_size=hidden * 2, max_positions=1024))
    with torch.no_grad():  # larger (tied) embeddings: logits of a random model are then not all ~0, and
        model.get_input_embeddings().weight.mul_(30.0)  # LoRA on the linear layers can move them
    return save_embedded(model, tokenizer, folder)


def example_rows(n: int = 16) -> list[dict]:
    """``n`` prompt/completion rows in the embedded format (a fixed mapping the model can learn)."""
    rows = []
    for i in range(n):
        a, b = f"b{i % 10 + 1}", f"b{(i + 3) % 10 + 1}"
        rows.append(
            {
                "prompt": f"init: (clear {a}) (handempty) (on {a} {b}) (ontable {b})\ngoal: (ontable {a})\nplan:\n",
                "completion": f"(unstack {a} {b})\n(put-down {a})\n</s>",
            }
        )
    return rows
