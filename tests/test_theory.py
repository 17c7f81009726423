"""The gradient identities of itdeploy_lite.theory, checked so that they can fail.

On-policy: REINFORCE = (N+/N) * SFT to 1e-6 in float64, on the analytic toy and on a tiny Llama with LoRA;
perturbing one term (drop a valid trace, divide by N instead of N+) must break it.
Off-policy: Monte-Carlo means against exact gradients of the toy; thresholds are multiples of the
Monte-Carlo noise level measured in the same run (fixed seeds, so the outcome is deterministic).
"""

import pytest
import torch

from itdeploy_lite.theory import offpolicy as off
from itdeploy_lite.theory import toy as T
from itdeploy_lite.theory.gradients import (
    flat_grad,
    on_policy_identity_error,
    pad_batch,
    reinforce_objective,
    sequence_logprobs,
    sft_objective,
    trainable_parameters,
)

pytestmark = pytest.mark.usefixtures("one_thread")

TOL = 1e-6          # the identity, float64
BROKEN = 1e-3       # a perturbed identity must be off by at least this much



def _toy_batch(n=32, seed=1):
    toy = T.make_toy()
    theta = T.generations(toy)[-1].clone().requires_grad_()
    tasks, plans = T.sample(T.log_probs(theta, toy).detach().exp(), (n,), torch.Generator().manual_seed(seed))
    logp = T.log_probs(theta, toy)[tasks, plans]
    reward = toy.valid[tasks, plans]
    assert 0 < reward.sum() < n
    return theta, logp, reward


def test_toy_on_policy_identity():
    theta, logp, reward = _toy_batch()
    g_rl = flat_grad(reinforce_objective(logp, reward), [theta])
    g_sft = flat_grad(sft_objective(logp, reward), [theta])
    assert on_policy_identity_error(g_rl, g_sft, reward) <= TOL


def test_toy_identity_breaks_when_perturbed():
    theta, logp, reward = _toy_batch()
    g_rl = flat_grad(reinforce_objective(logp, reward), [theta])
    dropped = reward.clone()
    dropped[int(reward.nonzero()[0])] = 0.0  # forget one valid trace in the SFT term only
    g_drop = flat_grad(sft_objective(logp, dropped), [theta])
    assert on_policy_identity_error(g_rl, g_drop, reward) > BROKEN
    g_over_n = flat_grad((reward * logp).sum() / len(logp), [theta])  # SFT with N instead of N+
    assert on_policy_identity_error(g_rl, g_over_n, reward) > BROKEN


def test_toy_exact_gradients_match_autograd():
    toy = T.make_toy()
    theta = T.generations(toy)[-1].clone().requires_grad_()
    z = T.success_rate(theta, toy)
    (g_auto,) = torch.autograd.grad(z, theta)
    assert torch.allclose(g_auto, T.grad_success_rate(theta.detach(), toy), rtol=1e-12, atol=1e-14)
    assert torch.allclose(g_auto / z.detach(), T.grad_log_success_rate(theta.detach(), toy), rtol=1e-12, atol=1e-14)


# --- a real causal LM: tiny Llama, float64, LoRA parameters only ------------------------------------------

VOCAB, PAD, EOS = 50, 0, 1


@pytest.fixture(scope="module")
def lora_lm():
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64,
                         pad_token_id=PAD, bos_token_id=2, eos_token_id=EOS)
    base = LlamaForCausalLM(config).double()
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "up_proj", "down_proj"],
                      init_lora_weights=False)  # random A and B, so both get a gradient
    return get_peft_model(base, lora).double().eval()


@pytest.fixture(scope="module")
def lm_batch(lora_lm):
    """12 sampled completions (up to 6 tokens, stop at EOS) for prompts of 3-6 tokens; R = 1[first token even]."""
    gen = torch.Generator().manual_seed(0)
    prompts, completions = [], []
    with torch.no_grad():
        for i in range(12):
            prompt = torch.randint(3, VOCAB, (3 + i % 4,), generator=gen).tolist()
            ids = torch.tensor([prompt])
            out = lora_lm.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True,
                                   max_new_tokens=6, eos_token_id=EOS, pad_token_id=PAD)
            prompts.append(prompt)
            completions.append(out[0, len(prompt):].tolist())
    reward = torch.tensor([float(c[0] % 2 == 0) for c in completions], dtype=torch.float64)
    assert 0 < reward.sum() < len(reward), "seed gives an all-valid or all-invalid batch"
    return prompts, completions, reward


