"""Thermodynamic observables of Ising samples, each with an error bar.

Input: total energies ``E`` and total magnetizations ``M`` of a series of
configurations of the periodic L x L lattice at temperature T (k_B = J = 1),
in chain/sample order. Output, per spin (N = L^2, beta = 1/T, e = E/N,
m = M/N):

=============================  ==========================================  ==================
key                            definition                                  error
=============================  ==========================================  ==================
``energy``                     <e>                                         blocking
``abs_magnetization``          <|m|>                                       blocking
``magnetization_squared``      <m^2>                                       blocking
``specific_heat``              beta^2 N (<e^2> - <e>^2)                    block jackknife
``susceptibility``             beta N <m^2>                                blocking
``susceptibility_connected``   beta N (<m^2> - <|m|>^2)                    block jackknife
``binder_cumulant``            1 - <m^4> / (3 <m^2>^2)                     block jackknife
=============================  ==========================================  ==================

Blocking is :func:`mcstats.estimate` (Jonsson's automatic criterion). The
block jackknife uses contiguous blocks at least twice as long as the
blocking length that the Jonsson test chose for E and |M| (and at most 64
blocks), so it stays valid for correlated series.
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import check_positive_number
from mcstats import Estimate, blocking_error, estimate, jackknife

__all__ = ["OBSERVABLES", "measure"]

#: Keys of :func:`measure`, in table order.
OBSERVABLES = ("energy", "abs_magnetization", "magnetization_squared", "specific_heat",
               "susceptibility", "susceptibility_connected", "binder_cumulant")

_MIN_BLOCKING = 16
_MAX_JACKKNIFE_BLOCKS = 64


def _scaled(est: Estimate, factor: float) -> Estimate:
    return Estimate(mean=est.mean * factor, error=est.error * abs(factor),
                    variance=est.variance * factor**2, tau_int=est.tau_int,
                    n_samples=est.n_samples)


def _naive(x: np.ndarray) -> Estimate:
    n = x.size
    var = float(x.var(ddof=1)) if n > 1 else float("nan")
    err = math.sqrt(var / n) if n > 1 else float("nan")
    return Estimate(mean=float(x.mean()), error=err, variance=var, tau_int=1.0, n_samples=n)


def _binder(means: np.ndarray) -> float:
    m2, m4 = means
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(1.0 - m4 / (3.0 * m2 * m2))


def measure(energy, magnetization, *, L: int, T: float) -> dict[str, Estimate]:
    """Per-spin observables with error bars from total E and M.

    Parameters
    ----------
    energy : array_like, shape (n,)
        Total energies ``E = -sum_<ij> s_i s_j`` (2N bonds).
    magnetization : array_like, shape (n,)
        Total magnetizations ``M = sum_i s_i``.
    L : int
        Linear lattice size (N = L^2).
    T : float
        Temperature > 0 (k_B = J = 1).

    Returns
    -------
    dict[str, mcstats.Estimate]
        Keys :data:`OBSERVABLES` (see the module docstring).

    Notes
    -----
    With fewer than 16 samples blocking is impossible; the samples are then
    treated as independent (naive standard errors, delete-one jackknife) --
    the case of a tiny run or a tiny generated set; a single sample gives NaN
    errors.

    Raises
    ------
    InvalidParameterError
        Shapes differ, arrays are empty or not finite, L < 2 or T not > 0.
    """
    E = np.asarray(energy, dtype=np.float64).ravel()
    M = np.asarray(magnetization, dtype=np.float64).ravel()
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 2:
        raise InvalidParameterError(f"L must be an integer >= 2, got {L!r}")
    T = check_positive_number("T", T)
    if E.shape != M.shape:
        raise InvalidParameterError(
            f"energy and magnetization must have the same length, got {E.size} and {M.size}")
    if E.size == 0:
        raise InvalidParameterError("need at least 1 sample, got 0")
    if not (np.all(np.isfinite(E)) and np.all(np.isfinite(M))):
        raise InvalidParameterError("energy and magnetization must be finite")
    N = L * L
    beta = 1.0 / T
    n = E.size
    e = E / N
    m = M / N
    abs_m = np.abs(m)
    m2 = m * m

    if n >= _MIN_BLOCKING:
        primary = estimate
        level = max(blocking_error(e)[1], blocking_error(abs_m)[1])
        block = max(2 * 2**level, -(-n // _MAX_JACKKNIFE_BLOCKS))
        n_blocks = max(2, min(_MAX_JACKKNIFE_BLOCKS, n // block))
    else:
        primary = _naive
        n_blocks = n

    out: dict[str, Estimate] = {}
    out["energy"] = primary(e)
    out["abs_magnetization"] = primary(abs_m)
    out["magnetization_squared"] = primary(m2)
    out["susceptibility"] = _scaled(out["magnetization_squared"], beta * N)
    if n >= 2:
        out["specific_heat"] = jackknife(
            lambda mu: beta**2 * N * (mu[1] - mu[0] ** 2), np.column_stack([e, e * e]),
            n_blocks=n_blocks)
        out["susceptibility_connected"] = jackknife(
            lambda mu: beta * N * (mu[1] - mu[0] ** 2), np.column_stack([abs_m, m2]),
            n_blocks=n_blocks)
        out["binder_cumulant"] = jackknife(_binder, np.column_stack([m2, m2 * m2]),
                                           n_blocks=n_blocks)
    else:
        nan = float("nan")
        out["specific_heat"] = Estimate(mean=0.0, error=nan, n_samples=1)
        out["susceptibility_connected"] = Estimate(mean=0.0, error=nan, n_samples=1)
        out["binder_cumulant"] = Estimate(mean=2.0 / 3.0, error=nan, n_samples=1)
    return {k: out[k] for k in OBSERVABLES}
