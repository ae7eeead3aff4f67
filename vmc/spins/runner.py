"""Ground state of the transverse-field Ising model with an RBM trial state: :func:`run_tfim`.

Builds lattice + Hamiltonian (:mod:`vmc.spins.tfim`), wavefunction
(:mod:`vmc.spins.wavefunction`), sampler (:mod:`vmc.spins.samplers`) and
optimizer (:mod:`vmc.optimizers`), runs the one driver loop
(:class:`vmc.driver.VMC`), and measures the observables of the final
sampling run with blocking errors (:func:`observables`). The exact energy
(free fermions for even chains, Lanczos up to 20 sites) is attached where
one exists, and the exact observables (:func:`vmc.spins.exact.exact_reference`)
as ``result.observables["exact"]``. Convention: J = 1, energies are totals (``energy_per_site`` =
energy / N), spins are Pauli matrices (eigenvalues +-1).
"""

from __future__ import annotations

import numpy as np

import mcstats
from mccore.parallel import numba_threads, with_single_threaded_blas
from mccore.rng import child
from mccore.training import check_resume_settings
from mccore.validation import check_bool, check_memory, check_settings

from ..driver import (
    VMC,
    blocking_estimate,
    load_resume_source,
    resume_settings,
    run_seed,
)
from ..optimizers import make_optimizer
from ..result import VMCResult
from ..schedule import Schedule, check_schedule
from ..settings import RUN_SETTINGS, SCHEDULE_SETTINGS, TFIM_SETTINGS
from .exact import binder_ratio, exact_reference
from .lattice import Lattice
from .samplers import SpinMetropolisSampler, split_rhat
from .tfim import TFIM, check_field
from .wavefunction import make_spin_wavefunction

__all__ = ["MAX_CHANGE_PER_SITE", "TFIM_LEARNING_RATES", "FIELD_SCALE", "default_learning_rate",
           "binder_estimate", "observables", "run_tfim", "tfim_memory_estimate"]

#: default trust region: variance of the change of log psi per step, per site
MAX_CHANGE_PER_SITE = 0.01

#: default learning rates of the TFIM runs (the gradient is 2 (<E_L O> - <E_L><O>)) for
#: h <= FIELD_SCALE; see :func:`default_learning_rate`
TFIM_LEARNING_RATES = {"sr": 0.05, "adam": 0.01, "sgd": 0.005}

#: above this field the default SR/SGD step shrinks as FIELD_SCALE / h
FIELD_SCALE = 3.0


def default_learning_rate(optimizer: str, field: float) -> float:
    """The default learning rate: :data:`TFIM_LEARNING_RATES`, times ``min(1, 3 / h)``
    for SR and SGD.

    An SR step is an imaginary-time step ``tau = lr`` of ``exp(-tau H)``; its
    sampling noise scales with the energy scale h, so at large fields a
    fixed ``tau`` leaves the parameters jittering far from the optimum
    (measured, chain N = 20, symmetric RBM: at h = 100 lr 0.05 ended 8.6e-3
    above E0, lr 0.05 * 3/h 1.2e-8; at h = 1e6 7.6e-4 and 1.5e-8). Adam's
    step does not scale with the gradient and keeps its rate.
    """
    base = TFIM_LEARNING_RATES[optimizer]
    if optimizer == "adam":
        return base
    return base * min(1.0, FIELD_SCALE / float(field))


