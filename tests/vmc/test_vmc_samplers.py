"""Samplers: kernels vs plain references, |Psi|^2 reproduced, energies agree, reproducibility.

Distribution tests use fixed seeds; sample sizes are stated in each test.
Thresholds: chi-square p-value > 1e-4 (a wrong acceptance rule, e.g.
sampling |Psi| instead of |Psi|^2, gives p ~ 0), moments and energies within
4.5 blocking standard errors of quadrature values.
"""

import math

import numpy as np
import pytest
from scipy import stats

import mcstats
from mccore.errors import InvalidParameterError
from vmc import streams
from vmc.trap import SAMPLERS, Hamiltonian, Wavefunction, kernels, make_sampler

import vmc_reference as reference


def bimodal_1d(form="sqrt"):
    """One particle in 1D with a clearly non-Gaussian |Psi|^2."""
    wf = Wavefunction(1, 1, n_hidden=2, omega=1.0, form=form, rng=0)
    wf.params = np.array([0.3, 0.5, -0.4, 1.6, -1.1])  # a, b0, b1, W00, W01
    return wf


def quadrature_1d(wf, func, lo=-9.0, hi=9.0, n=200001):
    grid = np.linspace(lo, hi, n)
    rho = np.exp(2.0 * wf.log_psi(grid[:, None]))
    norm = np.trapezoid(rho, grid)
    return np.trapezoid(rho * func(grid), grid) / norm, grid, rho / norm


# ------------------------------------------------------------ kernels == references
def _one_walker(sampler_name, wf, n_steps, seed, step):
    smp = make_sampler(sampler_name, 1, rng=seed, n_burn_in=0, n_threads=1,
                       **({} if sampler_name == "gibbs" else {"step": step}))
    smp._init_walkers(wf, None)
    x0 = smp.x[0].copy()
    state = smp.rng_state[0].copy()
    batch = smp.sample(wf, n_steps)
    return x0, state, batch


@pytest.mark.parametrize("jastrow_a", [None, 0.5])
def test_metropolis_kernel_equals_reference(jastrow_a):
    wf = Wavefunction(3, 2, n_hidden=3, jastrow_a=jastrow_a, beta=0.6, init_scale=0.4, rng=2)
    x0, state, batch = _one_walker("metropolis", wf, 40, 11, 0.8)
    ref, acc = reference.metropolis(wf, x0, state, 0.8, 40)
    np.testing.assert_allclose(batch.x[0], ref, rtol=1e-12, atol=1e-12)
    assert batch.acceptance == acc / (40 * 3)
    assert 0.2 < batch.acceptance < 0.9


@pytest.mark.parametrize("jastrow_a", [None, 1.0])
@pytest.mark.parametrize("n_dims", [2, 3])
def test_importance_kernel_equals_reference(jastrow_a, n_dims):
    wf = Wavefunction(2, n_dims, n_hidden=2, form="full", jastrow_a=jastrow_a, beta=0.9,
                      init_scale=0.4, rng=3)
    x0, state, batch = _one_walker("importance", wf, 40, 12, 0.3)
    ref, acc = reference.importance(wf, x0, state, 0.3, 40)
    np.testing.assert_allclose(batch.x[0], ref, rtol=1e-11, atol=1e-11)
    assert batch.acceptance == acc / (40 * 2)
    assert 0.3 < batch.acceptance < 1.0


def test_gibbs_kernel_equals_reference():
    wf = Wavefunction(3, 1, n_hidden=4, init_scale=0.5, rng=4)
    x0, state, batch = _one_walker("gibbs", wf, 30, 13, None)
    np.testing.assert_allclose(batch.x[0], reference.gibbs(wf, x0, state, 30), rtol=1e-12,
                               atol=1e-12)


def test_rng_matches_python_xoshiro_and_is_uniform():
    states = streams.seed_states(np.random.SeedSequence(5), 2)
    out = np.empty(20000)
    s = states[0].copy()
    streams.uniform_draws(s, out.size, out)
    py = reference.Xoshiro(states[0])
    np.testing.assert_array_equal(out[:100], [py.uniform() for _ in range(100)])
    assert stats.kstest(out, "uniform").pvalue > 1e-3


# ------------------------------------------------------------ distributions
@pytest.mark.parametrize("name,form", [("metropolis", "sqrt"), ("importance", "sqrt"),
                                       ("gibbs", "sqrt"), ("metropolis", "full"),
                                       ("importance", "full")])
def test_histogram_matches_psi_squared_1d(name, form):
    """64 walkers x 3000 sweeps, every 10th sweep kept (19200 nearly independent draws),
    20 equiprobable bins of the quadrature |Psi|^2, chi-square."""
    wf = bimodal_1d(form)
    smp = make_sampler(name, 64, rng=21, n_threads=1)
    x = smp.sample(wf, 64 * 3000).x[:, ::10, 0].ravel()
    _, grid, rho = quadrature_1d(wf, lambda g: g)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (rho[1:] + rho[:-1]) * np.diff(grid))])
    cdf /= cdf[-1]
    n_bins = 20
    edges = np.interp(np.linspace(0, 1, n_bins + 1)[1:-1], cdf, grid)
    counts = np.bincount(np.searchsorted(edges, x), minlength=n_bins)
    result = stats.chisquare(counts)
    assert result.pvalue > 1e-4, (counts, result)


def _moments(x):
    """Per-walker series of x1, x2, x1^2, x2^2, x1 x2 (n_walkers, n_steps) each."""
    return [x[..., 0], x[..., 1], x[..., 0] ** 2, x[..., 1] ** 2, x[..., 0] * x[..., 1]]


