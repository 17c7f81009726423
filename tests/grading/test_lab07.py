"""Grading lab 07 (the RL equivalence): softmax_scores, reinforce_gradient, sft_gradient, importance_weights,
self_normalised_weights.

Expectations are independent of the package's answers (``toy.scores``, ``offpolicy.exact_weights``,
``density_ratio`` and ``self_normalised_weights``, which the grader makes unavailable to the notebook):
autograd (the Jacobian of the log-softmax; the gradients of the REINFORCE and SFT objectives, written in the test), values
computed by hand, and properties (unbiasedness over many batches, invariance to a common shift). Edge cases: a
single task given as (K, D), large logits, a batch with no valid sample, very negative log-probabilities.
"""

import pytest
import torch

from itdeploy_lite.theory import offpolicy as off
from itdeploy_lite.theory import toy as T

F64 = torch.float64


@pytest.fixture(scope="module")
def lab(load_lab):
    return load_lab("07")


@pytest.fixture(scope="module")
def toy_batch():
    """A toy, the last generation's theta, and a batch of 40 on-policy samples with 0 < N+ < N."""
    toy = T.make_toy(num_tasks=5, num_plans=7, dim=4, seed=3)
    theta = T.generations(toy, seed=3)[-1]
    tasks, plans = T.sample(T.log_probs(theta, toy).exp(), (40,), torch.Generator().manual_seed(5))
    reward = toy.valid[tasks, plans]
    assert 0 < reward.sum() < len(reward)
    return toy, theta, tasks, plans, reward


def _autograd_grads(toy, theta, tasks, plans, reward):
    th = theta.clone().requires_grad_()
    logp = T.log_probs(th, toy)[tasks, plans]
    # the two surrogate objectives written out here: mean of R log pi over all samples, and over the valid ones
    (g_rl,) = torch.autograd.grad((reward * logp).sum() / len(reward), th, retain_graph=True)
    (g_sft,) = torch.autograd.grad((reward * logp).sum() / reward.sum(), th)
    return g_rl, g_sft


def _jacobian_scores(toy, theta):
    """grad_theta log pi(y | x) for every (task, plan), by autograd."""
    return torch.autograd.functional.jacobian(lambda th: T.log_probs(th, toy), theta)


# --- exercise 1 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("softmax_scores")
def test_softmax_scores_are_the_jacobian_of_log_pi(lab, toy_batch):
    toy, theta, *_ = toy_batch
    scores = lab.softmax_scores(toy.features, theta)
    assert scores.shape == toy.features.shape
    jacobian = torch.autograd.functional.jacobian(lambda th: T.log_probs(th, toy), theta)
    assert torch.allclose(scores, jacobian, atol=1e-12)


@pytest.mark.exercise("softmax_scores")
def test_softmax_scores_of_one_task_by_hand(lab):
    # two plans, one feature: logits 0 and log 3 -> pi = (1/4, 3/4), mean feature 3/4
    features = torch.tensor([[0.0], [1.0]], dtype=F64)
    theta = torch.tensor([torch.log(torch.tensor(3.0, dtype=F64))], dtype=F64)
    assert torch.allclose(lab.softmax_scores(features, theta), torch.tensor([[-0.75], [0.25]], dtype=F64), atol=1e-12)


@pytest.mark.exercise("softmax_scores")
def test_softmax_scores_are_finite_for_large_logits(lab, toy_batch):
    toy, theta, *_ = toy_batch
    big = 500.0 * theta / theta.norm()  # logits in the hundreds to thousands
    scores = lab.softmax_scores(toy.features, big)
    assert torch.isfinite(scores).all()
    jacobian = torch.autograd.functional.jacobian(lambda th: T.log_probs(th, toy), big)
    assert torch.allclose(scores, jacobian, atol=1e-9)


# --- exercise 2 ---------------------------------------------------------------------------------------------
@pytest.mark.exercise("reinforce_gradient")
def test_reinforce_gradient_is_autograd_of_the_objective(lab, toy_batch):
    toy, theta, tasks, plans, reward = toy_batch
    scores = _jacobian_scores(toy, theta)[tasks, plans]
    g_rl, _ = _autograd_grads(toy, theta, tasks, plans, reward)
    assert torch.allclose(lab.reinforce_gradient(scores, reward), g_rl, atol=1e-12)


