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

    Observables of the same sector (:func:`free_fermion_observables`):
    ``<sx> = -(1/N) dE0/dh = (1/N) sum_n (h - cos k_n) / eps_n`` (Hellmann-
    Feynman) and the order-parameter correlation ``<sz_0 sz_r>`` as an r x r
    Toeplitz determinant of the Majorana contractions (Lieb, Schultz and
    Mattis, Ann. Phys. 16, 407 (1961); Pfeuty, Ann. Phys. 57, 79 (1970)):

        C(r) = det[G_{i-j-1}]_{i,j=0..r-1},
        G_m = (1/N) sum_n (cos k_n (m+1) - h cos k_n m) / eps_n,

    exact for the finite periodic chain because the Jordan-Wigner string
    between sites 0 and r does not cross the boundary (tested against
    exact diagonalization at N = 8..12).

Exact diagonalization
    :func:`exact_ground_state` builds H on the full 2^N basis (scipy.sparse)
    and finds the lowest eigenpair by Lanczos (``eigsh``), for chains and for
    3x3 and 4x4 lattices (N <= 20 sites; 4x4 takes about a second), and
    returns E0 with the observables of :func:`vmc.spins.runner.observables`,
    including ``<m_z^4>`` and the Binder ratio ``U = 1 - <m^4> / (3 <m^2>^2)``
    (m = m_z = sum_i sz_i / N), which free fermions do not give simply.

:func:`exact_reference` gathers what is known for one lattice and field:
free fermions where they apply, exact diagonalization for the rest up to
:data:`MAX_ED_OBSERVABLE_SITES` sites (a fraction of a second).
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import check_int

from .lattice import Lattice
from .tfim import TFIM, check_field

__all__ = ["MAX_ED_SITES", "MAX_ED_OBSERVABLE_SITES", "REFERENCE_KEYS", "binder_ratio", "exact_energy",
           "exact_ground_state", "exact_reference", "free_fermion_energy",
           "free_fermion_observables"]

MAX_ED_SITES = 20

#: :func:`exact_reference` diagonalizes up to this many sites when free fermions do not
#: give an observable (16 sites: about 0.5 s; 20 sites: tens of seconds and ~1 GB)
MAX_ED_OBSERVABLE_SITES = 16


def binder_ratio(mz2: float, mz4: float) -> float:
    """``U = 1 - <m^4> / (3 <m^2>^2)``: 0 for a Gaussian m (disordered), 2/3 for m = +-1."""
    return 1.0 - mz4 / (3.0 * mz2 * mz2)


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


def free_fermion_observables(n_sites: int, field: float) -> dict:
    """``<sx>`` and ``C(r) = <sz_0 sz_r>`` of the periodic TFIM chain, even N (J = 1).

    Returns
    -------
    dict
        ``energy`` (total E0), ``sx`` (<sx> per site, ``-dE0/dh / N``),
        ``correlation`` (list of C(r), r = 0..N//2, Toeplitz determinants of
        the Majorana contractions; see the module docstring).

    Raises
    ------
    InvalidParameterError
        As :func:`free_fermion_energy`.
    """
    import scipy.linalg

    e0 = free_fermion_energy(n_sites, field)
    n, h = int(n_sites), float(field)
    k = (2 * np.arange(n) + 1) * math.pi / n
    eps = np.sqrt(1.0 + h * h - 2.0 * h * np.cos(k))
    sx = float(np.sum((h - np.cos(k)) / eps) / n)
    rmax = n // 2
    m = np.arange(-rmax - 1, rmax)            # the contractions G_m that C(r <= N/2) uses
    g = (np.cos(np.outer(m + 1, k)) - h * np.cos(np.outer(m, k))) @ (1.0 / eps) / n
    G = dict(zip(m.tolist(), g))
    corr = [1.0]
    for r in range(1, rmax + 1):
        # T[i, j] = G_{i-j-1}: first column G_{-1..r-2}, first row G_{-1..-r}
        T = scipy.linalg.toeplitz([G[i - 1] for i in range(r)], [G[-1 - j] for j in range(r)])
        corr.append(float(np.linalg.det(T)))
    return {"energy": e0, "sx": sx, "correlation": corr}


def exact_ground_state(lattice: Lattice, field: float) -> dict:
    """E0 and ground-state observables by Lanczos on the full 2^N space.

    Returns
    -------
    dict
        ``energy`` (total), ``energy_per_site``, ``sx`` (<sx> per site),
        ``abs_mz`` (<|m_z|>, m_z = sum_i s_i / N), ``mz2`` (<m_z^2>),
        ``mz4`` (<m_z^4>), ``binder`` (:func:`binder_ratio`),
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
            "mz2": float(p @ mz**2), "mz4": float(p @ mz**4),
            "binder": binder_ratio(float(p @ mz**2), float(p @ mz**4)),
            "correlation": corr, "method": "lanczos"}


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


#: the observables :func:`exact_reference` may give, as named in
#: :func:`vmc.spins.runner.observables`
REFERENCE_KEYS = ("energy", "sx", "correlation", "abs_mz", "mz2", "mz4", "binder")


def exact_reference(lattice: Lattice, field: float, *,
                    max_ed_sites: int = MAX_ED_OBSERVABLE_SITES) -> dict:
    """Every exact ground-state value known for ``lattice`` at ``field``, and how.

    Free fermions for an even chain (energy, ``sx``, ``correlation``: any N);
    exact diagonalization up to ``max_ed_sites`` sites for the rest
    (``abs_mz``, ``mz2``, ``mz4``, ``binder``; everything on odd chains and
    square lattices); the energy alone by Lanczos up to :data:`MAX_ED_SITES`
    sites when ``max_ed_sites`` is smaller (as :func:`exact_energy`).

    Returns
    -------
    dict
        ``values`` {key: value} for the keys of :data:`REFERENCE_KEYS` that
        are known, ``methods`` {key: "free fermions" | "exact diagonalization"},
        ``note`` (None, or why the energy has no exact value).
    """
    max_ed_sites = check_int("max_ed_sites", max_ed_sites, minimum=0)
    values, methods = {}, {}
    if lattice.kind == "chain" and lattice.size % 2 == 0:
        for key, value in free_fermion_observables(lattice.size, field).items():
            values[key], methods[key] = value, "free fermions"
    ed_limit = max(max_ed_sites, 0 if "energy" in values else MAX_ED_SITES)
    if lattice.n_sites <= ed_limit:
        ed = exact_ground_state(lattice, field)
        keys = REFERENCE_KEYS if lattice.n_sites <= max_ed_sites else ("energy",)
        for key in keys:
            if key not in values:
                values[key], methods[key] = ed[key], "exact diagonalization"
    note = None
    if "energy" not in values:
        note = exact_energy(lattice, field)[1]
    return {"values": values, "methods": methods, "note": note}
