"""Periodic lattices for quantum spin models: the chain and the square lattice.

A :class:`Lattice` knows its sites (numbered row-major on the square
lattice: site ``(x, y)`` is ``y * L + x``), its nearest-neighbour bonds
(each once, periodic boundaries), its translations (as a table of site
permutations, used by the translation-symmetric RBM) and the distance
classes of the correlation function C(r) (along one lattice axis).
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import check_choice, check_int

from ..settings import LATTICES

__all__ = ["LATTICES", "Lattice"]


class Lattice:
    """A periodic chain of ``size`` sites or a ``size x size`` square lattice.

    Parameters
    ----------
    kind : {"chain", "square"}
    size : int
        Chain length N >= 2, or side L >= 2 of the square lattice (N = L^2).

    Attributes
    ----------
    n_sites : int
    bonds : ndarray (n_bonds, 2) int64
        Nearest-neighbour pairs, each once (N bonds on a chain, 2N on the
        square lattice; for size 2 the two periodic neighbours coincide and
        the bond appears twice, as it does in the Hamiltonian's sum over
        ``<ij>`` with periodic wrapping).
    translations : ndarray (n_sites, n_sites) int64
        ``translations[t, i]`` is the site that site ``i`` moves to under
        translation ``t`` (``t = 0`` is the identity).
    """

    def __init__(self, kind: str, size: int):
        self.kind = check_choice("lattice", kind, LATTICES)
        self.size = check_int("size", size, minimum=2)
        if self.kind == "chain":
            n = self.size
            sites = np.arange(n)
            self.n_sites = n
            self.bonds = np.stack([sites, (sites + 1) % n], axis=1).astype(np.int64)
            self.translations = ((sites[None, :] + sites[:, None]) % n).astype(np.int64)
        else:
            L = self.size
            self.n_sites = L * L
            x, y = np.meshgrid(np.arange(L), np.arange(L), indexing="xy")
            x, y = x.ravel(), y.ravel()
            site = y * L + x
            right = y * L + (x + 1) % L
            down = ((y + 1) % L) * L + x
            self.bonds = np.concatenate([np.stack([site, right], 1),
                                         np.stack([site, down], 1)]).astype(np.int64)
            tx, ty = x, y  # translation t = (tx, ty) has index ty * L + tx
            self.translations = (((y[None, :] + ty[:, None]) % L) * L
                                 + (x[None, :] + tx[:, None]) % L).astype(np.int64)
        if self.n_sites > 400:
            raise InvalidParameterError(
                f"lattice {self.kind} of size {self.size} has {self.n_sites} sites; "
                "at most 400 are supported")

    @property
    def coordination(self) -> int:
        """Neighbours per site (2 on the chain, 4 on the square lattice)."""
        return 2 if self.kind == "chain" else 4

    @property
    def max_distance(self) -> int:
        """Largest distance of C(r) along an axis: ``size // 2``."""
        return self.size // 2

    def distance_pairs(self, r: int) -> np.ndarray:
        """Site pairs ``(i, j)`` (n_sites, 2) at distance ``r`` along the x axis (one per site)."""
        # the translation by (r, 0) has index r on both the chain and the square lattice
        sites = np.arange(self.n_sites)
        return np.stack([sites, self.translations[r, sites]], axis=1)

    def describe(self) -> str:
        """``'chain N=10'`` or ``'square 4x4'``."""
        return (f"chain N={self.size}" if self.kind == "chain"
                else f"square {self.size}x{self.size}")

    def __repr__(self) -> str:
        return f"Lattice({self.kind!r}, {self.size})"