@pytest.mark.exercise("sft_gradient")
def test_sft_gradient_is_autograd_of_the_objective(lab, toy_batch):
    toy, theta, tasks, plans, reward = toy_batch
    scores = _jacobian_scores(toy, theta)[tasks, plans]
    _, g_sft = _autograd_grads(toy, theta, tasks, plans, reward)
    assert torch.allclose(lab.sft_gradient(scores, reward), g_sft, atol=1e-12)


@pytest.mark.exercise("sft_gradient")
def test_gradients_by_hand_and_the_identity(lab):
    scores = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [-1.0, 5.0]], dtype=F64)
    reward = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=F64)
    g_rl, g_sft = lab.reinforce_gradient(scores, reward), lab.sft_gradient(scores, reward)
    assert torch.allclose(g_rl, torch.tensor([1.0, 0.75], dtype=F64))   # (1/4) * ([1,0] + [3,3])
    assert torch.allclose(g_sft, torch.tensor([2.0, 1.5], dtype=F64))   # (1/2) * ([1,0] + [3,3])
    assert torch.allclose(g_rl, reward.sum() / len(reward) * g_sft)    # g_RL = (N+/N) g_SFT
    # a real-valued reward weights each score (REINFORCE is not only for binary rewards)
    assert torch.allclose(lab.reinforce_gradient(scores, torch.tensor([2.0, 0.0, 0.0, 1.0], dtype=F64)),
                          torch.tensor([0.25, 1.25], dtype=F64))


@pytest.mark.exercise("sft_gradient")
def test_no_valid_sample_gives_no_step(lab):
    scores = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64)
    reward = torch.zeros(2, dtype=F64)
    assert torch.equal(lab.sft_gradient(scores, reward), torch.zeros(2, dtype=F64))
    assert torch.equal(lab.reinforce_gradient(scores, reward), torch.zeros(2, dtype=F64))


@pytest.mark.exercise("reinforce_gradient")
def test_sft_is_unbiased_for_grad_log_z_and_reinforce_for_grad_z(lab):
    """Averaged over 600 batches, each estimate lands on its exact target and not on the other's."""
    toy = T.make_toy()
    theta = T.generations(toy)[-1]
    scores = _jacobian_scores(toy, theta)
    tasks, plans = T.sample(T.log_probs(theta, toy).exp(), (600, 24), torch.Generator().manual_seed(0))
    rewards = toy.valid[tasks, plans]
    rl = torch.stack([lab.reinforce_gradient(scores[t, p], r) for t, p, r in zip(tasks, plans, rewards)])
    keep = rewards.sum(1) > 0
    sft = torch.stack([lab.sft_gradient(scores[t, p], r) for t, p, r in zip(tasks[keep], plans[keep], rewards[keep])])
    for est, good, bad in [(rl, T.grad_success_rate(theta, toy), T.grad_log_success_rate(theta, toy)),
                           (sft, T.grad_log_success_rate(theta, toy), T.grad_success_rate(theta, toy))]:
        on_target, off_target = off.summarise(est, good), off.summarise(est, bad)
        assert on_target["rel_bias"] <= 4 * on_target["noise"], on_target
        assert off_target["rel_bias"] > 5 * off_target["noise"], off_target


# --- exercises 3 and 4 --------------------------------------------------------------------------------------
LOGP_PI = torch.log(torch.tensor([0.2, 0.5, 0.3, 0.1], dtype=F64))
LOGP_BETA = torch.log(torch.tensor([0.4, 0.25, 0.3, 0.4], dtype=F64))


