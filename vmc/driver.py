"""The VMC loop (written once) and :func:`run`, which builds everything from settings.

One iteration: sample ``|Psi|^2`` -> local energies ``E_L`` -> mean and
variance -> log-derivatives ``O_k`` -> gradient
``2 (<E_L O_k> - <E_L><O_k>)`` (sums over MPI ranks) -> finite check ->
optimizer step -> finite check -> history/callback. After the last iteration
a final sampling run at fixed parameters gives the reported energy with a
blocking error (:func:`mcstats.estimate`, walkers blocked separately).

Statistics are reduced in a fixed order: every rank gathers all walkers'
local energies and log-derivatives (in global walker order) and computes
the same sums, so ``mpiexec -n K`` gives bit-identical numbers to one
process for the same seed. An optional trust region (``max_change``,
:mod:`vmc.trust_region`) bounds the change of ``log psi`` per step (the
linear model behind SR fails near saddles such as ``W = 0`` of the
symmetric RBM, where one natural-gradient step can change the state
completely).

NaN/inf in the energies or parameters raises :class:`mccore.errors.DivergenceError`
carrying the last good parameters (``last_good_params``) and the partial
result (``partial_result``); the wavefunction is reset to those parameters.
The final run's health (:func:`vmc.health.assess`: acceptance, R-hat of
E_L, a zero error bar where that can only mean stuck chains) is checked;
a failing check gives ``status = "unhealthy"`` with the problems in
``message`` and ``health``, never ``"complete"``.
Ctrl-C (KeyboardInterrupt) ends the loop and returns a partial result
(``status = "interrupted"``) whose energy comes from the last iteration.
"""

from __future__ import annotations

import math
import os

import numpy as np

import mcstats
from mcstats import Estimate
from mccore.errors import DivergenceError, InvalidParameterError
from mccore.files import atomic_path
from mccore.parallel import with_single_threaded_blas
from mccore.rng import child, recorded_seed, seed_sequence
from mccore.validation import check_memory
from mccore.training import check_resume_settings, run_steps

from .hamiltonian import INTERACTIONS, Hamiltonian
from .health import assess
from .mpi import gather_rows, is_root
from .optimizers import DEFAULT_LEARNING_RATES, OPTIMIZERS, make_optimizer
from .result import VMCResult
from .trust_region import TrustRegion
from .samplers import SAMPLERS, make_sampler
from .wavefunction import FORMS, Wavefunction, _check_int, _check_positive, cusp_constant

__all__ = ["VMC", "run", "FINISHED", "load_resume_source", "JASTROWS", "NO_CUSP_NOTE", "HISTORY_KEYS", "RESUME_FREE_SETTINGS",
           "OMEGA_RANGE", "resume_settings", "sgd_stable_rate", "memory_estimate"]

#: statuses of a finished run (one that can be extended, or returned as it is)
FINISHED = ("complete", "unhealthy")

HISTORY_KEYS = ("energy", "variance", "acceptance", "grad_norm", "step", "params")

#: the trap frequencies :func:`run` accepts (see its docstring)
OMEGA_RANGE = (1e-3, 1e3)

#: settings that may differ between a checkpoint and the run resuming it
RESUME_FREE_SETTINGS = ("iterations", "threads", "final_samples", "mpi_ranks")

JASTROWS = ("none", "pade")

NO_CUSP_NOTE = ("without the Jastrow cusp the local energy diverges at r -> 0 and its "
                "variance diverges logarithmically, so the blocking error of this "
                "RBM-only energy is unreliable at the 1e-3 level")


def _energy_estimate(e_local) -> Estimate:
    """Blocking estimate of (n_walkers, n_steps) local energies; naive error if too short."""
    e_local = np.asarray(e_local)
    if e_local.shape[1] >= 16:
        return mcstats.estimate(e_local)
    flat = e_local.ravel()
    var = float(flat.var(ddof=1)) if flat.size > 1 else float("nan")
    return Estimate(mean=float(flat.mean()), error=math.sqrt(var / flat.size),
                    variance=var, tau_int=float("nan"), n_samples=int(flat.size))


