"""The VMC loop (written once) and :func:`run`, which builds everything from settings.

One iteration: sample ``|Psi|^2`` -> local energies ``E_L`` -> mean and
variance -> log-derivatives ``O_k`` -> gradient
``2 (<E_L O_k> - <E_L><O_k>)`` (sums over MPI ranks) -> finite check ->
optimizer step -> finite check -> history/callback. After the last iteration
a final sampling run at fixed parameters gives the reported energy with a
blocking error (:func:`mcstats.estimate`, walkers blocked separately).

NaN/inf in the energies or parameters raises :class:`mccore.errors.DivergenceError`
carrying the last good parameters (``last_good_params``) and the partial
result (``partial_result``); the wavefunction is reset to those parameters.
Ctrl-C (KeyboardInterrupt) ends the loop and returns a partial result
(``status = "interrupted"``) whose energy comes from the last iteration.
"""

from __future__ import annotations

import math

import numpy as np

import mcstats
from mcstats import Estimate
from mccore.errors import DivergenceError, InvalidParameterError
from mccore.parallel import with_single_threaded_blas

from .hamiltonian import INTERACTIONS, Hamiltonian
from .mpi import allreduce_sum, gather_rows, is_root
from .optimizers import DEFAULT_LEARNING_RATES, OPTIMIZERS, make_optimizer
from .result import VMCResult
from .samplers import SAMPLERS, make_sampler
from .wavefunction import FORMS, Wavefunction, _check_int, _check_positive, cusp_constant

