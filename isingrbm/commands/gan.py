"""``isingrbm gan fit|sample|plot``: the GAN baseline (needs the ``gan`` extra, PyTorch).

``fit`` trains :class:`gan.IsingGAN` on the Monte Carlo configurations of one
temperature of a dataset file; ``sample`` draws configurations from a model
file into a dataset file of the same schema (``source="gan"``, with the model
file, its SHA-256 and the training data as provenance), so that ``isingrbm
evaluate`` puts Monte Carlo, RBM and GAN side by side; ``plot`` draws the
training figures (losses, sample grids at the snapshot epochs) and the
latent-space exploration of a model file.

Every action takes --seed, --quiet and --json. Without PyTorch every action
fails with one line saying how to install it (exit status 2).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import _common

EXAMPLE = ("isingrbm gan fit data.h5 --temperature 2.269 --out gan.pt --epochs 30 --seed 1\n"
           "  isingrbm gan sample gan.pt --samples 5000 --out gan_samples.h5 --seed 2\n"
           "  isingrbm gan plot gan.pt --out-dir figures/")


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "gan",
        help="GAN baseline (PyTorch): fit on a dataset, sample into a dataset, plot",
        description=__doc__.strip(), example=EXAMPLE, func=_no_action)
    actions = parser.add_subparsers(dest="gan_action", metavar="<action>", required=True)

    fit = _common.add_subcommand(
        actions, "fit", help="train a GAN on one temperature of a dataset file",
        description="Train the GAN baseline on the Monte Carlo configurations of one "
                    "temperature. A checkpoint MODEL.ckpt is written during training "
                    "(every --checkpoint-every epochs) and kept; --resume continues from it "
                    "(also to extend training with a larger --epochs).",
        example="isingrbm gan fit data.h5 --temperature 1.5 --out gan.pt --epochs 30 --seed 1",
        func=run_fit)
    fit.set_defaults(command_path="gan fit")
    fit.add_argument("data", metavar="DATA", help="dataset file (HDF5, isingrbm-ising schema)")
    fit.add_argument("--temperature", "-T", type=_common.temperature, required=True,
                     help="temperature of the training configurations (must be in DATA)")
    fit.add_argument("--out", required=True, metavar="MODEL", help="model file to write (.pt)")
    fit.add_argument("--epochs", type=_common.positive_int, default=30, help="default 30")
    fit.add_argument("--batch-size", type=_common.positive_int, default=32, help="default 32")
    fit.add_argument("--latent-dim", type=_common.positive_int, default=32,
                     help="global latent dimension (default 32)")
    fit.add_argument("--noise-channels", type=_common.nonnegative_int, default=2,
                     help="per-site noise channels of the generator (default 2)")
    fit.add_argument("--channels", type=_common.positive_int, default=16, help="default 16")
    fit.add_argument("--learning-rate", type=_common.positive_float, default=2e-4,
                     help="Adam step size of both networks (default 2e-4)")
    fit.add_argument("--gradient-penalty", type=float, default=1.0,
                     help="R1 penalty weight on real data (default 1; 0 disables)")
    fit.add_argument("--label-smoothing", type=float, default=0.9,
                     help="discriminator target for real data (default 0.9; 1 disables)")
    fit.add_argument("--generation", choices=("bernoulli", "sign"), default="bernoulli",
                     help="how spins are drawn from the generator's mean (default bernoulli)")
    fit.add_argument("--snapshot-epochs", type=_common.positive_int, nargs="*", default=None,
                     help="epochs whose sample grids are kept for 'gan plot' "
                          "(default: 4 evenly spaced)")
    fit.add_argument("--checkpoint-every", type=_common.positive_int, default=5,
                     help="epochs between checkpoints (default 5)")
    fit.add_argument("--threads", type=_common.positive_int, default=1,
                     help="PyTorch threads (default 1; results are reproducible per count)")
    fit.add_argument("--resume", action="store_true",
                     help="continue from the checkpoint MODEL.ckpt")
    fit.add_argument("--overwrite", action="store_true", help="replace MODEL and its checkpoint")
    _common.add_common_options(fit)

    sample = _common.add_subcommand(
        actions, "sample", help="draw configurations from a GAN model into a dataset file",
        description="Draw configurations from a trained GAN into a dataset file "
                    "(source='gan', provenance: model file, model SHA-256, training data).",
        example="isingrbm gan sample gan.pt --samples 5000 --out gan_samples.h5 --seed 2",
        func=run_sample)
    sample.set_defaults(command_path="gan sample")
    sample.add_argument("model", metavar="MODEL", help="model file written by 'gan fit'")
    sample.add_argument("--samples", type=_common.positive_int, required=True,
                        help="number of configurations")
    sample.add_argument("--out", required=True, metavar="FILE", help="dataset file to write")
    sample.add_argument("--generation", choices=("bernoulli", "sign"), default=None,
                        help="override the model's generation rule")
    sample.add_argument("--overwrite", action="store_true", help="replace FILE")
    _common.add_common_options(sample)

    plot = _common.add_subcommand(
        actions, "plot", help="training and latent-space figures of a GAN model",
        description="Write losses.png, training_samples.png (sample grids at the snapshot "
                    "epochs) and latent_space.png (interpolations, scaled latent means and "
                    "widths, with magnetization) for a model file.",
        example="isingrbm gan plot gan.pt --out-dir figures/", func=run_plot)
    plot.set_defaults(command_path="gan plot")
    plot.add_argument("model", metavar="MODEL", help="model file written by 'gan fit'")
    plot.add_argument("--out-dir", required=True, metavar="DIR", help="folder for the PNG files")
    plot.add_argument("--overwrite", action="store_true", help="replace existing figures")
    _common.add_common_options(plot)


def _no_action(args) -> int:  # pragma: no cover - argparse requires an action
    return 2


def _require_gan():
    import gan

    gan.require_torch()
    return gan


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_path(model_path) -> Path:
    """The checkpoint file that belongs to a model file: ``MODEL.ckpt``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + ".ckpt")


