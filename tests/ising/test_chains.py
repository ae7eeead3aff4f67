"""MetropolisChains / WolffChains: validation, reproducibility, resume, and
the physics -- sampled distributions against exact Boltzmann weights obtained
here by brute-force enumeration of all 2^N states (k_B = J = 1, periodic).
"""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mcstats import estimate
from mccore.errors import InvalidParameterError

from ising import kernels
from ising.chains import (CHECKERBOARD_MIN_L, MetropolisChains, WolffChains, _threshold,
                          energy, magnetization)
from ising.lattice import checkerboard_pack, checkerboard_unpack

_spec = importlib.util.spec_from_file_location(
    "ising_kernel_reference", Path(__file__).with_name("reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

CLASSES = [MetropolisChains, WolffChains]
T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


def _boltzmann(L, T):
    """Exact probabilities of all 2^N states, their E and M (brute force)."""
    _, e, m = ref.enumerate_lattice(L)
    w = np.exp(-(e - e.min()) / T)
    return w / w.sum(), e, m


# -- validation ----------------------------------------------------------------------

@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("kwargs, message", [
    (dict(L=1), "L must be an integer >= 2, got 1"),
    (dict(L=4.0), "L must be an integer >= 2, got 4.0"),
    (dict(L=True), "L must be an integer >= 2, got True"),
    (dict(beta=0.0), "beta must be a finite number > 0, got 0.0"),
    (dict(beta=float("nan")), "beta must be a finite number > 0, got nan"),
    (dict(beta=-1), "beta must be a finite number > 0, got -1"),
    (dict(beta="x"), "beta must be a finite number > 0, got 'x'"),
    (dict(n_chains=0), "n_chains must be an integer >= 1, got 0"),
    (dict(n_chains=2.5), "n_chains must be an integer >= 1, got 2.5"),
    (dict(start="down"), "start must be one of 'random', 'up', got 'down'"),
    (dict(rng=-3), "rng must be an integer >= 0, a numpy SeedSequence or Generator, or None, got -3"),
    (dict(spins=np.ones((2, 4, 4))), "spins must have shape (3, 4, 4), got shape (2, 4, 4)"),
    (dict(spins=np.zeros((3, 4, 4))), "spins must be in {-1, +1}"),
])
def test_invalid_parameters(cls, kwargs, message):
    args = dict(L=4, beta=0.4, n_chains=3, rng=1)
    args.update(kwargs)
    with pytest.raises(InvalidParameterError) as info:
        cls(args.pop("L"), args.pop("beta"), args.pop("n_chains"), **args)
    assert str(info.value) == message


@settings(max_examples=40, deadline=None)
@given(L=st.one_of(st.integers(-5, 1), st.floats(allow_nan=True), st.text(max_size=2)),
       beta=st.one_of(st.floats(max_value=0.0), st.just(float("inf")), st.just(float("nan"))))
def test_invalid_parameters_always_raise(L, beta):
    with pytest.raises(InvalidParameterError):
        MetropolisChains(L, 0.4, 1, rng=0)
    with pytest.raises(InvalidParameterError):
        WolffChains(4, beta, 1, rng=0)


@pytest.mark.parametrize("cls", CLASSES)
def test_invalid_sweeps_and_state(cls):
    chains = cls(4, 0.4, 2, rng=1)
    with pytest.raises(InvalidParameterError, match="n_sweeps must be an integer >= 0, got -1"):
        chains.sweep(-1)
    state = chains.get_state()
    with pytest.raises(InvalidParameterError, match="beta"):
        cls(4, 0.5, 2, rng=1).set_state(state)
    with pytest.raises(InvalidParameterError, match="shape"):
        cls(6, 0.4, 2, rng=1).set_state(state)
    with pytest.raises(InvalidParameterError):
        chains.set_state({"spins": state["spins"]})


@pytest.mark.parametrize("bad", [np.zeros((2, 3, 4)), np.ones((1, 1, 1)), np.full((1, 3, 3), 2)])
def test_module_energy_rejects_bad_spins(bad):
    with pytest.raises(InvalidParameterError):
        energy(bad)
    with pytest.raises(InvalidParameterError):
        magnetization(bad)


# -- basic behaviour ------------------------------------------------------------------

@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("L", [2, 3, 8])
def test_observables_and_spins_view(cls, L):
    chains = cls(L, 0.4, 4, rng=3)
    chains.sweep(5)
    spins = chains.spins
    assert spins.shape == (4, L, L) and spins.dtype == np.int8
    assert not spins.flags.writeable
    assert np.array_equal(chains.energy(), ref.energy_magnetization(spins)[0])
    assert np.array_equal(chains.magnetization(), ref.energy_magnetization(spins)[1])
    chains.spins = -spins
    assert np.array_equal(chains.spins, -spins)
    assert np.array_equal(chains.magnetization(), -ref.energy_magnetization(spins)[1])
    up = cls(L, 0.4, 2, rng=3, start="up")
    assert np.all(up.spins == 1) and np.all(up.energy() == -2 * L * L)


@pytest.mark.parametrize("cls", CLASSES)
def test_same_seed_same_result(cls):
    runs = []
    for rng in (11, 11, np.random.default_rng(11), np.random.default_rng(11), 12):
        chains = cls(10, 0.44, 3, rng=rng)
        chains.sweep(15)
        runs.append(chains.spins)
    assert np.array_equal(runs[0], runs[1])
    assert np.array_equal(runs[2], runs[3])
    assert not np.array_equal(runs[0], runs[4])
    assert not np.array_equal(runs[0][0], runs[0][1])     # chains are independent streams


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("L", [3, 8])
def test_resume_equals_uninterrupted(cls, L, tmp_path):
    """get_state -> HDF5 -> set_state on a differently seeded object continues bit for bit."""
    import h5py
    straight = cls(L, 0.44, 3, rng=5)
    straight.sweep(30)
    first = cls(L, 0.44, 3, rng=5)
    first.sweep(12)
    with h5py.File(tmp_path / "state.h5", "w") as f:
        for k, v in first.get_state().items():
            f.create_dataset(k, data=v)
    with h5py.File(tmp_path / "state.h5", "r") as f:
        state = {k: f[k][()] for k in f}
    resumed = cls(L, 0.44, 3, rng=99)
    resumed.set_state(state)
    resumed.sweep(18)
    assert np.array_equal(resumed.spins, straight.spins)
    assert np.array_equal(resumed.energy(), straight.energy())
    assert resumed.n_sweeps == straight.n_sweeps == 30


def test_sample_generator():
    chains = MetropolisChains(6, 0.3, 2, rng=1)
    seen = []
    batches = list(chains.sample(4, thin=3, callback=lambda step, b: seen.append(step)))
    assert seen == [0, 1, 2, 3] and chains.n_sweeps == 12
    spins, e, m = batches[-1]
    assert np.array_equal(spins, chains.spins) and np.array_equal(e, chains.energy())


@pytest.mark.parametrize("T", [1.5, T_C, 3.5])
def test_wolff_sweep_equivalent_flips_about_n_spins(T):
    """clusters_per_sweep = round(N / <|C|>) >= 1, so a sweep flips N / <|C|> rounded
    times <|C|> spins on average: within [2/3, 4/3] N whenever N / <|C|> >= 1.5
    (rounding), i.e. here. 200 sweeps x 8 chains make the statistical error small."""
    L = 16
    chains = WolffChains(L, 1 / T, 8, rng=2)
    chains.sweep(200)
    per_sweep = chains.n_flipped.sum() / (8 * 200)
    assert 2 / 3 * L * L <= per_sweep <= 4 / 3 * L * L, (chains.clusters_per_sweep, per_sweep)


# -- distributions: chi-square against exact Boltzmann weights -----------------------

def _visited(chains, n_records, gap, n_equil=50):
    chains.sweep(n_equil)
    out = []
    for _ in range(n_records):
        chains.sweep(gap)
        out.append(chains.spins)
    return np.concatenate(out)


def _chi_square_p(counts, probs, min_expected=5.0):
    """p-value of Pearson's test, cells with expected count < min_expected pooled."""
    n = counts.sum()
    expected = n * probs
    small = expected < min_expected
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp).pvalue


@pytest.mark.parametrize("cls, L, T", [
    (MetropolisChains, 2, 2.0), (MetropolisChains, 3, 3.0), (MetropolisChains, 3, 2.5),
    (WolffChains, 2, 1.5), (WolffChains, 3, T_C), (WolffChains, 3, 3.0)])
def test_visited_states_follow_boltzmann(cls, L, T):
    """All 2^N states of L = 2, 3: Pearson chi-square p > 1e-3 against the exact
    weights; the same counts against the weights at 1.1 T must fail (p < 1e-6),
    which shows the test has the power to see a wrong distribution.

    4000 chains x 20 records spaced 60 Metropolis sweeps or 10 Wolff sweeps (a few
    times the slowest tau_int, that of the sign of M: ~90 random-site sweeps at
    L = 4, T_c, less here), so the records are nearly independent, as the test
    assumes.
    """
    probs, _, _ = _boltzmann(L, T)
    chains = cls(L, 1 / T, 4000, rng=100 + L)
    gap = 60 if cls is MetropolisChains else 10
    states = ref.state_index(_visited(chains, 20, gap))
    counts = np.bincount(states, minlength=2 ** (L * L))
    assert _chi_square_p(counts, probs) > 1e-3
    wrong, _, _ = _boltzmann(L, 1.1 * T)
    assert _chi_square_p(counts, wrong) < 1e-6


@pytest.mark.parametrize("cls, T", [(MetropolisChains, T_C), (MetropolisChains, 3.0),
                                    (WolffChains, T_C), (WolffChains, 1.8)])
def test_energy_magnetization_histogram_L4(cls, T):
    """L = 4 (random-site Metropolis, Wolff): joint histogram of (E, M)
    over 2000 chains x 40 records (spaced 200 Metropolis sweeps, > 2 tau_int of M
    = 89 at T_c, or 10 Wolff sweeps) vs the exact distribution from the 65536
    enumerated states; p > 1e-3, and p < 1e-6 at 1.1 T."""
    probs, e, m = _boltzmann(4, T)
    cells, inverse = np.unique(np.stack([e, m]), axis=1, return_inverse=True)
    cell_probs = np.bincount(inverse.ravel(), weights=probs, minlength=cells.shape[1])
    chains = cls(4, 1 / T, 2000, rng=7)
    spins = _visited(chains, 40, 200 if cls is MetropolisChains else 10)
    counts = np.bincount(inverse.ravel()[ref.state_index(spins)], minlength=cells.shape[1])
    assert _chi_square_p(counts, cell_probs) > 1e-3
    wrong, _, _ = _boltzmann(4, 1.1 * T)
    wrong_cells = np.bincount(inverse.ravel(), weights=wrong, minlength=cells.shape[1])
    assert _chi_square_p(counts, wrong_cells) < 1e-6


# -- physics: means within 4 sigma of exact enumeration ----------------------------

@pytest.mark.parametrize("cls, T", [(MetropolisChains, T_C), (WolffChains, T_C),
                                    (WolffChains, 1.5), (MetropolisChains, 3.0)])
def test_energy_and_abs_magnetization_L4(cls, T):
    """L = 4: per-spin <e> and <|m|> within 4 blocking standard errors of exact
    enumeration; the errors are asserted below 0.25% of the exact values, so a
    1% bias would exceed 4 sigma. 64 chains x 6000 sweeps, measured every sweep.
    """
    L, N = 4, 16
    probs, e, m = _boltzmann(L, T)
    exact_e = float(probs @ e) / N
    exact_m = float(probs @ np.abs(m)) / N
    chains = cls(L, 1 / T, 64, rng=2024)
    chains.sweep(200)
    n_steps = 6000
    E = np.empty((64, n_steps))
    M = np.empty((64, n_steps))
    for t in range(n_steps):
        chains.sweep(1)
        E[:, t] = chains.energy()
        M[:, t] = chains.magnetization()
    for series, exact in ((E / N, exact_e), (np.abs(M) / N, exact_m)):
        est = estimate(series)
        assert est.error < 0.0025 * abs(exact), (cls.__name__, T, str(est))
        assert abs(est.mean - exact) < 4 * est.error, (cls.__name__, T, str(est), exact)


# -- the checkerboard order and its closed set Z --------------------------------------

def _zero_field_states(spins):
    """Mask of configurations in which every spin has neighbour sum 0 (the set Z)."""
    s = np.asarray(spins, dtype=np.int64)
    nb = (np.roll(s, 1, 1) + np.roll(s, -1, 1) + np.roll(s, 1, 2) + np.roll(s, -1, 2))
    return np.all(nb == 0, axis=(1, 2))


def _checkerboard_run(spins, T, n_records, gap, seed):
    rng = np.random.default_rng(seed)
    packed = checkerboard_pack(spins)
    keys = rng.integers(0, 2**64, size=len(spins), dtype=np.uint64)
    counters = np.zeros(len(spins), dtype=np.uint64)
    thresholds = np.array([_threshold(math.exp(-4 / T)), _threshold(math.exp(-8 / T))],
                          dtype=np.uint64)
    kernels.metropolis_packed_chains(packed, thresholds, 50, keys, counters)
    out = []
    for _ in range(n_records):
        kernels.metropolis_packed_chains(packed, thresholds, gap, keys, counters)
        out.append(checkerboard_unpack(packed))
    return np.concatenate(out)


def test_checkerboard_closed_set_is_why_small_lattices_use_random_sites():
    """At L = 4 a checkerboard chain started in Z never leaves it (so MetropolisChains
    uses random sites for L < CHECKERBOARD_MIN_L); MetropolisChains started there
    leaves it."""
    all_spins, _, _ = ref.enumerate_lattice(4)
    in_z = _zero_field_states(all_spins)
    assert 0 < in_z.sum() <= 4**4          # |Z| <= 4^L (ising.kernels docstring)
    trapped = all_spins[in_z][:20]
    visited = _checkerboard_run(trapped, 3.0, 10, 3, seed=1)
    assert _zero_field_states(visited).all()
    assert CHECKERBOARD_MIN_L > 4
    chains = MetropolisChains(4, 1 / 3.0, 20, rng=1, spins=trapped)
    chains.sweep(20)
    assert not _zero_field_states(chains.spins).all()


@pytest.mark.parametrize("T", [T_C, 3.0])
def test_checkerboard_kernel_samples_boltzmann_outside_z(T):
    """The checkerboard kernel at L = 4, started outside Z, never visits Z and its
    (E, M) histogram matches the exact Boltzmann weights restricted to the
    complement of Z (chi-square p > 1e-3; p < 1e-6 at 1.1 T). 2000 chains x 40
    records spaced 100 sweeps (> 2 tau_int of M)."""
    all_spins, e, m = ref.enumerate_lattice(4)
    in_z = _zero_field_states(all_spins)
    rng = np.random.default_rng(3)
    start = all_spins[rng.choice(np.flatnonzero(~in_z), size=2000)]
    visited = _checkerboard_run(start, T, 40, 100, seed=4)
    assert not _zero_field_states(visited).any()
    cells, inverse = np.unique(np.stack([e, m]), axis=1, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse[ref.state_index(visited)], minlength=cells.shape[1])
    for temp, check in ((T, lambda p: p > 1e-3), (1.1 * T, lambda p: p < 1e-6)):
        probs, _, _ = _boltzmann(4, temp)
        probs = np.where(in_z, 0.0, probs)
        cell_probs = np.bincount(inverse, weights=probs / probs.sum(), minlength=cells.shape[1])
        assert check(_chi_square_p(counts, cell_probs))


@pytest.mark.parametrize("T", [T_C, 3.0])
def test_checkerboard_chains_energy_L8_against_kaufman(T):
    """L = 8 (checkerboard order): per-spin <e> within 4 blocking standard errors of
    the exact finite-torus value (Kaufman / Ferdinand-Fisher, ising.exact, itself
    tested against enumeration); error asserted < 0.25% of |e| so a 1% bias fails.
    64 chains x 8000 sweeps."""
    from ising.exact import finite_lattice
    L = 8
    assert L >= CHECKERBOARD_MIN_L
    exact_e = float(finite_lattice(L, T)["energy"])
    chains = MetropolisChains(L, 1 / T, 64, rng=88)
    chains.sweep(500)
    E = np.empty((64, 8000))
    for t in range(E.shape[1]):
        chains.sweep(1)
        E[:, t] = chains.energy()
    est = estimate(E / L**2)
    assert est.error < 0.0025 * abs(exact_e), str(est)
    assert abs(est.mean - exact_e) < 4 * est.error, (str(est), exact_e)
