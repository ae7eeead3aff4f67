"""The Ising moves around the RBM proposal of exact sampling (:mod:`isingrbm.exact_sampling`).

Between two RBM proposals of :class:`rbm.metropolis.RBMMetropolis` a chain of
exact sampling may apply, in this order, kernels of its own that leave the
Ising Boltzmann distribution ``pi(s) ~ exp(-E(s) / T)`` of the periodic
L x L lattice invariant (k_B = J = 1):

- **symmetry moves** (``symmetry_moves``, one of :data:`SYMMETRY_MOVES`):
  with ``"flip"`` or ``"all"`` the global spin flip ``s -> -s``
  (``v -> 1 - v``) with probability 1/2 (``global_flip`` of
  :class:`~rbm.metropolis.RBMMetropolis`, always accepted here); with
  ``"all"`` then also a uniformly random lattice translation: rows shifted
  by ``a`` and columns by ``b``, ``(a, b)`` uniform on ``{0, ..., L-1}^2``
  (the identity included), drawn afresh every proposal
  (:func:`lattice_translation`); ``"none"``: neither;
- **local sweeps**: ``local_sweeps`` single-spin Metropolis sweeps
  (:class:`ising.chains.MetropolisChains`, :func:`ising_local_move`).

Why the chain stays exact. Each symmetry ``g`` (a translation of the torus
or the flip) is a bijection of the configurations that preserves the energy,
``E(g s) = E(s)``, hence ``pi(g s) = pi(s)``. The move "draw ``g`` uniformly
from a group ``G`` and go to ``g s``" has the kernel
``K(s, s') = |G|^-1 #{g : g s = s'}``, and

    sum_s pi(s) K(s, s') = |G|^-1 sum_g pi(g^-1 s') = pi(s'),

so ``pi`` is stationary; since ``g`` and ``g^-1`` are equally likely,
``K(s, s') = K(s', s)`` and ``pi(s) K(s, s') = pi(s') K(s', s)`` (detailed
balance) as well. It needs no accept/reject step. The flip with probability
1/2 is this move for ``G = Z_2``, the translation for ``G = Z_L x Z_L``.
The symmetry moves are kernels *of their own*, applied between proposals:
the Metropolis-Hastings acceptance of the RBM proposal,
``min(1, exp([log pi(v') + F(v')] - [log pi(v) + F(v)]))``, keeps its
formula (it is evaluated at the state the previous kernel left, with ``F``
recomputed there: an RBM is in general not translation invariant), and a
product of kernels that each leave ``pi`` invariant leaves it invariant.
Local sweeps leave ``pi`` invariant for the same reason.

What they buy. E and ``|M|`` are themselves invariant under both
symmetries, so the moves shorten their autocorrelation only through the RBM:
a chain whose state the model under-proposes (a large ``pi / p_RBM``, many
rejections in a row) is moved to an image the model may find more probable.
The flip also makes the sign of the magnetization mix near and below T_c,
where the RBM's Gibbs chain rarely changes it. Measured
(``benchmarks/rbm_mcmc.py``, docs/benchmarks/exact_rbm_mc.md): the flip
costs about 5 % per proposal and brings tau_int of the signed M from
48-650 proposals to 1 at T_c; the translation left tau_int of E and |M|
unchanged at L = 8 but doubled it at L = 16, T_c (a briefly trained RBM),
so the default is ``"flip"``. The translation costs one product ``V W`` per proposal (the free
energy of the new state) unless local sweeps follow, which need it anyway.

Randomness is keyed by chain (:mod:`mccore.rng`): chain ``c``'s translations
come from ``stream(child(seed, 2), c)``, the sweeps from the counter-based
streams of :class:`ising.chains.MetropolisChains` under ``child(seed, 1)``.
"""

from __future__ import annotations

import json

import numpy as np

__all__ = ["SYMMETRY_MOVES", "exact_chain", "ising_local_move", "ising_log_target",
           "lattice_translation", "symmetry_mode"]

#: The settings of ``symmetry_moves``: flip and translation, the flip only, neither.
SYMMETRY_MOVES = ("all", "flip", "none")

#: Translations drawn per chain at a time (their buffer is part of the state).
_TRANSLATION_BLOCK = 256


