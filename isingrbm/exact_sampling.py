"""Exact Ising samples from an RBM: Metropolis-Hastings with the RBM as proposal.

Composes the generic sampler :class:`rbm.metropolis.RBMMetropolis` with the
Ising Boltzmann weight of the periodic L x L lattice (k_B = J = 1)::

    pi(v) proportional to exp(-beta E(s)),   E(s) = -sum_<ij> s_i s_j,   s = 2 v - 1,

the visible units ``v`` being the row-major {0, 1} encoding of
:mod:`ising.lattice`. Each proposal is k block-Gibbs steps of the RBM,
accepted with ``min(1, exp(-beta [E(v') - E(v)] + F(v') - F(v)))`` (F the
RBM free energy), followed by the symmetry moves (by default a global spin
flip with probability 1/2; optionally also a uniformly random lattice
translation) and local Metropolis sweeps, kernels of their own that leave
the Boltzmann distribution invariant (:mod:`isingrbm.exact_moves`, which
argues why). The
chains' stationary distribution is the Ising Boltzmann distribution exactly,
however well or badly the RBM was trained: its quality only sets the
acceptance rate and the autocorrelation time.

The chains start from the RBM's own distribution (``WARM_START_STEPS``
plain Gibbs steps from random bits, :meth:`rbm.metropolis.RBMMetropolis.warm_start`):
from random bits a model of an ordered phase finds the start so improbable
that the chain would reject nearly everything. Equilibration is then checked
as ``isingrbm generate`` does
(:mod:`ising.montecarlo`): after ``n_eq`` proposals a measurement series of
E and |M| per chain (one value per proposal) must show no drift (the mean
energies of its halves agree within 4 standard errors, blocking) and be long
enough for a reliable integrated autocorrelation time (>= 50 tau_int,
:func:`mcstats.integrated_time`), and every chain must have accepted at least
one proposal in it (a stuck chain has a constant, seemingly perfect series;
no finite check can prove that chains which all sit in the same region have
found the whole distribution, so the acceptance rate and tau_int are
recorded for the user to judge); otherwise the series counts as more
equilibration and a twice longer one is tried. Each chain then stores one
configuration every ``thinning = ceil(2 max(tau_E, tau_|M|))`` proposals, so
the stored samples are effectively independent. Rows are step-major
(row = step * n_chains + chain). BLAS runs single-threaded (the products of
a few chains are small; on a busy machine threads only wait for each other).
The work runs in pieces of about 0.1-1 s; a run checkpoints its whole state
(:mod:`isingrbm.exact_state`) every few minutes and when interrupted, and a
resumed run ends bit for bit where an uninterrupted one ends.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ising.montecarlo import default_n_chains
from mccore.errors import ChainTooShortError, InvalidParameterError, IsingRBMWarning
from mccore.parallel import with_single_threaded_blas
from mccore.progress import Progress
from mccore import interrupts
from mccore.training import CHECKPOINT_SECONDS, CheckpointTimer, check_resume_settings
from mccore.validation import COUNT, Rule

from .exact_moves import (SYMMETRY_MOVES, exact_chain, ising_local_move, ising_log_target,
                          lattice_translation, symmetry_mode)
from .exact_state import (MAX_EQUILIBRATION_PROPOSALS, checkpoint_seed, memory_estimate,
                          parameters_hash, read_checkpoint, write_checkpoint)

__all__ = [
    "DEFAULT_LOCAL_SWEEPS",
    "DEFAULT_PROPOSAL_STEPS",
    "DEFAULT_SYMMETRY_MOVES",
    "EXACT_SETTINGS",
    "MAX_EQUILIBRATION_PROPOSALS",
    "MAX_LOCAL_SWEEPS",
    "MAX_PROPOSAL_STEPS",
    "SYMMETRY_MOVES",
    "WARM_START_STEPS",
    "ExactSamples",
    "bond_rbm",
    "checkpoint_seed",
    "default_n_chains",
    "exact_samples",
    "ising_local_move",
    "ising_log_target",
    "lattice_translation",
    "memory_estimate",
    "parameters_hash",
    "read_checkpoint",
    "write_checkpoint",
]

#: Block-Gibbs steps per proposal by default, a middle choice: in
#: benchmarks/rbm_mcmc.py --quick k = 5 gave the most effectively independent
#: samples per second at L = 8, T = 2.269 and 3.5; k = 1 did at L = 8, T = 1.5
#: and at L = 16 (by 1.3-3x); k = 20 never did.
DEFAULT_PROPOSAL_STEPS = 5
#: Symmetry moves between proposals by default: the global flip, not the random
#: translation (see isingrbm.exact_moves and docs/benchmarks/exact_rbm_mc.md).
DEFAULT_SYMMETRY_MOVES = "flip"
#: Single-spin Metropolis sweeps after every proposal by default (see exact_samples).
DEFAULT_LOCAL_SWEEPS = 1
#: Upper bounds of k and of the local sweeps: beyond them the RBM proposal no longer
#: matters (plain Metropolis is 'isingrbm generate'), and a mistyped 1e12 would run
#: for ever.
MAX_PROPOSAL_STEPS = 10_000
MAX_LOCAL_SWEEPS = 10_000
#: the rules of exact_samples' settings ('isingrbm sample --exact' checks its flags with them)
EXACT_SETTINGS = {"n_samples": COUNT, "k": Rule.integer(1, MAX_PROPOSAL_STEPS),
                  "n_chains": Rule.integer(minimum=1, optional=True),
                  "local_sweeps": Rule.integer(0, MAX_LOCAL_SWEEPS)}
#: Plain Gibbs steps that move the chains' starts into the RBM's distribution.
WARM_START_STEPS = 100
_INITIAL_EQUILIBRATION = 64
_INITIAL_MEASUREMENT = 256
_DRIFT_SIGMAS = 4.0


@dataclass
class ExactSamples:
    """The result of :func:`exact_samples`.

    Attributes
    ----------
    spins : ndarray (n_samples, L, L) int8 in {-1, +1}
    T : float
        Temperature of the target (k_B = J = 1).
    acceptance_rate : float
        Fraction of RBM proposals accepted (all chains, equilibration included).
    acceptance_per_chain : ndarray (n_chains,)
    flip_acceptance_rate : float
        Accepted global flips per proposal (1/2 for the flip-symmetric target,
        0 without symmetry moves).
    tau_int : dict
        ``{"energy": ..., "abs_magnetization": ...}`` in proposals, measured
        at the end of equilibration.
    thinning : int
        Proposals between stored samples of a chain.
    k : int
        Block-Gibbs steps per proposal.
    n_chains, equilibration_proposals, n_proposals : int
    equilibration_check_passed : bool
    equilibration_drift_sigmas : float
    seed : int
    seconds : float
    local_sweeps : int
    symmetry_moves : str
        ``"all"`` (flip and random translations ran between proposals),
        ``"flip"`` or ``"none"``.
    """

    spins: np.ndarray
    T: float
    acceptance_rate: float
    acceptance_per_chain: np.ndarray
    flip_acceptance_rate: float
    tau_int: dict
    thinning: int
    k: int
    n_chains: int
    equilibration_proposals: int
    n_proposals: int
    equilibration_check_passed: bool
    equilibration_drift_sigmas: float
    seed: int
    seconds: float
    local_sweeps: int = 0
    symmetry_moves: str = "flip"
    extra: dict = field(default_factory=dict)

    def provenance(self) -> dict:
        """The attrs to store with the samples (dataset schema, group attrs)."""
        return {
            "method": "metropolis-hastings",
            "algorithm": "rbm-metropolis-hastings",
            "acceptance_rate": float(self.acceptance_rate),
            "flip_acceptance_rate": float(self.flip_acceptance_rate),
            "tau_int": {k: float(v) for k, v in self.tau_int.items()},
            "tau_int_unit": "proposals",
            "thinning": int(self.thinning),
            "proposal_steps": int(self.k),
            "n_chains": int(self.n_chains),
            "equilibration_sweeps": int(self.equilibration_proposals),
            "equilibration_proposals": int(self.equilibration_proposals),
            "equilibration_check_passed": bool(self.equilibration_check_passed),
            "equilibration_drift_sigmas": float(self.equilibration_drift_sigmas),
            "n_proposals": int(self.n_proposals),
            "local_sweeps": int(self.local_sweeps),
            "symmetry_moves": str(self.symmetry_moves),
        }


def bond_rbm(L: int, T: float, *, noise: float = 0.0, rng=None) -> SimpleNamespace:
    """The exact RBM of the Ising model: one hidden unit per bond (2N of them).

    For a bond (i, j) a hidden unit with weight ``w`` to both ``v_i`` and
    ``v_j`` and bias ``-w``, plus ``-w / 2`` on each visible bias, gives the
    factor ``sum_h exp(...) = 2 e^{-w/2} cosh(w/2)`` for equal spins and
    ``2 e^{-w/2}`` for opposite ones: the ratio ``cosh(w / 2)`` is
    ``exp(2 / T)`` for ``w = 2 arccosh(exp(2 / T))``, so
    ``p_RBM(v) = exp(-E(s) / T) / Z`` exactly (k_B = J = 1). As a proposal
    it is accepted with probability 1; ``noise`` adds Gaussian noise of that
    scale to every parameter (an imperfect model with a known answer).

    Returns
    -------
    SimpleNamespace with ``weights`` (L*L, 2 L*L), ``visible_bias``, ``hidden_bias``.
    """
    from mccore.rng import stream
    from mccore.validation import check_float, check_int
    L = check_int("L", L, minimum=2)
    T = check_float("T", T, minimum=0, strict_min=True)
    noise = check_float("noise", noise, minimum=0)
    N = L * L
    w = 2.0 * np.arccosh(np.exp(2.0 / T))
    site = np.arange(N).reshape(L, L)
    right, down = np.roll(site, -1, axis=1).ravel(), np.roll(site, -1, axis=0).ravel()
    i = np.concatenate([site.ravel(), site.ravel()])
    j = np.concatenate([right, down])
    W = np.zeros((N, 2 * N))
    np.add.at(W, (i, np.arange(2 * N)), w)
    np.add.at(W, (j, np.arange(2 * N)), w)
    a = np.full(N, -2.0 * w)            # 4 bonds per site, -w/2 each
    b = np.full(2 * N, -w)
    if noise > 0:
        g = stream(rng)
        W = W + noise * g.standard_normal(W.shape)
        a = a + noise * g.standard_normal(a.shape)
        b = b + noise * g.standard_normal(b.shape)
    return SimpleNamespace(weights=W, visible_bias=a, hidden_bias=b)


def _drift_sigmas(E: np.ndarray) -> float:
    from mcstats import estimate
    h = E.shape[1] // 2
    first, second = estimate(E[:, :h]), estimate(E[:, h:2 * h])
    err = math.hypot(first.error, second.error)
    diff = first.mean - second.mean
    if err == 0:
        return 0.0 if diff == 0 else math.inf
    return diff / err


@with_single_threaded_blas
def exact_samples(model, n_samples: int, *, T: float, k: int = DEFAULT_PROPOSAL_STEPS,
                  n_chains: int | None = None, rng=None, progress=None,
                  max_equilibration: int = MAX_EQUILIBRATION_PROPOSALS,
                  local_sweeps: int = DEFAULT_LOCAL_SWEEPS,
                  symmetry_moves: str | bool = DEFAULT_SYMMETRY_MOVES, checkpoint=None,
                  resume: bool = False,
                  checkpoint_seconds: float | None = CHECKPOINT_SECONDS) -> ExactSamples:
    """Exact Boltzmann samples of the L x L Ising model, with an RBM as proposal.

    Parameters
    ----------
    model : binary RBM
        With ``weights`` (L*L, n_hidden), ``visible_bias``, ``hidden_bias``
        (e.g. :class:`rbm.BernoulliRBM` loaded from ``isingrbm fit``'s file);
        visible unit ``i`` is site ``i`` (row-major), ``v = (s + 1) / 2``.
    n_samples : int
        Configurations to return (>= 1).
    T : float
        Target temperature (k_B = J = 1); normally the model's training temperature.
    k : int
        Block-Gibbs steps per proposal.
    n_chains : int, optional
        Chains run together (default :func:`default_n_chains`).
    rng : int, SeedSequence, Generator or None
        The seed (recorded in the result).
    progress : bool or callable, optional
        True: a tqdm bar on stderr (without one, timed lines under
        :func:`mccore.progress.progress_lines`); a callable:
        ``progress(stage, done, total)`` with stage "equilibration" or
        "production", after every piece of work.
    max_equilibration : int
        Proposals after which equilibration gives up with a warning
        (:class:`~mccore.errors.IsingRBMWarning`, also recorded).
    local_sweeps : int
        Single-spin Metropolis sweeps of the Ising model
        (:class:`ising.chains.MetropolisChains`) after every proposal (0:
        the RBM proposal and the symmetry moves only). They leave
        the Boltzmann distribution invariant and visit the small
        excitations that an RBM proposes too rarely. Without them, at
        L = 16 and T = 1.5 (an RBM of 256 hidden units, 10^4 samples from 64
        chains) the specific heat of four runs came out 3 to 8 % below the
        exact value (0.181-0.191 against 0.1973, each +-0.003): a chain that
        reaches a state the RBM under-proposes stays there for long, so a
        run of this length usually has too few of them and its tau_int
        misses it. With one sweep: 0.192-0.199, and tau_int fell from 4-15
        to 1.2 proposals.
    symmetry_moves : {"flip", "all", "none"} or bool
        After every proposal, ``"flip"``: the global flip with probability
        1/2; ``"all"`` (or True): that and a uniformly random translation of
        the torus; ``"none"`` (or False): neither. Each is a kernel that
        leaves the Boltzmann distribution invariant
        (:mod:`isingrbm.exact_moves`). Without the flip the sign of the
        magnetization mixes only through the RBM, which near and below T_c
        rarely changes it (tau_int of M 48-650 proposals at T_c against 1
        with it); the translation doubled tau_int of E and |M| at L = 16,
        T_c in docs/benchmarks/exact_rbm_mc.md, hence not by default.
    checkpoint : path-like, optional
        A file (:func:`write_checkpoint`) that receives the whole state every
        ``checkpoint_seconds`` of wall time and when the run is interrupted
        (``KeyboardInterrupt``, which is then raised again); it is not
        removed at the end (the caller removes it once the samples are stored).
    resume : bool
        Continue from ``checkpoint`` if it exists: the settings (model
        parameters, ``T``, ``k``, chains, sweeps, symmetry moves, samples,
        seed) must be the
        ones it records, and the result is bit for bit that of an
        uninterrupted run.
    checkpoint_seconds : float or None
        Wall-clock seconds between checkpoints (0: after every piece of
        work; None: only when interrupted).

    Returns
    -------
    ExactSamples

    Raises
    ------
    InvalidParameterError
        A model that is not binary, whose visible units are not L*L, bad
        n_samples, T, k or local_sweeps, or a checkpoint of other settings.
    FileFormatError
        ``checkpoint`` is not a checkpoint of this sampler.
    """
    from mccore.rng import recorded_seed, seed_sequence
    from mccore.validation import check_float, check_int, check_settings

    if getattr(model, "sigma", None) is not None or getattr(model, "kind", "bernoulli") \
            != "bernoulli":
        raise InvalidParameterError(
            "model must be a Bernoulli (binary) RBM for exact Ising samples, got a Gaussian one")
    n_samples, k, n_chains, local_sweeps = check_settings(
        EXACT_SETTINGS, n_samples=n_samples, k=k, n_chains=n_chains,
        local_sweeps=local_sweeps).values()
    T = check_float("T", T, minimum=0, strict_min=True)
    n_chains = default_n_chains(n_samples) if n_chains is None else n_chains
    max_equilibration = check_int("max_equilibration", max_equilibration, minimum=1)
    symmetry_moves = symmetry_mode(symmetry_moves)
    n_visible = int(np.asarray(model.weights).shape[0])
    L = round(math.sqrt(n_visible))
    if L * L != n_visible or L < 2:
        raise InvalidParameterError(
            f"model must have L*L visible units (L >= 2) for an L x L lattice, got {n_visible}")
    seq = seed_sequence(rng)
    settings = {"model": parameters_hash(model), "T": float(T), "k": k, "n_chains": n_chains,
                "n_samples": n_samples, "local_sweeps": local_sweeps,
                "symmetry_moves": symmetry_moves,
                "max_equilibration": max_equilibration, "seed": recorded_seed(seq)}
    saved = None
    if checkpoint is not None and resume and Path(checkpoint).exists():
        saved = read_checkpoint(checkpoint)
        check_resume_settings(saved["settings"], settings, what=f"checkpoint {checkpoint}")
    start = time.perf_counter()
    mh = exact_chain(model, L, T, n_chains, k=k, local_sweeps=local_sweeps,
                     symmetry_moves=symmetry_moves, rng=seq,
                     log_target=ising_log_target(L, T))
    run = _Run(mh, settings, L, max_equilibration)
    if saved is not None:
        try:
            run.restore(saved)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            from mccore.errors import FileFormatError
            raise FileFormatError(f"{checkpoint}: a damaged checkpoint of 'isingrbm sample "
                                  f"--exact' ({type(exc).__name__}: {exc})") from None
    else:
        mh.warm_start(WARM_START_STEPS)
    timer = CheckpointTimer(checkpoint_seconds)
    bars = {}

    def report(stage, done, total):
        if callable(progress):
            progress(stage, done, total)
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[stage] = Progress(
                total, initial=done, bar=progress is True, description=f"exact {stage}",
                unit="proposals" if stage == "equilibration" else "samples")
        else:
            bar.update(done - bar.n)

    snapshot = run.snapshot()
    try:
        while not run.finished:
            run.advance()
            interrupts.raise_if_requested()     # an interrupt lost in a finalizer
            snapshot = run.snapshot()
            if checkpoint is not None and timer.due():
                write_checkpoint(checkpoint, snapshot, time.perf_counter() - start)
                timer.saved()
            report(*run.progress())
    except KeyboardInterrupt:
        if checkpoint is not None:
            write_checkpoint(checkpoint, snapshot, time.perf_counter() - start)
        raise
    finally:
        for bar in bars.values():
            bar.close()
    return run.result(time.perf_counter() - start)


class _Run:
    """The state of one exact-sampling run: equilibration rounds, then production.

    ``advance()`` does one piece of work (at most ``chunk`` proposals); after
    it the state is consistent, and ``snapshot()`` captures it (the chains'
    state, the counters and the filled part of the series and samples) for a
    checkpoint. Splitting the work into pieces changes no number (the chains'
    streams continue from piece to piece).
    """

    def __init__(self, mh, settings: dict, L: int, max_equilibration: int):
        self.mh, self.settings, self.L = mh, settings, L
        self.n_chains, self.n_samples = settings["n_chains"], settings["n_samples"]
        self.max_equilibration = max_equilibration
        per = self.n_chains * ((2.0 * settings["k"] + 1) * mh.n_visible * mh.n_hidden
                               + 20.0 * settings["local_sweeps"] * mh.n_visible)
        self.chunk = max(1, int(2e8 // max(per, 1.0)))   # about 0.1-1 s of work
        self.stage = "equilibration"
        self.n_eq, self.n_meas, self.total, self.done = (_INITIAL_EQUILIBRATION,
                                                         _INITIAL_MEASUREMENT, 0, 0)
        self.accepted = mh.n_accepted.copy()
        self._new_series()
        self.stats = {}
        self.n_steps = -(-self.n_samples // self.n_chains)
        self.spins = None
        self.finished = False
        self.seconds_before = 0.0

    def _new_series(self):
        self.E = np.empty((self.n_chains, self.n_meas))
        self.A = np.empty((self.n_chains, self.n_meas))

    def progress(self):
        if self.stage == "equilibration":
            return "equilibration", self.total + self.done, None
        return "production", min(self.done // self.stats["thinning"] * self.n_chains,
                                 self.n_samples), self.n_samples

    def advance(self) -> None:
        mh = self.mh
        if self.stage == "production":
            thin = self.stats["thinning"]
            b = min(self.chunk, thin - self.done % thin)
            mh.run(b)
            self.done += b
            if self.done % thin == 0:
                step = self.done // thin - 1
                rows = slice(step * self.n_chains, (step + 1) * self.n_chains)
                self.spins[rows] = _visible_to_spins(mh.visible, self.L)
                self.finished = step + 1 == self.n_steps
            return
        if self.done < self.n_eq:
            b = min(self.chunk, self.n_eq - self.done)
            mh.run(b)
            self.done += b
            if self.done == self.n_eq:
                self.accepted = mh.n_accepted.copy()
            return
        col = self.done - self.n_eq
        b = min(self.chunk, self.n_meas - col)
        mh.run(b, callback=self._recorder(col))
        self.done += b
        if self.done == self.n_eq + self.n_meas:
            self._end_round()

    def _recorder(self, col: int):
        N, T = self.mh.n_visible, self.settings["T"]
        column = [col]

        def record(s):
            c = column[0]
            self.E[:, c] = np.rint(-T * s.log_target_values)
            self.A[:, c] = np.abs(2.0 * s.visible.sum(axis=1, dtype=np.int64) - N)
            column[0] = c + 1
        return record

    def _end_round(self) -> None:
        from mcstats import integrated_time

        mh, E, A = self.mh, self.E, self.A
        self.total += self.n_eq + self.n_meas
        stuck = int(np.sum(mh.n_accepted == self.accepted))   # chains that accepted nothing
        drift = _drift_sigmas(E)
        try:
            tau_e, tau_m = integrated_time(E), integrated_time(A)
            reliable = True
        except ChainTooShortError:
            reliable = False
        if reliable and abs(drift) < _DRIFT_SIGMAS and stuck == 0:
            passed = True
        elif self.total + 2 * self.n_meas > self.max_equilibration:
            tau_e, tau_m = integrated_time(E, quiet=True), integrated_time(A, quiet=True)
            passed = False
            self.warning = (
                f"T={self.settings['T']:g}: equilibration check not passed after {self.total} "
                f"proposals (energy drift {drift:.1f} sigma, tau_int(E)={tau_e:.3g}, "
                f"tau_int(|M|)={tau_m:.3g} proposals, {stuck} of {self.n_chains} chains "
                f"accepted no proposal in the last {self.n_meas}); samples may be correlated")
            warnings.warn(self.warning, IsingRBMWarning, stacklevel=4)
        else:
            self.n_eq, self.n_meas, self.done = 0, 2 * self.n_meas, 0
            self.accepted = mh.n_accepted.copy()
            self._new_series()
            return
        self.stats = {"tau_e": float(tau_e), "tau_m": float(tau_m), "passed": passed,
                      "drift": float(drift),
                      "thinning": max(1, math.ceil(2.0 * max(tau_e, tau_m)))}
        self.stage, self.done = "production", 0
        self.E = self.A = None
        self.spins = np.empty((self.n_steps * self.n_chains, self.L, self.L), dtype=np.int8)

    # -- checkpoints ---------------------------------------------------------
    def snapshot(self) -> dict:
        """The consistent state now (arrays copied where later work could change them)."""
        mh = self.mh
        state = mh.get_state()
        meta = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
        arrays = {f"mh_{k}": v for k, v in state.items() if isinstance(v, np.ndarray)}
        if mh.local_move is not None:
            arrays.update({f"local_{k}": np.asarray(v)
                           for k, v in mh.local_move.get_state().items()})
        arrays["accepted"] = self.accepted.copy()
        if self.stage == "equilibration":
            filled = max(0, self.done - self.n_eq)
            arrays["E"], arrays["A"] = self.E[:, :filled], self.A[:, :filled]
        else:
            step = self.done // self.stats["thinning"]
            arrays["spins"] = self.spins[:step * self.n_chains]
        meta.update(settings=self.settings, stage=self.stage, n_eq=self.n_eq,
                    n_meas=self.n_meas, total=self.total, done=self.done, stats=self.stats,
                    warning=getattr(self, "warning", None),
                    seconds_before=self.seconds_before)
        return {"meta": meta, "arrays": arrays}

    def restore(self, saved: dict) -> None:
        meta, arrays = saved["meta"], saved["arrays"]
        mh = self.mh
        mh.set_state({**{k: v for k, v in meta.items() if k in (
            "n_proposed", "gibbs_rngs", "accept_rngs", "local_rng")},
            **{k[3:]: v for k, v in arrays.items() if k.startswith("mh_")}})
        if mh.local_move is not None:
            mh.local_move.set_state({k[6:]: v for k, v in arrays.items()
                                     if k.startswith("local_")})
        self.stage, self.total, self.done = meta["stage"], meta["total"], meta["done"]
        self.n_eq, self.n_meas = meta["n_eq"], meta["n_meas"]
        self.stats, self.seconds_before = meta["stats"], float(meta["seconds_before"])
        self.accepted = np.asarray(arrays["accepted"], dtype=np.int64)
        if meta.get("warning"):
            self.warning = meta["warning"]
            warnings.warn(self.warning, IsingRBMWarning, stacklevel=4)
        if self.stage == "equilibration":
            self._new_series()
            filled = arrays["E"].shape[1]
            self.E[:, :filled], self.A[:, :filled] = arrays["E"], arrays["A"]
        else:
            self.spins = np.empty((self.n_steps * self.n_chains, self.L, self.L),
                                  dtype=np.int8)
            rows = arrays["spins"].shape[0]
            self.spins[:rows] = arrays["spins"]
            self.finished = rows == self.spins.shape[0]

    def result(self, seconds: float) -> ExactSamples:
        mh, st = self.mh, self.stats
        rate = mh.acceptance_rate
        return ExactSamples(
            spins=self.spins[:self.n_samples], T=self.settings["T"],
            acceptance_rate=float(rate.mean()), acceptance_per_chain=rate,
            flip_acceptance_rate=float(mh.n_flips_accepted.sum()
                                       / (mh.n_proposed * self.n_chains)),
            tau_int={"energy": st["tau_e"], "abs_magnetization": st["tau_m"]},
            thinning=int(st["thinning"]), k=int(self.settings["k"]),
            n_chains=int(self.n_chains), equilibration_proposals=int(self.total),
            n_proposals=int(mh.n_proposed), equilibration_check_passed=bool(st["passed"]),
            equilibration_drift_sigmas=st["drift"], seed=self.settings["seed"],
            seconds=self.seconds_before + seconds,
            local_sweeps=int(self.settings["local_sweeps"]),
            symmetry_moves=str(self.settings["symmetry_moves"]))


def _visible_to_spins(V, L: int) -> np.ndarray:
    from ising.lattice import visible_to_spins
    return visible_to_spins(V, L)
