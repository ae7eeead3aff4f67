"""Metropolis-Hastings with an RBM proposal (rbm.metropolis).

- Exact math: the enumerated kernel's proposal equals a brute-force sum over
  hidden states written here; pi(v) T(v -> v') is symmetric and pi T = pi to
  1e-12 on a 4-visible, 3-hidden model with a random target.
- The sampler is that kernel: one step of 40000 chains from one state lands
  with the kernel's row probabilities (chi-square), and a long run's state
  histogram matches pi (chi-square, samples thinned by the measured tau_int).
- Reproducibility: seed only; a chain's path does not depend on the number of
  chains beside it or on how a run is split.
- Bad input raises InvalidParameterError.
"""

import itertools

import numpy as np
import pytest
from chi_square import chi_square_p
from scipy import stats

from mccore.errors import InvalidParameterError
from mcstats import integrated_time
from rbm.metropolis import RBMMetropolis, free_energy, transition_matrix

SEED = 8128


class Params:
    """A bare binary RBM: only the public parameters the sampler may use."""

    def __init__(self, n_visible, n_hidden, scale=1.0, seed=SEED):
        rng = np.random.default_rng(seed)
        self.weights = scale * rng.standard_normal((n_visible, n_hidden))
        self.visible_bias = scale * rng.standard_normal(n_visible)
        self.hidden_bias = scale * rng.standard_normal(n_hidden)


def _random_target(n_visible, seed=SEED + 1):
    """A random log-density on {0, 1}^n by table lookup (state index = bits)."""
    table = 2.0 * np.random.default_rng(seed).standard_normal(2**n_visible)
    powers = 1 << np.arange(n_visible)

    def log_target(V):
        return table[np.asarray(V, dtype=np.int64) @ powers]
    return log_target, table


def _index(V):
    return np.asarray(V, dtype=np.int64) @ (1 << np.arange(V.shape[1]))