def ising_log_target(L: int, T: float):
    """``log pi(v) = -E(s(v)) / T`` for visible units of the L x L torus, batched.

    Returns a callable ``(n, L*L) uint8 -> (n,) float64``. Uses
    :func:`ising.lattice.visible_to_spins` and :func:`ising.chains.energy`.
    """
    from ising.chains import energy
    from ising.lattice import visible_to_spins
    beta = 1.0 / T

    def log_target(V):
        return -beta * energy(visible_to_spins(V, L))
    return log_target


class _LocalMove:
    """Metropolis sweeps as a ``local_move``, with a state for checkpoints."""

    def __init__(self, L: int, T: float, n_chains: int, n_sweeps: int, rng):
        from ising.chains import MetropolisChains

        self.L, self.n_sweeps = L, n_sweeps
        self.chains = MetropolisChains(L, 1.0 / T, n_chains, rng=rng)
        # sweeps per kernel call: about 2^22 site updates, so that Ctrl-C and SIGTERM
        # (handled between calls) stop even a huge number of sweeps within a moment
        self._chunk = max(1, (1 << 22) // (n_chains * L * L))

    def __call__(self, V, _rng=None):
        from ising.lattice import spins_to_visible, visible_to_spins

        self.chains.spins = visible_to_spins(V, self.L)
        left = self.n_sweeps
        while left > 0:                      # the same result as one call (counter-based RNG)
            chunk = min(left, self._chunk)
            self.chains.sweep(chunk)
            left -= chunk
        return spins_to_visible(self.chains.spins).astype(np.uint8)

    def get_state(self) -> dict:
        return self.chains.get_state()

    def set_state(self, state: dict) -> None:
        self.chains.set_state(state)


def ising_local_move(L: int, T: float, n_chains: int, *, n_sweeps: int = 1, rng=None):
    """A ``local_move`` for :class:`rbm.metropolis.RBMMetropolis`: Metropolis sweeps.

    Returns ``move(V, rng) -> V_new`` on visible units (n_chains, L*L) uint8
    that runs ``n_sweeps`` sweeps of :class:`ising.chains.MetropolisChains`
    (single-spin Metropolis at temperature ``T``, which leaves the Boltzmann
    distribution invariant) from ``V``. Its randomness is the chains' own
    stream of ``rng``, continued from call to call (the ``rng`` argument of
    ``move`` is not used); ``move.get_state()`` / ``move.set_state(state)``
    save and restore it (checkpoints). The sweeps run in pieces of about
    2^22 site updates, so an interrupt is handled between them.
    """
    return _LocalMove(L, T, n_chains, n_sweeps, rng)


class _Translation:
    """Uniformly random translations of the torus, one per chain per call."""

    def __init__(self, L: int, n_chains: int, rng):
        from mccore.rng import seed_sequence, stream

        seq = seed_sequence(rng)
        self.L, self.n_chains = L, n_chains
        self._rngs = [stream(seq, c) for c in range(n_chains)]
        self._buffer = np.zeros((n_chains, _TRANSLATION_BLOCK), dtype=np.int64)
        self._pos = _TRANSLATION_BLOCK            # empty: filled at the first call
        self._chains = np.arange(n_chains)[:, None, None]
        self._sites = np.arange(L)

    def draw(self) -> np.ndarray:
        """The next translation of every chain, as ``a * L + b`` (n_chains,)."""
        if self._pos == _TRANSLATION_BLOCK:
            for c, g in enumerate(self._rngs):
                self._buffer[c] = g.integers(0, self.L * self.L, size=_TRANSLATION_BLOCK)
            self._pos = 0
        shift = self._buffer[:, self._pos].copy()
        self._pos += 1
        return shift

    def __call__(self, V, _rng=None):
        L = self.L
        a, b = np.divmod(self.draw(), L)
        rows = (self._sites[None, :] - a[:, None]) % L          # new[i] = old[i - a]
        cols = (self._sites[None, :] - b[:, None]) % L
        S = np.asarray(V).reshape(self.n_chains, L, L)
        return S[self._chains, rows[:, :, None], cols[:, None, :]].reshape(self.n_chains, L * L)

    def get_state(self) -> dict:
        return {"rngs": np.array(json.dumps([g.bit_generator.state for g in self._rngs])),
                "buffer": self._buffer.copy(), "pos": np.array(self._pos, dtype=np.int64)}

    def set_state(self, state: dict) -> None:
        for g, s in zip(self._rngs, json.loads(str(state["rngs"]))):
            g.bit_generator.state = s
        self._buffer[...] = np.asarray(state["buffer"], dtype=np.int64)
        self._pos = int(state["pos"])


def lattice_translation(L: int, n_chains: int, *, rng=None):
    """A ``local_move``: every chain's configuration shifted by a random translation.

    Returns ``move(V, rng) -> V_new`` on visible units (n_chains, L*L)
    (row-major sites of the periodic L x L lattice): chain ``c``'s
    configuration shifted by ``a`` rows and ``b`` columns,
    ``new[i, j] = old[(i - a) mod L, (j - b) mod L]``, with ``(a, b)``
    uniform on ``{0, ..., L-1}^2`` (the identity included) from chain ``c``'s
    stream ``stream(rng, c)``, continued from call to call (the ``rng``
    argument of ``move`` is not used); ``move.get_state()`` /
    ``move.set_state(state)`` save and restore it. It leaves every
    translation-invariant distribution invariant (module docstring).
    """
    from mccore.validation import check_int
    return _Translation(check_int("L", L, minimum=2), check_int("n_chains", n_chains, minimum=1),
                        rng)


class _Moves:
    """Translation, then sweeps: one ``local_move`` with one state (prefixed keys)."""

    def __init__(self, parts: dict):
        self.parts = parts

    def __call__(self, V, rng=None):
        for move in self.parts.values():
            V = move(V, rng)
        return V

    def get_state(self) -> dict:
        return {f"{name}_{key}": value for name, move in self.parts.items()
                for key, value in move.get_state().items()}

    def set_state(self, state: dict) -> None:
        for name, move in self.parts.items():
            move.set_state({key[len(name) + 1:]: value for key, value in state.items()
                            if key.startswith(name + "_")})


def symmetry_mode(value) -> str:
    """``symmetry_moves`` as one of :data:`SYMMETRY_MOVES` (True: ``"all"``, False: ``"none"``).

    Raises
    ------
    InvalidParameterError
        Anything else.
    """
    from mccore.errors import InvalidParameterError
    if value is True or value is False:
        return "all" if value else "none"
    if isinstance(value, str) and value in SYMMETRY_MOVES:
        return value
    raise InvalidParameterError(
        f"symmetry_moves must be one of {', '.join(SYMMETRY_MOVES)} (or True/False), "
        f"got {value!r}")


def exact_chain(model, L: int, T: float, n_chains: int, *, k: int, local_sweeps: int,
                symmetry_moves, rng, log_target=None):
    """The :class:`rbm.metropolis.RBMMetropolis` chains of exact sampling, not yet started.

    The RBM proposal (k block-Gibbs steps) targets the Ising Boltzmann
    distribution at ``T`` (:func:`ising_log_target`); ``symmetry_moves``
    (:func:`symmetry_mode`): ``"flip"`` the global flip (probability 1/2),
    ``"all"`` that and a random translation (:func:`lattice_translation`,
    stream ``child(rng, 2)``) after every proposal, then ``local_sweeps``
    Metropolis sweeps (:func:`ising_local_move`, stream ``child(rng, 1)``). ``rng`` must be a SeedSequence (or an int);
    the proposal's own streams are those of ``RBMMetropolis(..., rng=rng)``.
    The moves' state is ``chain.local_move.get_state()`` (None without moves).
    ``log_target`` replaces ``ising_log_target(L, T)`` (the same function, e.g.
    instrumented).
    """
    from mccore.rng import child, seed_sequence
    from rbm.metropolis import RBMMetropolis

    seq = seed_sequence(rng)
    mode = symmetry_mode(symmetry_moves)
    parts = {}
    if mode == "all":
        parts["translation"] = lattice_translation(L, n_chains, rng=child(seq, 2))
    if local_sweeps:
        parts["sweeps"] = ising_local_move(L, T, n_chains, n_sweeps=local_sweeps,
                                           rng=child(seq, 1))
    if log_target is None:
        log_target = ising_log_target(L, T)
    return RBMMetropolis(model, log_target, n_chains, k=k,
                         global_flip=mode != "none",
                         local_move=_Moves(parts) if parts else None, rng=seq)
