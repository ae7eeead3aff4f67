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

Threads: each public kernel is a small Python function that runs one of two
compilations of the same per-row code: the ``prange`` one when the call has
at least :data:`PARALLEL_MIN_WORK` multiply-adds and numba has more than one
thread, else a plain loop in the calling thread. A parallel launch costs
tens of microseconds on an idle machine and milliseconds on a loaded one
(OpenMP workers spin, then wait for a core): measured on 2 loaded cores, the
chain N = 20 plain-RBM SR iteration took 308 ms wall (80 ms CPU) with 2
threads against 33 ms (9 ms CPU) with the plain loops. Results are the same
either way (rows are independent).

Error model: the Metropolis sweeps compile with ``error_model="numpy"``:
the tanh update divides by ``1 - tanh(theta) tanh(2 W s_i)``, which is never
zero, and Python's model puts a zero-divisor branch in that loop that keeps
it from being vectorized (chain N = 80, alpha = 2: 19.4 -> 13.7 ms CPU per
1008 recorded configurations; the same bits).

Tests: the local energies against the dense Hamiltonian and the sampler against the exact
distribution (``tests/vmc/test_tfim.py``); the fast paths (skipped sweeps in the same call,
the parallel twins) against their plain forms (``tests/vmc/test_spin_kernels.py``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from mccore.parallel import select_threading_layer

from ..streams import uniform

__all__ = ["PARALLEL_MIN_WORK", "log_cosh", "spin_metropolis_sweeps", "spin_theta",
           "tfim_local_energy", "rbm_log_derivatives", "symmetric_log_derivatives"]

#: calls with fewer multiply-adds (rows x sites x hidden units) run in the calling thread
PARALLEL_MIN_WORK = 2**21


def _threaded(work) -> bool:
    """Whether to launch the parallel twin of a kernel. The threading layer is chosen
    before numba's pool starts (``get_num_threads`` starts it): OpenMP's spinning
    workers made a 2-thread call 10x slower on a loaded machine."""
    if work < PARALLEL_MIN_WORK:
        return False
    select_threading_layer()
    import numba
    return numba.get_num_threads() > 1


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
def _visible_factors(a):
    """``exp(-2 a_i s_i)`` for ``s_i = +1`` (row 0) and ``s_i = -1`` (row 1), (2, N): the
    numbers ``math.exp(-2.0 * a[i] * s_i)`` gives (``x * +-1.0`` is exact), once per call
    instead of once per flip ratio."""
    out = np.empty((2, a.size))
    for i in range(a.size):
        out[0, i] = math.exp(-2.0 * a[i] * 1.0)
        out[1, i] = math.exp(-2.0 * a[i] * -1.0)
    return out


@njit(cache=True)
def _visible_factor(factors, a, si, i):
    """``exp(-2 a_i s_i)`` from :func:`_visible_factors` (computed for other ``s_i``)."""
    if si == 1.0:
        return factors[0, i]
    if si == -1.0:
        return factors[1, i]
    return math.exp(-2.0 * a[i] * si)


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
def _spin_theta_parallel(s, b, W, out):
    for n in prange(s.shape[0]):
        _theta(s[n], b, W, out[n])


@njit(cache=True)
def _spin_theta_serial(s, b, W, out):
    for n in range(s.shape[0]):
        _theta(s[n], b, W, out[n])


def spin_theta(s, b, W, out):
    """``out[n] = b + W^T s[n]`` for samples ``s`` (n, N) float64; ``out`` (n, M) float64."""
    kernel = _spin_theta_parallel if _threaded(W.size * s.shape[0]) else _spin_theta_serial
    kernel(s, b, W, out)


@njit(cache=True)
def _chain_start(sc, b, W, theta, tanh_theta):
    """The tables ``theta`` and ``tanh(theta)`` of configuration ``sc``, computed afresh."""
    _theta(sc, b, W, theta)
    for j in range(theta.size):
        tanh_theta[j] = math.tanh(theta[j])


@njit(cache=True, error_model="numpy")
def _chain_sweep(sc, st, a, factors, b, W, cosh2w, sinh2w, tanh2w, p_global, theta,
                 tanh_theta):
    """One sweep of one chain (state ``sc``, stream ``st``, tables ``theta`` and
    ``tanh_theta`` kept up to date); returns its accepted single-spin flips.

    ``theta`` itself is read only by the global flip, so it is updated only when
    ``p_global > 0``."""
    n_sites = sc.size
    n_hidden = b.size
    accepted = 0
    for _ in range(n_sites):
        i = min(int(uniform(st) * n_sites), n_sites - 1)
        si = sc[i]
        ratio = _visible_factor(factors, a, si, i)      # _flip_ratio, exp from the table
        for j in range(n_hidden):
            ratio *= cosh2w[i, j] - si * tanh_theta[j] * sinh2w[i, j]
        u = uniform(st)
        if u < ratio * ratio:
            if p_global > 0.0:
                for j in range(n_hidden):
                    theta[j] -= 2.0 * W[i, j] * si
            for j in range(n_hidden):
                # tanh(x - y) = (tanh x - tanh y) / (1 - tanh x tanh y): no tanh call
                tt = si * tanh2w[i, j]
                tanh_theta[j] = (tanh_theta[j] - tt) / (1.0 - tanh_theta[j] * tt)
            sc[i] = -si
            accepted += 1
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
    return accepted


@njit(cache=True, error_model="numpy")
def _chain_sweeps(sc, st, a, factors, b, W, cosh2w, sinh2w, tanh2w, n_skip, n_steps, p_global,
                  out_c):
    """:func:`spin_metropolis_sweeps` of one chain (state ``sc``, stream ``st``): ``n_skip``
    sweeps, then ``n_steps`` recorded into ``out_c`` (n_steps, N); returns the accepted
    single-spin flips of the recorded sweeps. The tables are computed afresh before each
    of the two runs, as two calls would."""
    n_sites = sc.size
    theta = np.empty(b.size)
    tanh_theta = np.empty(b.size)
    if n_skip > 0:
        _chain_start(sc, b, W, theta, tanh_theta)
        for _ in range(n_skip):
            _chain_sweep(sc, st, a, factors, b, W, cosh2w, sinh2w, tanh2w, p_global, theta,
                         tanh_theta)
    _chain_start(sc, b, W, theta, tanh_theta)
    accepted = 0
    for step in range(n_steps):
        accepted += _chain_sweep(sc, st, a, factors, b, W, cosh2w, sinh2w, tanh2w, p_global,
                                 theta, tanh_theta)
        for i in range(n_sites):
            out_c[step, i] = sc[i]
    return accepted


@njit(cache=True)
def _weight_tables(W):
    """``cosh(2 W)``, ``sinh(2 W)``, ``tanh(2 W)`` (each like W)."""
    cosh2w = np.empty_like(W)
    sinh2w = np.empty_like(W)
    tanh2w = np.empty_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            x = 2.0 * W[i, j]
            cosh2w[i, j] = math.cosh(x)
            sinh2w[i, j] = math.sinh(x)
            tanh2w[i, j] = math.tanh(x)
    return cosh2w, sinh2w, tanh2w


@njit(cache=True, parallel=True, error_model="numpy")
def _sweeps_parallel(s, rng_state, a, b, W, n_skip, n_steps, p_global, out, accepted):
    cosh2w, sinh2w, tanh2w = _weight_tables(W)
    factors = _visible_factors(a)
    for c in prange(s.shape[0]):
        accepted[c] += _chain_sweeps(s[c], rng_state[c], a, factors, b, W, cosh2w, sinh2w,
                                     tanh2w, n_skip, n_steps, p_global, out[c])


@njit(cache=True, error_model="numpy")
def _sweeps_serial(s, rng_state, a, b, W, n_skip, n_steps, p_global, out, accepted):
    cosh2w, sinh2w, tanh2w = _weight_tables(W)
    factors = _visible_factors(a)
    for c in range(s.shape[0]):
        accepted[c] += _chain_sweeps(s[c], rng_state[c], a, factors, b, W, cosh2w, sinh2w,
                                     tanh2w, n_skip, n_steps, p_global, out[c])


def spin_metropolis_sweeps(s, rng_state, a, b, W, n_steps, p_global, out, accepted, n_skip=0):
    """Single-spin-flip Metropolis on ``|psi|^2``; records after every sweep (after
    ``n_skip`` unrecorded ones).

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
        Accepted single-spin flips of the recorded sweeps, per chain (incremented).
    n_skip : int
        Sweeps run first and not recorded (burn-in or discarded sweeps): the same
        numbers as a call with ``n_steps = n_skip`` whose records are dropped.

    Notes
    -----
    Per chain the tables ``theta`` and ``tanh(theta)`` are computed afresh before
    the skipped and before the recorded sweeps and updated after every accepted flip (``theta -= 2 W[i] s_i``, and
    ``tanh`` by the subtraction formula with the table ``tanh(2 W)``, so an
    accepted flip costs O(M) arithmetic and no transcendental function).
    A proposal is accepted when ``u < (psi'/psi)^2`` for a uniform u.
    """
    work = s.shape[0] * (n_skip + n_steps) * W.size
    kernel = _sweeps_parallel if _threaded(work) and s.shape[0] > 1 else _sweeps_serial
    kernel(s, rng_state, a, b, W, n_skip, n_steps, p_global, out, accepted)


@njit(cache=True)
def _local_energy_row(sk, a, factors, b, W, cosh2w_t, sinh2w_t, bonds, field, coupling, theta,
                      ratios):
    """``(E_L, sx_local)`` of one configuration ``sk``; ``theta`` (M,) and ``ratios`` (N,)
    are scratch.

    All N flip ratios advance together over the hidden units (``cosh2w_t``, ``sinh2w_t``
    are the (M, N) transposed tables), so the inner loop runs over sites in contiguous
    memory and vectorizes; each ratio is still the product of :func:`_flip_ratio` in its
    order (j = 0, 1, ...), and the ratios are summed in site order: the same bits.
    """
    n_sites = sk.size
    _theta(sk, b, W, theta)
    for j in range(theta.size):
        theta[j] = math.tanh(theta[j])
    diag = 0.0
    for m in range(bonds.shape[0]):
        diag += sk[bonds[m, 0]] * sk[bonds[m, 1]]
    for i in range(n_sites):
        ratios[i] = _visible_factor(factors, a, sk[i], i)
    for j in range(theta.size):
        tj = theta[j]
        for i in range(n_sites):
            ratios[i] *= cosh2w_t[j, i] - sk[i] * tj * sinh2w_t[j, i]
    off = 0.0
    for i in range(n_sites):
        off += ratios[i]
    return -coupling * diag - field * off, off / n_sites


@njit(cache=True)
def _local_energy_tables(a, W):
    """``exp(-2 a s)`` (:func:`_visible_factors`) and ``cosh(2 W)^T``, ``sinh(2 W)^T`` (M, N)."""
    cosh2w_t = np.empty((W.shape[1], W.shape[0]))
    sinh2w_t = np.empty((W.shape[1], W.shape[0]))
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            x = 2.0 * W[i, j]
            cosh2w_t[j, i] = math.cosh(x)
            sinh2w_t[j, i] = math.sinh(x)
    return _visible_factors(a), cosh2w_t, sinh2w_t


@njit(cache=True, parallel=True)
def _local_energy_parallel(s, a, b, W, bonds, field, coupling, e_out, sx_out):
    factors, cosh2w_t, sinh2w_t = _local_energy_tables(a, W)
    for k in prange(s.shape[0]):
        theta = np.empty(b.size)
        ratios = np.empty(a.size)
        e_out[k], sx_out[k] = _local_energy_row(s[k], a, factors, b, W, cosh2w_t, sinh2w_t,
                                                bonds, field, coupling, theta, ratios)


@njit(cache=True)
def _local_energy_serial(s, a, b, W, bonds, field, coupling, e_out, sx_out):
    factors, cosh2w_t, sinh2w_t = _local_energy_tables(a, W)
    theta = np.empty(b.size)
    ratios = np.empty(a.size)
    for k in range(s.shape[0]):
        e_out[k], sx_out[k] = _local_energy_row(s[k], a, factors, b, W, cosh2w_t, sinh2w_t,
                                                bonds, field, coupling, theta, ratios)


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
    kernel = _local_energy_parallel if _threaded(s.shape[0] * W.size) else _local_energy_serial
    kernel(s, a, b, W, bonds, field, coupling, e_out, sx_out)


@njit(cache=True)
def _rbm_log_derivatives_row(sk, b, W, theta, row, theta_row):
    n_sites, n_hidden = W.shape
    _theta(sk, b, W, theta)
    for j in range(theta_row.size):      # theta itself, if asked for (empty otherwise)
        theta_row[j] = theta[j]
    for i in range(n_sites):
        row[i] = sk[i]
    for j in range(n_hidden):
        theta[j] = math.tanh(theta[j])
        row[n_sites + j] = theta[j]
    base = n_sites + n_hidden
    for i in range(n_sites):
        si = sk[i]
        off = base + i * n_hidden
        for j in range(n_hidden):
            row[off + j] = si * theta[j]


@njit(cache=True, parallel=True)
def _rbm_log_derivatives_parallel(s, b, W, out, theta_out):
    keep = theta_out.shape[0] > 0
    for k in prange(s.shape[0]):
        theta = np.empty(b.size)
        _rbm_log_derivatives_row(s[k], b, W, theta, out[k], theta_out[k] if keep else theta[:0])


@njit(cache=True)
def _rbm_log_derivatives_serial(s, b, W, out, theta_out):
    keep = theta_out.shape[0] > 0
    theta = np.empty(b.size)
    for k in range(s.shape[0]):
        _rbm_log_derivatives_row(s[k], b, W, theta, out[k], theta_out[k] if keep else theta[:0])


def rbm_log_derivatives(s, b, W, out, theta_out=None):
    """Log-derivatives of the plain RBM: ``out[n] = (s, tanh theta, s_i tanh theta_j)``.

    Parameters
    ----------
    s : ndarray (n, N) float64
    b, W : ndarray (M,), (N, M) float64
    out : ndarray (n, N + M + N M) float64
        Written: columns ``[a_i | b_j | W_ij (row-major)]``.
    theta_out : ndarray (n, M) float64 or None
        If given, written: ``theta`` itself (the numbers of :func:`spin_theta`).
    """
    if theta_out is None:
        theta_out = np.empty((0, b.size))
    kernel = (_rbm_log_derivatives_parallel if _threaded(s.shape[0] * W.size)
              else _rbm_log_derivatives_serial)
    kernel(s, b, W, out, theta_out)


@njit(cache=True)
def _symmetric_row(sk, tk, translations, shifted, row):
    """One row of :func:`symmetric_log_derivatives`; ``shifted`` (N, N) is scratch for
    ``s_{T_t(i)}``, gathered once for all filters so that the sums over ``t`` run over
    contiguous memory (same terms, same order: the same bits as summing the gather)."""
    n_sites = sk.size
    alpha = tk.shape[0]
    total = 0.0
    for i in range(n_sites):
        total += sk[i]
    row[0] = total
    for t in range(n_sites):
        for i in range(n_sites):
            shifted[t, i] = sk[translations[t, i]]
    for f in range(alpha):
        acc = 0.0
        for t in range(n_sites):
            acc += tk[f, t]
        row[1 + f] = acc
        base = 1 + alpha + f * n_sites
        for i in range(n_sites):
            row[base + i] = 0.0
        for t in range(n_sites):
            tt = tk[f, t]
            for i in range(n_sites):
                row[base + i] += tt * shifted[t, i]


@njit(cache=True, parallel=True)
def _symmetric_parallel(s, tanh_theta, translations, out):
    n_sites = s.shape[1]
    for k in prange(s.shape[0]):
        shifted = np.empty((n_sites, n_sites))
        _symmetric_row(s[k], tanh_theta[k], translations, shifted, out[k])


@njit(cache=True)
def _symmetric_serial(s, tanh_theta, translations, out):
    n_sites = s.shape[1]
    shifted = np.empty((n_sites, n_sites))
    for k in range(s.shape[0]):
        _symmetric_row(s[k], tanh_theta[k], translations, shifted, out[k])


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
    kernel = (_symmetric_parallel if _threaded(tanh_theta.size * s.shape[1])
              else _symmetric_serial)
    kernel(s, tanh_theta, translations, out)
