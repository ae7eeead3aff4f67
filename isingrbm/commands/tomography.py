"""``isingrbm tomography``: an RBM trial state learned from sz measurements, then refined.

Runs :func:`vmc.spins.tomography.tomography_trial_state` (the physics and
its conventions are in that module's docstring) and writes its result with
:func:`vmc.spins.tomography.save_tomography` (HDF5, format
``isingrbm-tomography``) to a temporary file renamed into place. The
options are read after parsing with the library's rules
(:data:`vmc.spins.tomography.TOMOGRAPHY_SETTINGS`; vmc.spins is too heavy to
import for ``--help``), and every setting, the lattice's size limit and the
memory are checked before any file is made.

Resume: the refinement checkpoints into ``FILE.checkpoint`` (after the fit,
every 50 SR steps, every few minutes and on Ctrl-C or SIGTERM, then exit
130 / 143); ``--resume`` continues it bit for bit, or extends a finished
FILE to more ``--refine-iterations`` (a finished FILE with nothing to add is
left as it is, and the command says so).

MPI: under ``mpiexec -n K`` every rank computes the whole run and rank 0
alone writes and prints. The work is exact sums over at most 2^16 states
(seconds): splitting them over ranks would save little, and the
floating-point sums would then depend on K unless reduced in fixed blocks,
which would change the single-process numbers too. Every rank draws from
the same seed (rank 0's, broadcast) with BLAS on one thread, so K ranks give
the numbers and the file one process gives.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import sys

from mccore.errors import InvalidParameterError, IsingRBMError

from . import _common
from ._params import flag, flag_message, option, read_option, rows

DESCRIPTION = """\
Quantum-state tomography of the transverse-field Ising model H = -sum_<ij>
sz_i sz_j - h sum_i sx_i (Pauli matrices, J = 1, periodic chain of N spins
or L x L square lattice, at most 16 sites: everything is enumerated).
Draws --samples configurations in the sz basis from the exact ground state
|psi_0|^2 (Lanczos), fits an RBM to them (visible units v = (s + 1) / 2;
--training exact: maximum likelihood with the exact gradient by L-BFGS,
cd: contrastive divergence as QuCumber trains), by default on their
histogram averaged over the translations and the global flip, and takes
psi = sqrt(p_RBM) as trial state. Then --refine-iterations steps of
stochastic reconfiguration under H with exact expectation values refine it.
Reported: the fidelity |<psi_0|psi>|^2 and the energy <psi|H|psi> (total)
beside the exact E0, before and after the refinement, and KL(|psi_0|^2 ||
p_RBM); all exact sums over the 2^N states.

