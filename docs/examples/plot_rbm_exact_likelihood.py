"""
An RBM learns the critical 4 x 4 Ising model, judged exactly
============================================================

At L = 4 the Ising model has 2^16 = 65 536 states, few enough to write down
its Boltzmann distribution exactly; an RBM with 16 hidden units has an exact
partition function too. So here nothing is estimated: we draw training data
from the exact distribution at T_c, fit :class:`rbm.BernoulliRBM` with its
default settings, and compute the exact Kullback-Leibler divergence
KL(p_Ising || p_RBM) and the model's own exact energy and magnetization.
"""

import matplotlib.pyplot as plt
import numpy as np

import ising
import rbm

L, T = 4, ising.T_C
N = L * L
p_exact = ising.boltzmann_distribution(L, T)        # state i: bit k = spin +1 at site k
energies, magnetizations = ising.enumerate_states(L)

# %%
# Training data: 20 000 independent draws from the exact distribution, as
# RBM visible units v = (s + 1) / 2 (bit k of the state index).

rng = np.random.default_rng(1)
states = rng.choice(p_exact.size, size=20_000, p=p_exact)
bits = (np.arange(p_exact.size)[:, None] >> np.arange(N)) & 1
all_visible = bits.astype(np.uint8)                 # every state, in enumeration order
X = all_visible[states]

model = rbm.BernoulliRBM(n_hidden=16, rng=2).fit(X)

# %%
# Exact comparison over all states. ``score_samples`` is the exact log p(v):
# the partition function is summed over the 16 hidden units.

log_q = model.score_samples(all_visible)
q = np.exp(log_q)
mask = p_exact > 0
kl = float(np.sum(p_exact[mask] * (np.log(p_exact[mask]) - log_q[mask])))
print(f"L = {L}, T = {T:.4f}: 16 hidden units, default settings, {len(X)} training samples")
print(f"sum of the model's probabilities over all states: {q.sum():.12f}")
print(f"exact KL(p_Ising || p_RBM) = {kl:.4f} nats "
      f"(finite-data floor ~ parameters / (2 n) = {(N * 16 + N + 16) / (2 * len(X)):.4f})")
for name, values, scale in [("e", energies, 1 / N), ("|m|", np.abs(magnetizations), 1 / N)]:
    exact = float(p_exact @ values) * scale
    data = float(values[states].mean()) * scale
    print(f"{name:>4}: exact {exact:.5f}   training data {data:.5f}   model (exact sum) "
          f"{float(q @ values) * scale:.5f}")

# %%
# Left: the model's probability of every state against the exact one (each
# dot is one of the 65 536 states; states with less weight than one in
# 10^7 are left out). Right: the exact log-likelihood per epoch, monitored
# during training (the smaller layer has <= 20 units, so it is exact).

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
keep = p_exact > 1e-7
axes[0].loglog(p_exact[keep], q[keep], ".", ms=2, alpha=0.4)
lims = [p_exact[keep].min(), p_exact.max() * 2]
axes[0].plot(lims, lims, color="0.3", lw=0.8)
axes[0].set_xlabel("exact Boltzmann probability")
axes[0].set_ylabel("RBM probability")
axes[0].set_title(f"KL = {kl:.4f} nats")
history = model.history_
axes[1].plot(np.arange(1, len(history["log_likelihood"]) + 1), history["log_likelihood"])
axes[1].axhline(float(p_exact[mask] @ np.log(p_exact[mask])), color="0.3", ls="--",
                label="exact: -entropy of p_Ising")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("mean log-likelihood of the data (nats)")
axes[1].legend(fontsize=8)
plt.show()