def observables(hamiltonian: TFIM, wf, x) -> dict:
    """Observables of configurations ``x`` (n_chains, n_steps, N) drawn from ``|psi|^2``.

    Returns
    -------
    dict of str to dict
        Each an :class:`mcstats.Estimate` as a dict (blocking errors over the
        chains): ``energy`` (total), ``energy_per_site``, ``variance`` (of
        E_L; 0 for an eigenstate, with a bootstrap-free naive error),
        ``sx`` (<sx> per site), ``abs_mz`` (<|m_z|>, m_z = sum_i s_i / N),
        ``mz2`` (<m_z^2>), ``mz4`` (<m_z^4>), ``binder`` (the Binder ratio
        ``U = 1 - <m^4> / (3 <m^2>^2)``, a ratio of means: block jackknife,
        :func:`binder_estimate`), ``correlation`` (list over r = 0..size//2 of
        C(r) = <sz_0 sz_r> along an axis, averaged over sites), and the
        split-R-hat of E_L (``rhat_energy``).
    """
    n_chains, n_steps, n = x.shape
    flat = x.reshape(-1, n)
    e, sx = hamiltonian.local_energy_and_sx(wf, flat)
    e = e.reshape(n_chains, n_steps)
    sx = sx.reshape(n_chains, n_steps)
    mz = x.mean(axis=2)
    out = {"energy": blocking_estimate(e).to_dict(),
           "energy_per_site": blocking_estimate(e / n).to_dict(),
           "sx": blocking_estimate(sx).to_dict(),
           "abs_mz": blocking_estimate(np.abs(mz)).to_dict(),
           "mz2": blocking_estimate(mz**2).to_dict(),
           "mz4": blocking_estimate(mz**4).to_dict(),
           "binder": binder_estimate(mz).to_dict()}
    dev = (e - e.mean()) ** 2
    out["variance"] = blocking_estimate(dev).to_dict()
    corr = []
    lattice = hamiltonian.lattice
    for r in range(lattice.max_distance + 1):
        pairs = lattice.distance_pairs(r)
        c = np.mean(x[:, :, pairs[:, 0]] * x[:, :, pairs[:, 1]], axis=2)
        corr.append(blocking_estimate(c).to_dict())
    out["correlation"] = corr
    out["rhat_energy"] = split_rhat(e)
    return out