class VMC:
    """Variational Monte Carlo driver.

    Parameters
    ----------
    hamiltonian : vmc.hamiltonian.Hamiltonian
    wavefunction : vmc.wavefunction.Wavefunction
        Its ``params`` are updated in place.
    sampler : vmc.samplers sampler
    optimizer : vmc.optimizers optimizer
    comm : mpi4py communicator or None
        Ranks share the walkers; every rank gathers all walkers' rows and
        reduces them in walker order (bit-identical to one process). The
        optimizer therefore sees every sample and must not sum over ranks
        itself (an :class:`vmc.optimizers.SR` with ``comm`` is refused).
    max_change : float or None
        Trust region (:class:`vmc.trust_region.TrustRegion`): the largest
        allowed variance over the samples of the change of ``log psi`` per
        step; a step beyond it is halved, and one that, seen from the new
        state's samples, changed it by more than ``REVERT_FACTOR`` times
        that is taken back to half its length at the next iteration (no
        optimizer step then). Needs the wavefunction's ``log_psi``. None:
        no limit.
    """

    def __init__(self, hamiltonian, wavefunction, sampler, optimizer, *, comm=None,
                 max_change: float | None = None):
        if getattr(optimizer, "comm", None) is not None:
            raise InvalidParameterError(
                "the VMC driver gathers every sample on every rank; build the optimizer "
                "without comm")
        self.max_change = max_change
        self.trust = None if max_change is None else TrustRegion(wavefunction, max_change,
                                                                 comm=comm)
        if hasattr(hamiltonian, "n_particles") and (
                hamiltonian.n_particles, hamiltonian.n_dims) != (wavefunction.n_particles,
                                                                 wavefunction.n_dims):
            raise InvalidParameterError(
                "hamiltonian and wavefunction disagree on (n_particles, n_dims): "
                f"{(hamiltonian.n_particles, hamiltonian.n_dims)} vs "
                f"{(wavefunction.n_particles, wavefunction.n_dims)}")
        self.hamiltonian = hamiltonian
        self.wavefunction = wavefunction
        self.sampler = sampler
        self.optimizer = optimizer
        self.comm = comm

    def _statistics(self, x):
        """Mean/variance of E_L, the gradient and centred O of all walkers (every rank).

        Rows are gathered in global walker order and reduced identically on
        every rank, so the numbers do not depend on the number of ranks.
        """
        wf = self.wavefunction
        e = gather_rows(self.comm, self.hamiltonian.local_energy(wf, x))
        O = gather_rows(self.comm, wf.log_psi_param_grad(x))
        n = e.size
        e_mean = float(np.mean(e))
        e_var = float(np.mean((e - e_mean) ** 2))
        O_c = O - np.mean(O, axis=0)
        grad = (2.0 / n) * ((e - e_mean) @ O_c)
        return e, e_mean, e_var, grad, O_c

    def run(self, n_iterations: int, *, n_samples: int = 10_000,
            n_final_samples: int | None = None, rng=None, progress: bool = False,
            callback=None, settings: dict | None = None, notes=(), checkpoint=None,
            checkpoint_every: int = 10, resume_from: VMCResult | None = None) -> VMCResult:
        """Optimize up to ``n_iterations`` iterations in total, then estimate the energy.

        The loop is :func:`mccore.training.run_steps`, the one training-loop
        contract of the workbench (callback, early stop, progress,
        checkpoints, Ctrl-C).

        Parameters
        ----------
        n_iterations : int
            Total optimization iterations (>= 0), counting those of ``resume_from``.
        n_samples : int
            Samples (recorded sweeps times walkers) per iteration.
        n_final_samples : int or None
            Samples of the final estimate (default ``4 * n_samples``); at
            least 16 sweeps per walker are taken so that blocking applies.
        rng : Generator, int, SeedSequence or None
            Seeds the sampler's walkers if it has none yet.
        progress : bool
            tqdm progress bar over iterations (rank 0 only).
        callback : callable or None
            ``callback(step: mccore.training.TrainingStep) -> bool | None``
            after every iteration; ``step.metrics`` holds ``energy``,
            ``variance``, ``acceptance``, ``grad_norm``, ``step``;
            ``step.step`` is the 1-based iteration. True stops the optimization.
        settings : dict or None
            Recorded as :attr:`VMCResult.parameters`.
        notes : sequence of str
            Caveats recorded in the result.
        checkpoint : path or None
            Write a resumable checkpoint (a VMC result file with
            ``status="interrupted"`` and a ``resume`` group) every
            ``checkpoint_every`` iterations, after the last and on Ctrl-C
            (rank 0 writes; atomically).
        resume_from : VMCResult or None
            A checkpoint or finished result carrying ``resume_state``: its
            parameters, walkers (with their random streams), optimizer state
            and history are restored and the loop continues at its iteration
            count, so an interrupted run finishes with the numbers an
            uninterrupted one gives, and a finished one can be extended.
            The caller checks that the model-defining settings match. A
            finished result (``"complete"`` or ``"unhealthy"``) with at least
            ``n_iterations`` iterations is returned as it is.

        Returns
        -------
        VMCResult
            With ``resume_state`` set, so the run can be extended later.

        Raises
        ------
        DivergenceError
            NaN/inf in the energies or parameters; ``last_good_params`` and
            ``partial_result`` are attached and the wavefunction keeps the
            last good parameters.
        """
        n_iterations = _check_int("n_iterations", n_iterations, 0)
        n_samples = _check_int("n_samples", n_samples, 1)
        if resume_from is not None and resume_from.status in FINISHED \
                and n_iterations <= resume_from.iterations:
            return resume_from    # finished, nothing to add: the result as it is
        n_walkers = self.sampler.n_walkers_total
        if n_final_samples is None:
            n_final_samples = 4 * n_samples
        n_final_samples = max(_check_int("n_final_samples", n_final_samples, 1), 16 * n_walkers)
        wf = self.wavefunction
        history = {k: [] for k in HISTORY_KEYS}
        start = 0
        if self.trust is not None:
            self.trust.last_step = None
        if resume_from is not None:
            start = self._restore(resume_from, history)
        self._last_e = None
        self._state = (start, wf.params.copy(), self._resume_state(start)) if (
            checkpoint is not None) else None

        def step(it):
            return self._iteration(it, n_samples, rng, history, settings, notes,
                                   track=checkpoint is not None)

        def save(n_done):
            self._save_checkpoint(checkpoint, n_done, history, settings, notes)

        outcome = run_steps(step, start=start, stop=max(n_iterations, start), model=self,
                            callback=callback,
                            save_checkpoint=None if checkpoint is None else save,
                            checkpoint_every=checkpoint_every,
                            progress=progress and is_root(self.comm), description="vmc",
                            unit="it")
        done = outcome.n_done
        status, message = "complete", ""
        if outcome.interrupted:
            status, message = "interrupted", f"interrupted after {done} iterations"
        state = self._resume_state(done)
        if status == "complete":
            try:
                batch = self.sampler.sample(wf, n_final_samples, rng=rng)
                self.final_batch = batch
                e = self.hamiltonian.local_energy(wf, batch.flat).reshape(batch.x.shape[:2])
                if not np.all(np.isfinite(e)):
                    raise self._divergence("non-finite local energy in the final estimate",
                                           wf.params.copy(), history, done, settings, notes)
                e_all = gather_rows(self.comm, e)
                energy = _energy_estimate(e_all)
                health = assess(e_all, batch.acceptance, energy.error, zero_error_suspect=bool(
                    getattr(self.hamiltonian, "zero_error_suspect", False)))
                if not health["ok"]:
                    status = "unhealthy"
                    message = "unhealthy result: " + "; ".join(health["problems"])
                result = self._result(energy, energy.variance, batch.acceptance, history, done,
                                      settings, notes, status, message, wf.params.copy(), e_all,
                                      state)
                result.health = health
                return result
            except KeyboardInterrupt:
                status, message = "interrupted", "interrupted during the final estimate"
        # partial result from the last iteration
        if self._last_e is not None:
            e_all = self._last_e
            energy = _energy_estimate(e_all)
            acc = history["acceptance"][-1]
        else:
            e_all, energy, acc = None, Estimate(mean=float("nan"), error=float("nan")), float("nan")
        return self._result(energy, energy.variance, acc, history, done, settings, notes,
                            status, message, wf.params.copy(), e_all, state)

    def _iteration(self, it, n_samples, rng, history, settings, notes, track):
        """One iteration (0-based ``it``): sample, statistics, finite checks, step."""
        wf = self.wavefunction
        last_good = wf.params.copy()
        batch = self.sampler.sample(wf, n_samples, rng=rng)
        with np.errstate(all="ignore"):
            e, e_mean, e_var, grad, O_c = self._statistics(batch.flat)
        if not (math.isfinite(e_mean) and np.all(np.isfinite(grad))):
            raise self._divergence(f"non-finite local energy or gradient at iteration {it}",
                                   last_good, history, it, settings, notes)
        history["params"].append(last_good)
        self._last_e = e.reshape(-1, batch.x.shape[1])   # all walkers, in walker order
        ok, lp_now = True, None
        if self.trust is not None:
            ok, lp_now = self.trust.check_last(batch.flat)
        if not ok:
            # the last step left the region its own samples could judge: take half of it
            delta = self.trust.take_back(last_good)
        else:
            with np.errstate(all="ignore"):
                delta = self.optimizer.step(grad, O_c)
            if self.trust is not None and np.all(np.isfinite(delta)):
                delta, _ = self.trust.limit(batch.flat, last_good, delta, lp_now)
        with np.errstate(all="ignore"):
            new = wf.params + delta
            grad_norm = float(np.sqrt(np.sum(grad * grad)))
        record = {"energy": float(e_mean), "variance": float(e_var),
                  "acceptance": float(batch.acceptance), "grad_norm": grad_norm,
                  "step": float(batch.step)}
        for k, v in record.items():
            history[k].append(v)
        if not np.all(np.isfinite(new)):
            raise self._divergence(
                f"non-finite parameters after the update of iteration {it}",
                last_good, history, it + 1, settings, notes)
        wf.params = new
        if track:
            self._state = (it + 1, new.copy(), self._resume_state(it + 1))
        return record

    def _resume_state(self, n_done) -> dict:
        """Flat dict of what a resumed run needs beside params and history."""
        state = {"iterations": int(n_done)}
        if self.trust is not None:
            for key, value in self.trust.state_dict().items():
                state[f"driver/{key}"] = value
        for key, value in self.sampler.get_state().items():
            state[f"sampler/{key}"] = value
        for key, value in self.optimizer.state_dict().items():
            state[f"optimizer/{key}"] = np.array(value) if isinstance(value, np.ndarray) else value
        return state

    def _restore(self, result: VMCResult, history: dict) -> int:
        """Restore parameters, walkers, optimizer and history from ``result``; returns its count."""
        state = result.resume_state
        if not state:
            raise InvalidParameterError(
                "the result has no resume state (written by an older version?); cannot resume")
        n_done = int(state["iterations"])
        params = np.asarray(result.params, dtype=np.float64)
        if params.shape != self.wavefunction.params.shape:
            raise InvalidParameterError(
                f"cannot resume: the checkpoint has {params.size} parameters, this model "
                f"{self.wavefunction.n_params}")
        self.wavefunction.params = params
        if self.trust is not None:
            self.trust.load_state_dict({k.split("/", 1)[1]: v for k, v in state.items()
                                        if k.startswith("driver/")})
        self.sampler.set_state({k.split("/", 1)[1]: v for k, v in state.items()
                                if k.startswith("sampler/")})
        self.optimizer.load_state_dict({k.split("/", 1)[1]: v for k, v in state.items()
                                        if k.startswith("optimizer/")})
        for key in history:
            values = result.history.get(key)
            if values is not None:
                history[key].extend(list(np.asarray(values)[:n_done]))
        return n_done

    def _save_checkpoint(self, path, n_done, history, settings, notes):
        """Write the snapshot of the last completed iteration (rank 0), atomically."""
        if not is_root(self.comm):
            return
        done, params, state = self._state
        partial = self._result(Estimate(mean=float("nan"), error=float("nan")), float("nan"),
                               float("nan"), {k: v[:done] for k, v in history.items()}, done,
                               settings, notes, "interrupted",
                               f"checkpoint after {done} iterations", params, None, state)
        with atomic_path(path) as tmp:
            partial.save(tmp, overwrite=True)

    def _result(self, energy, variance, acceptance, history, done, settings, notes, status,
                message, params, e_local, resume_state=None):
        hist = {k: np.asarray(v, dtype=np.float64) for k, v in history.items()}
        if not len(history["params"]):
            hist["params"] = np.empty((0, self.wavefunction.n_params))
        return VMCResult(energy=energy, variance=float(variance), acceptance=float(acceptance),
                         exact=self.hamiltonian.exact, iterations=done, history=hist,
                         parameters=dict(settings or {}), params=params,
                         parameter_names=self.wavefunction.parameter_names(), status=status,
                         message=message, notes=list(notes), local_energy=e_local,
                         resume_state=resume_state)

    def _divergence(self, what, last_good, history, done, settings, notes):
        self.wavefunction.params = last_good
        lr = getattr(self.optimizer, "learning_rate", None)
        msg = (f"VMC diverged: {what}; the last good parameters are kept. "
               f"Try a smaller learning rate (now {lr})")
        partial = self._result(Estimate(mean=float("nan"), error=float("nan")), float("nan"),
                               float("nan"), history, done, settings, notes, "diverged", msg,
                               last_good.copy(), None)
        err = DivergenceError(msg, last_good_params=last_good.copy())
        err.partial_result = partial
        return err


