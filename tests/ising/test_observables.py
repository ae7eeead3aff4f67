"""Observables on exact Boltzmann samples: every estimate within 4 standard
errors of the exact enumeration, and the error bars themselves honest."""

import math

import numpy as np
import pytest

from ising import exact
from ising.observables import OBSERVABLES, measure
from mccore.errors import InvalidParameterError


@pytest.mark.parametrize("T", [1.5, 2.269, 3.5])
def test_measure_on_exact_samples(T, rng):
    """Independent draws from the exact L = 3 distribution, n = 2 x 10^5.

    The relative standard error of e is then <= 0.1% (|m| <= 0.06%, c and
    chi <= 0.5%), so a 1% bias in any estimator would be >= 2-10 sigma for
    the slowest (c) and > 10 sigma for the rest; we require 4 sigma.
    """
    L, n = 3, 200_000
    p = exact.boltzmann_distribution(L, T)
    E, M = exact.enumerate_states(L)
    idx = rng.choice(p.size, size=n, p=p)
    got = measure(E[idx], M[idx], L=L, T=T)
    want = exact.exact_enumeration(L, T)
    assert list(got) == list(OBSERVABLES)
    for key in OBSERVABLES:
        est = got[key]
        assert est.error > 0
        assert abs(est.deviation(want[key])) < 4, (key, str(est), want[key])
    assert got["energy"].error / abs(want["energy"]) < 2.5e-3


def test_errors_are_calibrated(rng):
    """Over 200 replicas of 4000 exact samples (L = 2, T = 2.5) the z-scores of
    every observable have mean square 1 within 4 x sqrt(2/200)."""
    L, T, n, reps = 2, 2.5, 4000, 200
    p = exact.boltzmann_distribution(L, T)
    E, M = exact.enumerate_states(L)
    want = exact.exact_enumeration(L, T)
    z = {k: [] for k in OBSERVABLES}
    for _ in range(reps):
        idx = rng.choice(p.size, size=n, p=p)
        for k, est in measure(E[idx], M[idx], L=L, T=T).items():
            z[k].append(est.deviation(want[k]))
    for k, values in z.items():
        assert abs(np.mean(np.square(values)) - 1) < 4 * math.sqrt(2 / reps), k


def test_small_samples_use_naive_errors():
    E = np.array([-8.0, -8.0, -4.0, 0.0])
    M = np.array([4.0, -4.0, 2.0, 0.0])
    got = measure(E, M, L=2, T=2.0)
    assert got["energy"].mean == pytest.approx(-5.0 / 4)
    assert got["energy"].error == pytest.approx(np.std(E / 4, ddof=1) / 2)
    assert got["abs_magnetization"].mean == pytest.approx(10 / 16)


@pytest.mark.parametrize("kwargs", [
    dict(energy=[1.0, 2.0], magnetization=[1.0], L=2, T=1.0),
    dict(energy=[], magnetization=[], L=2, T=1.0),
    dict(energy=[1.0], magnetization=[1.0], L=1, T=1.0),
    dict(energy=[1.0], magnetization=[1.0], L=2, T=0.0),
    dict(energy=[float("nan")], magnetization=[1.0], L=2, T=1.0),
])
def test_invalid_input(kwargs):
    with pytest.raises(InvalidParameterError):
        measure(kwargs.pop("energy"), kwargs.pop("magnetization"), **kwargs)