def test_sequence_logprobs_padding_does_not_change_scores(lora_lm, lm_batch):
    prompts, completions, _ = lm_batch
    with torch.no_grad():
        batched = sequence_logprobs(lora_lm, *pad_batch(prompts, completions, PAD))
        alone = torch.cat([sequence_logprobs(lora_lm, *pad_batch([p], [c], PAD)) for p, c in zip(prompts, completions)])
        right = pad_batch(prompts, completions, PAD)
        shift = (right[1] == 0).sum(1)  # roll each row so that its padding comes first
        left = [torch.stack([row.roll(int(k)) for row, k in zip(t, shift)]) for t in right]
        left_padded = sequence_logprobs(lora_lm, *left)
    assert torch.allclose(batched, alone, rtol=0, atol=1e-10)
    assert torch.allclose(left_padded, alone, rtol=0, atol=1e-10)
    assert (batched < 0).all()


def _lm_gradients(model, batch, sft_reward=None):
    prompts, completions, reward = batch
    params = trainable_parameters(model)
    logp = sequence_logprobs(model, *pad_batch(prompts, completions, PAD))
    g_rl = flat_grad(reinforce_objective(logp, reward), params)
    g_sft = flat_grad(sft_objective(logp, reward if sft_reward is None else sft_reward), params)
    return g_rl, g_sft, logp, params


def test_lm_on_policy_identity_on_lora_parameters(lora_lm, lm_batch):
    """About 1e-7, not 1e-16: HF Llama computes RMSNorm and RoPE in float32 even in a float64 model."""
    g_rl, g_sft, _, params = _lm_gradients(lora_lm, lm_batch)
    names = [n for n, p in lora_lm.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n for n in names) and all(p.dtype == torch.float64 for p in params)
    assert g_rl.norm() > 0
    assert on_policy_identity_error(g_rl, g_sft, lm_batch[2]) <= TOL


def test_lm_identity_breaks_when_perturbed(lora_lm, lm_batch):
    reward = lm_batch[2]
    dropped = reward.clone()
    dropped[int(reward.nonzero()[0])] = 0.0
    g_rl, g_drop, logp, params = _lm_gradients(lora_lm, lm_batch, sft_reward=dropped)
    assert on_policy_identity_error(g_rl, g_drop, reward) > BROKEN
    g_over_n = flat_grad((reward * logp).sum() / len(logp), params)
    assert on_policy_identity_error(g_rl, g_over_n, reward) > BROKEN


# --- off-policy, Monte Carlo on the toy ----------------------------------------------------------------------


def test_mixture_of_one_generation_is_that_generation():
    toy = T.make_toy()
    thetas = T.generations(toy)
    logp = torch.stack([T.log_probs(t, toy) for t in thetas])
    lambdas = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    assert torch.allclose(off.mixture_logprob(logp, lambdas).exp(), (lambdas[:, None, None] * logp.exp()).sum(0))
    one_hot = torch.tensor([1e-300, 1e-300, 1.0], dtype=torch.float64)
    assert torch.allclose(off.mixture_logprob(logp, one_hot), logp[-1])
    z = T.success_rate(thetas[-1], toy)
    assert torch.allclose(off.exact_weights(logp[-1], logp[-1], z, z), torch.ones_like(logp[-1]))


@pytest.fixture(scope="module")
def monte_carlo():
    toy = T.make_toy()
    thetas = T.generations(toy)
    lambdas = torch.full((3,), 1 / 3, dtype=torch.float64)
    targets = off.exact_targets(toy, thetas[-1], thetas, lambdas)
    estimates = off.simulate(toy, thetas[-1], thetas, lambdas, num_samples=32, num_seeds=1500, seed=0)
    return targets, estimates


@pytest.mark.parametrize("name", ["on-policy REINFORCE", "on-policy SFT", "IS-REINFORCE, pi/beta", "IS-SFT, exact"])
def test_unbiased_estimators(monte_carlo, name):
    targets, estimates = monte_carlo
    s = off.summarise(estimates[name], targets[off.ESTIMATORS[name][3]])
    assert s["rel_bias"] <= 3 * s["noise"], s


