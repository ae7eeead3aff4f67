"""Exact L x L Ising distribution by brute-force enumeration (test helper).

Written independently of ``ising.exact`` so that the RBM tests check against
a second implementation: state index ``i`` <-> spins with bit ``k`` of ``i``
= site ``k`` (row-major), spin ``+1`` if the bit is set, i.e. visible unit
``v_k = (s_k + 1) / 2`` = bit ``k``. Energy ``E = -sum`` over the ``2N``
bonds (each site with its right and lower neighbour, periodic), J = k_B = 1.
"""

from __future__ import annotations

import numpy as np

__all__ = ["all_states", "ising_energies", "boltzmann", "exact_observables", "model_kl",
           "draw_samples"]


def all_states(n: int) -> np.ndarray:
    """All ``2^n`` {0,1} states, row ``i`` = bits of ``i`` (uint8)."""
    idx = np.arange(1 << n, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n)) & 1).astype(np.uint8)


def ising_energies(L: int) -> tuple[np.ndarray, np.ndarray]:
    """Total energy and magnetization of every state, by explicit bond loops."""
    v = all_states(L * L)
    s = (2 * v.astype(np.int64) - 1).reshape(-1, L, L)
    energy = np.zeros(s.shape[0])
    for r in range(L):
        for c in range(L):
            energy -= s[:, r, c] * s[:, r, (c + 1) % L]
            energy -= s[:, r, c] * s[:, (r + 1) % L, c]
    return energy, s.reshape(s.shape[0], -1).sum(axis=1).astype(np.float64)


def boltzmann(L: int, T: float) -> np.ndarray:
    """Exact Boltzmann probabilities of the ``2^(L*L)`` states."""
    energy, _ = ising_energies(L)
    logw = -energy / T
    logw -= logw.max()
    p = np.exp(logw)
    return p / p.sum()


def exact_observables(L: int, T: float) -> dict:
    """Exact per-spin ``energy`` and ``abs_magnetization``."""
    energy, mag = ising_energies(L)
    p = boltzmann(L, T)
    n = L * L
    return {"energy": float(p @ energy) / n, "abs_magnetization": float(p @ np.abs(mag)) / n}


def draw_samples(L: int, T: float, n_samples: int, rng) -> np.ndarray:
    """``n_samples`` independent exact samples as visible units (n, L*L) uint8."""
    p = boltzmann(L, T)
    idx = rng.choice(p.size, size=n_samples, p=p)
    return all_states(L * L)[idx]


def model_log_probs(model) -> np.ndarray:
    """The model's exact log p over all ``2^n_visible`` states (n_visible <= 20)."""
    V = all_states(model.n_visible)
    logp = -model.free_energy(V)
    m = logp.max()
    return logp - (m + np.log(np.sum(np.exp(logp - m))))


def model_kl(p_true: np.ndarray, model) -> float:
    """Exact ``KL(p_true || p_model)`` in nats."""
    logq = model_log_probs(model)
    mask = p_true > 0
    return float(np.sum(p_true[mask] * (np.log(p_true[mask]) - logq[mask])))
