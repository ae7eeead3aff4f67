"""Fresh entropy is recorded: a spin wavefunction or sampler made with ``rng=None`` keeps
the seed it drew in ``seed_``, and that seed makes the same numbers again."""

import numpy as np
import pytest

from vmc.spins import Lattice, SpinRBM, SymmetricSpinRBM
from vmc.spins.samplers import SpinMetropolisSampler


@pytest.mark.parametrize("make", [lambda rng: SpinRBM(6, 2, init_scale=0.1, rng=rng),
                                  lambda rng: SymmetricSpinRBM(Lattice("chain", 6), 2,
                                                               init_scale=0.1, rng=rng)])
def test_wavefunction_records_the_seed_it_drew(make):
    wf = make(None)
    assert isinstance(wf.seed_, int) and wf.seed_ >= 0
    again = make(wf.seed_)
    assert again.seed_ == wf.seed_
    assert np.array_equal(again.params, wf.params)
    assert make(np.random.default_rng(1)).seed_ is None


def test_sampler_records_the_seed_it_drew():
    wf = SpinRBM(6, 1, init_scale=0.3, rng=2)
    first = SpinMetropolisSampler(4, n_burn_in=5)
    assert first.seed_ is None            # nothing drawn yet
    x = first.sample(wf, 40).x
    assert isinstance(first.seed_, int)
    second = SpinMetropolisSampler(4, n_burn_in=5, rng=first.seed_)
    assert np.array_equal(second.sample(wf, 40).x, x)
    assert second.seed_ == first.seed_