@with_single_threaded_blas
def run(n_particles: int, n_dims: int, *, omega: float = 1.0, interaction: str = "none",
        n_hidden: int = 2, jastrow: str = "none", sampler: str = "importance",
        optimizer: str = "sr", n_iterations: int = 200, n_samples: int = 10_000,
        learning_rate: float | None = None, n_walkers: int = 16,
        n_final_samples: int | None = None, form: str = "sqrt", sigma: float | None = None,
        init_scale: float = 0.1, n_threads: int | None = None, rng=None,
        progress: bool = False, callback=None, comm="auto", checkpoint=None,
        checkpoint_every: int = 10, resume: bool = False, resume_from=None) -> VMCResult:
    """Find the ground-state energy of N trapped particles with an RBM trial state.

    Parameters
    ----------
    n_particles : int
        N >= 1.
    n_dims : int
        D in 1..3.
    omega : float
        Trap frequency in [1e-3, 1e3] (:data:`OMEGA_RANGE`); hbar = m = 1.
        Positions scale as omega^-1/2 and energies as omega, while the
        initial parameters, the sampler's first step and the optimizer's
        steps are absolute numbers of order 0.1-1: far outside this range
        the arithmetic loses its meaning (omega = 1e-300 squares to 0,
        1e300 to inf) long before, and the optimization is not tested there.
    interaction : {"none", "coulomb"}
        Coulomb repulsion ``sum_{p<q} 1/r_pq`` (needs D >= 2).
    n_hidden : int
        RBM hidden units (>= 1).
    jastrow : {"none", "pade"}
        Pade-Jastrow factor with the Coulomb cusp ``1/(D-1)`` (needs
        ``interaction="coulomb"``) and variational ``beta``.
    sampler : {"metropolis", "importance", "gibbs"}
    optimizer : {"sgd", "adam", "sr"}
    n_iterations, n_samples : int
        Optimization iterations; samples per iteration (over all ranks).
    learning_rate : float or None
        Default per optimizer (:data:`vmc.optimizers.DEFAULT_LEARNING_RATES`);
        for SGD at most half its stability bound, :func:`sgd_stable_rate`.
    n_walkers : int
        Walkers (a multiple of the number of MPI ranks).
    n_final_samples : int or None
        Samples of the final energy estimate (default ``4 * n_samples``).
    form : {"sqrt", "full"}
        ``Psi = sqrt(F)`` or ``Psi = F`` of the RBM marginal F.
    sigma : float or None
        RBM width (default: the one that represents the free ground state).
    init_scale : float
        Standard deviation of the random initial a, b, W.
    n_threads : int or None
        Threads for the sampling kernels and, when threadpoolctl is
        installed, for BLAS (None: the libraries' defaults). Results do not
        depend on it. One thread is much faster for small runs on a loaded
        machine, where idle-spinning threads compete for the cores.
    rng : Generator, int, SeedSequence or None
        Resolved by :func:`mccore.rng.seed_sequence`; the integer seed is
        recorded in ``parameters["seed"]`` (a Generator yields one drawn
        seed, None fresh entropy, both recorded). When resuming, None means
        the checkpoint's seed.
    progress : bool
        Progress bar over iterations.
    callback : callable or None
        ``callback(mccore.training.TrainingStep) -> bool | None``; see :meth:`VMC.run`.
    comm : "auto", mpi4py communicator or None
        ``"auto"``: MPI when launched with ``mpiexec -n K`` (K > 1).
    checkpoint : path or None
        Checkpoint file (a VMC result file with a ``resume`` group), written
        every ``checkpoint_every`` iterations, after the last and on Ctrl-C.
    resume : bool
        Continue from ``checkpoint`` if it exists (else start fresh): the
        walkers, their random streams, the optimizer state and the history
        are restored, so the result equals that of an uninterrupted run;
        ``n_iterations`` may be larger than the checkpoint's (the run is
        extended). Every other setting that defines the run must match
        (:func:`mccore.training.check_resume_settings`); the thread count,
        ``n_final_samples`` and the number of MPI ranks may change.
    resume_from : path or None
        With ``resume``: a finished result file to extend when ``checkpoint``
        does not exist (read only; nothing is copied). A finished result
        with at least ``n_iterations`` iterations is returned unchanged.

    Returns
    -------
    VMCResult

    Raises
    ------
    InvalidParameterError
        Any setting outside its allowed set (the message names it).
    DivergenceError
        The optimization produced NaN/inf (see :class:`VMC`).
    """
    n_particles = _check_int("n_particles", n_particles, 1)
    n_dims = _check_int("n_dims", n_dims, 1, 3)
    omega = _check_positive("omega", omega)
    if not OMEGA_RANGE[0] <= omega <= OMEGA_RANGE[1]:
        raise InvalidParameterError(
            f"omega must be a number in [{OMEGA_RANGE[0]:g}, {OMEGA_RANGE[1]:g}], got {omega!r}")
    n_hidden = _check_int("n_hidden", n_hidden, 1)
    n_walkers = _check_int("n_walkers", n_walkers, 1)
    n_samples = _check_int("n_samples", n_samples, 1)
    if n_final_samples is not None:
        n_final_samples = _check_int("n_final_samples", n_final_samples, 1)
    check_memory(f"particles {n_particles}, dims {n_dims}, hidden {n_hidden}, samples "
                 f"{n_samples}, walkers {n_walkers}",
                 memory_estimate(n_particles * n_dims, n_hidden, n_samples, n_walkers,
                                 n_final_samples))
    for name, value, allowed in (("interaction", interaction, INTERACTIONS),
                                 ("jastrow", jastrow, JASTROWS), ("sampler", sampler, SAMPLERS),
                                 ("optimizer", optimizer, OPTIMIZERS), ("form", form, FORMS)):
        if value not in allowed:
            raise InvalidParameterError(f"{name} must be one of {allowed}, got {value!r}")
    if jastrow == "pade" and interaction != "coulomb":
        raise InvalidParameterError(
            "jastrow 'pade' carries the Coulomb cusp and needs interaction 'coulomb', "
            f"got interaction {interaction!r}")
    if jastrow == "pade" and n_particles < 2:
        raise InvalidParameterError(
            f"jastrow 'pade' needs at least 2 particles, got particles {n_particles}")
    if sampler == "gibbs" and (form != "sqrt" or jastrow != "none"):
        raise InvalidParameterError(
            "sampler 'gibbs' samples the RBM marginal and needs form 'sqrt' and jastrow "
            f"'none', got form {form!r}, jastrow {jastrow!r}")
    if comm == "auto":
        from .mpi import world
        comm = world()
    if learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATES[optimizer]
        if optimizer == "sgd":
            learning_rate = min(learning_rate, sgd_stable_rate(omega, n_hidden) / 2)
    previous = load_resume_source(resume, checkpoint, resume_from)
    if previous is not None:
        if rng is None:
            rng = previous.parameters.get("seed")
    seq = seed_sequence(rng)
    seed = recorded_seed(seq)
    if comm is not None:
        seed = comm.bcast(seed, root=0)
        seq = seed_sequence(seed)
    seq_wf, seq_sampler = child(seq, 0), child(seq, 1)
    hamiltonian = Hamiltonian(n_particles, n_dims, omega=omega, interaction=interaction)
    wf = Wavefunction(n_particles, n_dims, n_hidden=n_hidden, omega=omega, form=form,
                      sigma=sigma,
                      jastrow_a=cusp_constant(n_dims) if jastrow == "pade" else None,
                      init_scale=init_scale, rng=np.random.default_rng(seq_wf))
    smp = make_sampler(sampler, n_walkers, rng=seq_sampler, comm=comm, n_threads=n_threads)
    opt_kwargs = {} if optimizer == "sr" else {"n_planned": max(n_iterations, 1)}
    opt = make_optimizer(optimizer, learning_rate, **opt_kwargs)
    settings = {"particles": n_particles, "dims": n_dims, "omega": omega,
                "interaction": interaction, "hidden": n_hidden, "jastrow": jastrow,
                "form": form, "sigma": float(wf.sigma[0]), "sampler": sampler,
                "optimizer": optimizer, "learning_rate": float(learning_rate),
                "iterations": n_iterations, "samples": n_samples,
                "final_samples": n_final_samples if n_final_samples is not None
                else 4 * n_samples, "walkers": n_walkers, "init_scale": init_scale,
                "seed": seed, "threads": n_threads, "mpi_ranks": 1 if comm is None else comm.Get_size(),
                "units": "hbar = m = 1"}
    if jastrow == "pade":
        settings["jastrow_cusp"] = cusp_constant(n_dims)
    notes = []
    if interaction == "coulomb" and jastrow == "none" and n_particles > 1:
        notes.append(NO_CUSP_NOTE)
    if previous is not None:
        check_resume_settings(resume_settings(previous.parameters), resume_settings(settings),
                              what=f"checkpoint {checkpoint}")
    driver = VMC(hamiltonian, wf, smp, opt, comm=comm)
    with _blas_threads(n_threads):
        return driver.run(n_iterations, n_samples=n_samples, n_final_samples=n_final_samples,
                          progress=progress, callback=callback, settings=settings, notes=notes,
                          checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                          resume_from=previous)


