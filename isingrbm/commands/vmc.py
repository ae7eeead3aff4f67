"""``isingrbm vmc``: ground-state energy of trapped particles with an RBM trial state.

Builds and runs :func:`vmc.run`; prints a one-screen summary (energy ±
blocking error beside the exact value where known) on stderr, or the JSON
summary of :meth:`vmc.VMCResult.to_dict` on stdout with ``--json``; writes
the result file (``--out``) and a figure of the energy per iteration with
the exact line (``--plots DIR``). Under ``mpiexec -n K`` the walkers are
spread over the ranks and rank 0 alone prints and writes.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from mccore.validation import Rule
from vmc.settings import RUN_SETTINGS, SCHEDULE_SETTINGS, TFIM_SETTINGS, TRAP_SETTINGS

from . import _common
from ._params import REQUIRED, add_options, flag, flag_message, library_values, option

DESCRIPTION = """\
Variational Monte Carlo with RBM trial states, for two systems.

--system trap (default): N particles in a D-dimensional isotropic harmonic
trap, H = sum_p (-1/2 nabla_p^2 + 1/2 omega^2 r_p^2) [+ sum_{p<q} 1/r_pq],
hbar = m = 1. The trial wavefunction is the marginal F of a Gaussian-binary
RBM over its hidden units (Psi = sqrt(F) by default, Gibbs-samplable), with
an optional Pade-Jastrow factor exp(sum c r/(1 + beta r)) carrying the
Coulomb cusp c = 1/(D-1). Exact values shown where known: N D omega / 2
without interaction; 3 for N=2, D=2, omega=1 and 2 for N=2, D=3,
omega=0.5 with Coulomb repulsion (Taut 1993). omega in [0.001, 1000].

--system tfim: the transverse-field Ising model H = -sum_<ij> sz_i sz_j -
h sum_i sx_i (Pauli matrices, J = 1, periodic) on a chain of N spins or an
L x L square lattice, with the RBM trial state log psi(s) = sum_i a_i s_i +
sum_j log cosh(b_j + sum_i W_ij s_i) (real parameters: the ground state is
positive for h > 0, so h must be > 0): by default the
translation-symmetric RBM with alpha = 4 filters (--no-symmetric: the plain
RBM, alpha = 1 hidden unit per spin by default). Single-spin-flip Metropolis
(optional global flips), stochastic reconfiguration (constant diagonal
shift, or Carleo & Troyer's schedule max(100 * 0.9^p, 1e-4) relative to
diag(S)). Exact values: free fermions for even chains, Lanczos exact
diagonalization up to 20 sites (3x3, 4x4). Long runs: the last
--tail-iterations iterations may take --tail-samples samples each and a
learning rate decaying geometrically to --tail-learning-rate (SR's step is
an imaginary-time step whose sampling noise keeps the parameters jittering
around the optimum) and a diagonal shift decaying to --tail-diag-shift (a
large shift damps a critical chain's slow modes, a small one lets a noisy
S through), and --average-last K reports the estimate at the mean
of the parameters of the last K iterations (iterate averaging).

Energies are totals (not per particle or site); errors are blocking errors
of the final sampling run, whose health is checked: stuck chains (each
walker accepted fewer moves than one per site or particle in the final
run), R-hat(E_L) > 1.1, or a zero error bar at h > 0 make the result
"unhealthy" (status field of the file and of --json), with a warning.