@pytest.mark.exercise("importance_weights")
def test_importance_weights_by_hand(lab):
    w = lab.importance_weights(LOGP_PI, LOGP_BETA, 0.8, 0.4)   # (pi/beta) * (0.4/0.8)
    assert torch.allclose(w, torch.tensor([0.25, 1.0, 0.5, 0.125], dtype=F64))
    z_pi, z_beta = torch.tensor(0.7, dtype=F64), torch.tensor(0.55, dtype=F64)
    ratio = torch.tensor([0.2 / 0.4, 0.5 / 0.25, 0.3 / 0.3, 0.1 / 0.4], dtype=F64)
    assert torch.allclose(lab.importance_weights(LOGP_PI, LOGP_BETA, z_pi, z_beta), ratio * 0.55 / 0.7, atol=1e-12)


@pytest.mark.exercise("importance_weights")
def test_importance_weights_of_the_same_policy_are_one(lab):
    w = lab.importance_weights(LOGP_PI, LOGP_PI, 0.6, 0.6)
    assert torch.allclose(w, torch.ones(4, dtype=F64))


@pytest.mark.exercise("importance_weights")
def test_importance_weights_survive_very_negative_log_probabilities(lab):
    w = lab.importance_weights(LOGP_PI - 1000.0, LOGP_BETA - 1000.0, 0.8, 0.4)
    assert torch.isfinite(w).all()
    assert torch.allclose(w, torch.tensor([0.25, 1.0, 0.5, 0.125], dtype=F64), atol=1e-9)


@pytest.mark.exercise("self_normalised_weights")
def test_self_normalised_weights(lab):
    reward = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=F64)
    w = lab.self_normalised_weights(LOGP_PI, LOGP_BETA, reward)
    # pi/beta = [0.5, 2, 1, 0.25]; mean over valid = 1.25
    assert torch.allclose(w, torch.tensor([0.4, 1.6, 0.8, 0.2], dtype=F64))
    assert torch.allclose((w * reward).sum() / reward.sum(), torch.tensor(1.0, dtype=F64))
    other = torch.tensor([0.0, 1.0, 1.0, 1.0], dtype=F64)
    # pi/beta over the valid samples: 2, 1, 0.25 -> mean 13/12
    expected = torch.tensor([0.5, 2.0, 1.0, 0.25], dtype=F64) * 12 / 13
    assert torch.allclose(lab.self_normalised_weights(LOGP_PI, LOGP_BETA, other), expected, atol=1e-12)
    shifted = lab.self_normalised_weights(LOGP_PI - 1000.0, LOGP_BETA - 1000.0, reward)
    assert torch.allclose(shifted, w, atol=1e-9)


@pytest.mark.exercise("self_normalised_weights")
def test_self_normalised_weights_without_valid_samples_are_zero(lab):
    w = lab.self_normalised_weights(LOGP_PI, LOGP_BETA, torch.zeros(4, dtype=F64))
    assert torch.equal(w, torch.zeros(4, dtype=F64))


@pytest.mark.exercise("importance_weights")
def test_exact_weights_remove_the_off_policy_bias(lab):
    """IS-SFT with the student's exact weights is unbiased for grad log Z_pi; plain pi/beta is off by Z_pi/Z_beta."""
    toy = T.make_toy()
    thetas = T.generations(toy)
    theta, lambdas = thetas[-1], torch.full((3,), 1 / 3, dtype=F64)
    targets = off.exact_targets(toy, theta, thetas, lambdas)
    logp_pi = T.log_probs(theta, toy)
    logp_beta = off.mixture_logprob(torch.stack([T.log_probs(t, toy) for t in thetas]), lambdas)
    scores = _jacobian_scores(toy, theta)
    tasks, plans = T.sample(logp_beta.exp(), (1500, 64), torch.Generator().manual_seed(1))
    exact, drop = [], []
    for t, p in zip(tasks, plans):
        r = toy.valid[t, p]
        if r.sum() == 0:
            continue
        w = lab.importance_weights(logp_pi[t, p], logp_beta[t, p], targets["z_pi"], targets["z_beta"])
        exact.append((r * w) @ scores[t, p] / r.sum())
        drop.append((r * w * targets["z_pi"] / targets["z_beta"]) @ scores[t, p] / r.sum())
    s_exact = off.summarise(torch.stack(exact), targets["grad_log_z"])
    s_drop = off.summarise(torch.stack(drop), targets["grad_log_z"])
    assert s_exact["rel_bias"] <= 4 * s_exact["noise"], s_exact
    assert s_drop["rel_bias"] > 4 * s_drop["noise"], (s_drop, s_exact)


