"""``isingrbm fit``: train a Bernoulli RBM on the spins of one temperature.

The spins ``s`` in {-1, +1} of the chosen temperature of a Monte Carlo
dataset become visible units ``v = (s + 1) / 2`` (row-major, ``L*L`` units)
and train an :class:`rbm.BernoulliRBM`. Every training setting left out takes
the estimator's default. The model file records the provenance of its data
(data file, temperature, phase, L, data hash), the seed and the command.
"""

from __future__ import annotations

import sys
from pathlib import Path

from isingrbm import pipeline
from mccore.version import software_version

from . import _common
from ._params import exclusive, flag, flag_message, library_values, option

DESCRIPTION = """\
Train a Bernoulli RBM on the Monte Carlo spins of one temperature of DATA and
write it to a model file. Choose the temperature with --temperature T (must be
in DATA) or --phase (the temperature of DATA closest to the phase's centre).
Training settings left out take the defaults of rbm.BernoulliRBM. An
interrupted run keeps a checkpoint beside MODEL (MODEL.checkpoint) and
continues with --resume. Conventions: k_B = J = 1; visible unit v = (s + 1)/2."""

#: The largest --k: beyond it an update is no longer contrastive divergence but a long
#: chain (and a mistyped 1e12 would run for ever between two checkpoints).
MAX_K = 10_000

EXAMPLE = ("isingrbm fit data.h5 --temperature 2.269 --hidden 64 --out rbm_T2.269.h5 "
           "--seed 1")


OPTIONS = (
    option("data", metavar="DATA", help="Monte Carlo dataset file (HDF5)"),
    exclusive(
        option("--temperature", type=_common.number, metavar="T",
               help="temperature of DATA to train on (k_B = J = 1)"),
        option("--phase", choices=("ordered", "critical", "disordered"),
               help="train on the temperature of DATA closest to this phase's centre"),
        required=True),
    option("--hidden", setting="n_hidden", type=_common.integer, required=True, metavar="H",
           help="number of hidden units (>= 1)"),
    option("--out", required=True, metavar="MODEL", help="model file to write"),
    option("--method", setting="method", choices=("cd", "pcd", "pt"),
           help="negative phase: CD-k, persistent CD or parallel tempering "
                "(default: the estimator's)"),
    option("--epochs", setting="n_epochs", type=_common.integer, help="training epochs (>= 1)"),
    option("--learning-rate", setting="learning_rate", type=_common.number, help="learning rate (> 0)"),
    option("--batch-size", setting="batch_size", type=_common.integer, help="minibatch size (>= 1)"),
    option("--k", setting="k", type=_common.integer,
           help=f"Gibbs steps per update, the k of CD-k/PCD-k (1 to {MAX_K})"),
    option("--augment", type=_common.integer, default=1, metavar="K",
           help="train on K images of every configuration under random symmetries of the "
                "periodic lattice (translations, rotations, reflections; exact symmetries of "
                "the Ising distribution, against overfitting); 1: off (default: %(default)s)"),
    flag("--flip-augment", "also train on the globally flipped spins (Z2 symmetric model data: "
                           "+ and - magnetized states in equal measure)", setting="flip_augment"),
    flag("--translation-tied", "tie the RBM's parameters under the translations of the periodic "
                               "L x L lattice of DATA (rbm.BernoulliRBM's translation_tied: "
                               "--hidden must be a multiple of L^2, alpha filters per site; "
                               "the periodic Ising model is exactly such an RBM with alpha = 2)"),
    flag("--resume", "continue an interrupted run from MODEL.checkpoint"),
    flag("--overwrite", "replace an existing MODEL"),
)


def register(subparsers) -> None:
    _common.add_subcommand(
        subparsers, "fit", help="train an RBM on the spins of one temperature",
        description=DESCRIPTION, example=EXAMPLE, func=run, options=OPTIONS)


#: Where an unfinished run keeps its training state: ``MODEL.checkpoint``.
checkpoint_path = pipeline.checkpoint_path


def _check_settings(args) -> dict:
    """The estimator's settings from the flags, checked by the estimator's own rules
    (:meth:`rbm.BernoulliRBM.check_hyperparameters`, its messages naming the flags), then
    the command's: at least one epoch, --k at most :data:`MAX_K`, --augment >= 1, T > 0."""
    from mccore.errors import InvalidParameterError
    from mccore.validation import check_float, check_int
    from rbm import BernoulliRBM

    given = library_values(args, OPTIONS, given=True)
    try:
        BernoulliRBM.check_hyperparameters(**given)
    except InvalidParameterError as exc:
        raise flag_message(exc, [OPTIONS]) from None
    check_int("--epochs", args.epochs, minimum=1, allow_none=True)
    check_int("--k", args.k, minimum=1, maximum=MAX_K, allow_none=True)
    check_int("--augment", args.augment, minimum=1)
    check_float("--temperature", args.temperature, minimum=0, strict_min=True, allow_none=True)
    return given


