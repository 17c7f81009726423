"""Batched sampling with a KV cache whose finished rows are refilled: the deployment step's engine.

Deployment samples tens of thousands of short completions. ``model.generate`` pads every row of a batch
to the slowest one and spends most of each step outside the model on a small CPU model; transformers'
continuous batching (``generate_batch``) schedules from a Python thread with paged attention and ran
at ~170 completion tokens/s here against ~2,800 for ``generate`` (embedded model, 1 CPU thread; see
``benchmarks/sampling.py``). :func:`decode` is the plain loop instead, with these additions:

* every step runs one forward pass of one new token per active row, on the model's own
  ``DynamicCache`` (the same cache ``generate`` uses), whose layers are given spare time columns
  (:class:`_RoomyLayer`) so that a step writes its token in place rather than copying the cache;
* a row that writes an end token or reaches its budget leaves the batch at once (its cache rows are
  dropped), and when half the batch has left, waiting prompts are prefilled and joined to it: the new
  rows' cache is left-padded to the batch's length (or the batch's to theirs) and the attention mask
  hides the padding, so each row attends to its own prompt and completion only;
* rows with the same prompt (the k samples of one task) that join together are prefilled once and
  their cache rows copied: on the embedded Blocksworld planner a prompt is ~90 tokens against ~60 of
  completion, and prefilling each of the 8 copies took a quarter of the deployment's time;
* leading cache columns that every row masks are trimmed, so the cache stays as long as the longest
  live row.

Position ids are passed per row (a row's first prompt token is position 0), so a row's logits are the
same as a lone ``model.generate`` would see, up to float rounding.
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from transformers.cache_utils import DynamicLayer


class RefillUnsupported(TypeError):
    """The model's cache cannot be joined and trimmed (:func:`supports_refill` is False)."""


def supports_refill(cache) -> bool:
    """Whether a cache returned by the model's forward is one :func:`decode` can join and trim: a
    ``DynamicCache`` whose layers all hold plain ``keys``/``values`` tensors of shape
    ``(batch, heads, time, head_dim)`` (Llama, Qwen, SmolLM2; not sliding-window or quantised caches)."""
    layers = getattr(cache, "layers", None)
    return bool(layers) and all(type(layer).__name__ == "DynamicLayer" for layer in layers)


class _RoomyLayer(DynamicLayer):
    """A ``DynamicLayer`` whose ``keys``/``values`` are views of buffers with spare time columns.

    ``DynamicLayer.update`` concatenates each step's key and value to the whole cache, a copy of the cache
    per layer per token (28% of the deployment's time on the embedded Blocksworld planner). Here a step
    writes its column into the spare room in place; the buffer is copied only when the room runs out.

    The room is small on purpose: at batch 128 the cache is ~100 MB and each step streams all of it, so
    spare columns cost memory bandwidth in attention and in every trim (:meth:`select`). Blocksworld pool
    tasks x 8 samples, 1 thread, beside two other runs: on 300 tasks 16 columns took 39-41 s against
    44-47 s for 64; on 120 tasks 256 columns took 22 s against 18 s for 64. The tokens are the same.
    """

    room = 16  # spare time columns allocated on growth (tokens)

    def __init__(self, keys: torch.Tensor, values: torch.Tensor):
        super().__init__()
        self.dtype, self.device, self.is_initialized = keys.dtype, keys.device, True
        self.keys, self.values = keys, values

    @property
    def keys(self):
        return None if self._keys is None else self._keys[:, :, :self._length]

    @keys.setter
    def keys(self, tensor):
        self._keys, self._length = tensor, 0 if tensor is None else tensor.shape[2]

    @property
    def values(self):
        return None if self._values is None else self._values[:, :, :self._length]

    @values.setter
    def values(self, tensor):
        self._values = tensor

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        length, new = self._length, key_states.shape[2]
        if length + new > self._keys.shape[2]:
            self._keys, self._values = (torch.cat([t[:, :, :length], t.new_empty(*t.shape[:2], new + self.room, t.shape[3])], 2)
                                        for t in (self._keys, self._values))
        self._keys[:, :, length:length + new] = key_states
        self._values[:, :, length:length + new] = value_states
        self._length = length + new
        return self.keys, self.values

    def select(self, keep: torch.Tensor, first: int) -> None:
        """Keep the batch rows ``keep`` and drop the first ``first`` time columns (one copy, room kept)."""
        length = self._length - first
        self._keys, self._values = self._keys[keep, :, first:], self._values[keep, :, first:]
        self._length = length


def _roomy(cache):
    """Give each layer of a ``DynamicCache`` (see :func:`supports_refill`) spare room: :class:`_RoomyLayer`."""
    cache.layers = [_RoomyLayer(layer.keys, layer.values) for layer in cache.layers]
    return cache


