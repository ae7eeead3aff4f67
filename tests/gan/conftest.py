"""GAN tests: Monte Carlo configurations come from gan_testdata (NumPy Metropolis);
importing torch is optional, the tests skip cleanly without it."""

import pytest
from gan_testdata import random_spins


@pytest.fixture(scope="module")
def tiny_data():
    """64 random 4 x 4 configurations: data for the tiny networks (gan_testdata.TINY)."""
    return random_spins(64)
