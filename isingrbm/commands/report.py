"""``isingrbm report``: a report (HTML, Markdown, PNG figures) from existing result files.

Given a demo folder, it rebuilds ``DIR/report/`` from the demo's result
files, after checking every recorded output against its size and SHA-256;
given result files (datasets, RBM model files, VMC result files, JSON
results), it writes a report of those into ``--out``. Nothing is
recomputed: generated datasets given beside their Monte Carlo data are
compared with it (seconds).
"""

from __future__ import annotations

from pathlib import Path

from . import _common
from ._params import flag, option

DESCRIPTION = """\
Write a report (report.html, report.md and PNG figures) from existing results,
without recomputing them.

  isingrbm report DIR          DIR is a folder written by 'isingrbm demo': the
                               report is rebuilt in DIR/report/. Every output the
                               demo recorded is first checked against its size
                               and SHA-256; a damaged or missing file is refused
                               by name (rerun the demo to redo it).
  isingrbm report FILE ...     any set of result files: Monte Carlo and generated
                               datasets (.h5), RBM model files, VMC result files,
                               and the JSON of 'isingrbm evaluate --json',
                               'isingrbm vmc --json' or a demo's results/*.json.
                               The report goes to --out (default: ./report),
                               never over an existing report or figures without
                               --overwrite.
                               Generated datasets given with the Monte Carlo data
                               of their temperature are compared with it; --seed
                               seeds the noise level of the histogram distances
                               (default: fresh, printed and written in the report).

Conventions: per spin, k_B = J = 1; VMC energies in hbar omega (hbar = m = 1);
every number is mean +- one standard error."""

EXAMPLE = ("isingrbm report demo-run     # rebuilds demo-run/report/report.{html,md}\n"
           "  isingrbm report data.h5 gen_T2.269.h5 rbm_T2.269.h5 vmc.h5 --out my-report")


OPTIONS = (
    option("inputs", nargs="+", metavar="DIR|FILE",
           help="a demo folder, or result files"),
    option("--out", default=None, metavar="DIR",
           help="report folder for result files (default: ./report; a demo "
                "folder's report always goes to DIR/report)"),
    flag("--overwrite", "replace an existing report in --out (report.md, report.html and "
                        "figures/*.png of the same names); without it a folder holding any of "
                        "them is refused"),
)


def register(subparsers) -> None:
    _common.add_subcommand(
        subparsers, "report",
        help="a report (HTML, Markdown, figures) from a demo folder or any result files",
        description=DESCRIPTION, example=EXAMPLE, func=run, options=OPTIONS)


def _is_demo_folder(path: Path) -> bool:
    from isingrbm.manifest import MANIFEST

    return path.is_dir() and (path / MANIFEST).exists()


def run(args) -> int:
    from isingrbm import report
    from mccore.errors import InvalidParameterError

    inputs = [Path(p) for p in args.inputs]
    # one folder (or one missing path without a file suffix) is a demo folder
    demo_folder = len(inputs) == 1 and (
        inputs[0].is_dir() or (not inputs[0].exists() and not inputs[0].suffix))
    if demo_folder:
        if args.out is not None:
            raise InvalidParameterError(
                f"--out is for result files; the report of the demo folder {inputs[0]} goes "
                f"to {inputs[0] / 'report'}")
        written = report.build_report(inputs[0])
    else:
        if any(_is_demo_folder(p) for p in inputs):
            raise InvalidParameterError(
                "give a demo folder alone (its report goes to DIR/report), not with other files")
        written = report.build_files_report(
            inputs, args.out if args.out is not None else "report", seed=args.seed,
            overwrite=args.overwrite,
            log=lambda message: _common.info(args, f"isingrbm report: {message}"))
    n_figures = sum(k.startswith("figure:") for k in written)
    seed = written.pop("seed", None)
    _common.info(args, f"isingrbm report: wrote {written['html']} and {written['markdown']} "
                       f"({n_figures} figures)"
                       + (f"; seed {seed} for the noise levels" if seed is not None else ""))
    if args.json:
        _common.emit_json({"inputs": [str(p) for p in inputs], "seed": seed,
                           **{k: str(v) for k, v in written.items()}})
    return 0
