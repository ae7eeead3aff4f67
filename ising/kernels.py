"""Numba kernels of the Ising Monte Carlo engine: random numbers, Metropolis, Wolff.

The energy and magnetization kernels are in :mod:`ising.energy_kernels` and
importable from here as well.

Conventions (k_B = J = 1, zero field, periodic L x L lattice): spins are
``int8`` in {-1, +1}; the total energy is ``E = -sum_<ij> s_i s_j`` over the
2N bonds (each site with its right and lower neighbour; for L = 2 every
neighbouring pair is joined by two bonds), the total magnetization
``M = sum_i s_i``.

Random numbers
--------------
Every random number is a *counter-based* draw: the 64-bit output of the
SplitMix64 generator (Steele, Lea & Flood 2014; Vigna's ``splitmix64.c``)
at position ``counter`` of the stream seeded with the chain's 64-bit key::

    u = mix64(key + (counter + 1) * 0x9E3779B97F4A7C15)      (mod 2^64)

so ``random_u64(key, 0), random_u64(key, 1), ...`` is exactly the sequence of
``splitmix64.c`` seeded with ``key``. A chain's RNG state is the pair
``(key, counter)``. A Metropolis sweep number ``t`` of a chain whose counter
was ``c`` draws for site ``n`` the number at counter ``c + t N + n`` (``n`` is
the site's index in the colour-packed layout, below; random-site sweeps use
two numbers per update), so each random number
is a function of (seed, chain, sweep, site) only: the order in which threads
visit sites - and therefore the number of threads - cannot change a result.
Accepting with probability ``p`` means ``u < floor(p 2^64)``, exact up to
``2^-64``.

Metropolis acceptance and ergodicity
------------------------------------
A single-spin flip with energy change dE is accepted with probability
``min(1, exp(-beta dE))``. With a fixed visiting order, the moves with
dE <= 0 are deterministic, and a checkerboard sweep maps the set Z of
configurations in which *every* spin has neighbour sum 0 (E = 0; e.g.
diagonal ++-- stripes when 4 divides L) onto itself: a chain that starts in Z
never leaves it, and (because a half-sweep flips every site of Z's colour
with certainty) no chain outside Z ever enters it. The checkerboard chain
therefore samples the Boltzmann distribution conditioned on "not in Z" (as
tests/ising/test_chains.py checks at L = 4 by chi-square).
Z is small: given rows i - 1 and i, "neighbour sum of (i, j) is 0" fixes
s(i+1, j), so rows 0 and 1 determine a state of Z and |Z| <= 4^L (36 states
at L = 4). Its Boltzmann weight is |Z| e^0 / Z_partition <= |Z| / 2^N at every
temperature (Jensen: Z_partition >= 2^N e^(-beta <E>_uniform) = 2^N), i.e.
at most 2^(2L - L^2): 0.4% at L = 4 (a visible 3x excess of E = M = 0 states
there), 4e-15 at L = 8; the same bound holds for the chance that a random
start lands in Z. So the checkerboard is used for
even L >= 8; L <= 6 and odd L use random-site Metropolis, which is ergodic
for every L (any site may flip whenever chosen; rejections make it
aperiodic).

Layouts
-------
Metropolis on even L >= 8 works on the *colour-packed* layout
``packed (n_chains, 2, L, L // 2)``: ``packed[:, c, i, k]`` is the spin at
row ``i``, column ``2 k + (i + c) % 2`` (colour ``c = 0`` "black" holds the
sites with ``i + j`` even). Both colours are stored contiguously, so one row of
one colour is updated by a vectorizable loop (Metropolis on a checkerboard:
sites of one colour have no bonds between them, so all of them may be updated
at once). L <= 6 and odd L (no checkerboard on a torus with odd L) use
random-site Metropolis on the natural ``(n_chains, L, L)`` layout.
Wolff works on the natural layout.

All kernels here trust their inputs (shapes, dtypes, contiguity); validation
is done by :mod:`ising.chains`.

References
----------
G. L. Steele, D. Lea, C. H. Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014; U. Wolff, Phys. Rev. Lett. 62, 361 (1989);
J. K. Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011
(counter-based generators).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from mccore.parallel import select_threading_layer  # re-exported: its home was here

from .energy_kernels import (
    energy_magnetization,
    energy_magnetization_packed,
    energy_magnetization_packed_serial,
    energy_magnetization_serial,
)

__all__ = [
    "energy_magnetization",
    "energy_magnetization_packed",
    "energy_magnetization_packed_serial",
    "energy_magnetization_serial",
    "metropolis_packed_chains",
    "metropolis_packed_rows",
    "metropolis_packed_serial",
    "metropolis_random_scan",
    "metropolis_random_scan_serial",
    "random_block",
    "random_u64",
    "select_threading_layer",
    "wolff_clusters",
    "wolff_clusters_serial",
    "wolff_until",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_ONE = np.uint64(1)


@njit(cache=True)
def _mix64(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def random_u64(key, counter):
    """The SplitMix64 output number ``counter`` (0-based) of the stream ``key``.

    Parameters
    ----------
    key, counter : uint64

    Returns
    -------
    uint64
    """
    return _mix64(key + (counter + _ONE) * _GOLDEN)


@njit(cache=True)
def random_block(key, counter, out):
    """Fill ``out`` (uint64, (n,)) with draws ``counter, counter + 1, ...`` of ``key``."""
    for n in range(out.shape[0]):
        out[n] = random_u64(key, counter + np.uint64(n))


@njit(cache=True)
def _row_update(S, O, i, c, t4, t8, key, base):
    """Metropolis update of row ``i`` of colour ``c`` of one chain (packed layout).

    ``S = packed[chain, c]`` (mutated) and ``O = packed[chain, 1 - c]``, int8
    (L, H) with H = L // 2 >= 2. ``base`` is the counter of site 0 of this
    sweep; site (c, i, k) draws counter ``base + c N/2 + i H + k``. ``t4`` and
    ``t8`` are the uint64 acceptance thresholds of energy changes +4 and +8.
    The column loops are written without wrap-around so that they vectorize;
    the one wrapping column per row is done apart.
    """
    L = S.shape[0]
    H = S.shape[1]
    up = i - 1 if i > 0 else L - 1
    down = i + 1 if i < L - 1 else 0
    # counter of the row's first site, with the "+ 1" of random_u64 folded in
    start = base + np.uint64(c * (L * H) + i * H) + _ONE
    if (i + c) % 2 == 0:
        # site (i, k) sits at column 2k: horizontal neighbours O[i, k-1], O[i, k]
        for k in range(1, H):
            nb = np.int32(O[up, np.uintp(k)]) + np.int32(O[down, np.uintp(k)]) \
                + np.int32(O[i, np.uintp(k - 1)]) + np.int32(O[i, np.uintp(k)])
            s = np.int32(S[i, np.uintp(k)])
            x = s * nb
            u = _mix64(key + (start + np.uint64(k)) * _GOLDEN)
            thr = t4 if x == 2 else t8
            flip = (x <= 0) | (u < thr)
            S[i, np.uintp(k)] = np.int8(-s) if flip else np.int8(s)
        k = 0
    else:
        # site (i, k) sits at column 2k + 1: horizontal neighbours O[i, k], O[i, k+1]
        for k in range(H - 1):
            nb = np.int32(O[up, np.uintp(k)]) + np.int32(O[down, np.uintp(k)]) \
                + np.int32(O[i, np.uintp(k)]) + np.int32(O[i, np.uintp(k + 1)])
            s = np.int32(S[i, np.uintp(k)])
            x = s * nb
            u = _mix64(key + (start + np.uint64(k)) * _GOLDEN)
            thr = t4 if x == 2 else t8
            flip = (x <= 0) | (u < thr)
            S[i, np.uintp(k)] = np.int8(-s) if flip else np.int8(s)
        k = H - 1
    # the wrapping column: its horizontal neighbours are O[i, 0] and O[i, H - 1]
    nb = np.int32(O[up, k]) + np.int32(O[down, k]) + np.int32(O[i, 0]) + np.int32(O[i, H - 1])
    s = np.int32(S[i, k])
    x = s * nb
    u = _mix64(key + (start + np.uint64(k)) * _GOLDEN)
    thr = t4 if x == 2 else t8
    if x <= 0 or u < thr:
        S[i, k] = np.int8(-s)


@njit(cache=True)
def _half_sweep(S2, O2, c, t4, t8, key, base, row_parity, saved):
    """Metropolis update of all sites of colour ``c`` of one chain (L >= 4).

    ``S2 = packed[chain, c]`` (mutated), ``O2 = packed[chain, 1 - c]``, int8
    (L, H). Rows 1 .. L-2 run as ONE flat loop over ``f = i H + k`` (long
    enough to vectorize fully even for small L): vertical neighbours at
    ``f -+ H``, horizontal at ``f`` and ``f - 1`` or ``f + 1`` by the row's
    parity (``row_parity``, uint8 (L H,): ``(f // H) % 2``). The flat loop is
    wrong only at each row's wrapping column, whose old spins are kept in
    ``saved`` (int8 (L,)) and which are redone afterwards with the same draw;
    rows 0 and L-1 go through :func:`_row_update`. Same result as
    :func:`_row_update` on every row.
    """
    L = S2.shape[0]
    H = S2.shape[1]
    S = S2.reshape(L * H)
    O = O2.reshape(L * H)
    start = base + np.uint64(c * (L * H)) + _ONE
    for i in range(1, L - 1):
        k = 0 if (i + c) % 2 == 0 else H - 1
        saved[i] = S[i * H + k]
    cc = np.uint8(c)
    # unsigned indices: numba then emits no negative-index wrap-around code,
    # which would otherwise stop LLVM from vectorizing this loop
    for f in range(H, (L - 1) * H):
        odd = np.int32(row_parity[np.uintp(f)] ^ cc)
        left = np.int32(O[np.uintp(f - 1)])
        right = np.int32(O[np.uintp(f + 1)])
        side = left + odd * (right - left)
        nb = np.int32(O[np.uintp(f - H)]) + np.int32(O[np.uintp(f + H)]) \
            + np.int32(O[np.uintp(f)]) + side
        s = np.int32(S[np.uintp(f)])
        x = s * nb
        u = _mix64(key + (start + np.uint64(f)) * _GOLDEN)
        thr = t4 if x == 2 else t8
        flip = (x <= 0) | (u < thr)
        S[np.uintp(f)] = np.int8(-s) if flip else np.int8(s)
    for i in range(1, L - 1):
        k = 0 if (i + c) % 2 == 0 else H - 1
        f = i * H + k
        nb = np.int32(O[f - H]) + np.int32(O[f + H]) + np.int32(O[i * H]) \
            + np.int32(O[i * H + H - 1])
        s = np.int32(saved[i])
        x = s * nb
        u = _mix64(key + (start + np.uint64(f)) * _GOLDEN)
        thr = t4 if x == 2 else t8
        if x <= 0 or u < thr:
            S[f] = np.int8(-s)
        else:
            S[f] = np.int8(s)
    _row_update(S2, O2, 0, c, t4, t8, key, base)
    _row_update(S2, O2, L - 1, c, t4, t8, key, base)


@njit(cache=True, parallel=True)
def metropolis_packed_chains(packed, thresholds, n_sweeps, rng_key, rng_counter):
    """Checkerboard Metropolis sweeps, threads over chains (many chains).

    Parameters
    ----------
    packed : int8 (n_chains, 2, L, L // 2), mutated
        Colour-packed spins (module docstring), even L >= 4.
    thresholds : uint64 (2,)
        Acceptance thresholds ``floor(exp(-beta dE) 2^64)`` of the energy
        changes +4 and +8; dE <= 0 is always accepted.
    n_sweeps : int
        Sweeps to do; one sweep = colour 0 then colour 1, every site once.
    rng_key : uint64 (n_chains,)
    rng_counter : uint64 (n_chains,), mutated
        Advanced by ``n_sweeps * L * L``.

    Notes
    -----
    Gives bit-for-bit the result of :func:`metropolis_packed_rows`.
    """
    n_chains = packed.shape[0]
    # by-design twin of metropolis_packed_serial (this one parallel over chains)
    t4 = thresholds[0]
    t8 = thresholds[1]
    row_parity = _row_parity(packed.shape[2], packed.shape[3])
    for chain in prange(n_chains):
        _metropolis_chain(packed, chain, t4, t8, n_sweeps, rng_key, rng_counter, row_parity)


@njit(cache=True)
def metropolis_packed_serial(packed, thresholds, n_sweeps, rng_key, rng_counter):
    """:func:`metropolis_packed_chains` in the calling thread (no parallel launch,
    for small work; same result)."""
    n_chains = packed.shape[0]
    # by-design twin of metropolis_packed_chains (this one in the calling thread)
    t4 = thresholds[0]
    t8 = thresholds[1]
    row_parity = _row_parity(packed.shape[2], packed.shape[3])
    for chain in range(n_chains):
        _metropolis_chain(packed, chain, t4, t8, n_sweeps, rng_key, rng_counter, row_parity)


@njit(cache=True)
def _row_parity(L, H):
    row_parity = np.empty(L * H, dtype=np.uint8)
    for f in range(L * H):
        row_parity[f] = (f // H) % 2
    return row_parity


@njit(cache=True)
def _metropolis_chain(packed, chain, t4, t8, n_sweeps, rng_key, rng_counter, row_parity):
    L = packed.shape[2]
    N = np.uint64(L * L)
    key = rng_key[chain]
    base = rng_counter[chain]
    black = packed[chain, 0]
    white = packed[chain, 1]
    saved = np.empty(L, dtype=np.int8)
    for _ in range(n_sweeps):
        _half_sweep(black, white, 0, t4, t8, key, base, row_parity, saved)
        _half_sweep(white, black, 1, t4, t8, key, base, row_parity, saved)
        base += N
    rng_counter[chain] = base


@njit(cache=True, parallel=True)
def _half_sweep_rows(packed, c, t4, t8, rng_key, base):
    n_chains = packed.shape[0]
    L = packed.shape[2]
    for r in prange(n_chains * L):
        chain = r // L
        i = r - chain * L
        _row_update(packed[chain, c], packed[chain, 1 - c], i, c, t4, t8, rng_key[chain],
                    base[chain])


@njit(cache=True)
def metropolis_packed_rows(packed, thresholds, n_sweeps, rng_key, rng_counter):
    """Checkerboard Metropolis sweeps, threads over the rows of one colour.

    For few chains on large lattices: every half-sweep (one colour) is one
    parallel loop over (chain, row). Same arguments and bit-for-bit the same
    result as :func:`metropolis_packed_chains`.
    """
    n_chains = packed.shape[0]
    L = packed.shape[2]
    N = np.uint64(L * L)
    t4 = thresholds[0]
    t8 = thresholds[1]
    for _ in range(n_sweeps):
        for c in range(2):
            _half_sweep_rows(packed, c, t4, t8, rng_key, rng_counter)
        for chain in range(n_chains):
            rng_counter[chain] += N


@njit(cache=True, parallel=True)
def metropolis_random_scan(spins, thresholds, n_sweeps, rng_key, rng_counter):
    """Random-site Metropolis sweeps (any L; used for L <= 6 and odd L).

    Parameters
    ----------
    spins : int8 (n_chains, L, L), mutated
    thresholds : uint64 (2,)
        As in :func:`metropolis_packed_chains`.
    n_sweeps : int
        Sweeps of N = L*L single-site updates each.
    rng_key : uint64 (n_chains,)
    rng_counter : uint64 (n_chains,), mutated
        Update n of sweep t of a chain at counter c draws the site
        ``u % N`` from counter ``c + 2 (t N + n)`` and its acceptance draw
        from the next counter; advanced by ``2 N n_sweeps``.

    Notes
    -----
    On tiny lattices a fixed visiting order with the always-accepted moves of
    Metropolis (dE <= 0) is not ergodic (module docstring), so sites are
    chosen at random there.
    """
    for chain in prange(spins.shape[0]):
        _random_scan_chain(spins, chain, thresholds[0], thresholds[1], n_sweeps, rng_key,
                           rng_counter)


@njit(cache=True)
def metropolis_random_scan_serial(spins, thresholds, n_sweeps, rng_key, rng_counter):
    """:func:`metropolis_random_scan` in the calling thread (same result)."""
    for chain in range(spins.shape[0]):
        _random_scan_chain(spins, chain, thresholds[0], thresholds[1], n_sweeps, rng_key,
                           rng_counter)


@njit(cache=True)
def _random_scan_chain(spins, chain, t4, t8, n_sweeps, rng_key, rng_counter):
    L = spins.shape[1]
    N = L * L
    key = rng_key[chain]
    counter = rng_counter[chain]
    for _ in range(n_sweeps * N):
        site = np.int64(random_u64(key, counter) % np.uint64(N))
        u = random_u64(key, counter + _ONE)
        counter += np.uint64(2)
        i = site // L
        j = site - i * L
        up = i - 1 if i > 0 else L - 1
        down = i + 1 if i < L - 1 else 0
        left = j - 1 if j > 0 else L - 1
        right = j + 1 if j < L - 1 else 0
        nb = np.int32(spins[chain, up, j]) + np.int32(spins[chain, down, j]) \
            + np.int32(spins[chain, i, left]) + np.int32(spins[chain, i, right])
        s = np.int32(spins[chain, i, j])
        x = s * nb
        thr = t4 if x == 2 else t8
        if x <= 0 or u < thr:
            spins[chain, i, j] = np.int8(-s)
    rng_counter[chain] = counter


@njit(cache=True)
def _try_join(s, ni, nj, s0, threshold, key, draw, stack, top):
    """Bond test to neighbour (ni, nj) with draw number ``draw``; returns new top.

    Branch-free: the neighbour joins (is flipped and pushed) iff it still has
    the cluster's old sign ``s0`` and ``u < threshold``; the push is written
    always and kept by advancing ``top`` only on a join.
    """
    u = random_u64(key, draw)
    current = s[np.uintp(ni), np.uintp(nj)]
    join = (current == s0) & (u < threshold)
    s[np.uintp(ni), np.uintp(nj)] = -s0 if join else current
    stack[top] = (np.int64(ni) << 32) | np.int64(nj)
    return top + np.int64(join)


@njit(cache=True)
def _wolff_one(s, threshold, key, counter, stack):
    """One Wolff cluster of one chain; returns (cluster size, new counter).

    ``s`` int8 (L, L) is the chain's spins (mutated), ``stack`` int64 (L*L,)
    work space holding ``(i << 32) | j``. Draw order: the seed site is
    ``u % N`` of the next draw (row-major index); the stack is LIFO; every
    popped site consumes the next 4 draws, one per neighbour in the order up,
    down, left, right, and a neighbour joins (and is flipped at once) if its
    spin still equals the cluster's old sign and its draw is below
    ``threshold``. Drawing for all 4 neighbours, used or not, keeps the loop
    free of unpredictable branches (4x faster than drawing only for aligned
    neighbours). For L = 2 a neighbour reached through two bonds is tried
    twice, as it must be.
    """
    L = s.shape[0]
    N = L * L
    u = random_u64(key, counter)
    counter += _ONE
    site = np.int64(u % np.uint64(N))
    i0 = site // L
    j0 = site - i0 * L
    s0 = s[i0, j0]
    s[i0, j0] = -s0
    stack[0] = (i0 << 32) | j0
    top = 1
    size = 1
    low = np.int64(0xFFFFFFFF)
    while top > 0:
        top -= 1
        v = stack[top]
        i = v >> 32
        j = v & low
        before = top
        up = i - 1 if i > 0 else L - 1
        down = i + 1 if i < L - 1 else 0
        left = j - 1 if j > 0 else L - 1
        right = j + 1 if j < L - 1 else 0
        top = _try_join(s, up, j, s0, threshold, key, counter, stack, top)
        top = _try_join(s, down, j, s0, threshold, key, counter + _ONE, stack, top)
        top = _try_join(s, i, left, s0, threshold, key, counter + np.uint64(2), stack, top)
        top = _try_join(s, i, right, s0, threshold, key, counter + np.uint64(3), stack, top)
        counter += np.uint64(4)
        size += top - before
    return size, counter


@njit(cache=True, parallel=True)
def wolff_clusters(spins, threshold, n_clusters, rng_key, rng_counter, stack, out_flipped):
    """``n_clusters`` Wolff single-cluster updates of every chain.

    Parameters
    ----------
    spins : int8 (n_chains, L, L), mutated
    threshold : uint64
        ``floor(p_add 2^64)``, ``p_add = 1 - exp(-2 beta)``.
    n_clusters : int
        Cluster updates per chain.
    rng_key : uint64 (n_chains,)
    rng_counter : uint64 (n_chains,), mutated
        Advanced by the number of draws made (see :func:`_wolff_one`).
    stack : int64 (n_chains, L * L)
        Work space.
    out_flipped : int64 (n_chains,), written
        Spins flipped per chain (sum of the cluster sizes).
    """
    for chain in prange(spins.shape[0]):
        _wolff_chain(spins, chain, threshold, n_clusters, rng_key, rng_counter, stack,
                     out_flipped)


@njit(cache=True)
def wolff_clusters_serial(spins, threshold, n_clusters, rng_key, rng_counter, stack,
                          out_flipped):
    """:func:`wolff_clusters` in the calling thread (same result)."""
    for chain in range(spins.shape[0]):
        _wolff_chain(spins, chain, threshold, n_clusters, rng_key, rng_counter, stack,
                     out_flipped)


@njit(cache=True)
def _wolff_chain(spins, chain, threshold, n_clusters, rng_key, rng_counter, stack,
                 out_flipped):
    key = rng_key[chain]
    counter = rng_counter[chain]
    flipped = 0
    s = spins[chain]
    work = stack[chain]
    for _ in range(n_clusters):
        size, counter = _wolff_one(s, threshold, key, counter, work)
        flipped += size
    rng_counter[chain] = counter
    out_flipped[chain] = flipped


@njit(cache=True, parallel=True)
def wolff_until(spins, threshold, n_flips, rng_key, rng_counter, stack, out_clusters,
                out_flipped):
    """Wolff cluster updates of every chain until >= ``n_flips`` spins flipped.

    Same arguments as :func:`wolff_clusters` except ``n_flips`` (int) and
    ``out_clusters`` (int64 (n_chains,), written: the clusters made).
    Used to calibrate the clusters per sweep-equivalent.
    """
    n_chains = spins.shape[0]
    for chain in prange(n_chains):
        key = rng_key[chain]
        counter = rng_counter[chain]
        flipped = 0
        clusters = 0
        s = spins[chain]
        work = stack[chain]
        while flipped < n_flips:
            size, counter = _wolff_one(s, threshold, key, counter, work)
            flipped += size
            clusters += 1
        rng_counter[chain] = counter
        out_flipped[chain] = flipped
        out_clusters[chain] = clusters
