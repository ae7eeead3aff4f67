"""``isingrbm evaluate``: generated samples against Monte Carlo and exact values.

For every temperature of the Monte Carlo dataset that a generated file also
holds (all of them when no generated file is given), the table of
:func:`isingrbm.evaluate.compare`: e, |m|, c, chi, chi', U4 with error bars
for Monte Carlo and each generated set, the exact finite-L values, the
deviations, the fraction with m > 0, total-variation distances of the E and M
histograms with their noise level, and the number of distinct configurations.
"""

from __future__ import annotations

from pathlib import Path

from isingrbm import pipeline

from . import _common

DESCRIPTION = """\
Compare generated spin configurations (files written by 'isingrbm sample' or
'isingrbm gan sample') with the Monte Carlo data they were trained on, and both
with the exact finite-lattice values (e and c from the exact partition function
of the L x L torus; every observable by enumeration for L <= 4). Generated sets
are matched to the data by temperature. Per temperature: observables per spin
(k_B = J = 1) +- one standard error, deviations in standard errors and percent,
the fraction of samples with m > 0, the total-variation distance of the E and M
histograms with the value finite samples alone would give ('noise'), and the
number of distinct configurations. --plots DIR adds PNG figures.
GENERATED files must have source rbm or gan (a Monte Carlo file is refused:
it is compared as DATA). --seed fixes the noise-level replicas and the
configurations shown (default: fresh entropy, printed and recorded in the
--json summary)."""

#: sources a GENERATED file may have
GENERATED_SOURCES = ("rbm", "gan")

EXAMPLE = "isingrbm evaluate data.h5 gen_T1.5.h5 gen_T2.269.h5 --plots figures/"


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "evaluate",
        help="generated samples vs Monte Carlo vs exact, per temperature",
        description=DESCRIPTION, example=EXAMPLE, func=run)
    parser.add_argument("data", metavar="DATA", help="Monte Carlo dataset file (HDF5)")
    parser.add_argument("generated", metavar="GENERATED", nargs="*",
                        help="generated dataset files (source rbm or gan)")
    parser.add_argument("--plots", metavar="DIR", default=None,
                        help="write figures (PNG) into DIR (created if missing)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing figure files in DIR")
    _common.add_common_options(parser)


def _labels(datasets) -> list[str]:
    """Column labels: the source (RBM, GAN), with the file stem when ambiguous."""
    sources = [d.source.upper() for d in datasets]
    labels = [s if sources.count(s) == 1 else f"{s}:{d.path.stem}"
              for s, d in zip(sources, datasets)]
    # the same stem in two folders: number them
    return [label if labels.count(label) == 1 else f"{label}#{labels[:i].count(label) + 1}"
            for i, label in enumerate(labels)]


def plot_paths(plots_dir: Path, temperatures) -> dict:
    """Figure files written for these temperatures (checked before computing)."""
    paths = {"observables": plots_dir / "observables_vs_T.png"}
    for T in temperatures:
        paths[("samples", T)] = plots_dir / f"samples_T{T:.4g}.png"
        paths[("distributions", T)] = plots_dir / f"distributions_T{T:.4g}.png"
    return paths


def run(args) -> int:


    from ising.store import DATA_SOURCES, load
    from isingrbm import evaluate
    from mccore.errors import InvalidParameterError

    data_path = _common.check_input_file(args.data)
    generated_paths = [_common.check_input_file(p) for p in args.generated]
    plots_dir = None
    if args.plots is not None:   # a file, a missing parent, not writable: refuse now
        plots_dir = _common.check_output_folder(args.plots, flag="--plots")

    data = load(data_path)
    if data.source not in DATA_SOURCES:
        raise InvalidParameterError(
            f"DATA must be a Monte Carlo dataset (source 'monte-carlo' or 'imported'), "
            f"{data_path.name} has source {data.source!r}")
    generated = [load(p) for p in generated_paths]
    for g, p in zip(generated, generated_paths):
        if g.source not in GENERATED_SOURCES:
            raise InvalidParameterError(
                f"GENERATED must be generated samples (source 'rbm' or 'gan'), {p.name} has "
                f"source {g.source!r}; pass a Monte Carlo file as DATA")
        if g.L != data.L:
            raise InvalidParameterError(
                f"{p.name}: L = {g.L} does not match L = {data.L} of {data_path.name}")
    labels = _labels(generated)

    # match every generated temperature to the data (naming the ones available)
    per_T = pipeline.match_temperatures(data, dict(zip(labels, generated)))
    temperatures = sorted(per_T)

    figure_paths = plot_paths(plots_dir, temperatures) if plots_dir is not None else {}
    if plots_dir is not None and plots_dir.is_dir():
        for figure in figure_paths.values():  # exists, is an input, not writable: refuse now
            _common.check_output_path(figure, overwrite=args.overwrite,
                                      inputs=[data_path, *generated_paths])

    seed = _common.resolve_seed(args.seed)
    _common.info(args, f"isingrbm evaluate: seed {seed} (noise-level replicas, configurations "
                       "shown)")
    # one stream per temperature, keyed by its value (mccore.rng.temperature_key)
    tables = pipeline.evaluate_datasets(
        data, dict(zip(labels, generated)), seed=seed,
        log=lambda message: _common.info(args, f"isingrbm evaluate: {message}"))["tables"]
    text = "\n\n".join(evaluate.format_table(t) for t in tables)
    if args.json:
        _common.info(args, text)
    else:
        print(text)

    written = []
    if plots_dir is not None:
        written = _write_plots(plots_dir, figure_paths, data, per_T, tables, seed)
        _common.info(args, f"isingrbm evaluate: wrote {len(written)} figures to {plots_dir}")
    if args.json:
        _common.emit_json({"data": str(data_path), "generated": [str(p) for p in generated_paths],
                           "labels": labels, "L": data.L, "seed": seed,
                           "temperatures": temperatures, "tables": tables,
                           "figures": [str(p) for p in written]})
    return 0


def _write_plots(plots_dir: Path, paths: dict, data, per_T: dict, tables: list,
                 seed: int) -> list:
    with _common.output_folder(plots_dir):   # created now, removed again if nothing is written
        return _draw(paths, data, per_T, tables, seed)


def _draw(paths: dict, data, per_T: dict, tables: list, seed: int) -> list:
    import numpy as np

    from isingrbm import plots
    from mccore.rng import stream

    written = []
    written.append(_save(plots.observables_vs_T(tables), paths["observables"]))
    rng = stream(seed)
    n_show = 6
    for T in sorted(per_T):
        reference = data.ensemble(T, tol=1e-6)
        # random picks, so that consecutive (correlated) chain samples are not shown
        grids = {"Monte Carlo": reference.spins[np.sort(rng.choice(
            reference.n_samples, size=min(n_show, reference.n_samples), replace=False))]}
        for label, ens in per_T[T].items():
            grids[label] = ens.spins[:n_show]
        written.append(_save(
            plots.sample_grid(grids, n_show=n_show,
                              title=f"Spin configurations at T = {T:g}, L = {data.L} "
                                    "(black = +1, white = -1)"),
            paths[("samples", T)]))
        written.append(_save(plots.distributions(reference, per_T[T]),
                             paths[("distributions", T)]))
    return written


def _save(fig, path: Path) -> Path:
    """Write a figure atomically (temp file + rename; through a symlink)."""
    from isingrbm import plots

    with _common.atomic_output(path) as tmp:
        plots.save(fig, tmp)
    return path
