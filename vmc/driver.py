"""The VMC loop, written once for both physics (:mod:`vmc.trap`, :mod:`vmc.spins`).

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

import inspect
import math
import os

import numpy as np

import mcstats
from mcstats import Estimate
from mccore.errors import DivergenceError, InvalidParameterError
from mccore.files import atomic_path
from mccore.rng import recorded_seed, seed_sequence
from mccore.training import resume_seed, run_steps
from mccore.validation import check_int

from .health import assess
from .mpi import gather_rows, is_root
from .result import VMCResult
from .trust_region import TrustRegion

__all__ = ["VMC", "FINISHED", "HISTORY_KEYS", "RESUME_FREE_SETTINGS", "blocking_estimate",
           "load_resume_source", "resume_settings", "run_seed"]

#: statuses of a finished run (one that can be extended, or returned as it is)
FINISHED = ("complete", "unhealthy")

HISTORY_KEYS = ("energy", "variance", "acceptance", "grad_norm", "step", "params")

#: settings that may differ between a checkpoint and the run resuming it
RESUME_FREE_SETTINGS = ("iterations", "threads", "final_samples", "mpi_ranks")


def blocking_estimate(values) -> Estimate:
    """Blocking estimate of (n_walkers, n_steps) values, walkers blocked separately;
    the naive error of the mean when a walker has fewer than 16 steps."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[1] >= 16:
        return mcstats.estimate(values)
    flat = values.ravel()
    var = float(flat.var(ddof=1)) if flat.size > 1 else float("nan")
    return Estimate(mean=float(flat.mean()), error=math.sqrt(var / flat.size),
                    variance=var, tau_int=float("nan"), n_samples=int(flat.size))


