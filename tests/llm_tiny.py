"""A tiny random Llama with a small byte-level BPE tokenizer and a ChatML chat template, for the LLM tests.

Built from a config (no download), saved as a folder that ``AutoModelForCausalLM`` / ``AutoTokenizer``
and Unsloth's ``FastLanguageModel`` load like a hub checkpoint. Layers are 64 wide: bitsandbytes' nf4
needs widths that are multiples of its block size (64) and its CPU kernels blocks of 32 rows.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    "(define (domain blocksworld) (:requirements :strips) (:predicates (on ?x ?y) (ontable ?x) (clear ?x) (handempty) (holding ?x)))",
    "(define (problem p) (:domain blocksworld) (:objects b1 b2 b3) (:init (clear b1) (on b1 b2) (ontable b2) (handempty)) (:goal (and (on b2 b1))))",
    "(unstack b1 b2)\n(put-down b1)\n(pick-up b2)\n(stack b2 b1)\n(stack b3 b2)\n(pick-up b4)",
    "Here is a planning problem. Write a plan that solves it, one action per line. [PLAN] [PLAN END]",
]


def build_tiny_llama(folder: str | Path, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """Write a ~0.1 M-parameter random Llama and its tokenizer to ``folder``; return the folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = Path(folder)
    specials = ["<pad>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                        pad_token="<pad>")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def plan_rows(n: int = 8) -> list[dict]:
    """``n`` short prompt/completion rows (a fixed mapping a model can learn), TRL's ``{"prompt","completion"}``."""
    rows = []
    for i in range(n):
        a, b = f"b{i % 3 + 1}", f"b{(i + 1) % 3 + 1}"
        rows.append({"prompt": f"(clear {a}) (on {a} {b}) goal (ontable {a})\n", "completion": f"(unstack {a} {b})\n(put-down {a})\n"})
    return rows
