"""Exact Ising samples from an RBM: Metropolis-Hastings with the RBM as proposal.

Composes the generic sampler :class:`rbm.metropolis.RBMMetropolis` with the
Ising Boltzmann weight of the periodic L x L lattice (k_B = J = 1)::

    pi(v) proportional to exp(-beta E(s)),   E(s) = -sum_<ij> s_i s_j,   s = 2 v - 1,

the visible units ``v`` being the row-major {0, 1} encoding of
:mod:`ising.lattice`. Each proposal is k block-Gibbs steps of the RBM,
accepted with ``min(1, exp(-beta [E(v') - E(v)] + F(v') - F(v)))`` (F the
RBM free energy), followed by a global spin flip proposed with probability
1/2 (always accepted: the zero-field Ising weight is flip symmetric). The
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
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from ising.montecarlo import default_n_chains
from mccore.errors import ChainTooShortError, InvalidParameterError, IsingRBMWarning
from mccore.parallel import with_single_threaded_blas

__all__ = [
    "DEFAULT_LOCAL_SWEEPS",
    "DEFAULT_PROPOSAL_STEPS",
    "MAX_EQUILIBRATION_PROPOSALS",
    "WARM_START_STEPS",
    "ExactSamples",
    "bond_rbm",
    "default_n_chains",
    "exact_samples",
    "ising_local_move",
    "ising_log_target",
]

#: Block-Gibbs steps per proposal by default, a middle choice: in
#: benchmarks/rbm_mcmc.py --quick k = 5 gave the most effectively independent
#: samples per second at L = 8, T = 2.269 and 3.5; k = 1 did at L = 8, T = 1.5
#: and at L = 16 (by 1.3-3x); k = 20 never did.
DEFAULT_PROPOSAL_STEPS = 5
#: Single-spin Metropolis sweeps after every proposal by default (see exact_samples).
DEFAULT_LOCAL_SWEEPS = 1
#: Equilibration gives up (with a warning, recorded) after this many proposals.
MAX_EQUILIBRATION_PROPOSALS = 2**16
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
        Accepted global flips per proposal (1/2 for the flip-symmetric target).
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
        }


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


def ising_local_move(L: int, T: float, n_chains: int, *, n_sweeps: int = 1, rng=None):
    """A ``local_move`` for :class:`rbm.metropolis.RBMMetropolis`: Metropolis sweeps.

    Returns ``move(V, rng) -> V_new`` on visible units (n_chains, L*L) uint8
    that runs ``n_sweeps`` sweeps of :class:`ising.chains.MetropolisChains`
    (single-spin Metropolis at temperature ``T``, which leaves the Boltzmann
    distribution invariant) from ``V``. Its randomness is the chains' own
    stream of ``rng``, continued from call to call (the ``rng`` argument of
    ``move`` is not used).
    """
    from ising.chains import MetropolisChains
    from ising.lattice import spins_to_visible, visible_to_spins

    chains = MetropolisChains(L, 1.0 / T, n_chains, rng=rng)

    def move(V, _rng=None):
        chains.spins = visible_to_spins(V, L)
        chains.sweep(n_sweeps)
        return spins_to_visible(chains.spins).astype(np.uint8)
    return move


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
    from mccore.rng import as_generator
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
        g = as_generator(rng)
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
                  local_sweeps: int = DEFAULT_LOCAL_SWEEPS) -> ExactSamples:
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
    progress : callable, optional
        ``progress(stage, done, total)`` with stage "equilibration" or "production".
    max_equilibration : int
        Proposals after which equilibration gives up with a warning
        (:class:`~mccore.errors.IsingRBMWarning`, also recorded).
    local_sweeps : int
        Single-spin Metropolis sweeps of the Ising model
        (:class:`ising.chains.MetropolisChains`) after every proposal (0: the RBM proposal and the global flip only). They leave
        the Boltzmann distribution invariant and visit the small
        excitations that an RBM proposes too rarely. Without them, at
        L = 16 and T = 1.5 (an RBM of 256 hidden units, 10^4 samples from 64
        chains) the specific heat of four runs came out 3 to 8 % below the
        exact value (0.181-0.191 against 0.1973, each +-0.003): a chain that
        reaches a state the RBM under-proposes stays there for long, so a
        run of this length usually has too few of them and its tau_int
        misses it. With one sweep: 0.192-0.199, and tau_int fell from 4-15
        to 1.2 proposals.

    Returns
    -------
    ExactSamples

    Raises
    ------
    InvalidParameterError
        A model that is not binary, whose visible units are not L*L, bad n_samples, T or k.
    """
    from mccore.rng import child, recorded_seed, seed_sequence
    from mccore.validation import check_float, check_int
    from mcstats import integrated_time
    from rbm.metropolis import RBMMetropolis

    if getattr(model, "sigma", None) is not None or getattr(model, "kind", "bernoulli") \
            != "bernoulli":
        raise InvalidParameterError(
            "model must be a Bernoulli (binary) RBM for exact Ising samples, got a Gaussian one")
    n_samples = check_int("n_samples", n_samples, minimum=1)
    T = check_float("T", T, minimum=0, strict_min=True)
    k = check_int("k", k, minimum=1)
    n_chains = default_n_chains(n_samples) if n_chains is None else check_int(
        "n_chains", n_chains, minimum=1)
    max_equilibration = check_int("max_equilibration", max_equilibration, minimum=1)
    n_visible = int(np.asarray(model.weights).shape[0])
    L = round(math.sqrt(n_visible))
    if L * L != n_visible or L < 2:
        raise InvalidParameterError(
            f"model must have L*L visible units (L >= 2) for an L x L lattice, got {n_visible}")
    seq = seed_sequence(rng)
    start = time.perf_counter()
    N = n_visible
    local_sweeps = check_int("local_sweeps", local_sweeps, minimum=0)
    local_move = (ising_local_move(L, T, n_chains, n_sweeps=local_sweeps, rng=child(seq, 1))
                  if local_sweeps else None)
    mh = RBMMetropolis(model, ising_log_target(L, T), n_chains, k=k, global_flip=True,
                       local_move=local_move, rng=seq)
    mh.warm_start(WARM_START_STEPS)

    def observe(series_E, series_A):
        col = [0]

        def record(s):
            c = col[0]
            series_E[:, c] = np.rint(-T * s.log_target_values)
            series_A[:, c] = np.abs(2.0 * s.visible.sum(axis=1, dtype=np.int64) - N)
            col[0] = c + 1
        return record

    n_eq, n_meas, total = _INITIAL_EQUILIBRATION, _INITIAL_MEASUREMENT, 0
    while True:
        mh.run(n_eq)
        total += n_eq
        E = np.empty((n_chains, n_meas))
        A = np.empty((n_chains, n_meas))
        accepted = mh.n_accepted.copy()
        mh.run(n_meas, callback=observe(E, A))
        total += n_meas
        stuck = int(np.sum(mh.n_accepted == accepted))   # chains that accepted nothing
        if progress is not None:
            progress("equilibration", total, None)
        drift = _drift_sigmas(E)
        try:
            tau_e, tau_m = integrated_time(E), integrated_time(A)
            reliable = True
        except ChainTooShortError:
            reliable = False
        if reliable and abs(drift) < _DRIFT_SIGMAS and stuck == 0:
            passed = True
            break
        if total + 2 * n_meas > max_equilibration:
            tau_e, tau_m = integrated_time(E, quiet=True), integrated_time(A, quiet=True)
            passed = False
            warnings.warn(
                f"T={T:g}: equilibration check not passed after {total} proposals (energy "
                f"drift {drift:.1f} sigma, tau_int(E)={tau_e:.3g}, tau_int(|M|)={tau_m:.3g} "
                f"proposals, {stuck} of {n_chains} chains accepted no proposal in the last "
                f"{n_meas}); samples may be correlated", IsingRBMWarning, stacklevel=2)
            break
        n_eq, n_meas = 0, 2 * n_meas
    thinning = max(1, math.ceil(2.0 * max(tau_e, tau_m)))

    n_steps = -(-n_samples // n_chains)
    spins = np.empty((n_steps * n_chains, L, L), dtype=np.int8)
    from ising.lattice import visible_to_spins
    for step in range(n_steps):
        mh.run(thinning)
        spins[step * n_chains:(step + 1) * n_chains] = visible_to_spins(mh.visible, L)
        if progress is not None:
            progress("production", min((step + 1) * n_chains, n_samples), n_samples)
    rate = mh.acceptance_rate
    return ExactSamples(
        spins=spins[:n_samples], T=float(T), acceptance_rate=float(rate.mean()),
        acceptance_per_chain=rate, flip_acceptance_rate=float(
            mh.n_flips_accepted.sum() / (mh.n_proposed * n_chains)),
        tau_int={"energy": float(tau_e), "abs_magnetization": float(tau_m)},
        thinning=int(thinning), k=int(k), n_chains=int(n_chains),
        equilibration_proposals=int(total), n_proposals=int(mh.n_proposed),
        equilibration_check_passed=bool(passed), equilibration_drift_sigmas=float(drift),
        seed=recorded_seed(seq), seconds=time.perf_counter() - start,
        local_sweeps=local_sweeps)
