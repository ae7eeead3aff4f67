"""Shared pytest fixtures: a seeded ``rng`` (no global seeding anywhere)."""

import numpy as np
import pytest

#: The seed of the shared ``rng`` fixture; tests needing others derive them.
SEED = 20240611


@pytest.fixture
def rng():
    """A fresh ``numpy.random.Generator`` seeded with :data:`SEED`."""
    return np.random.default_rng(SEED)


@pytest.fixture
def out_path(tmp_path):
    """A not-yet-existing file path in a fresh temporary folder."""
    return tmp_path / "out.h5"
