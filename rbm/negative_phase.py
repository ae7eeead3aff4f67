"""Negative-phase samplers of binary-binary RBMs: CD-k, PCD and parallel tempering.

The samplers work in the *internal* parametrization of
:class:`rbm.BernoulliRBM`: visible states ``u = alpha v + beta0`` with
``v`` in {0, 1} (``alpha, beta0 = 1, 0`` for {0, 1} units, ``2, -1`` for
{-1, +1} units), energy ``E(u, h) = -c.u - d.h - u.U.h`` and, at inverse
temperature ``beta``,
``p_beta(u, g) ∝ exp(-beta E(u, g))``, where the hidden units may also be
encoded, ``g = alpha_h h + beta_h`` (``E = -c.u - d.g - u.U.g``).

Conditionals at ``beta``::

    p(h_j = 1 | u) = sigmoid(beta alpha_h (d_j + (u U)_j))
    p(v_i = 1 | g) = sigmoid(beta alpha (c_i + (U g)_i))

Two extra moves keep chains mixing where block Gibbs cannot (ordered
phases, where the data has two modes related by the global flip
``v -> 1 - v``):

* ``global_flip_move``: Metropolis proposal ``v -> 1 - v`` (attempted with
  probability 1/2) accepted with ``min(1, exp(F_beta(u) - F_beta(u')))``. The proposal is its own inverse,
  so detailed balance holds for any model; for a model without that
  symmetry it is simply rejected most of the time.
* parallel tempering: replicas at ``beta_0 = 1 > beta_1 > ... > beta_{R-1}``
  each make a Gibbs step, then neighbouring replicas swap their visible
  states with probability
  ``min(1, exp(F_a(u_a) + F_b(u_b) - F_a(u_b) - F_b(u_a)))`` (free energies
  with the hidden units summed out, so the swap targets the marginals).

All functions take an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from ._utils import softplus
from .kernels import bernoulli_from_tanh

__all__ = ["InternalParams", "sample_hidden", "sample_visible", "gibbs",
           "free_energy_internal", "global_flip_move", "TemperedChains"]


class InternalParams:
    """Parameters in the internal encoding (views of the training arrays).

    Attributes
    ----------
    U : ndarray (n_visible, n_hidden)
    c : ndarray (n_visible,)
    d : ndarray (n_hidden,)
    alpha, beta0 : float
        Visible encoding ``u = alpha v + beta0``.
    alpha_h, beta_h : float
        Hidden encoding ``g = alpha_h h + beta_h``.
    """

    __slots__ = ("U", "c", "d", "alpha", "beta0", "alpha_h", "beta_h", "dtype")

    def __init__(self, U, c, d, alpha, beta0, alpha_h=1.0, beta_h=0.0):
        self.U, self.c, self.d = U, c, d
        self.alpha, self.beta0 = float(alpha), float(beta0)
        self.alpha_h, self.beta_h = float(alpha_h), float(beta_h)
        self.dtype = U.dtype

    def encode(self, v_bits: np.ndarray) -> np.ndarray:
        """{0,1} bits -> internal visible states (a new array)."""
        u = np.asarray(v_bits).astype(self.dtype, copy=True)
        if self.alpha != 1.0:
            u *= self.alpha
        if self.beta0 != 0.0:
            u += self.beta0
        return u

    def decode(self, u: np.ndarray) -> np.ndarray:
        """Internal visible states -> {0,1} bits (uint8)."""
        return np.rint((u - self.beta0) / self.alpha).astype(np.uint8)

    def flip(self, u: np.ndarray) -> np.ndarray:
        """The global flip ``v -> 1 - v`` in internal coordinates."""
        return (self.alpha + 2.0 * self.beta0) - u

    def hidden_input(self, u, beta=1.0):
        """``beta (d + u U)`` (n, n_hidden)."""
        x = u @ self.U
        x += self.d
        if not np.isscalar(beta) or beta != 1.0:
            x *= beta
        return x

    def hidden_mean(self, u=None, *, x=None, out=None):
        """``E[g | u] = alpha_h sigmoid(alpha_h x) + beta_h`` with ``x = d + u U`` (beta = 1).

        Pass the hidden input ``x`` instead of ``u`` when it is already known
        (it is left unchanged), and ``out`` to write into an existing array.
        """
        if x is None:
            x = self.hidden_input(u)
            if out is None:
                out = x
        return _mean_from_input(x, self.alpha_h, self.beta_h, out)


def _mean_from_input(x, alpha, beta0, out=None):
    """``alpha sigmoid(alpha x) + beta0`` into ``out`` (new if None; via tanh: one ufunc)."""
    if alpha == 2.0 and beta0 == -1.0:
        return np.tanh(x, out=out)          # 2 sigmoid(2x) - 1 = tanh(x)
    out = np.multiply(x, 0.5 * alpha, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5 * alpha
    if beta0 != 0.0:
        out += beta0
    return out


def _draw(x, alpha, beta0, rng, out=None):
    """Binary units with ``P(bit = 1) = sigmoid(alpha x)``, encoded ``alpha bit + beta0``.

    ``x`` (2-D) is left unchanged; the states go to ``out`` (new if None).
    ``P(bit=1) = (1 + tanh(alpha x / 2)) / 2``: one ``tanh`` (SIMD in NumPy,
    several times faster than ``scipy.special.expit``), and ``bit = [r < P]``
    with ``r`` uniform in [0, 1), compared in a fused kernel.
    """
    half = 0.5 * alpha
    t = np.tanh(x) if half == 1.0 else np.tanh(x * half)
    r = rng.random(x.shape, dtype=x.dtype)
    if out is None:
        out = np.empty_like(x)
    bernoulli_from_tanh(t, r, x.dtype.type(alpha + beta0), x.dtype.type(beta0), out)
    return out


def _scale(x, beta):
    if not np.isscalar(beta) or beta != 1.0:
        x *= beta
    return x


def sample_hidden(u, p: InternalParams, rng, beta=1.0):
    """Draw internal hidden states ``g ~ p_beta(g | u)``; ``beta`` scalar or (n, 1)."""
    return _draw(p.hidden_input(u, beta), p.alpha_h, p.beta_h, rng)


def sample_visible(g, p: InternalParams, rng, beta=1.0):
    """Draw internal visible states ``u ~ p_beta(u | g)``."""
    y = g @ p.U.T
    y += p.c
    return _draw(_scale(y, beta), p.alpha, p.beta0, rng)


def gibbs(u, p: InternalParams, n_steps: int, rng, beta=1.0):
    """``n_steps`` block-Gibbs steps ``u -> g -> u'``; returns the new ``u``."""
    for _ in range(n_steps):
        u = sample_visible(sample_hidden(u, p, rng, beta), p, rng, beta)
    return u


