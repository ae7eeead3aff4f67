"""``isingrbm sample``: draw spin configurations from a trained RBM.

Plain sampling: each configuration is the end of its own block-Gibbs chain
(``--steps`` steps from uniformly random visible units, or with ``--init
data`` from a randomly chosen training configuration; the model's
global-flip moves are included when it was trained with them), so the
samples are independent of each other -- and distributed as the RBM, which
only approximates the Ising Boltzmann distribution.

``--exact``: Metropolis-Hastings chains with the RBM as proposal target the
Ising Boltzmann distribution at the model's temperature exactly
(:mod:`isingrbm.exact_sampling`); the file records the acceptance rate, the
integrated autocorrelation times and the thinning.

Visible units ``v`` become spins ``s = 2 v - 1`` and are written in the
dataset schema with ``source="rbm"`` and the provenance of the model (file,
SHA-256 hash) and of its training data. Outputs: checked before any work,
written to a temporary file and moved into place under an advisory lock; a
symlinked ``--out`` is written through (the link stays); an output that is
the model file itself is refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import _common
from ._params import flag, flag_message, option

DESCRIPTION = """\
Draw N spin configurations from a trained RBM (MODEL, written by 'isingrbm
fit') and write them as a dataset file with source "rbm", at the temperature
the model was trained at (or --temperature for a model without that record).

Without --exact the samples are APPROXIMATE: each ends its own Gibbs chain of
--steps steps from random units, so they are independent of each other, but
they follow the RBM's distribution, which is only an approximation of the
Ising Boltzmann distribution (how far off depends on the model).

With --exact, Metropolis-Hastings chains propose with the RBM (--proposal-steps
Gibbs steps per proposal) and accept with the exact Ising weight, followed by
the symmetry moves (--symmetry-moves: a global flip by default, also a
random lattice translation with 'all') and --local-sweeps single-spin Metropolis
sweeps (which visit the small excitations an RBM proposes too rarely), so
the samples
are exact Boltzmann samples at the model's temperature however good the model
is; the model's quality shows as the acceptance rate and the autocorrelation
time (both recorded, with the thinning that makes samples effectively
independent). The file records the model file, its SHA-256 hash, the training
data's file and hash, and the seed. An --exact run keeps its state in
FILE.checkpoint every few minutes and when interrupted (Ctrl-C, SIGTERM);
--resume continues it to the very samples an uninterrupted run gives."""

EXAMPLE = ("isingrbm sample rbm_T2.269.h5 --samples 10000 --out gen_T2.269.h5 --exact --seed 2")

DEFAULT_STEPS = 1000
DEFAULT_PROPOSAL_STEPS = 5   # isingrbm.exact_sampling.DEFAULT_PROPOSAL_STEPS (no import at startup)
DEFAULT_LOCAL_SWEEPS = 1     # isingrbm.exact_sampling.DEFAULT_LOCAL_SWEEPS
DEFAULT_SYMMETRY_MOVES = "flip"  # isingrbm.exact_sampling.DEFAULT_SYMMETRY_MOVES


OPTIONS = (
    option("model", metavar="MODEL", help="RBM model file written by 'isingrbm fit'"),
    option("--samples", setting="n_samples", type=_common.integer, required=True, metavar="N",
           help="number of configurations (>= 1)"),
    option("--out", required=True, metavar="FILE", help="dataset file to write"),
    flag("--exact", "exact Ising samples: Metropolis-Hastings with the RBM as proposal"),
    option("--proposal-steps", setting="k", type=_common.integer, default=None, metavar="K",
           help="with --exact: block-Gibbs steps per proposal (>= 1; default "
                f"{DEFAULT_PROPOSAL_STEPS})"),
    option("--local-sweeps", setting="local_sweeps", type=_common.integer, metavar="S",
           help="with --exact: Metropolis sweeps of the Ising model after every proposal "
                f"(>= 0; default {DEFAULT_LOCAL_SWEEPS}; 0: the RBM proposal alone)"),
    option("--symmetry-moves", choices=("flip", "all", "none"), default=None,
           help="with --exact: exact moves between proposals: 'flip' a global "
                "spin flip with probability 1/2 (default), 'all' that and a "
                "random lattice translation, 'none' neither"),
    option("--chains", setting="n_chains", type=_common.integer, default=None, metavar="C",
           help="with --exact: chains run together (>= 1; default "
                "min(64, max(1, N // 32)))"),
    option("--steps", type=_common.integer, default=None,
           help="without --exact: block-Gibbs steps per chain (>= 1; default "
                f"{DEFAULT_STEPS})"),
    option("--init", choices=("random", "data"), default=None,
           help="without --exact: chain starts: uniformly random units "
                "(default), or randomly "
                "chosen training configurations (the data file recorded in "
                "MODEL, checked against its hash) -- helps at low T and large L, "
                "where chains from random starts order slowly"),
    option("--temperature", type=_common.number, default=None, metavar="T",
           help="temperature to record if the model file has none (k_B = J = 1)"),
    flag("--resume", "with --exact: continue an interrupted run from FILE.checkpoint"),
    flag("--overwrite", "replace an existing FILE"),
)


def register(subparsers) -> None:
    _common.add_subcommand(
        subparsers, "sample", help="draw spin configurations from a trained RBM",
        description=DESCRIPTION, example=EXAMPLE, func=run, options=OPTIONS)


def _check_memory(args, n_visible: int, n_hidden: int, k: int, n_chains: int) -> None:
    """Refuse work that cannot fit in memory, naming the flag that drives it.

    Plain sampling runs every chain at once (float64 units and hidden
    probabilities, uint8 result, int8 spins with energy and magnetization);
    --exact: :func:`isingrbm.exact_state.memory_estimate`.
    """
    from mccore.validation import check_memory

    n = float(args.samples)
    if not args.exact:
        check_memory(f"--samples {args.samples}",
                     n * (n_visible + 16) + n * (3 * 8 * n_visible + 2 * 8 * n_hidden + n_visible))
        return
    from isingrbm.exact_state import memory_estimate

    need = memory_estimate(args.samples, n_visible, n_hidden, k=k, n_chains=n_chains)
    check_memory(f"--samples {args.samples}", need["samples"])
    check_memory(f"--chains {n_chains}", need["chains"])
    check_memory(f"--proposal-steps {k} with {n_chains} chains", need["proposal"])
    check_memory("sample --exact with these settings", need["total"])


def _check_flags(args) -> int | None:
    """Every flag's range, before any file is read; returns --proposal-steps (or None).

    The ranges of the --exact flags are the rules of the exact sampler
    (:data:`isingrbm.exact_sampling.EXACT_SETTINGS`), in messages naming the flags.
    """
    from mccore.errors import InvalidParameterError
    from mccore.validation import COUNT

    COUNT.check("--samples", args.samples)
    if not args.exact:
        for flag, value in (("--proposal-steps", args.proposal_steps), ("--chains", args.chains),
                            ("--local-sweeps", args.local_sweeps),
                            ("--symmetry-moves", args.symmetry_moves),
                            ("--resume", args.resume or None)):
            if value is not None:
                shown = "" if value is True else f" {value}"
                raise InvalidParameterError(
                    f"{flag} must be given only with --exact, got {flag}{shown}")
        args.steps = DEFAULT_STEPS if args.steps is None else args.steps
        args.init = "random" if args.init is None else args.init
        COUNT.check("--steps", args.steps)
        return None
    if args.steps is not None:
        raise InvalidParameterError(
            "--steps must not be given with --exact (use --proposal-steps K), "
            f"got --steps {args.steps}")
    if args.init is not None:
        raise InvalidParameterError(
            f"--init must not be given with --exact (chains start at random), got {args.init}")
    if args.resume and args.overwrite:
        raise InvalidParameterError("--resume and --overwrite exclude each other; pass one")
    from isingrbm.exact_sampling import EXACT_SETTINGS
    from mccore.validation import check_settings

    k = DEFAULT_PROPOSAL_STEPS if args.proposal_steps is None else args.proposal_steps
    if args.symmetry_moves is None:
        args.symmetry_moves = DEFAULT_SYMMETRY_MOVES
    if args.local_sweeps is None:
        args.local_sweeps = DEFAULT_LOCAL_SWEEPS
    try:
        check_settings(EXACT_SETTINGS, k=k, n_chains=args.chains,
                       local_sweeps=args.local_sweeps)
    except InvalidParameterError as exc:
        raise flag_message(exc, [OPTIONS]) from None
    return k


def run(args) -> int:
    import os

    from isingrbm import pipeline

    k = _check_flags(args)
    model_path = _common.check_input_file(args.model)
    out, checkpoint = _common.check_resumable_output(
        args.out, inputs=[model_path], resume=args.resume, overwrite=args.overwrite,
        checkpointed=args.exact)

    # FileFormatError names the file if it is not a model
    model, metadata, L = pipeline.load_sampler(model_path,
                                               purpose="--exact" if args.exact else "")
    T = pipeline.sample_temperature(metadata, model_path, args.temperature)
    n_visible, n_hidden = (int(n) for n in model.weights.shape)
    if args.exact:
        from ising.montecarlo import default_n_chains
        n_chains = default_n_chains(args.samples) if args.chains is None else args.chains
    else:
        n_chains = args.samples
    _check_memory(args, n_visible, n_hidden, k, n_chains)
    target = Path(os.path.realpath(out)) if out.is_symlink() else out   # write through a link
    if not (args.resume and out.exists()):
        pipeline.check_disk_space(target, args.samples, n_visible)
    if not args.exact and args.init == "data":
        pipeline.initial_units(metadata, model_path)     # refuse before any work

    if args.exact:
        from isingrbm.exact_state import read_checkpoint

        with _common.output_lock(target), _common.output_lock(checkpoint):
            if args.resume and out.exists():
                return _finished(args, out, checkpoint, model_path, n_chains, k)
            seed = _exact_seed(args, checkpoint)
            if args.overwrite and checkpoint.exists():
                read_checkpoint(checkpoint)    # only our own checkpoint is removed
                checkpoint.unlink()
            result = _sample_exact(args, model, model_path, metadata, L, T, k, n_chains, seed,
                                   target, checkpoint)
        if result is None:
            return 130
    else:
        seed = _common.resolve_seed(args.seed)
        _common.info(args, f"isingrbm sample: {args.samples} APPROXIMATE samples (the RBM's "
                           f"own distribution) from {model_path.name} (L = {L}, T = {T:g}, "
                           f"{n_hidden} hidden), {args.steps} Gibbs steps each from "
                           f"{args.init} starts, seed {seed}; --exact gives exact samples")
        with _common.output_lock(target):    # held for the whole run, as every writer does
            result = pipeline.sample_rbm(model_path, n_samples=args.samples, out=out,
                                         seed=seed, n_steps=args.steps, init=args.init,
                                         temperature=T, overwrite=args.overwrite, model=model,
                                         metadata=metadata, lock=False)
    summary = {"out": str(out), "T": T, "L": L, "n_samples": int(result.spins.shape[0]),
               "seed": int(result.seed), "seconds": round(result.seconds, 3),
               "fraction_positive_magnetization": result.fraction_positive_magnetization,
               **result.provenance}
    _common.info(args, f"isingrbm sample: wrote {out} in {result.seconds:.1f} s "
                       f"(fraction with m > 0: {summary['fraction_positive_magnetization']:.3f})")
    if args.json:
        _common.emit_json(summary)
    return 0


def _exact_seed(args, checkpoint: Path) -> int:
    """The seed of an --exact run: the interrupted run's when resuming."""
    from isingrbm.exact_sampling import checkpoint_seed
    from mccore.training import resume_seed

    if args.resume and checkpoint.exists():
        # FileFormatError names a foreign file
        return resume_seed(checkpoint_seed(checkpoint), args.seed)
    if args.resume:
        _common.info(args, f"isingrbm sample: no checkpoint {checkpoint.name} to resume; "
                           "starting afresh")
    return _common.resolve_seed(args.seed)


def _finished(args, out: Path, checkpoint: Path, model_path: Path, n_chains: int,
              k: int) -> int:
    """``--resume`` on an existing FILE: complete if it is this run's result, else refused.

    A run killed between writing FILE and removing its checkpoint leaves both;
    the checkpoint is then removed. FILE is not touched.
    """
    import ising
    from isingrbm import pipeline
    from isingrbm.exact_state import read_checkpoint
    from mccore.errors import OutputExistsError

    dataset = ising.load(out)          # FileFormatError names the file if it is not a dataset
    attrs = dataset.ensembles[0].attrs if len(dataset.ensembles) == 1 else {}
    wanted = {"model_hash": pipeline.file_hash(model_path), "n_target": args.samples,
              "algorithm": "rbm-metropolis-hastings", "proposal_steps": k,
              "n_chains": n_chains, "local_sweeps": args.local_sweeps}
    if "symmetry_moves" in attrs:          # files written before the flag existed lack it
        wanted["symmetry_moves"] = args.symmetry_moves
    if args.seed is not None:
        wanted["seed"] = int(args.seed)
    differences = [f"{key} {attrs.get(key)!r} != {value!r}" for key, value in wanted.items()
                   if attrs.get(key) != value]
    if differences:
        raise OutputExistsError(
            f"output {out} holds the samples of another run ({'; '.join(differences)}); "
            "pass --overwrite to sample again or choose another --out")
    tidied = checkpoint.exists()
    if tidied:
        read_checkpoint(checkpoint)            # only our own checkpoint is removed
        checkpoint.unlink()
    _common.info(args, f"isingrbm sample: {out} is complete ({args.samples} samples, seed "
                       f"{attrs.get('seed')}); nothing to resume"
                       + (f"; removed the leftover checkpoint {checkpoint.name}" if tidied else ""))
    if args.json:
        _common.emit_json({"out": str(out), "complete": True, "seed": attrs.get("seed"),
                           "n_samples": args.samples, "removed_checkpoint": tidied})
    return 0


def _sample_exact(args, model, model_path, metadata, L, T, k, n_chains, seed, target,
                  checkpoint):
    """Exact samples written to ``target`` (the caller holds the locks); None if interrupted."""
    import warnings

    from ising.store import write_generated
    from isingrbm import pipeline
    from isingrbm.exact_sampling import exact_samples
    from mccore.errors import IsingRBMWarning

    resuming = args.resume and checkpoint.exists()
    _common.info(args, f"isingrbm sample: {'resuming ' if resuming else ''}{args.samples} exact "
                       f"samples at T = {T:g} (L = {L}) by Metropolis-Hastings with "
                       f"{model_path.name} ({model.n_hidden} hidden) as proposal, {k} Gibbs "
                       f"steps per proposal, {n_chains} chains, seed {seed}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IsingRBMWarning)
        try:
            result = exact_samples(model, args.samples, T=T, k=k, n_chains=n_chains, rng=seed,
                                   local_sweeps=args.local_sweeps,
                                   symmetry_moves=args.symmetry_moves, checkpoint=checkpoint,
                                   resume=args.resume,
                                   progress=_common.progress_enabled(args))
        except KeyboardInterrupt:
            kept = (f"continue with --resume (checkpoint {checkpoint.name} kept)"
                    if checkpoint.exists() else "nothing was kept (it had not started)")
            print(f"isingrbm sample: interrupted; {kept}", file=sys.stderr)
            return None
    for w in caught:
        if issubclass(w.category, IsingRBMWarning):
            _common.info(args, f"isingrbm sample: warning: {' '.join(str(w.message).split())}")
    tau = result.tau_int
    _common.info(args, f"isingrbm sample: acceptance {result.acceptance_rate:.3f}, tau_int "
                       f"E {tau['energy']:.2f} / |M| {tau['abs_magnetization']:.2f} "
                       f"proposals, thinning {result.thinning}, equilibration "
                       f"{result.equilibration_proposals} proposals")
    provenance = pipeline.sample_provenance(model_path, model, metadata, result.provenance())
    write_generated(target, result.spins, T=T, source="rbm", provenance=provenance,
                    seed=seed, overwrite=args.overwrite or args.resume)
    checkpoint.unlink(missing_ok=True)
    return pipeline.SampleResult(spins=result.spins, path=Path(args.out), temperature=T, L=L,
                                 seed=int(seed), provenance=provenance, seconds=result.seconds)
