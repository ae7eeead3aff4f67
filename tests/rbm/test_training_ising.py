"""Training on the exactly known L = 4 Ising distribution (16 spins, 65536 states).

With the DEFAULT hyperparameters of ``BernoulliRBM(16)`` and 2 x 10^4 exact
samples, the exact KL(p_Ising || p_RBM) must be <= 0.02 nats at T = 1.5,
2.269 and 3.5 (issue 3; careful reference RBMs reach 0.009-0.016,
scikit-learn's best 0.033-0.075). The model's own exact e and |m| (per spin,
by enumerating its distribution over all 65536 states) must match the exact
Ising values within 4 standard errors of the mean of the 2 x 10^4 training
samples (sigma_f / sqrt(n) with sigma_f the exact standard deviation of the
observable): a model cannot know the truth better than its data, and a
bias of that size or larger fails. The model must also give the two
magnetized halves equal weight within 0.05 (the ordered phase is where plain
PCD loses one of them).

The exact distribution comes from ``tests/rbm/ising_reference.py``, an
enumeration written independently of ``ising.exact``.
"""

import numpy as np
import pytest

from rbm import BernoulliRBM

from ising_reference import (all_states, boltzmann, ising_energies, model_kl,
                              model_log_probs, draw_samples)

L = 4
N_TRAIN = 20000


@pytest.fixture(scope="module")
def ising_tables():
    energy, mag = ising_energies(L)
    return energy / L**2, np.abs(mag) / L**2, mag


@pytest.mark.slow
@pytest.mark.parametrize("T, seed", [(1.5, 101), (2.269, 102), (3.5, 103)])
def test_default_rbm_learns_the_L4_ising_distribution(T, seed, ising_tables):
    e_site, absm_site, mag = ising_tables
    p = boltzmann(L, T)
    X = draw_samples(L, T, N_TRAIN, np.random.default_rng(seed))
    model = BernoulliRBM(16, rng=seed).fit(X)
    kl = model_kl(p, model)
    assert kl <= 0.02, f"T={T}: KL = {kl:.4f} nats"
    q = np.exp(model_log_probs(model))
    for name, f in (("energy", e_site), ("abs_magnetization", absm_site)):
        exact = p @ f
        sigma = np.sqrt(p @ (f - exact) ** 2)
        se = sigma / np.sqrt(N_TRAIN)
        dev = (q @ f - exact) / se
        assert abs(dev) < 4, f"T={T}: model {name} {q @ f:.5f} vs exact {exact:.5f} ({dev:.1f} se)"
    # the two flip-related halves of state space carry equal weight
    up = q[mag > 0].sum() + 0.5 * q[mag == 0].sum()
    assert abs(up - 0.5) < 0.05, f"T={T}: weight of m > 0 states {up:.3f}"
    # the exact log-likelihood history is recorded and ends near the data's
    ll = model.history_["log_likelihood"]
    assert len(ll) == model.n_epochs and ll[-1] > ll[0]


def test_reference_enumeration_matches_known_values():
    """The test helper itself: Z of the 2 x 2 torus (each pair joined by two
    bonds) in closed form, and the state <-> visible-unit ordering."""
    T = 1.7
    energy, mag = ising_energies(2)
    # 2x2 torus with 8 bonds: E = -2 (s1 s2 + s1 s3 + s2 s4 + s3 s4); Z = 2 e^{8K} + 12 + 2 e^{-8K}
    K = 1 / T
    z = np.sum(np.exp(-energy / T))
    assert z == pytest.approx(2 * np.exp(8 * K) + 12 + 2 * np.exp(-8 * K), rel=1e-12)
    v = all_states(4)
    assert list(v[1]) == [1, 0, 0, 0] and mag[1] == -2 and mag[-1] == 4
