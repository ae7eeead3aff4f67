"""``isingrbm gan fit|sample|plot``: the GAN baseline (needs the ``gan`` extra, PyTorch).

``fit`` trains :class:`gan.IsingGAN` on the Monte Carlo configurations of one
temperature of a dataset file, or (``--all-temperatures``) a
temperature-conditioned GAN on all of them; ``sample`` draws configurations
from a model file into a dataset file of the same schema (``source="gan"``,
with the model file, its SHA-256 and the training data as provenance), so
that ``isingrbm evaluate`` puts Monte Carlo, RBM and GAN side by side;
``plot`` draws the training figures (losses, sample grids at the snapshot
epochs) and the latent-space exploration of a model file.
"""

from __future__ import annotations

import argparse
import os
import sys

from gan.hyperparameters import GAN_SETTINGS
from isingrbm import pipeline

from . import _common
from ._params import add_options, exclusive, flag, flag_message, library_values, option

DESCRIPTION = """\
The GAN baseline (needs PyTorch: the gan extra).

  fit     train a GAN on the Monte Carlo configurations of one temperature of a
          dataset file, or with --all-temperatures one temperature-conditioned
          GAN on every temperature of it
  sample  draw configurations from a model file into a dataset file (source
          gan, with the model file, its SHA-256 and the training data recorded),
          ready for 'isingrbm evaluate'
  plot    training figures (losses, sample grids) and the latent-space figure

Generated configurations get a uniformly random global sign and a random
lattice translation (exact symmetries of the zero-field Ising model on the
periodic lattice), so m > 0 and m < 0 are exactly equally likely whatever the
network learned.
Every action takes --seed, --quiet and --json. Without PyTorch every action
fails with one line saying how to install it (exit status 2). 'fit' ends with a
health check of 1000 generated configurations per temperature: a generator
that ended in noise, froze, or repeats one configuration is reported with a
warning and exit status 3 (the model file is still written).
Conventions: per spin, k_B = J = 1."""

EXAMPLE = ("isingrbm gan fit data.h5 --temperature 2.269 --out gan.pt --epochs 30 --seed 1\n"
           "  isingrbm gan fit data.h5 --all-temperatures --out cgan.pt --epochs 30 --seed 1\n"
           "  isingrbm gan sample gan.pt --samples 5000 --out gan_samples.h5 --seed 2\n"
           "  isingrbm gan sample cgan.pt --temperature 2.6 --samples 5000 --out g.h5 --seed 2\n"
           "  isingrbm gan plot gan.pt --out-dir figures/")

FIT_DESCRIPTION = """\
Train the GAN baseline on the Monte Carlo configurations of one temperature of
DATA (--temperature T), or a temperature-conditioned GAN on all temperatures of
DATA (--all-temperatures), which then generates at any temperature between the
lowest and the highest. DATA must be a Monte Carlo dataset (not RBM or GAN
samples). A checkpoint MODEL.checkpoint is written during training (every
--checkpoint-every epochs, after the first epoch that ends 5 minutes after the
last checkpoint, and on Ctrl-C or SIGTERM) and kept; --resume continues from it
(also to extend training with a larger --epochs; a missing checkpoint starts
afresh, a finished model is accepted as it is)."""


#: the rules of the GAN's hyperparameters, which the options of 'gan fit' take
_GAN = GAN_SETTINGS

