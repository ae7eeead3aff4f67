"""The transverse-field Ising model with RBM trial states, against exact results.

Exact math (local energies vs the dense Hamiltonian, log-derivatives vs
central finite differences, symmetric RBM == tied plain RBM, free fermions
vs exact diagonalization), the sampler's distribution (chi-square against
the enumerated |psi|^2, with a power check), VMC reaching the exact ground
state energy, and reproducibility over thread counts.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.stats
from vmc_reference import assert_log_derivatives_match_finite_differences

import vmc
from mccore.errors import InvalidParameterError, IsingRBMWarning
from vmc.optimizers import SR, carleo_shift
from vmc.spins import (
    TFIM,
    Lattice,
    SpinMetropolisSampler,
    SpinRBM,
    SymmetricSpinRBM,
    exact_ground_state,
    free_fermion_energy,
    run_tfim,
)

LATTICES = [("chain", 4), ("chain", 7), ("square", 2), ("square", 3)]


def _wavefunctions(lattice, seed):
    return [SpinRBM(lattice.n_sites, 2, init_scale=0.4, rng=seed),
            SymmetricSpinRBM(lattice, 2, init_scale=0.4, rng=seed + 1)]


@pytest.mark.parametrize("kind,size", LATTICES)
@pytest.mark.parametrize("field", [0.5, 3.0])
def test_local_energy_equals_dense_hamiltonian(kind, size, field):
    """E_L(s) = <s|H|psi>/<s|psi> with H the dense 2^N matrix, on every configuration."""
    lattice = Lattice(kind, size)
    ham = TFIM(lattice, field)
    H = ham.sparse_matrix().toarray()
    s = TFIM.basis(lattice.n_sites)
    for wf in _wavefunctions(lattice, 3):
        psi = np.exp(wf.log_psi(s))
        expected = (H @ psi) / psi
        np.testing.assert_allclose(ham.local_energy(wf, s), expected, rtol=1e-10, atol=1e-10)
        e, sx = ham.local_energy_and_sx(wf, s)
        np.testing.assert_allclose(-field * lattice.n_sites * sx, e - ham.diagonal(s),
                                   rtol=1e-10, atol=1e-10)


def test_hamiltonian_is_the_textbook_one():
    """Two sites, periodic chain: the bond appears twice (-2 s0 s1), -h on each flip."""
    H = TFIM(Lattice("chain", 2), 0.7).sparse_matrix().toarray()
    sz = np.diag([1.0, -1.0])
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    one = np.eye(2)
    # basis index bit i <=> site i is -1, site 0 the least significant bit
    expected = -2 * np.kron(sz, sz) - 0.7 * (np.kron(one, sx) + np.kron(sx, one))
    np.testing.assert_allclose(H, expected)


@pytest.mark.parametrize("kind,size", [("chain", 5), ("square", 3)])
def test_log_derivatives_match_finite_differences(kind, size, rng):
    lattice = Lattice(kind, size)
    s = np.where(rng.random((6, lattice.n_sites)) < 0.5, -1.0, 1.0)
    for wf in _wavefunctions(lattice, 11):
        assert_log_derivatives_match_finite_differences(wf, s, h=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind,size", [("chain", 6), ("square", 3)])
def test_symmetric_rbm_is_the_plain_rbm_with_tied_weights(kind, size, rng):
    """log psi equal; O_sym = O_plain P with P the tying (Jacobian of the expansion);
    invariant under every lattice translation; alpha N + alpha + 1 parameters."""
    lattice = Lattice(kind, size)
    sym = SymmetricSpinRBM(lattice, 2, init_scale=0.5, rng=4)
    n = lattice.n_sites
    assert sym.n_params == 2 * n + 2 + 1
    a, b, W = sym.expanded()
    plain = SpinRBM(n, 2, rng=0)
    plain.params = np.concatenate([a, b, W.ravel()])
    s = np.where(rng.random((20, n)) < 0.5, -1.0, 1.0)
    np.testing.assert_allclose(sym.log_psi(s), plain.log_psi(s), rtol=1e-12)
    P = np.empty((plain.n_params, sym.n_params))
    base = sym.params.copy()
    for k in range(sym.n_params):
        unit = np.zeros(sym.n_params)
        unit[k] = 1.0
        sym.params = unit
        ea, eb, eW = sym.expanded()
        P[:, k] = np.concatenate([ea, eb, eW.ravel()])
    sym.params = base
    assert set(np.unique(P)) <= {0.0, 1.0} and np.all(P.sum(axis=1) == 1)
    np.testing.assert_allclose(sym.log_psi_param_grad(s), plain.log_psi_param_grad(s) @ P,
                               rtol=1e-10, atol=1e-12)
    for t in range(n):
        np.testing.assert_allclose(sym.log_psi(s[:, lattice.translations[t]]), sym.log_psi(s),
                                   rtol=1e-12)


def _chi_square_pvalue(counts, p):
    keep = p * counts.sum() >= 5
    observed = np.append(counts[keep], counts[~keep].sum())
    expected = np.append(p[keep], p[~keep].sum()) * counts.sum()
    if expected[-1] == 0:
        observed, expected = observed[:-1], expected[:-1]
    return scipy.stats.chisquare(observed, expected).pvalue


@pytest.mark.parametrize("p_global", [0.0, 0.5])
def test_sampler_matches_exact_distribution(p_global):
    """Chi-square of 12000 configurations (2000 chains x 6 calls, 20 discarded sweeps
    between calls) against the enumerated |psi|^2 of a random RBM (scale 0.15, ~145
    effectively occupied states) on a 3x3 lattice
    (512 states): p > 1e-3. Power: the same samples against |psi| (the wrong power)
    and against psi with one weight changed by 0.3 are rejected at p < 1e-6."""
    lattice = Lattice("square", 3)
    wf = SpinRBM(9, 1, init_scale=0.15, rng=8)
    s_all = TFIM.basis(9)
    log_psi = wf.log_psi(s_all)
    p = np.exp(2 * (log_psi - log_psi.max()))
    p /= p.sum()
    sampler = SpinMetropolisSampler(2000, n_burn_in=50, n_discard=20, p_global=p_global, rng=3)
    idx = []
    weights = 2 ** np.arange(9)
    for _ in range(6):
        batch = sampler.sample(wf, 2000)
        x = batch.x[:, -1, :]
        idx.append((x < 0).astype(np.int64) @ weights)
    counts = np.bincount(np.concatenate(idx), minlength=512).astype(float)
    assert _chi_square_pvalue(counts, p) > 1e-3
    wrong = np.exp(log_psi - log_psi.max())
    assert _chi_square_pvalue(counts, wrong / wrong.sum()) < 1e-6
    other = SpinRBM(9, 1, rng=0)
    other.params = wf.params
    other.W[0, 0] += 0.3
    lp = other.log_psi(s_all)
    q = np.exp(2 * (lp - lp.max()))
    assert _chi_square_pvalue(counts, q / q.sum()) < 1e-6
    assert 0.05 < batch.acceptance < 1
    assert lattice.n_sites == 9


@pytest.mark.parametrize("n", [4, 6, 8, 10, 12])
@pytest.mark.parametrize("field", [0.5, 1.0, 2.0])
def test_free_fermion_energy_equals_exact_diagonalization(n, field):
    e_ed = exact_ground_state(Lattice("chain", n), field)["energy"]
    assert free_fermion_energy(n, field) == pytest.approx(e_ed, rel=1e-11, abs=1e-11)


def test_naive_periodic_momenta_would_be_wrong():
    """k = 2 pi n / N (the odd sector) misses E0 by more than 0.5 % at N = 10, h = 1."""
    n, h = 10, 1.0
    k = 2 * np.pi * np.arange(n) / n
    naive = -np.sum(np.sqrt(1 + h * h - 2 * h * np.cos(k)))
    exact = exact_ground_state(Lattice("chain", n), h)["energy"]
    assert abs(naive - exact) / abs(exact) > 0.005
    assert free_fermion_energy(20, 1.0) == pytest.approx(-25.490989686, abs=1e-8)


def test_exact_observables_are_consistent():
    """<sx> = -(1/N) dE0/dh (Hellmann-Feynman, by central differences); C(0) = 1;
    <m_z^2> = (1/N) sum_r C(r) multiplicity (chain of 8)."""
    lat = Lattice("chain", 8)
    h, dh = 1.3, 1e-4
    ref = exact_ground_state(lat, h)
    de = (exact_ground_state(lat, h + dh)["energy"]
          - exact_ground_state(lat, h - dh)["energy"]) / (2 * dh)
    assert ref["sx"] == pytest.approx(-de / 8, rel=1e-6)
    c = ref["correlation"]
    assert c[0] == pytest.approx(1.0)
    assert ref["mz2"] == pytest.approx((c[0] + 2 * sum(c[1:4]) + c[4]) / 8, rel=1e-10)
    sq = exact_ground_state(Lattice("square", 3), 3.04438)
    assert sq["energy"] < 0 and 0 < sq["abs_mz"] < 1


def test_carleo_schedule_and_woodbury_solve(rng):
    assert carleo_shift(0) == 100 and carleo_shift(10) == pytest.approx(100 * 0.9**10)
    assert carleo_shift(1000) == 1e-4
    O = rng.normal(size=(30, 80))
    O -= O.mean(axis=0)
    grad = rng.normal(size=80)
    for schedule in ("constant", "carleo"):
        fast = SR(0.1, diag_shift=0.01, shift_schedule=schedule)
        with warnings.catch_warnings():     # the constant shift warns: S is singular
            warnings.simplefilter("ignore", IsingRBMWarning)
            delta = fast.step(grad, O)      # 30 samples < 80 parameters: Woodbury
        S = O.T @ O / 30
        shift = (carleo_shift(0) * np.diag(S) + 0.01) if schedule == "carleo" else 0.01
        np.testing.assert_allclose((S + np.diag(np.broadcast_to(shift, 80))) @ delta,
                                   -0.1 * grad, rtol=1e-8, atol=1e-10)
        assert fast.n_steps == 1


@pytest.mark.parametrize("kind,size,field,symmetric,alpha", [
    ("chain", 10, 1.0, False, 1), ("chain", 10, 1.0, True, 2),
    ("square", 3, 3.04438, False, 1)])
def test_vmc_reaches_exact_energy(kind, size, field, symmetric, alpha):
    """From random parameters (init scale 0.01: E starts > 3 % above E0), SR (lr 0.05,
    shift 0.01, 1000 samples, 300 iterations) gets within 1e-3 relative of the exact
    E0 (free fermions / Lanczos), variationally (E > E0 - 4 sigma), and the variance of
    E_L falls by more than 10x (zero-variance principle). 4000 final samples give
    sigma < 3e-4 |E0|, so a 1e-3 bias is > 3 sigma. (The symmetric RBM with one
    filter stalls near 5e-4 with var(E_L) ~ 0.06 at N = 10; two filters reach 3e-5.)"""
    result = run_tfim(kind, size, field, symmetric=symmetric, alpha=alpha, n_iterations=300,
                      n_samples=1000, rng=5, n_threads=1)
    e0 = result.exact
    assert e0 is not None
    assert (result.history["energy"][0] - e0) / abs(e0) > 0.03
    assert result.energy.error < 3e-4 * abs(e0)
    assert result.energy.mean > e0 - 4 * result.energy.error
    assert abs(result.energy.mean - e0) / abs(e0) < 1e-3, result.energy
    assert result.variance < result.history["variance"][0] / 10
    obs = result.observables
    assert obs["rhat_energy"] < 1.1
    assert obs["correlation"][0]["mean"] == 1.0


def test_reproducible_with_one_and_two_threads():
    kw = dict(n_iterations=4, n_samples=300, n_chains=8, rng=2, p_global=0.2)
    a = run_tfim("chain", 8, 1.0, n_threads=1, **kw)
    b = run_tfim("chain", 8, 1.0, n_threads=2, **kw)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.local_energy, b.local_energy)


def test_resume_gives_the_uninterrupted_result(tmp_path):
    kw = dict(n_iterations=6, n_samples=200, n_chains=8, rng=9, n_threads=1,
              shift_schedule="carleo")
    whole = run_tfim("chain", 6, 1.0, **kw)
    ck = tmp_path / "t.ck"

    def stop(step):
        if step.step == 2:
            raise KeyboardInterrupt

    assert run_tfim("chain", 6, 1.0, checkpoint=ck, callback=stop, **kw).status == "interrupted"
    resumed = run_tfim("chain", 6, 1.0, checkpoint=ck, resume=True, **kw)
    np.testing.assert_array_equal(resumed.params, whole.params)
    with pytest.raises(InvalidParameterError, match="field was 1.0, now 2.0"):
        run_tfim("chain", 6, 2.0, checkpoint=ck, resume=True, **kw)


@pytest.mark.parametrize("kwargs,match", [
    (dict(field=0.0), "field h must be a finite number > 0"),
    (dict(field=-1.0), "positive"),
    (dict(field=float("nan")), "field"),
    (dict(size=1), "size"),
    (dict(alpha=0), "alpha"),
    (dict(lattice="triangular"), "lattice"),
    (dict(optimizer="lbfgs"), "optimizer"),
])
def test_invalid_settings_are_refused(kwargs, match):
    kw = dict(lattice="chain", size=6, field=1.0, n_iterations=1, n_samples=10, rng=0)
    kw.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        run_tfim(**kw)


def test_odd_chain_runs_without_exact_value():
    result = run_tfim("chain", 5, 1.0, n_iterations=2, n_samples=100, rng=0, n_threads=1)
    assert result.exact is not None  # ED covers it
    with pytest.raises(InvalidParameterError, match="even N"):
        free_fermion_energy(5, 1.0)
    big = vmc.spins.exact_energy(Lattice("chain", 21), 1.0)
    assert big[0] is None and "even N" in big[1]
    assert math.isfinite(result.energy.mean)
