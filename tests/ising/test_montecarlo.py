"""The Monte Carlo driver against exact results, reproducibility and resume.

Every physics assertion is |estimate - exact| < 4 standard errors, the error
from blocking (e, |m|, chi) or block jackknife (c), with fixed seeds; each
docstring states why the sample size makes a 1% bias fail.
"""

import math

import numpy as np
import pytest
from scipy import stats

import ising
from ising import exact
from mccore.errors import InvalidParameterError
from ising.montecarlo import _drift_sigmas, default_n_chains, resolve_algorithm

SEED = 20240611


def _check(ens, want: dict, keys):
    obs = ens.observables()
    for key in keys:
        est = obs[key]
        assert abs(est.deviation(want[key])) < 4, (ens.T, key, str(est), want[key])
    return obs


_CASES = [(L, T) for L in (2, 3, 4) for T in (1.5, exact.T_C, 3.0)]


@pytest.mark.parametrize("L, T", _CASES)
def test_small_lattices_against_enumeration(L, T):
    """e, |m|, c, chi (auto algorithm: Wolff at 1.5 and T_c, Metropolis at 3.0)
    vs exact enumeration.

    n = 10^5 effectively independent samples: the standard error of e is
    std(e)/sqrt(n) = T sqrt(c/N)/sqrt(n) <= 0.15% of |e| and that of |m|
    <= 0.2%, so a 1% bias in e or |m| is > 5 sigma; c and chi have relative
    errors ~sqrt(2/n) ~ 0.45% (a 2% bias fails).
    """
    (ens,) = ising.simulate(L, [T], 100_000, rng=SEED + L)
    want = exact.exact_enumeration(L, T)
    obs = _check(ens, want, ("energy", "abs_magnetization", "specific_heat",
                             "susceptibility", "susceptibility_connected"))
    assert obs["energy"].error < 0.0025 * abs(want["energy"])
    assert ens.attrs["algorithm"] == resolve_algorithm(T)


@pytest.mark.parametrize("algorithm, L", [
    ("wolff", 3), ("metropolis", 4),
    ("metropolis", 3)])
def test_stored_states_follow_boltzmann(algorithm, L):
    """Chi-square of the stored samples against the exact Boltzmann weights at T = 2.5.

    L = 3: histogram of the 512 states; L = 4: histogram of the (E, M)
    classes (exact weights summed over the 65536 states). 4 x 10^4 stored
    samples (including the random global flips); the rarest classes are
    pooled so every expected count is >= 5; p > 1e-3 required (fixed seed).
    """
    T, n = 2.5, 40_000
    (ens,) = ising.simulate(L, [T], n, algorithm=algorithm, rng=SEED)
    p = exact.boltzmann_distribution(L, T)
    if L == 3:
        bits = (ens.spins.reshape(n, -1) > 0).astype(np.int64)
        index = bits @ (1 << np.arange(L * L))
        expected = p * n
    else:
        E, M = exact.enumerate_states(L)
        classes, inverse = np.unique(np.column_stack([E, M]), axis=0, return_inverse=True)
        expected = np.bincount(inverse.ravel(), weights=p) * n
        lookup = {tuple(c): k for k, c in enumerate(classes)}
        index = np.array([lookup[(e, m)] for e, m in zip(ens.energy, ens.magnetization)])
    observed = np.bincount(index, minlength=expected.size).astype(float)
    order = np.argsort(expected)
    obs_sorted, exp_sorted = observed[order], expected[order]
    # pool every class expected < 5 times (and more if needed) into one bin
    cut = int(np.sum(exp_sorted < 5.0))
    while exp_sorted[:cut].sum() < 5.0:
        cut += 1
    obs_bins = np.concatenate([[obs_sorted[:cut].sum()], obs_sorted[cut:]])
    exp_bins = np.concatenate([[exp_sorted[:cut].sum()], exp_sorted[cut:]])
    assert np.all(exp_bins >= 5)
    assert stats.chisquare(obs_bins, exp_bins).pvalue > 1e-3
    # global flip symmetry: about half the samples have M > 0 (binomial, 4 sigma)
    nonzero = ens.magnetization != 0
    positive = np.mean(ens.magnetization[nonzero] > 0)
    assert abs(positive - 0.5) < 4 * 0.5 / math.sqrt(nonzero.sum())


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
@pytest.mark.parametrize("L, n", [(8, 100_000), (16, 40_000)])
def test_energy_and_specific_heat_against_kaufman(L, n, algorithm):
    """e and c at T = 1.5, 2.269, 3.0 vs the exact finite-torus values.

    std(e) = T sqrt(c/N): at L = 8 (n = 10^5) the standard error of e is
    <= 0.07% of |e| and at L = 16 (n = 4 x 10^4) <= 0.1%, so a 1% bias in e is
    >= 10 sigma; c has a measured relative error of 0.4-0.9% (block
    jackknife), so a 4% bias in c fails too.
    """
    temps = [1.5, 2.269, 3.0]
    ensembles = ising.simulate(L, temps, n, algorithm=algorithm, rng=SEED + L)
    for ens in ensembles:
        want = exact.finite_lattice(L, ens.T)
        obs = _check(ens, want, ("energy", "specific_heat"))
        assert obs["energy"].error < 0.0025 * abs(want["energy"])
        assert ens.attrs["algorithm"] == algorithm
        assert ens.attrs["thinning"] >= 2 * max(ens.attrs["tau_int"].values())


