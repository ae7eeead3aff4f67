"""The health check that ends ``isingrbm gan fit`` (:func:`isingrbm.pipeline.gan_health`).

The check only asks the model for samples, so stand-in generators (no
PyTorch needed) give it the failures it must report: noise, a frozen
lattice above T_c, one repeated configuration; and Monte Carlo
configurations themselves, which it must accept.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import ising
from isingrbm.pipeline import gan_health


class _Generator:
    """A stand-in for a trained IsingGAN: ``draw(n, rng, T)`` makes its samples."""

    def __init__(self, draw, conditional=False):
        self.draw, self.conditional = draw, conditional
        self.temperatures = []

    def sample(self, n, *, rng=None, temperature=None):
        self.temperatures.append(temperature)
        return self.draw(n, np.random.default_rng(rng), temperature)


@pytest.fixture(scope="module")
def ensembles():
    """Metropolis ensembles at L = 8: ordered (1.5) and disordered (3.5)."""
    return ising.simulate(8, [1.5, 3.5], 400, rng=11)


def _noise(n, rng, T):
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, 8, 8))


def _frozen(n, rng, T):
    return np.ones((n, 8, 8), dtype=np.int8)


def test_monte_carlo_samples_pass(ensembles):
    """Fresh Metropolis configurations at each temperature are what a perfect GAN gives."""
    def draw(n, rng, T):
        return ising.simulate(8, [T], n, rng=int(rng.integers(2**31)))[0].spins
    model = _Generator(draw, conditional=True)
    assert gan_health(model, ensembles, seed=5) == []
    assert model.temperatures == [1.5, 3.5]          # each training temperature is checked


def test_noise_is_reported_in_the_ordered_phase(ensembles):
    problems = gan_health(_Generator(_noise), ensembles[:1], seed=5)
    assert len(problems) == 1
    assert "T = 1.5" in problems[0] and "standard deviations" in problems[0]


def test_frozen_lattice_is_reported_above_tc(ensembles):
    problems = gan_health(_Generator(_frozen), ensembles[1:], seed=5)
    # the all-up lattice is both far in energy and a single repeated configuration
    assert len(problems) == 2
    assert "T = 3.5" in problems[0] and "mode collapse" in problems[1]


def test_ordered_training_set_of_one_configuration_is_no_collapse():
    """A training set that is itself one configuration: generating it is right."""
    frozen = SimpleNamespace(T=0.5, spins=np.ones((50, 8, 8), dtype=np.int8))
    assert gan_health(_Generator(_frozen), [frozen], seed=5) == []


def test_unconditioned_model_is_sampled_without_temperature(ensembles):
    model = _Generator(_noise)
    gan_health(model, ensembles[:1], seed=5)
    assert model.temperatures == [None]
