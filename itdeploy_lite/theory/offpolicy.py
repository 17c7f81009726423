"""Off-policy: SFT on valid traces from earlier generations is importance-weighted REINFORCE.

Iterative deployment trains the current policy pi on valid traces sampled by earlier generations
pi_0 .. pi_{G-1}. If a fraction lambda_g of the *sampled* traces (before validation) came from generation g,
the traces were drawn from the behaviour policy and the success rates mix the same way::

    beta(y | x) = sum_g lambda_g pi_g(y | x)          Z_beta = sum_g lambda_g Z_{pi_g}

The valid pairs of a policy q are distributed as q(. | valid)(x, y) = D(x) q(y|x) R(x,y) / Z_q, so on valid y::

    pi(. | valid) / beta(. | valid) = (pi / beta) * (Z_beta / Z_pi)                  (the exact ratio)

and, with g_IS = (1/N+) sum_{valid} w_i grad log pi(y_i | x_i) on pairs drawn i.i.d. from beta
(paper, Corrêa et al. arXiv 2512.24940, section on the connection to RL, off-policy importance-weighted version)::

    w = 1                          E[g | N+>=1] = grad E_{beta(.|valid)}[log pi]  (plain SFT on the pool: fits the
                                                                                pool's valid traces, not grad log Z_pi)
    w = (pi/beta)(Z_beta/Z_pi)     E[g | N+>=1] = grad log Z_pi                   (unbiased)
    w = pi/beta                    E[g | N+>=1] = (Z_pi/Z_beta) grad log Z_pi     (right direction, wrong length)
    w = (pi/beta) / mean_valid(pi/beta)                                         (self-normalised: needs no Z,
                                                                                consistent, bias O(1/N))

and the REINFORCE form (1/N) sum_i R_i (pi/beta) grad log pi is unbiased for grad Z_pi. Dropping Z_beta/Z_pi
biases the SFT estimate by (Z_pi/Z_beta - 1) grad log Z_pi; since later generations are better than the pool
(Z_pi > Z_beta), the step comes out too long by the factor Z_pi/Z_beta. Z's are averaged over tasks because the
normaliser N+ is a batch total. Exactness needs pairs i.i.d. from beta (draw g ~ lambda, then y ~ pi_g). With fixed
counts per generation, as the loop samples, the REINFORCE form stays unbiased but the SFT forms, divided by the
random N+, are only consistent (bias O(1/N)). Support: beta > 0 wherever pi R > 0.

Plain SFT (w = 1) maximises E_{beta(.|valid)}[log pi] = -KL(beta(.|valid) || pi) + const: trained to convergence, a
flexible policy becomes pi_next(y|x) = beta(y|x) R(x,y) / Z_beta(x), the pool filtered by the reward.

Implicit reward: the loop never sees R, only the curator's keep bit C(x, y). Replace R by C and everything above
holds with Z = keep rate: the curation rule *is* the reward the outer loop optimises (the paper's AI-safety point).
A rule that compares a task's samples (keep the shortest valid plan) is a group-relative reward, exactly so only
when it is a function of (x, y) alone.

:func:`simulate` measures all of this on the toy policy of :mod:`itdeploy_lite.theory.toy`.
"""

from __future__ import annotations

import torch

from itdeploy_lite.theory.gradients import reinforce_objective, sft_objective
from itdeploy_lite.theory.toy import Toy, expected_score, grad_log_success_rate, grad_success_rate, log_probs, sample
from itdeploy_lite.theory.toy import success_rate


def mixture_logprob(logp_generations: torch.Tensor, lambdas: torch.Tensor) -> torch.Tensor:
    """log beta = log sum_g lambda_g pi_g, computed stably.

    Args:
        logp_generations: ``(G, ...)`` log pi_g(y | x) of each generation for the same pairs.
        lambdas: ``(G,)`` mixture weights (fractions of sampled traces per generation, summing to 1).

    Returns:
        ``(...)`` log beta(y | x).
    """
    log_lambda = lambdas.log().reshape(-1, *[1] * (logp_generations.dim() - 1))
    return torch.logsumexp(log_lambda + logp_generations, dim=0)