def advance_chains(u, x, p: InternalParams, n_steps: int, rng, *, flip_moves: bool):
    """Advance PCD/CD chains at beta = 1 in place, keeping their hidden inputs up to date.

    Parameters
    ----------
    u : ndarray (n, n_visible)
        Internal visible states; overwritten with the new states.
    x : ndarray (n, n_hidden)
        ``d + u U`` for ``u`` on entry; overwritten with that of the new states.
    n_steps : int
        Gibbs steps; with ``flip_moves`` each is followed by a global-flip
        Metropolis move (attempted with probability 1/2).

    Returns
    -------
    float
        Mean acceptance of the attempted flips (NaN without flip moves).

    Notes
    -----
    Keeping ``x`` saves one matrix product per step (the caller may even
    hand in ``x`` computed before the last parameter update, as PCD in
    scikit-learn does), and makes the flip move nearly free: ``flip(u) =
    kappa - u`` (``kappa = alpha + 2 beta0``) has hidden input
    ``2 d + kappa colsum(U) - x``.
    """
    kappa = p.alpha + 2.0 * p.beta0
    if flip_moves:
        # flip(u) = kappa - u has hidden input x_shift - x and c.flip(u) = c_shift - c.u
        x_shift = 2.0 * p.d + kappa * p.U.sum(axis=0)
        c_shift = kappa * p.c.sum()
        tried = accepted = 0
    g = np.empty_like(x)
    for _ in range(n_steps):
        _draw(x, p.alpha_h, p.beta_h, rng, out=g)
        y = np.matmul(g, p.U.T, out=u)     # u is free until its new states are drawn
        y += p.c
        _draw(y, p.alpha, p.beta0, rng, out=u)
        np.matmul(u, p.U, out=x)
        x += p.d
        if flip_moves:
            n = u.shape[0]
            r = rng.random(2 * n)
            attempt = r[:n] < 0.5
            x_flip = x_shift - x
            # log acceptance ratio F(u) - F(flip u)
            log_ratio = c_shift - 2.0 * (u @ p.c)
            log_ratio += _hidden_free_part(x_flip, p)
            log_ratio -= _hidden_free_part(x, p)
            ok = attempt & (np.log(r[n:]) < log_ratio)
            tried += int(np.count_nonzero(attempt))
            n_ok = int(np.count_nonzero(ok))
            if n_ok:
                accepted += n_ok
                u[ok] = kappa - u[ok]
                x[ok] = x_flip[ok]
    if flip_moves and tried:
        return accepted / tried
    return float("nan")