def _left_pad(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    if width == 0:
        return tensor
    pad = [0, 0] * (tensor.dim() - 1 - dim % tensor.dim()) + [width, 0]
    return F.pad(tensor, pad)


def _join(cache, mask: torch.Tensor, new_cache, new_mask: torch.Tensor) -> torch.Tensor:
    """Append ``new_cache``'s rows to ``cache`` (in place), left-padding the shorter in time; the joined mask."""
    length, new_length = mask.shape[1], new_mask.shape[1]
    width = max(length, new_length)
    for layer, new in zip(cache.layers, new_cache.layers):
        keys, values = (torch.cat([_left_pad(old, width - length, 2), _left_pad(added, width - new_length, 2)])
                        for old, added in ((layer.keys, new.keys), (layer.values, new.values)))
        layer.keys, layer.values = keys, values
    return torch.cat([_left_pad(mask, width - length, 1), _left_pad(new_mask, width - new_length, 1)])


def _select(cache, mask: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Keep the batch rows ``keep`` (in place) and trim leading columns that every kept row masks."""
    mask = mask[keep]
    first = int(mask.any(0).long().argmax())
    for layer in cache.layers:
        layer.select(keep, first)
    return mask[:, first:]


def _distinct(prompts: Sequence[Sequence[int]]) -> tuple[list[Sequence[int]], list[int]]:
    """The distinct prompts, in first-seen order, and for each prompt the index of its copy among them."""
    first: dict[tuple[int, ...], int] = {}
    copy_of = [first.setdefault(tuple(p), len(first)) for p in prompts]
    unique: list[Sequence[int]] = [()] * len(first)
    for prompt, index in zip(prompts, copy_of):
        unique[index] = prompt
    return unique, copy_of


def next_tokens(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator,
                suppress: torch.Tensor | None = None, top_k: int = 0) -> torch.Tensor:
    """One token per row: argmax for ``temperature == 0``, else a sample from the tempered distribution
    cut to its ``top_k`` most likely tokens and then to its top-``top_p`` probability mass (the order of
    transformers' warpers; ``top_k = 0`` and ``top_p = 1`` keep every token).

    Args:
        logits: ``(rows, vocabulary)`` float logits of the next token.
        temperature: >= 0. top_p: in (0, 1].
        generator: the CPU random generator (the same seed gives the same tokens).
        suppress: token ids never produced (their logits set to -inf), or None.
        top_k: keep the ``top_k`` largest logits per row (0: off; Qwen3 recommends 20).

    Returns:
        ``(rows,)`` long tensor of token ids.
    """
    logits = logits.float()
    if suppress is not None and suppress.numel():
        logits[:, suppress] = float("-inf")
    if temperature <= 0:
        return logits.argmax(-1)
    if 0 < top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(-1, descending=True)
        drop = sorted_probs.cumsum(-1) - sorted_probs > top_p  # keep the smallest prefix reaching top_p
        probs = probs.scatter(-1, order, sorted_probs.masked_fill(drop, 0.0))
    return torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(logits.device)


@torch.no_grad()
def decode(model, prompts: Sequence[Sequence[int]], budgets: Sequence[int], eos_ids: Sequence[int], pad_id: int,
           temperature: float = 0.8, top_p: float = 1.0, batch_size: int = 128, seed: int = 0,
           suppress: Sequence[int] = (), on_finish: Callable[[int], None] | None = None,
           top_k: int = 0, copy_only: Sequence[int] = ()) -> list[list[int]]:
    """Sample one completion per prompt, ``batch_size`` rows at a time, refilling finished rows.

    Prompts are taken in the order given (sort them by length first: rows prefilled together are
    left-padded to the longest; put equal prompts next to each other: those that join the batch together
    are prefilled once). Each row stops after writing one of ``eos_ids`` (kept in its output) or
    ``budgets[i]`` tokens.

    Args:
        model: a causal LM whose forward takes ``attention_mask``, ``position_ids`` and a
            ``DynamicCache`` (see :func:`supports_refill`); in eval mode.
        prompts: token ids per prompt (no padding).
        budgets: completion-token budget per prompt (tokens, >= 1).
        eos_ids: end-token ids.
        pad_id: the id written into padding positions (masked, never attended to).
        temperature, top_p, top_k: as :func:`next_tokens`.
        batch_size: rows decoded together (>= 1).
        seed: seeds the sampler; the same model, prompts, order and settings give the same tokens.
        suppress: token ids never sampled.
        on_finish: called with a prompt's index when its completion is done (e.g. a progress bar).
        copy_only: token ids a row may write only if its own prompt holds them (e.g. the object names of
            the embedded planner: a plan then names only objects its task mentions). Empty: no such rule.

    Returns:
        ``out[i]``: the completion's token ids for ``prompts[i]``.

    Raises:
        ValueError: ``budgets`` not one per prompt, a budget < 1, or ``batch_size < 1``.
        RefillUnsupported: the model's cache cannot be joined (:func:`supports_refill` is False).
    """
    if len(budgets) != len(prompts):
        raise ValueError(f"{len(budgets)} budgets for {len(prompts)} prompts")
    if batch_size < 1 or any(b < 1 for b in budgets):
        raise ValueError("batch_size and every budget must be >= 1")
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    eos = torch.tensor(sorted(set(eos_ids)), device=device)
    banned = torch.tensor(sorted(set(suppress) - set(eos_ids)), dtype=torch.long, device=device)
    copied = sorted(set(copy_only) - set(eos_ids))
    # not_copied[i]: the copy_only tokens absent from prompt i (built once the vocabulary size is known)
    not_copied = None
    budget_of = torch.tensor(list(budgets), device=device)
    prompt_length = torch.tensor([len(p) for p in prompts], device=device)
    waiting = deque(range(len(prompts)))
    out: list[list[int]] = [[] for _ in prompts]
    rows = torch.empty(0, dtype=torch.long, device=device)  # prompt index of each batch row
    cache, mask, positions, logits = None, None, None, None
    while waiting or len(rows):
        if waiting and len(rows) <= batch_size // 2:
            new = [waiting.popleft() for _ in range(min(batch_size - len(rows), len(waiting)))]
            unique, copy_of = _distinct([prompts[i] for i in new])
            width = max(len(p) for p in unique)
            ids = torch.full((len(unique), width), pad_id, device=device)
            new_mask = torch.zeros((len(unique), width), dtype=torch.long, device=device)
            for r, prompt in enumerate(unique):
                ids[r, width - len(prompt):] = torch.tensor(prompt, device=device)
                new_mask[r, width - len(prompt):] = 1
            new_positions = (new_mask.cumsum(1) - 1).clamp(min=0)
            result = model(input_ids=ids, attention_mask=new_mask, position_ids=new_positions, use_cache=True)
            if not supports_refill(result.past_key_values):
                raise RefillUnsupported(f"{type(model).__name__}'s cache ({type(result.past_key_values).__name__}) cannot be "
                                "refilled; sample with model.generate instead")
            new_logits = result.logits[:, -1]
            if len(unique) < len(new):  # k samples of one prompt: prefilled once, their cache rows copied
                copy_of = torch.tensor(copy_of, device=device)
                for layer in result.past_key_values.layers:
                    layer.keys, layer.values = layer.keys[copy_of], layer.values[copy_of]
                new_logits, new_mask, new_positions = new_logits[copy_of], new_mask[copy_of], new_positions[copy_of]
            new_rows = torch.tensor(new, device=device)
            if cache is None:
                cache, mask, positions = _roomy(result.past_key_values), new_mask, new_positions[:, -1] + 1
                logits, rows = new_logits, new_rows
            else:
                mask = _join(cache, mask, result.past_key_values, new_mask)
                positions = torch.cat([positions, new_positions[:, -1] + 1])
                logits = torch.cat([logits, new_logits])
                rows = torch.cat([rows, new_rows])
        if copied:
            if not_copied is None:
                not_copied = torch.zeros((len(prompts), logits.shape[-1]), dtype=torch.bool, device=device)
                for i, prompt in enumerate(prompts):
                    absent = sorted(set(copied) - set(prompt))
                    not_copied[i, absent] = True
            logits = logits.masked_fill(not_copied[rows], float("-inf"))
        tokens = next_tokens(logits, temperature, top_p, generator, banned, top_k)
        for i, t in zip(rows.tolist(), tokens.tolist()):
            out[i].append(t)
        written = positions - prompt_length[rows] + 1  # completion tokens of each row, this one included
        done = torch.isin(tokens, eos) | (written >= budget_of[rows])
        if done.any():
            if on_finish is not None:
                for i in rows[done].tolist():
                    on_finish(i)
            keep = (~done).nonzero().squeeze(1)
            rows, tokens, positions = rows[keep], tokens[keep], positions[keep]
            if not len(rows):
                cache = None
                continue
            mask = _select(cache, mask, keep)
        mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=mask.dtype, device=device)], dim=1)
        result = model(input_ids=tokens[:, None], attention_mask=mask, position_ids=positions[:, None],
                       past_key_values=cache, use_cache=True)
        cache, logits, positions = result.past_key_values, result.logits[:, -1], positions + 1
    return out