# --- exercise 5: reinforce_with_baseline ----------------------------------------------------------------------
@pytest.mark.exercise("reinforce_with_baseline")
def test_reinforce_with_baseline_by_hand(lab):
    scores = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [-1.0, 5.0]], dtype=F64)
    reward = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=F64)
    assert torch.allclose(lab.reinforce_with_baseline(scores, reward, 0.0), torch.tensor([1.0, 0.75], dtype=F64))
    # b = 0.5: valid samples weigh +0.5, invalid ones -0.5 (negative samples)
    expected = (0.5 * (scores[0] + scores[2]) - 0.5 * (scores[1] + scores[3])) / 4
    assert torch.allclose(lab.reinforce_with_baseline(scores, reward, 0.5), expected)
    # a batch of only invalid samples moves with b > 0 (SFT would not move at all)
    assert torch.allclose(lab.reinforce_with_baseline(scores[[1, 3]], reward[[1, 3]], 1.0),
                          -(scores[1] + scores[3]) / 2)
    assert torch.equal(lab.reinforce_with_baseline(scores, torch.full((4,), 0.3, dtype=F64), 0.3), torch.zeros(2, dtype=F64))


@pytest.mark.exercise("reinforce_with_baseline")
def test_a_baseline_keeps_reinforce_unbiased_and_lowers_its_variance(lab):
    toy = T.make_toy()
    theta = T.generations(toy)[-1]
    scores = _jacobian_scores(toy, theta)
    tasks, plans = T.sample(T.log_probs(theta, toy).exp(), (800, 24), torch.Generator().manual_seed(7))
    z = float(T.success_rate(theta, toy))
    variance = {}
    for b in (0.0, z, 1.0):
        est = torch.stack([lab.reinforce_with_baseline(scores[t, p], toy.valid[t, p], b) for t, p in zip(tasks, plans)])
        st = off.summarise(est, T.grad_success_rate(theta, toy))
        assert st["rel_bias"] <= 4 * st["noise"], (b, st)
        variance[b] = float(est.var(0).sum())
    assert variance[z] < variance[0.0] and variance[z] < variance[1.0], variance


# --- exercise 6: effective_sample_size ------------------------------------------------------------------------
@pytest.mark.exercise("effective_sample_size")
def test_effective_sample_size_by_hand(lab):
    assert lab.effective_sample_size(torch.ones(7, dtype=F64)) == pytest.approx(7.0)
    assert lab.effective_sample_size(torch.tensor([0.0, 5.0, 0.0], dtype=F64)) == pytest.approx(1.0)
    assert lab.effective_sample_size(torch.tensor([1.0, 2.0, 3.0], dtype=F64)) == pytest.approx(36 / 14)
    assert isinstance(lab.effective_sample_size(torch.tensor([1.0, 2.0], dtype=F64)), float)


@pytest.mark.exercise("effective_sample_size")
def test_effective_sample_size_is_n_over_one_plus_cv_squared(lab):
    gen = torch.Generator().manual_seed(3)
    for n in (2, 10, 50):
        w = torch.rand(n, generator=gen, dtype=F64) ** 3
        cv2 = float(w.var(unbiased=False) / w.mean() ** 2)
        assert lab.effective_sample_size(w) == pytest.approx(n / (1 + cv2), rel=1e-9)
        assert lab.effective_sample_size(17.0 * w) == pytest.approx(lab.effective_sample_size(w), rel=1e-9)


@pytest.mark.exercise("effective_sample_size")
def test_effective_sample_size_rejects_bad_weights(lab):
    for bad in (torch.zeros(3, dtype=F64), torch.tensor([1.0, -0.5], dtype=F64), torch.zeros(0, dtype=F64)):
        with pytest.raises(ValueError):
            lab.effective_sample_size(bad)
