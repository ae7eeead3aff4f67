"""``isingrbm import mehta`` and ``isingrbm export mehta``: the field's dataset in and out.

The Mehta et al. (2019, Phys. Rep. 810) Ising set is a pickled
``np.packbits`` array (bit 1 = spin +1, L*L spins per row, row-major; the
temperatures in ascending blocks) plus a pickled array of labels (1 ordered,
0 disordered). ``import mehta`` reads such pickles with a restricted
unpickler (NumPy arrays only: a pickle that names any other global is
refused, nothing of it runs) into an ordinary dataset file (``source =
"imported"``) that ``inspect``, ``fit``, ``evaluate`` and ``gan fit`` take;
``export mehta`` writes a dataset file back in that layout. The work is done
by :mod:`ising.mehta`.
"""

from __future__ import annotations


from . import _common
from ._params import flag, option

IMPORT_DESCRIPTION = """\
Read a dataset of another format into an isingrbm dataset file (HDF5,
source 'imported'), ready for inspect, fit, evaluate and gan fit.

  mehta   the Ising set of Mehta et al., 'A high-bias, low-variance introduction
          to machine learning for physicists', Phys. Rep. 810 (2019): L = 40,
          T = 0.25, 0.50, ..., 4.00, 10^4 configurations each, a pickled
          np.packbits uint8 array (bit 1 = spin +1) and a pickled labels array"""

IMPORT_MEHTA_DESCRIPTION = """\
Import the Mehta et al. (2019) Ising set: DATA pickles of np.packbits uint8
arrays (bit 1 = spin +1, bit 0 = spin -1; one row of L*L spins per
configuration, row-major; shape (n, L*L/8) or the flat bit stream) into an
isingrbm dataset file. The temperatures of a file come from --temperatures,
else its name (Ising2DFM_reSample_L40_T=2.25.pkl: one temperature), else the
file <stem>_temperatures.txt beside it (written by 'isingrbm export mehta'),
else for T=All names the published 16 (0.25, 0.50, ..., 4.00, in equal
ascending blocks of rows). L comes from --size, else the name (_L40_), else
the row width, else 40. --labels: one label per configuration (1 ordered,
0 disordered, constant within a temperature), stored as each temperature's
mehta_label; the house phase labels (ordered / critical / disordered) are set
from T as for every dataset. Pickles are read with a restricted unpickler:
only NumPy arrays of the expected dtype and shape are accepted, a pickle that
names anything else (code) is refused in one line and nothing of it runs.
Energies and magnetizations are computed from the spins, so 'isingrbm inspect'
shows them beside the exact finite-lattice values."""

IMPORT_MEHTA_EXAMPLE = (
    "isingrbm import mehta Ising2DFM_reSample_L40_T=All.pkl "
    "--labels Ising2DFM_reSample_L40_T=All_labels.pkl --out mehta.h5\n"
    "  isingrbm import mehta Ising2DFM_reSample_L40_T=1.00.pkl "
    "Ising2DFM_reSample_L40_T=3.00.pkl --out two.h5\n"
    "  isingrbm import mehta states.pkl --temperatures 1.5 2.269 3.5 --size 16 --out s.h5")

EXPORT_DESCRIPTION = """\
Write an isingrbm dataset file in another format.

  mehta   the all-temperatures layout of Mehta et al. (2019): a pickled
          np.packbits data array and a pickled labels array"""

EXPORT_MEHTA_DESCRIPTION = """\
Export a dataset file (any source; the same number of configurations at every
temperature) in the Mehta et al. (2019) layout, into the folder DIR (created
if missing): Ising2DFM_reSample_L<L>_T=All.pkl (np.packbits uint8 array of
shape (n_total, L*L/8), bit 1 = spin +1, temperatures in ascending blocks),
Ising2DFM_reSample_L<L>_T=All_labels.pkl (per configuration: the imported
Mehta label where the file has one, else 1 for T < T_c and 0 above) and
Ising2DFM_reSample_L<L>_T=All_temperatures.txt (the block temperatures, one a
line, exact), which 'isingrbm import mehta' reads back, so that import ->
export -> import gives the same spins bit for bit. The files are written to
temporary files and moved into place only when all are complete; existing
files of these names are kept unless --overwrite. Read the data as the
published notebooks do: np.unpackbits(data).reshape(-1, L*L), 0 -> -1 (for L*L
not a multiple of 8: np.unpackbits(data, axis=1, count=L*L))."""

EXPORT_MEHTA_EXAMPLE = "isingrbm export mehta L16.h5 --out mehta_L16/"


