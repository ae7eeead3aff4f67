"""Metropolis-Hastings with an RBM as the proposal: exact samples of a caller's target.

A trained RBM is only an approximation of the distribution it learned.
Used as the *proposal* of a Metropolis-Hastings chain, it still produces
samples of the target ``pi`` exactly, however poor it is; its quality shows
up as the acceptance rate and the autocorrelation time instead of as a bias
(L. Wang, PRE 96, 051301 (2017); L. Huang and L. Wang, PRB 95, 035105
(2017)). This module knows nothing of physics: the target is a callable
``log_target(V) -> log pi(V) + const`` on visible configurations.

Derivation
----------
Binary RBM with visible ``v`` in {0, 1}^n, hidden ``h`` in {0, 1}^m,
energy ``E(v, h) = -a.v - b.h - v.W.h``, marginal
``p(v) = exp(-F(v)) / Z``, ``F(v) = -a.v - sum_j softplus(b_j + (v W)_j)``.

One block-Gibbs step ``v -> h ~ p(h|v) -> v' ~ p(v'|h)`` has the kernel
``Q(v -> v') = sum_h p(h|v) p(v'|h)``. With ``p(v, h) = p(v) p(h|v) =
p(h) p(v'|h)`` evaluated at the pairs ``(v, h)`` and ``(v', h)``::

    p(v) Q(v -> v') = sum_h p(v, h) p(v', h) / p(h) = p(v') Q(v' -> v),

symmetric in ``v, v'``: Q is reversible with respect to ``p``. So is
``Q^k`` (k steps): ``p(v) Q^k(v, v') = sum p(v) Q(v, u1) ... Q(u_{k-1}, v')``
and reversing every factor gives ``p(v') Q^k(v', v)``. Hence the proposal
ratio needs no sum over hidden states::

    Q^k(v' -> v) / Q^k(v -> v') = p(v) / p(v') = exp(F(v') - F(v)),

and the Metropolis-Hastings acceptance probability for a target ``pi`` is::

    A(v -> v') = min(1, [pi(v') Q^k(v' -> v)] / [pi(v) Q^k(v -> v')])
               = min(1, exp([log pi(v') + F(v')] - [log pi(v) + F(v)])).

The kernel ``T(v -> v') = Q^k(v -> v') A(v -> v')`` (v' != v) satisfies
detailed balance ``pi(v) T(v -> v') = pi(v') T(v' -> v)``, so ``pi`` is
stationary; every state is reachable in one step (``0 < p(v'|h) < 1``), so
the chain is ergodic and ``pi`` its only stationary distribution. The RBM's
normalization Z cancels, and ``pi`` need only be known up to a constant.

Optional extra moves, each leaving ``pi`` invariant on its own (the chain
applies them in sequence, which keeps ``pi`` stationary):

- ``global_flip``: with probability 1/2 propose ``v -> 1 - v`` (a symmetric
  proposal), accepted with ``min(1, pi(1 - v) / pi(v))``, i.e. always for a
  target symmetric under the flip (the Z2 of a zero-field Ising model).
- ``local_move``: the caller's own move (e.g. Metropolis sweeps), which
  must leave ``pi`` invariant.

Precision: the Gibbs proposal runs in ``dtype`` (float32 by default, as
batched BLAS products), each unit switched on iff ``logit(u) < x`` with
``u`` a float64 uniform (so probabilities as small as 1e-16 are drawn
correctly: float32 uniforms would make a saturated unit's rare state
impossible to propose but not to leave, a real bias). Rounding changes the
proposal kernel by a relative ~1e-7 in each conditional probability; ``F`` and
``log pi`` enter the acceptance in float64 (``F`` from a float64 product), so
the stationary distribution is ``pi`` up to the float32 rounding of the
proposal's own reversibility, a relative effect of order 1e-7, far below
any statistical error. ``dtype=np.float64`` removes even that.

Randomness is keyed by chain index (:mod:`mccore.rng`): chain ``c`` draws
its Gibbs uniforms from ``stream(seed, c, 0)``, its accept/flip uniforms from
``stream(seed, c, 1)`` and its start from ``stream(seed, c, 2)``, so chain
``c``'s trajectory depends only on the seed (not on the thread count, the
number of chains beside it, or how a run is split into calls) -- as long as
no ``local_move`` is used: that one gets a single stream for all chains.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit

from mccore.errors import InvalidParameterError
from mccore.rng import recorded_seed, seed_sequence, stream

__all__ = ["RBMMetropolis", "free_energy", "transition_matrix"]

#: Bytes of pre-drawn uniforms held at once (all chains together).
_BLOCK_BYTES = 32 * 2**20
#: transition_matrix enumerates 2^n_visible states: at most this many visible units.
MAX_ENUMERATION_VISIBLE = 12


def _parameters(model):
    try:
        W = np.asarray(model.weights, dtype=np.float64)
        a = np.asarray(model.visible_bias, dtype=np.float64).ravel()
        b = np.asarray(model.hidden_bias, dtype=np.float64).ravel()
    except AttributeError:
        raise InvalidParameterError(
            "model must have weights, visible_bias and hidden_bias (a fitted binary RBM), "
            f"got {type(model).__name__}") from None
    if W.ndim != 2 or a.shape != (W.shape[0],) or b.shape != (W.shape[1],):
        raise InvalidParameterError(
            "model must have weights (n_visible, n_hidden), visible_bias (n_visible,), "
            f"hidden_bias (n_hidden,), got {W.shape}, {a.shape}, {b.shape}")
    if W.size == 0 or not (np.all(np.isfinite(W)) and np.all(np.isfinite(a))
                           and np.all(np.isfinite(b))):
        raise InvalidParameterError("model parameters must be finite and non-empty")
    if getattr(model, "sigma", None) is not None:
        raise InvalidParameterError(
            "model must be a binary (Bernoulli) RBM, got one with Gaussian visible units")
    return W, a, b


def _softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` without overflow (float64; ~10x faster than np.logaddexp)."""
    y = np.abs(x)
    np.negative(y, out=y)
    np.exp(y, out=y)
    np.log1p(y, out=y)
    y += np.maximum(x, 0.0)
    return y