class VMC:
    """Variational Monte Carlo driver.

    Parameters
    ----------
    hamiltonian : vmc.trap.Hamiltonian or vmc.spins.TFIM
    wavefunction : vmc.trap.Wavefunction, vmc.spins.SpinRBM or SymmetricSpinRBM
        Its ``params`` are updated in place.
    sampler : a sampler of vmc.trap.samplers or vmc.spins.samplers
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
        check = getattr(hamiltonian, "check_wavefunction", None)
        if check is not None:
            check(wavefunction)
        self.hamiltonian = hamiltonian
        self.wavefunction = wavefunction
        self.sampler = sampler
        self.optimizer = optimizer
        self.comm = comm
        takes = inspect.signature(wavefunction.log_psi_param_grad).parameters
        self._writes_into = "out" in takes
        # log psi of the batch at the current parameters, which the trust region needs,
        # comes with O from the same theta where the wavefunction offers it
        self._lp_with_o = self.trust is not None and "log_psi_out" in takes
        self._o_buffer = None
        self._lp = None

    def _statistics(self, x):
        """Mean/variance of E_L, the gradient and centred O of all walkers (every rank).

        Rows are gathered in global walker order and reduced identically on
        every rank, so the numbers do not depend on the number of ranks.
        """
        wf = self.wavefunction
        e = gather_rows(self.comm, self.hamiltonian.local_energy(wf, x))
        O = gather_rows(self.comm, self._log_derivatives(x))
        n = e.size
        e_mean = float(np.mean(e))
        e_var = float(np.mean((e - e_mean) ** 2))
        O_c = np.subtract(O, np.mean(O, axis=0), out=O)     # centred in place
        grad = (2.0 / n) * ((e - e_mean) @ O_c)
        return e, e_mean, e_var, grad, O_c

    def _log_derivatives(self, x):
        """``O`` of the rows ``x``, into the driver's own buffer where the wavefunction
        takes ``out`` (one (n, P) array reused every iteration: allocating it afresh cost
        page faults worth 2 ms of a 12 ms iteration, chain N = 20, P = 440, n = 1008).
        The buffer is overwritten by the next iteration; the optimizer must not keep it."""
        wf = self.wavefunction
        if self._lp_with_o:
            self._lp = np.empty(x.shape[0])
            extra = {"log_psi_out": self._lp}
        else:
            self._lp, extra = None, {}
        if not self._writes_into:
            return wf.log_psi_param_grad(x, **extra)
        shape = (x.shape[0], wf.n_params)
        if self._o_buffer is None or self._o_buffer.shape != shape:
            self._o_buffer = np.empty(shape)
        return wf.log_psi_param_grad(x, out=self._o_buffer, **extra)

    def run(self, n_iterations: int, *, n_samples: int = 10_000,
            n_final_samples: int | None = None, rng=None, progress: bool = False,
            callback=None, settings: dict | None = None, notes=(), checkpoint=None,
            checkpoint_every: int = 10, resume_from: VMCResult | None = None,
            schedule=None) -> VMCResult:
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
        schedule : vmc.schedule.Schedule or None
            Learning rate and SR diagonal shift (set on the optimizer where
            the schedule gives them) and samples of each iteration, in place of ``n_samples``; with
            ``average_last`` the final estimate is taken at the mean of the
            last parameters (:attr:`VMCResult.params` then holds that mean,
            and the resume state the last iterate, ``"iterate"``).

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
        n_iterations = check_int("n_iterations", n_iterations, minimum=0)
        n_samples = check_int("n_samples", n_samples, minimum=1)
        if resume_from is not None and resume_from.status in FINISHED \
                and n_iterations <= resume_from.iterations:
            return resume_from    # finished, nothing to add: the result as it is
        n_walkers = self.sampler.n_walkers_total
        if n_final_samples is None:
            n_final_samples = 4 * n_samples
        n_final_samples = max(check_int("n_final_samples", n_final_samples, minimum=1), 16 * n_walkers)
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
            samples = n_samples
            if schedule is not None:
                samples = schedule.n_samples_at(it)
                lr = schedule.learning_rate_at(it)
                if lr is not None:
                    self.optimizer.learning_rate = lr
                shift = schedule.diag_shift_at(it)
                if shift is not None:
                    self.optimizer.diag_shift = shift
            return self._iteration(it, samples, rng, history, settings, notes,
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
            mean = None if schedule is None else schedule.averaged(history["params"])
            if mean is not None:
                state["iterate"] = wf.params.copy()   # an extension continues from here
                wf.params = mean
            try:
                batch = self.sampler.sample(wf, n_final_samples, rng=rng)
                self.final_batch = batch
                e = self.hamiltonian.local_energy(wf, batch.flat).reshape(batch.x.shape[:2])
                if not np.all(np.isfinite(e)):
                    raise self._divergence("non-finite local energy in the final estimate",
                                           wf.params.copy(), history, done, settings, notes)
                e_all = gather_rows(self.comm, e)
                energy = blocking_estimate(e_all)
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
            energy = blocking_estimate(e_all)
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
            ok, lp_now = self.trust.check_last(batch.flat, self._lp)
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
        params = np.asarray(state.get("iterate", result.params), dtype=np.float64)
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


def run_seed(rng, previous=None, comm=None):
    """``(SeedSequence, recorded int seed)`` of a run, the same on every MPI rank.

    ``rng`` as :func:`mccore.rng.seed_sequence` takes it. Rank 0's seed is
    broadcast, so fresh entropy is drawn once. When resuming (``previous`` a
    loaded result) the checkpoint's recorded seed governs, under the one rule
    :func:`mccore.training.resume_seed`: ``rng`` None takes it, a different
    seed is refused (InvalidParameterError, on every rank alike).
    """
    recorded = None if previous is None else previous.parameters.get("seed")
    if recorded is not None and rng is None:
        rng = recorded
    seq = seed_sequence(rng)
    seed = recorded_seed(seq)
    if comm is not None:
        seed = comm.bcast(seed, root=0)
        seq = seed_sequence(seed)
    if previous is not None:
        resume_seed(recorded, seed, flag="rng")
    return seq, seed


#: names that moved to :mod:`vmc.trap.runner` (importable from here for one release)
_MOVED = ("run", "JASTROWS", "NO_CUSP_NOTE", "OMEGA_RANGE", "sgd_stable_rate",
          "memory_estimate")


def __getattr__(name):
    if name in _MOVED:
        import warnings
        warnings.warn(f"vmc.driver.{name} moved to vmc.trap.runner.{name} (vmc.trap.{name}); "
                      "the old name goes away in the next release", DeprecationWarning,
                      stacklevel=2)
        from .trap import runner as trap_run
        return getattr(trap_run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
