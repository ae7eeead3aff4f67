"""Many independent Ising Markov chains: checkerboard Metropolis and Wolff.

Conventions: periodic L x L square lattice, J = k_B = 1, zero field; spins
``int8`` in {-1, +1}; ``energy()`` is the TOTAL ``E = -sum_<ij> s_i s_j`` over
the 2N bonds (each site with its right and lower neighbour; for L = 2 each
neighbouring pair is joined by two bonds) and ``magnetization()`` the TOTAL
``M = sum_i s_i`` (divide by N = L*L for per-spin values).

Randomness: ``rng`` (an integer seed, a ``SeedSequence``, a
``numpy.random.Generator`` or None for fresh entropy) is turned into one
``SeedSequence`` (:func:`mccore.rng.seed_sequence`), spawned into one
child per chain plus one set-up stream (initial spins, Wolff calibration).
Each chain's child gives the 64-bit key of a counter-based SplitMix64 stream
(:mod:`ising.kernels`); a chain's RNG state is ``(key, counter)``. Every random
number is fixed by (seed, chain, sweep, site), so results depend on the seed
only, never on the number of numba threads, and :meth:`get_state` /
:meth:`set_state` resume the same streams bit for bit.

Example
-------
>>> from ising.chains import MetropolisChains
>>> chains = MetropolisChains(16, 1 / 2.269, n_chains=8, rng=1)
>>> chains.sweep(100)
>>> e = chains.energy() / 16**2          # per-spin energy of every chain
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import seed_sequence
from mccore.validation import check_positive_number, check_spins

from . import kernels
from .lattice import checkerboard_pack, checkerboard_unpack

__all__ = ["MetropolisChains", "WolffChains", "energy", "magnetization", "STARTS"]

#: Allowed initial states: independent random spins, or all spins +1.
STARTS = ("random", "up")

_TWO64 = 2**64
#: Smallest (even) L updated in checkerboard order; smaller and odd L use
#: random-site Metropolis (see :mod:`ising.kernels`, "ergodicity").
CHECKERBOARD_MIN_L = 8
#: Fewer chains than threads: lattices from this L up split each half-sweep's
#: rows over the threads; smaller ones keep one thread per chain.
_ROWS_PARALLEL_MIN_L = 512
#: Calls with less work (spin updates or visits) run in the calling thread: a
#: parallel launch costs tens of microseconds (measured ~60 us with the
#: workqueue layer on a busy machine), more than the work itself. The result
#: is the same either way.
_PARALLEL_MIN_WORK = 2**17


#: Wolff calls flipping fewer spins (about) run the serial kernel.
_WOLFF_PARALLEL_MIN_WORK = 2**12


def _use_threads(n_items: int, work: int) -> bool:
    """Whether to launch the parallel twin of a kernel (then the layer is chosen first)."""
    import numba
    if n_items <= 1 or work < _PARALLEL_MIN_WORK:
        return False
    kernels.select_threading_layer()    # before get_num_threads, which starts numba's pool
    return numba.get_num_threads() > 1


# --------------------------------------------------------------------------
# validation and seeding
# --------------------------------------------------------------------------

def _check_L(L) -> int:
    if isinstance(L, bool) or not isinstance(L, numbers.Integral) or L < 2:
        raise InvalidParameterError(f"L must be an integer >= 2, got {L!r}")
    return int(L)


def _check_beta(beta) -> float:
    return check_positive_number("beta", beta)


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _threshold(p: float) -> np.uint64:
    """``floor(p 2^64)`` as uint64 (accept iff a uniform 64-bit draw is below it)."""
    return np.uint64(min(int(math.floor(p * _TWO64)), _TWO64 - 1))


# --------------------------------------------------------------------------
# module-level observables
# --------------------------------------------------------------------------

def _energy_magnetization(spins) -> tuple[np.ndarray, np.ndarray]:
    spins = check_spins(spins)
    e = np.empty(spins.shape[0])
    m = np.empty(spins.shape[0])
    kernel = (kernels.energy_magnetization if _use_threads(len(spins), spins.size)
              else kernels.energy_magnetization_serial)
    kernel(spins, e, m)
    return e, m


def energy(spins) -> np.ndarray:
    """Total energy of every configuration of a batch.

    Parameters
    ----------
    spins : array_like (n, L, L) in {-1, +1}, L >= 2

    Returns
    -------
    ndarray float64 (n,)
        ``E = -sum_<ij> s_i s_j`` over the 2N bonds of the periodic lattice
        (each site with its right and lower neighbour; J = 1). For L = 2 each
        neighbouring pair counts twice. Ranges over [-2N, 2N].

    Raises
    ------
    InvalidParameterError
        Wrong shape or values outside {-1, +1}.
    """
    return _energy_magnetization(spins)[0]


def magnetization(spins) -> np.ndarray:
    """Total magnetization ``M = sum_i s_i`` of every configuration, float64 (n,).

    Same input rules as :func:`energy`.
    """
    return _energy_magnetization(spins)[1]


# --------------------------------------------------------------------------
# chains
# --------------------------------------------------------------------------

class _Chains:
    """Common part: validation, seeding, spins, observables, state."""

    algorithm = ""

    def __init__(self, L, beta, n_chains, *, rng=None, spins=None, start="random"):
        self.L = _check_L(L)
        self.beta = _check_beta(beta)
        self.n_chains = _check_count("n_chains", n_chains)
        if start not in STARTS:
            raise InvalidParameterError(
                f"start must be one of {', '.join(map(repr, STARTS))}, got {start!r}")
        seq = seed_sequence(rng)
        children = seq.spawn(self.n_chains + 1)
        self._rng_key = np.array([c.generate_state(1, dtype=np.uint64)[0]
                                  for c in children[:-1]], dtype=np.uint64)
        self._rng_counter = np.zeros(self.n_chains, dtype=np.uint64)
        self._setup_rng = np.random.default_rng(children[-1])
        if spins is not None:
            initial = check_spins(spins, L=self.L, n=self.n_chains)
        elif start == "up":
            initial = np.ones((self.n_chains, self.L, self.L), dtype=np.int8)
        else:
            initial = (2 * self._setup_rng.integers(
                0, 2, size=(self.n_chains, self.L, self.L), dtype=np.int8) - 1).astype(np.int8)
        self._store(initial)
        self.n_sweeps = 0

    # -- layout hooks -------------------------------------------------------
    def _store(self, spins: np.ndarray) -> None:
        self._spins = np.ascontiguousarray(spins, dtype=np.int8)
        self._cache = None

    def _natural(self) -> np.ndarray:
        return self._spins.copy()

    def _compute(self) -> tuple[np.ndarray, np.ndarray]:
        e = np.empty(self.n_chains)
        m = np.empty(self.n_chains)
        kernel = (kernels.energy_magnetization if _use_threads(self.n_chains, self._spins.size)
                  else kernels.energy_magnetization_serial)
        kernel(self._spins, e, m)
        return e, m

    # -- public ---------------------------------------------------------------
    @property
    def spins(self) -> np.ndarray:
        """Configurations, int8 (n_chains, L, L): a read-only snapshot array.

        A new array on every access (later sweeps do not change it); assign
        ``chains.spins = new`` to replace the configurations.
        """
        out = self._natural()
        out.flags.writeable = False
        return out

    @spins.setter
    def spins(self, value) -> None:
        self._store(check_spins(value, L=self.L, n=self.n_chains))

    def _observables(self):
        if self._cache is None:
            self._cache = self._compute()
        return self._cache

    def energy(self) -> np.ndarray:
        """Total energy ``E = -sum_<ij> s_i s_j`` of every chain, float64 (n_chains,)."""
        return self._observables()[0].copy()

    def magnetization(self) -> np.ndarray:
        """Total magnetization ``M = sum_i s_i`` of every chain, float64 (n_chains,)."""
        return self._observables()[1].copy()

    def sample(self, n_samples, *, thin=1, callback=None):
        """Generator: ``n_samples`` times, sweep ``thin`` times and yield a batch.

        Yields
        ------
        (spins, energy, magnetization)
            ``(n_chains, L, L)`` int8 copy and the totals (n_chains,) float64.
        """
        n_samples = _check_count("n_samples", n_samples)
        thin = _check_count("thin", thin)
        for step in range(n_samples):
            self.sweep(thin)
            batch = (self._natural(), self.energy(), self.magnetization())
            if callback is not None:
                callback(step, batch)
            yield batch

    def get_state(self) -> dict:
        """Everything needed to continue the chains bit for bit.

        Returns
        -------
        dict of numpy arrays
            ``spins`` int8 (n_chains, L, L), ``rng_key`` and ``rng_counter``
            uint64 (n_chains,), ``beta`` float64 0-d, ``n_sweeps`` int64 0-d
            (and for Wolff ``clusters_per_sweep`` int64 0-d). Storable as HDF5
            datasets.
        """
        return {"spins": self._natural(), "rng_key": self._rng_key.copy(),
                "rng_counter": self._rng_counter.copy(),
                "beta": np.array(self.beta, dtype=np.float64),
                "n_sweeps": np.array(self.n_sweeps, dtype=np.int64)}

    def set_state(self, state: dict) -> None:
        """Restore a :meth:`get_state` dict (same L, n_chains and beta).

        Raises
        ------
        InvalidParameterError
            Missing entries, wrong shapes, or a different beta.
        """
        try:
            spins, key, counter = state["spins"], state["rng_key"], state["rng_counter"]
        except (KeyError, TypeError):
            raise InvalidParameterError(
                "state must be a dict with 'spins', 'rng_key' and 'rng_counter'") from None
        spins = check_spins(spins, L=self.L, n=self.n_chains)
        key = np.asarray(key)
        counter = np.asarray(counter)
        for name, arr in (("rng_key", key), ("rng_counter", counter)):
            if arr.shape != (self.n_chains,) or arr.dtype.kind not in "iu":
                raise InvalidParameterError(
                    f"state {name} must be integers of shape ({self.n_chains},), "
                    f"got {arr.dtype} {arr.shape}")
        if "beta" in state and float(np.asarray(state["beta"])) != self.beta:
            raise InvalidParameterError(
                f"state beta must equal the chains' beta {self.beta!r}, "
                f"got {float(np.asarray(state['beta']))!r}")
        self._rng_key = key.astype(np.uint64)
        self._rng_counter = counter.astype(np.uint64)
        self.n_sweeps = int(np.asarray(state.get("n_sweeps", 0)))
        self._store(spins)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(L={self.L}, beta={self.beta!r}, "
                f"n_chains={self.n_chains})")


class MetropolisChains(_Chains):
    """Independent single-spin-flip Metropolis chains (checkerboard order).

    Parameters
    ----------
    L : int >= 2
        Linear lattice size (periodic L x L).
    beta : float > 0
        Inverse temperature 1/T (k_B = J = 1).
    n_chains : int >= 1
    rng : numpy.random.Generator | int | None, keyword-only
        Seed of all streams (module docstring).
    spins : array_like (n_chains, L, L) in {-1, +1}, optional
        Initial configurations (overrides ``start``).
    start : {"random", "up"}
        Initial configurations when ``spins`` is None.

    Notes
    -----
    For even L >= 8 one sweep visits every site once: first all sites with
    ``i + j`` even, then all with ``i + j`` odd (a checkerboard: no bonds join
    sites of one colour, so each half-sweep is a set of independent updates).
    For L <= 6 and odd L a sweep is N updates of uniformly random sites: a
    fixed order is not ergodic on tiny lattices (the configurations in which
    every spin has neighbour sum 0 form a closed set, visible at L = 4; its
    weight is <= 2^(2L - L^2), 4e-15 at L = 8), and odd L has no checkerboard
    on the torus (details in :mod:`ising.kernels`). A visit proposes ``s -> -s``,
    ``dE = 2 s sum_nb s_nb``, and accepts with probability
    ``min(1, exp(-beta dE))`` (a table of the two positive dE compared with a
    64-bit uniform draw). Each update
    satisfies detailed balance, so the Boltzmann distribution is stationary.
    Many chains run on separate numba threads; a few chains on a large lattice
    split each half-sweep's rows over threads instead. Either way the result is
    the same bit for bit.
    """

    algorithm = "metropolis"

    def __init__(self, L, beta, n_chains, *, rng=None, spins=None, start="random"):
        self._checkerboard = (isinstance(L, numbers.Integral) and L >= CHECKERBOARD_MIN_L
                              and L % 2 == 0)
        super().__init__(L, beta, n_chains, rng=rng, spins=spins, start=start)
        self._thresholds = np.array([_threshold(math.exp(-4.0 * self.beta)),
                                     _threshold(math.exp(-8.0 * self.beta))], dtype=np.uint64)

    def _store(self, spins):
        self._cache = None
        if not self._checkerboard:
            self._spins = np.ascontiguousarray(spins, dtype=np.int8)
        else:
            self._packed = np.ascontiguousarray(checkerboard_pack(spins), dtype=np.int8)

    def _natural(self):
        if not self._checkerboard:
            return self._spins.copy()
        return checkerboard_unpack(self._packed)

    def _compute(self):
        if not self._checkerboard:
            return super()._compute()
        e = np.empty(self.n_chains)
        m = np.empty(self.n_chains)
        kernel = (kernels.energy_magnetization_packed
                  if _use_threads(self.n_chains, self._packed.size)
                  else kernels.energy_magnetization_packed_serial)
        kernel(self._packed, e, m)
        return e, m

    def sweep(self, n_sweeps=1) -> None:
        """Do ``n_sweeps`` sweeps (every site once per sweep) of every chain."""
        n_sweeps = _check_count("n_sweeps", n_sweeps, minimum=0)
        if n_sweeps == 0:
            return
        self._cache = None
        args = (self._thresholds, n_sweeps, self._rng_key, self._rng_counter)
        work = n_sweeps * self.n_chains * self.L * self.L
        threaded = _use_threads(self.n_chains, work)
        if not self._checkerboard:
            kernel = (kernels.metropolis_random_scan if threaded
                      else kernels.metropolis_random_scan_serial)
            kernel(self._spins, *args)
        else:
            import numba
            big = self.L >= _ROWS_PARALLEL_MIN_L and work >= _PARALLEL_MIN_WORK
            if big:
                kernels.select_threading_layer()    # before get_num_threads starts the pool
            if big and numba.get_num_threads() > self.n_chains:
                # few chains on a big lattice: threads share each half-sweep's rows
                kernels.metropolis_packed_rows(self._packed, *args)
            elif threaded:
                kernels.metropolis_packed_chains(self._packed, *args)
            else:
                kernels.metropolis_packed_serial(self._packed, *args)
        self.n_sweeps += n_sweeps


class WolffChains(_Chains):
    """Independent Wolff single-cluster chains.

    Parameters
    ----------
    L, beta, n_chains, rng, spins, start
        As for :class:`MetropolisChains`.
    clusters_per_sweep : int >= 1, optional
        Cluster updates per sweep-equivalent; calibrated when None (Notes).

    Notes
    -----
    A cluster update (Wolff 1989) picks a uniformly random seed site, grows
    the cluster by adding each aligned neighbour with probability
    ``p_add = 1 - exp(-2 beta)`` and flips it.

    **Sweep-equivalent.** One :meth:`sweep` is a *fixed* number
    ``clusters_per_sweep`` of cluster updates, chosen so that on average about
    N = L*L spins are flipped: ``round(N / <|C|>)`` (at least 1), where the
    mean cluster size ``<|C|>`` is measured at construction on scratch copies
    of the chains (set-up stream; 4N flips per chain discarded, then clusters
    until 8N further flips). The count is fixed rather than "clusters until N
    spins were flipped" because stopping after a random, state-dependent
    number of updates does not preserve the Boltzmann distribution (the
    configuration right after a large cluster is over-represented); a fixed
    number of exact updates does (the test suite compares the sampled energy
    with exact enumeration at L = 2 and 3). The actual flips are counted in
    :attr:`n_flipped`.
    """

    algorithm = "wolff"

    def __init__(self, L, beta, n_chains, *, rng=None, spins=None, start="random",
                 clusters_per_sweep=None):
        super().__init__(L, beta, n_chains, rng=rng, spins=spins, start=start)
        self._threshold = _threshold(-math.expm1(-2.0 * self.beta))
        N = self.L * self.L
        self._stack = np.empty((self.n_chains, N), dtype=np.int64)
        self._flipped = np.zeros(self.n_chains, dtype=np.int64)
        #: Spins flipped per chain since construction, int64 (n_chains,).
        self.n_flipped = np.zeros(self.n_chains, dtype=np.int64)
        if clusters_per_sweep is None:
            self.clusters_per_sweep = self._calibrate()
        else:
            self.clusters_per_sweep = _check_count("clusters_per_sweep", clusters_per_sweep)

    def _calibrate(self) -> int:
        N = self.L * self.L
        scratch = self._spins.copy()
        keys = self._setup_rng.integers(0, 2**64, size=self.n_chains, dtype=np.uint64)
        counters = np.zeros(self.n_chains, dtype=np.uint64)
        clusters = np.zeros(self.n_chains, dtype=np.int64)
        flips = np.zeros(self.n_chains, dtype=np.int64)
        kernels.select_threading_layer()
        kernels.wolff_until(scratch, self._threshold, 4 * N, keys, counters, self._stack,
                            clusters, flips)
        kernels.wolff_until(scratch, self._threshold, 8 * N, keys, counters, self._stack,
                            clusters, flips)
        mean_size = flips.sum() / clusters.sum()
        return max(1, int(round(N / mean_size)))

    def sweep(self, n_sweeps=1) -> None:
        """Do ``n_sweeps`` sweep-equivalents (``clusters_per_sweep`` clusters each)."""
        n_sweeps = _check_count("n_sweeps", n_sweeps, minimum=0)
        if n_sweeps == 0:
            return
        self._cache = None
        # The parallel kernel is faster per flipped spin even on one thread
        # (numba compiles a prange body with "noalias" arrays: 8 vs 11 ns), so
        # the serial twin is kept for tiny calls only.
        small = n_sweeps * self.n_chains * self.L * self.L < _WOLFF_PARALLEL_MIN_WORK
        kernel = kernels.wolff_clusters_serial if small else kernels.wolff_clusters
        if not small:
            kernels.select_threading_layer()
        kernel(self._spins, self._threshold, n_sweeps * self.clusters_per_sweep,
               self._rng_key, self._rng_counter, self._stack, self._flipped)
        self.n_flipped += self._flipped
        self.n_sweeps += n_sweeps

    def get_state(self) -> dict:
        state = super().get_state()
        state["clusters_per_sweep"] = np.array(self.clusters_per_sweep, dtype=np.int64)
        return state

    get_state.__doc__ = _Chains.get_state.__doc__

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        if "clusters_per_sweep" in state:
            self.clusters_per_sweep = _check_count(
                "clusters_per_sweep", int(np.asarray(state["clusters_per_sweep"])))

    set_state.__doc__ = _Chains.set_state.__doc__