#: the options of 'gan fit': values are read as their kind by argparse and checked
#: after parsing with the GAN's own rules (:func:`gan.hyperparameters.check_params`),
#: the messages naming the flags
FIT_OPTIONS = (
    option("data", metavar="DATA", help="Monte Carlo dataset file (HDF5)"),
    exclusive(
        option("--temperature", "-T", type=_common.temperature,
               help="temperature of the training configurations (must be in DATA)"),
        flag("--all-temperatures", "train one temperature-conditioned GAN on every temperature of"
                                   " DATA"),
        required=True),
    option("--out", required=True, metavar="MODEL", help="model file to write (.pt)"),
    option("--epochs", rule=_GAN["n_epochs"], setting="n_epochs", default=30,
           help="training epochs, {allowed} (default 30)"),
    option("--batch-size", rule=_GAN["batch_size"], setting="batch_size", default=32,
           help="minibatch size, {allowed} (default 32)"),
    option("--latent-dim", rule=_GAN["latent_dim"], setting="latent_dim", default=32,
           help="global latent dimension, {allowed} (default 32)"),
    option("--noise-channels", rule=_GAN["noise_channels"], setting="noise_channels",
           default=2, help="per-site noise channels of the generator, {allowed} (default 2)"),
    option("--channels", rule=_GAN["channels"], setting="channels", default=16,
           help="convolution channels, {allowed} (default 16)"),
    option("--learning-rate", rule=_GAN["learning_rate_generator"],
           setting="learning_rate_generator", default=5e-4,
           help="Adam step size of both networks, {allowed} (default 5e-4)"),
    option("--lr-schedule", rule=_GAN["lr_schedule"], setting="lr_schedule",
           default="linear-decay",
           help="learning rates constant for the first half of the epochs, then "
                "falling linearly (linear-decay, the default), or constant"),
    option("--loss", rule=_GAN["loss"], setting="loss", default="nonsaturating",
           help="adversarial loss (default nonsaturating, with the R1 penalty)"),
    option("--gradient-penalty", rule=_GAN["gradient_penalty"], setting="gradient_penalty",
           default=10.0,
           help="gradient penalty weight {allowed}: R1 for nonsaturating/hinge, the WGAN-GP "
                "weight for wgan-gp (default 10; 0 disables)"),
    option("--label-smoothing", rule=_GAN["label_smoothing"], setting="label_smoothing",
           default=0.9,
           help="discriminator target for real data, {allowed} (default 0.9; 1 disables)"),
    option("--training-output", rule=_GAN["training_output"], setting="training_output",
           default="straight-through",
           help="what the discriminator sees of a generated configuration: +-1 "
                "spins drawn from the generator's mean with a straight-through "
                "gradient (default), or the mean spins themselves"),
    option("--generation", rule=_GAN["generation"], setting="generation", default="bernoulli",
           help="how spins are drawn from the generator's mean (default bernoulli)"),
    option("--pack", rule=_GAN["pack"], setting="pack", default=1,
           help="PacGAN: the discriminator judges packs of this many configurations "
                "jointly, {allowed} (default 1; --batch-size must be a multiple)"),
    option("--minibatch-std", setting="minibatch_std", action=argparse.BooleanOptionalAction,
           default=True,
           help="give the discriminator the minibatch standard-deviation feature "
                "(default on)"),
    option("--moment-matching", rule=_GAN["moment_matching"], setting="moment_matching",
           default=0.0, metavar="W",
           help="weight {allowed} of the generator-loss term matching the training set's "
                "mean e, (e - <e>)^2, |m|, m^2, m^4 (default 0: off)"),
    option("--distribution-matching", rule=_GAN["distribution_matching"],
           setting="distribution_matching", default=1.0, metavar="W",
           help="weight {allowed} of the generator-loss term matching the training set's "
                "distributions of e and |m| (energy distance; default 1; 0: off, the "
                "adversarial loss alone)"),
    option("--matching-warmup", rule=_GAN["matching_warmup"], setting="matching_warmup",
           default=0.0, metavar="EPOCHS",
           help="epochs {allowed} over which the weights of --moment-matching and "
                "--distribution-matching rise linearly from 0 (default 0: full weight "
                "from the start)"),
    option("--draw", rule=_GAN["draw"], setting="draw", default="auto",
           help="how the spins of a configuration are drawn from the generator's output: "
                "each independently (independent), or half the sites (i + j even) first "
                "and the others given their drawn neighbours through a learned coupling "
                "(checkerboard), so that neighbouring flipped pairs come cheap; auto (the "
                "default): checkerboard for one temperature, independent with "
                "--all-temperatures"),
    flag("--no-symmetrize", "do not give generated configurations a random global sign and "
                            "translation (for comparison only)"),
    option("--snapshot-epochs", rule=_GAN["snapshot_epochs"], setting="snapshot_epochs",
           nargs="*", default=None,
           help="epochs ({allowed}) whose sample grids are kept for 'gan plot' "
                "(default: 4 evenly spaced)"),
    option("--checkpoint-every", type=_common.positive_int, default=5,
           help="epochs between checkpoints (default 5; also every 5 minutes "
                "of wall time)"),
    option("--threads", rule=_GAN["n_threads"], setting="n_threads", default=1,
           help=f"PyTorch threads, at most the number of CPUs ({os.cpu_count()} here) "
                "(default 1; results are reproducible per count)"),
    flag("--resume", "continue from the checkpoint MODEL.checkpoint (or the MODEL.ckpt of an "
                     "older version)"),
    flag("--overwrite", "replace MODEL and its checkpoint"),
)


