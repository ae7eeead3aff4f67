"""Numba kernels for the total energy and magnetization of a batch of configurations.

Conventions (k_B = J = 1, zero field, periodic L x L lattice): spins are
``int8`` in {-1, +1}; the total energy is ``E = -sum_<ij> s_i s_j`` over the
2N bonds (each site with its right and lower neighbour), the total
magnetization ``M = sum_i s_i``. Each kernel comes for the natural layout
``(n, L, L)`` and for the colour-packed layout ``(n, 2, L, L // 2)`` of
:mod:`ising.kernels` (where the Monte Carlo kernels live), each parallel over
configurations and serial (same result). The kernels trust their inputs;
:mod:`ising.chains` validates them. Re-exported by :mod:`ising.kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "energy_magnetization",
    "energy_magnetization_packed",
    "energy_magnetization_packed_serial",
    "energy_magnetization_serial",
]


@njit(cache=True, parallel=True)
def energy_magnetization(spins, out_energy, out_magnetization):
    """Total energy and magnetization of a batch, natural layout.

    Parameters
    ----------
    spins : int8 (n, L, L)
    out_energy : float64 (n,), written
        ``E = -sum_{i,j} s_ij (s_i,j+1 + s_i+1,j)`` (periodic).
    out_magnetization : float64 (n,), written
        ``M = sum s_ij``.
    """
    for b in prange(spins.shape[0]):
        _energy_one(spins, b, out_energy, out_magnetization)


# By-design twin of energy_magnetization_packed_serial + _energy_packed_one (packed layout)
@njit(cache=True)
def energy_magnetization_serial(spins, out_energy, out_magnetization):
    """:func:`energy_magnetization` in the calling thread (same result)."""
    for b in range(spins.shape[0]):
        _energy_one(spins, b, out_energy, out_magnetization)


@njit(cache=True)
def _energy_one(spins, b, out_energy, out_magnetization):
    L = spins.shape[1]
    e = 0
    m = 0
    for i in range(L):
        down = i + 1 if i < L - 1 else 0
        for j in range(L):
            right = j + 1 if j < L - 1 else 0
            s = np.int64(spins[b, i, j])
            e += s * (np.int64(spins[b, i, right]) + np.int64(spins[b, down, j]))
            m += s
    out_energy[b] = -np.float64(e)
    out_magnetization[b] = np.float64(m)


@njit(cache=True, parallel=True)
def energy_magnetization_packed(packed, out_energy, out_magnetization):
    """Total energy and magnetization of a batch, colour-packed layout.

    Parameters
    ----------
    packed : int8 (n, 2, L, L // 2)
        Every bond joins a colour-0 and a colour-1 site, so
        ``E = -sum_{colour-0 sites} s * (sum of its 4 neighbours)``.
    out_energy, out_magnetization : float64 (n,), written
    """
    for b in prange(packed.shape[0]):
        _energy_packed_one(packed, b, out_energy, out_magnetization)


# By-design twin of energy_magnetization_serial + _energy_one above (natural layout)
@njit(cache=True)
def energy_magnetization_packed_serial(packed, out_energy, out_magnetization):
    """:func:`energy_magnetization_packed` in the calling thread (same result)."""
    for b in range(packed.shape[0]):
        _energy_packed_one(packed, b, out_energy, out_magnetization)


@njit(cache=True)
def _energy_packed_one(packed, b, out_energy, out_magnetization):
    L = packed.shape[2]
    H = packed.shape[3]
    e = 0
    m = 0
    for i in range(L):
        up = i - 1 if i > 0 else L - 1
        down = i + 1 if i < L - 1 else 0
        q = i % 2
        for k in range(H):
            kl = k - 1 + q
            if kl < 0:
                kl = H - 1
            kr = k + q
            if kr >= H:
                kr = 0
            s = np.int64(packed[b, 0, i, k])
            e += s * (np.int64(packed[b, 1, up, k]) + np.int64(packed[b, 1, down, k])
                      + np.int64(packed[b, 1, i, kl]) + np.int64(packed[b, 1, i, kr]))
            m += s + np.int64(packed[b, 1, i, k])
    out_energy[b] = -np.float64(e)
    out_magnetization[b] = np.float64(m)