def binder_estimate(mz, *, min_blocks: int = 16) -> mcstats.Estimate:
    """Binder ratio ``1 - <m^4> / (3 <m^2>^2)`` of ``mz`` (n_chains, n_steps), block jackknife.

    A block never straddles two chains: each chain is cut into the same
    number of blocks, as few as give ``min_blocks`` in all (one block per
    chain from 16 chains up), so the blocks are as long as possible and
    nearly independent. NaN error with fewer than two blocks; NaN mean when
    every sample has m = 0.
    """
    mz = np.asarray(mz, dtype=np.float64)
    n_chains, n_steps = mz.shape
    per_chain = min(n_steps, max(1, -(-min_blocks // n_chains)))
    n_blocks = n_chains * per_chain
    used = mz[:, :per_chain * (n_steps // per_chain)].reshape(-1)
    m2, m4 = used**2, used**4

    def ratio(means):
        return binder_ratio(means[0], means[1]) if means[0] > 0 else float("nan")

    if n_blocks < 2:
        return mcstats.Estimate(mean=ratio([m2.mean(), m4.mean()]), error=float("nan"),
                                n_samples=int(used.size))
    return mcstats.jackknife(ratio, np.column_stack([m2, m4]), n_blocks=n_blocks)


def tfim_memory_estimate(n_sites: int, alpha: int, symmetric: bool, n_samples: int,
                         n_chains: int, n_final_samples: int | None = None) -> float:
    """Bytes one TFIM run needs at its peak, roughly (a float, never overflowing)."""
    n = float(n_sites)
    m = float(alpha) * n
    p = (float(alpha) * n + alpha + 1) if symmetric else (n + m + n * m)
    per = max(float(n_samples), float(n_chains))
    final = max(4.0 * n_samples if n_final_samples is None else float(n_final_samples),
                16.0 * n_chains)
    solve = p * p if per > p else per * per
    extra = per * n * n * alpha if symmetric else 0.0
    return 8.0 * (per * (n + 2 * p + m + 4) + 2 * solve + extra + final * (n + m + 4)
                  + n * m)


@with_single_threaded_blas
def run_tfim(lattice: str = "chain", size: int = 10, field: float = 1.0, *, alpha: int = 1,
             symmetric: bool = False, optimizer: str = "sr", learning_rate: float | None = None,
             shift_schedule: str = "constant", diag_shift: float = 0.01,
             n_iterations: int = 300, n_samples: int = 1000, n_chains: int = 16,
             n_final_samples: int | None = None, tail_iterations: int = 0,
             tail_learning_rate: float | None = None, tail_samples: int | None = None,
             average_last: int = 0, tail_diag_shift: float | None = None,
             p_global: float = 0.0,
             init_scale: float = 0.01, max_change: float = MAX_CHANGE_PER_SITE,
             n_threads: int | None = None, rng=None,
             progress: bool = False, callback=None, comm="auto", checkpoint=None,
             checkpoint_every: int = 10, resume: bool = False,
             resume_from=None) -> VMCResult:
    """Variational ground state of the TFIM ``H = -sum_<ij> sz_i sz_j - h sum_i sx_i``.

    Parameters
    ----------
    lattice : {"chain", "square"}
    size : int
        Chain length N >= 2, or side L >= 2 of the L x L lattice.
    field : float
        Transverse field h > 0 (J = 1).
    alpha : int
        Hidden-unit density (filters of the symmetric RBM), >= 1.
    symmetric : bool
        Translation-symmetric RBM (alpha N + alpha + 1 parameters).
    optimizer : {"sr", "adam", "sgd"}
    learning_rate : float or None
        Default :func:`default_learning_rate` (0.05 for SR up to h = 3, then
        0.05 * 3 / h).
    shift_schedule : {"constant", "carleo"}
        SR's diagonal shift: constant ``diag_shift`` or Carleo & Troyer's
        ``max(100 * 0.9^p, 1e-4)`` relative to diag(S).
    diag_shift : float
        SR's constant shift (added also to the Carleo schedule's).
    n_iterations, n_samples, n_chains : int
        Iterations; samples per iteration; Metropolis chains.
    n_final_samples : int or None
        Samples of the final estimate (default ``4 * n_samples``).
    tail_iterations : int
        The last iterations of the run form its tail (default 0: none), where
        ``tail_learning_rate`` and ``tail_samples`` apply
        (:mod:`vmc.schedule`: SR's step is an imaginary-time step whose
        sampling noise keeps the parameters jittering around the optimum; a
        smaller step and more samples late in the run shrink the jitter).
    tail_learning_rate : float or None
        SR only: the learning rate decays geometrically over the tail, from
        ``learning_rate`` at its first iteration to this at the last
        (default None: constant).
    tail_samples : int or None
        Samples per iteration in the tail (default None: ``n_samples``).
    average_last : int
        The final estimate (energy, observables, :attr:`VMCResult.params`)
        at the mean of the parameters of the last ``average_last``
        iterations (Polyak averaging; default 0: the last parameters). The
        result's notes and ``parameters["average_last"]`` say so.
    tail_diag_shift : float or None
        SR only, with a constant-shift run ``diag_shift > 0``: the diagonal
        shift decays geometrically over the tail, from ``diag_shift`` at its
        first iteration to this at the last (default None: constant). A large
        shift damps the slow modes of a critical chain; a small one lets a
        sampled S's noise through: small late, with more samples and a
        smaller step. (With ``shift_schedule="carleo"`` the constant part
        decays.)
    p_global : float
        Probability of the global-flip move per sweep.
    init_scale : float
        Standard deviation of the random initial parameters.
    max_change : float
        Trust region per site (> 0): a step is halved until the variance
        over the batch of the change of ``log psi`` is at most
        ``max_change * N`` (:class:`vmc.driver.VMC`). Without it one SR
        step from the symmetric RBM's starting point (W ~ 0, a saddle where
        the log-derivatives vanish with W) can jump to a ferromagnetic
        product state that the single-spin-flip chains never leave.
    n_threads : int or None
        Numba threads (results do not depend on it).
    rng : int, SeedSequence, Generator or None
        The recorded seed (:mod:`mccore.rng`); when resuming, as in :func:`vmc.run`.
    progress, callback, comm, checkpoint, checkpoint_every, resume, resume_from
        As in :func:`vmc.run` (callback gets a :class:`mccore.training.TrainingStep`).

    Returns
    -------
    VMCResult
        ``exact`` (free fermions or Lanczos, else None), ``observables``
        (:func:`observables`, plus ``acceptance`` and ``exact``: the
        ``values`` and ``methods`` of :func:`vmc.spins.exact.exact_reference`),
        ``parameters`` with ``system="tfim"``.
    """
    s = check_settings({**TFIM_SETTINGS, **RUN_SETTINGS}, lattice=lattice, size=size,
                       alpha=alpha, optimizer=optimizer, shift_schedule=shift_schedule,
                       diag_shift=diag_shift, n_iterations=n_iterations, n_samples=n_samples,
                       n_final_samples=n_final_samples, p_global=p_global,
                       init_scale=init_scale, max_change=max_change)
    tail = check_settings(SCHEDULE_SETTINGS, tail_iterations=tail_iterations,
                          tail_learning_rate=tail_learning_rate, tail_samples=tail_samples,
                          average_last=average_last, tail_diag_shift=tail_diag_shift)
    field = check_field(field)
    symmetric = check_bool("symmetric", symmetric)
    n_chains = RUN_SETTINGS["n_walkers"].check("n_chains", n_chains)
    (lattice_kind, size, alpha, optimizer, shift_schedule, diag_shift, n_iterations, n_samples,
     n_final_samples, p_global, init_scale, max_change) = s.values()
    if learning_rate is None:
        learning_rate = default_learning_rate(optimizer, field)
    learning_rate = RUN_SETTINGS["learning_rate"].check("learning_rate", learning_rate)
    check_schedule(n_iterations, optimizer, diag_shift=diag_shift, **tail)
    schedule = Schedule(n_iterations, learning_rate, n_samples, diag_shift=diag_shift, **tail)
    n_sites = size if lattice_kind == "chain" else size * size
    check_memory(f"lattice {lattice_kind} size {size}, alpha {alpha}, samples {n_samples}, "
                 f"chains {n_chains}",
                 tfim_memory_estimate(n_sites, alpha, symmetric,
                                      max(n_samples, tail_samples or 0), n_chains,
                                      n_final_samples))
    lat = Lattice(lattice_kind, size)
    if comm == "auto":
        from ..mpi import world
        comm = world()
    previous = load_resume_source(resume, checkpoint, resume_from)
    seq, seed = run_seed(rng, previous, comm)
    ham = TFIM(lat, field)
    reference = exact_reference(lat, field)
    exact = reference["values"].get("energy")
    exact_method = reference["methods"].get("energy") or reference["note"]
    ham.exact = exact
    wf = make_spin_wavefunction(lat, alpha, symmetric=symmetric, init_scale=init_scale,
                                rng=child(seq, 0))
    sampler = SpinMetropolisSampler(n_chains, p_global=p_global, n_threads=n_threads,
                                    rng=child(seq, 1), comm=comm)
    if optimizer == "sr":
        opt = make_optimizer("sr", learning_rate, diag_shift=diag_shift,
                             shift_schedule=shift_schedule)
    else:
        opt = make_optimizer(optimizer, learning_rate, n_planned=max(n_iterations, 1))
    settings = {"system": "tfim", "lattice": lattice_kind, "size": size, "sites": n_sites,
                "field": field, "coupling": 1.0, "alpha": alpha, "symmetric": symmetric,
                "n_params": wf.n_params, "optimizer": optimizer,
                "learning_rate": learning_rate,
                "shift_schedule": shift_schedule if optimizer == "sr" else None,
                "diag_shift": diag_shift if optimizer == "sr" else None,
                "iterations": n_iterations, "samples": n_samples, "chains": n_chains,
                "final_samples": n_final_samples if n_final_samples is not None
                else 4 * n_samples, "p_global": p_global, "init_scale": init_scale,
                "max_change": max_change,
                "sampler": "metropolis (single spin flips"
                           + (", global flips)" if p_global > 0 else ")"),
                "seed": seed, "threads": n_threads,
                "mpi_ranks": 1 if comm is None else comm.Get_size(),
                "exact_method": exact_method if exact is not None else None,
                "units": "J = 1, Pauli matrices, energies total", **schedule.settings()}
    notes = [] if exact is not None else [exact_method]
    notes.extend(schedule.notes())
    if previous is not None:
        check_resume_settings(resume_settings(previous.parameters), resume_settings(settings),
                              what=f"checkpoint {checkpoint}")
    driver = VMC(ham, wf, sampler, opt, comm=comm, max_change=max_change * n_sites)
    with numba_threads(n_threads):
        result = _run_driver(driver, ham, wf, comm, n_iterations, n_samples, n_final_samples,
                             progress, callback, settings, notes, checkpoint, checkpoint_every,
                             previous, reference, schedule if schedule.active else None)
    return result


def _run_driver(driver, ham, wf, comm, n_iterations, n_samples, n_final_samples, progress,
                callback, settings, notes, checkpoint, checkpoint_every, previous, reference,
                schedule):
    result = driver.run(n_iterations, n_samples=n_samples, n_final_samples=n_final_samples,
                        progress=progress, callback=callback, settings=settings, notes=notes,
                        checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                        resume_from=previous, schedule=schedule)
    batch = getattr(driver, "final_batch", None)
    if result.status in ("complete", "unhealthy") and batch is not None:
        from ..mpi import gather_rows
        x = gather_rows(comm, batch.x)
        result.observables = observables(ham, wf, x)
        result.observables["acceptance"] = result.acceptance
        result.observables["exact"] = {"values": reference["values"],
                                       "methods": reference["methods"]}
    return result