Exit status: 0 complete; 3 unhealthy (the file is written, status
"unhealthy"; not a result); 130 interrupted (continue with --resume);
2 bad input, or a diverged optimization (last good parameters written). Run it under 'mpiexec -n K' to spread the
walkers/chains over K ranks."""

EXAMPLE = ("isingrbm vmc --particles 2 --dims 2 --interaction coulomb --jastrow pade "
           "--iterations 300 --samples 10000 --seed 1 --out vmc.h5 --plots figs\n"
           "  isingrbm vmc --system tfim --lattice chain --size 20 --field 1 "
           "--iterations 300 --samples 1000 --seed 1\n"
           "  isingrbm vmc --system tfim --lattice square --size 6 --field 3 --iterations 800 "
           "--tail-iterations 300 --tail-samples 2000 --tail-learning-rate 0.003 "
           "--average-last 150 --shift-schedule carleo --final-samples 400000 --seed 5")

#: the options of each --system, their rules from vmc.settings; fallback: the value filled in
#: when the option is not given (REQUIRED: it must be given)
TRAP = (
    option("--particles", setting="n_particles", rule=TRAP_SETTINGS["n_particles"],
           fallback=REQUIRED, metavar="N", help="number of particles ({allowed}; required)"),
    option("--dims", setting="n_dims", rule=TRAP_SETTINGS["n_dims"], fallback=REQUIRED,
           metavar="D", help="spatial dimension ({allowed}; required)"),
    option("--omega", setting="omega", rule=TRAP_SETTINGS["omega"], fallback=1.0, metavar="W",
           help="trap frequency ({allowed}; default 1)"),
    option("--interaction", setting="interaction", rule=TRAP_SETTINGS["interaction"],
           fallback="none", help="pair interaction (default none; coulomb needs D >= 2)"),
    option("--hidden", setting="n_hidden", rule=TRAP_SETTINGS["n_hidden"], fallback=2,
           metavar="H", help="RBM hidden units ({allowed}; default 2)"),
    option("--jastrow", setting="jastrow", rule=TRAP_SETTINGS["jastrow"], fallback="none",
           help="Pade-Jastrow factor with the Coulomb cusp (needs coulomb)"),
    option("--form", setting="form", rule=TRAP_SETTINGS["form"], fallback="sqrt",
           help="Psi = sqrt(F) (default) or Psi = F of the RBM marginal F"),
)
TFIM = (
    option("--lattice", setting="lattice", rule=TFIM_SETTINGS["lattice"], fallback=REQUIRED,
           help="periodic chain of N spins or L x L square lattice (required)"),
    option("--size", setting="size", rule=TFIM_SETTINGS["size"], fallback=REQUIRED,
           metavar="N_or_L", help="chain length N or square side L ({allowed}; required)"),
    option("--field", setting="field", rule=TFIM_SETTINGS["field"], fallback=REQUIRED,
           metavar="H", help="transverse field h ({allowed}; required), J = 1"),
    option("--alpha", setting="alpha", rule=TFIM_SETTINGS["alpha"], fallback="auto",
           metavar="A", help="filters of the symmetric RBM, or hidden units per spin with "
                             "--no-symmetric ({allowed}; default 4 symmetric, 1 plain)"),
    option("--symmetric", action=argparse.BooleanOptionalAction, fallback=True,
           help="translation-symmetric RBM (alpha N + alpha + 1 parameters; the default); "
                "--no-symmetric: the plain RBM"),
    option("--global-flip", setting="p_global", rule=TFIM_SETTINGS["p_global"], fallback=0.0,
           metavar="P", help="probability per sweep of a global flip s -> -s ({allowed}; "
                             "default 0)"),
    option("--shift-schedule", setting="shift_schedule", rule=TFIM_SETTINGS["shift_schedule"],
           fallback="constant", help="SR diagonal shift: constant --diag-shift (default) or "
                                     "Carleo & Troyer's max(100 * 0.9^p, 1e-4) x diag(S)"),
    option("--diag-shift", setting="diag_shift", rule=TFIM_SETTINGS["diag_shift"],
           fallback=0.01, metavar="E",
           help="SR constant diagonal shift ({allowed}; default 0.01)"),
    option("--tail-iterations", setting="tail_iterations",
           rule=SCHEDULE_SETTINGS["tail_iterations"], fallback=0, metavar="K",
           help="the last K iterations form the run's tail, where --tail-samples and "
                "--tail-learning-rate apply ({allowed}, at most --iterations; default 0)"),
    option("--tail-samples", setting="tail_samples", rule=SCHEDULE_SETTINGS["tail_samples"],
           metavar="M", help="samples per iteration in the tail ({allowed}; default "
                             "--samples)"),
    option("--tail-learning-rate", setting="tail_learning_rate",
           rule=SCHEDULE_SETTINGS["tail_learning_rate"], metavar="LR",
           help="sr: the learning rate decays geometrically over the tail to LR at the last "
                "iteration ({allowed}; default: no decay)"),
    option("--tail-diag-shift", setting="tail_diag_shift",
           rule=SCHEDULE_SETTINGS["tail_diag_shift"], metavar="E",
           help="sr: the diagonal shift decays geometrically over the tail from --diag-shift "
                "to E at the last iteration ({allowed}; default: no decay)"),
    option("--average-last", setting="average_last", rule=SCHEDULE_SETTINGS["average_last"],
           fallback=0, metavar="K",
           help="report the estimate at the mean of the parameters of the last K iterations "
                "(iterate averaging; {allowed}, at most --iterations; default 0: the last "
                "parameters)"),
)
COMMON = (
    option("--sampler", setting="sampler", rule=TRAP_SETTINGS["sampler"],
           help="sampler (trap: default importance, gibbs needs --form sqrt and no Jastrow; "
                "tfim: metropolis, the only one)"),
    option("--optimizer", setting="optimizer", rule=RUN_SETTINGS["optimizer"], default="sr",
           help="optimizer (default sr, stochastic reconfiguration)"),
    option("--iterations", setting="n_iterations", rule=RUN_SETTINGS["n_iterations"],
           metavar="K", help="optimization iterations ({allowed}; default trap 200, tfim 1000)"),
    option("--samples", setting="n_samples", rule=RUN_SETTINGS["n_samples"], metavar="M",
           help="samples per iteration ({allowed}; default trap 10000, tfim 1000)"),
    option("--final-samples", setting="n_final_samples", rule=RUN_SETTINGS["n_final_samples"],
           metavar="M", help="samples of the final estimate ({allowed}; default trap 4 x "
                             "--samples; tfim 100000, fewer on large lattices: at most 5e7 / "
                             "(N (1 + alpha)), at least 4 x --samples)"),
    option("--learning-rate", setting="learning_rate", rule=RUN_SETTINGS["learning_rate"],
           metavar="LR", help="learning rate ({allowed}; default trap: sgd 0.2 (at most half "
                              "its stability bound 2/(omega^2 (1 + H))), adam 0.1 decaying to "
                              "1%%, sr 0.1; tfim: sr 0.05, adam 0.01, sgd 0.005, the sr and sgd "
                              "rates times 3/h above h = 3)"),
    option("--walkers", setting="n_walkers", rule=RUN_SETTINGS["n_walkers"], default=16,
           metavar="K", help="walkers / Markov chains ({allowed}, a multiple of the MPI ranks; "
                             "default 16)"),
    option("--threads", setting="n_threads", rule=RUN_SETTINGS["n_threads"], metavar="K",
           help="threads for the sampling kernels and BLAS ({allowed}; default: all)"),
    option("--out", metavar="FILE", help="write the result (HDF5) to FILE"),
    flag("--overwrite", "replace an existing FILE"),
    option("--plots", metavar="DIR", help="write vmc_energy.png (energy per iteration, exact "
                                          "line) to DIR (an existing figure is replaced only "
                                          "with --overwrite)"),
    flag("--resume", "continue the run of --out FILE from FILE.checkpoint (or extend a finished "
                     "FILE to more --iterations); starts fresh if there is neither; the other "
                     "settings must match"),
)
#: the rows of TFIM that set the run's schedule (vmc.schedule)
TFIM_SCHEDULE = tuple(row for row in TFIM if row.setting in SCHEDULE_SETTINGS)
SYSTEMS = {"trap": TRAP, "tfim": TFIM}
SYSTEM = option("--system", rule=Rule.choice(SYSTEMS), default="trap",
                help="trap: particles in a harmonic trap (default); tfim: the transverse-field "
                     "Ising model")


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "vmc", help="RBM variational Monte Carlo (trapped particles, quantum Ising)",
        description=DESCRIPTION, example=EXAMPLE, func=run)
    # the rules depend on --system: checked after parsing, by the library (_validate)
    add_options(parser, [SYSTEM], check=False)
    for system, table in SYSTEMS.items():
        add_options(parser.add_argument_group(f"--system {system}"), table, check=False)
    add_options(parser, COMMON, check=False)
    _common.add_common_options(parser)


def _resolve_system_options(args) -> None:
    """Refuse options of the other system; fill in this system's defaults."""
    from mccore.errors import InvalidParameterError

    for system, table in SYSTEMS.items():
        mine = system == args.system
        for row in table:
            flag = row.flags[0]
            if not mine and getattr(args, row.dest) is not None:
                raise InvalidParameterError(
                    f"{flag} applies to --system {system}, not to --system {args.system}")
            if mine and getattr(args, row.dest) is None:
                if row.fallback is REQUIRED:
                    raise InvalidParameterError(f"--system {system} needs {flag}")
                setattr(args, row.dest, row.fallback)
    if args.sampler is None:
        args.sampler = "importance" if args.system == "trap" else "metropolis"
    if args.system == "tfim" and args.alpha == "auto":
        args.alpha = 4 if args.symmetric else 1
    if args.iterations is None:
        args.iterations = 200 if args.system == "trap" else 1000
    if args.samples is None:
        args.samples = 10_000 if args.system == "trap" else 1000