def test_same_seed_identical_files_and_threads(hdf5_content, tmp_path):
    """Same seed -> identical files, with 1 and with 2 numba threads; another
    seed -> different samples."""
    args = (6, [1.8, 2.6, 3.5], 600)
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    ising.simulate(*args, rng=7, path=a, n_threads=1)
    ising.simulate(*args, rng=7, path=b, n_threads=2)
    ising.simulate(*args, rng=8, path=c, n_threads=1)
    assert hdf5_content(a) == hdf5_content(b)
    assert hdf5_content(a) != hdf5_content(c)


def test_resume_after_interruption_equals_uninterrupted(tmp_path):
    """An exception in the middle of sampling (any temperature) and a resume
    give exactly the samples of an uninterrupted run: n per T, none doubled."""
    args = (5, [1.6, 2.4, 3.2], 1500)
    reference = ising.simulate(*args, rng=3, n_chains=8)
    path = tmp_path / "run.h5"
    messages = []

    def stop_in_the_middle(message):
        messages.append(message)
        if len(messages) == 9:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ising.simulate(*args, rng=3, n_chains=8, path=path, checkpoint_interval=0,
                       log=stop_in_the_middle)
    partial = ising.load(path)
    assert not all(e.complete for e in partial.ensembles)
    assert 0 < sum(e.n_samples for e in partial.ensembles) < 3 * 1500
    resumed = ising.simulate(*args, path=path, resume=True, checkpoint_interval=0)
    for got, want in zip(resumed, reference):
        assert got.n_samples == 1500 and got.complete
        np.testing.assert_array_equal(got.spins, want.spins)
        np.testing.assert_array_equal(got.energy, want.energy)
    # resuming a complete file does nothing and returns the same samples
    again = ising.simulate(*args, path=path, resume=True)
    np.testing.assert_array_equal(again[1].spins, reference[1].spins)


def test_resume_refuses_a_different_request(tmp_path):
    path = tmp_path / "run.h5"
    ising.simulate(3, [2.0, 3.0], 64, rng=1, path=path)
    before = path.read_bytes()
    for kwargs in (dict(L=4, temperatures=[2.0, 3.0], n_samples=64),
                   dict(L=3, temperatures=[2.0], n_samples=64),
                   dict(L=3, temperatures=[2.0, 3.0], n_samples=65),
                   dict(L=3, temperatures=[2.0, 3.0], n_samples=64, rng=2)):
        with pytest.raises(InvalidParameterError):
            ising.simulate(**kwargs, path=path, resume=True)
    assert path.read_bytes() == before


def test_attrs_recorded(tmp_path):
    path = tmp_path / "run.h5"
    ising.simulate(4, [1.5, 4.0], 50, rng=5, path=path)
    data = ising.load(path)
    low, high = data.ensembles
    assert low.attrs["algorithm"] == "wolff" and high.attrs["algorithm"] == "metropolis"
    assert low.phase == "ordered" and high.phase == "disordered"
    for ens in data.ensembles:
        assert ens.attrs["complete"] and ens.attrs["seed"] == 5 and ens.n_samples == 50
        assert set(ens.attrs["tau_int"]) == {"energy", "abs_magnetization"}
        assert ens.attrs["equilibration_sweeps"] > 0 and ens.attrs["thinning"] >= 1
    assert data.attrs["seed"] == 5 and data.attrs["phase_window"] == ising.PHASE_WINDOW


def test_drift_detection():
    """The equilibration check flags a series whose energy still relaxes."""
    rng = np.random.default_rng(SEED)
    steady = rng.standard_normal((8, 512))
    relaxing = steady + np.linspace(2.0, 0.0, 512)
    assert abs(_drift_sigmas(steady)) < 4
    assert _drift_sigmas(relaxing) > 10


def test_defaults_and_validation():
    assert default_n_chains(1) == 1 and default_n_chains(10**6) == 64
    assert resolve_algorithm(2.0) == "wolff" and resolve_algorithm(3.0) == "metropolis"
    for bad in (dict(L=1), dict(L=2.0), dict(temperatures=[]), dict(temperatures=[0.0]),
                dict(temperatures=[float("nan")]), dict(n_samples=0),
                dict(algorithm="heatbath"), dict(n_threads=0)):
        kwargs = dict(L=4, temperatures=[2.0], n_samples=10)
        kwargs.update(bad)
        with pytest.raises(InvalidParameterError):
            ising.simulate(**kwargs)
