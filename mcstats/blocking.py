"""Automatic blocking analysis of the error of a correlated mean.

Blocking (Flyvbjerg & Petersen 1989) repeatedly averages neighbouring pairs;
once blocks are longer than the correlation time the naive error of the
blocked series stops growing. The level is chosen automatically by Jonsson's
test (PRE 98, 043304, 2018): with gamma_k the lag-1 autocovariance and s_k^2
the variance at level k, and n_k the length there, the statistic

    M_j = sum_{k >= j} n_k (gamma_k / s_k^2)^2

is chi-square distributed with (levels - j) degrees of freedom once the
blocks are uncorrelated; the first level whose M_j lies below the 99%
quantile is taken. Odd lengths drop their last element at each level.

At the accepted level adjacent blocks are still weakly correlated (their
lag-1 correlation rho_1 is O(tau / block length), too small for the test to
see but enough to make the plain blocking error 10-25% low for tau ~ 3-60 on
2^14 samples). The variance of the mean is therefore corrected to first order,
``s_k^2 / n_k * (1 + 2 rho_1)``, which makes the error unbiased within about
1% on AR(1) series and on independent samples (tests/mcstats).
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from .autocorr import _chains_2d
from .estimate import Estimate

__all__ = ["blocking_error", "estimate"]

_MIN_SAMPLES = 16


def blocking_error(x, *, confidence: float = 0.99) -> tuple[float, int]:
    """Standard error of the mean of a correlated series.

    Parameters
    ----------
    x : array_like, shape (n,)
        At least 16 samples.
    confidence : float
        Quantile of the chi-square test that accepts a blocking level.

    Returns
    -------
    error : float
        Standard error of ``mean(x)``.
    level : int
        Chosen blocking level (blocks of ``2**level`` samples).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size < _MIN_SAMPLES:
        raise InvalidParameterError(
            f"blocking needs at least {_MIN_SAMPLES} samples, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise InvalidParameterError("blocking needs finite samples, got NaN or inf")
    gammas, variances, lengths = [], [], []
    while x.size >= 4:
        n = x.size
        centred = x - x.mean()
        variances.append(float(centred @ centred) / n)
        gammas.append(float(centred[:-1] @ centred[1:]) / n)
        lengths.append(n)
        x = 0.5 * (x[0:n - n % 2:2] + x[1:n - n % 2:2])
    variances = np.array(variances)
    lengths = np.array(lengths, dtype=np.float64)
    if variances[0] == 0.0:
        return 0.0, 0
    gammas = np.array(gammas)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(variances > 0, lengths * (gammas / variances) ** 2, 0.0)
    statistic = np.cumsum(terms[::-1])[::-1]
    n_levels = len(terms)
    # the chi-square quantile as scipy.stats.chi2.ppf computes it, without
    # importing scipy.stats (about a second at start-up) for one function
    from scipy.special import gammaincinv

    quantiles = 2.0 * gammaincinv(np.arange(n_levels, 0, -1) / 2.0, confidence)
    accepted = np.nonzero(statistic < quantiles)[0]
    level = int(accepted[0]) if accepted.size else n_levels - 1
    rho_1 = gammas[level] / variances[level] if variances[level] > 0 else 0.0
    return math.sqrt(variances[level] / lengths[level] * max(1.0 + 2.0 * rho_1, 0.0)), level


def estimate(x) -> Estimate:
    """Mean of a (possibly correlated) series with a blocking error bar.

    Parameters
    ----------
    x : array_like, shape (n_steps,) or (n_chains, n_steps)
        One series, or independent chains of equal length; chains are blocked
        separately and their errors combined.

    Returns
    -------
    Estimate
        ``tau_int`` is the one implied by the error,
        ``n * error**2 / variance``.
    """
    x = _chains_2d(x, "samples", "n")
    n_chains, n_steps = x.shape
    chain_errors = np.array([blocking_error(chain)[0] for chain in x])
    mean = float(x.mean())
    error = float(np.sqrt(np.sum(chain_errors**2)) / n_chains)
    variance = float(x.var(ddof=1)) if x.size > 1 else float("nan")
    n_total = x.size
    tau = n_total * error**2 / variance if variance > 0 else 1.0
    return Estimate(mean=mean, error=error, variance=variance, tau_int=float(tau),
                    n_samples=int(n_total))
