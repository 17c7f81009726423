"""Off-policy SFT as importance-weighted REINFORCE, measured on the analytic toy policy.

Prints: the on-policy identity error; the toy's little deployment history (success rate per generation);
a table of every estimator of :mod:`itdeploy_lite.theory.offpolicy` against the exact gradient it aims at
(bias and variance over many seeds); how the bias of dropping Z_beta/Z_pi moves with the pool's mixture
weights; and which estimators stay exact when the pool is sampled with fixed counts per generation.

    python experiments/theory_offpolicy.py                 # about 20-30 s on one CPU thread
    python experiments/theory_offpolicy.py --seeds 20000   # tighter Monte-Carlo error
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

import torch

from itdeploy_lite.theory import offpolicy as off
from itdeploy_lite.theory import toy as T
from itdeploy_lite.theory.gradients import flat_grad, on_policy_identity_error, reinforce_objective, sft_objective


@dataclass
class Args:
    tasks: int = 4            # P, tasks of the toy
    plans: int = 8            # K, candidate plans per task
    dim: int = 6              # D, parameters of the toy policy
    generations: int = 3      # earlier generations in the pool (the last one is the policy being trained)
    samples: int = 64         # N, pairs per batch
    seeds: int = 4000         # independent batches per estimator
    seeds_small_n: int = 40000  # batches per estimator in the fixed-counts table (small N, small biases)
    seed: int = 0


def parse() -> Args:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in fields(Args):
        parser.add_argument(f"--{f.name}", type=type(f.default), default=f.default)
    return Args(**vars(parser.parse_args()))


def on_policy_identity(toy, theta, n, seed) -> float:
    theta = theta.clone().requires_grad_()
    tasks, plans = T.sample(T.log_probs(theta, toy).detach().exp(), (n,), torch.Generator().manual_seed(seed))
    logp, reward = T.log_probs(theta, toy)[tasks, plans], toy.valid[tasks, plans]
    g_rl = flat_grad(reinforce_objective(logp, reward), [theta])
    g_sft = flat_grad(sft_objective(logp, reward), [theta])
    return on_policy_identity_error(g_rl, g_sft, reward)


def table(toy, thetas, lambdas, args, stratified=False, names=None):
    theta = thetas[-1]
    targets = off.exact_targets(toy, theta, thetas, lambdas)
    est = off.simulate(toy, theta, thetas, lambdas, args.samples, args.seeds, args.seed, stratified, names)
    return targets, [(name, off.ESTIMATORS[name][3], off.summarise(e, targets[off.ESTIMATORS[name][3]]))
                     for name, e in est.items()]


def predicted_bias(name: str, targets: dict) -> float:
    """The relative bias the theory predicts for each estimator (0 for the unbiased ones)."""
    if name == "IS-SFT, drops Zb/Zpi":
        return abs(float(targets["z_pi"] / targets["z_beta"]) - 1)
    if name == "SFT on beta's valid, w=1":
        return float((targets["grad_fit"] - targets["grad_log_z"]).norm() / targets["grad_log_z"].norm())
    return 0.0


def main(args: Args) -> None:
    torch.set_num_threads(1)
    toy = T.make_toy(args.tasks, args.plans, args.dim, seed=args.seed)
    thetas = T.generations(toy, args.generations, seed=args.seed)
    z = [float(T.success_rate(t, toy)) for t in thetas]
    uniform = torch.full((args.generations,), 1 / args.generations, dtype=torch.float64)

    print(f"on-policy identity ||g_RL - (N+/N) g_SFT|| / ||g_RL|| on the toy: "
          f"{on_policy_identity(toy, thetas[-1], args.samples, args.seed):.1e}")
    print("success rate per generation: " + ", ".join(f"Z_{g} = {v:.3f}" for g, v in enumerate(z)))

    targets, rows = table(toy, thetas, uniform, args)
    ratio = float(targets["z_pi"] / targets["z_beta"])
    print(f"\npi = generation {args.generations - 1}, beta = uniform mixture of all {args.generations}: "
          f"Z_pi = {float(targets['z_pi']):.3f}, Z_beta = {float(targets['z_beta']):.3f}, Z_pi/Z_beta = {ratio:.3f}")
    print(f"N = {args.samples} pairs per batch, {args.seeds} batches; rel. bias = ||mean - target|| / ||target||, "
          f"noise = its size if unbiased;\nvariance = trace Cov(one batch) / ||target||^2; cosine = cos(mean, target); "
          f"SFT rows conditional on N+ >= 1\n")
    head = (f"{'estimator':28s} {'target':12s} {'rel. bias':>10s} {'noise':>7s} {'predicted':>9s} "
            f"{'variance':>8s} {'cosine':>7s}")
    print(head + "\n" + "-" * len(head))
    for name, target, s in rows:
        print(f"{name:28s} {target:12s} {s['rel_bias']:10.3f} {s['noise']:7.3f} {predicted_bias(name, targets):9.3f} "
              f"{s['rel_var']:8.2f} {s['cosine']:7.3f}")

    print("\nmixture weight on the current generation (the rest split evenly over the older ones):")
    head = (f"{'lambda_cur':>10s} {'Z_beta':>7s} {'Z_pi/Z_beta':>11s} {'drop-Z bias':>11s} {'predicted':>9s} "
            f"{'plain-SFT cos':>13s}")
    print(head + "\n" + "-" * len(head))
    for cur in (1.0, 0.6, 1 / 3, 0.1):
        rest = (1 - cur) / (args.generations - 1)
        lambdas = torch.tensor([rest] * (args.generations - 1) + [cur], dtype=torch.float64).clamp(min=1e-300)
        names = ("IS-SFT, drops Zb/Zpi", "SFT on beta's valid, w=1")
        targets, rows = table(toy, thetas, lambdas, args, names=names)
        s = dict((n, st) for n, _, st in rows)
        print(f"{cur:10.2f} {float(targets['z_beta']):7.3f} {float(targets['z_pi'] / targets['z_beta']):11.3f} "
              f"{s[names[0]]['rel_bias']:11.3f} {predicted_bias(names[0], targets):9.3f} "
              f"{s[names[1]]['cosine']:13.3f}")

    print("\nfixed counts per generation (round(lambda_g N) pairs each, as the loop samples) vs i.i.d. from beta:")
    head = f"{'N':>4s} {'estimator':28s} {'iid bias':>8s} {'fixed bias':>10s} {'noise':>7s}"
    print(head + "\n" + "-" * len(head))
    names = ("IS-REINFORCE, pi/beta", "IS-SFT, exact", "IS-SFT, self-normalised")
    for n in (3, 6, 12, 48):
        a = Args(**{**vars(args), "samples": n, "seeds": args.seeds_small_n})
        _, iid = table(toy, thetas, uniform, a, names=names)
        _, fixed = table(toy, thetas, uniform, a, stratified=True, names=names)
        for (name, _, si), (_, _, sf) in zip(iid, fixed):
            noise = max(si["noise"], sf["noise"])
            print(f"{n:4d} {name:28s} {si['rel_bias']:8.3f} {sf['rel_bias']:10.3f} {noise:7.3f}")


if __name__ == "__main__":
    main(parse())
