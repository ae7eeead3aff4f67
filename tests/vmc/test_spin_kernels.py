"""The spin kernels' fast paths give the numbers of their plain forms.

``spin_metropolis_sweeps(..., n_skip=k)`` runs k unrecorded sweeps and then
the recorded ones in one call: it must leave the chains, their streams and
the records exactly as two calls would (k sweeps, records dropped; then the
recorded sweeps). Each kernel's parallel compilation must give the serial
one's numbers bit for bit (rows are independent), so the thread count never
changes a result.
"""

from __future__ import annotations

import numpy as np
import pytest

from vmc.spins import Lattice, SpinMetropolisSampler, SpinRBM, kernels


def _chains(n_sites, alpha, scale, seed, n_chains=6):
    wf = SpinRBM(n_sites, alpha, init_scale=scale, rng=seed)
    sampler = SpinMetropolisSampler(n_chains, n_burn_in=0, rng=seed + 1)
    sampler.sample(wf, n_chains)          # starts the chains and their streams
    return wf, sampler.x.copy(), sampler.rng_state.copy()


@pytest.mark.parametrize("p_global", [0.0, 0.4])
def test_skipped_sweeps_equal_a_separate_call(p_global):
    wf, x0, st0 = _chains(11, 2, 0.2, 3)
    a, b, W = wf.expanded()
    n_chains, n_skip, n_steps = x0.shape[0], 4, 9

    x1, st1, acc1 = x0.copy(), st0.copy(), np.zeros(n_chains, dtype=np.int64)
    kernels.spin_metropolis_sweeps(x1, st1, a, b, W, n_skip, p_global,
                                   np.empty((n_chains, n_skip, 11)), acc1)
    out1, acc1 = np.empty((n_chains, n_steps, 11)), np.zeros(n_chains, dtype=np.int64)
    kernels.spin_metropolis_sweeps(x1, st1, a, b, W, n_steps, p_global, out1, acc1)

    x2, st2, acc2 = x0.copy(), st0.copy(), np.zeros(n_chains, dtype=np.int64)
    out2 = np.empty((n_chains, n_steps, 11))
    kernels.spin_metropolis_sweeps(x2, st2, a, b, W, n_steps, p_global, out2, acc2,
                                   n_skip=n_skip)

    np.testing.assert_array_equal(out2, out1)
    np.testing.assert_array_equal(x2, x1)
    np.testing.assert_array_equal(st2, st1)
    np.testing.assert_array_equal(acc2, acc1)
    assert acc2.sum() > 0 and len(np.unique(out2.reshape(-1, 11), axis=0)) > 10


def test_parallel_compilations_give_the_serial_numbers():
    lat = Lattice("chain", 9)
    wf, x0, st0 = _chains(9, 3, 0.8, 5)
    a, b, W = wf.expanded()
    n_chains, n_steps = x0.shape[0], 7
    runs = []
    for kernel in (kernels._sweeps_serial, kernels._sweeps_parallel):
        x, st = x0.copy(), st0.copy()
        out, acc = np.empty((n_chains, n_steps, 9)), np.zeros(n_chains, dtype=np.int64)
        kernel(x, st, a, b, W, 2, n_steps, 0.3, out, acc)
        runs.append((out, x, st, acc))
    for serial, parallel in zip(*runs):
        np.testing.assert_array_equal(parallel, serial)

    s = runs[0][0].reshape(-1, 9)
    energies = []
    for kernel in (kernels._local_energy_serial, kernels._local_energy_parallel):
        e, sx = np.empty(len(s)), np.empty(len(s))
        kernel(s, a, b, W, lat.bonds, 1.3, 1.0, e, sx)
        energies.append((e, sx))
    np.testing.assert_array_equal(energies[1][0], energies[0][0])
    np.testing.assert_array_equal(energies[1][1], energies[0][1])


def test_local_energy_of_non_spin_rows_uses_the_exponential_itself():
    # the kernels tabulate exp(-2 a_i s_i) for s_i = +-1; any other value is computed
    # (the ratio formula exp(-2 a_i s_i) prod_j (cosh 2W_ij - s_i tanh theta_j sinh 2W_ij))
    lat = Lattice("chain", 4)
    wf = SpinRBM(4, 1, init_scale=0.5, rng=2)
    a, b, W = wf.expanded()
    s = np.array([[1.0, -1.0, 0.5, 1.0], [1.0, -1.0, 1.0, 1.0]])
    e, sx = np.empty(2), np.empty(2)
    kernels.tfim_local_energy(s, a, b, W, lat.bonds, 1.0, 1.0, e, sx)
    theta = b + s @ W
    ratios = [np.exp(-2 * a[i] * s[:, i]) * np.prod(
        np.cosh(2 * W[i]) - s[:, i:i + 1] * np.tanh(theta) * np.sinh(2 * W[i]), axis=1)
        for i in range(4)]
    np.testing.assert_allclose(sx, np.sum(ratios, axis=0) / 4, rtol=1e-12)