SAMPLE_OPTIONS = (
    option("model", metavar="MODEL", help="model file written by 'gan fit'"),
    option("--samples", type=_common.positive_int, required=True,
           help="number of configurations"),
    option("--temperature", "-T", type=_common.temperature, nargs="+",
           default=None, metavar="T",
           help="temperature(s) to generate at (conditioned models only; several "
                "give one file with a group per temperature, for 'isingrbm "
                "evaluate' to make the per-temperature table)"),
    option("--out", required=True, metavar="FILE", help="dataset file to write"),
    option("--generation", choices=("bernoulli", "sign"), default=None,
           help="override the model's generation rule"),
    flag("--overwrite", "replace FILE"),
)


PLOT_OPTIONS = (
    option("model", metavar="MODEL", help="model file written by 'gan fit'"),
    option("--out-dir", required=True, metavar="DIR", help="folder for the PNG files"),
    option("--temperature", "-T", type=_common.temperature, default=None,
           help="temperature of the latent-space figure (conditioned models)"),
    flag("--overwrite", "replace existing figures"),
)


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "gan",
        help="GAN baseline (PyTorch): fit on a dataset, sample into a dataset, plot",
        description=DESCRIPTION, example=EXAMPLE, func=_no_action)
    actions = parser.add_subparsers(dest="gan_action", metavar="<action>", required=True)

    actions_table = {  # action: help, description, example, function, options
        "fit": ("train a GAN on one or all temperatures of a dataset file", FIT_DESCRIPTION,
                "isingrbm gan fit data.h5 --temperature 1.5 --out gan.pt --epochs 30 --seed 1",
                run_fit, FIT_OPTIONS),
        "sample": ("draw configurations from a GAN model into a dataset file",
                   "Draw configurations from a trained GAN into a dataset file (source gan; "
                   "provenance: model file, model SHA-256, training data). A "
                   "temperature-conditioned model needs --temperature, inside its training "
                   "range.",
                   "isingrbm gan sample gan.pt --samples 5000 --out gan_samples.h5 --seed 2",
                   run_sample, SAMPLE_OPTIONS),
        "plot": ("training and latent-space figures of a GAN model",
                 "Write losses.png, training_samples.png (sample grids at the snapshot epochs) "
                 "and latent_space.png (interpolations, scaled latent widths, with "
                 "magnetization) for a model file; for a temperature-conditioned model the "
                 "latent figure is drawn at --temperature (default: the middle of the training "
                 "range). Spins: black = +1, white = -1. DIR is created if needed.",
                 "isingrbm gan plot gan.pt --out-dir figures/", run_plot, PLOT_OPTIONS),
    }
    for name, (help_, description, example, func, options) in actions_table.items():
        checked = options is not FIT_OPTIONS      # fit: checked after parsing, see FIT_OPTIONS
        action = _common.add_subcommand(actions, name, help=help_, description=description,
                                        example=example, func=func,
                                        options=options if checked else None)
        action.set_defaults(command_path=f"gan {name}")
        if not checked:
            add_options(action, options, check=False)
            _common.add_common_options(action)


def _no_action(args) -> int:  # pragma: no cover - argparse requires an action
    return 2


def _require_gan():
    import gan

    gan.require_torch()
    return gan


