"""Exact references for the transverse-field Ising model (J = 1, energies are totals).

Free fermions (periodic chain, any even N)
    The Jordan-Wigner transformation maps ``H = -sum_i sz_i sz_{i+1} - h sum_i sx_i``
    (equivalently ``-sum sx sx - h sum sz`` after a basis rotation) to free
    fermions in two parity sectors. The ground state lies in the even sector,
    whose fermions obey *antiperiodic* boundary conditions: momenta
    ``k_n = (2n + 1) pi / N``, n = 0..N-1, and

        E0 = -sum_n sqrt(1 + h^2 - 2 h cos k_n)      (J = 1).

    The naive periodic momenta ``k = 2 pi n / N`` are wrong (by 1 % at
    N = 10, h = 1); :func:`free_fermion_energy` is tested against exact
    diagonalization for N = 4..12.

Exact diagonalization
    :func:`exact_ground_state` builds H on the full 2^N basis (scipy.sparse)
    and finds the lowest eigenpair by Lanczos (``eigsh``), for chains and for
    3x3 and 4x4 lattices (N <= 20 sites; 4x4 takes about a second), and
    returns E0 with the observables of :func:`vmc.spins.runner.observables`.
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import check_int

from .lattice import Lattice
from .tfim import TFIM, check_field

__all__ = ["MAX_ED_SITES", "exact_energy", "exact_ground_state", "free_fermion_energy"]

MAX_ED_SITES = 20


def free_fermion_energy(n_sites: int, field: float) -> float:
    """Ground-state energy (total) of the periodic TFIM chain of even length N (J = 1).

    Parameters
    ----------
    n_sites : int
        Even N >= 2.
    field : float
        h > 0.

    Raises
    ------
    InvalidParameterError
        Odd N (the ground-state sector then has periodic momenta and a
        zero mode; not provided) or h <= 0.
    """
    n = check_int("n_sites", n_sites, minimum=2)
    if n % 2:
        raise InvalidParameterError(
            f"the free-fermion formula is provided for even N, got N = {n}")
    h = check_field(field)
    k = (2 * np.arange(n) + 1) * math.pi / n
    return float(-np.sum(np.sqrt(1.0 + h * h - 2.0 * h * np.cos(k))))


def exact_ground_state(lattice: Lattice, field: float) -> dict:
    """E0 and ground-state observables by Lanczos on the full 2^N space.

    Returns
    -------
    dict
        ``energy`` (total), ``energy_per_site``, ``sx`` (<sx> per site),
        ``abs_mz`` (<|m_z|>, m_z = sum_i s_i / N), ``mz2`` (<m_z^2>),
        ``correlation`` (list of C(r) = <sz_0 sz_r> along an axis,
        r = 0..size//2), ``method`` ("lanczos").
    """
    import scipy.sparse.linalg

    if lattice.n_sites > MAX_ED_SITES:
        raise InvalidParameterError(
            f"exact diagonalization needs at most {MAX_ED_SITES} sites, got {lattice.n_sites}")
    ham = TFIM(lattice, field)
    H = ham.sparse_matrix()
    dim = H.shape[0]
    if dim <= 64:
        w, v = np.linalg.eigh(H.toarray())
        e0, psi = float(w[0]), v[:, 0]
    else:
        v0 = np.ones(dim) / math.sqrt(dim)   # overlaps the positive ground state
        w, v = scipy.sparse.linalg.eigsh(H, k=1, which="SA", v0=v0, tol=1e-12)
        e0, psi = float(w[0]), v[:, 0]
    p = psi * psi
    p /= p.sum()
    s = TFIM.basis(lattice.n_sites)
    n = lattice.n_sites
    mz = s.mean(axis=1)
    diag = float(p @ ham.diagonal(s))
    corr = []
    for r in range(lattice.max_distance + 1):
        pairs = lattice.distance_pairs(r)
        corr.append(float(p @ np.mean(s[:, pairs[:, 0]] * s[:, pairs[:, 1]], axis=1)))
    return {"energy": e0, "energy_per_site": e0 / n,
            "sx": -(e0 - diag) / (ham.field * n), "abs_mz": float(p @ np.abs(mz)),
            "mz2": float(p @ mz**2), "correlation": corr, "method": "lanczos"}


def exact_energy(lattice: Lattice, field: float) -> tuple[float | None, str]:
    """``(E0, method)``: free fermions for an even chain, Lanczos for N <= 20 sites,
    else ``(None, reason)``."""
    if lattice.kind == "chain" and lattice.size % 2 == 0:
        return free_fermion_energy(lattice.size, field), "free fermions"
    if lattice.n_sites <= MAX_ED_SITES:
        return exact_ground_state(lattice, field)["energy"], "exact diagonalization"
    if lattice.kind == "chain":
        return None, ("no exact value: the free-fermion formula is for even N and exact "
                      f"diagonalization is limited to {MAX_ED_SITES} sites")
    return None, f"no exact value: exact diagonalization is limited to {MAX_ED_SITES} sites"
