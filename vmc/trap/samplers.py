"""Samplers of ``|Psi|^2``: brute-force Metropolis, importance sampling, Gibbs.

Every sampler keeps ``n_walkers`` walkers between calls of :meth:`sample`.
The first call runs ``n_burn_in`` sweeps and, for the Metropolis samplers,
tunes the step (``step`` half-width, or time step ``dt``) toward
``target_acceptance`` during that burn-in only; later calls (after a
parameter update) discard ``n_discard`` sweeps at the fixed step, then
record. A "sweep" is one proposed move of every particle in turn (one block
Gibbs step for Gibbs); positions are recorded after every sweep.

Walker ``w`` draws from its own xoshiro256** stream, spawned from the
sampler's seed by the walker's *global* index, so a result depends on the
seed only: not on the number of numba threads, nor on how the walkers are
split over MPI ranks.
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.parallel import numba_threads
from mccore.validation import check_float, check_int

from ..settings import SAMPLERS
from ..streams import seed_states
from ..walkers import SampleBatch, Walkers
from . import kernels

__all__ = ["MetropolisSampler", "ImportanceSampler", "GibbsSampler",
           "SAMPLERS", "make_sampler"]

_TUNE_CHUNK = 20


class _Sampler(Walkers):
    """Common machinery of the samplers.

    Parameters
    ----------
    n_walkers : int
        Walkers over all MPI ranks (a multiple of the number of ranks).
    step : float or None
        Initial step (Metropolis half-width, importance time step ``dt``).
    target_acceptance : float or None
        Acceptance the burn-in tunes the step toward.
    n_burn_in : int
        Sweeps of the first call's burn-in (tuned in chunks of 20).
    n_discard : int
        Sweeps discarded at the start of every later call.
    n_threads : int or None
        Numba threads for the kernels (None: numba's current setting). The
        result does not depend on it.
    rng : Generator, int, SeedSequence or None
        Seeds the walkers' streams.
    comm : mpi4py communicator or None
    """

    name = ""
    default_step = 1.0
    default_target = 0.5

    def __init__(self, n_walkers: int = 16, *, step: float | None = None,
                 target_acceptance: float | None = None, n_burn_in: int = 200,
                 n_discard: int = 10, n_threads: int | None = None, rng=None, comm=None):
        self.n_threads = check_int("n_threads", n_threads, minimum=1, allow_none=True)
        self.step = (self.default_step if step is None
                     else check_float("step", step, minimum=0.0, strict_min=True))
        target = self.default_target if target_acceptance is None else float(target_acceptance)
        if not 0.0 < target < 1.0:
            raise InvalidParameterError(
                f"target_acceptance must be in (0, 1), got {target_acceptance!r}")
        self.target_acceptance = target
        self.n_burn_in = check_int("n_burn_in", n_burn_in, minimum=0)
        self.n_discard = check_int("n_discard", n_discard, minimum=0)
        self._distribute(n_walkers, comm)
        self._rng = rng

    # ------------------------------------------------------------ helpers
    def _init_walkers(self, wf, rng):
        if rng is None:
            rng = self._rng
        if isinstance(rng, np.random.SeedSequence):
            seq = rng
        else:
            gen = np.random.default_rng(rng)
            seq = np.random.SeedSequence(int(gen.integers(0, 2**63)))
        self.rng_state = self._own(seed_states(seq, self.n_walkers_total))
        self.x = np.empty((self.n_walkers, wf.n_visible))
        scale = float(np.max(wf.sigma)) * math.sqrt(wf.f)  # ~ the trap's width
        kernels.normal_fill(self.rng_state, scale, self.x)
        self.x += wf.a

    def _run(self, wf, n_steps):
        """Run ``n_steps`` sweeps; returns (positions, accepted moves) of this rank."""
        out = np.empty((self.n_walkers, n_steps, wf.n_visible))
        accepted = np.zeros(self.n_walkers, dtype=np.int64)
        with numba_threads(self.n_threads):
            self._kernel(wf, n_steps, out, accepted)
        return out, int(accepted.sum())

    def _moves(self, wf, n_steps):
        return self.n_walkers_total * n_steps * wf.n_particles

    def burn_in(self, wf) -> None:
        """Burn in (and tune the step toward ``target_acceptance``)."""
        remaining = self.n_burn_in
        while remaining > 0:
            chunk = min(_TUNE_CHUNK, remaining)
            _, acc = self._run(wf, chunk)
            if self.tunable:
                rate = self._allsum(acc) / self._moves(wf, chunk)
                # multiplicative Robbins-Monro-like update, bounded per chunk
                self.step *= math.exp(min(max(2.0 * (rate - self.target_acceptance), -1.0), 1.0))
            remaining -= chunk
        self.burned_in = True

    def sample(self, wf, n_samples: int, *, rng=None) -> SampleBatch:
        """Draw about ``n_samples`` positions from ``|Psi|^2`` (over all walkers and ranks).

        Each walker records ``ceil(n_samples / n_walkers)`` sweeps.

        Parameters
        ----------
        wf : vmc.trap.Wavefunction
        n_samples : int
            Total number of samples wanted (>= n_walkers).
        rng : Generator, int, SeedSequence or None
            Seeds the walkers on the first call (default: the constructor's ``rng``).

        Returns
        -------
        SampleBatch
        """
        n_samples = check_int("n_samples", n_samples, minimum=1)
        self._check_wavefunction(wf)
        if self.x is None:
            self._init_walkers(wf, rng)
        if not self.burned_in:
            self.burn_in(wf)
        elif self.n_discard:
            self._run(wf, self.n_discard)
        n_steps = max(1, -(-n_samples // self.n_walkers_total))
        x, acc = self._run(wf, n_steps)
        acceptance = self._allsum(acc) / self._moves(wf, n_steps)
        return SampleBatch(x=x, acceptance=float(acceptance),
                           step=self.step if self.tunable else float("nan"))

    def _check_wavefunction(self, wf):
        pass

    tunable = True
    state_scalars = {"step": float, "burned_in": bool}
    #: the kernel of the tunable samplers (name in :mod:`.kernels`): one sweep per step
    sweeps = None

    def _kernel(self, wf, n_steps, out, accepted):
        getattr(kernels, self.sweeps)(self.x, self.rng_state, *wf.kernel_args(), self.step,
                                      n_steps, out, accepted)


class MetropolisSampler(_Sampler):
    """Brute-force Metropolis: ``x_p' = x_p + step * U(-1, 1)^D``, one particle at a time.

    See :class:`_Sampler` for the parameters (``n_walkers``, ``step``,
    ``target_acceptance`` = 0.5, ``n_burn_in``, ``n_discard``, ``rng``, ``comm``).
    """

    name = "metropolis"
    default_step = 1.0
    default_target = 0.5
    sweeps = "metropolis_sweeps"


class ImportanceSampler(_Sampler):
    """Metropolis-Hastings with the Langevin proposal (quantum force), time step ``dt``.

    ``step`` is ``dt`` (default 0.5, tuned toward acceptance 0.8 in burn-in).
    """

    name = "importance"
    default_step = 0.5
    default_target = 0.8
    sweeps = "importance_sweeps"


class GibbsSampler(_Sampler):
    """Block Gibbs sampling through the RBM conditionals (needs ``Psi = sqrt(F)``, no Jastrow)."""

    name = "gibbs"
    tunable = False

    def _check_wavefunction(self, wf):
        if wf.form != "sqrt" or wf.use_jastrow:
            raise InvalidParameterError(
                "sampler 'gibbs' samples the RBM marginal and needs form 'sqrt' without a "
                f"Jastrow factor, got form {wf.form!r}, jastrow "
                f"{'pade' if wf.use_jastrow else 'none'!r}")

    def _kernel(self, wf, n_steps, out, accepted):
        sigma = np.ascontiguousarray(wf.sigma, dtype=np.float64)
        kernels.gibbs_sweeps(self.x, self.rng_state, np.ascontiguousarray(wf.a),
                             np.ascontiguousarray(wf.b), np.ascontiguousarray(wf.W),
                             sigma, 1.0 / sigma**2, n_steps, out)
        accepted[:] = n_steps * wf.n_particles


def make_sampler(name: str, n_walkers: int = 16, **kwargs):
    """Build a sampler by name: ``"metropolis"``, ``"importance"`` or ``"gibbs"``."""
    classes = {"metropolis": MetropolisSampler, "importance": ImportanceSampler,
               "gibbs": GibbsSampler}
    if name not in classes:
        raise InvalidParameterError(f"sampler must be one of {SAMPLERS}, got {name!r}")
    return classes[name](n_walkers, **kwargs)
