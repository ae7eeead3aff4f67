"""Jackknife and bootstrap errors of derived quantities.

A derived quantity is a smooth function of means, such as the specific heat
``c = beta^2 N (<e^2> - <e>^2)`` or the susceptibility
``chi = beta N (<m^2> - <|m|>^2)``. Both methods resample *blocks* of
consecutive samples, so they stay valid for correlated series as long as a
block is much longer than the autocorrelation time.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from mccore.errors import InvalidParameterError
from .estimate import Estimate

__all__ = ["jackknife", "bootstrap"]


def _block_means(columns, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    data = np.asarray(columns, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, np.newaxis]
    if data.ndim != 2:
        raise InvalidParameterError(
            f"columns must have shape (n_samples,) or (n_samples, k), got {data.shape}")
    n = data.shape[0]
    if not isinstance(n_blocks, (int, np.integer)) or n_blocks < 2:
        raise InvalidParameterError(f"n_blocks must be an integer >= 2, got {n_blocks!r}")
    if n < n_blocks:
        raise InvalidParameterError(
            f"need at least n_blocks={n_blocks} samples, got {n}")
    size = n // n_blocks
    used = data[: size * n_blocks]
    blocks = used.reshape(n_blocks, size, data.shape[1]).mean(axis=1)
    return blocks, used.mean(axis=0)


def jackknife(func: Callable[[np.ndarray], float], columns, *, n_blocks: int = 64) -> Estimate:
    """Delete-one-block jackknife estimate of ``func(means)``.

    Parameters
    ----------
    func : callable
        Maps the vector of column means, shape (k,), to a float.
    columns : array_like, shape (n_samples, k) or (n_samples,)
        Per-sample primary quantities, e.g. ``np.column_stack([e, e**2])``.
    n_blocks : int
        Number of contiguous blocks (trailing samples that do not fill a
        block are dropped).

    Returns
    -------
    Estimate
        Bias-corrected mean ``n f(all) - (n - 1) mean_i f(without i)`` and
        the jackknife standard error.
    """
    blocks, full_mean = _block_means(columns, n_blocks)
    total = blocks.sum(axis=0)
    leave_one_out = (total[np.newaxis, :] - blocks) / (n_blocks - 1)
    values = np.array([func(row) for row in leave_one_out], dtype=np.float64)
    full = float(func(full_mean))
    mean_loo = values.mean()
    corrected = n_blocks * full - (n_blocks - 1) * mean_loo
    error = np.sqrt((n_blocks - 1) / n_blocks * np.sum((values - mean_loo) ** 2))
    return Estimate(mean=float(corrected), error=float(error),
                    n_samples=int(np.asarray(columns).shape[0]))


def bootstrap(func: Callable[[np.ndarray], float], columns, *, n_blocks: int = 64,
              n_resamples: int = 1000, rng=None) -> Estimate:
    """Block-bootstrap estimate of ``func(means)``.

    Parameters
    ----------
    func, columns, n_blocks
        As for :func:`jackknife`.
    n_resamples : int
        Number of bootstrap resamples of the blocks.
    rng : numpy.random.Generator, int or None
        Source of the resampling indices.

    Returns
    -------
    Estimate
        ``func`` of the full means, with the standard deviation of the
        resampled values as error.
    """
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 2:
        raise InvalidParameterError(f"n_resamples must be an integer >= 2, got {n_resamples!r}")
    rng = np.random.default_rng(rng)
    blocks, full_mean = _block_means(columns, n_blocks)
    picks = rng.integers(0, n_blocks, size=(n_resamples, n_blocks))
    resampled_means = blocks[picks].mean(axis=1)
    values = np.array([func(row) for row in resampled_means], dtype=np.float64)
    return Estimate(mean=float(func(full_mean)), error=float(values.std(ddof=1)),
                    n_samples=int(np.asarray(columns).shape[0]))
