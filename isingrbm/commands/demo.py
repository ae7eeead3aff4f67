"""``isingrbm demo``: the whole workbench end to end, with a report.

Monte Carlo data (L = 16, 12 temperatures) checked against exact results;
an RBM per phase, sampled approximately (Gibbs) and exactly
(Metropolis-Hastings with the RBM as proposal), and the GAN baseline if
PyTorch is installed, evaluated against Monte Carlo and exact values; VMC
for two electrons in a 2D trap and for the transverse-field Ising chain
(against free fermions); a report (HTML + Markdown, PNG figures, tables).
Complete stages are reused when the command is run again on the same folder
(after checking each recorded output's size and SHA-256; a damaged one is
redone), so an interrupted demo continues where it stopped. The stages live
in :mod:`isingrbm.demo`.
"""

from __future__ import annotations

from . import _common
from ._params import flag, option

DESCRIPTION = """\
Run the whole workbench end to end and write a report:
  1. Monte Carlo data, L = 16, 12 temperatures 1.0..4.0 (Wolff near T_c),
     checked against the exact finite-lattice and Onsager results;
  2. an RBM per phase (T = 1.5, 2.269, 3.5), fitted and sampled by Gibbs
     chains (approximate);
  3. the same RBMs as Metropolis-Hastings proposals: exact Ising samples;
  4. the GAN baseline per phase, if PyTorch is installed (a short training);
  5. Monte Carlo vs RBM vs RBM+MH (vs GAN) vs exact, per phase;
  6. VMC for two electrons in a 2D trap (omega = 1): RBM and RBM + Pade-Jastrow
     trial wavefunctions against the exact energy 3;
  7. VMC for the transverse-field Ising chain (N = 20, h = 1) against the
     free-fermion ground-state energy;
  8. DIR/report/report.html and report.md with PNG figures and tables.
Complete stages are reused when the command is run again on the same folder,
so an interrupted demo continues where it stopped; every output's size and
SHA-256 is recorded in DIR/demo.json and checked before reuse (a damaged file
is kept as NAME.damaged and its stage redone), with each stage's wall, CPU and
numba-compile seconds. The RBMs are fitted and sampled by the code of
'isingrbm fit' and 'isingrbm sample [--exact]': each model file records the
seed with which 'isingrbm fit' reproduces it. Conventions: per spin,
k_B = J = 1; hbar = m = 1."""

#: The measured cost, as docs/outputs/demo_timing.json records it (written, and
#: rendered here, by docs/outputs/make_outputs.py --demo from the demo.json of real
#: runs; tests/isingrbm/test_demo_timing.py checks that the two agree).
MEASURED_FULL = "2.0 CPU minutes on a fresh install (compiling included), 1.7 warm"
MEASURED_QUICK = "13 CPU s with a warm cache"

EXAMPLE = ("isingrbm demo --out demo-run --seed 1\n"
           f"  # {MEASURED_FULL};\n"
           f"  # --quick (a smoke test with untrained models): {MEASURED_QUICK}")


OPTIONS = (
    option("--out", default="isingrbm-demo", metavar="DIR", help="demo folder: datasets/, "
           "models/, results/, report/ (default: %(default)s; an existing one is continued)"),
    flag("--quick", "smoke-test version (L = 8, 5 temperatures, few samples, epochs and "
                    "iterations: its models are untrained)"),
    flag("--no-gan", "skip the GAN baseline even if torch is installed"),
)


def register(subparsers) -> None:
    _common.add_subcommand(
        subparsers, "demo",
        help="run the whole pipeline (Monte Carlo -> RBM/GAN -> evaluation -> VMC -> report)",
        description=DESCRIPTION,
        example=EXAMPLE, func=run, options=OPTIONS)


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
    from mcstats.estimate import format_value_error

    stages = summary["stages"]
    lines = [f"isingrbm demo: finished in {summary['seconds']:.1f} s wall, "
             f"{summary['cpu_seconds']:.1f} s CPU (seed {summary['seed']})"]
    mc = stages.get("monte-carlo", {}).get("summary", {})
    if mc:
        lines.append(f"  Monte Carlo: L = {mc.get('L')}, {mc.get('n_temperatures')} temperatures x "
                     f"{mc.get('n_samples')} samples; energy per spin vs exact finite-L: "
                     f"largest deviation {mc.get('max_energy_deviation_sigma', float('nan')):.1f} "
                     "sigma")
    exact = stages.get("exact-sampling", {}).get("summary", {})
    if exact:
        lines.append("  exact RBM Monte Carlo, acceptance: " + ", ".join(
            f"{phase} {entry.get('acceptance_rate', float('nan')):.3f}"
            for phase, entry in exact.items() if isinstance(entry, dict)))
    evaluation = stages.get("evaluate", {}).get("summary", {})
    for line in evaluation.get("lines", []):
        lines.append(f"  {line}")
    for run in stages.get("vmc", {}).get("summary", {}).values():
        lines.append(f"  VMC {run['label']}: E = {format_value_error(run['energy'], run['error'])} "
                     f"hbar omega (exact {run['exact']:g})")
    for run in stages.get("tfim", {}).get("summary", {}).values():
        exact_text = "no exact value" if run.get("exact") is None else (
            f"free fermions {run['exact']:.8g}, relative error {run['relative_error']:.1e}")
        lines.append(f"  VMC TFIM chain N = {run['size']}, h = {run['field']:g}: E = "
                     f"{format_value_error(run['energy'], run['error'])} ({exact_text})")
    if not summary.get("gan"):
        lines.append(f"  GAN skipped: {summary.get('gan_skipped_reason')}")
    lines.append(f"  report: {summary['report_html']}")
    lines.append(f"          {summary['report_md']}")
    return "\n".join(lines)
