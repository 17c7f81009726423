"""REINFORCE and SFT gradients over whole-sequence log-likelihoods, side by side.

Read the two objectives together: they differ only in the denominator, N (REINFORCE) or
N+ = sum_i R_i (SFT on the valid traces). With binary R that is the on-policy equivalence of the paper
(Corrêa et al., arXiv 2512.24940, section on the connection to RL)::

    REINFORCE:  g_RL  = (1/N)  sum_i R_i grad log pi(y_i | x_i)
    SFT:        g_SFT = (1/N+) sum_{i: R_i = 1} grad log pi(y_i | x_i)
                g_RL  = (N+/N) g_SFT                         (exactly, for every batch with N+ >= 1)

The objectives are surrogates: their value means nothing, their gradient is the estimate. They work on any
tensor of log-likelihoods: the toy policy's (:mod:`itdeploy_lite.theory.toy`) or a Hugging Face causal LM's
(:func:`sequence_logprobs`). Gradients here are ascent directions (minus the gradient of the SFT loss).
"""

from __future__ import annotations

import torch


def sequence_logprobs(
    model, input_ids: torch.Tensor, attention_mask: torch.Tensor, completion_mask: torch.Tensor
) -> torch.Tensor:
    """Whole-sequence log-likelihood of each completion given its prompt, log pi(y_i | x_i).

    log pi(y | x) = sum over completion tokens t of log p(token_t | tokens_<t). Padding may be on either side:
    position ids are counted over the attention mask, so a padded row scores as it would alone.

    Args:
        model: a Hugging Face causal LM (``model(input_ids, attention_mask, position_ids).logits``), e.g. a
            ``LlamaForCausalLM`` or a peft ``PeftModel`` around one.
        input_ids: ``(N, T)`` int64, prompt and completion tokens (see :func:`pad_batch`).
        attention_mask: ``(N, T)``, 1 on real tokens, 0 on padding.
        completion_mask: ``(N, T)``, 1 on completion tokens (the ones scored), 0 on prompt and padding.

    Returns:
        ``(N,)`` log pi(y_i | x_i) in the model's dtype, differentiable in its trainable parameters.
    """
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).logits
    token_logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    return (token_logp * completion_mask[:, 1:].to(token_logp.dtype)).sum(dim=-1)


def reinforce_objective(logp: torch.Tensor, reward: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """(1/N) sum_i w_i R_i log pi(y_i | x_i); its gradient is the REINFORCE estimate (w_i = 1 without ``weight``).

    On-policy (``weight=None``) the gradient is unbiased for grad Z_pi, Z = success rate (paper, connection to RL,
    on-policy equivalence). ``weight`` (a constant, e.g. pi/beta from :mod:`itdeploy_lite.theory.offpolicy`)
    makes it the off-policy estimate.

    Args:
        logp: ``(..., N)`` log pi(y_i | x_i).
        reward: ``(..., N)`` R_i, here 1[plan i valid].
        weight: ``(..., N)`` importance weights, no gradient, or None for all ones.

    Returns:
        ``(...)`` the surrogate objective.
    """
    w = reward if weight is None else reward * weight
    return (w * logp).sum(dim=-1) / logp.shape[-1]


def sft_objective(logp: torch.Tensor, reward: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """(1/N+) sum_{i: R_i=1} w_i log pi(y_i | x_i), N+ = sum_i R_i: minus the SFT loss on the valid traces.

    Identical to :func:`reinforce_objective` but for the denominator N+ instead of N. On-policy, conditional on
    N+ >= 1, its gradient is unbiased for grad log Z_pi = grad Z_pi / Z_pi (paper, connection to RL, on-policy
    equivalence); with the exact off-policy weights of :func:`itdeploy_lite.theory.offpolicy.exact_weights` it is
    the paper's importance-weighted version. A batch with no valid trace gives 0 (no data, no step).

    Args:
        logp: ``(..., N)`` log pi(y_i | x_i).
        reward: ``(..., N)`` R_i in {0, 1}; the traces with R_i = 1 are the SFT data.
        weight: ``(..., N)`` importance weights, no gradient, or None for all ones.

    Returns:
        ``(...)`` the surrogate objective.
    """
    w = reward if weight is None else reward * weight
    return (w * logp).sum(dim=-1) / reward.sum(dim=-1).clamp(min=1)


def trainable_parameters(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters with ``requires_grad``; on a peft LoRA model these are the LoRA matrices only."""
    return [p for p in model.parameters() if p.requires_grad]


def flat_grad(objective: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    """grad of a scalar ``objective`` w.r.t. ``params``, flattened and concatenated into one ``(sum numel,)`` vector.

    Keeps the graph, so several objectives built on the same log-likelihoods can be differentiated in turn.
    A parameter the objective does not depend on contributes zeros.
    """
    grads = torch.autograd.grad(objective, params, retain_graph=True, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(params, grads)])


def relative_error(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """||estimate - reference|| / ||reference|| (Euclidean norms)."""
    return float(torch.linalg.vector_norm(estimate - reference) / torch.linalg.vector_norm(reference))


def on_policy_identity_error(g_reinforce: torch.Tensor, g_sft: torch.Tensor, reward: torch.Tensor) -> float:
    """Relative error of the on-policy equivalence g_RL = (N+/N) g_SFT (paper, connection to RL).

    Args:
        g_reinforce: ``(P,)`` REINFORCE gradient, grad of :func:`reinforce_objective`.
        g_sft: ``(P,)`` SFT gradient, grad of :func:`sft_objective` on the same batch.
        reward: ``(N,)`` the batch's binary rewards (N+ = their sum).

    Returns:
        ||g_RL - (N+/N) g_SFT|| / ||g_RL||; zero up to rounding when the identity holds.
    """
    n_valid, n = reward.sum(), reward.numel()
    return relative_error((n_valid / n) * g_sft, g_reinforce)


def pad_batch(
    prompts: list[list[int]], completions: list[list[int]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad prompt + completion token lists into the tensors :func:`sequence_logprobs` takes.

    Args:
        prompts: N lists of prompt token ids.
        completions: N lists of completion token ids (what is scored; include the end token if it was sampled).
        pad_id: the padding token id.

    Returns:
        ``(input_ids, attention_mask, completion_mask)``, each ``(N, T)`` int64, T the longest prompt + completion.
    """
    rows = [p + c for p, c in zip(prompts, completions)]
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    completion_mask = torch.zeros_like(input_ids)
    for i, (p, c) in enumerate(zip(prompts, completions)):
        input_ids[i, : len(p) + len(c)] = torch.tensor(p + c, dtype=torch.long)
        attention_mask[i, : len(p) + len(c)] = 1
        completion_mask[i, len(p) : len(p) + len(c)] = 1
    return input_ids, attention_mask, completion_mask
