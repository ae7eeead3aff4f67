"""Checks on generated Ising samples that the observables alone miss.

Plain arrays in, numbers out: the total variation distance between two
histograms of integer levels (with the value that sampling noise alone
gives), the fraction of samples with positive magnetization, the number of
distinct configurations, and a model's own weight of the m > 0 mode.
:func:`isingrbm.evaluate.compare` puts them in its table (and
:mod:`isingrbm.evaluate` re-exports the public ones). Conventions: k_B = J = 1,
periodic L x L lattice; E and M are totals (integers on the lattice).

Histogram distance
------------------
The distance between the distributions of the total energy E (and of the
total magnetization M, and of |M|) of a generated set and of the Monte Carlo
set is the **total variation distance**

    TV(p, q) = 1/2 sum_k |p_k - q_k|

on the *exact lattice levels* of E and M (both are integers on the periodic
lattice), so there is no binning choice to make. TV was chosen over
Kullback-Leibler (infinite as soon as a generated level is missing from the
Monte Carlo set) and Jensen-Shannon (finite, but in nats with no direct
reading) because it is bounded in [0, 1] and has a plain meaning: the
largest difference in probability that the two distributions give to any
set of energies (magnetizations). An empirical TV is biased upwards by
sampling noise, which is why every distance comes with

* ``noise``: the mean (and ``noise_std`` the standard deviation) of the TV
  between two *independent* samples of the same sizes as the compared ones
  (``n_generated`` and the Monte Carlo size divided by its integrated
  autocorrelation time), both drawn from the Monte Carlo histogram, over
  ``n_noise`` multinomial replicas. A generated set that is a perfect,
  independent sample of the Monte Carlo distribution has ``value`` within a
  few ``noise_std`` of ``noise``; ``excess`` = (value - noise) / noise_std.
* ``split_half``: the TV between the first and second halves of the Monte
  Carlo series, a model-free check of the same noise level (it compares
  n/2 with n/2 samples and includes any drift or autocorrelation of the
  chain, so it is usually a little above ``noise`` for equal sizes).

Fraction with m > 0
-------------------
``(#{M > 0} + #{M = 0} / 2) / n``: samples with M = 0 count one half, so a
Z2-symmetric distribution gives exactly 1/2 on average. The error is the
binomial ``sqrt(p (1 - p) / n)`` for generated sets (independent samples);
for the Monte Carlo series it is the blocking error of the indicator series
(at least the binomial one), which accounts for the autocorrelation. Note
that local Gibbs/Metropolis chains in the ordered phase rarely tunnel
between the two modes, so this fraction tells how the *samples* are spread
over the modes, not whether the model itself is symmetric; when the model's
free energy is at hand, :func:`mode_weight` estimates the model's own weight
of the m > 0 mode from its samples (an exact identity under the flip).
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from mcstats import Estimate, estimate

__all__ = ["MIN_BLOCKING", "count_distinct", "fraction_in", "fraction_positive", "mode_weight",
           "total_variation", "tv_noise"]

#: Fewer samples than this get no blocking analysis (too short a series).
MIN_BLOCKING = 16


def _levels_histograms(a, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of two integer-valued samples on their common levels."""
    a = np.rint(np.asarray(a, dtype=np.float64)).astype(np.int64).ravel()
    b = np.rint(np.asarray(b, dtype=np.float64)).astype(np.int64).ravel()
    levels, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    count_a = np.bincount(inverse[:a.size], minlength=levels.size)
    count_b = np.bincount(inverse[a.size:], minlength=levels.size)
    return levels, count_a, count_b