Exit status: 0 complete; 130 interrupted (143 on SIGTERM; continue with
--resume); 2 bad input. Under 'mpiexec -n K' every rank computes the same
numbers and rank 0 writes the one FILE."""

EXAMPLE = ("isingrbm tomography --lattice chain --size 10 --field 1 --samples 10000 "
           "--hidden 10 --refine-iterations 300 --learning-rate 0.1 --seed 1 --out tomo.h5")

#: the options; those with a ``setting`` are read after parsing with the rules of
#: :data:`vmc.spins.tomography.TOMOGRAPHY_SETTINGS`; defaults: the library's
OPTIONS = (
    option("--lattice", setting="lattice", required=True, metavar="{chain,square}",
           help="periodic chain of N spins or L x L square lattice (required)"),
    option("--size", setting="size", required=True, metavar="N_or_L",
           help="chain length N in [2, 16] or square side L in [2, 4] (required)"),
    option("--field", setting="field", required=True, metavar="H",
           help="transverse field h in (0, 1e6] (required), J = 1"),
    option("--samples", setting="n_samples", metavar="M",
           help="sz-basis measurements drawn from |psi_0|^2 (>= 10; default 5000)"),
    option("--hidden", setting="n_hidden", metavar="H",
           help="RBM hidden units (>= 1; default one per spin)"),
    option("--training", setting="training", metavar="{exact,cd}",
           help="exact: maximum likelihood with the exact gradient, L-BFGS (default); "
                "cd: contrastive divergence (rbm.BernoulliRBM)"),
    option("--symmetrize", action=argparse.BooleanOptionalAction, default=None,
           help="average the data over the translations and the global flip (default); "
                "--no-symmetrize: the raw samples"),
    option("--fit-iterations", setting="max_iter", metavar="K",
           help="L-BFGS iterations of --training exact (>= 1; default 500)"),
    option("--epochs", setting="n_epochs", metavar="K",
           help="epochs of --training cd (>= 1; default 200)"),
    option("--refine-iterations", setting="n_refine", metavar="K",
           help="SR iterations with exact expectation values after the fit, in all "
                "(>= 0; default 100)"),
    option("--learning-rate", setting="learning_rate", metavar="LR",
           help="SR step (> 0; default 0.05)"),
    option("--diag-shift", setting="diag_shift", metavar="E",
           help="SR diagonal shift (>= 0; default 0.01)"),
    option("--out", required=True, metavar="FILE", help="the result file (HDF5)"),
    flag("--overwrite", "replace an existing FILE (and drop its checkpoint)"),
    flag("--resume", "continue the run of FILE from FILE.checkpoint, or extend a finished FILE "
                     "to more --refine-iterations; starts fresh if there is neither; the other "
                     "settings and the seed must match"),
)


def register(subparsers) -> None:
    _common.add_subcommand(
        subparsers, "tomography",
        help="RBM tomography of the quantum Ising ground state from sz samples, refined by SR",
        description=DESCRIPTION, example=EXAMPLE, func=run, options=OPTIONS)


def parse(args) -> dict:
    """The library's keyword arguments, every rule checked (in the order of the options,
    then across them: sites, memory), with the library's defaults filled in."""
    from vmc.spins.tomography import (
        TOMOGRAPHY_SETTINGS,
        check_tomography_settings,
        tomography_trial_state,
    )

    values = {}
    for row in rows(OPTIONS):
        if row.setting in TOMOGRAPHY_SETTINGS:
            value = read_option(args, row, TOMOGRAPHY_SETTINGS[row.setting])
            if value is not None:
                values[row.setting] = value
    if args.symmetrize is not None:
        values["symmetrize"] = args.symmetrize
    training = values.get("training", "exact")
    for setting, flag_name, other in (("n_epochs", "--epochs", "exact"),
                                      ("max_iter", "--fit-iterations", "cd")):
        if setting in values and training == other:
            raise InvalidParameterError(f"{flag_name} does not apply to --training {training}")
    if args.resume and args.overwrite:
        raise InvalidParameterError("--resume and --overwrite exclude each other; pass one")
    defaults = {name: p.default
                for name, p in inspect.signature(tomography_trial_state).parameters.items()
                if name in TOMOGRAPHY_SETTINGS and p.default is not p.empty}
    try:
        return check_tomography_settings(**(defaults | values))
    except InvalidParameterError as exc:
        raise flag_message(exc, [OPTIONS]) from None


def run(args) -> int:
    from mccore.parallel import launched_rank

    try:
        settings = parse(args)
        out, checkpoint = _common.check_resumable_output(
            args.out, inputs=(), resume=args.resume, overwrite=args.overwrite)
        from vmc.mpi import is_root, world

        comm = world()
        root = is_root(comm)
        with contextlib.ExitStack() as stack:
            if root:
                stack.enter_context(_common.output_lock(out))
            return _run_locked(args, settings, comm, root, out, checkpoint)
    except IsingRBMError:
        if launched_rank() != 0:         # rank 0 reports; the others leave quietly
            return 2
        raise