def _hidden_free_part(x, p: InternalParams):
    """``sum_j [beta_h x_j + softplus(alpha_h x_j)]`` (n,)."""
    if p.alpha_h == 1.0 and p.beta_h == 0.0:
        return softplus(x).sum(axis=1)
    if p.alpha_h == 2.0 and p.beta_h == -1.0:
        # {-1, +1} hidden units: -x + softplus(2x) = log(2 cosh x) = |x| + log1p(exp(-2|x|))
        a = np.abs(x)
        t = np.multiply(a, -2.0, dtype=x.dtype)
        np.exp(t, out=t)
        np.log1p(t, out=t)
        t += a
        return t.sum(axis=1)
    return (p.beta_h * x + softplus(p.alpha_h * x)).sum(axis=1)


def free_energy_internal(u, p: InternalParams, beta=1.0):
    """``F_beta(u) = -beta c.u - sum_j [beta_h x_j + softplus(alpha_h x_j)]``, ``x = beta (d + u U)``."""
    b = beta if np.isscalar(beta) else np.reshape(beta, (-1,))
    x = p.hidden_input(u, b if np.isscalar(b) else b[:, None])
    out = -b * (u @ p.c)
    if p.alpha_h == 1.0 and p.beta_h == 0.0:
        return out - softplus(x).sum(axis=1)
    return out - (p.beta_h * x + softplus(p.alpha_h * x)).sum(axis=1)


def global_flip_move(u, p: InternalParams, rng, beta=1.0):
    """Global-flip Metropolis move, attempted on each chain with probability 1/2 (in place).

    Returns the acceptance rate of the attempted flips. Attempting with
    probability 1/2 (a mixture of the identity and the flip kernel) matters:
    for a flip-symmetric model the flip is always accepted, and an always
    applied flip would alternate every chain between the two modes
    deterministically instead of mixing them.
    """
    n = u.shape[0]
    attempt = rng.random(n) < 0.5
    log_u = np.log(rng.random(n))
    if not np.any(attempt):
        return float("nan")
    ua = u[attempt]
    uf = p.flip(ua)
    b = beta if np.isscalar(beta) else np.asarray(beta)[attempt]
    log_ratio = free_energy_internal(ua, p, b) - free_energy_internal(uf, p, b)
    accept = log_u[attempt] < log_ratio
    idx = np.flatnonzero(attempt)[accept]
    u[idx] = uf[accept]
    return float(np.mean(accept))


class TemperedChains:
    """Parallel-tempering chains: ``n_chains`` groups of ``n_replicas`` replicas.

    Replica ``r`` of every group runs at ``betas[r]`` (``betas[0] = 1``,
    geometric down to ``beta_min``). The samples of the model are the
    ``beta = 1`` replicas.

    Parameters
    ----------
    u0 : ndarray (n_chains, n_visible)
        Initial states of all replicas (copied to every temperature).
    n_replicas : int
        Number of temperatures (>= 2).
    beta_min : float
        Smallest inverse temperature.
    """

    def __init__(self, u0, n_replicas: int, beta_min: float = 0.2):
        self.n_chains = u0.shape[0]
        self.n_replicas = n_replicas
        self.betas = np.geomspace(1.0, beta_min, n_replicas)
        self.state = np.repeat(u0[None, :, :], n_replicas, axis=0).copy()  # (R, n, nv)
        self.n_swaps_accepted = np.zeros(n_replicas - 1)
        self.n_swaps_tried = np.zeros(n_replicas - 1)

    @property
    def samples(self) -> np.ndarray:
        """The ``beta = 1`` replicas (n_chains, n_visible) (a view)."""
        return self.state[0]

    def step(self, p: InternalParams, k: int, rng, *, flip_moves: bool = False) -> None:
        """``k`` Gibbs steps in every replica, optional flip moves, then swaps."""
        R, n, nv = self.state.shape
        flat = self.state.reshape(R * n, nv)
        beta_col = np.repeat(self.betas, n)[:, None].astype(flat.dtype)
        flat = gibbs(flat, p, k, rng, beta_col)
        if flip_moves:
            global_flip_move(flat, p, rng, beta_col[:, 0])
        self.state = flat.reshape(R, n, nv)
        # swaps between neighbouring temperatures, even pairs then odd pairs
        for parity in (0, 1):
            for r in range(parity, R - 1, 2):
                ba, bb = self.betas[r], self.betas[r + 1]
                ua, ub = self.state[r], self.state[r + 1]
                log_acc = (free_energy_internal(ua, p, ba) + free_energy_internal(ub, p, bb)
                           - free_energy_internal(ub, p, ba) - free_energy_internal(ua, p, bb))
                acc = np.log(rng.random(n)) < log_acc
                if np.any(acc):
                    tmp = ua[acc].copy()
                    ua[acc] = ub[acc]
                    ub[acc] = tmp
                self.n_swaps_accepted[r] += acc.sum()
                self.n_swaps_tried[r] += n

    def swap_rates(self) -> np.ndarray:
        """Acceptance rate of each neighbouring swap so far (n_replicas - 1,)."""
        return self.n_swaps_accepted / np.maximum(self.n_swaps_tried, 1)