__all__ = ["VMC", "run", "JASTROWS", "NO_CUSP_NOTE"]

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
        Ranks share the walkers; sums go over all ranks.
    """

    def __init__(self, hamiltonian, wavefunction, sampler, optimizer, *, comm=None):
        if (hamiltonian.n_particles, hamiltonian.n_dims) != (wavefunction.n_particles,
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
        """Mean/variance of E_L, the gradient and centred O (sums over ranks)."""
        wf = self.wavefunction
        e = self.hamiltonian.local_energy(wf, x)
        O = wf.log_psi_param_grad(x)
        n = e.size
        sums = allreduce_sum(self.comm, np.array([e.sum(), (e * e).sum(), n]))
        o_sum = allreduce_sum(self.comm, O.sum(axis=0))
        eo_sum = allreduce_sum(self.comm, e @ O)
        n_total = sums[2]
        e_mean = sums[0] / n_total
        e_var = max(sums[1] / n_total - e_mean**2, 0.0)
        o_mean = o_sum / n_total
        grad = 2.0 * (eo_sum / n_total - e_mean * o_mean)
        return e, e_mean, e_var, grad, O - o_mean

    def run(self, n_iterations: int, *, n_samples: int = 10_000,
            n_final_samples: int | None = None, rng=None, progress: bool = False,
            callback=None, settings: dict | None = None, notes=()) -> VMCResult:
        """Optimize for ``n_iterations`` iterations, then estimate the energy.

        Parameters
        ----------
        n_iterations : int
            Optimization iterations (>= 0).
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
            ``callback(iteration, record) -> bool | None`` after every
            iteration with ``record`` a dict (energy, variance, acceptance,
            grad_norm); returning True stops the optimization.
        settings : dict or None
            Recorded as :attr:`VMCResult.parameters`.
        notes : sequence of str
            Caveats recorded in the result.

        Returns
        -------
        VMCResult

        Raises
        ------
        DivergenceError
            NaN/inf in the energies or parameters; ``last_good_params`` and
            ``partial_result`` are attached and the wavefunction keeps the
            last good parameters.
        """
        n_iterations = _check_int("n_iterations", n_iterations, 0)
        n_samples = _check_int("n_samples", n_samples, 1)
        n_walkers = self.sampler.n_walkers_total
        if n_final_samples is None:
            n_final_samples = 4 * n_samples
        n_final_samples = max(_check_int("n_final_samples", n_final_samples, 1), 16 * n_walkers)
        wf = self.wavefunction
        history = {k: [] for k in ("energy", "variance", "acceptance", "grad_norm", "step",
                                   "params")}
        status, message = "complete", ""
        last_good = wf.params.copy()
        last_e = None
        iterator = range(n_iterations)
        bar = None
        if progress and is_root(self.comm) and n_iterations:
            from tqdm import tqdm
            bar = tqdm(total=n_iterations, desc="vmc", unit="it", leave=False)
        done = 0
        try:
            for it in iterator:
                batch = self.sampler.sample(wf, n_samples, rng=rng)
                x = batch.flat
                with np.errstate(all="ignore"):
                    e, e_mean, e_var, grad, O_c = self._statistics(x)
                if not (math.isfinite(e_mean) and np.all(np.isfinite(grad))):
                    wf.params = last_good
                    raise self._divergence(
                        f"non-finite local energy or gradient at iteration {it}",
                        last_good, history, done, settings, notes)
                last_good = wf.params.copy()
                history["params"].append(last_good)
                last_e = e.reshape(batch.x.shape[:2])
                with np.errstate(all="ignore"):
                    delta = self.optimizer.step(grad, O_c)
                    new = wf.params + delta
                with np.errstate(all="ignore"):
                    grad_norm = float(np.sqrt(np.sum(grad * grad)))
                record = {"energy": float(e_mean), "variance": float(e_var),
                          "acceptance": batch.acceptance, "grad_norm": grad_norm,
                          "step": batch.step}
                for k, v in record.items():
                    history[k].append(v)
                done = it + 1
                if not np.all(np.isfinite(new)):
                    raise self._divergence(
                        f"non-finite parameters after the update of iteration {it}",
                        last_good, history, done, settings, notes)
                wf.params = new
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(energy=f"{e_mean:.5f}", var=f"{e_var:.2e}")
                if callback is not None and callback(it, record):
                    break
        except KeyboardInterrupt:
            status, message = "interrupted", f"interrupted after {done} iterations"
        finally:
            if bar is not None:
                bar.close()
        if status == "complete":
            try:
                batch = self.sampler.sample(wf, n_final_samples, rng=rng)
                e = self.hamiltonian.local_energy(wf, batch.flat).reshape(batch.x.shape[:2])
                if not np.all(np.isfinite(e)):
                    raise self._divergence("non-finite local energy in the final estimate",
                                           wf.params.copy(), history, done, settings, notes)
                e_all = gather_rows(self.comm, e)
                energy = _energy_estimate(e_all)
                return self._result(energy, energy.variance, batch.acceptance, history, done,
                                    settings, notes, status, message, wf.params.copy(), e_all)
            except KeyboardInterrupt:
                status, message = "interrupted", "interrupted during the final estimate"
        # partial result from the last iteration
        if last_e is not None:
            e_all = gather_rows(self.comm, last_e)
            energy = _energy_estimate(e_all)
            acc = history["acceptance"][-1]
        else:
            e_all, energy, acc = None, Estimate(mean=float("nan"), error=float("nan")), float("nan")
        return self._result(energy, energy.variance, acc, history, done, settings, notes,
                            status, message, wf.params.copy(), e_all)

    def _result(self, energy, variance, acceptance, history, done, settings, notes, status,
                message, params, e_local):
        hist = {k: np.asarray(v, dtype=np.float64) for k, v in history.items()}
        if not len(history["params"]):
            hist["params"] = np.empty((0, self.wavefunction.n_params))
        return VMCResult(energy=energy, variance=float(variance), acceptance=float(acceptance),
                         exact=self.hamiltonian.exact, iterations=done, history=hist,
                         parameters=dict(settings or {}), params=params,
                         parameter_names=self.wavefunction.parameter_names(), status=status,
                         message=message, notes=list(notes), local_energy=e_local)

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


def _resolve_seed(rng):
    """(seed recorded, SeedSequence) from a Generator/int/SeedSequence/None."""
    if isinstance(rng, np.random.SeedSequence):
        return rng.entropy, rng
    if isinstance(rng, np.random.Generator):
        seed = int(rng.integers(0, 2**63))
        return None, np.random.SeedSequence(seed)
    if rng is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    else:
        if not isinstance(rng, (int, np.integer)) or isinstance(rng, bool) or rng < 0:
            raise InvalidParameterError(
                f"rng must be a numpy Generator, a SeedSequence, an integer >= 0 or None, "
                f"got {rng!r}")
        seed = int(rng)
    return seed, np.random.SeedSequence(seed)


@with_single_threaded_blas
def run(n_particles: int, n_dims: int, *, omega: float = 1.0, interaction: str = "none",
        n_hidden: int = 2, jastrow: str = "none", sampler: str = "importance",
        optimizer: str = "sr", n_iterations: int = 200, n_samples: int = 10_000,
        learning_rate: float | None = None, n_walkers: int = 16,
        n_final_samples: int | None = None, form: str = "sqrt", sigma: float | None = None,
        init_scale: float = 0.1, n_threads: int | None = None, rng=None,
        progress: bool = False, callback=None, comm="auto") -> VMCResult:
    """Find the ground-state energy of N trapped particles with an RBM trial state.

    Parameters
    ----------
    n_particles : int
        N >= 1.
    n_dims : int
        D in 1..3.
    omega : float
        Trap frequency (> 0); hbar = m = 1.
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
        Default per optimizer (:data:`vmc.optimizers.DEFAULT_LEARNING_RATES`).
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
        The seed (recorded in ``parameters["seed"]``; drawn from entropy if None).
    progress : bool
        Progress bar over iterations.
    callback : callable or None
        See :meth:`VMC.run`.
    comm : "auto", mpi4py communicator or None
        ``"auto"``: MPI when launched with ``mpiexec -n K`` (K > 1).

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
    n_hidden = _check_int("n_hidden", n_hidden, 1)
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
    seed, seq = _resolve_seed(rng)
    if comm is not None:
        seed, entropy = comm.bcast((seed, seq.entropy), root=0)
        seq = np.random.SeedSequence(entropy)
    seq_wf, seq_sampler = seq.spawn(2)
    hamiltonian = Hamiltonian(n_particles, n_dims, omega=omega, interaction=interaction)
    wf = Wavefunction(n_particles, n_dims, n_hidden=n_hidden, omega=omega, form=form,
                      sigma=sigma,
                      jastrow_a=cusp_constant(n_dims) if jastrow == "pade" else None,
                      init_scale=init_scale, rng=np.random.default_rng(seq_wf))
    smp = make_sampler(sampler, n_walkers, rng=seq_sampler, comm=comm, n_threads=n_threads)
    opt_kwargs = {} if optimizer == "sr" else {"n_planned": max(n_iterations, 1)}
    opt = make_optimizer(optimizer, learning_rate, comm=comm, **opt_kwargs)
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
    driver = VMC(hamiltonian, wf, smp, opt, comm=comm)
    with _blas_threads(n_threads):
        return driver.run(n_iterations, n_samples=n_samples, n_final_samples=n_final_samples,
                          progress=progress, callback=callback, settings=settings, notes=notes)


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
