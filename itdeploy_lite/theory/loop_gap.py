"""How far the loop's update is from the REINFORCE direction, one departure at a time (issue 13).

The on-policy identity (:mod:`.gradients`) is about one gradient step of SFT on the policy's *own* valid
samples, each weighted 1/N+. The loop (``itdeploy run``) departs from that in five ways:

1. **selection**: per task it keeps only the shortest valid plan of the task's samples, so what is kept
   depends on the other samples (R is not a fixed R(x, y));
2. **pooling**: the pool holds plans of generations 0..g, sampled by the mixture beta, not by pi_g;
3. **retraining from the base**: generation g+1 is fine-tuned from pi_0, not from pi_g;
4. **several epochs**: many optimiser steps on one fixed pool, not one small step;
5. **token mean**: TRL's loss averages over the completion tokens of a batch, so with a batch of one
   sequence each plan's score is divided by its length (sequence mean: by the number of sequences).

On the toy every one of these is an exact expectation. :func:`departures` trains the toy policy on the
data distribution each departure implies (gradient ascent on E_data[log pi_theta], the expected SFT
objective, so there is no sampling noise) and reports the cosine between the net move
theta_new - theta_g and the REINFORCE direction grad Z(theta_g) at the deployed policy. Cosine 1 means the
update is a REINFORCE step; 0 means orthogonal; negative means it lowers the success rate to first order.
"""

from __future__ import annotations

import torch

from itdeploy_lite.theory.toy import Toy, expected_score, grad_success_rate, log_probs, success_rate


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """cos(a, b) = a.b / (|a| |b|)."""
    return float(a @ b / (a.norm() * b.norm()))


def valid_distribution(probs: torch.Tensor, toy: Toy) -> torch.Tensor:
    """The joint distribution of (task, plan) over the valid samples of a sampler with ``probs`` ``(P, K)``
    (tasks uniform): D(x) p(k|x) R(x,k) / Z; ``(P, K)``, sums to 1."""
    joint = probs * toy.valid
    return joint / joint.sum()


def shortest_valid_distribution(probs: list[torch.Tensor], toy: Toy, lengths: torch.Tensor, samples: int) -> torch.Tensor:
    """The distribution of the plan the paper's curation keeps: per task, ``samples`` draws from each sampler
    in ``probs`` (one ``(P, K)`` tensor per generation), and the shortest valid plan among all of them
    (ties: lower plan index); a task with no valid draw keeps nothing. Exact:
    P(keep k | x) = prod_g (1 - a_g)^n - prod_g (1 - a_g - p_g(k))^n, a_g the mass of the valid plans of
    ``x`` ordered before k. Returns ``(P, K)`` normalised to sum to 1 over the kept plans."""
    num_tasks, num_plans = toy.valid.shape
    order = lengths * num_plans + torch.arange(num_plans, dtype=lengths.dtype)  # length, then index
    keep = torch.zeros(num_tasks, num_plans, dtype=torch.float64)
    for x in range(num_tasks):
        for k in range(num_plans):
            if toy.valid[x, k] == 0:
                continue
            before = (order[x] < order[x, k]) & (toy.valid[x] > 0)
            none_before = torch.stack([(1 - p[x, before].sum()) ** samples for p in probs]).prod()
            none_upto = torch.stack([(1 - p[x, before].sum() - p[x, k]) ** samples for p in probs]).prod()
            keep[x, k] = none_before - none_upto
    return keep / keep.sum()


def fit(theta: torch.Tensor, toy: Toy, data: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """``steps`` full-batch gradient-ascent steps of size ``lr`` on E_data[log pi_theta] (SFT in expectation)."""
    for _ in range(steps):
        theta = theta + lr * expected_score(theta, toy, data)
    return theta


def departures(toy: Toy, thetas: list[torch.Tensor], lengths: torch.Tensor, samples: int = 4, epochs: int = 20,
               lr: float = 0.5, step: float = 0.05) -> list[dict]:
    """The cosine between each variant's update and the REINFORCE direction at the deployed policy.

    Args:
        toy: the toy problem.
        thetas: the generations' parameters; the last one is the deployed policy pi_g, the first the base pi_0.
        lengths: ``(P, K)`` plan lengths in tokens (for the shortest-plan rule and the token mean), > 0.
        samples: plans sampled per task and generation (the loop's k).
        epochs: full-batch steps of the multi-epoch and retrain-from-base variants.
        lr: their step size.
        step: the step size of the one-step variants (small, so the move is the gradient's direction).

    Returns:
        One dict per variant, in the order of this module's docstring then "the loop (all five)":
        ``{"variant", "cosine", "z_after"}`` with ``z_after`` the success rate after the update
        (``z_before`` of the deployed policy is in the first row's ``"z_before"``).

    Raises:
        ValueError: ``lengths`` not positive or of the wrong shape.
    """
    if lengths.shape != toy.valid.shape or (lengths <= 0).any():
        raise ValueError(f"lengths must be positive, of shape {tuple(toy.valid.shape)}")
    base, theta = thetas[0], thetas[-1]
    reinforce = grad_success_rate(theta, toy)
    probs = [log_probs(t, toy).exp() for t in thetas]
    own = valid_distribution(probs[-1], toy)
    pooled = valid_distribution(torch.stack(probs).mean(0), toy)
    shortest_own = shortest_valid_distribution(probs[-1:], toy, lengths.double(), samples)
    shortest_pooled = shortest_valid_distribution(probs, toy, lengths.double(), samples)

    def token_mean(data):  # batch of one sequence: each plan's score divided by its length
        weighted = data / lengths
        return weighted / weighted.sum()

    variants = [
        ("REINFORCE-equivalent: one SFT step on own valid samples", theta, own, 1, step),
        ("1. shortest valid plan per task", theta, shortest_own, 1, step),
        ("2. pool of all generations' valid plans", theta, pooled, 1, step),
        (f"3. retrained from the base ({epochs} steps)", base, own, epochs, lr),
        (f"4. {epochs} epochs on the same samples", theta, own, epochs, lr),
        ("5. token mean (batch of one)", theta, token_mean(own), 1, step),
        ("the loop: 1-5 together", base, token_mean(shortest_pooled), epochs, lr),
    ]
    rows = []
    for name, start, data, steps, size in variants:
        new = fit(start, toy, data, steps, size)
        rows.append({"variant": name, "cosine": cosine(new - theta, reinforce),
                     "z_after": float(success_rate(new, toy))})
    rows[0]["z_before"] = float(success_rate(theta, toy))
    return rows
