"""Autocorrelation function and integrated autocorrelation time.

Convention: ``tau_int = 1 + 2 sum_{t>=1} rho(t)``, so that the variance of the
mean of ``n`` correlated samples is ``tau_int * var / n`` and an AR(1) series
``x_t = a x_{t-1} + noise`` has ``tau_int = (1 + a) / (1 - a)``.

The sum is cut by Sokal's automatic window: the smallest ``M`` with
``M >= c * tau_int(M)`` (``c = 5``). A series shorter than ``min_tau_multiple``
(50) times its own tau gives no reliable tau and raises
:class:`~mccore.errors.ChainTooShortError` (the rule emcee follows).

References
----------
A. D. Sokal, "Monte Carlo methods in statistical mechanics: foundations and
new algorithms" (1996); D. Foreman-Mackey et al., emcee (2013).
"""

from __future__ import annotations

import numpy as np

from mccore.errors import ChainTooShortError, InvalidParameterError

__all__ = ["autocorrelation", "integrated_time"]


def _chains_2d(x, what: str, n: str) -> np.ndarray:
    """``x`` as float64 (n_chains, n_steps): one series becomes one chain; any
    other shape is refused, the message naming ``what`` and the step axis ``n``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2:
        raise InvalidParameterError(
            f"{what} must have shape ({n},) or (n_chains, {n}), got shape {x.shape}")
    return x


def _as_chains(x) -> np.ndarray:
    x = _chains_2d(x, "time series", "n_steps")
    if x.shape[1] < 2:
        raise InvalidParameterError(f"time series must have >= 2 steps, got {x.shape[1]}")
    if not np.all(np.isfinite(x)):
        raise InvalidParameterError("time series must be finite, got NaN or inf")
    return x


def autocorrelation(x) -> np.ndarray:
    """Normalized autocorrelation function rho(t), averaged over chains.

    Parameters
    ----------
    x : array_like, shape (n_steps,) or (n_chains, n_steps)

    Returns
    -------
    rho : ndarray, shape (n_steps,)
        ``rho[0] == 1``. A constant series gives ``rho = [1, 0, 0, ...]``.
    """
    x = _as_chains(x)
    n = x.shape[1]
    n_fft = 1 << (2 * n - 1).bit_length()
    centred = x - x.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=n_fft, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=n_fft, axis=1)[:, :n].mean(axis=0)
    if acov[0] <= 0:
        rho = np.zeros(n)
        rho[0] = 1.0
        return rho
    return acov / acov[0]


def integrated_time(x, *, c: float = 5.0, min_tau_multiple: float = 50.0,
                    quiet: bool = False) -> float:
    """Integrated autocorrelation time with Sokal's automatic window.

    Parameters
    ----------
    x : array_like, shape (n_steps,) or (n_chains, n_steps)
        Time series; several chains are averaged in the autocorrelation.
    c : float
        Window constant: the window is the smallest M with M >= c tau(M).
    min_tau_multiple : float
        Refuse series with ``n_steps < min_tau_multiple * tau``.
    quiet : bool
        Return the unreliable estimate instead of raising.

    Returns
    -------
    tau : float
        ``1 + 2 sum_{t=1}^{M} rho(t)`` (1 for independent samples).

    Raises
    ------
    ChainTooShortError
        If the series is too short for a reliable estimate (and not quiet).
    """
    x = _as_chains(x)
    n = x.shape[1]
    rho = autocorrelation(x)
    taus = 2.0 * np.cumsum(rho) - 1.0
    window = np.arange(len(taus)) >= c * taus
    m = int(np.argmax(window)) if np.any(window) else len(taus) - 1
    tau = float(max(taus[m], 1e-12))
    if n < min_tau_multiple * tau and not quiet:
        raise ChainTooShortError(
            f"time series of {n} steps is shorter than {min_tau_multiple:g} * tau_int "
            f"(tau_int ~ {tau:.3g}); run longer", tau=tau)
    return tau