def _check_threads(threads: int) -> int:
    from mccore.errors import InvalidParameterError

    limit = os.cpu_count() or 1
    if threads > limit:
        raise InvalidParameterError(
            f"--threads must be an integer in [1, {limit}] (the CPUs of this machine), "
            f"got {threads}")
    return threads


def _fit_settings(args) -> dict:
    """The GAN's hyperparameters from the flags, checked by the GAN's rules
    (:func:`gan.hyperparameters.check_params`, its messages naming the flags) before
    anything is read or written; --threads at most the CPUs of this machine."""
    from gan.hyperparameters import check_params
    from mccore.errors import InvalidParameterError

    settings = library_values(args, FIT_OPTIONS)
    settings["learning_rate_discriminator"] = settings["learning_rate_generator"]
    settings.update(symmetrize=not args.no_symmetrize, random_translation=not args.no_symmetrize,
                    conditional=bool(args.all_temperatures))
    if settings["snapshot_epochs"] is None:
        settings["snapshot_epochs"] = sorted({max(1, round(args.epochs * k / 4))
                                              for k in (1, 2, 3, 4)})
    try:
        settings = check_params(settings, partial=True)
    except InvalidParameterError as exc:
        raise flag_message(exc, [FIT_OPTIONS]) from None
    _check_threads(settings["n_threads"])
    return settings


#: exit status of a fit that finished but failed its health check (as ``isingrbm vmc``)
EXIT_UNHEALTHY = 3


def run_fit(args) -> int:
    from mccore.errors import OutputExistsError

    settings = _fit_settings(args)      # torch-free: bad flags are refused without PyTorch too
    gan = _require_gan()
    data_path = _common.check_input_file(args.data)
    out, ckpt = _common.check_resumable_output(args.out, inputs=[data_path],
                                               resume=args.resume, overwrite=args.overwrite)
    dataset, ensembles = pipeline.gan_training_data(
        data_path, temperature=args.temperature, all_temperatures=args.all_temperatures)
    if args.resume and not ckpt.exists() and out.exists() and not args.overwrite:
        # a finished model whose checkpoint is gone: accept it if it is complete
        done = gan.IsingGAN.load(out)
        if done.n_epochs_trained_ >= args.epochs:
            _common.info(args, f"isingrbm gan fit: {out} is complete "
                               f"({done.n_epochs_trained_} epochs); nothing to do")
            if args.json:
                _common.emit_json({"model": str(out), "epochs": done.n_epochs_trained_,
                                   "seed": done.seed_, "complete": True})
            return 0
        raise OutputExistsError(f"output {out} has {done.n_epochs_trained_} epochs and no "
                                f"checkpoint {ckpt.name} to extend it; pass --overwrite to "
                                f"train again")
    seed = pipeline.gan_seed(ckpt, args.seed, resume=args.resume)

    def announce(model, spins):
        what = (f"{len(ensembles)} temperatures ({ensembles[0].T:g} to {ensembles[-1].T:g}), "
                "temperature-conditioned" if args.all_temperatures
                else f"T = {ensembles[0].T:g}")
        _common.info(args, f"isingrbm gan fit: {spins.shape[0]} configurations, L = "
                           f"{dataset.L}, {what}, {args.epochs} epochs, seed {seed}")

    fitted = pipeline.fit_gan(data_path, dataset.L, ensembles, settings, out=out, seed=seed,
                              resume=args.resume, overwrite=args.overwrite,
                              progress=_common.progress_enabled(args),
                              checkpoint_every=args.checkpoint_every, on_start=announce)
    model = fitted.model
    if fitted.interrupted:       # Ctrl-C or SIGTERM: the last completed epoch is kept
        kept = (f"continue with --resume (checkpoint {ckpt.name} kept)" if ckpt.exists()
                else "no epoch was complete: nothing to resume")
        print(f"isingrbm gan fit: interrupted after {model.n_epochs_trained_} of "
              f"{args.epochs} epochs; {kept}", file=sys.stderr)
        return 130
    hist = model.history_
    seconds = hist["seconds"][-1] if hist["seconds"] else 0.0
    summary = {"model": str(out), "checkpoint": str(ckpt), "data": str(data_path),
               "T": model.metadata_.get("T"), "L": dataset.L, "seed": seed,
               "conditional": model.conditional,
               "temperatures": model.training_temperatures_ or None,
               "epochs": model.n_epochs_trained_, "seconds": seconds,
               "loss_discriminator": hist["loss_discriminator"][-1],
               "loss_generator": hist["loss_generator"][-1],
               "d_real": hist["d_real"][-1], "d_fake": hist["d_fake"][-1]}
    problems = pipeline.gan_health(model, ensembles, seed)
    summary["status"] = "unhealthy" if problems else "complete"
    summary["health"] = problems
    _common.info(args, f"isingrbm gan fit: wrote {out} ({model.n_epochs_trained_} epochs, "
                       f"{seconds:.1f} s; final losses D {summary['loss_discriminator']:.3f}"
                       f", G {summary['loss_generator']:.3f})")
    if args.json:
        _common.emit_json(summary)
    if problems:
        print(f"isingrbm gan fit: warning: the generator failed its health check: "
              f"{'; '.join(problems)}; the model is written but its samples are wrong "
              f"(train again with another --seed or more --epochs; exit status "
              f"{EXIT_UNHEALTHY})", file=sys.stderr)
        return EXIT_UNHEALTHY
    return 0