def _validate(args) -> None:
    """Every rule of the options, before any file is made: the system's defaults, then the
    library's check of the settings (each by its rule, then across settings)."""
    from mccore.errors import InvalidParameterError

    SYSTEM.rule.check("--system", args.system)
    _resolve_system_options(args)
    if args.resume and args.out is None:
        raise InvalidParameterError("--resume continues the run of --out FILE: give --out")
    try:
        if args.system == "tfim":
            _validate_tfim(args)
        else:
            _validate_trap(args)
    except InvalidParameterError as exc:
        raise flag_message(exc, (*SYSTEMS.values(), COMMON)) from None


def _validate_trap(args) -> None:
    from vmc.trap.runner import check_trap_settings

    check_trap_settings(**library_values(args, TRAP), **library_values(args, COMMON))


def _validate_tfim(args) -> None:
    from mccore.errors import InvalidParameterError
    from mccore.validation import check_memory, check_settings
    from vmc.schedule import check_schedule
    from vmc.spins.lattice import Lattice
    from vmc.spins.runner import tfim_memory_estimate

    common = {k: v for k, v in library_values(args, COMMON).items() if k != "sampler"}
    check_settings({**TFIM_SETTINGS, **RUN_SETTINGS, **SCHEDULE_SETTINGS},
                   **library_values(args, TFIM), **common)
    if args.sampler != "metropolis":
        raise InvalidParameterError(
            f"--sampler must be metropolis for --system tfim, got {args.sampler!r}")
    check_schedule(args.iterations, args.optimizer, diag_shift=args.diag_shift,
                   **library_values(args, TFIM_SCHEDULE))
    n_sites = Lattice(args.lattice, args.size).n_sites
    if args.final_samples is None:
        args.final_samples = tfim_final_samples(n_sites, args.alpha, args.samples)
    check_memory(f"--lattice {args.lattice} --size {args.size} --alpha {args.alpha} "
                 f"--samples {args.samples} --final-samples {args.final_samples} "
                 f"--walkers {args.walkers}",
                 tfim_memory_estimate(n_sites, args.alpha, bool(args.symmetric),
                                      max(args.samples, args.tail_samples or 0),
                                      args.walkers, args.final_samples))