def test_plain_sft_on_pool_fits_the_pool(monte_carlo):
    targets, estimates = monte_carlo
    s_fit = off.summarise(estimates["SFT on beta's valid, w=1"], targets["grad_fit"])
    s_rl = off.summarise(estimates["SFT on beta's valid, w=1"], targets["grad_log_z"])
    assert s_fit["rel_bias"] <= 3 * s_fit["noise"], s_fit
    assert s_rl["rel_bias"] > 10 * s_rl["noise"], s_rl


def test_dropping_the_success_rate_ratio_biases_by_it(monte_carlo):
    """w = pi/beta: mean is (Z_pi/Z_beta) grad log Z_pi, so the relative bias is |Z_pi/Z_beta - 1|."""
    targets, estimates = monte_carlo
    s = off.summarise(estimates["IS-SFT, drops Zb/Zpi"], targets["grad_log_z"])
    predicted = abs(float(targets["z_pi"] / targets["z_beta"]) - 1)
    assert predicted > 0.2                                   # the toy's generations do improve
    assert s["rel_bias"] > 5 * s["noise"], s                 # measurable
    assert abs(s["rel_bias"] - predicted) <= 3 * s["noise"], (s, predicted)  # and of the predicted size
    s_scaled = off.summarise(estimates["IS-SFT, drops Zb/Zpi"], targets["grad_z"] / targets["z_beta"])
    assert s_scaled["rel_bias"] <= 3 * s_scaled["noise"], s_scaled


def test_self_normalised_weights_average_one_over_valid_and_survive_empty_batches():
    logp_pi = torch.log(torch.tensor([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]], dtype=torch.float64))
    logp_beta = torch.log(torch.tensor([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4]], dtype=torch.float64))
    reward = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    w = off.self_normalised_weights(logp_pi, logp_beta, reward)
    assert torch.allclose((w * reward)[0].sum() / reward[0].sum(), torch.tensor(1.0, dtype=torch.float64))
    assert torch.equal(w[1], torch.zeros(3, dtype=torch.float64))


# --- how far the loop's update is from REINFORCE (issue 13) --------------------------------------------------


def test_loop_gap_reference_row_is_reinforce_and_departures_are_not():
    from itdeploy_lite.theory import toy as T
    from itdeploy_lite.theory.loop_gap import departures

    toy = T.make_toy()
    thetas = T.generations(toy)
    lengths = torch.randint(4, 13, toy.valid.shape, generator=torch.Generator().manual_seed(0)) * 6
    rows = departures(toy, thetas, lengths)
    assert rows[0]["cosine"] == pytest.approx(1.0, abs=1e-3) and rows[0]["z_after"] > rows[0]["z_before"]
    assert len(rows) == 7 and all(r["cosine"] < 0.99 for r in rows[1:])
    assert rows[2]["cosine"] < 0  # the pool of older generations points away on this toy (lab 07, step 5)
    # with equal lengths the token mean is the sequence mean: back to REINFORCE
    assert departures(toy, thetas, torch.full_like(lengths, 7))[5]["cosine"] == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError):
        departures(toy, thetas, lengths * 0)


def test_shortest_valid_distribution_exact_and_sampled():
    from itdeploy_lite.theory import toy as T
    from itdeploy_lite.theory.loop_gap import shortest_valid_distribution, valid_distribution

    toy = T.make_toy(num_tasks=3, num_plans=5, dim=3, seed=2)
    probs = T.log_probs(T.generations(toy)[-1], toy).exp()
    lengths = torch.randint(1, 4, toy.valid.shape, generator=torch.Generator().manual_seed(1)).double()
    # one sample per task: the kept plan is the drawn one when valid
    assert torch.allclose(shortest_valid_distribution([probs], toy, lengths, 1), valid_distribution(probs, toy))
    exact = shortest_valid_distribution([probs, probs], toy, lengths, 2)  # 2 generations x 2 samples = 4 draws
    gen = torch.Generator().manual_seed(0)
    counts = torch.zeros_like(exact)
    order = lengths * 5 + torch.arange(5, dtype=torch.float64)
    for _ in range(20000):
        x = int(torch.randint(3, (1,), generator=gen))
        drawn = torch.multinomial(probs[x], 4, replacement=True, generator=gen)
        valid = [int(k) for k in drawn if toy.valid[x, k] > 0]
        if valid:
            counts[x, min(valid, key=lambda k: order[x, k])] += 1
    assert torch.allclose(counts / counts.sum(), exact, atol=0.01)
