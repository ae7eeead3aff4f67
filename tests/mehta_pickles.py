"""Pickles in the layout of the Mehta et al. (2019) Ising set (test helper).

Made from our own L = 8 Monte Carlo, since the real set cannot be downloaded
during the tests. Shared by the library tests (tests/ising/test_mehta.py) and
the command-line tests (tests/isingrbm/test_cli_mehta.py).
"""

import pickle

import numpy as np

import ising

__all__ = ["L", "N", "TEMPERATURES", "monte_carlo_spins", "write_pickle"]

L = 8
TEMPERATURES = (1.5, 2.269185314213022, 3.5)
N = 60


def monte_carlo_spins(seed: int) -> np.ndarray:
    """Spins (3 * N, L, L) of an L = 8 Monte Carlo run, in ascending T blocks."""
    ensembles = ising.simulate(L, TEMPERATURES, N, rng=seed)
    return np.concatenate([e.spins for e in ensembles])


def write_pickle(path, obj, protocol=pickle.DEFAULT_PROTOCOL):
    """``obj`` pickled to ``path``; returns ``path``."""
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=protocol)
    return path
