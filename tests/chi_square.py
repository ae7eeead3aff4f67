"""Pearson chi-square of sampled lattice states against exact probabilities (test helper).

Shared by the tests of the RBM Metropolis-Hastings sampler and of exact
sampling through the CLI and the library: all compare a histogram over every
state of a tiny lattice with an exact enumeration.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["chi_square_p", "state_index"]


def state_index(spins) -> np.ndarray:
    """State number of each configuration (site k up <=> bit k set, row-major)."""
    v = (np.asarray(spins).reshape(len(spins), -1).astype(np.int64) + 1) // 2
    return v @ (1 << np.arange(v.shape[1]))


def chi_square_p(states, p) -> float:
    """Pearson chi-square p-value of state counts vs probabilities ``p``; the
    rarest states are pooled until every bin expects >= 5."""
    counts = np.bincount(states, minlength=p.size).astype(float)
    expected = counts.sum() * p
    c_bins, e_bins, c_acc, e_acc = [], [], 0.0, 0.0
    for i in np.argsort(expected):
        c_acc += counts[i]
        e_acc += expected[i]
        if e_acc >= 5:
            c_bins.append(c_acc)
            e_bins.append(e_acc)
            c_acc = e_acc = 0.0
    if e_acc > 0:
        c_bins[-1] += c_acc
        e_bins[-1] += e_acc
    c_bins, e_bins = np.array(c_bins), np.array(e_bins)
    return stats.chi2.sf(np.sum((c_bins - e_bins) ** 2 / e_bins), len(e_bins) - 1)
