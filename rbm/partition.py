"""Partition functions of RBMs: exact enumeration and annealed importance sampling.

Exact: ``log Z`` by summing the analytically marginalized weight over every
state of the smaller layer (``2^n`` terms, ``n <= 25``), in chunks so memory
stays bounded. AIS (Neal 2001; Salakhutdinov & Murray, ICML 2008): a chain of
distributions ``p_beta ∝ p_0^(1-beta) p_1^beta`` from a base RBM with the same
visible biases and no weights (whose ``log Z`` is known) to the model, with
importance weights accumulated along Gibbs transitions; the estimate is the
log of the mean of the weights and its error is the delta-method standard
error over independent runs.
"""

from __future__ import annotations

import numpy as np

from mcstats import Estimate

from ._utils import sigmoid, softplus

__all__ = ["binary_states", "logsumexp_over_binary", "bernoulli_log_partition_exact",
           "bernoulli_log_partition_ais", "MAX_EXACT_UNITS"]

MAX_EXACT_UNITS = 25
_CHUNK_BITS = 14
_CHUNK_BYTES = 64 * 2**20  # memory of the enumeration's intermediates per chunk


def binary_states(n: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Binary states with indices ``start..stop-1`` as rows (float64).

    Row ``i`` holds the bits of ``i``: column ``k`` is bit ``k`` (least
    significant first), the order of :func:`ising.exact.enumerate_states`.

    Returns
    -------
    ndarray (stop - start, n) float64 in {0, 1}
    """
    if stop is None:
        stop = 1 << n
    idx = np.arange(start, stop, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.float64)


def logsumexp_over_binary(n: int, log_weight, *, chunk_bits: int = _CHUNK_BITS) -> float:
    """``log sum_{s in {0,1}^n} exp(log_weight(s))`` by chunked enumeration.

    Parameters
    ----------
    n : int
        Number of binary units (<= 25 keeps this fast enough).
    log_weight : callable
        Maps states ``(m, n)`` float64 to log weights ``(m,)``.
    """
    total = 1 << n
    step = 1 << min(chunk_bits, n)
    parts = []
    for start in range(0, total, step):
        lw = log_weight(binary_states(n, start, min(start + step, total)))
        m = lw.max()
        parts.append(m + np.log(np.sum(np.exp(lw - m))))
    parts = np.array(parts)
    m = parts.max()
    return float(m + np.log(np.sum(np.exp(parts - m))))


def bernoulli_log_partition_exact(weights, visible_bias, hidden_bias) -> float:
    """Exact ``log Z`` of a binary-binary RBM, summing over the smaller layer.

    With ``E(v, h) = -a.v - b.h - v.W.h``:
    ``Z = sum_h exp(b.h) prod_i (1 + exp(a_i + (W h)_i))`` (sum over hidden) or
    ``Z = sum_v exp(a.v) prod_j (1 + exp(b_j + (v W)_j))`` (sum over visible).
    """
    W = np.asarray(weights, dtype=np.float64)
    a = np.asarray(visible_bias, dtype=np.float64)
    b = np.asarray(hidden_bias, dtype=np.float64)
    n_visible, n_hidden = W.shape
    bits = _chunk_bits(max(n_visible, n_hidden))
    if n_hidden <= n_visible:
        return logsumexp_over_binary(
            n_hidden, lambda H: H @ b + softplus(H @ W.T + a).sum(axis=1), chunk_bits=bits)
    return logsumexp_over_binary(
        n_visible, lambda V: V @ a + softplus(V @ W + b).sum(axis=1), chunk_bits=bits)


def _chunk_bits(width: int) -> int:
    """Chunk size (log2 of the rows) whose (rows, width) float64 intermediates,
    a few of them at once, stay within _CHUNK_BYTES."""
    rows = max(1, _CHUNK_BYTES // (4 * 8 * max(width, 1)))
    return min(_CHUNK_BITS, rows.bit_length() - 1)


def _bernoulli_neg_free_energy_beta(V, W, a, b, a0, beta):
    """``log p*_beta(v)`` of the AIS path with hidden units summed out."""
    return (1.0 - beta) * (V @ a0) + beta * (V @ a) + softplus(beta * (V @ W + b)).sum(axis=1)


def bernoulli_log_partition_ais(weights, visible_bias, hidden_bias, *, rng,
                                n_runs: int = 100, n_betas: int = 10000,
                                base_visible_bias=None) -> Estimate:
    """AIS estimate of ``log Z`` of a binary-binary RBM with a standard error.

    The path: ``p*_beta(v, h) = exp((1-beta) a0.v + beta (a.v + b.h + v.W.h))``
    with ``beta`` from 0 to 1 on ``n_betas`` linearly spaced steps; at
    ``beta = 0`` the hidden units are uniform and ``log Z_0 =
    sum_i softplus(a0_i) + n_hidden log 2``. Each transition is one Gibbs
    sweep ``v -> h -> v`` at the current ``beta``.

    Parameters
    ----------
    weights, visible_bias, hidden_bias : arrays
        The model.
    rng : numpy.random.Generator
        Random source.
    n_runs : int
        Independent AIS runs (importance weights).
    n_betas : int
        Number of intermediate temperatures.
    base_visible_bias : array or None
        ``a0`` of the base distribution; default the model's own visible
        biases (a reasonable base when biases were initialized from the data
        marginals).

    Returns
    -------
    mcstats.Estimate
        ``mean`` = log of the mean importance weight, ``error`` = delta-method
        standard error ``std(w) / (sqrt(n_runs) mean(w))``; ``variance`` is the
        variance of the log weights, ``n_samples = n_runs``. The log of a mean
        is biased low by about ``error^2 / 2`` (Jensen), negligible when the
        error is small.
    """
    W = np.asarray(weights, dtype=np.float64)
    a = np.asarray(visible_bias, dtype=np.float64)
    b = np.asarray(hidden_bias, dtype=np.float64)
    a0 = a.copy() if base_visible_bias is None else np.asarray(base_visible_bias, float)
    n_visible, n_hidden = W.shape
    betas = np.linspace(0.0, 1.0, n_betas + 1)
    V = (rng.random((n_runs, n_visible)) < sigmoid(a0)).astype(np.float64)
    log_w = np.zeros(n_runs)
    for t in range(1, n_betas + 1):
        bp, bt = betas[t - 1], betas[t]
        log_w += (_bernoulli_neg_free_energy_beta(V, W, a, b, a0, bt)
                  - _bernoulli_neg_free_energy_beta(V, W, a, b, a0, bp))
        if t < n_betas:
            ph = sigmoid(bt * (V @ W + b))
            H = (rng.random(ph.shape) < ph).astype(np.float64)
            pv = sigmoid((1.0 - bt) * a0 + bt * (a + H @ W.T))
            V = (rng.random(pv.shape) < pv).astype(np.float64)
    log_z0 = float(softplus(a0).sum() + n_hidden * np.log(2.0))
    m = log_w.max()
    w = np.exp(log_w - m)
    mean_w = w.mean()
    log_mean = m + np.log(mean_w)
    rel_err = w.std(ddof=1) / (np.sqrt(n_runs) * mean_w) if n_runs > 1 else float("nan")
    return Estimate(mean=float(log_z0 + log_mean), error=float(rel_err),
                    variance=float(np.var(log_w, ddof=1)) if n_runs > 1 else float("nan"),
                    tau_int=1.0, n_samples=int(n_runs))
