"""The symmetric RBM and SR against exact expectations over all 2^N states (N = 8-12).

Issue 21: from its starting point (W ~ 0.01) the translation-symmetric RBM
collapsed to a ferromagnetic product state at h >= 1.5 with a zero error
bar. These tests locate the cause and pin the fix:

* the log-derivatives are right (central finite differences, N = 8-12, at
  the default initial scale and at a trained-like scale);
* the gradient ``2 (<E_L O> - <E_L><O>)`` is the derivative of the exact
  energy, S is the metric of the state (1 - fidelity of a small step), and
  :class:`vmc.optimizers.SR` solves ``(S + shift) delta = -lr g`` exactly;
* the cause: at W ~ 0 the log-derivatives vanish with W (log cosh is
  quadratic at 0), so S ~ W^2 and the shift-regularized natural-gradient
  step in W is far outside the region where the linear model holds. With
  exact expectations (no sampling at all) the first SR step changes
  log psi by a variance of ~9 where the linear model predicts 0.04, and the
  second lands on the product state E = -N, where the gradient vanishes;
* the fix (the driver's trust region ``max_change``) keeps every step where
  the linear model holds, and exact SR then converges at h = 0.5, 1, 2, 3;
* the sampled runs of :func:`vmc.run_tfim` (default settings, symmetric
  RBM) reach the exact energy at these fields.
"""

import numpy as np
import pytest
import scipy.linalg
from vmc_reference import (
    assert_log_derivatives_match_finite_differences,
    central_differences,
    exact_expectations,
)

from mccore.errors import InvalidParameterError
from mccore.parallel import numba_threads
from vmc.optimizers import SR
from vmc.spins import TFIM, Lattice, SpinRBM, SymmetricSpinRBM, run_tfim

FIELDS = [0.5, 1.0, 2.0, 3.0]


def _energy(ham, H, wf, s):
    psi = np.exp(wf.log_psi(s) - wf.log_psi(s).max())
    return psi @ (H @ psi) / (psi @ psi)


def _ground_energy(ham):
    import scipy.sparse.linalg
    return float(scipy.sparse.linalg.eigsh(ham.sparse_matrix(), k=1, which="SA")[0][0])


@pytest.mark.parametrize("kind,size", [("chain", 8), ("chain", 12), ("square", 3)])
@pytest.mark.parametrize("scale", [0.01, 0.3])
def test_symmetric_log_derivatives_match_finite_differences(kind, size, scale, rng):
    lattice = Lattice(kind, size)
    wf = SymmetricSpinRBM(lattice, 2, init_scale=scale, rng=3)
    s = np.where(rng.random((8, lattice.n_sites)) < 0.5, -1.0, 1.0)
    assert_log_derivatives_match_finite_differences(wf, s, h=1e-5, atol=1e-8)


@pytest.mark.parametrize("field", FIELDS)
def test_gradient_metric_and_sr_step_are_exact(field):
    """N = 10 chain: g = dE/dp (central differences of the exact energy), S = the
    second-order term of 1 - fidelity, and SR.step equals the dense solve."""
    lattice = Lattice("chain", 10)
    ham = TFIM(lattice, field)
    H = ham.sparse_matrix()
    s = TFIM.basis(10)
    wf = SymmetricSpinRBM(lattice, 2, init_scale=0.2, rng=7)
    p, lp, energy, grad, S, O_c = exact_expectations(ham, wf, s)
    assert energy == pytest.approx(_energy(ham, H, wf, s), rel=1e-12)
    p0 = wf.params.copy()
    fd = central_differences(wf, lambda: _energy(ham, H, wf, s), 1e-5)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)
    # 1 - |<psi|psi'>|^2 / (<psi|psi><psi'|psi'>) = eps^2 v^T S v + O(eps^3)
    v = np.random.default_rng(1).standard_normal(wf.n_params)
    eps = 1e-4
    wf.params = p0 + eps * v
    psi0 = np.exp(lp - lp.max())
    lp1 = wf.log_psi(s)
    psi1 = np.exp(lp1 - lp1.max())
    wf.params = p0
    infidelity = 1 - (psi0 @ psi1) ** 2 / ((psi0 @ psi0) * (psi1 @ psi1))
    assert infidelity == pytest.approx(eps**2 * v @ S @ v, rel=1e-3)
    # SR on rows weighted so that O^T O / n = S reproduces the exact natural-gradient step
    rows = O_c * np.sqrt(p * p.size)[:, None]
    delta = SR(0.05, diag_shift=0.01).step(grad, rows)
    expected = scipy.linalg.solve(S + 0.01 * np.eye(wf.n_params), -0.05 * grad)
    np.testing.assert_allclose(delta, expected, rtol=1e-8, atol=1e-12)


