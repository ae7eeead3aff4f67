"""Slow, plain-Python/NumPy references of every kernel in :mod:`ising.kernels`.

Written from the definitions (not from the kernels' code paths): natural
``(L, L)`` layout, Python integers for the 64-bit generator, explicit loops.
They consume the same random numbers in the same documented order, so a
kernel and its reference must give identical output.
"""

from __future__ import annotations

import math

import numpy as np

MASK = 2**64 - 1
GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(key: int, counter: int) -> int:
    """Output number ``counter`` (0-based) of Vigna's splitmix64.c seeded with ``key``."""
    z = (int(key) + (int(counter) + 1) * GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def threshold(p: float) -> int:
    """Integer threshold t with P(u < t) = t / 2^64 ~ p for uniform 64-bit u."""
    return min(math.floor(p * 2**64), 2**64 - 1)


def accept(beta: float, dE: int, u: int) -> bool:
    """Metropolis rule min(1, exp(-beta dE)) applied to the draw ``u``."""
    return dE <= 0 or u < threshold(math.exp(-beta * dE))


def neighbour_sum(s: np.ndarray, i: int, j: int) -> int:
    L = s.shape[0]
    return int(s[(i - 1) % L, j]) + int(s[(i + 1) % L, j]) \
        + int(s[i, (j - 1) % L]) + int(s[i, (j + 1) % L])


def _chainwise(spins, counters, update):
    """A copy of ``spins`` (n, L, L) with ``update(s, chain, counter) -> counter`` applied
    to each chain's (L, L) view in turn. Returns (new spins, new counters)."""
    spins = np.array(spins, dtype=np.int8, copy=True)
    counters = [int(c) for c in counters]
    for chain in range(spins.shape[0]):
        counters[chain] = update(spins[chain], chain, counters[chain])
    return spins, np.array(counters, dtype=np.uint64)


def metropolis_checkerboard(spins, beta, n_sweeps, keys, counters):
    """Checkerboard sweeps on natural-layout spins (even L >= 4).

    Colour 0 (i + j even) then colour 1; site (i, j) of colour c in sweep t
    draws counter ``counters + t N + c N/2 + i L/2 + j // 2``.
    Returns (new spins, new counters).
    """
    L = np.shape(spins)[1]
    N = L * L

    def update(s, chain, counter):
        for t in range(n_sweeps):
            for c in (0, 1):
                for i in range(L):
                    for j in range(L):
                        if (i + j) % 2 != c:
                            continue
                        u = splitmix64(keys[chain],
                                       counter + t * N + c * N // 2 + i * (L // 2) + j // 2)
                        dE = 2 * int(s[i, j]) * neighbour_sum(s, i, j)
                        if accept(beta, dE, u):
                            s[i, j] = -s[i, j]
        return counter + n_sweeps * N

    return _chainwise(spins, counters, update)


def metropolis_random_scan(spins, beta, n_sweeps, keys, counters):
    """Random-site Metropolis: update n draws site ``u % N`` then the acceptance draw."""
    L = np.shape(spins)[1]
    N = L * L

    def update(s, chain, c):
        for _ in range(n_sweeps * N):
            site = splitmix64(keys[chain], c) % N
            u = splitmix64(keys[chain], c + 1)
            c += 2
            i, j = divmod(site, L)
            dE = 2 * int(s[i, j]) * neighbour_sum(s, i, j)
            if accept(beta, dE, u):
                s[i, j] = -s[i, j]
        return c

    return _chainwise(spins, counters, update)


def wolff(spins, beta, n_clusters, keys, counters):
    """Wolff clusters with the kernel's documented draw order.

    Seed site ``u % N``; LIFO stack; every popped site takes the next 4
    draws, for its neighbours up, down, left, right; a neighbour with the
    cluster's old sign joins (flipped at once) if its draw is below
    ``threshold(1 - exp(-2 beta))``. Returns (spins, counters, flipped).
    """
    L = np.shape(spins)[1]
    N = L * L
    t_add = threshold(-math.expm1(-2.0 * beta))
    flipped = []

    def update(s, chain, c):
        total = 0
        for _ in range(n_clusters):
            site = splitmix64(keys[chain], c) % N
            c += 1
            i, j = divmod(site, L)
            s0 = int(s[i, j])
            s[i, j] = -s0
            stack = [(i, j)]
            total += 1
            while stack:
                i, j = stack.pop()
                for ni, nj in (((i - 1) % L, j), ((i + 1) % L, j),
                               (i, (j - 1) % L), (i, (j + 1) % L)):
                    u = splitmix64(keys[chain], c)
                    c += 1
                    if s[ni, nj] == s0 and u < t_add:
                        s[ni, nj] = -s0
                        stack.append((ni, nj))
                        total += 1
        flipped.append(total)
        return c

    spins, counters = _chainwise(spins, counters, update)
    return spins, counters, np.array(flipped)


def energy_magnetization(spins):
    """Totals E = -sum s (right + down neighbour) and M, float64 (n,) each."""
    s = np.asarray(spins, dtype=np.int64)
    e = -np.sum(s * (np.roll(s, -1, axis=2) + np.roll(s, -1, axis=1)), axis=(1, 2))
    return e.astype(np.float64), s.sum(axis=(1, 2)).astype(np.float64)


def enumerate_lattice(L: int):
    """All 2^(L*L) configurations (bit k of the index = site k row-major, 1 = up)
    with their total energies and magnetizations, by brute force."""
    N = L * L
    idx = np.arange(2**N, dtype=np.int64)
    bits = (idx[:, None] >> np.arange(N)) & 1
    spins = (2 * bits - 1).reshape(-1, L, L)
    e, m = energy_magnetization(spins)
    return spins.astype(np.int8), e, m


def state_index(spins) -> np.ndarray:
    """Index of each configuration in :func:`enumerate_lattice` order."""
    s = np.asarray(spins).reshape(len(spins), -1)
    return ((s > 0).astype(np.int64) << np.arange(s.shape[1])).sum(axis=1)
