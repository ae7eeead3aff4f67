"""Numba kernels of the VMC samplers (plain arrays in, arrays out).

Conventions shared by every kernel:

* Walker ``w`` holds ``x[w]`` (n_visible,) float64 with
  ``n_visible = n_particles * n_dims`` and particle ``p``'s coordinates at
  ``x[w, p*n_dims:(p+1)*n_dims]``.
* The wavefunction is ``log Psi = f * (-F_rbm(x)) + J(x)`` with the RBM free
  energy ``F_rbm(x) = sum_i (x_i - a_i)^2 inv_s2_i / 2
  - sum_j softplus(b_j + sum_i x_i W_ij inv_s2_i)``, ``f`` = 1 (Psi = F) or
  1/2 (Psi = sqrt(F)), and the Pade-Jastrow factor
  ``J = sum_{p<q} jastrow_a r_pq / (1 + beta r_pq)`` (off when ``use_jastrow``
  is False).
* Randomness: every walker owns a xoshiro256** stream ``rng_state[w]``
  (4 uint64 words, mutated), so a result depends on the seeds only, never on
  the number of numba threads. Normal variates by the Box-Muller transform.
* Hot loops return counts; the caller turns them into acceptance rates.

Each kernel has a slow NumPy reference in ``tests/vmc/vmc_reference.py``; the
tests feed both the same random numbers and require the same output.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..streams import normal_pair, uniform

__all__ = ["normal_fill", "metropolis_sweeps", "importance_sweeps",
           "gibbs_sweeps"]


# ------------------------------------------------------------ helpers
@njit(cache=True)
def _softplus(t):
    if t > 0.0:
        return t + math.log1p(math.exp(-t))
    return math.log1p(math.exp(t))


@njit(cache=True)
def _sigmoid(t):
    if t >= 0.0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


@njit(cache=True)
def _init_walker(xw, a, b, W, inv_s2, n_particles, n_dims, theta, sp, sg, dist):
    """Hidden inputs ``theta``, their softplus ``sp`` and sigmoid ``sg``, and pair distances."""
    n_visible, n_hidden = W.shape
    for j in range(n_hidden):
        t = b[j]
        for i in range(n_visible):
            t += xw[i] * inv_s2[i] * W[i, j]
        theta[j] = t
        sp[j] = _softplus(t)
        sg[j] = _sigmoid(t)
    for p in range(n_particles):
        dist[p, p] = 0.0
        for q in range(p + 1, n_particles):
            r2 = 0.0
            for d in range(n_dims):
                diff = xw[p * n_dims + d] - xw[q * n_dims + d]
                r2 += diff * diff
            r = math.sqrt(r2)
            dist[p, q] = r
            dist[q, p] = r


@njit(cache=True)
def _jastrow_pair(r, jastrow_a, beta):
    return jastrow_a * r / (1.0 + beta * r)


@njit(cache=True)
def _particle_grad(xw, p, a, W, inv_s2, sg, f, n_particles, n_dims, dist,
                   use_jastrow, jastrow_a, beta, out):
    """d log Psi / d x_{p,d} for the ``n_dims`` coordinates of particle ``p`` into ``out``."""
    n_hidden = W.shape[1]
    for d in range(n_dims):
        i = p * n_dims + d
        acc = -(xw[i] - a[i])
        for j in range(n_hidden):
            acc += W[i, j] * sg[j]
        out[d] = f * acc * inv_s2[i]
    if use_jastrow:
        for q in range(n_particles):
            if q == p:
                continue
            r = dist[p, q]
            den = 1.0 + beta * r
            up_over_r = jastrow_a / (den * den) / r
            for d in range(n_dims):
                out[d] += up_over_r * (xw[p * n_dims + d] - xw[q * n_dims + d])


# ------------------------------------------------------------- kernels
# Twin by design of importance_sweeps (one jitted loop per move kind keeps the inner loop fast)
@njit(cache=True, parallel=True)
def metropolis_sweeps(x, rng_state, a, b, W, inv_s2, f, n_particles, n_dims,
                      use_jastrow, jastrow_a, beta, step, n_steps, out_x, out_accepted):
    """Brute-force Metropolis with single-particle moves, ``n_steps`` sweeps per walker.

    One sweep proposes a move of each particle in turn,
    ``x_p' = x_p + step * (2u - 1)`` per coordinate (u uniform in [0, 1)),
    accepted with probability ``min(1, |Psi(x')/Psi(x)|^2)`` (one more
    uniform). The hidden inputs, their softplus and the pair distances are
    kept up to date incrementally: O(n_dims * n_hidden + n_particles *
    n_dims) per move.

    Parameters
    ----------
    x : ndarray (n_walkers, n_visible) float64
        Walker positions; mutated (the positions after the last sweep).
    rng_state : ndarray (n_walkers, 4) uint64
        Per-walker xoshiro256** states; mutated.
    a, b, W, inv_s2 : ndarray (n_visible,), (n_hidden,), (n_visible, n_hidden), (n_visible,)
        RBM visible bias, hidden bias, weights and ``1 / sigma^2``.
    f : float
        1 for Psi = F, 0.5 for Psi = sqrt(F).
    n_particles, n_dims : int
    use_jastrow : bool
    jastrow_a, beta : float
        Pade-Jastrow cusp constant and ``beta``.
    step : float
        Half width of the uniform proposal.
    n_steps : int
        Sweeps per walker.
    out_x : ndarray (n_walkers, n_steps, n_visible) float64
        Positions after every sweep (written).
    out_accepted : ndarray (n_walkers,) int64
        Accepted moves per walker (written).
    """
    n_walkers, n_visible = x.shape
    n_hidden = W.shape[1]
    for w in prange(n_walkers):
        s = rng_state[w]
        xw = x[w]
        theta = np.empty(n_hidden)
        sp = np.empty(n_hidden)
        sg = np.empty(n_hidden)
        theta_new = np.empty(n_hidden)
        sp_new = np.empty(n_hidden)
        dist = np.empty((n_particles, n_particles))
        dist_new = np.empty(n_particles)
        xp_new = np.empty(n_dims)
        _init_walker(xw, a, b, W, inv_s2, n_particles, n_dims, theta, sp, sg, dist)
        accepted = 0
        for t in range(n_steps):
            for p in range(n_particles):
                base = p * n_dims
                log_ratio = 0.0
                for j in range(n_hidden):
                    theta_new[j] = theta[j]
                for d in range(n_dims):
                    i = base + d
                    xo = xw[i]
                    xn = xo + step * (2.0 * uniform(s) - 1.0)
                    xp_new[d] = xn
                    log_ratio -= 0.5 * f * ((xn - a[i]) ** 2 - (xo - a[i]) ** 2) * inv_s2[i]
                    dx = (xn - xo) * inv_s2[i]
                    for j in range(n_hidden):
                        theta_new[j] += dx * W[i, j]
                for j in range(n_hidden):
                    sp_new[j] = _softplus(theta_new[j])
                    log_ratio += f * (sp_new[j] - sp[j])
                if use_jastrow:
                    for q in range(n_particles):
                        if q == p:
                            continue
                        r2 = 0.0
                        for d in range(n_dims):
                            diff = xp_new[d] - xw[q * n_dims + d]
                            r2 += diff * diff
                        r = math.sqrt(r2)
                        dist_new[q] = r
                        log_ratio += (_jastrow_pair(r, jastrow_a, beta)
                                      - _jastrow_pair(dist[p, q], jastrow_a, beta))
                u = uniform(s)
                if log_ratio >= 0.0 or u < math.exp(2.0 * log_ratio):
                    accepted += 1
                    for d in range(n_dims):
                        xw[base + d] = xp_new[d]
                    for j in range(n_hidden):
                        theta[j] = theta_new[j]
                        sp[j] = sp_new[j]
                    if use_jastrow:
                        for q in range(n_particles):
                            if q != p:
                                dist[p, q] = dist_new[q]
                                dist[q, p] = dist_new[q]
            for i in range(n_visible):
                out_x[w, t, i] = xw[i]
        out_accepted[w] = accepted


# Twin by design of metropolis_sweeps (same per-walker set-up; the Langevin move differs)
@njit(cache=True, parallel=True)
def importance_sweeps(x, rng_state, a, b, W, inv_s2, f, n_particles, n_dims,
                      use_jastrow, jastrow_a, beta, dt, n_steps, out_x, out_accepted):
    """Metropolis-Hastings importance sampling (Langevin proposal), single-particle moves.

    Particle ``p`` moves to ``y = x_p + D F_p(x) dt + sqrt(dt) xi`` with
    diffusion constant ``D = 1/2``, quantum force ``F = 2 grad log Psi`` and
    ``xi`` standard normal; accepted with probability
    ``min(1, G(x|y) |Psi(y)|^2 / (G(y|x) |Psi(x)|^2))`` where the
    Fokker-Planck Green's function is
    ``G(y|x) ∝ exp(-(y - x - D dt F(x))^2 / (4 D dt))``. Incremental updates
    as in :func:`metropolis_sweeps` (O(n_dims n_hidden + n_particles n_dims)
    per move, including the force at the proposed point).

    Parameters
    ----------
    As :func:`metropolis_sweeps`, with ``dt`` (float, > 0) the time step in
    place of ``step``. ``x``, ``rng_state``, ``out_x`` and ``out_accepted``
    are mutated/written.
    """
    n_walkers, n_visible = x.shape
    n_hidden = W.shape[1]
    sqrt_dt = math.sqrt(dt)
    for w in prange(n_walkers):
        s = rng_state[w]
        xw = x[w]
        theta = np.empty(n_hidden)
        sp = np.empty(n_hidden)
        sg = np.empty(n_hidden)
        theta_new = np.empty(n_hidden)
        sp_new = np.empty(n_hidden)
        sg_new = np.empty(n_hidden)
        dist = np.empty((n_particles, n_particles))
        dist_new = np.empty((n_particles, n_particles))
        xp_old = np.empty(n_dims)
        g_old = np.empty(n_dims)
        g_new = np.empty(n_dims)
        noise = np.empty(n_dims + 1)
        _init_walker(xw, a, b, W, inv_s2, n_particles, n_dims, theta, sp, sg, dist)
        accepted = 0
        for t in range(n_steps):
            for p in range(n_particles):
                base = p * n_dims
                _particle_grad(xw, p, a, W, inv_s2, sg, f, n_particles, n_dims, dist,
                               use_jastrow, jastrow_a, beta, g_old)
                for d in range(0, n_dims, 2):
                    z1, z2 = normal_pair(s)
                    noise[d] = z1
                    noise[d + 1] = z2
                log_ratio = 0.0
                for j in range(n_hidden):
                    theta_new[j] = theta[j]
                # propose: move particle p in place, remember the old coordinates
                for d in range(n_dims):
                    i = base + d
                    xo = xw[i]
                    xp_old[d] = xo
                    xn = xo + dt * g_old[d] + sqrt_dt * noise[d]
                    xw[i] = xn
                    log_ratio -= 0.5 * f * ((xn - a[i]) ** 2 - (xo - a[i]) ** 2) * inv_s2[i]
                    dx = (xn - xo) * inv_s2[i]
                    for j in range(n_hidden):
                        theta_new[j] += dx * W[i, j]
                for j in range(n_hidden):
                    sp_new[j] = _softplus(theta_new[j])
                    sg_new[j] = _sigmoid(theta_new[j])
                    log_ratio += f * (sp_new[j] - sp[j])
                if use_jastrow:
                    for q in range(n_particles):
                        for q2 in range(n_particles):
                            dist_new[q, q2] = dist[q, q2]
                    for q in range(n_particles):
                        if q == p:
                            continue
                        r2 = 0.0
                        for d in range(n_dims):
                            diff = xw[base + d] - xw[q * n_dims + d]
                            r2 += diff * diff
                        r = math.sqrt(r2)
                        dist_new[p, q] = r
                        dist_new[q, p] = r
                        log_ratio += (_jastrow_pair(r, jastrow_a, beta)
                                      - _jastrow_pair(dist[p, q], jastrow_a, beta))
                _particle_grad(xw, p, a, W, inv_s2, sg_new, f, n_particles, n_dims, dist_new,
                               use_jastrow, jastrow_a, beta, g_new)
                # log G(x|y) - log G(y|x), with D dt F = dt * grad log Psi and 4 D dt = 2 dt
                log_green = 0.0
                for d in range(n_dims):
                    back = xp_old[d] - xw[base + d] - dt * g_new[d]
                    fwd = xw[base + d] - xp_old[d] - dt * g_old[d]
                    log_green += (fwd * fwd - back * back) / (2.0 * dt)
                u = uniform(s)
                log_accept = 2.0 * log_ratio + log_green
                if log_accept >= 0.0 or u < math.exp(log_accept):
                    accepted += 1
                    for j in range(n_hidden):
                        theta[j] = theta_new[j]
                        sp[j] = sp_new[j]
                        sg[j] = sg_new[j]
                    if use_jastrow:
                        for q in range(n_particles):
                            dist[p, q] = dist_new[p, q]
                            dist[q, p] = dist_new[q, p]
                else:
                    for d in range(n_dims):
                        xw[base + d] = xp_old[d]
            for i in range(n_visible):
                out_x[w, t, i] = xw[i]
        out_accepted[w] = accepted


@njit(cache=True, parallel=True)
def gibbs_sweeps(x, rng_state, a, b, W, sigma, inv_s2, n_steps, out_x):
    """Block Gibbs sampling of the RBM marginal ``p(x) ∝ exp(-F_rbm(x))``.

    One step: ``h_j = 1`` with probability
    ``sigmoid(b_j + sum_i x_i W_ij / sigma_i^2)`` (one uniform per hidden
    unit, in order j = 0..), then ``x_i = a_i + sum_j W_ij h_j + sigma_i z``
    (normals drawn in pairs by Box-Muller, in order i = 0..). With
    ``Psi = sqrt(F)`` this samples ``|Psi|^2`` exactly (no rejection).

    Parameters
    ----------
    x : ndarray (n_walkers, n_visible) float64
        Walker positions; mutated.
    rng_state : ndarray (n_walkers, 4) uint64
        Per-walker streams; mutated.
    a, b, W : ndarray (n_visible,), (n_hidden,), (n_visible, n_hidden)
    sigma, inv_s2 : ndarray (n_visible,)
        Widths and ``1 / sigma^2``.
    n_steps : int
    out_x : ndarray (n_walkers, n_steps, n_visible) float64
        Positions after every step (written).
    """
    n_walkers, n_visible = x.shape
    n_hidden = W.shape[1]
    for w in prange(n_walkers):
        s = rng_state[w]
        xw = x[w]
        h = np.empty(n_hidden)
        for t in range(n_steps):
            for j in range(n_hidden):
                th = b[j]
                for i in range(n_visible):
                    th += xw[i] * inv_s2[i] * W[i, j]
                h[j] = 1.0 if uniform(s) < _sigmoid(th) else 0.0
            for i in range(0, n_visible, 2):
                z1, z2 = normal_pair(s)
                mean = a[i]
                for j in range(n_hidden):
                    mean += W[i, j] * h[j]
                xw[i] = mean + sigma[i] * z1
                if i + 1 < n_visible:
                    mean = a[i + 1]
                    for j in range(n_hidden):
                        mean += W[i + 1, j] * h[j]
                    xw[i + 1] = mean + sigma[i + 1] * z2
            for i in range(n_visible):
                out_x[w, t, i] = xw[i]


@njit(cache=True, parallel=True)
def normal_fill(rng_state, scale, out):
    """Fill ``out`` (n_walkers, n) float64 with ``scale * N(0, 1)`` from each walker's stream.

    ``rng_state`` (n_walkers, 4) uint64 is mutated; used for the walkers'
    starting positions so that they too depend on the walker's index only.
    """
    n_walkers, n = out.shape
    for w in prange(n_walkers):
        s = rng_state[w]
        for i in range(0, n, 2):
            z1, z2 = normal_pair(s)
            out[w, i] = scale * z1
            if i + 1 < n:
                out[w, i + 1] = scale * z2