def tfim_final_samples(n_sites: int, alpha: int, samples: int) -> int:
    """The default --final-samples of --system tfim: 100000 (error bars of ~1e-5 relative
    at N = 20, h = 1), at most 5e7 / (N (1 + alpha)) (the final run keeps its
    configurations and look-up tables), at least 4 x --samples."""
    return int(max(4 * samples, min(100_000, 50_000_000 // (n_sites * (1 + alpha)))))


def check_plots_dir(plots, *, overwrite: bool, names=("vmc_energy.png",)) -> Path:
    """Refuse a ``--plots`` folder before any computation: not a folder, parent missing,
    not writable (:func:`mccore.files.check_output_folder`), or a figure of ``names``
    already there without ``--overwrite``."""
    from mccore.errors import OutputExistsError

    plots = _common.check_output_folder(plots, flag="--plots")
    for name in names:
        if (plots / name).exists() and not overwrite:
            raise OutputExistsError(f"figure {plots / name} exists; pass --overwrite to replace it")
    return plots


def plot_energy(result, path) -> Path:
    """Energy and variance of E_L per iteration with the exact line and the final
    estimate (:func:`isingrbm.plots.vmc_energy`, the one plotting module); PNG at
    ``path``, written atomically on its own Agg canvas (the process's matplotlib
    backend is never switched)."""
    import numpy as np

    from isingrbm import plots
    from mccore.files import atomic_path

    h = result.history
    energy = np.asarray(h["energy"], dtype=float)
    variance = np.asarray(h["variance"], dtype=float) if "variance" in h else None
    p = result.parameters
    final = ((result.energy.mean, result.energy.error)
             if energy.size and np.isfinite(result.energy.mean)
             and np.isfinite(result.energy.error) else None)   # plotted right of the last
    if p.get("system") == "tfim":
        label = f"{'symmetric ' if p.get('symmetric') else ''}RBM alpha={p.get('alpha')}"
        title = (f"TFIM {p.get('lattice')} size {p.get('size')}, h = {p.get('field')}, "
                 f"{p.get('optimizer')}")
        unit = "$J = 1$, total"
    else:
        label = f"RBM H={p.get('hidden')}, jastrow={p.get('jastrow')}"
        title = (f"N={p.get('particles')} D={p.get('dims')} omega={p.get('omega')} "
                 f"{p.get('interaction')}, {p.get('optimizer')}")
        unit = r"$\hbar = m = 1$"
    runs = {label: {"iterations": np.arange(1, energy.size + 1), "energy": energy,
                    "variance": variance, "final": final}}
    fig = plots.vmc_energy(runs, exact=result.exact, title=title, unit=unit)
    path = Path(path)
    with atomic_path(path) as tmp:
        plots.save(fig, tmp)
    return path


def run(args) -> int:
    _validate(args)
    from mccore import training
    from mccore.errors import InvalidParameterError
    from vmc.mpi import is_root, world

    comm = world()
    root = is_root(comm)
    out = checkpoint = None
    if args.out is not None:
        out = _common.check_output_path(args.out, overwrite=args.overwrite,
                                        allow_existing=args.resume)
        checkpoint = training.checkpoint_path(out)
        if checkpoint.exists() and not (args.resume or args.overwrite):
            raise InvalidParameterError(
                f"checkpoint {checkpoint} of an unfinished run exists; pass --resume to "
                "continue it or --overwrite to start again")
    plots = None
    if args.plots is not None:
        plots = check_plots_dir(args.plots, overwrite=args.overwrite)
    with contextlib.ExitStack() as stack:
        if out is not None and root:
            stack.enter_context(_common.output_lock(out))
        return _run_locked(args, comm, root, out, checkpoint, plots)


def _resume_source(args, out, checkpoint):
    """The file a --resume continues from: the checkpoint, else a finished --out, else none."""
    if not args.resume or out is None:
        return None
    if checkpoint.exists():
        return checkpoint
    if out.exists():
        return out
    return None


#: what mccore.files.atomic_path names its temporaries: ".NAME." + 8 mkstemp letters + ".tmp"
_TMP_PATTERN = r"\.{name}\.[a-z0-9_]{{8}}\.tmp"


def remove_stale_temporaries(*paths) -> list:
    """Remove the temporaries a killed writer of ``paths`` left beside them.

    Only files named as :func:`mccore.files.atomic_path` names its own
    (``.NAME.xxxxxxxx.tmp``) are removed; the caller holds the output lock,
    so no live writer of these paths owns them. Returns the removed paths.
    """
    import re

    removed = []
    for path in paths:
        path = Path(path)
        pattern = re.compile(_TMP_PATTERN.format(name=re.escape(path.name)))
        folder = path.parent
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if pattern.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
                try:
                    entry.unlink()
                    removed.append(entry)
                except OSError:
                    pass
    return removed


def _run_locked(args, comm, root, out, checkpoint, plots) -> int:
    import vmc
    from mccore.errors import DivergenceError
    from mccore.training import resume_seed
    from vmc.driver import FINISHED

    if root and out is not None:
        remove_stale_temporaries(out, checkpoint)
    source = _resume_source(args, out, checkpoint)
    finished = None
    seed = args.seed
    if source is not None:
        # read only (a refusal leaves nothing behind): a file that is not a VMC result, or
        # a --seed other than the interrupted run's, is refused here, before any work
        previous = vmc.VMCResult.load(source)
        seed = resume_seed(previous.parameters.get("seed"), seed)
        if source == out:
            finished = previous            # extend a finished run
    if args.overwrite and not args.resume and checkpoint is not None and checkpoint.exists() \
            and root:
        checkpoint.unlink()
    if seed is None and source is None:
        seed = _common.resolve_seed(None)
    if comm is not None:
        seed = comm.bcast(seed, root=0)
    if root:
        what = (f"TFIM {args.lattice} size={args.size} h={args.field} alpha={args.alpha}"
                f"{' symmetric' if args.symmetric else ''}" if args.system == "tfim" else
                f"N={args.particles} D={args.dims} omega={args.omega} {args.interaction}")
        _common.info(args, f"isingrbm vmc: {what}, {args.sampler}/{args.optimizer}, "
                           + (f"resuming from {source}" if source is not None else f"seed {seed}"))
    common = dict(optimizer=args.optimizer, n_iterations=args.iterations,
                  n_samples=args.samples, n_final_samples=args.final_samples,
                  learning_rate=args.learning_rate, n_threads=args.threads, rng=seed,
                  progress=root and _common.progress_enabled(args), comm=comm,
                  checkpoint=checkpoint, resume=source is not None, resume_from=out)
    try:
        if args.system == "tfim":
            result = vmc.run_tfim(
                args.lattice, args.size, args.field, alpha=args.alpha,
                symmetric=bool(args.symmetric), shift_schedule=args.shift_schedule,
                diag_shift=args.diag_shift, n_chains=args.walkers, p_global=args.global_flip,
                **library_values(args, TFIM_SCHEDULE), **common)
        else:
            result = vmc.run(
                args.particles, args.dims, omega=args.omega, interaction=args.interaction,
                n_hidden=args.hidden, jastrow=args.jastrow, sampler=args.sampler,
                n_walkers=args.walkers, form=args.form, **common)
    except DivergenceError as exc:
        partial = getattr(exc, "partial_result", None)
        # a finished --out being extended keeps its result (the user's file is not replaced)
        if root and out is not None and partial is not None and finished is None:
            with _common.atomic_output(out) as tmp:
                partial.save(tmp, overwrite=True)
            _common.info(args, f"isingrbm vmc: last good parameters written to {out}")
        raise
    unchanged = (finished is not None and finished.status in FINISHED
                 and args.iterations <= finished.iterations)
    return _finish(args, result, root, out, checkpoint, plots, unchanged=unchanged)


#: exit status of a run that finished but failed a health check (vmc.health)
EXIT_UNHEALTHY = 3


def _finish(args, result, root, out, checkpoint, plots, *, unchanged=False) -> int:
    """Write the result and figure (rank 0), remove the checkpoint, print the summary.

    Exit status: 0 complete, 3 unhealthy (written, with a warning), 130 interrupted.
    ``unchanged``: a finished --out that --resume had nothing to add to is left as it is.
    """
    code = {"complete": 0, "unhealthy": EXIT_UNHEALTHY}.get(result.status, 130)
    if not root:
        return code
    if code == 130:
        import math
        if result.iterations > 0 or math.isfinite(result.energy.mean):
            print(result.summary(), file=sys.stderr)
        # one line even with --quiet: the run did not finish
        print(f"isingrbm vmc: {result.message}; "
              + (f"continue with --resume (checkpoint {checkpoint})"
                 if checkpoint is not None and checkpoint.exists() else "nothing written"),
              file=sys.stderr)
        return 130
    if out is not None and not unchanged:
        with _common.atomic_output(out) as tmp:
            result.save(tmp, overwrite=True)
    if out is not None and checkpoint is not None and checkpoint.exists():
        checkpoint.unlink()
    figure = None
    if plots is not None:
        plots.mkdir(exist_ok=True)
        figure = plot_energy(result, plots / "vmc_energy.png")
    if args.json:
        summary = result.to_dict()
        summary["out"] = None if out is None else str(out)
        summary["plot"] = None if figure is None else str(figure)
        _common.emit_json(summary)
    # the summary is the output: stdout, unless --json owns stdout (then stderr)
    stream = sys.stderr if args.json else sys.stdout
    if not (args.quiet and args.json):
        print(result.summary(), file=stream)
        if out is not None:
            print(f"  result file: {out}" + (" (unchanged: --resume had nothing to add)"
                                            if unchanged else ""), file=stream)
        if figure is not None:
            print(f"  figure: {figure}", file=stream)
    if code == EXIT_UNHEALTHY:
        # one line on stderr even with --quiet and --json: this is not a result
        print(f"isingrbm vmc: warning: {result.message} (exit status {EXIT_UNHEALTHY})",
              file=sys.stderr)
    return code