def _brute_force_q1(m):
    """Q(v -> v') = sum_h p(h|v) p(v'|h) from the joint exp(-E(v, h))."""
    n_v, n_h = m.weights.shape
    V = np.array(list(itertools.product([0, 1], repeat=n_v)))[:, ::-1].astype(float)
    H = np.array(list(itertools.product([0, 1], repeat=n_h))).astype(float)
    logw = (V @ m.visible_bias)[:, None] + (H @ m.hidden_bias)[None, :] + V @ m.weights @ H.T
    w = np.exp(logw)
    p_h_given_v = w / w.sum(axis=1, keepdims=True)
    p_v_given_h = (w / w.sum(axis=0, keepdims=True)).T
    return p_h_given_v @ p_v_given_h


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("global_flip", [False, True])
def test_detailed_balance_by_enumeration(k, global_flip):
    m = Params(4, 3)
    log_target, table = _random_target(4)
    K = transition_matrix(m, log_target, k=k, global_flip=global_flip)
    pi = np.exp(table - table.max())
    pi /= pi.sum()
    np.testing.assert_allclose(K["pi"], pi, rtol=1e-12, atol=0)
    # the proposal is the brute-force k-step Gibbs kernel
    np.testing.assert_allclose(K["proposal"], np.linalg.matrix_power(_brute_force_q1(m), k),
                               rtol=0, atol=1e-14)
    for name in ("rbm", "flip"):
        T = K[name]
        assert np.all(T >= -1e-15)
        np.testing.assert_allclose(T.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        flow = pi[:, None] * T
        np.testing.assert_allclose(flow, flow.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pi @ K["kernel"], pi, rtol=0, atol=1e-12)
    # the RBM move alone is not trivial: it does move probability
    assert np.max(np.abs(K["rbm"] - np.eye(16))) > 0.05


def test_detailed_balance_would_fail_without_the_free_energy_correction():
    """The check has power: a plain Metropolis ratio pi(v')/pi(v) breaks it."""
    m = Params(4, 3)
    log_target, _ = _random_target(4)
    K = transition_matrix(m, log_target)
    pi = K["pi"]
    Q = K["proposal"]
    A = np.minimum(1.0, pi[None, :] / pi[:, None])
    T = Q * A
    np.fill_diagonal(T, 0)
    T[np.diag_indices_from(T)] = 1 - T.sum(axis=1)
    flow = pi[:, None] * T
    assert np.max(np.abs(flow - flow.T)) > 1e-3


@pytest.mark.parametrize("global_flip", [False, True])
def test_one_step_of_the_sampler_follows_the_kernel_row(global_flip):
    """40000 chains from one state, one proposal: chi-square against T(v0 -> .)."""
    m = Params(4, 3)
    log_target, _ = _random_target(4)
    K = transition_matrix(m, log_target, k=2, global_flip=global_flip)
    v0 = K["states"][5]
    n = 40000
    mh = RBMMetropolis(m, log_target, n, k=2, global_flip=global_flip,
                       init=np.tile(v0, (n, 1)), dtype=np.float64, rng=SEED)
    mh.run(1)
    counts = np.bincount(_index(mh.visible), minlength=16)
    expected = n * K["kernel"][5]
    keep = expected >= 5
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    chi2 += (counts[~keep].sum() - expected[~keep].sum()) ** 2 / max(expected[~keep].sum(), 1e-300) \
        if (~keep).any() and expected[~keep].sum() > 0 else 0.0
    dof = keep.sum() - 1 + (1 if (~keep).any() and expected[~keep].sum() > 0 else 0)
    assert stats.chi2.sf(chi2, dof) > 1e-3, (counts, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_chains_sample_the_target(dtype):
    """A poor proposal (random RBM) still gives pi: state histogram of thinned
    samples vs pi (5 visible units, 32 states); the RBM's own distribution is
    refused by the same test."""
    m = Params(5, 4, scale=0.7)
    log_target, table = _random_target(5)
    K = transition_matrix(m, log_target)
    pi = K["pi"]
    mh = RBMMetropolis(m, log_target, 64, k=1, dtype=dtype, rng=SEED)
    mh.run(50)
    n_steps = 1500
    trace = np.empty((64, n_steps), dtype=np.int64)
    step = [0]

    def record(s):
        trace[:, step[0]] = _index(s.visible)
        step[0] += 1
    mh.run(n_steps, callback=record)
    tau = integrated_time(table[trace])
    thin = int(np.ceil(2 * tau))
    samples = trace[:, ::thin].ravel()
    assert samples.size > 3000
    assert chi_square_p(samples, pi) > 1e-3
    # power: the proposal's own distribution p_RBM differs from pi
    F = free_energy(K["states"], m.weights, m.visible_bias, m.hidden_bias)
    p_rbm = np.exp(-(F - F.min()))
    p_rbm /= p_rbm.sum()
    rbm_samples = np.random.default_rng(SEED).choice(32, size=samples.size, p=p_rbm)
    assert chi_square_p(rbm_samples, pi) < 1e-6
    assert 0.0 < mh.acceptance_rate.mean() < 1.0


def test_warm_start_draws_from_the_rbm_itself():
    """warm_start takes every Gibbs proposal: 20000 chains end up distributed
    as p_RBM (chi-square), not as the target."""
    m = Params(4, 3)
    log_target, _ = _random_target(4)
    K = transition_matrix(m, log_target)
    F = free_energy(K["states"], m.weights, m.visible_bias, m.hidden_bias)
    p_rbm = np.exp(-(F - F.min()))
    p_rbm /= p_rbm.sum()
    mh = RBMMetropolis(m, log_target, 20000, k=2, init=np.zeros((20000, 4), np.uint8), rng=SEED)
    mh.warm_start(30)
    states = _index(mh.visible)
    assert chi_square_p(states, p_rbm) > 1e-3
    assert chi_square_p(states, K["pi"]) < 1e-6
    assert mh.n_proposed == 0


def test_local_move_is_applied_and_target_is_kept():
    """A local move that is itself pi-invariant (single-site Metropolis) mixed in."""
    m = Params(4, 3, scale=0.3)
    log_target, _ = _random_target(4)
    pi = transition_matrix(m, log_target)["pi"]
    calls = []

    def local(V, rng):
        calls.append(1)
        site = rng.integers(V.shape[1], size=V.shape[0])
        W = V.copy()
        W[np.arange(V.shape[0]), site] ^= 1
        accept = np.log(rng.random(V.shape[0])) < log_target(W) - log_target(V)
        V[accept] = W[accept]
        return V

    mh = RBMMetropolis(m, log_target, 200, k=1, local_move=local, rng=SEED)
    mh.run(20)
    states = []
    mh.run(100, callback=lambda s: states.append(_index(s.visible)))
    assert len(calls) == 120
    states = np.array(states)[::4].ravel()    # tau_int of this chain is ~1
    assert chi_square_p(states, pi) > 1e-3


def test_seed_only_reproducible_and_keyed_by_chain():
    m = Params(6, 5)
    log_target, _ = _random_target(6)
    a = RBMMetropolis(m, log_target, 5, k=3, global_flip=True, rng=11)
    a.run(30)
    b = RBMMetropolis(m, log_target, 5, k=3, global_flip=True, rng=11)
    b.run(7)
    b.run(23)
    np.testing.assert_array_equal(a.visible, b.visible)
    np.testing.assert_array_equal(a.n_accepted, b.n_accepted)
    c = RBMMetropolis(m, log_target, 3, k=3, global_flip=True, rng=11)
    c.run(30)
    np.testing.assert_array_equal(a.visible[:3], c.visible)
    d = RBMMetropolis(m, log_target, 5, k=3, global_flip=True, rng=12)
    d.run(30)
    assert not np.array_equal(a.visible, d.visible)
    # checkpoint round trip continues the same chains
    e = RBMMetropolis(m, log_target, 5, k=3, global_flip=True, rng=11)
    e.run(10)
    state = e.get_state()
    f = RBMMetropolis(m, log_target, 5, k=3, global_flip=True, rng=999)
    f.set_state(state)
    f.run(20)
    np.testing.assert_array_equal(a.visible, f.visible)


def test_bad_input():
    m = Params(4, 3)
    log_target, _ = _random_target(4)
    with pytest.raises(InvalidParameterError, match="n_chains"):
        RBMMetropolis(m, log_target, 0)
    with pytest.raises(InvalidParameterError, match="k must"):
        RBMMetropolis(m, log_target, 2, k=0)
    with pytest.raises(InvalidParameterError, match="callable"):
        RBMMetropolis(m, "not callable", 2)
    with pytest.raises(InvalidParameterError, match="weights"):
        RBMMetropolis(object(), log_target, 2)
    with pytest.raises(InvalidParameterError, match="init"):
        RBMMetropolis(m, log_target, 2, init=np.full((2, 4), 2))
    with pytest.raises(InvalidParameterError, match="shape"):
        RBMMetropolis(m, lambda V: np.zeros(3), 2)
    g = Params(4, 3)
    g.sigma = np.ones(4)
    with pytest.raises(InvalidParameterError, match="Bernoulli"):
        RBMMetropolis(g, log_target, 2)
    with pytest.raises(InvalidParameterError, match="visible"):
        transition_matrix(Params(13, 2), lambda V: np.zeros(len(V)))