def _exact_sr_run(field, n_iterations, max_change, size=10, alpha=2):
    """Exact SR (lr 0.05, shift 0.01) of the symmetric RBM from the default start, with
    the driver's trust-region rule; returns (energies, first step's (linear, actual))."""
    lattice = Lattice("chain", size)
    ham = TFIM(lattice, field)
    s = TFIM.basis(size)
    wf = SymmetricSpinRBM(lattice, alpha, rng=5)
    energies, first = [], None
    with numba_threads(1):     # 1024 states: threads would only spin
        for _ in range(n_iterations):
            first = _exact_sr_step(ham, wf, s, energies, first, max_change)
    return np.array(energies), first, _ground_energy(ham)


def _exact_sr_step(ham, wf, s, energies, first, max_change):
    """One exact SR step with the trust-region rule; returns the first step's record."""
    p, lp, energy, grad, S, _ = exact_expectations(ham, wf, s)
    energies.append(energy)
    delta = scipy.linalg.solve(S + 0.01 * np.eye(wf.n_params), -0.05 * grad)
    old = wf.params.copy()
    while True:
        wf.params = old + delta
        change = wf.log_psi(s) - lp
        spread = p @ change**2 - (p @ change) ** 2
        if first is None:
            first = (delta @ S @ delta, spread)
        if max_change is None or spread <= max_change:
            break
        delta = delta / 2
    return first


@pytest.mark.parametrize("field", [2.0, 3.0])
def test_cause_one_unlimited_sr_step_leaves_the_linear_regime(field):
    """Without the trust region, exact SR (no sampling noise) collapses: the first step's
    actual change of log psi is > 50x the linear model's, and the state ends at the
    ferromagnetic product state E = -N, far above E0, where it stays."""
    energies, (linear, actual), e0 = _exact_sr_run(field, 6, None)
    assert actual > 50 * linear
    assert energies[-1] == pytest.approx(-10.0, abs=1e-3)
    assert (energies[-1] - e0) / abs(e0) > 0.4


@pytest.mark.parametrize("field", FIELDS)
def test_trust_region_makes_exact_sr_converge(field):
    """The same exact SR with the default trust region (0.01 per site) converges."""
    energies, _, e0 = _exact_sr_run(field, 80, 0.01 * 10)
    assert (energies[-1] - e0) / abs(e0) < 2e-4
    assert energies[-1] >= e0 - 1e-9    # variational


@pytest.mark.parametrize("field", FIELDS)
def test_sampled_symmetric_rbm_reaches_exact_energy(field):
    """The sampled run with default settings (symmetric RBM, alpha 2, N = 10): within
    5e-4 relative of ED, within 5 sigma, and healthy (acceptance, R-hat)."""
    result = run_tfim("chain", 10, field, symmetric=True, alpha=2, n_iterations=150,
                      n_samples=500, rng=5, n_threads=1)
    e0 = result.exact
    assert result.status == "complete", result.message
    rel = abs(result.energy.mean - e0) / abs(e0)
    assert rel < 5e-4, result.energy
    assert result.energy.mean > e0 - 5 * result.energy.error
    assert result.energy.error > 0
    assert result.acceptance > 0.01
    assert result.observables["rhat_energy"] < 1.1


def test_plain_rbm_starts_in_the_linear_regime():
    """The plain RBM's first exact SR step is inside the linear regime (why it never
    collapsed): actual and linear change agree within a factor 15."""
    lattice = Lattice("chain", 10)
    ham = TFIM(lattice, 2.0)
    s = TFIM.basis(10)
    wf = SpinRBM(10, 2, rng=5)
    p, lp, _, grad, S, _ = exact_expectations(ham, wf, s)
    delta = scipy.linalg.solve(S + 0.01 * np.eye(wf.n_params), -0.05 * grad)
    wf.params = wf.params + delta
    change = wf.log_psi(s) - lp
    actual = p @ change**2 - (p @ change) ** 2
    assert actual < 15 * (delta @ S @ delta)


@pytest.mark.parametrize("symmetric", [False, True])
def test_log_psi_beside_the_log_derivatives_is_log_psi(symmetric, rng):
    """The trust region takes ``log psi`` of the batch from ``log_psi_param_grad``'s
    ``log_psi_out`` (the same theta): the same bits as :meth:`log_psi`, and the same O."""
    lattice = Lattice("chain", 12)
    wf = (SymmetricSpinRBM(lattice, 2, init_scale=0.3, rng=3) if symmetric
          else SpinRBM(12, 2, init_scale=0.3, rng=3))
    s = np.where(rng.random((50, 12)) < 0.5, -1.0, 1.0)
    lp = np.full(50, np.nan)
    O = wf.log_psi_param_grad(s, log_psi_out=lp)
    assert np.array_equal(lp.view(np.uint64), wf.log_psi(s).view(np.uint64))
    assert np.array_equal(O.view(np.uint64), wf.log_psi_param_grad(s).view(np.uint64))
    with pytest.raises(InvalidParameterError, match="log_psi_out"):
        wf.log_psi_param_grad(s, log_psi_out=np.empty(49))