def run_sample(args) -> int:
    _require_gan()
    model_path = _common.check_input_file(args.model)
    out = _common.check_output_path(args.out, overwrite=args.overwrite, inputs=[model_path])
    seed = _common.resolve_seed(args.seed)
    result = pipeline.sample_gan(model_path, n_samples=args.samples, out=out, seed=seed,
                                 temperatures=args.temperature, generation=args.generation,
                                 overwrite=args.overwrite)
    temps, provenance = result.temperatures, result.provenance
    T_text = ", ".join(f"{t:g}" for t in temps)
    _common.info(args, f"isingrbm gan sample: wrote {args.samples} configurations "
                       f"(L = {result.L}, T = {T_text}) to {out}")
    if args.json:
        _common.emit_json({"out": str(out), "model": str(model_path), "samples": args.samples,
                           "L": result.L, "T": temps[0] if len(temps) == 1 else temps,
                           "seed": seed, **provenance})
    return 0


def run_plot(args) -> int:
    gan = _require_gan()
    from isingrbm.plots import gan as gan_plots
    from mccore.errors import InvalidParameterError

    model_path = _common.check_input_file(args.model)
    out_dir = _common.check_output_folder(args.out_dir, flag="--out-dir", parents=True)
    names = ("losses.png", "training_samples.png", "latent_space.png")
    if out_dir.is_dir():
        for name in names:
            _common.check_output_path(out_dir / name, overwrite=args.overwrite,
                                      inputs=[model_path])
    model = gan.IsingGAN.load(model_path)
    T = None
    if model.conditional:
        if args.temperature is None:
            lo, hi = model.temperature_range_
            T = 0.5 * (lo + hi)
        else:
            T = model.check_temperature(args.temperature)
    elif args.temperature is not None:
        raise InvalidParameterError("--temperature is only for a temperature-conditioned model")
    seed = _common.resolve_seed(args.seed)
    written = {}
    with _common.output_folder(out_dir):   # created now, removed again if nothing is written
        for name, func in zip(names, (gan_plots.loss_history, gan_plots.training_samples,
                                      gan_plots.latent_exploration)):
            if func is gan_plots.latent_exploration:
                fig = func(model, rng=seed, temperature=T)
            else:
                fig = func(model)
            try:
                with _common.atomic_output(out_dir / name) as tmp:
                    fig.savefig(tmp, format="png", dpi=110)
            finally:
                gan_plots.close(fig)
            written[name] = str(out_dir / name)
    _common.info(args, f"isingrbm gan plot: wrote {', '.join(written.values())}")
    if args.json:
        _common.emit_json({"model": str(model_path), "seed": seed, "temperature": T,
                           "figures": written})
    return 0
