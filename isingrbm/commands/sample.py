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

from pathlib import Path

from . import _common

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
--local-sweeps single-spin Metropolis sweeps (which visit the small
excitations an RBM proposes too rarely), so the samples
are exact Boltzmann samples at the model's temperature however good the model
is; the model's quality shows as the acceptance rate and the autocorrelation
time (both recorded, with the thinning that makes samples effectively
independent). The file records the model file, its SHA-256 hash, the training
data's file and hash, and the seed."""

EXAMPLE = ("isingrbm sample rbm_T2.269.h5 --samples 10000 --out gen_T2.269.h5 --exact --seed 2")

DEFAULT_STEPS = 1000
DEFAULT_PROPOSAL_STEPS = 5   # isingrbm.exact_sampling.DEFAULT_PROPOSAL_STEPS (no import at startup)
DEFAULT_LOCAL_SWEEPS = 1     # isingrbm.exact_sampling.DEFAULT_LOCAL_SWEEPS


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "sample", help="draw spin configurations from a trained RBM",
        description=DESCRIPTION, example=EXAMPLE, func=run)
    parser.add_argument("model", metavar="MODEL", help="RBM model file written by 'isingrbm fit'")
    parser.add_argument("--samples", type=_common.integer, required=True, metavar="N",
                        help="number of configurations (>= 1)")
    parser.add_argument("--out", required=True, metavar="FILE", help="dataset file to write")
    parser.add_argument("--exact", action="store_true",
                        help="exact Ising samples: Metropolis-Hastings with the RBM as proposal")
    parser.add_argument("--proposal-steps", type=_common.integer, default=None, metavar="K",
                        help="with --exact: block-Gibbs steps per proposal (>= 1; default "
                             f"{DEFAULT_PROPOSAL_STEPS})")
    parser.add_argument("--local-sweeps", type=_common.integer, default=None, metavar="S",
                        help="with --exact: Metropolis sweeps of the Ising model after every "
                             f"proposal (>= 0; default {DEFAULT_LOCAL_SWEEPS}; 0: the RBM "
                             "proposal alone)")
    parser.add_argument("--chains", type=_common.integer, default=None, metavar="C",
                        help="with --exact: chains run together (>= 1; default "
                             "min(64, max(1, N // 32)))")
    parser.add_argument("--steps", type=_common.integer, default=None,
                        help="without --exact: block-Gibbs steps per chain (>= 1; default "
                             f"{DEFAULT_STEPS})")
    parser.add_argument("--init", choices=("random", "data"), default=None,
                        help="without --exact: chain starts: uniformly random units "
                             "(default), or randomly "
                             "chosen training configurations (the data file recorded in "
                             "MODEL, checked against its hash) -- helps at low T and large L, "
                             "where chains from random starts order slowly")
    parser.add_argument("--temperature", type=_common.number, default=None, metavar="T",
                        help="temperature to record if the model file has none (k_B = J = 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    _common.add_common_options(parser)


def file_hash(path) -> str:
    """SHA-256 of a file's bytes (:func:`isingrbm.pipeline.file_hash`)."""
    from isingrbm.pipeline import file_hash as pipeline_file_hash
    return pipeline_file_hash(path)


def _memory_estimate(n_samples: int, n_visible: int, n_hidden: int, exact: bool,
                     n_chains: int) -> float:
    """Bytes the sampling needs at its peak (floats, so huge counts never overflow)."""
    n = float(n_samples)
    stored = n * (n_visible + 16)                   # int8 spins + energy, magnetization
    if exact:
        return stored + 4.0 * n_chains * (n_visible + n_hidden) * 8 + 64 * 2**20
    # plain: every chain at once, float64 units and hidden probabilities, uint8 result
    return stored + n * (3 * 8 * n_visible + 2 * 8 * n_hidden + n_visible)


def _check_disk_space(out: Path, n_samples: int, n_visible: int) -> None:
    """Refuse up front where the dataset cannot fit (the store's own rule:
    twice the uncompressed rows plus 1 MiB)."""
    import shutil

    try:
        from ising.store import DiskFullError

        def refusal(message):
            return DiskFullError(message, out)
    except ImportError:  # an ising without DiskFullError: the same one line
        from mccore.errors import InvalidParameterError as refusal

    folder = out.parent if str(out.parent) else Path(".")
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    needed = 2 * n_samples * (n_visible + 16) + (1 << 20)
    if free < needed:
        message = (f"No space left on device for {out} ({free} bytes free, {n_samples} "
                   f"samples need about {needed})")
        raise refusal(message)


def run(args) -> int:
    import os

    from isingrbm import pipeline
    from mccore.errors import InvalidParameterError
    from mccore.validation import check_memory

    if args.samples < 1:
        raise InvalidParameterError(f"--samples must be an integer >= 1, got {args.samples}")
    if args.exact:
        if args.steps is not None:
            raise InvalidParameterError(
                "--steps must not be given with --exact (use --proposal-steps K), "
                f"got --steps {args.steps}")
        if args.init is not None:
            raise InvalidParameterError(
                f"--init must not be given with --exact (chains start at random), got {args.init}")
        k = DEFAULT_PROPOSAL_STEPS if args.proposal_steps is None else args.proposal_steps
        if k < 1:
            raise InvalidParameterError(f"--proposal-steps must be an integer >= 1, got {k}")
        if args.chains is not None and args.chains < 1:
            raise InvalidParameterError(f"--chains must be an integer >= 1, got {args.chains}")
        if args.local_sweeps is None:
            args.local_sweeps = DEFAULT_LOCAL_SWEEPS
        elif args.local_sweeps < 0:
            raise InvalidParameterError(
                f"--local-sweeps must be an integer >= 0, got {args.local_sweeps}")
    else:
        for flag, value in (("--proposal-steps", args.proposal_steps), ("--chains", args.chains),
                            ("--local-sweeps", args.local_sweeps)):
            if value is not None:
                raise InvalidParameterError(
                    f"{flag} must be given only with --exact, got {flag} {value}")
        args.steps = DEFAULT_STEPS if args.steps is None else args.steps
        args.init = "random" if args.init is None else args.init
        if args.steps < 1:
            raise InvalidParameterError(f"--steps must be an integer >= 1, got {args.steps}")
    model_path = _common.check_input_file(args.model)
    out = _common.check_output_path(args.out, overwrite=args.overwrite, inputs=[model_path])

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
    check_memory(f"--samples {args.samples}",
                 _memory_estimate(args.samples, n_visible, n_hidden, args.exact, n_chains))
    target = Path(os.path.realpath(out)) if out.is_symlink() else out   # write through a link
    _check_disk_space(target, args.samples, n_visible)
    if not args.exact and args.init == "data":
        pipeline.initial_units(metadata, model_path)     # refuse before any work

    seed = _common.resolve_seed(args.seed)
    if args.exact:
        result = _sample_exact(args, model, model_path, metadata, L, T, k, n_chains, seed,
                               target)
    else:
        _common.info(args, f"isingrbm sample: {args.samples} APPROXIMATE samples (the RBM's "
                           f"own distribution) from {model_path.name} (L = {L}, T = {T:g}, "
                           f"{n_hidden} hidden), {args.steps} Gibbs steps each from "
                           f"{args.init} starts, seed {seed}; --exact gives exact samples")
        result = pipeline.sample_rbm(model_path, n_samples=args.samples, out=out, seed=seed,
                                     n_steps=args.steps, init=args.init, temperature=T,
                                     overwrite=args.overwrite, model=model, metadata=metadata)
    summary = {"out": str(out), "T": T, "L": L, "n_samples": int(result.spins.shape[0]),
               "seed": int(seed), "seconds": round(result.seconds, 3),
               "fraction_positive_magnetization": result.fraction_positive_magnetization,
               **result.provenance}
    _common.info(args, f"isingrbm sample: wrote {out} in {result.seconds:.1f} s "
                       f"(fraction with m > 0: {summary['fraction_positive_magnetization']:.3f})")
    if args.json:
        _common.emit_json(summary)
    return 0


def _sample_exact(args, model, model_path, metadata, L, T, k, n_chains, seed, target):
    import warnings

    from ising.store import write_generated
    from isingrbm import pipeline
    from isingrbm.exact_sampling import exact_samples
    from mccore.errors import IsingRBMWarning

    _common.info(args, f"isingrbm sample: {args.samples} exact samples at T = {T:g} (L = {L}) "
                       f"by Metropolis-Hastings with {model_path.name} ({model.n_hidden} hidden) "
                       f"as proposal, {k} Gibbs steps per proposal, {n_chains} chains, "
                       f"seed {seed}")
    with _common.output_lock(target):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IsingRBMWarning)
            result = exact_samples(model, args.samples, T=T, k=k, n_chains=n_chains, rng=seed,
                                   local_sweeps=args.local_sweeps)
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
                        seed=seed, overwrite=args.overwrite)
    return pipeline.SampleResult(spins=result.spins, path=Path(args.out), temperature=T, L=L,
                                 seed=int(seed), provenance=provenance, seconds=result.seconds)