#: settings compared when --resume meets a finished MODEL (those that define the model)
_DEFINING = ("n_hidden", "method", "k", "learning_rate", "batch_size", "n_epochs",
             "flip_augment", "translation_tied")


def _tie(args, settings: dict, ensemble) -> dict:
    """With --translation-tied: ``translation_tied = (L, L)`` of the data, checked by the
    estimator's rule (--hidden a multiple of L^2), its message naming the flags."""
    from mccore.errors import InvalidParameterError
    from rbm import BernoulliRBM

    if not args.translation_tied:
        return settings
    L = int(ensemble.L)
    settings = {**settings, "translation_tied": (L, L)}
    try:
        BernoulliRBM.check_hyperparameters(**settings)
    except InvalidParameterError as exc:
        message = str(flag_message(exc, [OPTIONS]))
        raise InvalidParameterError(message.replace(f"translation_tied {(L, L)}",
                                                    f"--translation-tied (L = {L})")) from None
    return settings


def _check_size(args, settings: dict, ensemble) -> dict:
    """Refuse sizes that cannot fit in memory; clip the batch size to the data.

    Estimates (bytes), ``N = L*L`` visible and ``H`` hidden units: the
    parameters with their gradient, optimizer moments, running average and
    checkpoint copy, ``6 * 8 * (N H + N + H)``, plus, when the per-epoch
    monitor computes log Z exactly (``min(N, H) <= 25``), its enumeration
    chunks of ``2^14`` states, ``3 * 8 * 2^min(14, min(N, H)) * max(N, H)``;
    the training rows with their symmetry images, ``2 * n * K * N`` (int8
    spins and uint8 units, doubled by --flip-augment); a minibatch in
    float64, ``4 * 8 * B * (N + H)``.
    """
    from mccore.validation import check_memory

    settings = dict(settings)
    n_visible = int(ensemble.L) ** 2
    n_hidden = int(settings["n_hidden"])
    rows = int(ensemble.n_samples) * int(args.augment)
    flip = 2 if args.flip_augment else 1
    model_bytes = 6.0 * 8 * (n_visible * n_hidden + n_visible + n_hidden)
    small, large = min(n_visible, n_hidden), max(n_visible, n_hidden)
    if small <= 25:
        model_bytes += 3.0 * 8 * 2 ** min(14, small) * large
    check_memory(f"--hidden {n_hidden}", model_bytes)
    check_memory(f"--augment {args.augment}", 2.0 * rows * n_visible * flip)
    batch = settings.get("batch_size")
    if batch is not None and batch > rows * flip:
        _common.info(args, f"isingrbm fit: --batch-size {batch} is larger than the "
                           f"{rows * flip} training rows; using {rows * flip}")
        settings["batch_size"] = batch = rows * flip
    if batch is not None:
        check_memory(f"--batch-size {batch}", 4.0 * 8 * batch * (n_visible + n_hidden))
    check_memory("fit with these settings",
                 model_bytes + 2.0 * rows * n_visible * flip
                 + 4.0 * 8 * (batch or 0) * (n_visible + n_hidden))
    return settings


def _finished(args, out: Path, checkpoint: Path, settings: dict, X, ensemble) -> int:
    """``--resume`` on an existing MODEL: the run is complete if MODEL is its result.

    A run killed between writing MODEL and removing its checkpoint leaves
    both; MODEL is then complete and the checkpoint is removed. A MODEL
    trained with other settings, data or seed is refused (``--overwrite``
    trains again).
    """
    import rbm
    from mccore.errors import OutputExistsError
    from rbm.bernoulli import data_hash

    finished = rbm.load(out)         # FileFormatError names the file if it is not a model
    meta = dict(getattr(finished, "metadata_", {}) or {})
    requested = rbm.BernoulliRBM(**settings)
    differences = [f"{name} {getattr(finished, name, None)!r} != {getattr(requested, name, None)!r}"
                   for name in _DEFINING
                   if getattr(finished, name, None) != getattr(requested, name, None)]
    for key, wanted in (("data_hash", data_hash(X)), ("temperature", float(ensemble.T)),
                        ("symmetry_images", int(args.augment)),
                        ("seed", None if args.seed is None else int(args.seed))):
        if wanted is not None and meta.get(key) != wanted:
            differences.append(f"{key} {meta.get(key)!r} != {wanted!r}")
    if differences:
        raise OutputExistsError(
            f"output {out} is a finished model of another run ({'; '.join(differences)}); "
            "pass --overwrite to train again or choose another --out")
    tidied = checkpoint.exists()
    if tidied:
        rbm.load(checkpoint)           # only our own checkpoint is removed (else one line)
        checkpoint.unlink()
    epochs = int(getattr(finished, "epochs_done_", 0))
    _common.info(args, f"isingrbm fit: {out} is complete ({epochs} epochs, seed "
                       f"{meta.get('seed')}); nothing to resume"
                       + (f"; removed the leftover checkpoint {checkpoint.name}" if tidied else ""))
    if args.json:
        _common.emit_json({"model": str(out), **meta, "complete": True,
                           "n_hidden": int(finished.n_hidden), "epochs_done": epochs,
                           "removed_checkpoint": tidied})
    return 0