def register(subparsers) -> None:
    verbs = {  # verb: its help and description, then those of its format mehta
        "import": ("read another dataset format (Mehta et al. 2019 pickles)",
                   IMPORT_DESCRIPTION, "Mehta et al. (2019) np.packbits pickles (+ labels)",
                   IMPORT_MEHTA_DESCRIPTION, IMPORT_MEHTA_EXAMPLE, run_import, IMPORT_OPTIONS),
        "export": ("write a dataset in another format (Mehta et al. 2019)", EXPORT_DESCRIPTION,
                   "the Mehta et al. (2019) all-temperatures pickles",
                   EXPORT_MEHTA_DESCRIPTION, EXPORT_MEHTA_EXAMPLE, run_export, EXPORT_OPTIONS),
    }
    for verb, (help_, description, mehta_help, mehta_description, example, func,
               options) in verbs.items():
        _add_mehta_subcommand(subparsers, verb, help=help_, description=description,
                              mehta_help=mehta_help, mehta_description=mehta_description,
                              example=example, func=func, options=options)


def _no_action(args) -> int:  # pragma: no cover - argparse requires a format
    return 2


IMPORT_OPTIONS = (
    option("data", nargs="+", metavar="DATA.pkl",
           help="the all-temperatures data pickle, or per-temperature pickles"),
    option("--labels", metavar="LABELS.pkl",
           help="the labels pickle (one 0/1 label per configuration of DATA)"),
    option("--temperatures", "-T", nargs="+", type=_common.temperature, metavar="T",
           help="temperatures where the file names do not say them: with one file, those of "
                "its equal blocks of rows in order; with several, one per file"),
    option("--size", "-L", type=_common.integer, default=None, metavar="L",
           help="linear lattice size (default: from the name, the row width, or 40)"),
    option("--out", required=True, metavar="FILE.h5", help="the dataset file to write (HDF5)"),
    flag("--overwrite", "replace an existing --out"),
)

EXPORT_OPTIONS = (
    option("file", metavar="FILE.h5", help="an isingrbm dataset file"),
    option("--out", required=True, metavar="DIR",
           help="folder for the pickles (created if missing)"),
    flag("--overwrite", "replace files of the same names in DIR"),
)


def _add_mehta_subcommand(subparsers, verb, *, help, description, mehta_help,
                          mehta_description, example, func, options):
    """``isingrbm VERB`` with its one format ``mehta``; the ``VERB mehta`` parser (its
    ``--seed`` has no effect: nothing is drawn)."""
    parser = _common.add_subcommand(subparsers, verb, help=help, description=description,
                                    example=example, func=_no_action)
    formats = parser.add_subparsers(dest=f"{verb}_format", metavar="<format>", required=True)
    mehta = _common.add_subcommand(formats, "mehta", help=mehta_help,
                                   description=mehta_description, example=example, func=func,
                                   options=options, draws=False)
    mehta.set_defaults(command_path=f"{verb} mehta")
    return mehta


def run_import(args) -> int:
    from ising import mehta
    from mccore.errors import InvalidParameterError

    if args.size is not None and args.size < 2:
        raise InvalidParameterError(f"--size must be an integer >= 2, got {args.size}")
    inputs = [_common.check_input_file(p) for p in args.data]
    if args.labels is not None:
        inputs.append(_common.check_input_file(args.labels))
    target = _common.check_output_path(args.out, overwrite=args.overwrite, inputs=inputs)
    summary = mehta.import_mehta(args.data, target, labels=args.labels,
                                 temperatures=args.temperatures, L=args.size,
                                 overwrite=args.overwrite)
    summary["out"] = str(args.out)
    if args.json:
        _common.emit_json(summary)
    rows = summary["temperatures"]
    temperatures = ", ".join(f"{row['T']:g}" for row in rows)
    labels = ("" if summary["labels_file"] is None else
              ", Mehta labels " + "".join(str(row["mehta_label"]) for row in rows))
    _common.info(args, f"imported {sum(row['n_samples'] for row in rows)} configurations "
                       f"(L = {summary['L']}, {len(rows)} temperatures {temperatures}{labels}) "
                       f"into {args.out}; see 'isingrbm inspect {args.out}'")
    return 0


def run_export(args) -> int:
    from ising import mehta

    source = _common.check_input_file(args.file)
    out = _common.check_output_folder(args.out, flag="--out")
    summary = mehta.export_mehta(source, out, overwrite=args.overwrite)
    if args.json:
        _common.emit_json(summary)
    _common.info(args, f"wrote {summary['n_per_temperature']} configurations at each of "
                       f"{len(summary['temperatures'])} temperatures (L = {summary['L']}) to "
                       + ", ".join(summary["files"].values()))
    return 0