def mixture_success_rate(z_generations: torch.Tensor, lambdas: torch.Tensor) -> torch.Tensor:
    """Z_beta = sum_g lambda_g Z_{pi_g}; ``(G,)``, ``(G,)`` -> scalar."""
    return (lambdas * z_generations).sum()


def density_ratio(logp_pi: torch.Tensor, logp_beta: torch.Tensor) -> torch.Tensor:
    """pi(y|x) / beta(y|x): the importance weight that *drops* Z_beta/Z_pi (biased for SFT, see module doc)."""
    return (logp_pi - logp_beta).exp()


def exact_weights(logp_pi: torch.Tensor, logp_beta: torch.Tensor, z_pi, z_beta) -> torch.Tensor:
    """(pi/beta)(Z_beta/Z_pi) = pi(.|valid) / beta(.|valid) on valid pairs (paper, off-policy importance weights).

    With these weights :func:`~itdeploy_lite.theory.gradients.sft_objective` on beta's valid traces is unbiased for
    grad log Z_pi. Shapes: ``logp_*`` ``(..., N)``, ``z_*`` scalars -> ``(..., N)``.
    """
    return density_ratio(logp_pi, logp_beta) * z_beta / z_pi


def self_normalised_weights(logp_pi: torch.Tensor, logp_beta: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
    """(pi/beta) / [(1/N+) sum_{valid} pi/beta]: Z_pi/Z_beta estimated from the batch's own valid traces.

    Needs no success rate; consistent, biased at O(1/N). Shapes ``(..., N)`` -> ``(..., N)``.
    """
    ratio = density_ratio(logp_pi, logp_beta)
    mean_valid = (reward * ratio).sum(-1, keepdim=True) / reward.sum(-1, keepdim=True).clamp(min=1)
    return torch.where(mean_valid > 0, ratio / mean_valid, torch.zeros_like(ratio))  # no valid trace: no data


def exact_targets(toy: Toy, theta: torch.Tensor, behaviour: list[torch.Tensor], lambdas: torch.Tensor) -> dict:
    """The exact quantities the estimators aim at, on the toy.

    Args:
        toy: the toy problem.
        theta: ``(D,)`` parameters of the policy pi being trained.
        behaviour: G parameter vectors ``(D,)`` of the earlier generations pi_g.
        lambdas: ``(G,)`` mixture weights.

    Returns:
        ``{"z_pi", "z_beta"`` (scalars), ``"grad_z"`` (grad Z_pi), ``"grad_log_z"`` (grad log Z_pi),
        ``"grad_fit"`` (grad E_{beta(.|valid)} log pi, what plain SFT on the pool follows)``}``, vectors ``(D,)``.
    """
    beta = mixture_logprob(torch.stack([log_probs(t, toy) for t in behaviour]), lambdas).exp()
    z_beta = mixture_success_rate(torch.stack([success_rate(t, toy) for t in behaviour]), lambdas)
    beta_valid = beta * toy.valid / beta.shape[0] / z_beta  # beta(x, y | valid), sums to 1
    return {
        "z_pi": success_rate(theta, toy),
        "z_beta": z_beta,
        "grad_z": grad_success_rate(theta, toy),
        "grad_log_z": grad_log_success_rate(theta, toy),
        "grad_fit": expected_score(theta, toy, beta_valid),
    }


# estimator name -> (objective, sampled from "pi" or "beta", weights, the exact target it is compared with)
ESTIMATORS = {
    "on-policy REINFORCE":        (reinforce_objective, "pi", "none", "grad_z"),
    "on-policy SFT":              (sft_objective, "pi", "none", "grad_log_z"),
    "SFT on beta's valid, w=1":   (sft_objective, "beta", "none", "grad_log_z"),
    "IS-REINFORCE, pi/beta":      (reinforce_objective, "beta", "ratio", "grad_z"),
    "IS-SFT, exact":              (sft_objective, "beta", "exact", "grad_log_z"),
    "IS-SFT, drops Zb/Zpi":       (sft_objective, "beta", "ratio", "grad_log_z"),
    "IS-SFT, self-normalised":    (sft_objective, "beta", "self", "grad_log_z"),
}


def simulate(
    toy: Toy,
    theta: torch.Tensor,
    behaviour: list[torch.Tensor],
    lambdas: torch.Tensor,
    num_samples: int = 64,
    num_seeds: int = 2000,
    seed: int = 0,
    stratified: bool = False,
    names: tuple[str, ...] | None = None,
) -> dict[str, torch.Tensor]:
    """Monte-Carlo: the estimators of :data:`ESTIMATORS` (all, or ``names``) on ``num_seeds`` independent batches.

    Each batch has ``num_samples`` (task, plan) pairs, drawn from pi (on-policy rows) or from beta (off-policy rows:
    i.i.d. from the mixture, or with ``stratified`` round(lambda_g N) pairs from each generation, as the loop does).
    Each estimate is the autograd gradient of the objective of :mod:`itdeploy_lite.theory.gradients` at ``theta``.
    SFT estimates are conditional on N+ >= 1: a batch without a valid pair has no SFT data and gives a NaN row,
    which :func:`summarise` leaves out.

    Returns:
        estimator name -> ``(num_seeds, D)`` gradient estimates.
    """
    gen = torch.Generator().manual_seed(seed)
    logp_pi = log_probs(theta, toy).detach()
    logp_g = torch.stack([log_probs(t, toy) for t in behaviour])
    logp_beta = mixture_logprob(logp_g, lambdas)
    z = exact_targets(toy, theta, behaviour, lambdas)
    shape = (num_seeds, num_samples)
    draws = {"pi": sample(logp_pi.exp(), shape, gen)}
    if stratified:
        counts = [round(float(l) * num_samples) for l in lambdas]
        parts = [sample(lp.exp(), (num_seeds, c), gen) for lp, c in zip(logp_g, counts)]
        draws["beta"] = (torch.cat([p[0] for p in parts], 1), torch.cat([p[1] for p in parts], 1))
    else:
        draws["beta"] = sample(logp_beta.exp(), shape, gen)

    def surrogate(th, tasks, plans, weight, objective):
        return objective(log_probs(th, toy)[tasks, plans], toy.valid[tasks, plans], weight)

    out = {}
    for name, (objective, source, weighting, _) in ESTIMATORS.items():
        if names is not None and name not in names:
            continue
        tasks, plans = draws[source]
        reward, lp, lb = toy.valid[tasks, plans], logp_pi[tasks, plans], logp_beta[tasks, plans]
        if weighting == "none":
            weight = torch.ones_like(reward)
        elif weighting == "ratio":
            weight = density_ratio(lp, lb)
        elif weighting == "exact":
            weight = exact_weights(lp, lb, z["z_pi"], z["z_beta"])
        else:
            weight = self_normalised_weights(lp, lb, reward)
        grad = torch.func.grad(surrogate)
        out[name] = torch.func.vmap(grad, in_dims=(None, 0, 0, 0, None))(theta, tasks, plans, weight, objective)
        if objective is sft_objective:
            out[name][reward.sum(-1) == 0] = float("nan")
    return out


def summarise(estimates: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Bias and variance of Monte-Carlo gradient estimates against an exact target.

    Args:
        estimates: ``(S, D)``, one estimate per seed; rows with NaN (batches without SFT data) are left out.
        target: ``(D,)``, the exact gradient.

    Returns:
        ``rel_bias`` ||mean - target|| / ||target||; ``noise`` sqrt(trace Cov / S) / ||target||, the size
        ``rel_bias`` has for an unbiased estimator; ``rel_var`` trace Cov / ||target||^2, the variance of one
        batch's estimate; ``cosine`` cos(mean, target).
    """
    estimates = estimates[estimates.isfinite().all(dim=1)]
    norm = torch.linalg.vector_norm(target)
    mean = estimates.mean(0)
    trace_cov = estimates.var(0).sum()
    return {
        "rel_bias": float(torch.linalg.vector_norm(mean - target) / norm),
        "noise": float((trace_cov / estimates.shape[0]).sqrt() / norm),
        "rel_var": float(trace_cov / norm**2),
        "cosine": float(torch.nn.functional.cosine_similarity(mean, target, dim=0)),
    }
