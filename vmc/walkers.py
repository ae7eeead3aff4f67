"""What every VMC sampler shares: its walkers spread over MPI ranks, and a batch of samples.

A sampler keeps ``n_walkers_total`` walkers (trap) or chains (spins)
between calls; rank ``r`` of ``K`` holds the contiguous block of global
indices ``[r n, (r + 1) n)``, ``n = n_walkers_total / K``. Each walker has a
position ``x`` and a xoshiro256** stream ``rng_state`` (:mod:`vmc.streams`)
keyed by its global index, so a result depends on the seed only.
:meth:`Walkers.get_state` / :meth:`Walkers.set_state` carry all of it
through a checkpoint (gathered in global order, so a run may resume on a
different number of ranks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import check_int

from .mpi import gather_rows

__all__ = ["SampleBatch", "Walkers"]


@dataclass(frozen=True)
class SampleBatch:
    """Configurations drawn from ``|Psi|^2``.

    Attributes
    ----------
    x : ndarray (n_walkers, n_steps, n_visible) float64
        Walker axis first (NetKet's convention), one row per recorded sweep
        (particle positions, or spins in {-1, +1}).
    acceptance : float
        Fraction of accepted single-particle (single-spin) moves over the
        recorded sweeps (1 for Gibbs), averaged over all walkers (all MPI ranks).
    step : float
        Step used (half-width for Metropolis, ``dt`` for importance sampling,
        ``nan`` for Gibbs and for spins).
    """

    x: np.ndarray
    acceptance: float
    step: float

    @property
    def flat(self) -> np.ndarray:
        """``x`` as (n_walkers * n_steps, n_visible), walker-major."""
        return self.x.reshape(-1, self.x.shape[-1])


class Walkers:
    """The walker state of a sampler (a base class; the samplers add the moves).

    Subclasses name their walkers (``noun``: "walkers" or "chains", used in
    messages) and the scalar attributes a checkpoint carries besides the
    positions and streams (``state_scalars``: name -> type).
    """

    noun = "walkers"
    state_scalars = {"burned_in": bool}

    def _distribute(self, n_walkers, comm) -> None:
        """Set ``n_walkers_total``, this rank's ``n_walkers`` and offset; no walkers yet."""
        self.n_walkers_total = check_int(f"n_{self.noun}", n_walkers, minimum=1)
        self.comm = comm
        rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
        if self.n_walkers_total % size:
            raise InvalidParameterError(
                f"n_{self.noun} must be a multiple of the number of MPI ranks {size}, "
                f"got {n_walkers}")
        self.n_walkers = self.n_walkers_total // size
        self._offset = rank * self.n_walkers
        self.x = None
        self.rng_state = None
        self.burned_in = False

    def _own(self, rows) -> np.ndarray:
        """This rank's block of an array over all walkers (contiguous)."""
        return np.ascontiguousarray(rows[self._offset:self._offset + self.n_walkers])

    def _allsum(self, value):
        return value if self.comm is None else self.comm.allreduce(value)

    def get_state(self) -> dict:
        """Walkers and streams of *all* ranks and the scalars (for a checkpoint).

        Every rank must call it (the walkers are gathered in rank order).
        """
        if self.x is None:
            return {"initialized": False}
        state = {"initialized": True, "x": np.array(gather_rows(self.comm, self.x)),
                 "rng_state": np.array(gather_rows(self.comm, self.rng_state))}
        state.update({name: kind(getattr(self, name))
                      for name, kind in self.state_scalars.items()})
        return state

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state` (this rank takes its walkers by global index)."""
        if not state.get("initialized", False):
            return
        x = np.asarray(state["x"], dtype=np.float64)
        if x.shape[0] != self.n_walkers_total:
            raise InvalidParameterError(
                f"the checkpoint has {x.shape[0]} {self.noun}, this run {self.n_walkers_total}")
        self.x = self._own(x)
        self.rng_state = self._own(np.asarray(state["rng_state"], dtype=np.uint64))
        for name, kind in self.state_scalars.items():
            setattr(self, name, kind(state[name]))