def _run_locked(args, settings, comm, root, out, checkpoint) -> int:
    from mccore.training import check_resume_settings, resume_seed
    from vmc.spins import Lattice
    from vmc.spins.tomography import (
        load_tomography,
        save_tomography,
        tomography_trial_state,
    )

    from .vmc import remove_stale_temporaries

    if root:
        remove_stale_temporaries(out, checkpoint)
    source = None
    if args.resume:
        source = checkpoint if checkpoint.exists() else out if out.exists() else None
    previous, seed = None, args.seed
    if source is not None:
        previous = load_tomography(source)       # a foreign file is refused here
        seed = resume_seed(previous["settings"].get("seed"), seed)
        check_resume_settings({k: v for k, v in previous["settings"].items()
                               if k not in ("n_refine", "seed")},
                              {k: v for k, v in settings.items() if k != "n_refine"},
                              what=str(source))
        if (source == out and previous["status"] == "complete"
                and previous["iterations"] >= settings["n_refine"]):
            if root:
                _report(args, previous, out, note=f"{out} is already complete "
                        f"({previous['iterations']} refinement iterations); nothing to resume, "
                        "the file is left as it is")
            return 0
    if root and args.overwrite and checkpoint.exists():
        checkpoint.unlink()
    if seed is None:
        seed = _common.resolve_seed(None)
    if comm is not None:
        seed = comm.bcast(seed, root=0)
    lattice = Lattice(settings.pop("lattice"), settings.pop("size"))
    field = settings.pop("field")
    if root:
        _common.info(args, f"isingrbm tomography: TFIM {lattice.describe()} h={field:g}, "
                           f"{settings['n_samples']} samples, {settings['n_hidden']} hidden "
                           f"units, {settings['training']} training, "
                           + (f"resuming from {source}" if source is not None
                              else f"seed {seed}"))
    result = tomography_trial_state(
        lattice, field, **settings, rng=seed, checkpoint=checkpoint if root else None,
        resume_from=previous, progress=root and _common.progress_enabled(args))
    if result["status"] != "complete":
        if root:  # one line even with --quiet: the run did not finish
            print(f"isingrbm tomography: interrupted after {result['iterations']} of "
                  f"{settings['n_refine']} refinement iterations; continue with --resume "
                  f"(checkpoint {checkpoint})", file=sys.stderr)
        return 130
    if not root:
        return 0
    with _common.atomic_output(out) as tmp:
        save_tomography(result, tmp)
    if checkpoint.exists():
        checkpoint.unlink()
    _report(args, result, out)
    return 0


def summary_dict(result: dict, out) -> dict:
    """The ``--json`` summary: fidelities, energies (total, J = 1) beside the exact E0 and
    their relative errors (E - E0) / |E0|, KL (nats), iterations, status, settings."""
    e0 = result["exact"]
    return {
        "status": result["status"], "exact": e0,
        "fidelity": result["fidelity"], "energy": result["energy"],
        "relative_error": (result["energy"] - e0) / abs(e0), "kl": result["kl"],
        "refined_fidelity": result["refined_fidelity"],
        "refined_energy": result["refined_energy"],
        "refined_relative_error": (result["refined_energy"] - e0) / abs(e0),
        "iterations": result["iterations"], "train_iterations": result["train_iterations"],
        "seed": result["settings"]["seed"], "settings": dict(result["settings"]),
        "out": None if out is None else str(out),
    }


def summary_text(result: dict) -> str:
    """A one-screen human summary."""
    s = result["settings"]
    e0 = result["exact"]
    n_sites = result["samples"].shape[1]
    kind = f"chain N={s['size']}" if s["lattice"] == "chain" else f"square {s['size']}x{s['size']}"
    fit = (f"exact likelihood, {result['train_iterations']} L-BFGS iterations"
           if s["training"] == "exact" else f"contrastive divergence, {s['n_epochs']} epochs")

    def line(label, fidelity, energy):
        return (f"  {label}: fidelity {fidelity:.8f}  energy {energy:.10g} "
                f"(relative error {(energy - e0) / abs(e0):.2e})")

    return "\n".join([
        (f"TFIM tomography, {kind}, h = {s['field']:g} (J = 1; energies total; exact sums "
         f"over the 2^{n_sites} states)"),
        f"  data: {s['n_samples']} sz samples"
        + (", averaged over translations and the global flip" if s["symmetrize"] else ""),
        f"  RBM: {s['n_hidden']} hidden units, {fit}, seed {s['seed']}",
        f"  exact E0: {e0:.10g}",
        line("fitted sqrt(p_RBM)", result["fidelity"], result["energy"])
        + f", KL {result['kl']:.2e} nats",
        line(f"after {result['iterations']} SR iterations", result["refined_fidelity"],
             result["refined_energy"]),
    ])


def _report(args, result: dict, out, note: str | None = None) -> None:
    if args.json:
        _common.emit_json(summary_dict(result, out))
    # the summary is the output: stdout, unless --json owns stdout (then stderr)
    stream = sys.stderr if args.json else sys.stdout
    if not (args.quiet and args.json):
        print(summary_text(result), file=stream)
        print(f"  result file: {out}", file=stream)
    if note is not None:
        _common.info(args, f"isingrbm tomography: {note}")
