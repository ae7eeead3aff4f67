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

Split by job: this module validates the request and runs the ranks;
:mod:`ising.temperature_run` is one temperature's run (steps 1-4), and
:mod:`ising.run_output` rank 0's output file and sink (step 5 and the
rules above). Every public name is importable from here.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from mccore.errors import InvalidParameterError, IsingRBMError
from mccore.files import output_lock
from mccore.parallel import numba_threads
from mccore.rng import recorded_seed, seed_sequence, temperature_key
from mccore.validation import Rule, check_memory, check_settings

from .phases import PHASE_WINDOW
from .run_output import _group_attrs, _Output, _Sink, check_output, partial_path
from .settings import SIMULATE_SETTINGS, check_temperatures
from .store import Ensemble, group_key
from .temperature_run import (
    ALGORITHMS,
    AUTO_WOLFF_MAX_T,
    MAX_EQUILIBRATION_SWEEPS,
    STREAM_KEYING,
    _drift_sigmas,  # noqa: F401 - tested as ising.montecarlo._drift_sigmas
    _run_task,
    _Task,
    default_n_chains,
    resolve_algorithm,
)

__all__ = [
    "ALGORITHMS",
    "AUTO_WOLFF_MAX_T",
    "MAX_EQUILIBRATION_SWEEPS",
    "SIMULATE_SETTINGS",
    "STREAM_KEYING",
    "check_output",
    "check_run_settings",
    "default_n_chains",
    "estimated_memory",
    "partial_path",
    "resolve_algorithm",
    "simulate",
]


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


# --------------------------------------------------------------------------
# validation and setup
# --------------------------------------------------------------------------

def check_run_settings(L, temperatures, n_samples, algorithm="auto", n_threads=None,
                       n_chains=None, checkpoint_interval=2.0) -> tuple[int, list[float], int]:
    """Check the settings of :func:`simulate` (the rules of
    :data:`ising.settings.SIMULATE_SETTINGS`, at most numba's thread count, a
    memory estimate that fits the machine); returns ``(L, temperatures in
    ascending order, n_samples)``. ``isingrbm generate`` calls it too, before
    any file is touched."""
    temps = check_temperatures(temperatures)
    checked = check_settings(SIMULATE_SETTINGS, L=L, n_samples=n_samples, algorithm=algorithm,
                             n_threads=n_threads, n_chains=n_chains,
                             checkpoint_interval=checkpoint_interval)
    L, n_samples = checked["L"], checked["n_samples"]
    if n_threads is not None:
        import numba
        Rule.integer(1, numba.config.NUMBA_NUM_THREADS).check("n_threads", n_threads)
    chains = min(int(n_chains) if n_chains is not None else default_n_chains(n_samples),
                 n_samples)
    check_memory(f"a run with L = {L}, {n_samples} samples at each of {len(temps)} "
                 f"temperature(s) and {chains} chains",
                 estimated_memory(L, len(temps), n_samples, chains))
    return L, temps, n_samples


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

    L, temps, n_samples = check_run_settings(L, temperatures, n_samples, algorithm, n_threads,
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
