"""Iterative deployment is reinforcement learning in the outer loop, made measurable.

The theory of Corrêa et al. (arXiv 2512.24940, section on the connection to RL), worked out for this kit.

Setting. Tasks x ~ D, plans y ~ pi_theta(. | x), reward R(x, y) = 1[y is a valid plan for x].
Success rate Z_pi = E_x sum_y pi(y|x) R(x,y), the RL objective. Score s = grad_theta log pi(y|x), with
log pi(y|x) the whole-sequence log-likelihood of the completion given the prompt.

1. On-policy equivalence (:mod:`.gradients`). A batch of N pairs from pi with N+ = sum_i R_i valid ones::

       g_RL  = (1/N)  sum_i R_i s_i            E[g_RL]            = grad Z_pi
       g_SFT = (1/N+) sum_{R_i=1} s_i          E[g_SFT | N+ >= 1] = grad log Z_pi = grad Z_pi / Z_pi
       g_RL  = (N+/N) g_SFT                    exactly, batch by batch

   (Given N+ = n, the valid pairs are i.i.d. from pi(. | valid) = D pi R / Z_pi, whose mean score is
   grad Z_pi / Z_pi.) SFT on the model's own valid plans is policy-gradient ascent on log Z: the REINFORCE
   direction with the step scaled by 1/Z.

2. Off-policy, importance-weighted version (:mod:`.offpolicy`). The data pool was sampled by earlier generations,
   beta = sum_g lambda_g pi_g, Z_beta = sum_g lambda_g Z_g. Plain SFT on beta's valid pairs estimates
   grad E_{beta(.|valid)}[log pi] (it fits the pool), not grad log Z_pi. The weight
   pi(.|valid)/beta(.|valid) = (pi/beta)(Z_beta/Z_pi) makes it unbiased for grad log Z_pi again; the weight pi/beta
   alone gives (Z_pi/Z_beta) grad log Z_pi, biased by the factor Z_pi/Z_beta.

3. Implicit reward. Nothing above needs R to mean validity: the loop optimises whatever the curator keeps.
   The curation rule is the reward, defined by nobody explicitly (the paper's AI-safety point).

:mod:`.toy` is an analytic softmax policy on which every expectation above is a finite sum.
"""

from itdeploy_lite.theory.gradients import (
    flat_grad,
    on_policy_identity_error,
    pad_batch,
    reinforce_objective,
    relative_error,
    sequence_logprobs,
    sft_objective,
    trainable_parameters,
)
from itdeploy_lite.theory.offpolicy import (
    density_ratio,
    exact_targets,
    exact_weights,
    mixture_logprob,
    mixture_success_rate,
    self_normalised_weights,
    simulate,
    summarise,
)

__all__ = [
    "density_ratio",
    "exact_targets",
    "exact_weights",
    "flat_grad",
    "mixture_logprob",
    "mixture_success_rate",
    "on_policy_identity_error",
    "pad_batch",
    "reinforce_objective",
    "relative_error",
    "self_normalised_weights",
    "sequence_logprobs",
    "sft_objective",
    "simulate",
    "summarise",
    "trainable_parameters",
]
