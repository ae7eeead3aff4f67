"""Single-spin-flip Metropolis sampling of ``|psi(s)|^2`` for spin RBMs.

Many chains, each with its own xoshiro256** stream keyed by the chain's
global index (so the numbers depend on the seed only, not on numba threads
or MPI ranks). A sweep is N proposals of uniformly chosen sites
(acceptance ``min(1, |psi(s')/psi(s)|^2)`` from the look-up table theta),
optionally followed by a global flip ``s -> -s`` (the Z2 move), accepted
with the same rule. The first call burns in ``n_burn_in`` sweeps from
random configurations; later calls (after a parameter update) discard
``n_discard`` sweeps first. Diagnostics: acceptance and the split-R-hat of
any recorded scalar (:func:`split_rhat`).
"""

from __future__ import annotations

import numpy as np

from mccore.parallel import numba_threads
from mccore.rng import recorded_seed, seed_sequence
from mccore.validation import check_float, check_int

from ..health import split_rhat  # noqa: F401  (public here since the first release)
from ..streams import seed_states, uniform_draws
from ..walkers import SampleBatch, Walkers
from . import kernels

__all__ = ["SpinMetropolisSampler", "split_rhat"]


class SpinMetropolisSampler(Walkers):
    """Metropolis chains on ``|psi|^2`` of a spin wavefunction.

    Parameters
    ----------
    n_chains : int
        Chains over all MPI ranks (a multiple of the number of ranks).
    n_burn_in : int
        Sweeps of the first call's burn-in.
    n_discard : int
        Sweeps discarded at the start of every later call.
    p_global : float
        Probability per sweep of the global-flip move, in [0, 1].
    n_threads : int or None
        Numba threads (the result does not depend on it).
    rng : int, SeedSequence, Generator or None
        Seeds the chains' streams (at the first :meth:`sample`, whose own ``rng``
        governs if given; None both times: fresh entropy, recorded in ``seed_``).
    comm : mpi4py communicator or None

    Attributes
    ----------
    seed_ : int, list of int or None
        Set when the chains start: the seed of their streams (``seed_sequence(seed_)``
        makes them again; a list for a SeedSequence made from a list), or None when
        seeded by a spawned SeedSequence (the run that spawned it records its seed and key).
    """

    name = "metropolis"
    tunable = False
    noun = "chains"
    state_scalars = {"burned_in": bool}
    seed_ = None

    def __init__(self, n_chains: int = 16, *, n_burn_in: int = 100, n_discard: int = 5,
                 p_global: float = 0.0, n_threads: int | None = None, rng=None, comm=None):
        self.n_burn_in = check_int("n_burn_in", n_burn_in, minimum=0)
        self.n_discard = check_int("n_discard", n_discard, minimum=0)
        self.p_global = check_float("p_global", p_global, minimum=0.0, maximum=1.0)
        self.n_threads = check_int("n_threads", n_threads, minimum=1, allow_none=True)
        self._distribute(n_chains, comm)
        self._rng = rng
        self.step = float("nan")

    def _init(self, wf, rng):
        seq = seed_sequence(self._rng if rng is None else rng)
        self.seed_ = None if seq.spawn_key else recorded_seed(seq)
        self.rng_state = self._own(seed_states(seq, self.n_walkers_total))
        self.x = np.empty((self.n_walkers, wf.n_sites))
        u = np.empty(wf.n_sites)
        for c in range(self.n_walkers):   # random start, from the chain's own stream
            uniform_draws(self.rng_state[c], wf.n_sites, u)
            self.x[c] = np.where(u < 0.5, -1.0, 1.0)

    def _run(self, wf, n_steps, n_skip=0):
        """``n_skip`` unrecorded sweeps, then ``n_steps`` recorded, in one kernel call."""
        a, b, W = (np.ascontiguousarray(p, dtype=np.float64) for p in wf.expanded())
        out = np.empty((self.n_walkers, n_steps, wf.n_sites))
        accepted = np.zeros(self.n_walkers, dtype=np.int64)
        with numba_threads(self.n_threads):
            kernels.spin_metropolis_sweeps(self.x, self.rng_state, a, b, W, n_steps,
                                           self.p_global, out, accepted, n_skip=n_skip)
        return out, int(accepted.sum())

    def sample(self, wf, n_samples: int, *, rng=None) -> SampleBatch:
        """About ``n_samples`` configurations (``ceil(n_samples / n_chains)`` sweeps per chain).

        Returns
        -------
        SampleBatch
            ``x`` (n_chains, n_steps, N) float64 in {-1, +1}; ``acceptance``
            of single-spin flips over the recorded sweeps (all ranks).
        """
        n_samples = check_int("n_samples", n_samples, minimum=1)
        if self.x is None:
            self._init(wf, rng)
        n_skip = self.n_discard if self.burned_in else self.n_burn_in
        self.burned_in = True
        n_steps = max(1, -(-n_samples // self.n_walkers_total))
        x, acc = self._run(wf, n_steps, n_skip)
        acceptance = self._allsum(acc) / (self.n_walkers_total * n_steps * wf.n_sites)
        return SampleBatch(x=x, acceptance=float(acceptance), step=float("nan"))
