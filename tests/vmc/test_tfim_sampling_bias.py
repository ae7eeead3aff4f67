"""No sampling bias (issue 21, target 4): the driver's sampled energy and gradient
against exact expectations over all 2^N states, N = 10-12.

The configurations come from :class:`vmc.spins.SpinMetropolisSampler` (16 chains,
as in a run) and the statistics from the driver's own reduction
(``VMC._statistics``: the numbers every iteration uses). Error bars are
blocking errors over the chains (:func:`mcstats.estimate`) of the
per-sample contributions: E_L for the energy, ``2 (E_L - <E_L>)(O_k - <O_k>)``
for the gradient (whose mean is exactly the sampled gradient). Every
component must lie within 5 standard errors; a power check shows that a
bias of the size a slightly wrong state gives is caught.
"""

import numpy as np
import pytest
from vmc_reference import exact_expectations

import mcstats
from mccore.parallel import numba_threads
from vmc import VMC
from vmc.optimizers import SR
from vmc.spins import TFIM, Lattice, SpinMetropolisSampler, SpinRBM, SymmetricSpinRBM


def _exact(ham, wf):
    """Exact energy and gradient over all 2^N states."""
    _, _, energy, grad, _, _ = exact_expectations(ham, wf, TFIM.basis(wf.n_sites))
    return energy, grad


def _sampled(ham, wf, n_chains=16, n_steps=2000, seed=3):
    sampler = SpinMetropolisSampler(n_chains, n_burn_in=200, rng=seed)
    driver = VMC(ham, wf, sampler, SR(0.05))
    with numba_threads(1):
        batch = sampler.sample(wf, n_chains * n_steps)
        e, e_mean, _, grad, O_c = driver._statistics(batch.flat)
    energy = mcstats.estimate(e.reshape(n_chains, n_steps))
    contrib = (2.0 * (e - e_mean))[:, None] * O_c
    errors = np.array([mcstats.estimate(contrib[:, k].reshape(n_chains, n_steps)).error
                       for k in range(contrib.shape[1])])
    return e_mean, energy.error, grad, errors, batch.acceptance


CASES = [("chain", 12, 1.0, "symmetric"), ("chain", 10, 2.0, "plain"),
         ("square", 3, 3.0, "symmetric")]


def _wavefunction(lattice, kind):
    if kind == "symmetric":
        return SymmetricSpinRBM(lattice, 2, init_scale=0.15, rng=8)
    return SpinRBM(lattice.n_sites, 1, init_scale=0.1, rng=8)


@pytest.mark.parametrize("lattice_kind,size,field,kind", CASES)
def test_sampled_energy_and_gradient_are_unbiased(lattice_kind, size, field, kind):
    lattice = Lattice(lattice_kind, size)
    ham = TFIM(lattice, field)
    wf = _wavefunction(lattice, kind)
    exact_energy, exact_grad = _exact(ham, wf)
    energy, energy_error, grad, grad_errors, acceptance = _sampled(ham, wf)
    assert 0.05 < acceptance < 1
    assert energy_error > 0 and np.all(grad_errors > 0)
    assert abs(energy - exact_energy) < 5 * energy_error, (energy, exact_energy, energy_error)
    z = (grad - exact_grad) / grad_errors
    assert np.max(np.abs(z)) < 5, z
    # the error bars are not inflated: the largest gradient component is resolved
    assert np.max(np.abs(exact_grad) / grad_errors) > 5


def test_power_a_slightly_different_state_is_caught():
    """The same comparison against the exact values of the state with one filter weight
    moved by 0.05 fails (a bias of that size is many standard errors)."""
    lattice = Lattice("chain", 12)
    ham = TFIM(lattice, 1.0)
    wf = _wavefunction(lattice, "symmetric")
    energy, energy_error, grad, grad_errors, _ = _sampled(ham, wf)
    other = _wavefunction(lattice, "symmetric")
    other.w[0, 1] += 0.05
    exact_energy, exact_grad = _exact(ham, other)
    worst = max(abs(energy - exact_energy) / energy_error,
                np.max(np.abs(grad - exact_grad) / grad_errors))
    assert worst > 5
