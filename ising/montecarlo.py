"""The per-temperature Monte Carlo driver: :func:`simulate`.

For every temperature T (k_B = J = 1) of a periodic L x L lattice:

1. **Streams.** The run has one seed; temperature T gets the SeedSequence
   ``SeedSequence(seed, spawn_key=(temperature_key(T),))`` with
   ``temperature_key(T) = round(T * 1e6)`` (:func:`mccore.rng.temperature_key`),
   split into a stream for the chains and one for the global spin flips.
   The stream is keyed by the temperature's *value*, so results depend on
   the seed only -- not on threads, MPI ranks or which other temperatures
   run beside it (adding a temperature leaves the others' samples
   unchanged). Each group records its key (attr ``seed_spawn_key``) and the
   file root ``stream_keying="temperature-value"``; files written before
   this keying (no ``stream_keying``: key = position in ascending T) are
   resumed with the key they recorded, so they continue exactly.
2. **Algorithm.** ``"auto"`` takes Wolff cluster updates for
   ``T <= T_c + 0.5`` (ordered and critical region, where local Metropolis
   slows down critically: tau_int(|m|) ~ L^2.17) and checkerboard Metropolis
   above. Wolff's unit of time is a *sweep-equivalent* (clusters until on
   average N spins were flipped, see :mod:`ising.chains`).
3. **Equilibration, checked.** Chains start ordered (all up) below T_c and
   random above. After ``n_eq`` sweeps a measurement series of ``n_meas``
   sweeps records E and |M| of every chain; it is accepted when (a) the mean
   energies of its two halves agree within 4 standard errors (blocking) and
   (b) Sokal's integrated autocorrelation times of E and |M| are reliable
   (series >= 50 tau_int). Otherwise the series counts as more equilibration
   and a twice longer one is tried (up to ``MAX_EQUILIBRATION_SWEEPS``, after
   which an :class:`~mccore.errors.IsingRBMWarning` is issued and recorded).
4. **Production.** Each chain stores one configuration every
   ``thinning = ceil(2 max(tau_E, tau_|M|))`` sweeps, so stored samples are
   effectively independent. Each stored copy is multiplied by a random global
   sign (an exact symmetry of the zero-field model, so the samples stay exact
   Boltzmann samples); this makes m > 0 and m < 0 equally likely also where
   Metropolis never tunnels. Rows are ordered step-major (row = step *
   n_chains + chain).
5. **Storage.** With a ``path``, rows are appended every
   ``checkpoint_interval`` seconds together with the chain and RNG states
   (:mod:`ising.store`), so ``resume=True`` continues the *same* streams and
   produces exactly the file an uninterrupted run would have produced.

The output file
---------------
Everything is validated (including 1/T and a memory estimate) before any
file is created. Then:

* **Lock.** The run holds :func:`mccore.files.output_lock` on the output
  for its whole duration, taken before the file is touched: a second run
  writing the same output (also through a symlink) is refused with one line
  and cannot damage the first one's file.
* **Symlinks.** An output that is a symlink is written *through*: the data
  go to the link's target, the link stays (the rule for every command).
* **A new file** is written in place as the run goes; interrupted, it is
  the resumable partial (its groups say ``complete=False``).
* **``overwrite=True`` over an existing file** writes the new run into
  ``NAME.partial`` beside the (resolved) output and moves it over ``NAME``
  with ``os.replace`` only when every temperature is complete, so the old
  file stays intact until then. Interrupted, ``NAME`` is still the old file
  and ``NAME.partial`` the resumable partial of the new run.
* **``resume=True``** continues ``NAME.partial`` if it exists (and then
  replaces ``NAME`` with it at the end), else ``NAME`` in place, else starts
  a new file. A run without ``resume``/``overwrite`` refuses an existing
  ``NAME`` or ``NAME.partial`` (naming both flags).
* **Failures.** On a full disk the writer stops before writing
  (:class:`ising.store.DiskFullError`, one line). A file this run created is
  kept if it holds counted rows (it is resumable: free space, then
  ``resume=True``) and removed otherwise; an existing file is never removed.

Under ``mpiexec -n K`` (mpi4py) temperature ``i`` (in ascending order) runs
on rank ``i mod K``; rank 0 is the only writer and gets every row by message.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mccore.errors import (
    ChainTooShortError,
    InvalidParameterError,
    IsingRBMError,
    IsingRBMWarning,
    OutputExistsError,
)
from mccore.files import output_lock
from mccore.parallel import numba_threads
from mccore.rng import recorded_seed, seed_sequence, temperature_key
from mccore.validation import (
    check_choice,
    check_float,
    check_int,
    check_memory,
    check_positive_number,
)
from mcstats import estimate, integrated_time

from .exact import T_C
from .phases import PHASE_WINDOW, phase_label
from .store import DatasetWriter, DiskFullError, Ensemble, group_key, load, validate

__all__ = ["ALGORITHMS", "AUTO_WOLFF_MAX_T", "MAX_EQUILIBRATION_SWEEPS", "STREAM_KEYING",
           "simulate", "resolve_algorithm", "default_n_chains", "partial_path",
           "estimated_memory", "check_output"]

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


def partial_path(path) -> Path:
    """Where an ``overwrite=True`` run over an existing ``path`` writes until it completes.

    ``NAME.partial`` beside the output, symlinks resolved (the data go to the
    link's target).
    """
    target = Path(os.path.realpath(path))
    return target.with_name(target.name + ".partial")


def estimated_memory(L: int, n_temperatures: int, n_samples: int, n_chains: int) -> float:
    """Bytes :func:`simulate` needs at most (a float: never overflows).

    The returned ensembles (``n_temperatures * n_samples`` rows of ``L*L``
    int8 spins plus two float64), two more rows' worth for the write buffer
    and its concatenation, and per chain about 13 bytes per spin (the spins,
    copies of them, the Wolff cluster stack of int64).
    """
    N = float(L) * float(L)
    rows = float(n_samples) * (N + 16.0)
    return (n_temperatures + 2.0) * rows + 13.0 * float(n_chains) * N


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


# --------------------------------------------------------------------------
# one temperature
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# the sink (rank 0): file or memory, progress, log
# --------------------------------------------------------------------------

class _Sink:
    def __init__(self, tasks, writer, *, progress: bool, log, window: float):
        self.tasks = {t.index: t for t in tasks}
        self.writer = writer
        self.progress = progress
        self.log = log
        self.window = window
        self.bars = {}
        self.memory = {t.index: [] for t in tasks}
        self.infos = {}
        self.done = set()

    def _bar(self, task, initial=0):
        if not self.progress:
            return None
        if task.index not in self.bars:
            from tqdm.auto import tqdm
            self.bars[task.index] = tqdm(total=task.n_target, initial=initial,
                                         desc=f"T={task.T:.4f} {task.algorithm}",
                                         unit="sample", leave=True, dynamic_ncols=True)
        return self.bars[task.index]

    def _say(self, message: str) -> None:
        if not self.log:
            return
        if self.bars:                   # keep the bars intact
            import sys

            from tqdm.auto import tqdm
            tqdm.write(message, file=sys.stderr)
        else:
            self.log(message)

    def start(self, task, n_written=0):
        bar = self._bar(task, n_written)
        if bar is not None and n_written == 0:
            bar.set_postfix_str("equilibrating")

    def handle(self, index: int, event) -> None:
        task = self.tasks[index]
        kind = event[0]
        if kind == "equilibrated":
            info, state = event[1], event[2]
            self.infos[index] = info
            if self.writer is not None:
                self.writer.save_checkpoint(task.key, state)
                self.writer.set_attrs(task.key, **{k: v for k, v in info.items()},
                                      equilibrated=True)
            bar = self._bar(task)
            if bar is not None:
                bar.set_postfix_str(f"tau_int={max(info['tau_int'].values()):.3g}")
            if self.log:
                tau = info["tau_int"]
                self._say(f"T={task.T:g} ({phase_label(task.T, window=self.window)}, "
                         f"{task.algorithm}, {task.n_chains} chains): equilibrated after "
                         f"{info['equilibration_sweeps']} sweeps; tau_int(E)={tau['energy']:.3g}, "
                         f"tau_int(|M|)={tau['abs_magnetization']:.3g}; thinning "
                         f"{info['thinning']} sweeps")
        elif kind == "rows":
            spins, energy, magnetization, state = event[1:]
            if self.writer is not None:
                n = self.writer.append(task.key, spins, energy, magnetization, checkpoint=state)
            else:
                self.memory[index].append((spins, energy, magnetization))
                n = sum(len(b[1]) for b in self.memory[index])
            bar = self._bar(task)
            if bar is not None:
                bar.update(len(energy))
            elif self.log and n < task.n_target:
                self.log(f"T={task.T:g}: {n}/{task.n_target} samples")
        elif kind == "complete":
            if self.writer is not None:
                self.writer.mark_complete(task.key)
            bar = self.bars.pop(index, None)
            if bar is not None:
                bar.close()
            if self.log:
                self._say(f"T={task.T:g}: complete ({task.n_target} samples)")
            self.done.add(index)

    def close(self):
        for bar in self.bars.values():
            bar.close()
        self.bars = {}

    def ensembles(self, base_attrs: dict) -> list[Ensemble]:
        out = []
        for index, task in sorted(self.tasks.items(), key=lambda kv: kv[1].T):
            if self.writer is not None:
                out.append(self.writer.read(task.key))
                continue
            blocks = self.memory[index]
            spins = np.concatenate([b[0] for b in blocks])
            energy = np.concatenate([b[1] for b in blocks])
            magnetization = np.concatenate([b[2] for b in blocks])
            attrs = dict(base_attrs[index])
            attrs.update(self.infos.get(index, {}))
            attrs.update(complete=index in self.done, n_written=len(energy), equilibrated=True)
            out.append(Ensemble(T=task.T, beta=1.0 / task.T, L=task.L, phase=attrs["phase"],
                                key=task.key, spins=spins, energy=energy,
                                magnetization=magnetization, attrs=attrs))
        return out


# --------------------------------------------------------------------------
# validation and setup
# --------------------------------------------------------------------------

def _check_inputs(L, temperatures, n_samples, algorithm, n_threads, n_chains,
                  checkpoint_interval) -> tuple[int, list[float], int]:
    L = check_int("L", L, minimum=2)
    temps = np.atleast_1d(np.asarray(temperatures, dtype=object))
    if temps.size == 0:
        raise InvalidParameterError("temperatures must be at least one number > 0, got none")
    values = []
    for t in temps.ravel():
        T = check_positive_number("temperature", t)
        if not math.isfinite(1.0 / T):
            raise InvalidParameterError(
                f"temperature must give a finite beta = 1/T, got {t!r} (beta = inf)")
        values.append(T)
    values.sort()
    keys = [group_key(v) for v in values]
    if len(set(keys)) != len(keys):
        raise InvalidParameterError(
            f"temperatures must be distinct (to 6 decimals), got {', '.join(f'{v:g}' for v in values)}")
    n_samples = check_int("n_samples", n_samples, minimum=1)
    check_choice("algorithm", algorithm, ALGORITHMS)
    if n_threads is not None:
        import numba
        check_int("n_threads", n_threads, minimum=1, maximum=numba.config.NUMBA_NUM_THREADS)
    check_int("n_chains", n_chains, minimum=1, allow_none=True)
    check_float("checkpoint_interval", checkpoint_interval, minimum=0)
    chains = min(int(n_chains) if n_chains is not None else default_n_chains(n_samples),
                 n_samples)
    check_memory(f"a run with L = {L}, {n_samples} samples at each of {len(values)} "
                 f"temperature(s) and {chains} chains",
                 estimated_memory(L, len(values), n_samples, chains))
    return int(L), values, int(n_samples)


def _output_exists_message(path: Path, partial: Path) -> str:
    if partial.exists():
        return (f"output {path} has an interrupted --overwrite run in {partial}; pass --resume "
                "to continue it or --overwrite to start again")
    return (f"output {path} exists; pass --resume to continue it (if it is an interrupted "
            "run) or --overwrite to replace it")


def check_output(path, overwrite: bool = False, resume: bool = False) -> None:
    """Refuse an output :func:`simulate` could not write (before any work).

    Raises
    ------
    OutputExistsError
        ``path`` or its ``.partial`` exists without ``overwrite``/``resume``
        (the message names both flags).
    InvalidParameterError
        ``path`` is a folder, or its folder does not exist or is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidParameterError(f"output {path} is a directory, expected a file path")
    partial = partial_path(path)
    if not (overwrite or resume) and (path.exists() or partial.exists()):
        raise OutputExistsError(_output_exists_message(path, partial))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidParameterError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InvalidParameterError(f"output folder {parent} is not writable")


def _plan_resume(writer: DatasetWriter, tasks: list[_Task], L: int, seed_given: bool,
                 seed: int) -> tuple[int, dict]:
    """Check that the file matches the request; return (seed, resume info per task)."""
    name = writer.path.name
    root = writer.root_attrs
    if root.get("source") != "monte-carlo":
        raise InvalidParameterError(
            f"--resume needs a Monte Carlo file, {name} has source {root.get('source')!r}")
    if writer.L != L:
        raise InvalidParameterError(f"size must be {writer.L} to resume {name}, got {L}")
    file_seed = root.get("seed")
    if seed_given and file_seed is not None and int(file_seed) != seed:
        raise InvalidParameterError(f"seed must be {file_seed} to resume {name}, got {seed}")
    if file_seed is not None:
        seed = int(file_seed)
    keys = set(writer.keys())
    wanted = {t.key for t in tasks}
    if keys != wanted:
        have = sorted(writer.group_attrs(k)["T"] for k in keys)
        raise InvalidParameterError(
            f"temperatures must be those of {name} to resume it "
            f"({', '.join(f'{t:g}' for t in have)}), got "
            f"{', '.join(f'{t.T:g}' for t in tasks)}")
    plan = {}
    for task in tasks:
        attrs = writer.group_attrs(task.key)
        if int(attrs["n_target"]) != task.n_target:
            raise InvalidParameterError(
                f"samples must be {attrs['n_target']} to resume {name}, got {task.n_target}")
        if attrs["algorithm"] != task.algorithm:
            raise InvalidParameterError(
                f"algorithm must give {attrs['algorithm']!r} at T={task.T:g} to resume {name}, "
                f"got {task.algorithm!r}")
        task.n_chains = int(attrs.get("n_chains", task.n_chains))
        task.seed = seed
        recorded_key = attrs.get("seed_spawn_key")
        if isinstance(recorded_key, str):          # stored as a JSON string
            import json
            recorded_key = json.loads(recorded_key)
        if recorded_key is None:
            raise InvalidParameterError(
                f"{name}: /samples/{task.key} records no seed_spawn_key, so its random "
                "streams cannot be continued; start again with --overwrite")
        task.spawn_key = tuple(int(k) for k in np.atleast_1d(recorded_key))
        if attrs.get("complete"):
            plan[task.index] = {"complete": True}
            continue
        state = writer.checkpoint(task.key) if attrs.get("equilibrated") else None
        n_written = int(attrs["n_written"])
        if state is None or n_written % task.n_chains:
            writer.set_attrs(task.key, n_written=0, equilibrated=False)
            plan[task.index] = None
        else:
            info = {k: attrs[k] for k in ("equilibration_sweeps", "measurement_sweeps", "tau_int",
                                          "thinning", "clusters_per_sweep", "equilibration_drift_sigmas",
                                          "equilibration_check_passed") if k in attrs}
            plan[task.index] = {"info": info, "state": state, "n_written": n_written}
    return seed, plan


def _group_attrs(task: _Task, window: float, requested: str) -> dict:
    return dict(T=task.T, n_target=task.n_target, seed=task.seed, algorithm=task.algorithm,
                phase=phase_label(task.T, window=window), n_chains=task.n_chains,
                seed_spawn_key=np.asarray(task.spawn_key, dtype=np.int64),
                requested_algorithm=requested, global_flip=True,
                start="up" if task.T < T_C else "random", equilibrated=False)


class _Output:
    """Rank 0's handle on the output file: which file is written, what happens at the end."""

    def __init__(self, path: Path):
        self.path = path
        self.target = Path(os.path.realpath(path))
        self.partial = partial_path(path)
        self.writing = None          # the file being written (target or partial)
        self.created = False         # this run created ``writing``
        self.writer = None

    def open(self, *, resume: bool, overwrite: bool, L: int, tasks, window, algorithm,
             seed_given: bool, seed: int) -> tuple[int, dict]:
        check_output(self.path, overwrite, resume)
        plan: dict = {}
        if resume and (self.partial.exists() or self.target.exists()):
            self.writing = self.partial if self.partial.exists() else self.target
            validate(self.writing)
            self.writer = DatasetWriter.open(self.writing)
            try:
                seed, plan = _plan_resume(self.writer, tasks, L, seed_given, seed)
            except BaseException:
                self.writer.close(quiet=True)
                self.writer = None
                raise
            return seed, plan
        if overwrite and self.target.exists():
            self.writing = self.partial
        else:
            self.writing = self.target
            if overwrite:
                with contextlib.suppress(FileNotFoundError):
                    self.partial.unlink()       # a stale partial (we hold the lock)
        self.created = True
        self.writer = DatasetWriter.create(
            self.writing, L=L, source="monte-carlo", phase_window=window,
            attrs={"seed": seed, "algorithm_requested": algorithm,
                   "auto_wolff_max_T": AUTO_WOLFF_MAX_T, "stream_keying": STREAM_KEYING})
        for task in tasks:
            self.writer.add_group(task.key, **_group_attrs(task, window, algorithm))
        return seed, plan

    def finish(self) -> None:
        """Close; an ``overwrite`` run's partial replaces the output."""
        self.writer.close()
        if self.writing == self.partial:
            os.replace(self.partial, self.target)

    def fail(self, exc: BaseException) -> BaseException:
        """Close after a failure; remove a created file without counted rows.

        Returns the exception to raise (a full disk gets a message naming
        what was kept).
        """
        if self.writer is not None:
            self.writer.close(quiet=True)
        if self.writing is None or isinstance(exc, KeyboardInterrupt):
            return exc
        kept = 0
        removed = not self.writing.exists()
        if not removed:
            try:
                kept = sum(e.n_samples for e in load(self.writing).ensembles)
            except (IsingRBMError, OSError):
                kept = -1                               # unreadable
        if self.created and kept <= 0:
            with contextlib.suppress(OSError):
                self.writing.unlink()
                removed = True
        if isinstance(exc, DiskFullError):
            if removed:
                tail = "nothing was kept"
            elif kept > 0:
                tail = (f"the {kept} rows written so far are kept in {self.writing}; free "
                        "space and continue with --resume")
            else:
                tail = f"{self.writing} may be damaged"
            return DiskFullError(f"No space left on device writing {self.path}: {tail}",
                                 self.writing)
        return exc


# --------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------

def simulate(L: int, temperatures, n_samples: int, *, algorithm: str = "auto", rng=None,
             path=None, resume: bool = False, overwrite: bool = False,
             n_threads: int | None = None, progress: bool = False,
             n_chains: int | None = None, checkpoint_interval: float = 2.0,
             log=None) -> list[Ensemble]:
    """Equilibrated, effectively independent Ising samples at each temperature.

    Parameters
    ----------
    L : int
        Linear size of the periodic L x L lattice, >= 2.
    temperatures : float or sequence of float
        Distinct temperatures > 0 (k_B = J = 1) with finite beta = 1/T;
        processed in ascending order.
    n_samples : int
        Samples to store per temperature, >= 1.
    algorithm : {"auto", "metropolis", "wolff"}
        "auto": Wolff for T <= T_c + 0.5, Metropolis above (recorded per T).
    rng : int, numpy.random.SeedSequence, numpy.random.Generator or None
        The run's seed (:func:`mccore.rng.seed_sequence`: an int is used as
        is, a Generator draws one, None draws fresh entropy). The seed is
        recorded in the file; each temperature's streams are keyed by its
        value (module docstring).
    path : str or Path, optional
        HDF5 file to write (schema of :mod:`ising.store`); without it the
        samples are kept in memory only. A symlink is written through.
    resume : bool
        Continue the run stored at ``path`` (or its ``.partial``; same L,
        temperatures, samples, algorithm; the file's seed). Complete
        temperatures are kept, the others continue from their last
        checkpoint. A missing file starts a fresh run.
    overwrite : bool
        Replace an existing ``path`` (otherwise OutputExistsError); the old
        file stays until the new run is complete (module docstring).
    n_threads : int, optional
        Numba threads for the kernels (results do not depend on it); the
        previous setting is restored at the end.
    progress : bool
        One tqdm progress bar per temperature.
    n_chains : int, optional
        Independent chains per temperature (default :func:`default_n_chains`).
    checkpoint_interval : float
        Seconds between appends (each with a checkpoint) to ``path``.
    log : callable(str), optional
        Receives one-line progress messages (equilibration result, counts).

    Returns
    -------
    list of Ensemble
        Sorted by T, with ``attrs`` holding algorithm, tau_int, thinning,
        equilibration data and the seed. Under MPI only rank 0 returns the
        ensembles; other ranks return an empty list.

    Raises
    ------
    InvalidParameterError
        Bad parameters (also a beta = 1/T that is not finite, or a run whose
        memory estimate exceeds what the machine has), or a file to resume
        that does not match the request.
    OutputExistsError
        ``path`` exists without ``overwrite`` or ``resume``.
    mccore.files.OutputLockedError
        Another process is writing ``path``.
    ising.store.DiskFullError
        The output's disk is full (what was kept is named).
    FileFormatError
        The file to resume is not a valid dataset.
    """
    from . import mpi

    L, temps, n_samples = _check_inputs(L, temperatures, n_samples, algorithm, n_threads,
                                        n_chains, checkpoint_interval)
    if resume and overwrite:
        raise InvalidParameterError("resume and overwrite exclude each other; pass one of them")
    seed_given = rng is not None
    root_seq = seed_sequence(rng)
    if root_seq.spawn_key:
        raise InvalidParameterError(
            "rng must be an int, a Generator, None or a SeedSequence without a spawn key, "
            f"got {rng!r}")
    seed = recorded_seed(root_seq)
    chains_per_t = int(n_chains) if n_chains is not None else default_n_chains(n_samples)
    tasks = [_Task(index=i, T=T, key=group_key(T), L=L, n_target=n_samples,
                   algorithm=resolve_algorithm(T, algorithm), n_chains=min(chains_per_t, n_samples),
                   seed=seed, spawn_key=(temperature_key(T),)) for i, T in enumerate(temps)]
    path = Path(path) if path is not None else None
    comm = mpi.world()
    rank = comm.Get_rank() if comm is not None else 0
    size = comm.Get_size() if comm is not None else 1
    window = PHASE_WINDOW

    with contextlib.ExitStack() as stack:
        stack.enter_context(numba_threads(n_threads))
        output = None
        plan: dict = {}
        setup_error = None
        if rank == 0 and path is not None:
            try:
                if path.is_dir():
                    raise InvalidParameterError(
                        f"output {path} is a directory, expected a file path")
                check_output(path, overwrite, resume)
                stack.enter_context(output_lock(path))
                output = _Output(path)
                seed, plan = output.open(resume=resume, overwrite=overwrite, L=L, tasks=tasks,
                                         window=window, algorithm=algorithm,
                                         seed_given=seed_given, seed=seed)
            except BaseException as exc:  # noqa: BLE001 - re-raised on every rank below
                setup_error = output.fail(exc) if output is not None else exc
        if comm is not None:
            payload = comm.bcast((setup_error, seed, plan,
                                  [(t.n_chains, t.spawn_key) for t in tasks]), root=0)
            setup_error, seed, plan, task_info = payload
            for task, (nc, key) in zip(tasks, task_info):
                task.seed, task.n_chains, task.spawn_key = seed, nc, tuple(key)
        if setup_error is not None:
            raise setup_error
        for task in tasks:
            task.seed = seed

        base_attrs = {t.index: _group_attrs(t, window, algorithm) for t in tasks}
        mine = [t for t in tasks if t.index % size == rank]
        if rank != 0:
            _worker(comm, mine, plan, checkpoint_interval)
            return []

        writer = output.writer if output is not None else None
        sink = _Sink(tasks, writer, progress=progress, log=log, window=window)
        try:
            for task in tasks:
                if (plan.get(task.index) or {}).get("complete"):
                    sink.done.add(task.index)
            poll = (lambda: _drain(comm, sink, block=False)) if comm is not None else (lambda: None)
            for task in mine:
                entry = plan.get(task.index)
                if entry and entry.get("complete"):
                    continue
                sink.start(task, entry["n_written"] if entry else 0)
                for event in _run_task(task, entry, checkpoint_interval):
                    sink.handle(task.index, event)
                    poll()
            if comm is not None:
                _drain(comm, sink, block=True)
            result = sink.ensembles(base_attrs)
        except BaseException as exc:
            sink.close()
            failure = output.fail(exc) if output is not None else exc
            if failure is exc:
                raise
            raise failure from None
        sink.close()
        if output is not None:
            output.finish()
        return result


_TAG_EVENT, _TAG_DONE, _TAG_ERROR = 11, 12, 13


def _worker(comm, tasks, plan, checkpoint_interval):
    try:
        for task in tasks:
            entry = plan.get(task.index)
            if entry and entry.get("complete"):
                continue
            for event in _run_task(task, entry, checkpoint_interval):
                comm.send((task.index, event), dest=0, tag=_TAG_EVENT)
    except BaseException as exc:
        comm.send(f"rank {comm.Get_rank()}: {type(exc).__name__}: {exc}", dest=0, tag=_TAG_ERROR)
        raise
    comm.send(None, dest=0, tag=_TAG_DONE)


def _drain(comm, sink, *, block: bool) -> None:
    from mpi4py import MPI
    status = MPI.Status()
    if not hasattr(sink, "_workers_done"):
        sink._workers_done = 0
    n_workers = comm.Get_size() - 1
    while sink._workers_done < n_workers:
        if not block and not comm.Iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status):
            return
        message = comm.recv(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status)
        tag = status.Get_tag()
        if tag == _TAG_EVENT:
            index, event = message
            sink.handle(index, event)
        elif tag == _TAG_DONE:
            sink._workers_done += 1
        else:
            raise IsingRBMError(f"MPI worker failed: {message}")
