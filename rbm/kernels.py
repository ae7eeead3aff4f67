"""Numba kernels of RBM training: the element-wise passes NumPy cannot fuse.

Matrix products stay in BLAS and ``tanh`` in NumPy's SIMD ufunc (a scalar
``tanh`` in a numba loop is ~10x slower per element); what these kernels
replace are chains of 5-9 NumPy calls with temporaries (a Bernoulli draw,
an Adam or momentum step), whose per-call overhead dominates a minibatch
update of a small RBM (``benchmarks/rbm_speed.py``). Single-threaded and
free of random numbers, so deterministic whatever the thread count.
"""

from __future__ import annotations

import math

from numba import njit

__all__ = ["bernoulli_from_tanh", "adam_update", "momentum_update", "tie_translations"]


@njit(cache=True)
def bernoulli_from_tanh(t, r, one, zero, out):
    """Binary units from ``t = tanh(a x / 2)`` and uniforms ``r`` in [0, 1).

    ``out = one`` where ``r < (1 + t) / 2 = sigmoid(a x)``, else ``zero``
    (2-D arrays of one shape; ``out`` may alias ``t`` or ``r``).
    """
    n, m = t.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = one if r[i, j] < 0.5 * (1.0 + t[i, j]) else zero


# error_model="numpy": no zero-division check in the loop (the denominator is
# >= eps > 0), which lets LLVM vectorize it (6x faster).
@njit(cache=True, error_model="numpy")
def adam_update(theta, grad, m, s, beta1, beta2, step, eps):
    """One Adam ascent step in place on 1-D arrays (bias correction folded in).

    ``m = b1 m + (1 - b1) g``; ``s = b2 s + (1 - b2) g^2``;
    ``theta += step * m / (sqrt(s) + eps)`` with ``step`` and ``eps``
    already scaled by the bias corrections.
    """
    for i in range(theta.shape[0]):
        g = grad[i]
        mi = beta1 * m[i] + (1.0 - beta1) * g
        si = beta2 * s[i] + (1.0 - beta2) * g * g
        m[i] = mi
        s[i] = si
        theta[i] += step * mi / (math.sqrt(si) + eps)


@njit(cache=True)
def momentum_update(theta, grad, velocity, momentum, learning_rate):
    """Heavy-ball ascent in place on 1-D arrays: ``v = mu v + lr g``; ``theta += v``."""
    for i in range(theta.shape[0]):
        v = momentum * velocity[i] + learning_rate * grad[i]
        velocity[i] = v
        theta[i] += v


@njit(cache=True)
def tie_translations(U, offset, alpha, sums):
    """Replace every orbit of translation-tied entries of ``U`` by its mean, in place.

    ``U`` (N, alpha N); ``offset[i, t]`` (N, N) the lattice offset d with
    ``t + d = i``; the orbit (c, d) holds ``U[i, c N + t]`` for ``offset[i, t] = d``
    (:mod:`rbm.tying`). ``sums`` (alpha, N) float64 work array. Both passes run
    through ``U`` in memory order (the orbit sums stay in cache).
    """
    n = offset.shape[0]
    sums[...] = 0.0
    for i in range(n):
        for c in range(alpha):
            for t in range(n):
                sums[c, offset[i, t]] += U[i, c * n + t]
    sums /= n
    for i in range(n):
        for c in range(alpha):
            for t in range(n):
                U[i, c * n + t] = sums[c, offset[i, t]]
