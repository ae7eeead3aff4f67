"""The transverse-field Ising model (TFIM) on a periodic chain or square lattice.

    H = -J sum_<ij> sz_i sz_j - h sum_i sx_i      (Pauli matrices, J = 1, h > 0)

Basis: sz eigenstates ``s`` with ``s_i = +-1``. H connects ``s`` to itself
(diagonal ``-J sum_<ij> s_i s_j``) and to the N configurations ``s^(i)``
with one spin flipped (element ``-h``). The local energy of a trial state
psi is

    E_L(s) = sum_s' H_ss' psi(s') / psi(s) = -J sum_<ij> s_i s_j - h sum_i psi(s^(i)) / psi(s),

computed by :func:`vmc.spins.kernels.tfim_local_energy` from the RBM's
look-up table theta (O(N M) per configuration). Energies are totals (not
per site), J = 1.

For h > 0 the ground state is unique and positive in this basis
(Perron-Frobenius), which a real RBM can represent; h <= 0 is refused (h = 0
is classical and twofold degenerate; h < 0 gives amplitudes with signs
``prod_i s_i``-like structure that a positive RBM cannot hold).
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError

from ..settings import TFIM_SETTINGS
from . import kernels
from .lattice import Lattice

__all__ = ["TFIM", "check_field"]


def check_field(field) -> float:
    """``h`` as a float > 0 (and <= 1e6), or InvalidParameterError saying why
    (the rule of :data:`vmc.settings.TFIM_SETTINGS`)."""
    try:
        value = float(field)
    except (TypeError, ValueError):
        value = field
    return TFIM_SETTINGS["field"].check("field h", value)


class TFIM:
    """The TFIM Hamiltonian on ``lattice`` with transverse field ``field`` (J = 1).

    Parameters
    ----------
    lattice : vmc.spins.Lattice
    field : float
        h > 0.
    """

    coupling = 1.0

    def __init__(self, lattice: Lattice, field: float):
        if not isinstance(lattice, Lattice):
            raise InvalidParameterError(f"lattice must be a vmc.spins.Lattice, got {lattice!r}")
        self.lattice = lattice
        self.field = check_field(field)
        self.n_sites = lattice.n_sites
        self.exact = None
        # h > 0 on more than two sites: no RBM state here is an exact eigenstate, so a zero
        # error bar can only come from chains that never moved (vmc.health)
        self.zero_error_suspect = self.n_sites > 2

    def diagonal(self, s) -> np.ndarray:
        """``-J sum_<ij> s_i s_j`` (n,) for configurations ``s`` (n, N)."""
        s = np.asarray(s, dtype=np.float64)
        bonds = self.lattice.bonds
        return -self.coupling * np.sum(s[:, bonds[:, 0]] * s[:, bonds[:, 1]], axis=1)

    def local_energy_and_sx(self, wf, s):
        """``(E_L (n,), sx_local (n,))``: local energy and the local estimator of
        ``(1/N) sum_i sx_i`` (``(1/N) sum_i psi(s^(i))/psi(s)``)."""
        s = wf._check_s(s)
        a, b, W = wf.expanded()
        e = np.empty(s.shape[0])
        sx = np.empty(s.shape[0])
        kernels.tfim_local_energy(s, np.ascontiguousarray(a), np.ascontiguousarray(b),
                                       np.ascontiguousarray(W), self.lattice.bonds, self.field,
                                       self.coupling, e, sx)
        return e, sx

    def local_energy(self, wf, s) -> np.ndarray:
        """``E_L(s)`` (n,) of the trial state ``wf`` (the driver's interface)."""
        return self.local_energy_and_sx(wf, s)[0]

    def sparse_matrix(self):
        """H as a scipy.sparse CSR matrix on the 2^N basis (N <= 24).

        Basis index ``k``: bit ``i`` of ``k`` set <=> ``s_i = -1``.
        """
        import scipy.sparse

        n = self.n_sites
        if n > 24:
            raise InvalidParameterError(f"exact matrices need N <= 24 sites, got {n}")
        dim = 1 << n
        k = np.arange(dim, dtype=np.int64)
        spins = 1 - 2 * ((k[:, None] >> np.arange(n)) & 1)
        diag = np.zeros(dim)
        for i, j in self.lattice.bonds:
            diag -= self.coupling * spins[:, i] * spins[:, j]
        rows = [k]
        cols = [k]
        vals = [diag]
        for i in range(n):
            rows.append(k)
            cols.append(k ^ (1 << i))
            vals.append(np.full(dim, -self.field))
        return scipy.sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(dim, dim))

    @staticmethod
    def basis(n_sites: int) -> np.ndarray:
        """All 2^N configurations (2^N, N) float64 in the order of :meth:`sparse_matrix`."""
        k = np.arange(1 << n_sites, dtype=np.int64)
        return (1 - 2 * ((k[:, None] >> np.arange(n_sites)) & 1)).astype(np.float64)
