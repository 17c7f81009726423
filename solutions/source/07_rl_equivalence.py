# %% [markdown]
# # Lab 07 — The RL equivalence: SFT on valid plans is REINFORCE
#
# Iterative deployment fine-tunes each generation on the valid plans of earlier generations. Nobody writes
# down a reward, yet Corrêa et al. ([arXiv 2512.24940](https://arxiv.org/abs/2512.24940), section on the
# connection to reinforcement learning) relate the loop to reinforcement learning with two statements:
#
# * **on-policy**, one gradient step of supervised fine-tuning (SFT) on a policy's own valid samples, each
#   weighted $1/N^+$, points along the **REINFORCE** gradient with the binary reward
#   $R = \mathbb{1}[\text{plan valid}]$ (the two differ by the factor $N^+/N$);
# * **off-policy**, SFT on a pool sampled by earlier generations (the **behaviour policy** $\beta$) becomes
#   REINFORCE again only with the **importance weight** $\frac{\pi}{\beta}\cdot\frac{Z_\beta}{Z_\pi}$ — which the
#   loop does not apply.
#
# This lab derives both statements step by step and checks every step numerically, in float64, on a toy
# policy whose expectations are finite sums (`itdeploy_lite.theory.toy`). Then (section 6) it measures how far
# the loop we actually run — shortest plan per task, pooled generations, retrained from the base for several
# epochs, a token-mean loss — is from those statements. You write four small functions:
#
# 1. `softmax_scores` — the score $\nabla_\theta \log \pi_\theta(y \mid x)$ of a softmax policy;
# 2. `reinforce_gradient` and `sft_gradient` — the two gradient estimates, side by side;
# 3. `importance_weights` — the off-policy weight with its normaliser $Z_\beta / Z_\pi$;
# 4. `self_normalised_weights` — the same weight when the success rates are unknown;
# 5. `reinforce_with_baseline` — REINFORCE with a baseline, where invalid plans become negative samples;
# 6. `effective_sample_size` — how many samples a batch of importance-weighted samples is worth.
#
# The package's versions are in `itdeploy_lite.theory` (`gradients.py`, `offpolicy.py`); the checks below
# compare yours with them.
#
# *Run time, measured: about 7 s on a CPU, top to bottom (`pytest --nbmake`, one torch thread, on a
# 2-core machine shared with two other long jobs; expect less on a free laptop). The graded exercise cells
# alone load in a few seconds.*

# %% tags=["setup"]
import torch

# %%
import matplotlib.pyplot as plt

from itdeploy_lite.theory import offpolicy as off
from itdeploy_lite.theory import toy as T
from itdeploy_lite.theory.gradients import flat_grad, reinforce_objective, sft_objective

torch.set_num_threads(1)

# %% [markdown]
# ## 1. The setting
#
# A **task** $x$ is drawn from a distribution $D$ (a planning problem), the **policy** $\pi_\theta$ writes a
# **plan** $y \sim \pi_\theta(\cdot \mid x)$, and the validator gives the **reward**
# $R(x, y) = \mathbb{1}[y \text{ is a valid plan for } x]$. The quantity the loop should increase is the
# **success rate**
#
# $$Z_\pi = \mathbb{E}_{x \sim D} \sum_y \pi_\theta(y \mid x)\, R(x, y),$$
#
# the probability that a sampled plan is valid — exactly the RL objective (expected reward).
#
# For a language model, $\log \pi_\theta(y \mid x)$ is the whole-sequence log-likelihood of the completion
# given the prompt (a sum over tokens). Here we use a **toy policy** with the same structure as a language
# model's last layer: task $x$ has $K$ candidate plans, plan $k$ has a feature vector $\phi(x, k) \in
# \mathbb{R}^D$, and
#
# $$\pi_\theta(k \mid x) = \frac{\exp(\phi(x,k)\cdot\theta)}{\sum_j \exp(\phi(x,j)\cdot\theta)}.$$
#
# `T.make_toy()` draws 4 tasks × 8 plans × 6 features, about 40% of the plans valid; `T.generations` makes a
# little deployment history of three policies, each one ascent step on $\log Z$ from the previous one.

# %%
toy = T.make_toy()
thetas = T.generations(toy)
print("features", tuple(toy.features.shape), " valid", tuple(toy.valid.shape), " valid fraction",
      round(float(toy.valid.mean()), 3))
for g, theta in enumerate(thetas):
    print(f"generation {g}: success rate Z = {float(T.success_rate(theta, toy)):.3f}")
theta = thetas[-1]  # the policy pi we train, below