def run(args) -> int:
    from ising.lattice import spins_to_visible
    from mccore.errors import OutputExistsError

    settings = _check_settings(args)
    data_path = _common.check_input_file(args.data)
    out = Path(args.out)
    checkpoint = checkpoint_path(out)
    # --resume accepts an existing MODEL: a finished run is reported complete (and a
    # checkpoint left by a run killed after writing MODEL is tidied away) below
    if out.exists() and checkpoint.exists() and not (args.resume or args.overwrite):
        raise OutputExistsError(
            f"output {out} exists and so does the checkpoint {checkpoint.name} of its run; "
            "pass --resume to finish the run or --overwrite to train again")
    _common.check_resumable_output(out, inputs=[data_path], resume=args.resume,
                                   overwrite=args.overwrite)

    # FileFormatError names the file if it is not a dataset
    _, ensemble = pipeline.training_data(data_path, temperature=args.temperature,
                                         phase=args.phase)
    settings = _check_size(args, _tie(args, settings, ensemble), ensemble)

    X = spins_to_visible(ensemble.spins)
    # every writer holds the lock of its output and its checkpoint: a second run on the
    # same MODEL (--overwrite, or --resume of a running job) is refused, not run beside it
    with _common.output_lock(_common.output_target(out)), _common.output_lock(checkpoint):
        return _fit_locked(args, out, checkpoint, settings, X, ensemble, data_path)


def _fit_locked(args, out: Path, checkpoint: Path, settings: dict, X, ensemble,
                data_path: Path) -> int:
    import numpy as np

    import rbm

    if args.resume and not args.overwrite and out.exists():
        return _finished(args, out, checkpoint, settings, X, ensemble)

    resuming = args.resume and checkpoint.exists()
    seed = args.seed
    if resuming:
        # the interrupted run's seed governs (its RNG state is in the checkpoint)
        seed = pipeline.resume_seed(checkpoint, seed)
    elif args.resume:
        _common.info(args, f"isingrbm fit: no checkpoint {checkpoint.name} to resume; "
                           "starting afresh")
    seed = pipeline.resolve_seed(seed)
    if args.overwrite and checkpoint.exists() and not args.resume:
        rbm.load(checkpoint)           # only our own checkpoint is removed (else one line)
        checkpoint.unlink()
    described = rbm.BernoulliRBM(**settings)
    _common.info(args, f"isingrbm fit: {data_path.name}, T = {ensemble.T:g} ({ensemble.phase}), "
                       f"L = {ensemble.L}, {ensemble.n_samples} samples"
                       + (f" x {args.augment} symmetry images" if args.augment > 1 else "")
                       + f" -> {described.n_hidden} hidden units, method {described.method}, "
                       f"{described.n_epochs} epochs, seed {seed}")
    fitted = pipeline.fit_rbm(data_path, ensemble, settings, out=out, seed=seed,
                              augment=args.augment, resume=args.resume,
                              progress=_common.progress_enabled(args))
    model, metadata, seconds = fitted.model, fitted.metadata, fitted.seconds
    if fitted.interrupted:
        # Ctrl-C: the training loop saved a checkpoint of the last completed epoch
        kept = (f"continue with --resume (checkpoint {checkpoint.name} kept)"
                if checkpoint.exists() else "no epoch was complete: nothing to resume")
        print(f"isingrbm fit: interrupted after {int(model.epochs_done_)} of "
              f"{int(model.n_epochs)} epochs; {kept}", file=sys.stderr)
        return 130

    history = getattr(model, "history_", {}) or {}
    last = {k: _last(v) for k, v in history.items() if k != "epoch"}
    _common.info(args, f"isingrbm fit: wrote {out} in {seconds:.1f} s"
                       + "".join(f"; {k} {v:.4g}" for k, v in last.items()
                                 if k in ("log_likelihood", "pseudo_log_likelihood",
                                          "reconstruction_error") and np.isfinite(v)))
    if args.json:
        _common.emit_json({"model": str(out), **metadata, "software_version": software_version(),
                           "n_hidden": model.n_hidden,
                           "hyperparameters": model.hyperparameters(),
                           "epochs_done": int(getattr(model, "epochs_done_", 0)),
                           "final": last})
    return 0


def _last(values) -> float:
    try:
        return float(values[-1])
    except (IndexError, TypeError, ValueError):
        return float("nan")
