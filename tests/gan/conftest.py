"""Fixtures of the GAN tests (Monte Carlo configurations from gan_testdata)."""

import pytest

from gan_testdata import metropolis_spins


@pytest.fixture(scope="session")
def spins_ordered():
    """2000 independent L = 8 configurations at T = 1.5."""
    return metropolis_spins(8, 1.5, 2000, seed=101)


@pytest.fixture(scope="session")
def spins_disordered():
    """2000 independent L = 8 configurations at T = 3.5."""
    return metropolis_spins(8, 3.5, 2000, seed=102)