def free_energy(V, weights, visible_bias, hidden_bias) -> np.ndarray:
    """``F(v) = -a.v - sum_j softplus(b_j + (v W)_j)`` in float64.

    Parameters
    ----------
    V : array_like (n, n_visible), values in {0, 1}
    weights : (n_visible, n_hidden); visible_bias : (n_visible,); hidden_bias : (n_hidden,)

    Returns
    -------
    ndarray (n,) float64, with ``p_RBM(v) = exp(-F(v)) / Z``.
    """
    V = np.asarray(V, dtype=np.float64)
    x = V @ np.asarray(weights, dtype=np.float64) + hidden_bias
    return -(V @ np.asarray(visible_bias, dtype=np.float64)) - _softplus(x).sum(axis=1)


class RBMMetropolis:
    """Batched Metropolis-Hastings chains for a target ``pi``, with k-step RBM block Gibbs as proposal.

    See the module docstring for the derivation of the acceptance
    probability ``min(1, exp([log pi(v') + F(v')] - [log pi(v) + F(v)]))``.

    Parameters
    ----------
    model : object
        A binary RBM: anything with ``weights`` (n_visible, n_hidden),
        ``visible_bias`` (n_visible,) and ``hidden_bias`` (n_hidden,) (e.g.
        :class:`rbm.BernoulliRBM`). Parameters are copied.
    log_target : callable
        ``log_target(V) -> ndarray (n,) float64``: ``log pi`` up to an
        additive constant, for ``V`` of shape ``(n, n_visible)`` uint8 in
        {0, 1} (batched; must not modify ``V``). ``-inf`` marks states outside
        the support.
    n_chains : int
        Independent chains run together (rows of the batched products).
    k : int
        Block-Gibbs steps per proposal (>= 1).
    global_flip : bool
        Add the move ``v -> 1 - v`` (proposed with probability 1/2 after
        each RBM proposal, Metropolis-accepted); useful for targets
        symmetric under the flip.
    local_move : callable, optional
        ``local_move(V, rng) -> V_new``: the target's own move, applied to
        all chains after each proposal; it must leave ``pi`` invariant.
        ``V`` is a (n_chains, n_visible) uint8 copy; return the same shape.
    init : array_like (n_chains, n_visible), optional
        Starting configurations ({0, 1}); default uniformly random bits.
    dtype : {numpy.float32, numpy.float64}
        Precision of the proposal's products (accept/reject is always float64).
    rng : int, SeedSequence, Generator or None
        The seed (see :mod:`mccore.rng`); recorded as :attr:`seed`.

    Attributes
    ----------
    visible : ndarray (n_chains, n_visible) uint8
        Current states (read-only view; copy to keep).
    log_target_values : ndarray (n_chains,) float64
        ``log_target(visible)`` of the current states.
    n_proposed, n_accepted : int, ndarray (n_chains,) int64
        RBM proposals made per chain and accepted per chain.
    n_flips_accepted : ndarray (n_chains,) int64
        Accepted global flips (zeros without ``global_flip``).
    seed : int
        The recorded seed.

    Examples
    --------
    >>> import numpy as np
    >>> class Model: weights = np.zeros((4, 2)); visible_bias = np.zeros(4); \
hidden_bias = np.zeros(2)
    >>> mh = RBMMetropolis(Model(), lambda V: V.sum(axis=1).astype(float), 8, rng=1)
    >>> mh.run(100)
    >>> mh.acceptance_rate.shape
    (8,)
    """

    def __init__(self, model, log_target: Callable, n_chains: int, *, k: int = 1,
                 global_flip: bool = False, local_move: Callable | None = None, init=None,
                 dtype=np.float32, rng=None):
        from mccore.validation import check_bool, check_int
        W, a, b = _parameters(model)
        if not callable(log_target):
            raise InvalidParameterError(f"log_target must be callable, got {log_target!r}")
        if local_move is not None and not callable(local_move):
            raise InvalidParameterError(f"local_move must be callable or None, got {local_move!r}")
        self.n_chains = check_int("n_chains", n_chains, minimum=1)
        self.k = check_int("k", k, minimum=1)
        self.global_flip = check_bool("global_flip", global_flip)
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise InvalidParameterError(f"dtype must be float32 or float64, got {dtype}")
        self.dtype = dtype
        self.log_target = log_target
        self.local_move = local_move
        self.n_visible, self.n_hidden = W.shape
        self._W64, self._a64, self._b64 = W, a, b
        self._W, self._WT = W.astype(dtype), np.ascontiguousarray(W.T, dtype=dtype)
        self._a, self._b = a.astype(dtype), b.astype(dtype)
        self._flip_offset = W.sum(axis=0) + 2.0 * b     # x(1 - v) = this - x(v)

        seq = seed_sequence(rng)
        self.seed = recorded_seed(seq)
        self._gibbs_rngs = [stream(seq, c, 0) for c in range(self.n_chains)]
        self._accept_rngs = [stream(seq, c, 1) for c in range(self.n_chains)]
        self._local_rng = stream(seq, 1 << 32)
        if init is None:
            V = np.stack([stream(seq, c, 2).random(self.n_visible) < 0.5
                          for c in range(self.n_chains)]).astype(np.uint8)
        else:
            V = np.asarray(init)
            if V.shape != (self.n_chains, self.n_visible) or not np.all((V == 0) | (V == 1)):
                raise InvalidParameterError(
                    f"init must have shape ({self.n_chains}, {self.n_visible}) with values in "
                    f"{{0, 1}}, got shape {V.shape}")
            V = V.astype(np.uint8)
        self.n_proposed = 0
        self.n_accepted = np.zeros(self.n_chains, dtype=np.int64)
        self.n_flips_accepted = np.zeros(self.n_chains, dtype=np.int64)
        self._set_visible(V)
        if np.any(np.isneginf(self._log_pi)):
            raise InvalidParameterError("init must have log_target > -inf in every chain")
        self._n_gibbs = self.k * (self.n_hidden + self.n_visible)
        self._n_accept = 2 if self.global_flip else 1

    # -- state -----------------------------------------------------------------
    def _log_target(self, V: np.ndarray) -> np.ndarray:
        log_pi = np.asarray(self.log_target(V), dtype=np.float64).reshape(-1)
        if log_pi.shape != (V.shape[0],):
            raise InvalidParameterError(
                f"log_target must return shape ({V.shape[0]},), got {log_pi.shape}")
        if np.any(np.isnan(log_pi)) or np.any(np.isposinf(log_pi)):
            raise InvalidParameterError("log_target must return finite values or -inf")
        return log_pi

    def _free_energy(self, V: np.ndarray, x: np.ndarray) -> np.ndarray:
        """F from the configurations and their float64 hidden input ``x = v W + b``."""
        return -(V @ self._a64) - _softplus(x).sum(axis=1)

    def _evaluate(self, V: np.ndarray):
        """log pi, F and the float64 hidden input of configurations V (uint8)."""
        log_pi = self._log_target(V)
        x = V.astype(np.float64) @ self._W64
        x += self._b64
        return log_pi, self._free_energy(V, x), x

    def _set_visible(self, V: np.ndarray) -> None:
        self._V = np.ascontiguousarray(V, dtype=np.uint8)
        self._log_pi, self._F, self._x = self._evaluate(self._V)

    @property
    def visible(self) -> np.ndarray:
        view = self._V.view()
        view.flags.writeable = False
        return view

    @property
    def log_target_values(self) -> np.ndarray:
        view = self._log_pi.view()
        view.flags.writeable = False
        return view

    @property
    def acceptance_rate(self) -> np.ndarray:
        """Fraction of RBM proposals accepted, per chain (NaN before the first)."""
        if self.n_proposed == 0:
            return np.full(self.n_chains, np.nan)
        return self.n_accepted / self.n_proposed

    def get_state(self) -> dict:
        """Everything needed to continue the same chains (for checkpoints)."""
        return {"visible": self._V.copy(), "n_proposed": int(self.n_proposed),
                "n_accepted": self.n_accepted.copy(),
                "n_flips_accepted": self.n_flips_accepted.copy(),
                "gibbs_rngs": [g.bit_generator.state for g in self._gibbs_rngs],
                "accept_rngs": [g.bit_generator.state for g in self._accept_rngs],
                "local_rng": self._local_rng.bit_generator.state}

    def set_state(self, state: dict) -> None:
        """Restore a :meth:`get_state` dict of chains with the same shape."""
        V = np.asarray(state["visible"], dtype=np.uint8)
        if V.shape != (self.n_chains, self.n_visible):
            raise InvalidParameterError(
                f"state must hold ({self.n_chains}, {self.n_visible}) visible units, "
                f"got {V.shape}")
        for g, s in zip(self._gibbs_rngs, state["gibbs_rngs"]):
            g.bit_generator.state = s
        for g, s in zip(self._accept_rngs, state["accept_rngs"]):
            g.bit_generator.state = s
        self._local_rng.bit_generator.state = state["local_rng"]
        self.n_proposed = int(state["n_proposed"])
        self.n_accepted = np.array(state["n_accepted"], dtype=np.int64)
        self.n_flips_accepted = np.array(state["n_flips_accepted"], dtype=np.int64)
        self._set_visible(V)

    # -- moves -----------------------------------------------------------------
    def _propose(self, U: np.ndarray) -> np.ndarray:
        """k block-Gibbs steps from the current states.

        ``U`` (n_chains, k (n_hidden + n_visible)) holds ``logit(u)`` of
        uniforms ``u``: unit i is on iff ``u_i < sigmoid(x_i)``, i.e.
        ``logit(u_i) < x_i``.
        """
        nh, nv = self.n_hidden, self.n_visible
        hin = self._x.astype(self.dtype)          # hidden input of the current states
        V = None
        off = 0
        for step in range(self.k):
            if step > 0:
                hin = V @ self._W
                hin += self._b
            H = (U[:, off:off + nh] < hin).astype(self.dtype)
            off += nh
            vin = H @ self._WT
            vin += self._a
            V = (U[:, off:off + nv] < vin).astype(self.dtype)
            off += nv
        return V.astype(np.uint8)

    def _draw_logits(self, c: int, shape, out: np.ndarray) -> None:
        """Fill ``out`` with logit(u) of float64 uniforms from chain c's Gibbs stream.

        float64 uniforms (53 bits) keep every Bernoulli probability down to
        ~1e-16 exact; float32 uniforms (24 bits) would round probabilities
        below 6e-8 to zero -- for saturated units (|x| > 17) the proposal
        could then remove a rare excitation but never create it, and the
        chain would undersample fluctuations (seen at L = 16, T = 1.5:
        c and chi 4 sigma low). The logits themselves may be stored in
        float32 (relative error 6e-8 in every probability, also in the tails).
        """
        u = self._gibbs_rngs[c].random(shape)
        with np.errstate(divide="ignore"):
            logit = np.log(u)
        logit -= np.log1p(-u)
        out[...] = logit

    def _step(self, U: np.ndarray, R: np.ndarray) -> None:
        """One proposal (+ flip, + local move) with pre-drawn uniforms."""
        V_new = self._propose(U)
        log_pi, F, x = self._evaluate(V_new)
        with np.errstate(invalid="ignore"):
            log_ratio = (log_pi + F) - (self._log_pi + self._F)
        log_ratio = np.where(np.isneginf(log_pi), -np.inf, log_ratio)
        with np.errstate(divide="ignore"):
            accept = np.log(R[:, 0]) < log_ratio
        self._V[accept] = V_new[accept]
        self._log_pi[accept] = log_pi[accept]
        self._F[accept] = F[accept]
        self._x[accept] = x[accept]
        self.n_accepted += accept
        self.n_proposed += 1
        if self.global_flip:
            flipped = 1 - self._V
            log_pi_f = self._log_target(flipped)
            with np.errstate(invalid="ignore", over="ignore"):
                p_flip = 0.5 * np.minimum(1.0, np.exp(log_pi_f - self._log_pi))
            p_flip = np.where(np.isneginf(log_pi_f), 0.0, p_flip)
            do = R[:, 1] < p_flip
            if np.any(do):
                x_f = self._flip_offset - self._x[do]
                self._V[do] = flipped[do]
                self._log_pi[do] = log_pi_f[do]
                self._F[do] = self._free_energy(flipped[do], x_f)
                self._x[do] = x_f
            self.n_flips_accepted += do
        if self.local_move is not None:
            V = np.asarray(self.local_move(self._V.copy(), self._local_rng))
            if V.shape != self._V.shape:
                raise InvalidParameterError(
                    f"local_move must return shape {self._V.shape}, got {V.shape}")
            self._set_visible(V)

    def warm_start(self, n_steps: int) -> None:
        """Move the chains' *starting points* by ``n_steps`` plain block-Gibbs steps.

        Every proposal is taken (no accept/reject), so the states approach
        the RBM's own distribution. This only chooses where the MH chains
        start -- any start is valid -- but a good one matters: from a state
        the RBM finds far less probable than the target does (e.g. uniformly
        random bits for a model of an ordered phase), the ratio ``pi / p_RBM``
        is so large that nearly every proposal is rejected and the chain
        sticks. Uses each chain's Gibbs stream (k steps per draw of uniforms).
        """
        from mccore.validation import check_int
        n_steps = check_int("n_steps", n_steps, minimum=0)
        n_draws = -(-n_steps // self.k)
        U = np.empty((self.n_chains, self._n_gibbs), dtype=self.dtype)
        for _ in range(n_draws):
            for c in range(self.n_chains):
                self._draw_logits(c, self._n_gibbs, U[c])
            self._set_visible(self._propose(U))
            if np.any(np.isneginf(self._log_pi)):
                raise InvalidParameterError(
                    "warm_start reached a state with log_target = -inf; start from init instead")

    def run(self, n_proposals: int, *, callback: Callable | None = None) -> None:
        """Advance every chain by ``n_proposals`` proposals.

        Parameters
        ----------
        n_proposals : int
            Proposals per chain (>= 0), each followed by the optional flip and
            local move.
        callback : callable, optional
            ``callback(self)`` after every proposal (e.g. to record
            observables of ``self.visible``).

        Notes
        -----
        The products are small for a few chains of a small model: run inside
        :func:`mccore.parallel.single_threaded_blas` (results do not depend
        on the BLAS thread count) unless the model is large; on a loaded
        machine multi-threaded BLAS was 4-40x slower at 64 visible units.
        """
        from mccore.validation import check_int
        n_proposals = check_int("n_proposals", n_proposals, minimum=0)
        per = self.n_chains * self._n_gibbs * self.dtype.itemsize
        block = max(1, min(n_proposals, _BLOCK_BYTES // max(per, 1)))
        U = np.empty((self.n_chains, block, self._n_gibbs), dtype=self.dtype)
        R = np.empty((self.n_chains, block, self._n_accept), dtype=np.float64)
        done = 0
        while done < n_proposals:
            b = min(block, n_proposals - done)
            for c in range(self.n_chains):
                self._draw_logits(c, (b, self._n_gibbs), U[c, :b])
                self._accept_rngs[c].random((b, self._n_accept), out=R[c, :b])
            for j in range(b):
                self._step(U[:, j], R[:, j])
                if callback is not None:
                    callback(self)
            done += b


def _all_states(n: int) -> np.ndarray:
    index = np.arange(2**n, dtype=np.int64)
    return ((index[:, None] >> np.arange(n)) & 1).astype(np.uint8)


def transition_matrix(model, log_target: Callable, *, k: int = 1,
                      global_flip: bool = False) -> dict:
    """The exact Metropolis-Hastings kernel of :class:`RBMMetropolis` by enumeration.

    For tiny models (``n_visible <= 12``, ``n_hidden <= 16``): every state
    ``v`` (index ``i`` has ``v_k = bit k of i``), the k-step Gibbs proposal
    matrix from the RBM conditionals, the acceptance of the module docstring,
    and the flip move. Used to verify detailed balance exactly.

    Returns
    -------
    dict of ndarray
        ``"states"`` (2^n, n) uint8, ``"pi"`` (2^n,) the normalized target,
        ``"proposal"`` Q^k, ``"rbm"`` the kernel of one RBM proposal with
        accept/reject, ``"flip"`` the kernel of the flip move (identity
        without ``global_flip``), ``"kernel"`` = rbm @ flip (one full step
        without a local move).
    """
    W, a, b = _parameters(model)
    n_v, n_h = W.shape
    if n_v > MAX_ENUMERATION_VISIBLE or n_h > 16:
        raise InvalidParameterError(
            f"model must have <= {MAX_ENUMERATION_VISIBLE} visible and <= 16 hidden units "
            f"to enumerate, got {n_v} and {n_h}")
    V = _all_states(n_v)
    H = _all_states(n_h).astype(np.float64)
    ph = expit(V @ W + b)                                     # (S, n_h)
    p_h_given_v = np.prod(np.where(H[None, :, :] == 1, ph[:, None, :], 1 - ph[:, None, :]),
                          axis=2)                             # (S, 2^n_h)
    pv = expit(H @ W.T + a)                                    # (2^n_h, n_v)
    p_v_given_h = np.prod(np.where(V[None, :, :] == 1, pv[:, None, :], 1 - pv[:, None, :]),
                          axis=2)                             # (2^n_h, S)
    Q1 = p_h_given_v @ p_v_given_h
    Q = np.linalg.matrix_power(Q1, k)
    log_pi = np.asarray(log_target(V), dtype=np.float64)
    F = free_energy(V, W, a, b)
    pi = np.exp(log_pi - log_pi.max())
    pi /= pi.sum()
    g = log_pi + F
    with np.errstate(over="ignore", invalid="ignore"):
        A = np.minimum(1.0, np.exp(g[None, :] - g[:, None]))
    A = np.where(np.isneginf(log_pi)[None, :], 0.0, A)
    T = Q * A
    np.fill_diagonal(T, 0.0)
    T[np.diag_indices_from(T)] = 1.0 - T.sum(axis=1)
    S = V.shape[0]
    flip = np.eye(S)
    if global_flip:
        partner = (S - 1) - np.arange(S)            # bits complemented
        with np.errstate(over="ignore", invalid="ignore"):
            p = 0.5 * np.minimum(1.0, np.exp(log_pi[partner] - log_pi))
        p = np.where(np.isneginf(log_pi[partner]), 0.0, p)
        flip = np.diag(1.0 - p)
        flip[np.arange(S), partner] += p
    return {"states": V, "pi": pi, "proposal": Q, "rbm": T, "flip": flip, "kernel": T @ flip}