def run_fit(args) -> int:
    gan = _require_gan()
    import ising

    data_path = _common.check_input_file(args.data)
    out = Path(args.out)
    ckpt = checkpoint_path(out)
    _common.check_output_path(out, overwrite=args.overwrite or args.resume)
    if ckpt.exists() and not (args.resume or args.overwrite):
        from mccore.errors import OutputExistsError
        raise OutputExistsError(f"checkpoint {ckpt} exists; pass --resume to continue it or "
                                f"--overwrite to start again")
    dataset = ising.load(data_path)
    ensemble = dataset.ensemble(args.temperature)
    seed = _common.resolve_seed(args.seed)
    if args.resume and args.seed is None and ckpt.exists():
        seed = gan.IsingGAN.load(ckpt).seed_
    snapshots = args.snapshot_epochs
    if snapshots is None:
        snapshots = sorted({max(1, round(args.epochs * k / 4)) for k in (1, 2, 3, 4)})
    model = gan.IsingGAN(
        dataset.L, latent_dim=args.latent_dim, noise_channels=args.noise_channels,
        channels=args.channels, n_epochs=args.epochs, batch_size=args.batch_size,
        learning_rate_generator=args.learning_rate,
        learning_rate_discriminator=args.learning_rate,
        gradient_penalty=args.gradient_penalty, label_smoothing=args.label_smoothing,
        generation=args.generation, snapshot_epochs=snapshots, n_threads=args.threads,
        seed=seed)
    model.metadata_ = {"data": str(data_path), "data_sha256": _sha256(data_path),
                       "T": float(ensemble.T), "group": ensemble.key, "phase": ensemble.phase,
                       "n_training": int(ensemble.spins.shape[0])}
    if args.overwrite and not args.resume and ckpt.exists():
        ckpt.unlink()
    _common.info(args, f"isingrbm gan fit: {ensemble.spins.shape[0]} configurations, L = "
                       f"{dataset.L}, T = {ensemble.T:g}, {args.epochs} epochs, seed {seed}")
    model.fit(ensemble.spins, progress=_common.progress_enabled(args), checkpoint=ckpt,
              checkpoint_every=args.checkpoint_every, resume=args.resume)
    with _common.atomic_output(out) as tmp:
        model.save(tmp, overwrite=True)
    hist = model.history_
    summary = {"model": str(out), "checkpoint": str(ckpt), "data": str(data_path),
               "T": float(ensemble.T), "L": dataset.L, "seed": seed,
               "epochs": model.n_epochs_trained_, "seconds": hist["seconds"][-1],
               "loss_discriminator": hist["loss_discriminator"][-1],
               "loss_generator": hist["loss_generator"][-1],
               "d_real": hist["d_real"][-1], "d_fake": hist["d_fake"][-1]}
    _common.info(args, f"isingrbm gan fit: wrote {out} ({model.n_epochs_trained_} epochs, "
                       f"{hist['seconds'][-1]:.1f} s; final losses D {summary['loss_discriminator']:.3f}"
                       f", G {summary['loss_generator']:.3f})")
    if args.json:
        _common.emit_json(summary)
    return 0


