"""Per-walker random streams of the VMC kernels: xoshiro256** in numba (both physics).

Every walker (trap) or chain (spins) owns a stream ``rng_state[w]`` (4
uint64 words, mutated in place), spawned from the sampler's seed by the
walker's *global* index (:func:`seed_states`), so a result depends on the
seed only, never on the number of numba threads or MPI ranks. Uniforms take
the top 53 bits; normal variates come from the Box-Muller transform.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["seed_states", "uniform", "normal_pair", "uniform_draws"]

_TWO_PI = 2.0 * math.pi


@njit(cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True)
def _next_u64(s):
    """xoshiro256** step on ``s`` (4,) uint64 (mutated); returns a uint64."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True)
def uniform(s):
    """Uniform float64 in [0, 1) from the top 53 bits."""
    return float(_next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def normal_pair(s):
    """Two independent standard normals (Box-Muller)."""
    u1 = 1.0 - uniform(s)  # (0, 1]
    u2 = uniform(s)
    r = math.sqrt(-2.0 * math.log(u1))
    return r * math.cos(_TWO_PI * u2), r * math.sin(_TWO_PI * u2)


def seed_states(seed_sequence: np.random.SeedSequence, n_walkers: int) -> np.ndarray:
    """Independent xoshiro256** states, one per walker.

    Parameters
    ----------
    seed_sequence : numpy.random.SeedSequence
        Parent; walker ``w`` uses its ``w``-th spawned child, so a walker's
        stream depends on its index, not on how walkers are split over
        threads or MPI ranks.
    n_walkers : int

    Returns
    -------
    ndarray (n_walkers, 4) uint64
    """
    children = seed_sequence.spawn(n_walkers)
    out = np.empty((n_walkers, 4), dtype=np.uint64)
    for w, child in enumerate(children):
        state = child.generate_state(4, np.uint64)
        if not state.any():  # pragma: no cover - probability 2^-256
            state[0] = 1
        out[w] = state
    return out


@njit(cache=True)
def uniform_draws(rng_state, n, out):
    """Fill ``out`` (n,) float64 with uniforms of stream ``rng_state`` (4,) uint64 (mutated).

    Used by the tests to replay a walker's random numbers in NumPy.
    """
    for k in range(n):
        out[k] = uniform(rng_state)
