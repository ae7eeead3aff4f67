"""``isingrbm demo``: the whole workbench end to end, with a report.

Monte Carlo data (L = 16, 12 temperatures) checked against exact results;
RBMs (and the GAN baseline, if torch is installed) trained at an ordered, a
critical and a disordered temperature and evaluated; VMC for two electrons
in a 2D trap; a report (HTML + Markdown, PNG figures, tables). Complete
stages are reused when the command is run again on the same folder (after
checking each recorded output's size and SHA-256; a damaged one is redone),
so an interrupted demo continues where it stopped.
"""

from __future__ import annotations

from . import _common

DESCRIPTION = """\
Run the whole workbench end to end and write a report:
  1. Monte Carlo data, L = 16, 12 temperatures 1.0..4.0 (Wolff near T_c),
     checked against the exact finite-lattice and Onsager results;
  2. RBMs (and the GAN baseline, if torch is installed) trained at an ordered,
     a critical and a disordered temperature, sampled and evaluated;
  3. VMC for two electrons in a 2D trap (omega = 1): RBM and RBM + Pade-Jastrow
     trial wavefunctions against the exact energy 3.0;
  4. DIR/report/report.html and report.md with PNG figures and tables.
Complete stages are reused when the command is run again on the same folder,
so an interrupted demo continues where it stopped; every output's size and
SHA-256 is recorded in DIR/demo.json and checked before reuse (a damaged file
is kept as NAME.damaged and its stage redone). The RBMs are fitted and sampled
by the code of 'isingrbm fit' and 'isingrbm sample': each model file records
the seed with which 'isingrbm fit' reproduces it. Conventions: per spin,
k_B = J = 1; hbar = m = 1."""

EXAMPLE = ("isingrbm demo --out demo-run --seed 1\n"
           "  # about 3 CPU minutes: 3-6 minutes on 2 idle cores (the first run also compiles\n"
           "  # the numba kernels), much longer on a busy machine; --quick: under a minute")


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "demo",
        help="run the whole pipeline (Monte Carlo -> RBM/GAN -> evaluation -> VMC -> report)",
        description=DESCRIPTION,
        example=EXAMPLE, func=run)
    parser.add_argument("--out", default="isingrbm-demo", metavar="DIR",
                        help="demo folder: datasets/, models/, results/, report/ "
                             "(default: %(default)s; an existing demo folder is continued)")
    parser.add_argument("--quick", action="store_true",
                        help="sub-minute smoke-test version (L = 8, 5 temperatures, "
                             "few samples, epochs and iterations)")
    parser.add_argument("--no-gan", action="store_true",
                        help="skip the GAN baseline even if torch is installed")
    _common.add_common_options(parser)


def run(args) -> int:
    from isingrbm import demo

    out = demo.prepare_output(args.out)  # before any computation
    summary = demo.run_demo(out, quick=args.quick, seed=args.seed, gan=not args.no_gan,
                            progress=_common.progress_enabled(args),
                            log=lambda message: _common.info(args, message))
    _common.info(args, format_summary(summary))
    if args.json:
        _common.emit_json(summary)
    return 0


def format_summary(summary: dict) -> str:
    """The short human summary printed at the end of the demo."""
    stages = summary["stages"]
    lines = [f"isingrbm demo: finished in {summary['seconds']:.1f} s wall, "
             f"{summary['cpu_seconds']:.1f} s CPU (seed {summary['seed']})"]
    mc = stages.get("monte-carlo", {}).get("summary", {})
    if mc:
        lines.append(f"  Monte Carlo: L = {mc.get('L')}, {mc.get('n_temperatures')} temperatures x "
                     f"{mc.get('n_samples')} samples; energy per spin vs exact finite-L: "
                     f"largest deviation {mc.get('max_energy_deviation_sigma', float('nan')):.1f} "
                     "sigma")
    evaluation = stages.get("evaluate", {}).get("summary", {})
    for line in evaluation.get("lines", []):
        lines.append(f"  {line}")
    for run in stages.get("vmc", {}).get("summary", {}).values():
        from mcstats.estimate import format_value_error

        lines.append(f"  VMC {run['label']}: E = {format_value_error(run['energy'], run['error'])} "
                     f"hbar omega (exact {run['exact']:g})")
    if not summary.get("gan"):
        lines.append(f"  GAN skipped: {summary.get('gan_skipped_reason')}")
    lines.append(f"  report: {summary['report_html']}")
    lines.append(f"          {summary['report_md']}")
    return "\n".join(lines)