def _assert_moments_match_quadrature(wf, name, *, half_width, seed):
    """Five moments of |Psi|^2 on a plane of two coordinates, sampled by ``name``
    (32 walkers x 2000 sweeps), vs a 401^2-point quadrature on
    [-half_width, half_width]^2: within 4.5 blocking errors."""
    g = np.linspace(-half_width, half_width, 401)
    X, Y = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    rho = np.exp(2 * wf.log_psi(pts))
    rho /= rho.sum()
    exact = [np.sum(rho * m) for m in _moments(pts[None])]
    smp = make_sampler(name, 32, rng=seed, n_threads=1)
    x = smp.sample(wf, 32 * 2000).x
    for k, series in enumerate(_moments(x)):
        est = mcstats.estimate(series)
        assert abs(est.mean - exact[k]) < 4.5 * est.error, (k, est, exact[k])


@pytest.mark.parametrize("name", SAMPLERS)
def test_moments_2d(name):
    """One particle in 2D, |Psi|^2 with correlated, shifted modes: five moments vs a
    401^2-point quadrature, 32 walkers x 2000 sweeps, within 4.5 blocking errors."""
    wf = Wavefunction(1, 2, n_hidden=2, rng=0)
    wf.params = np.array([0.2, -0.3, 0.4, -0.6, 1.2, 0.5, -0.7, 0.9])
    _assert_moments_match_quadrature(wf, name, half_width=7, seed=22)


@pytest.mark.parametrize("name", ["metropolis", "importance"])
def test_moments_two_particles_with_jastrow(name):
    """Two particles in 1D with a Jastrow factor (|Psi|^2 on the (x1, x2) plane)."""
    wf = Wavefunction(2, 1, n_hidden=2, form="full", jastrow_a=0.8, beta=0.5, init_scale=0.4,
                      rng=8)
    _assert_moments_match_quadrature(wf, name, half_width=6, seed=23)


# ------------------------------------------------------------ energies
@pytest.mark.parametrize("name", SAMPLERS)
def test_energy_matches_quadrature_1d(name):
    """<E_L> over |Psi|^2 of the bimodal 1D state vs quadrature; 32 x 4000 sweeps."""
    wf = bimodal_1d()
    ham = Hamiltonian(1, 1)
    exact, _, _ = quadrature_1d(wf, lambda g: ham.local_energy(wf, g[:, None]))
    assert exact - 0.5 > 0.05  # far enough from the ground state to be a test
    smp = make_sampler(name, 32, rng=24, n_threads=1)
    batch = smp.sample(wf, 32 * 4000)
    e = ham.local_energy(wf, batch.flat).reshape(batch.x.shape[:2])
    est = mcstats.estimate(e)
    assert abs(est.mean - exact) < 4 * est.error, (est, exact)
    assert est.error < 0.01 * (exact - 0.5)  # a 1% bias of E - E_0 would show


def test_all_samplers_agree_on_energy_two_particles_2d():
    """N=2, D=2, 3 hidden units, random parameters: pairwise within 4 combined sigma."""
    wf = Wavefunction(2, 2, n_hidden=3, init_scale=0.4, rng=9)
    ham = Hamiltonian(2, 2)
    ests = {}
    for name in SAMPLERS:
        smp = make_sampler(name, 32, rng=25, n_threads=1)
        batch = smp.sample(wf, 32 * 3000)
        ests[name] = mcstats.estimate(ham.local_energy(wf, batch.flat).reshape(32, -1))
    names = list(ests)
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = ests[names[i]], ests[names[j]]
            assert abs(a.mean - b.mean) < 4 * math.hypot(a.error, b.error), ests
    assert all(e.mean - 2.0 > 50 * e.error for e in ests.values())  # not the ground state


# ------------------------------------------------------------ mechanics
@pytest.mark.parametrize("name", ["metropolis", "importance"])
def test_step_tuned_during_burn_in_only(name):
    wf = Wavefunction(2, 2, n_hidden=2, init_scale=0.3, rng=1)
    smp = make_sampler(name, 16, rng=3, step=5.0, n_burn_in=400, n_threads=1)
    first = smp.sample(wf, 16 * 200)
    assert abs(first.acceptance - smp.target_acceptance) < 0.1
    assert first.step != 5.0
    step = smp.step
    wf.params = wf.params * 3.0  # a different state changes acceptance, not the step
    second = smp.sample(wf, 16 * 200)
    assert smp.step == step == second.step


@pytest.mark.parametrize("name", SAMPLERS)
def test_independent_of_thread_count(name):
    wf = Wavefunction(2, 2, n_hidden=2, init_scale=0.3, rng=1)
    runs = []
    for threads in (1, 2):
        smp = make_sampler(name, 8, rng=7, n_threads=threads, n_burn_in=40)
        runs.append(smp.sample(wf, 8 * 50).x)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_walker_streams_keyed_by_index():
    """Walker w's chain does not depend on how many walkers there are beside it."""
    wf = Wavefunction(1, 2, n_hidden=2, init_scale=0.3, rng=1)
    a = make_sampler("metropolis", 4, rng=7, n_threads=1, n_burn_in=0)
    b = make_sampler("metropolis", 8, rng=7, n_threads=1, n_burn_in=0)
    np.testing.assert_array_equal(a.sample(wf, 4 * 30).x, b.sample(wf, 8 * 30).x[:4])


def test_gibbs_refuses_jastrow_and_full_form():
    smp = make_sampler("gibbs", 4, rng=0)
    with pytest.raises(InvalidParameterError, match="gibbs"):
        smp.sample(Wavefunction(2, 2, jastrow_a=1.0, rng=0), 100)
    with pytest.raises(InvalidParameterError, match="gibbs"):
        smp.sample(Wavefunction(2, 2, form="full", rng=0), 100)
    with pytest.raises(InvalidParameterError, match="sampler"):
        make_sampler("hmc", 4)