def total_variation(a, b) -> float:
    """Total variation distance between the empirical distributions of two samples.

    Parameters
    ----------
    a, b : array_like, shape (n_a,), (n_b,)
        Integer-valued samples (total energies or magnetizations; floats are
        rounded to the nearest integer).

    Returns
    -------
    float
        ``1/2 sum_k |p_k - q_k|`` over the union of the observed levels, in
        [0, 1]: 0 for identical histograms, 1 for disjoint supports.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.size == 0 or b.size == 0:
        raise InvalidParameterError(
            f"total_variation needs non-empty samples, got sizes {a.size} and {b.size}")
    _, count_a, count_b = _levels_histograms(a, b)
    # exact integer arithmetic before the one division
    diff = np.abs(count_a.astype(np.int64) * b.size - count_b.astype(np.int64) * a.size)
    return float(diff.sum()) / (2.0 * a.size * b.size)


def tv_noise(reference, n_a: int, n_b: float, *, n_replicas: int,
              rng: np.random.Generator) -> tuple[float, float]:
    """Mean and std of TV between independent samples (sizes n_a, n_b) of one histogram."""
    _, counts = np.unique(np.rint(np.asarray(reference, dtype=np.float64)),
                          return_counts=True)
    p = counts / counts.sum()
    n_b = max(1, int(round(n_b)))
    tv = np.empty(n_replicas)
    for r in range(n_replicas):
        x = rng.multinomial(n_a, p) / n_a
        y = rng.multinomial(n_b, p) / n_b
        tv[r] = 0.5 * np.abs(x - y).sum()
    return float(tv.mean()), float(tv.std(ddof=1)) if n_replicas > 1 else float("nan")


def fraction_positive(magnetization, *, correlated: bool = False) -> Estimate:
    """Fraction of samples with positive magnetization, with its error.

    Parameters
    ----------
    magnetization : array_like, shape (n,)
        Total (or per-spin) magnetizations.
    correlated : bool
        False: independent samples, binomial error ``sqrt(p (1-p) / n)``.
        True: a Markov-chain series; the error is the larger of the blocking
        error of the indicator series (:func:`mcstats.estimate`) and the
        binomial one.

    Returns
    -------
    mcstats.Estimate
        ``(#{M > 0} + #{M = 0} / 2) / n``.
    """
    M = np.asarray(magnetization, dtype=np.float64).ravel()
    n = M.size
    if n == 0:
        raise InvalidParameterError("fraction_positive needs at least 1 sample, got 0")
    indicator = (M > 0).astype(np.float64) + 0.5 * (M == 0)
    p = float(indicator.mean())
    binomial = math.sqrt(max(p * (1.0 - p), 0.0) / n)
    error, tau = binomial, 1.0
    if correlated and n >= MIN_BLOCKING:
        blocked = estimate(indicator)
        if blocked.error > binomial:
            error = blocked.error
            tau = blocked.tau_int
    return Estimate(mean=p, error=float(error), variance=p * (1.0 - p), tau_int=float(tau),
                    n_samples=int(n))


def _row_keys(spins) -> np.ndarray:
    spins = np.asarray(spins)
    flat = (spins.reshape(spins.shape[0], -1) > 0)
    packed = np.ascontiguousarray(np.packbits(flat, axis=1))
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def count_distinct(spins) -> int:
    """Number of distinct configurations among ``spins`` (n, L, L)."""
    spins = np.asarray(spins)
    if spins.shape[0] == 0:
        return 0
    return int(np.unique(_row_keys(spins)).size)


def fraction_in(spins, reference_spins) -> float:
    """Fraction of the rows of ``spins`` that occur verbatim in ``reference_spins``."""
    keys = _row_keys(spins)
    return float(np.isin(keys, np.unique(_row_keys(reference_spins))).mean())


def mode_weight(free_energy, spins) -> dict:
    """A model's own probability of the m > 0 half, estimated from its samples.

    Local Gibbs chains in the ordered phase rarely cross between the + and -
    magnetized modes, so the fraction of *samples* with m > 0 reflects where
    the chains started, not the model. For an energy-based model
    ``p(v) = exp(-F(v)) / Z`` the flip ``v -> 1 - v`` maps the + half onto
    the - half, hence

        P(-) / P(+) = E_{v ~ p, m(v) > 0} [ exp(F(v) - F(1 - v)) ],

    which needs samples only *within* the + mode (likewise from the - mode).

    Parameters
    ----------
    free_energy : callable
        ``F(V) -> (n,)`` for visible units ``V`` (n, L*L) in {0, 1}
        (e.g. ``model.free_energy`` of an :class:`rbm.BernoulliRBM`).
    spins : array_like, shape (n, L, L)
        Samples of the model, in {-1, +1}.

    Returns
    -------
    dict
        ``from_plus`` and ``from_minus``: P(m > 0) / (P(m > 0) + P(m < 0))
        estimated from the samples of each mode (``nan`` if a mode has none).
        The two agree when the chains are equilibrated within each mode;
        0.5 for a flip-symmetric model.
    """
    from ising.lattice import spins_to_visible

    spins = np.asarray(spins)
    V = spins_to_visible(spins)
    m = spins.reshape(spins.shape[0], -1).astype(np.int64).sum(axis=1)
    dF = (np.asarray(free_energy(V), dtype=np.float64)
          - np.asarray(free_energy(1 - V), dtype=np.float64))
    out = {}
    for name, mask in (("from_plus", m > 0), ("from_minus", m < 0)):
        if not mask.any():
            out[name] = float("nan")
            continue
        x = dF[mask]
        # log of the mean of exp(dF): log of P(other mode) / P(this mode)
        log_ratio = float(np.logaddexp.reduce(x) - math.log(x.size))
        p_this = 1.0 / (1.0 + math.exp(min(log_ratio, 700.0)))
        out[name] = p_this if name == "from_plus" else 1.0 - p_this
    return out