# %% [markdown]
# ## Exercise 1 — the score of a softmax policy
#
# Both gradient estimates are averages of the **score** $s = \nabla_\theta \log \pi_\theta(y \mid x)$ of
# sampled plans. For the softmax policy, $\log \pi_\theta(k \mid x) = \phi(x,k)\cdot\theta - \log \sum_j
# \exp(\phi(x,j)\cdot\theta)$, and differentiating the log-sum-exp gives
#
# $$\nabla_\theta \log \pi_\theta(k \mid x) = \phi(x, k) - \sum_j \pi_\theta(j \mid x)\, \phi(x, j),$$
#
# the plan's features minus their mean under the policy. (For a language model the same thing holds per
# token, with the embedding of the sampled token minus the expected embedding.)

# %% tags=["exercise"]
def softmax_scores(features: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """The score grad_theta log pi_theta(k | x) of every plan of every task, for the softmax policy.

    pi_theta(k | x) = softmax_k(features[x, k] . theta), so
    grad log pi(k | x) = features[x, k] - sum_j pi(j | x) features[x, j]   (section 1 of this lab).

    Args:
        features: ``(P, K, D)`` float64, the feature vector of plan ``k`` of task ``x``; a single task may
            be given as ``(K, D)``.
        theta: ``(D,)`` float64, the policy's parameters.

    Returns:
        Same shape as ``features``: the score of each plan. For each task the scores, weighted by
        pi(k | x), sum to the zero vector. Must stay finite for large logits (``|features . theta|`` in the
        thousands): compute the probabilities with ``torch.softmax``, not by hand with ``exp``.
    """
    ### BEGIN SOLUTION
    probs = torch.softmax(features @ theta, dim=-1)
    mean_feature = (probs.unsqueeze(-1) * features).sum(dim=-2, keepdim=True)
    return features - mean_feature
    ### END SOLUTION


# %% [markdown]
# Check it against the package (`T.scores`) and against autograd: row $(x, k)$ of the Jacobian of
# $\log \pi_\theta$ is the score of plan $k$ of task $x$.

# %%
scores = softmax_scores(toy.features, theta)
jacobian = torch.autograd.functional.jacobian(lambda th: T.log_probs(th, toy), theta)  # (P, K, D)
print("max |yours - package|: ", float((scores - T.scores(theta, toy)).abs().max()))
print("max |yours - autograd|:", float((scores - jacobian).abs().max()))
print("policy-weighted mean score per task (should be 0):",
      float((T.log_probs(theta, toy).exp().unsqueeze(-1) * scores).sum(1).abs().max()))
assert torch.allclose(scores, jacobian, atol=1e-12)

# %% [markdown]
# ## 2. Two gradients, derived
#
# Sample a batch of $N$ pairs $(x_i, y_i)$ with $x_i \sim D$, $y_i \sim \pi_\theta(\cdot \mid x_i)$; write
# $s_i = \nabla_\theta \log \pi_\theta(y_i \mid x_i)$, $R_i = R(x_i, y_i)$ and $N^+ = \sum_i R_i$, the number of
# valid plans.
#
# **Step 1 — SFT on the valid samples.** Keep the valid plans and minimise their mean negative
# log-likelihood, one weight $1/N^+$ per *sequence*:
#
# $$L_{\text{SFT}}(\theta) = -\frac{1}{N^+} \sum_{i:\,R_i = 1} \log \pi_\theta(y_i \mid x_i),
# \qquad g_{\text{SFT}} = -\nabla_\theta L_{\text{SFT}} = \frac{1}{N^+} \sum_{i:\,R_i=1} s_i .$$
#
# ($g$ is the ascent direction, minus the gradient of the loss.) TRL's `SFTTrainer`, which the loop uses, and
# lab 05's `completion_loss` average over the batch's completion *tokens* instead, so a long plan weighs more
# than a short one within a batch, and a batch of long plans takes a smaller step per plan; section 6
# measures the difference.
#
# **Step 2 — the log-derivative trick.** Since $\nabla \pi = \pi\, \nabla \log \pi$,
#
# $$\nabla_\theta Z_\pi = \mathbb{E}_x \sum_y \nabla_\theta \pi_\theta(y\mid x)\, R(x,y)
# = \mathbb{E}_x \sum_y \pi_\theta(y\mid x)\, R(x,y)\, \nabla_\theta \log \pi_\theta(y\mid x)
# = \mathbb{E}_{x,\, y\sim\pi}\big[R\, s\big].$$
#
# **Step 3 — REINFORCE** is the sample mean of that expectation, unbiased for $\nabla Z_\pi$:
#
# $$g_{\text{RL}} = \frac{1}{N} \sum_{i=1}^{N} R_i\, s_i .$$
#
# **Step 4 — the identity.** With a binary reward, $R_i s_i$ is $s_i$ for a valid plan and $0$ otherwise, so
# $\sum_i R_i s_i = \sum_{i:R_i=1} s_i = N^+ g_{\text{SFT}}$ and, for every batch with $N^+ \ge 1$,
#
# $$\boxed{\,g_{\text{RL}} = \frac{N^+}{N}\, g_{\text{SFT}}\,}$$
#
# exactly, not only in expectation: SFT on the valid samples points in the REINFORCE direction; only the step
# length differs.

# %% [markdown]
# ## Exercise 2 — REINFORCE and SFT, side by side
#
# Write both estimates from a batch of scores and rewards. Put them next to each other: they differ in one
# place. A batch without a valid plan gives SFT no data, so no step: return zeros (the package does the same).

# %% tags=["exercise"]
def reinforce_gradient(scores: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """The REINFORCE estimate g_RL = (1/N) sum_i R_i s_i (step 3; unbiased for grad Z_pi on-policy).

    Args:
        scores: ``(N, D)`` float64, s_i = grad log pi(y_i | x_i) of each sampled pair.
        rewards: ``(N,)`` float64, R_i (here 1.0 for a valid plan, 0.0 otherwise; any real reward works).

    Returns:
        ``(D,)`` the estimate. Invalid samples contribute nothing, but they count in N.
    """
    ### BEGIN SOLUTION
    return (rewards.unsqueeze(-1) * scores).sum(dim=0) / scores.shape[0]
    ### END SOLUTION


def sft_gradient(scores: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """The SFT estimate g_SFT = (1/N+) sum_{i: R_i = 1} s_i, N+ = sum_i R_i (step 1: minus the gradient of
    the mean negative log-likelihood of the valid samples).

    Args:
        scores: ``(N, D)`` float64, s_i = grad log pi(y_i | x_i) of each sampled pair.
        rewards: ``(N,)`` float64 in {0.0, 1.0}; the samples with R_i = 1 are the SFT data.

    Returns:
        ``(D,)`` the mean score of the valid samples; the zero vector (not NaN) when N+ = 0.
    """
    ### BEGIN SOLUTION
    n_valid = rewards.sum()
    if n_valid == 0:
        return torch.zeros(scores.shape[-1], dtype=scores.dtype)
    return (rewards.unsqueeze(-1) * scores).sum(dim=0) / n_valid
    ### END SOLUTION


# %% [markdown]
# Check the identity on one batch of 32 samples from $\pi$, and compare with the package, which gets the same
# gradients by autograd through the surrogate objectives `reinforce_objective` and `sft_objective`.

# %%
gen = torch.Generator().manual_seed(1)
probs = T.log_probs(theta, toy).exp()
tasks, plans = T.sample(probs, (32,), gen)
s, r = scores[tasks, plans], toy.valid[tasks, plans]
g_rl, g_sft = reinforce_gradient(s, r), sft_gradient(s, r)
n_plus, n = float(r.sum()), len(r)
print(f"N = {n}, N+ = {n_plus:.0f}")
print("||g_RL - (N+/N) g_SFT|| / ||g_RL|| =", float((g_rl - n_plus / n * g_sft).norm() / g_rl.norm()))

theta_var = theta.clone().requires_grad_()
logp = T.log_probs(theta_var, toy)[tasks, plans]
print("max |g_RL  - package|:", float((g_rl - flat_grad(reinforce_objective(logp, r), [theta_var])).abs().max()))
print("max |g_SFT - package|:", float((g_sft - flat_grad(sft_objective(logp, r), [theta_var])).abs().max()))
assert torch.allclose(g_rl, n_plus / n * g_sft, atol=1e-12)

# %% [markdown]
# ## 3. What each one estimates
#
# The identity holds batch by batch; their **expectations** differ by a factor. Given $N^+ = n \ge 1$, the valid
# pairs of a batch are i.i.d. from the policy *conditioned on validity*,
#
# $$\pi(x, y \mid \text{valid}) = \frac{D(x)\, \pi_\theta(y \mid x)\, R(x,y)}{Z_\pi},$$
#
# so the mean of $g_{\text{SFT}}$ is the mean score under that distribution:
#
# $$\mathbb{E}\big[g_{\text{SFT}} \mid N^+ \ge 1\big] = \frac{\mathbb{E}_{x,\,y\sim\pi}[R\, s]}{Z_\pi}
# = \frac{\nabla Z_\pi}{Z_\pi} = \nabla \log Z_\pi .$$
#
# SFT on the model's own valid plans is gradient ascent on $\log Z_\pi$: the REINFORCE direction with the step
# divided by the success rate (a bigger step when the model rarely succeeds). On the toy both targets are
# exact finite sums (`T.grad_success_rate`, `T.grad_log_success_rate`), so we can average your estimates
# over many batches and see each one land on its target.

# %%
num_batches, batch = 2000, 32
tasks, plans = T.sample(probs, (num_batches, batch), torch.Generator().manual_seed(0))
rl = torch.stack([reinforce_gradient(scores[t, p], toy.valid[t, p]) for t, p in zip(tasks, plans)])
keep = toy.valid[tasks, plans].sum(1) > 0  # SFT needs at least one valid sample
sft = torch.stack([sft_gradient(scores[t, p], toy.valid[t, p]) for t, p in zip(tasks[keep], plans[keep])])

grad_z, grad_log_z = T.grad_success_rate(theta, toy), T.grad_log_success_rate(theta, toy)
for name, est, target, target_name in [("REINFORCE", rl, grad_z, "grad Z"), ("REINFORCE", rl, grad_log_z, "grad log Z"),
                                       ("SFT", sft, grad_log_z, "grad log Z"), ("SFT", sft, grad_z, "grad Z")]:
    st = off.summarise(est, target)
    print(f"{name:9s} vs {target_name:10s}: relative bias {st['rel_bias']:.3f}  (Monte-Carlo noise {st['noise']:.3f}),"
          f" cosine {st['cosine']:.4f}")
print(f"Z_pi = {float(T.success_rate(theta, toy)):.3f}: grad log Z = grad Z / Z, same direction (cosine 1), other length")

# %% [markdown]
# Each estimator is unbiased for its own target (bias within the noise) and points the same way as the other
# (cosine ≈ 1); measured against the other's target, the bias is $|1 - Z_\pi|$ or $|1 - 1/Z_\pi|$.
#
# ## 4. Off-policy: the pool comes from earlier generations
#
# The loop does not train $\pi$ on its own samples. Generation $g+1$ is fine-tuned on a **pool** of valid
# plans sampled by generations $0..g$. If a fraction $\lambda_g$ of the sampled plans came from generation
# $g$, the pool was drawn from the **behaviour policy**, a mixture, with a mixed success rate:
#
# $$\beta(y \mid x) = \sum_g \lambda_g\, \pi_g(y \mid x), \qquad Z_\beta = \sum_g \lambda_g Z_{\pi_g}.$$
#
# **Step 5 — plain SFT fits the pool.** The valid pairs of the pool are i.i.d. from
# $\beta(x,y\mid\text{valid}) = D\,\beta\,R / Z_\beta$, so with weights $w_i = 1$,
# $\mathbb{E}[g_{\text{SFT}}] = \nabla_\theta\, \mathbb{E}_{\beta(\cdot\mid\text{valid})}[\log \pi_\theta]$: it
# pulls $\pi$ towards the pool's valid plans, which is not $\nabla \log Z_\pi$.
#
# **Step 6 — importance weights.** To estimate $\mathbb{E}_{\pi(\cdot\mid\text{valid})}[s]$ from samples of
# $\beta(\cdot\mid\text{valid})$, weight each valid sample by the ratio of the two densities:
#
# $$w = \frac{\pi(x,y\mid\text{valid})}{\beta(x,y\mid\text{valid})}
# = \frac{D\,\pi\,R / Z_\pi}{D\,\beta\,R / Z_\beta} = \frac{\pi(y\mid x)}{\beta(y\mid x)}\cdot\frac{Z_\beta}{Z_\pi}.$$
#
# With these weights, $g_{\text{IS}} = \frac{1}{N^+}\sum_{i:R_i=1} w_i s_i$ is unbiased for $\nabla\log Z_\pi$
# again: the paper's importance-weighted version of the equivalence.
#
# **Step 7 — the normaliser matters.** Drop $Z_\beta/Z_\pi$ and keep only $\pi/\beta$: then
# $\mathbb{E}[g] = \frac{Z_\pi}{Z_\beta}\nabla\log Z_\pi$, the right direction with a step too long by
# $Z_\pi/Z_\beta$ (on this toy $\pi$ is the latest, best generation, so $Z_\pi > Z_\beta$ and the step is too long).
# The relative bias is $|Z_\pi/Z_\beta - 1|$. Careful with reading this into the loop: the loop retrains every
# generation **from the base** $\pi_0$, so the parameters at which its gradient is taken are $\pi_0$'s, whose
# success rate is *below* the pool's; section 6 measures what that does.
#
# **Step 8 — without knowing the Z's.** $\mathbb{E}_{\beta(\cdot\mid\text{valid})}[\pi/\beta] =
# \sum D\,\beta R/Z_\beta \cdot \pi/\beta = Z_\pi / Z_\beta$, so the mean of $\pi/\beta$ over the batch's valid
# samples estimates the inverse of the normaliser. Dividing by it gives the **self-normalised** weights:
# consistent, with a bias of order $1/N$.
#
# In practice $\log \pi$ and $\log \beta$ of a whole plan are sums over many tokens, often below $-700$,
# where `exp` underflows to 0: compute the ratio from the *difference* of the log-probabilities.

# %% [markdown]
# ## Exercise 3 — the exact importance weight

# %% tags=["exercise"]
def importance_weights(logp_pi: torch.Tensor, logp_beta: torch.Tensor, z_pi, z_beta) -> torch.Tensor:
    """The off-policy weight pi(.|valid) / beta(.|valid) = (pi / beta) * (Z_beta / Z_pi) (step 6).

    Args:
        logp_pi: ``(N,)`` float64, log pi(y_i | x_i) of the policy being trained.
        logp_beta: ``(N,)`` float64, log beta(y_i | x_i) of the behaviour policy that sampled the pool.
        z_pi: success rate Z_pi of pi (a float or 0-d tensor, > 0).
        z_beta: success rate Z_beta of beta (a float or 0-d tensor, > 0).

    Returns:
        ``(N,)`` the weights. Computed from ``logp_pi - logp_beta`` so that it stays finite and exact when
        both log-probabilities are very negative (e.g. -1000, where ``exp`` underflows to 0).
    """
    ### BEGIN SOLUTION
    return torch.exp(logp_pi - logp_beta) * (z_beta / z_pi)
    ### END SOLUTION


# %% [markdown]
# ## Exercise 4 — self-normalised weights (no success rates needed)

# %% tags=["exercise"]
def self_normalised_weights(logp_pi: torch.Tensor, logp_beta: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """(pi / beta) divided by the mean of pi / beta over the batch's valid samples (step 8).

    Args:
        logp_pi: ``(N,)`` float64, log pi(y_i | x_i).
        logp_beta: ``(N,)`` float64, log beta(y_i | x_i).
        rewards: ``(N,)`` float64 in {0.0, 1.0}, the validity of each sample.

    Returns:
        ``(N,)`` the weights; their mean over the valid samples is exactly 1. With no valid sample
        (N+ = 0) there is no SFT data: return zeros (not NaN). Use ``logp_pi - logp_beta``, as in exercise 3.
    """
    ### BEGIN SOLUTION
    ratio = torch.exp(logp_pi - logp_beta)
    n_valid = rewards.sum()
    if n_valid == 0:
        return torch.zeros_like(ratio)
    return ratio / ((rewards * ratio).sum() / n_valid)
    ### END SOLUTION


# %% [markdown]
# Check both against the package (`off.exact_weights`, `off.self_normalised_weights`) on a batch from the
# behaviour policy: $\beta$ is the uniform mixture of the three generations, and $\pi$ is the last one.

# %%
lambdas = torch.full((3,), 1 / 3, dtype=torch.float64)
logp_gens = torch.stack([T.log_probs(t, toy) for t in thetas])  # (G, P, K)
logp_pi_all, logp_beta_all = T.log_probs(theta, toy), off.mixture_logprob(logp_gens, lambdas)
z_pi = T.success_rate(theta, toy)
z_beta = off.mixture_success_rate(torch.stack([T.success_rate(t, toy) for t in thetas]), lambdas)
print(f"Z_pi = {float(z_pi):.3f}, Z_beta = {float(z_beta):.3f}, Z_pi / Z_beta = {float(z_pi / z_beta):.3f}")

t, p = T.sample(logp_beta_all.exp(), (32,), torch.Generator().manual_seed(2))
lp, lb, r = logp_pi_all[t, p], logp_beta_all[t, p], toy.valid[t, p]
w = importance_weights(lp, lb, z_pi, z_beta)
w_self = self_normalised_weights(lp, lb, r)
print("max |exact weights - package|:          ", float((w - off.exact_weights(lp, lb, z_pi, z_beta)).abs().max()))
print("max |self-normalised weights - package|:", float((w_self - off.self_normalised_weights(lp, lb, r)).abs().max()))
print("mean self-normalised weight over valid samples:", float((w_self * r).sum() / r.sum()))
print("weights of plans with log-probabilities near -1000:",
      importance_weights(lp[:3] - 1000, lb[:3] - 1000, z_pi, z_beta), "==", w[:3])

# %% [markdown]
# ## 5. The bias table
#
# Now the whole off-policy story in one table: 2000 batches of 32 pairs drawn from $\beta$, each estimator built
# from your functions, its Monte-Carlo mean compared with the exact gradient it should estimate.
# "predicted" is the relative bias the derivation predicts.

# %%
tasks, plans = T.sample(logp_beta_all.exp(), (num_batches, batch), torch.Generator().manual_seed(3))
estimators = {"SFT on the pool, w = 1": [], "IS-SFT, w = pi/beta (drops Z)": [], "IS-SFT, exact w": [],
              "IS-SFT, self-normalised w": [], "IS-REINFORCE, w = pi/beta": []}
for t, p in zip(tasks, plans):
    s, r, lp, lb = scores[t, p], toy.valid[t, p], logp_pi_all[t, p], logp_beta_all[t, p]
    ratio = importance_weights(lp, lb, 1.0, 1.0)  # pi/beta: the normaliser set to 1
    estimators["IS-REINFORCE, w = pi/beta"].append(reinforce_gradient(s, r * ratio))
    if r.sum() == 0:
        continue
    estimators["SFT on the pool, w = 1"].append(sft_gradient(s, r))
    estimators["IS-SFT, w = pi/beta (drops Z)"].append(sft_gradient(ratio[:, None] * s, r))
    estimators["IS-SFT, exact w"].append(sft_gradient(importance_weights(lp, lb, z_pi, z_beta)[:, None] * s, r))
    estimators["IS-SFT, self-normalised w"].append(sft_gradient(self_normalised_weights(lp, lb, r)[:, None] * s, r))

targets = off.exact_targets(toy, theta, thetas, lambdas)
drop_z = abs(float(z_pi / z_beta) - 1)
fit_gap = float((targets["grad_fit"] - grad_log_z).norm() / grad_log_z.norm())
rows = [("SFT on the pool, w = 1", "grad log Z", fit_gap), ("IS-SFT, w = pi/beta (drops Z)", "grad log Z", drop_z),
        ("IS-SFT, exact w", "grad log Z", 0.0), ("IS-SFT, self-normalised w", "grad log Z", None),
        ("IS-REINFORCE, w = pi/beta", "grad Z", 0.0)]
print(f"{'estimator':31s} {'target':11s} {'rel. bias':>9s} {'noise':>6s} {'predicted':>9s} {'cosine':>7s}")
measured = {}
for name, target_name, predicted in rows:
    target = grad_z if target_name == "grad Z" else grad_log_z
    st = off.summarise(torch.stack(estimators[name]), target)
    measured[name] = st
    shown = "O(1/N)" if predicted is None else f"{predicted:.3f}"
    print(f"{name:31s} {target_name:11s} {st['rel_bias']:9.3f} {st['noise']:6.3f} {shown:>9s} {st['cosine']:7.4f}")

# %% [markdown]
# The package runs the same experiment with its own estimators (`off.simulate`, vectorised with
# `torch.func`); its numbers should tell the same story (different random draws, same biases within the noise).

# %%
package = off.simulate(toy, theta, thetas, lambdas, num_samples=batch, num_seeds=num_batches, seed=0)
for name, (_, _, _, target_name) in off.ESTIMATORS.items():
    st = off.summarise(package[name], targets[target_name])
    print(f"{name:28s} vs {target_name:10s}: relative bias {st['rel_bias']:.3f} (noise {st['noise']:.3f})")

# %% [markdown]
# Two things to read in the table. Plain SFT on the pool is not just scaled: on this toy it points *away* from
# $\nabla \log Z_\pi$ (negative cosine): it pulls $\pi$ towards the pool's valid plans, and two thirds of the
# pool come from older, worse generations. And the self-normalised estimator shows a small bias: it divides by a mean
# estimated from the same batch, a bias of order $1/N$. The package's vectorised simulation shows it shrink
# as the batch grows:

# %%
for n_batch in (8, 32, 128):
    est = off.simulate(toy, theta, thetas, lambdas, num_samples=n_batch, num_seeds=4000, seed=1,
                       names=("IS-SFT, self-normalised",))["IS-SFT, self-normalised"]
    st = off.summarise(est, grad_log_z)
    print(f"N = {n_batch:3d}: self-normalised relative bias {st['rel_bias']:.3f} (noise {st['noise']:.3f})")

# %%
names = [name for name, _, _ in rows]
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.barh(names, [measured[n]["rel_bias"] for n in names], xerr=[2 * measured[n]["noise"] for n in names],
        color="tab:blue", label="measured (±2 noise)")
predicted = [(n, pr) for n, _, pr in rows if pr is not None]
ax.scatter([pr for _, pr in predicted], [n for n, _ in predicted], color="tab:red", zorder=3, label="predicted")
ax.invert_yaxis()
ax.set(xlabel="relative bias of the Monte-Carlo mean", title="off-policy estimators on the toy, 2000 batches of 32")
ax.legend(loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 5 — REINFORCE with a baseline: what SFT never does
#
# SFT uses only the valid samples; an invalid plan changes nothing. REINFORCE with a **baseline** $b$,
#
# $$g_b = \frac{1}{N}\sum_i (R_i - b)\, s_i,$$
#
# gives every invalid sample the weight $-b$: a **negative sample**, whose probability the step pushes *down*.
# Because $\mathbb{E}_{y\sim\pi}[s] = 0$ (the scores' policy-weighted mean is zero, exercise 1), the baseline
# adds nothing in expectation: $g_b$ is unbiased for $\nabla Z_\pi$ for any constant $b$, and a $b$ near the
# success rate lowers its variance. The package's explicit RL baseline, `itdeploy rl` (`itdeploy_lite.rl`),
# uses the per-task version, GRPO's group advantage $(R_i - \bar R_x)/\sigma_x$ (`rl.group_advantages`).

# %% tags=["exercise"]
def reinforce_with_baseline(scores: torch.Tensor, rewards: torch.Tensor, baseline: float) -> torch.Tensor:
    """REINFORCE with a constant baseline: g_b = (1/N) sum_i (R_i - b) s_i.

    Args:
        scores: ``(N, D)`` float64, s_i = grad log pi(y_i | x_i).
        rewards: ``(N,)`` float64, R_i (1.0 valid, 0.0 invalid).
        baseline: the constant b (a float). b = 0 is plain REINFORCE; with b > 0 every invalid sample
            contributes -b s_i / N (a negative sample) and every valid one (1 - b) s_i / N.

    Returns:
        ``(D,)`` the estimate (the zero vector for a batch whose rewards all equal b).
    """
    ### BEGIN SOLUTION
    return ((rewards - baseline).unsqueeze(-1) * scores).sum(dim=0) / scores.shape[0]
    ### END SOLUTION


# %% [markdown]
# The same 2000 on-policy batches of 32 as in section 3: the mean lands on $\nabla Z_\pi$ whatever $b$, the
# spread does not.

# %%
tasks, plans = T.sample(probs, (num_batches, batch), torch.Generator().manual_seed(0))  # from pi, as in section 3
z = float(T.success_rate(theta, toy))
print(f"{'baseline b':>12s} {'relative bias vs grad Z':>24s} {'total variance':>15s}")
for b in (0.0, z, 1.0):
    est = torch.stack([reinforce_with_baseline(scores[t, p], toy.valid[t, p], b) for t, p in zip(tasks, plans)])
    st = off.summarise(est, grad_z)
    print(f"{b:12.3f} {st['rel_bias']:24.3f} {float(est.var(0).sum()):15.5f}")

# %% [markdown]
# ## Exercise 6 — what importance weights cost: the effective sample size
#
# Section 4's weights make the off-policy estimate unbiased, but they are uneven: a few samples with large
# $\pi/\beta$ carry most of the weight, and the estimate's variance grows. The **effective sample size**
# $\mathrm{ESS} = (\sum_i w_i)^2 / \sum_i w_i^2$ says how many equally weighted samples the weighted batch is
# worth: $N$ when all weights are equal, 1 when one sample carries everything. It equals
# $N / (1 + \mathrm{CV}^2)$, with $\mathrm{CV}$ the weights' coefficient of variation (standard deviation over
# mean): the variance of the weights is what shrinks the batch.

# %% tags=["exercise"]
def effective_sample_size(weights: torch.Tensor) -> float:
    """Kish's effective sample size of importance weights: (sum w)^2 / sum w^2.

    Args:
        weights: ``(N,)`` non-negative weights (e.g. the valid samples' importance weights), not all zero.

    Returns:
        float in [1, N]: N for equal weights, 1 when one weight is non-zero; unchanged when all weights are
        multiplied by the same positive number.

    Raises:
        ValueError: no weights, a negative weight, or all weights zero.
    """
    ### BEGIN SOLUTION
    if weights.numel() == 0 or bool((weights < 0).any()) or not bool((weights > 0).any()):
        raise ValueError("need at least one positive weight and no negative ones")
    return float(weights.sum() ** 2 / (weights ** 2).sum())
    ### END SOLUTION


# %% [markdown]
# The pool is the mixture $\beta$ of the three generations. The further $\pi$ is from it, the more uneven the
# weights of a batch of 32 and the fewer samples its valid part is worth: on this toy the last generation
# $\pi_2$ keeps most of the batch, the base $\pi_0$ and a policy trained three steps beyond $\pi_2$ about
# 60% of it. Every generation the loop trains further from the pool's oldest plans pays this price, if it
# weights them at all.

# %%
t, p = T.sample(logp_beta_all.exp(), (32,), torch.Generator().manual_seed(4))
r = toy.valid[t, p]
valid = r > 0
print(f"valid samples in the batch: {int(valid.sum())}")
for name, th in [("pi_0", thetas[0]), ("pi_2 (the last generation)", thetas[2]),
                 ("pi_2 + 3 more steps", T.generations(toy, num_generations=6)[-1])]:
    lp = T.log_probs(th, toy)[t, p]
    w = importance_weights(lp, logp_beta_all[t, p], 1.0, 1.0)[valid]
    print(f"pi = {name:27s} ESS {effective_sample_size(w):5.1f} of {int(valid.sum())}")

# %% [markdown]
# ## 6. What the loop really optimises
#
# Everything above is about one gradient step of sequence-mean SFT on the policy's own valid samples (or on an
# importance-weighted pool). The loop (`itdeploy run`, labs 04-06) departs from that in five ways:
#
# 1. **shortest plan per task** — curation keeps, per task, only the shortest valid plan of its samples. Whether
#    a plan is kept depends on the *other* samples of the task, so the "reward" is not a fixed $R(x, y)$ and
#    step 4's identity does not apply to it; the kept plans follow a distribution of their own;
# 2. **pooling** — the pool holds the plans of generations $0..g$ (step 5: it fits $\beta$, not $\pi$);
# 3. **retraining from the base** — generation $g+1$ starts from $\pi_0$, not from the deployed $\pi_g$;
# 4. **several epochs** — many optimiser steps on one fixed pool, not one small step;
# 5. **token mean** — TRL averages the loss over tokens (with a batch of one plan, each score is divided by
#    the plan's length; larger batches dilute this, they do not remove it).
#
# On the toy each departure is an exact expectation, so we can take it alone and measure the **cosine**
# between the update it makes (the parameters after training minus $\theta_g$) and the REINFORCE direction
# $\nabla Z(\theta_g)$ at the deployed policy: 1 is a REINFORCE step, 0 orthogonal, negative lowers the success
# rate to first order. `itdeploy_lite.theory.loop_gap.departures` trains the toy on the data distribution of
# each variant (full-batch gradient ascent on $\mathbb{E}_{\text{data}}[\log\pi_\theta]$, no sampling noise); plan
# lengths are drawn at random (24-72 tokens), 4 samples per task and generation.

# %%
from itdeploy_lite.theory.loop_gap import departures

lengths = torch.randint(4, 13, toy.valid.shape, generator=torch.Generator().manual_seed(0)) * 6
gap = departures(toy, thetas, lengths, samples=4, epochs=20)
print(f"success rate of the deployed policy: {gap[0]['z_before']:.3f}")
print(f"{'variant':58s} {'cosine':>7s} {'Z after':>8s}")
for row in gap:
    print(f"{row['variant']:58s} {row['cosine']:7.3f} {row['z_after']:8.3f}")

# %% [markdown]
# Read the table as a measurement on one toy, not a law: the numbers depend on the features, the lengths and
# the step sizes. What it shows is that each departure alone already turns the update away from the REINFORCE
# direction — pooling with older generations most (on this toy it points *away*, as step 5 predicted) — and
# that all five together leave a cosine far from 1. The loop may still raise the success rate (the last
# column), but "the loop is REINFORCE" is not what the derivation shows: it shows that one on-policy SFT step
# is, and that the loop's update is a different one, whose direction we can measure.
#
# ## What you saw
#
# * The score of a softmax policy is the features minus their policy mean; autograd agrees to 1e-15.
# * **On-policy**, $g_{\text{RL}} = (N^+/N)\, g_{\text{SFT}}$ holds exactly on every batch. Averaged over
#   batches, REINFORCE lands on $\nabla Z_\pi$ and SFT on $\nabla \log Z_\pi = \nabla Z_\pi / Z_\pi$: one step of
#   sequence-mean SFT on the model's own valid plans is a policy-gradient step with the binary reward, scaled
#   by $1/Z$.
# * **Off-policy**, plain SFT on a pool sampled by earlier generations follows a different vector (it fits the
#   pool). The weights $(\pi/\beta)(Z_\beta/Z_\pi)$ remove that bias; dropping the normaliser leaves a bias of
#   $|Z_\pi/Z_\beta - 1|$, of the size predicted; self-normalising estimates the normaliser from the
#   batch and needs no success rate, at the price of a bias that shrinks like $1/N$.
# * **The loop** departs from both statements — shortest-plan selection, pooling, retraining from the base,
#   several epochs, a token mean — and each departure turns its update away from the REINFORCE direction
#   (section 6). It is *related* to policy-gradient RL, with a curator-defined selection in place of a reward,
#   not equal to it.
# * Nothing above used what $R$ *means*. In the loop, what is learned is whatever the curator keeps — the next
#   lab looks at a curator with a preference of its own.
#
# To go further: `python experiments/theory_offpolicy.py` prints the package's full table, how the bias moves
# with the mixture weights, and what happens when the pool is sampled with fixed counts per generation (as
# the loop does); `tests/test_theory.py` checks the on-policy identity on a real (tiny) Llama with LoRA.
