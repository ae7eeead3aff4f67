"""ising.kernels against slow references fed the same random numbers; properties.

Every kernel must reproduce its plain-Python reference (tests/ising/reference.py)
exactly; the thread decomposition must not change a single bit; the energy
must have the symmetries of the Hamiltonian.
"""

import importlib.util
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ising import kernels
from ising.chains import _threshold, energy, magnetization
from ising.lattice import (checkerboard_colour, checkerboard_pack, checkerboard_unpack,
                           neighbour_table)

_spec = importlib.util.spec_from_file_location(
    "ising_kernel_reference", Path(__file__).with_name("reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def _random_spins(rng, n, L):
    return (2 * rng.integers(0, 2, size=(n, L, L)) - 1).astype(np.int8)


def _keys(rng, n):
    return rng.integers(0, 2**64, size=n, dtype=np.uint64)


def _thresholds(beta):
    return np.array([_threshold(np.exp(-4 * beta)), _threshold(np.exp(-8 * beta))],
                    dtype=np.uint64)


# -- random numbers ----------------------------------------------------------

def test_splitmix64_published_value():
    """splitmix64.c seeded with 0 first outputs 0xE220A8397B1DCDAF (Vigna)."""
    assert int(kernels.random_u64(np.uint64(0), np.uint64(0))) == 0xE220A8397B1DCDAF
    assert ref.splitmix64(0, 0) == 0xE220A8397B1DCDAF


def test_random_u64_matches_reference(rng):
    keys = _keys(rng, 20)
    counters = rng.integers(0, 2**64, size=20, dtype=np.uint64)
    for key, counter in zip(keys, counters):
        assert int(kernels.random_u64(key, counter)) == ref.splitmix64(int(key), int(counter))
    out = np.empty(50, dtype=np.uint64)
    kernels.random_block(keys[0], np.uint64(2**64 - 10), out)   # wraps around 2^64
    assert [int(x) for x in out] == [ref.splitmix64(int(keys[0]), (2**64 - 10 + k) % 2**64)
                                     for k in range(50)]


def test_random_u64_is_uniform(rng):
    """Top 4 bits of 2^16 consecutive draws: chi-square over 16 cells, 15 dof.

    99.99% quantile of chi2(15) is 45.3; a biased generator fails.
    """
    out = np.empty(2**16, dtype=np.uint64)
    kernels.random_block(np.uint64(12345), np.uint64(0), out)
    counts = np.bincount((out >> np.uint64(60)).astype(np.int64), minlength=16)
    expected = len(out) / 16
    assert np.sum((counts - expected) ** 2 / expected) < 45.3


# -- lattice helpers ---------------------------------------------------------

@pytest.mark.parametrize("L", [2, 3, 4, 6])
def test_neighbour_table(L):
    table = neighbour_table(L)
    for site in range(L * L):
        i, j = divmod(site, L)
        assert list(table[site]) == [((i - 1) % L) * L + j, ((i + 1) % L) * L + j,
                                     i * L + (j - 1) % L, i * L + (j + 1) % L]


@pytest.mark.parametrize("L", [2, 4, 6, 8])
def test_checkerboard_pack_round_trip_and_layout(rng, L):
    spins = _random_spins(rng, 3, L)
    packed = checkerboard_pack(spins)
    assert np.array_equal(checkerboard_unpack(packed), spins)
    colour = checkerboard_colour(L)
    for c in (0, 1):
        for i in range(L):
            for k in range(L // 2):
                j = 2 * k + (i + c) % 2
                assert colour[i, j] == c
                assert np.array_equal(packed[:, c, i, k], spins[:, i, j])


# -- Metropolis ------------------------------------------------------------------

@pytest.mark.parametrize("L, beta", [(4, 0.3), (6, 0.44), (8, 1.0), (4, 2.0)])
def test_checkerboard_kernels_equal_reference(rng, L, beta):
    """Both thread decompositions == the natural-layout reference, bit for bit."""
    spins = _random_spins(rng, 3, L)
    keys = _keys(rng, 3)
    counters = rng.integers(0, 2**40, size=3, dtype=np.uint64)
    want, want_counters = ref.metropolis_checkerboard(spins, beta, 3, keys, counters)
    assert not np.array_equal(want, spins)
    for kernel in (kernels.metropolis_packed_chains, kernels.metropolis_packed_rows,
                   kernels.metropolis_packed_serial):
        packed = checkerboard_pack(spins)
        c = counters.copy()
        kernel(packed, _thresholds(beta), 3, keys, c)
        assert np.array_equal(checkerboard_unpack(packed), want), kernel.__name__
        assert np.array_equal(c, want_counters)


@pytest.mark.parametrize("L, beta", [(2, 0.4), (3, 0.3), (5, 0.6)])
def test_random_scan_kernel_equals_reference(rng, L, beta):
    spins = _random_spins(rng, 3, L)
    keys = _keys(rng, 3)
    counters = np.zeros(3, dtype=np.uint64)
    want, want_counters = ref.metropolis_random_scan(spins, beta, 4, keys, counters)
    for kernel in (kernels.metropolis_random_scan, kernels.metropolis_random_scan_serial):
        got = spins.copy()
        c = counters.copy()
        kernel(got, _thresholds(beta), 4, keys, c)
        assert np.array_equal(got, want), kernel.__name__
        assert np.array_equal(c, want_counters)


# -- Wolff -------------------------------------------------------------------------

@pytest.mark.parametrize("L, beta", [(2, 0.5), (3, 0.3), (4, 0.44), (8, 0.6)])
def test_wolff_kernel_equals_reference(rng, L, beta):
    spins = _random_spins(rng, 3, L)
    keys = _keys(rng, 3)
    counters = np.zeros(3, dtype=np.uint64)
    want, want_counters, want_flipped = ref.wolff(spins, beta, 7, keys, counters)
    for kernel in (kernels.wolff_clusters, kernels.wolff_clusters_serial):
        got = spins.copy()
        c = counters.copy()
        flipped = np.zeros(3, dtype=np.int64)
        stack = np.empty((3, L * L), dtype=np.int64)
        kernel(got, _threshold(-np.expm1(-2 * beta)), 7, keys, c, stack, flipped)
        assert np.array_equal(got, want), kernel.__name__
        assert np.array_equal(c, want_counters)
        assert np.array_equal(flipped, want_flipped)


def test_wolff_until_stops_at_first_crossing(rng):
    L, beta = 6, 0.4
    spins = _random_spins(rng, 4, L)
    keys = _keys(rng, 4)
    counters = np.zeros(4, dtype=np.uint64)
    clusters = np.zeros(4, dtype=np.int64)
    flipped = np.zeros(4, dtype=np.int64)
    stack = np.empty((4, L * L), dtype=np.int64)
    got = spins.copy()
    kernels.wolff_until(got, _threshold(-np.expm1(-2 * beta)), 3 * L * L, keys, counters,
                        stack, clusters, flipped)
    for chain in range(4):
        # the same clusters one at a time: the count must first reach 3N at the last one
        s = spins[chain:chain + 1]
        c = np.zeros(1, dtype=np.uint64)
        total = 0
        for k in range(clusters[chain]):
            assert total < 3 * L * L
            s, c, f = ref.wolff(s, beta, 1, keys[chain:chain + 1], c)
            total += int(f[0])
        assert total == flipped[chain] >= 3 * L * L
        assert np.array_equal(s[0], got[chain])


# -- energy / magnetization ------------------------------------------------------

@pytest.mark.parametrize("L", [2, 3, 4, 5, 8])
def test_energy_kernels_equal_reference(rng, L):
    spins = _random_spins(rng, 6, L)
    want_e, want_m = ref.energy_magnetization(spins)
    for kernel in (kernels.energy_magnetization, kernels.energy_magnetization_serial):
        e = np.full(6, np.nan)
        m = np.full(6, np.nan)
        kernel(spins, e, m)
        assert np.array_equal(e, want_e) and np.array_equal(m, want_m)
    if L % 2 == 0:
        for kernel in (kernels.energy_magnetization_packed,
                       kernels.energy_magnetization_packed_serial):
            e = np.full(6, np.nan)
            m = np.full(6, np.nan)
            kernel(checkerboard_pack(spins), e, m)
            assert np.array_equal(e, want_e) and np.array_equal(m, want_m)


def test_energy_of_known_states():
    """All up: E = -2N; checkerboard (even L): E = +2N; L = 2 double bonds."""
    for L in (2, 4, 6):
        N = L * L
        up = np.ones((1, L, L), dtype=np.int8)
        assert energy(up)[0] == -2 * N and magnetization(up)[0] == N
        stagger = np.where(checkerboard_colour(L) == 0, 1, -1).astype(np.int8)[None]
        assert energy(stagger)[0] == 2 * N and magnetization(stagger)[0] == 0
    # L = 2, one spin down: its 4 bonds (two to each neighbour) are broken: E = -8 + 8
    s = np.ones((1, 2, 2), dtype=np.int8)
    s[0, 0, 0] = -1
    assert energy(s)[0] == 0


@st.composite
def _configs(draw):
    L = draw(st.integers(2, 9))
    bits = draw(st.lists(st.booleans(), min_size=L * L, max_size=L * L))
    return np.where(np.array(bits).reshape(1, L, L), 1, -1).astype(np.int8)


@settings(max_examples=60, deadline=None)
@given(_configs(), st.integers(0, 8), st.integers(0, 8))
def test_energy_symmetries(spins, di, dj):
    """E invariant under global flip and translations, in [-2N, 2N]; M odd."""
    L = spins.shape[1]
    N = L * L
    e = energy(spins)[0]
    assert -2 * N <= e <= 2 * N
    assert energy(-spins)[0] == e
    assert energy(np.roll(spins, (di, dj), axis=(1, 2)))[0] == e
    assert energy(np.transpose(spins, (0, 2, 1)))[0] == e
    assert magnetization(-spins)[0] == -magnetization(spins)[0]
    assert (e - 2 * N) % 4 == 0                # each broken bond raises E by 2, in pairs


# -- threads -----------------------------------------------------------------------

@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
@pytest.mark.parametrize("n_chains", [1, 3])
def test_one_and_two_threads_identical(rng, n_chains):
    from ising.chains import MetropolisChains, WolffChains
    results = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            out = []
            # 20 sweeps x 3 x 96^2 > _PARALLEL_MIN_WORK: the threaded kernels run;
            # L = 512 with one chain splits each half-sweep's rows over the threads
            for cls, L in ((MetropolisChains, 96), (MetropolisChains, 5), (WolffChains, 96),
                           (MetropolisChains, 512)):
                chains = cls(L, 0.42, n_chains, rng=7)
                chains.sweep(20)
                out.append(chains.spins.copy())
            results.append(out)
    finally:
        numba.set_num_threads(previous)
    for a, b in zip(*results):
        assert np.array_equal(a, b)
