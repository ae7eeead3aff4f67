"""Numba kernels for spin-1/2 RBM wavefunctions (the quantum Ising model).

The wavefunction of every kernel is the plain RBM

    log psi(s) = sum_i a_i s_i + sum_j log cosh(theta_j),   theta_j = b_j + sum_i W_ij s_i,

with ``s_i = +-1`` (the symmetric RBM is expanded to this form by its
class). The look-up table ``theta`` (n_hidden,) is computed once per
configuration and *updated* after an accepted flip of spin ``i``
(``theta -= 2 W[i] s_i``, O(M)), so a single-spin-flip proposal costs
O(M) and a local energy O(N M) (not O(N^2 M)).

Randomness: chain ``c`` owns the xoshiro256** stream ``rng_state[c]``
(4 uint64 words, mutated; :func:`vmc.streams.seed_states`), so results
depend on the seed only, never on the number of numba threads. Loops over
chains/samples run in ``prange``; every chain writes only its own rows.

A slow NumPy reference of each kernel is in ``tests/vmc/spin_reference.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..streams import uniform

__all__ = ["log_cosh", "spin_metropolis_sweeps", "spin_theta", "tfim_local_energy"]


@njit(cache=True)
def log_cosh(x):
    """``log cosh(x)`` without overflow: ``|x| + log1p(exp(-2|x|)) - log 2``."""
    ax = abs(x)
    return ax + math.log1p(math.exp(-2.0 * ax)) - 0.6931471805599453


@njit(cache=True)
def _flip_ratio(s, tanh_theta, a, cosh2w, sinh2w, i):
    """``psi(s with spin i flipped) / psi(s)`` from the table ``tanh(theta)``.

    ``cosh(theta - 2 w) / cosh(theta) = cosh(2 w) - tanh(theta) sinh(2 w)`` with
    ``w = W_ij s_i``, so the ratio is ``exp(-2 a_i s_i) prod_j (cosh(2 W_ij) -
    s_i tanh(theta_j) sinh(2 W_ij))`` (every factor >= exp(-2|W_ij|) > 0), O(M)
    multiply-adds and no transcendental function per hidden unit.
    """
    si = s[i]
    out = math.exp(-2.0 * a[i] * si)
    for j in range(tanh_theta.size):
        out *= cosh2w[i, j] - si * tanh_theta[j] * sinh2w[i, j]
    return out


@njit(cache=True)
def _theta(s, b, W, theta):
    """``theta = b + W^T s`` into ``theta`` (n_hidden,)."""
    n_visible, n_hidden = W.shape
    for j in range(n_hidden):
        theta[j] = b[j]
    for i in range(n_visible):
        si = s[i]
        for j in range(n_hidden):
            theta[j] += W[i, j] * si


@njit(cache=True, parallel=True)
def spin_theta(s, b, W, out):
    """``out[n] = b + W^T s[n]`` for samples ``s`` (n, N) float64; ``out`` (n, M) float64."""
    for n in prange(s.shape[0]):
        _theta(s[n], b, W, out[n])


@njit(cache=True, parallel=True)
def spin_metropolis_sweeps(s, rng_state, a, b, W, n_steps, p_global, out, accepted):
    """Single-spin-flip Metropolis on ``|psi|^2``; records after every sweep.

    Parameters
    ----------
    s : ndarray (n_chains, N) float64 in {-1, +1}
        Chain states (mutated).
    rng_state : ndarray (n_chains, 4) uint64
        Per-chain xoshiro256** states (mutated).
    a, b, W : ndarray (N,), (M,), (N, M) float64
        Plain RBM parameters.
    n_steps : int
        Sweeps to record; a sweep is N proposals of a uniformly chosen
        site, then, with probability ``p_global``, one global flip s -> -s.
    p_global : float
        Probability of the global-flip (Z2) move per sweep.
    out : ndarray (n_chains, n_steps, N) float64
        Recorded configurations (written).
    accepted : ndarray (n_chains,) int64
        Accepted single-spin flips per chain (incremented).

    Notes
    -----
    Per chain the tables ``theta`` and ``tanh(theta)`` are computed once per
    call and updated after every accepted flip (``theta -= 2 W[i] s_i``, and
    ``tanh`` by the subtraction formula with the table ``tanh(2 W)``, so an
    accepted flip costs O(M) arithmetic and no transcendental function).
    A proposal is accepted when ``u < (psi'/psi)^2`` for a uniform u.
    """
    n_chains, n_sites = s.shape
    n_hidden = b.size
    cosh2w = np.cosh(2.0 * W)
    sinh2w = np.sinh(2.0 * W)
    tanh2w = np.tanh(2.0 * W)
    for c in prange(n_chains):
        theta = np.empty(n_hidden)
        tanh_theta = np.empty(n_hidden)
        _theta(s[c], b, W, theta)
        for j in range(n_hidden):
            tanh_theta[j] = math.tanh(theta[j])
        st = rng_state[c]
        sc = s[c]
        for step in range(n_steps):
            for _ in range(n_sites):
                i = min(int(uniform(st) * n_sites), n_sites - 1)
                ratio = _flip_ratio(sc, tanh_theta, a, cosh2w, sinh2w, i)
                u = uniform(st)
                if u < ratio * ratio:
                    si = sc[i]
                    for j in range(n_hidden):
                        theta[j] -= 2.0 * W[i, j] * si
                        # tanh(x - y) = (tanh x - tanh y) / (1 - tanh x tanh y): no tanh call
                        tt = si * tanh2w[i, j]
                        tanh_theta[j] = (tanh_theta[j] - tt) / (1.0 - tanh_theta[j] * tt)
                    sc[i] = -si
                    accepted[c] += 1
            if p_global > 0.0:
                u = uniform(st)
                if u < p_global:
                    # theta' = 2 b - theta; log psi' - log psi
                    log_ratio = 0.0
                    for i in range(n_sites):
                        log_ratio -= 2.0 * a[i] * sc[i]
                    for j in range(n_hidden):
                        log_ratio += log_cosh(2.0 * b[j] - theta[j]) - log_cosh(theta[j])
                    u2 = uniform(st)
                    if u2 < math.exp(min(2.0 * log_ratio, 700.0)):
                        for i in range(n_sites):
                            sc[i] = -sc[i]
                        for j in range(n_hidden):
                            theta[j] = 2.0 * b[j] - theta[j]
                            tanh_theta[j] = math.tanh(theta[j])
            for i in range(n_sites):
                out[c, step, i] = sc[i]


@njit(cache=True, parallel=True)
def tfim_local_energy(s, a, b, W, bonds, field, coupling, e_out, sx_out):
    """Local energies of the TFIM ``H = -J sum_<ij> sz_i sz_j - h sum_i sx_i``.

    ``E_L(s) = -J sum_<ij> s_i s_j - h sum_i psi(s^(i)) / psi(s)`` with
    ``s^(i)`` = s with spin i flipped, each ratio from the table
    ``tanh(theta)`` in O(M).

    Parameters
    ----------
    s : ndarray (n, N) float64 in {-1, +1}
    a, b, W : plain RBM parameters (N,), (M,), (N, M) float64
    bonds : ndarray (n_bonds, 2) int64
    field, coupling : float
        h and J.
    e_out : ndarray (n,) float64
        Local energies (written).
    sx_out : ndarray (n,) float64
        Local estimator of ``(1/N) sum_i sx_i`` (written).
    """
    n, n_sites = s.shape
    n_hidden = b.size
    cosh2w = np.cosh(2.0 * W)
    sinh2w = np.sinh(2.0 * W)
    for k in prange(n):
        theta = np.empty(n_hidden)
        sk = s[k]
        _theta(sk, b, W, theta)
        for j in range(n_hidden):
            theta[j] = math.tanh(theta[j])
        diag = 0.0
        for m in range(bonds.shape[0]):
            diag += sk[bonds[m, 0]] * sk[bonds[m, 1]]
        off = 0.0
        for i in range(n_sites):
            off += _flip_ratio(sk, theta, a, cosh2w, sinh2w, i)
        e_out[k] = -coupling * diag - field * off
        sx_out[k] = off / n_sites


@njit(cache=True, parallel=True)
def rbm_log_derivatives(s, b, W, out):
    """Log-derivatives of the plain RBM: ``out[n] = (s, tanh theta, s_i tanh theta_j)``.

    Parameters
    ----------
    s : ndarray (n, N) float64
    b, W : ndarray (M,), (N, M) float64
    out : ndarray (n, N + M + N M) float64
        Written: columns ``[a_i | b_j | W_ij (row-major)]``.
    """
    n, n_sites = s.shape
    n_hidden = b.size
    for k in prange(n):
        theta = np.empty(n_hidden)
        _theta(s[k], b, W, theta)
        row = out[k]
        for i in range(n_sites):
            row[i] = s[k, i]
        for j in range(n_hidden):
            theta[j] = math.tanh(theta[j])
            row[n_sites + j] = theta[j]
        base = n_sites + n_hidden
        for i in range(n_sites):
            si = s[k, i]
            off = base + i * n_hidden
            for j in range(n_hidden):
                row[off + j] = si * theta[j]


@njit(cache=True, parallel=True)
def symmetric_log_derivatives(s, tanh_theta, translations, out):
    """Log-derivatives of the translation-symmetric RBM.

    Parameters
    ----------
    s : ndarray (n, N) float64
    tanh_theta : ndarray (n, alpha, N) float64
        ``tanh(theta_{f,t})`` of every sample.
    translations : ndarray (N, N) int64
        ``translations[t, i] = T_t(i)``.
    out : ndarray (n, 1 + alpha + alpha N) float64
        Written: ``[sum_i s_i | sum_t tanh theta_ft | sum_t tanh(theta_ft) s_{T_t(i)}]``.
    """
    n, n_sites = s.shape
    alpha = tanh_theta.shape[1]
    for k in prange(n):
        row = out[k]
        total = 0.0
        for i in range(n_sites):
            total += s[k, i]
        row[0] = total
        for f in range(alpha):
            acc = 0.0
            for t in range(n_sites):
                acc += tanh_theta[k, f, t]
            row[1 + f] = acc
            base = 1 + alpha + f * n_sites
            for i in range(n_sites):
                row[base + i] = 0.0
            for t in range(n_sites):
                tt = tanh_theta[k, f, t]
                for i in range(n_sites):
                    row[base + i] += tt * s[k, translations[t, i]]