def run_sample(args) -> int:
    gan = _require_gan()
    import ising

    model_path = _common.check_input_file(args.model)
    out = _common.check_output_path(args.out, overwrite=args.overwrite)
    model = gan.IsingGAN.load(model_path)
    T = model.metadata_.get("T")
    if T is None:
        from mccore.errors import InvalidParameterError
        raise InvalidParameterError(f"{model_path}: the model records no training temperature "
                                    f"(metadata 'T'); it was not written by 'isingrbm gan fit'")
    seed = _common.resolve_seed(args.seed)
    spins = model.sample(args.samples, seed=seed, mode=args.generation)
    provenance = {"model_file": str(model_path), "model_sha256": _sha256(model_path),
                  "generation": args.generation or model.generation,
                  "training_data": model.metadata_.get("data", ""),
                  "training_data_sha256": model.metadata_.get("data_sha256", ""),
                  "epochs": model.n_epochs_trained_}
    with _common.atomic_output(out) as tmp:
        ising.write_generated(tmp, spins, T=T, source="gan", provenance=provenance,
                              seed=seed, overwrite=True)
    _common.info(args, f"isingrbm gan sample: wrote {args.samples} configurations "
                       f"(L = {model.L}, T = {T:g}) to {out}")
    if args.json:
        _common.emit_json({"out": str(out), "model": str(model_path), "samples": args.samples,
                           "L": model.L, "T": T, "seed": seed, **provenance})
    return 0


def run_plot(args) -> int:
    gan = _require_gan()
    from isingrbm import gan_plots

    model_path = _common.check_input_file(args.model)
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        from mccore.errors import InvalidParameterError
        raise InvalidParameterError(f"output folder {out_dir} does not exist")
    names = ("losses.png", "training_samples.png", "latent_space.png")
    for name in names:
        _common.check_output_path(out_dir / name, overwrite=args.overwrite)
    model = gan.IsingGAN.load(model_path)
    seed = _common.resolve_seed(args.seed)
    written = {}
    for name, func in zip(names, (gan_plots.loss_history, gan_plots.training_samples,
                                  gan_plots.latent_exploration)):
        fig = func(model, seed=seed) if func is gan_plots.latent_exploration else func(model)
        with _common.atomic_output(out_dir / name) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
        gan_plots.close(fig)
        written[name] = str(out_dir / name)
    _common.info(args, f"isingrbm gan plot: wrote {', '.join(written.values())}")
    if args.json:
        _common.emit_json({"model": str(model_path), "seed": seed, "figures": written})
    return 0