def load_resume_source(resume: bool, checkpoint=None, resume_from=None):
    """The result a run continues from: ``checkpoint`` if it exists, else
    ``resume_from`` (a finished result to extend) if it exists, else None."""
    if not resume:
        return None
    for path in (checkpoint, resume_from):
        if path is not None and os.path.exists(path):
            return VMCResult.load(path)
    return None


def resume_settings(settings: dict) -> dict:
    """The settings that must match between a checkpoint and the run resuming it."""
    return {k: v for k, v in settings.items() if k not in RESUME_FREE_SETTINGS}


def sgd_stable_rate(omega: float, n_hidden: int) -> float:
    """The largest SGD learning rate that is linearly stable at the free ground state.

    Near the minimum ``a = 0, W = 0`` the RBM state is the ground-state
    Gaussian displaced by ``d_i = a_i + sum_j s_j W_ij`` per coordinate
    (``s_j = 1/(1 + exp(-b_j))``, any form f, since the displacement of a
    Gaussian with ``f/sigma^2 = omega`` is the coefficient of its linear
    term), so ``E = E0 + omega^2 |d|^2 / 2`` to second order: the Hessian in
    ``(a_i, W_i1..W_iM)`` is ``omega^2 v v^T`` with ``v = (1, s_1..s_M)``,
    largest eigenvalue ``omega^2 (1 + sum_j s_j^2)``. The b_j are flat there
    (the energy does not depend on them at W = 0) and drift, so s_j may
    reach 1: gradient descent ``delta = -lr grad`` is stable for every b only
    if ``lr < 2 / (omega^2 (1 + M))``, which this returns.
    """
    return 2.0 / (omega**2 * (1 + n_hidden))


def memory_estimate(n_visible: int, n_hidden: int, n_samples: int, n_walkers: int,
                    n_final_samples: int | None = None) -> float:
    """Bytes (a float, never overflowing) one VMC run needs at its peak, roughly.

    Per iteration ``max(n_samples, n_walkers)`` samples of positions
    (``n_visible``), log-derivatives (``n_params``) and a few per-sample
    numbers; the SR matrix and its factor (``2 n_params^2``); the final
    estimate's positions; every walker's position and stream.
    """
    n_params = float(n_visible) + float(n_hidden) + float(n_visible) * float(n_hidden) + 1.0
    per_iteration = max(float(n_samples), float(n_walkers))
    final = max(4.0 * n_samples if n_final_samples is None else float(n_final_samples),
                16.0 * n_walkers)
    return 8.0 * (per_iteration * (n_visible + 2 * n_params + 4) + 2 * n_params**2
                  + final * (n_visible + 2) + float(n_walkers) * (n_visible + 4))


def _blas_threads(n_threads):
    """Limit BLAS threads with threadpoolctl when asked and available (else a no-op)."""
    import contextlib
    if n_threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n_threads, user_api="blas")
