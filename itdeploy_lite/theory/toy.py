"""An analytic toy policy: a softmax over a few candidate plans per task, with known validity.

Everything that is an expectation for a language model is a finite sum here, so the exact gradients
the estimators in :mod:`itdeploy_lite.theory.gradients` and :mod:`itdeploy_lite.theory.offpolicy` aim at
can be computed in closed form and compared with their Monte-Carlo means.

The model: ``P`` tasks (prompts) drawn uniformly, ``K`` candidate plans per task, each plan ``k`` of task
``x`` has a feature vector ``phi(x, k)`` (dimension ``D``) and a validity bit ``v(x, k)``. The policy is
log-linear, like the last layer of a language model::

    pi_theta(k | x) = softmax_k( phi(x, k) . theta )
    grad log pi(k | x) = phi(x, k) - sum_j pi(j | x) phi(x, j)          (the score)
    Z(theta) = (1/P) sum_x sum_k pi(k | x) v(x, k)                      (success rate)

All tensors are float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Toy:
    """A toy planning problem.

    Attributes:
        features: ``(P, K, D)`` float64, feature vector of plan ``k`` for task ``x``.
        valid: ``(P, K)`` float64 in {0, 1}, whether plan ``k`` solves task ``x`` (the reward R).
    """

    features: torch.Tensor
    valid: torch.Tensor


def make_toy(num_tasks: int = 4, num_plans: int = 8, dim: int = 6, valid_fraction: float = 0.4, seed: int = 0) -> Toy:
    """A random toy problem with at least one valid and one invalid plan per task.

    Args:
        num_tasks: P, number of tasks (prompts), drawn uniformly.
        num_plans: K, candidate plans per task.
        dim: D, feature dimension = number of parameters of the policy.
        valid_fraction: probability that a plan is valid.
        seed: seed of the generator.

    Returns:
        A :class:`Toy` with ``features`` ``(P, K, D)`` and ``valid`` ``(P, K)``.
    """
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(num_tasks, num_plans, dim, generator=g, dtype=torch.float64)
    valid = (torch.rand(num_tasks, num_plans, generator=g) < valid_fraction).double()
    valid[:, 0], valid[:, 1] = 1.0, 0.0  # every task solvable, and not trivially
    return Toy(features, valid)


def log_probs(theta: torch.Tensor, toy: Toy) -> torch.Tensor:
    """log pi_theta(k | x) = log softmax_k(phi(x, k) . theta); ``theta`` ``(D,)`` -> ``(P, K)``.

    Differentiable in ``theta``, so ``log_probs(theta, toy)[x, k]`` is the toy's whole-sequence log-likelihood.
    """
    return torch.log_softmax(toy.features @ theta, dim=-1)


def scores(theta: torch.Tensor, toy: Toy) -> torch.Tensor:
    """The score of every plan, grad log pi(k | x) = phi(x, k) - E_{j ~ pi(.|x)} phi(x, j); ``(P, K, D)``."""
    probs = log_probs(theta, toy).exp()
    mean_feature = (probs.unsqueeze(-1) * toy.features).sum(dim=1, keepdim=True)
    return toy.features - mean_feature


def success_rate(theta: torch.Tensor, toy: Toy) -> torch.Tensor:
    """Z(theta) = (1/P) sum_x sum_k pi(k | x) v(x, k), the probability that a sampled plan is valid (scalar)."""
    return (log_probs(theta, toy).exp() * toy.valid).sum(dim=1).mean()


def expected_score(theta: torch.Tensor, toy: Toy, weights: torch.Tensor) -> torch.Tensor:
    """sum_{x,k} weights(x, k) grad log pi_theta(k | x); ``weights`` ``(P, K)`` -> ``(D,)``.

    With ``weights`` a distribution q over (task, plan) pairs this is E_q[grad log pi] = grad_theta E_q[log pi_theta].
    """
    return (weights.unsqueeze(-1) * scores(theta, toy)).sum(dim=(0, 1))


def grad_success_rate(theta: torch.Tensor, toy: Toy) -> torch.Tensor:
    """Exact grad Z(theta) = E_{x, k ~ pi}[R grad log pi] (what REINFORCE estimates); ``(D,)``."""
    num_tasks = toy.valid.shape[0]
    return expected_score(theta, toy, log_probs(theta, toy).exp() * toy.valid / num_tasks)


def grad_log_success_rate(theta: torch.Tensor, toy: Toy) -> torch.Tensor:
    """Exact grad log Z(theta) = E_{pi(.|valid)}[grad log pi] (what SFT on valid samples estimates); ``(D,)``."""
    return grad_success_rate(theta, toy) / success_rate(theta, toy)


def sample(probs: torch.Tensor, shape: tuple[int, ...], generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Draw tasks uniformly and plans from ``probs``.

    Args:
        probs: ``(P, K)``, pi(k | x) of the sampling policy.
        shape: batch shape of the draw, e.g. ``(N,)`` or ``(seeds, N)``.
        generator: torch random generator.

    Returns:
        ``(tasks, plans)``, two int64 tensors of ``shape``.
    """
    num_tasks = probs.shape[0]
    tasks = torch.randint(num_tasks, shape, generator=generator)
    plans = torch.multinomial(probs[tasks.reshape(-1)], 1, generator=generator).reshape(shape)
    return tasks, plans


def generations(toy: Toy, num_generations: int = 3, step: float = 1.5, seed: int = 0) -> list[torch.Tensor]:
    """Parameters of a little iterative-deployment history: each generation one ascent step on log Z.

    theta_0 is small and random; theta_{g+1} = theta_g + step * grad log Z(theta_g) (what SFT on the
    generation's own valid plans does in expectation), so the success rate grows from one generation to the next.

    Returns:
        A list of ``num_generations`` parameter vectors ``(D,)``.
    """
    g = torch.Generator().manual_seed(seed)
    theta = 0.3 * torch.randn(toy.features.shape[-1], generator=g, dtype=torch.float64)
    thetas = [theta]
    for _ in range(num_generations - 1):
        theta = theta + step * grad_log_success_rate(theta, toy)
        thetas.append(theta)
    return thetas
