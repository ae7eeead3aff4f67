"""Data of the GAN tests: independent Ising configurations made by a
plain NumPy checkerboard Metropolis sampler written here, so that the GAN
tests depend neither on ``ising`` nor on numba.

Every configuration is the final state of its own chain (no autocorrelation
between configurations), after ``n_sweeps`` sweeps; at T = 1.5 chains start
all up and half of them are then flipped globally (the exact Z2 symmetry of
the zero-field model), at higher T they start from random spins.
"""

import numpy as np

#: Tiny networks for the contract tests on 4 x 4 lattices (properties that hold
#: whatever the training quality).
TINY = {"latent_dim": 4, "noise_channels": 1, "channels": 4, "n_layers": 2, "batch_size": 16}


def random_spins(n: int, L: int = 4, seed: int = 5) -> np.ndarray:
    """``n`` configurations of independent uniformly random spins, (n, L, L) int8."""
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, L, L))


def metropolis_spins(L: int, T: float, n: int, *, seed: int, n_sweeps: int = 200) -> np.ndarray:
    """``n`` independent equilibrium configurations (n, L, L) int8 (k_B = J = 1).

    Checkerboard Metropolis on the periodic L x L lattice with acceptance
    min(1, exp(-dE / T)), dE = 2 s_i sum_j s_j; ``n`` chains in parallel.
    """
    rng = np.random.default_rng(seed)
    if T < 2.269:
        s = np.ones((n, L, L), dtype=np.int8)
    else:
        s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, L, L))
    i, j = np.indices((L, L))
    colours = [((i + j) % 2) == c for c in (0, 1)]
    accept_table = {d: np.exp(-d / T) for d in (4, 8)}
    for _ in range(n_sweeps):
        for colour in colours:
            nb = (np.roll(s, 1, 1) + np.roll(s, -1, 1) + np.roll(s, 1, 2)
                  + np.roll(s, -1, 2)).astype(np.int16)
            dE = 2 * s * nb
            p = np.where(dE <= 0, 1.0, np.where(dE == 4, accept_table[4], accept_table[8]))
            flip = (rng.random(s.shape) < p) & colour
            s[flip] *= -1
    if T < 2.269:
        s *= np.where(rng.random(n) < 0.5, -1, 1).astype(np.int8)[:, None, None]
    return s


def energy_per_spin(spins: np.ndarray) -> np.ndarray:
    """e = -(1/N) sum over the 2N bonds (right and lower neighbour) of s_i s_j."""
    s = spins.astype(np.int64)
    bonds = s * np.roll(s, -1, 1) + s * np.roll(s, -1, 2)
    return -bonds.sum(axis=(1, 2)) / s[0].size


def abs_magnetization_per_spin(spins: np.ndarray) -> np.ndarray:
    """|m| = |sum_i s_i| / N."""
    return np.abs(spins.astype(np.int64).sum(axis=(1, 2))) / spins[0].size
