"""One temperature's Monte Carlo run: the algorithm, the random streams, the
checked equilibration and the production of samples.

A generator of events (:func:`_run_task`) that :func:`ising.simulate`
(:mod:`ising.montecarlo`, whose docstring gives the method) feeds to its
sink, on rank 0 or through MPI messages; nothing here writes files.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np

from mccore.errors import ChainTooShortError, InvalidParameterError, IsingRBMWarning
from mcstats import estimate, integrated_time

from .exact import T_C

__all__ = ["ALGORITHMS", "AUTO_WOLFF_MAX_T", "MAX_EQUILIBRATION_SWEEPS", "STREAM_KEYING",
           "resolve_algorithm", "default_n_chains"]

#: Root attr ``stream_keying`` of files whose streams are keyed by T's value.
STREAM_KEYING = "temperature-value"

ALGORITHMS = ("auto", "metropolis", "wolff")
#: ``algorithm="auto"`` uses Wolff for T <= this, Metropolis above.
AUTO_WOLFF_MAX_T = T_C + 0.5
#: Equilibration gives up (with a warning) after this many sweeps.
MAX_EQUILIBRATION_SWEEPS = 2**18
_INITIAL_EQUILIBRATION = 64
_INITIAL_MEASUREMENT = 256
_DRIFT_SIGMAS = 4.0


def resolve_algorithm(T: float, algorithm: str = "auto") -> str:
    """The update used at temperature ``T``: "metropolis" or "wolff"."""
    if algorithm not in ALGORITHMS:
        raise InvalidParameterError(
            f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    if algorithm != "auto":
        return algorithm
    return "wolff" if T <= AUTO_WOLFF_MAX_T else "metropolis"


def default_n_chains(n_samples: int) -> int:
    """Independent chains per temperature: ``clip(n_samples // 32, 1, 64)``.

    Every chain pays its own equilibration (>= 50 tau_int sweeps for the
    tau measurement) while production costs ~2 tau_int sweeps per sample, so
    about 32 samples per chain keep equilibration below production; 64 chains
    are plenty for the thread parallelism of the kernels.
    """
    return int(min(64, max(1, n_samples // 32)))

@dataclass
class _Task:
    index: int
    T: float
    key: str
    L: int
    n_target: int
    algorithm: str
    n_chains: int
    seed: int
    spawn_key: tuple = ()


def _task_rngs(seed: int, spawn_key: tuple):
    """The chains' SeedSequence and the global-flip Generator of one temperature.

    ``SeedSequence(seed, spawn_key)`` spawns two children; the chains get a
    SeedSequence of four 63-bit words drawn from the first (the derivation
    of every file since format 1, so a recorded spawn key reproduces the
    streams of any file), the flips a Generator of the second.
    """
    ss = np.random.SeedSequence(seed, spawn_key=tuple(int(k) for k in spawn_key))
    chain_ss, flip_ss = ss.spawn(2)
    words = np.random.default_rng(chain_ss).integers(0, 2**63, size=4, dtype=np.int64)
    return (np.random.SeedSequence([int(w) for w in words]),
            np.random.default_rng(flip_ss))


def _make_chains(task: _Task, rng):
    from . import chains as chains_module
    cls = chains_module.WolffChains if task.algorithm == "wolff" else chains_module.MetropolisChains
    start = "up" if task.T < T_C else "random"
    return cls(task.L, 1.0 / task.T, task.n_chains, rng=rng, start=start)


def _series(chains, n_sweeps: int) -> tuple[np.ndarray, np.ndarray]:
    E = np.empty((chains.n_chains, n_sweeps))
    A = np.empty((chains.n_chains, n_sweeps))
    for t in range(n_sweeps):
        chains.sweep(1)
        E[:, t] = chains.energy()
        A[:, t] = np.abs(chains.magnetization())
    return E, A


def _drift_sigmas(E: np.ndarray) -> float:
    h = E.shape[1] // 2
    first, second = estimate(E[:, :h]), estimate(E[:, h:2 * h])
    diff = first.mean - second.mean
    err = math.hypot(first.error, second.error)
    if err == 0:
        return 0.0 if diff == 0 else math.inf
    return diff / err


def _equilibrate(chains, task: _Task) -> dict:
    n_eq, n_meas = _INITIAL_EQUILIBRATION, _INITIAL_MEASUREMENT
    total = 0
    while True:
        chains.sweep(n_eq)
        total += n_eq
        E, A = _series(chains, n_meas)
        total += n_meas
        drift = _drift_sigmas(E)
        try:
            tau_e = integrated_time(E)
            tau_m = integrated_time(A)
            reliable = True
        except ChainTooShortError:
            reliable = False
        if reliable and abs(drift) < _DRIFT_SIGMAS:
            ok = True
            break
        if total + 2 * n_meas > MAX_EQUILIBRATION_SWEEPS:
            tau_e = integrated_time(E, quiet=True)
            tau_m = integrated_time(A, quiet=True)
            ok = False
            warnings.warn(
                f"T={task.T:g}: equilibration check not passed after {total} sweeps "
                f"(energy drift {drift:.1f} sigma, tau_int(E)={tau_e:.3g}, "
                f"tau_int(|M|)={tau_m:.3g}); samples may be correlated or biased",
                IsingRBMWarning, stacklevel=3)
            break
        n_eq = 0
        n_meas *= 2
    thinning = max(1, math.ceil(2.0 * max(tau_e, tau_m)))
    extra = {}
    if hasattr(chains, "clusters_per_sweep"):
        extra["clusters_per_sweep"] = int(chains.clusters_per_sweep)
    return {**extra, "equilibration_sweeps": int(total), "measurement_sweeps": int(n_meas),
            "tau_int": {"energy": float(tau_e), "abs_magnetization": float(tau_m)},
            "thinning": int(thinning), "equilibration_drift_sigmas": float(drift),
            "equilibration_check_passed": bool(ok)}


def _state(chains, flip_rng) -> dict:
    state = {f"chain_{k}": v for k, v in chains.get_state().items()}
    state["flip_rng"] = flip_rng.bit_generator.state
    return state


def _restore(chains, flip_rng, state: dict) -> None:
    chains.set_state({k[len("chain_"):]: v for k, v in state.items() if k.startswith("chain_")})
    flip_rng.bit_generator.state = state["flip_rng"]


def _run_task(task: _Task, resume: dict | None, checkpoint_interval: float):
    """Generator of events for one temperature.

    Yields ("equilibrated", info, state), ("rows", spins, E, M, state) and
    ("complete",). ``resume`` = {"info", "state", "n_written"} continues a run.
    """
    chain_rng, flip_rng = _task_rngs(task.seed, task.spawn_key)
    chains = _make_chains(task, chain_rng)
    if resume is None:
        info = _equilibrate(chains, task)
        n_written = 0
        yield ("equilibrated", info, _state(chains, flip_rng))
    else:
        info = resume["info"]
        n_written = int(resume["n_written"])
        _restore(chains, flip_rng, resume["state"])
    thinning = int(info["thinning"])
    n_chains = task.n_chains
    steps_total = -(-task.n_target // n_chains)
    step = n_written // n_chains
    buffer = []
    last = time.monotonic()
    while step < steps_total:
        chains.sweep(thinning)
        spins = np.array(chains.spins, dtype=np.int8, copy=True)
        energy = np.array(chains.energy(), dtype=np.float64, copy=True)
        magnetization = np.array(chains.magnetization(), dtype=np.float64, copy=True)
        flip = flip_rng.random(n_chains) < 0.5
        spins[flip] *= -1
        magnetization[flip] *= -1
        take = min(n_chains, task.n_target - step * n_chains)
        buffer.append((spins[:take], energy[:take], magnetization[:take]))
        step += 1
        if step == steps_total or time.monotonic() - last >= checkpoint_interval:
            yield ("rows", np.concatenate([b[0] for b in buffer]),
                   np.concatenate([b[1] for b in buffer]),
                   np.concatenate([b[2] for b in buffer]), _state(chains, flip_rng))
            buffer = []
            last = time.monotonic()
    yield ("complete",)
