"""Ground state of N particles in a harmonic trap with an RBM trial state: :func:`run`.

Builds the Hamiltonian (:mod:`vmc.trap.hamiltonian`), the Gaussian-binary
RBM wavefunction with an optional Pade-Jastrow factor
(:mod:`vmc.trap.wavefunction`), a sampler (:mod:`vmc.trap.samplers`) and an
optimizer (:mod:`vmc.optimizers`) from settings, and runs the one driver
loop (:class:`vmc.driver.VMC`). Units hbar = m = 1; energies are totals.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.parallel import with_single_threaded_blas
from mccore.rng import child
from mccore.training import check_resume_settings
from mccore.validation import check_memory, check_settings

from ..driver import VMC, load_resume_source, resume_settings, run_seed
from ..optimizers import DEFAULT_LEARNING_RATES, make_optimizer
from ..result import VMCResult
from ..settings import JASTROWS, OMEGA_RANGE, RUN_SETTINGS, TRAP_SETTINGS
from .hamiltonian import Hamiltonian, check_interaction
from .samplers import make_sampler
from .wavefunction import Wavefunction, cusp_constant

__all__ = ["run", "check_trap_settings", "JASTROWS", "NO_CUSP_NOTE", "OMEGA_RANGE",
           "sgd_stable_rate", "memory_estimate"]

NO_CUSP_NOTE = ("without the Jastrow cusp the local energy diverges at r -> 0 and its "
                "variance diverges logarithmically, so the blocking error of this "
                "RBM-only energy is unreliable at the 1e-3 level")


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
        Trap frequency in [1e-3, 1e3] (:data:`vmc.settings.OMEGA_RANGE`); hbar = m = 1.
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
        the checkpoint's seed and another seed is refused
        (:func:`mccore.training.resume_seed`).
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
        Any setting outside its allowed set (the message names it):
        :func:`check_trap_settings`.
    DivergenceError
        The optimization produced NaN/inf (see :class:`VMC`).
    """
    checked = check_trap_settings(
        n_particles=n_particles, n_dims=n_dims, omega=omega, interaction=interaction,
        n_hidden=n_hidden, jastrow=jastrow, sampler=sampler, form=form, optimizer=optimizer,
        n_iterations=n_iterations, n_samples=n_samples, n_final_samples=n_final_samples,
        learning_rate=learning_rate, n_walkers=n_walkers, n_threads=n_threads)
    n_particles, n_dims, omega, n_hidden, n_samples, n_final_samples, n_walkers = (
        checked[name] for name in ("n_particles", "n_dims", "omega", "n_hidden", "n_samples",
                                   "n_final_samples", "n_walkers"))
    if comm == "auto":
        from ..mpi import world
        comm = world()
    if learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATES[optimizer]
        if optimizer == "sgd":
            learning_rate = min(learning_rate, sgd_stable_rate(omega, n_hidden) / 2)
    previous = load_resume_source(resume, checkpoint, resume_from)
    seq, seed = run_seed(rng, previous, comm)
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


def check_trap_settings(**settings) -> dict:
    """The settings of :func:`run` (its keyword names), checked one by one with the rules of
    :data:`vmc.settings.TRAP_SETTINGS` and :data:`vmc.settings.RUN_SETTINGS`, then
    together (what the Jastrow factor, the Coulomb interaction and the Gibbs sampler
    need; the memory of the run). Returns the checked values; InvalidParameterError
    names the first setting refused. ``isingrbm vmc`` checks its options with it too.
    """
    s = check_settings({**TRAP_SETTINGS, **RUN_SETTINGS}, **settings)
    if s["jastrow"] == "pade" and s["interaction"] != "coulomb":
        raise InvalidParameterError(
            "jastrow 'pade' carries the Coulomb cusp and needs interaction 'coulomb', "
            f"got interaction {s['interaction']!r}")
    if s["jastrow"] == "pade" and s["n_particles"] < 2:
        raise InvalidParameterError(
            f"jastrow 'pade' needs at least 2 particles, got particles {s['n_particles']}")
    check_interaction(s["interaction"], s["n_particles"], s["n_dims"])
    if s["sampler"] == "gibbs" and (s["form"] != "sqrt" or s["jastrow"] != "none"):
        raise InvalidParameterError(
            "sampler 'gibbs' samples the RBM marginal and needs form 'sqrt' and jastrow "
            f"'none', got form {s['form']!r}, jastrow {s['jastrow']!r}")
    check_memory(f"particles {s['n_particles']}, dims {s['n_dims']}, hidden {s['n_hidden']}, "
                 f"samples {s['n_samples']}, walkers {s['n_walkers']}",
                 memory_estimate(s["n_particles"] * s["n_dims"], s["n_hidden"], s["n_samples"],
                                 s["n_walkers"], s["n_final_samples"]))
    return s


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
