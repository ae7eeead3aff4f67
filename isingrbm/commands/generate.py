"""``isingrbm generate``: Monte Carlo samples of the 2D Ising model into HDF5.

All input is validated here and in :func:`ising.simulate`, before anything
is computed or written (also derived values: beta = 1/T must be finite, and
the run's memory estimate must fit the machine): a bad value gives one line
on stderr and exit status 2 (via the CLI frame), and no file is created or
touched. How the output file is written (the lock held for the whole run,
``--overwrite`` into ``FILE.partial`` and ``os.replace`` at the end,
``--resume``, symlinks written through, a full disk) is described in
:mod:`ising.montecarlo`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from mccore.errors import InvalidParameterError, IsingRBMError

from . import _common
from ._params import flag, flag_message, option, read_option, rows

DESCRIPTION = """\
Generate equilibrated, effectively independent configurations of the 2D
Ising model (periodic L x L, J = k_B = 1) at each temperature and store them
in one HDF5 file (schema: datasets/README.md). Per temperature: equilibration with
a drift check, tau_int of E and |M| (Sokal), one stored sample per chain
every ceil(2 tau_int) sweeps. --algorithm auto uses Wolff cluster updates
for T <= T_c + 0.5 and checkerboard Metropolis above (recorded per T). The
file is written as the run goes (with checkpoints every few seconds): an
interrupted run is continued with --resume and ends with exactly the file
an uninterrupted run would have written. --overwrite of an existing FILE
writes FILE.partial and replaces FILE only when the run is complete (FILE
stays intact until then; --resume continues FILE.partial). A FILE that is a
symlink is written through (the link stays). A second run writing the same
FILE is refused while the first runs. At the end a table: per T the
phase, algorithm, tau_int, e +- err beside the exact finite-L e, c beside
the exact c, |m|, chi, U4. Under 'mpiexec -n K' temperatures are spread
over the ranks (rank 0 writes)."""

EXAMPLE = ("isingrbm generate --size 16 --temperatures 1.5 2.269 3.0 --samples 2000 "
           "--out datasets/L16.h5 --seed 1")


#: the options; those with a ``setting`` are read after parsing with the rules of
#: :data:`ising.settings.SIMULATE_SETTINGS` (ising is too heavy to import for --help)
OPTIONS = (
    option("--size", "-L", setting="L", required=True, metavar="L",
           help="linear lattice size L >= 2 (N = L^2 spins)"),
    option("--temperatures", "-T", setting="temperatures", required=True, nargs="+",
           metavar="T", help="one or more distinct temperatures > 0 (k_B = J = 1); "
                             "T_c = 2.269185"),
    option("--samples", "-n", setting="n_samples", required=True, metavar="N",
           help="samples to store per temperature (>= 1)"),
    option("--out", "-o", required=True, metavar="FILE", help="output HDF5 file"),
    option("--algorithm", setting="algorithm", default="auto",
           metavar="{auto,metropolis,wolff}",
           help="update algorithm (default: auto = Wolff for T <= T_c + 0.5, "
                "Metropolis above)"),
    flag("--resume", "continue an interrupted run in FILE (same size, temperatures, samples; the "
                     "file's seed)"),
    flag("--overwrite", "replace an existing FILE (kept intact until the new run completes)"),
    option("--threads", setting="n_threads", default=None, metavar="K",
           help="numba threads (results do not depend on it)"),
    option("--chains", setting="n_chains", default=None, metavar="K",
           help="independent chains per temperature "
                "(default: clip(N_samples / 32, 1, 64))"),
    option("--checkpoint-every", setting="checkpoint_interval", default="2", metavar="SECONDS",
           help="seconds between appends + checkpoints (default: %(default)s)"),
)


def register(subparsers) -> None:
    _common.add_subcommand(
        subparsers, "generate", help="Monte Carlo samples of the 2D Ising model into HDF5",
        description=DESCRIPTION, example=EXAMPLE, func=run, options=OPTIONS)


def _library_check(check, *args, **kwargs):
    """``check`` (one of ising's), its refusal naming the flags instead of the settings."""
    try:
        return check(*args, **kwargs)
    except InvalidParameterError as exc:
        raise flag_message(exc, [OPTIONS]) from None


def parse(args) -> dict:
    """Validate the arguments with ising's rules (:data:`ising.settings.SIMULATE_SETTINGS`,
    :func:`ising.montecarlo.check_run_settings`), in the order of the options; returns the
    keyword arguments of ``ising.simulate``. The output is checked before the rules across
    settings (memory), as :func:`ising.simulate` does."""
    from ising.montecarlo import check_run_settings
    from ising.settings import SIMULATE_SETTINGS, check_temperatures

    values = {}
    for row in rows(OPTIONS):
        if row.setting in SIMULATE_SETTINGS:
            values[row.setting] = read_option(args, row, SIMULATE_SETTINGS[row.setting])
            if row.setting == "temperatures":    # distinct before the later flags
                _library_check(check_temperatures, values["temperatures"])
    if args.resume and args.overwrite:
        raise InvalidParameterError("--resume and --overwrite exclude each other; pass one")
    if args.seed is not None and args.seed >= 2**64:
        raise InvalidParameterError(f"--seed must be an integer in [0, 2^64), got {args.seed}")
    from ising.montecarlo import check_output, partial_path
    from mccore.rng import recorded_seed, seed_sequence

    path = Path(args.out)
    check_output(path, args.overwrite, args.resume)   # names --resume and --overwrite
    path = _common.check_output_path(path, overwrite=True)
    continued = partial_path(path) if partial_path(path).exists() else path
    if args.resume and continued.exists():
        import ising
        ising.validate(continued)            # foreign/corrupt: refuse before computing
        rng = args.seed                      # None: the file's seed
    else:
        rng = recorded_seed(seed_sequence(args.seed))
    # the checks across settings (numba's thread count, memory) after the output's
    L, temps, samples = _library_check(check_run_settings, **values)
    return dict(values, L=L, temperatures=temps, n_samples=samples, rng=rng, path=path,
                resume=args.resume, overwrite=args.overwrite)


class _CountLines:
    """The run's log, with its per-temperature count lines ("T=2: 640/2000 samples",
    one per append) thinned to one per progress-line interval
    (:func:`mccore.progress.line_interval`) and given the remaining time at
    that temperature's rate so far; every other message passes unchanged.
    Outside :func:`mccore.progress.progress_lines` every message passes.
    """

    _COUNT = re.compile(r"^T=(?P<T>\S+): (?P<n>\d+)/(?P<total>\d+) samples$")

    def __init__(self, log):
        self.log = log
        self.seen: dict = {}

    def __call__(self, message: str) -> None:
        from mccore.progress import format_seconds, line_interval

        match = self._COUNT.match(message)
        interval = line_interval()
        if match is None or interval is None:
            self.log(message)
            return
        now = time.monotonic()
        n, total = int(match["n"]), int(match["total"])
        first = self.seen.get(match["T"])
        if first is None:
            self.seen[match["T"]] = {"t": now, "n": n, "last": now}
            self.log(message)
            return
        if now - first["last"] < interval:
            return
        first["last"] = now
        if n > first["n"]:
            left = (now - first["t"]) / (n - first["n"]) * (total - n)
            message += f", about {format_seconds(left)} left at this temperature"
        self.log(message)


def run(args) -> int:
    from ising import mpi

    rank = 0
    if mpi.launched_size() > 1:
        comm = mpi.world()
        rank = comm.Get_rank() if comm is not None else 0
    try:
        kwargs = parse(args)
        import ising

        from .inspect import format_table, summarize

        progress = _common.progress_enabled(args) and rank == 0
        log = None
        if rank == 0 and not args.quiet:
            log = _CountLines(lambda message: _common.info(args, message))
        try:
            ensembles = ising.simulate(**kwargs, progress=progress, log=log)
        except KeyboardInterrupt:
            if rank == 0:
                from ising.montecarlo import partial_path
                kept = partial_path(kwargs["path"])
                kept = kept if kept.exists() else kwargs["path"]
                if kept.exists():
                    _common.info(args, f"isingrbm generate: the samples so far are kept in "
                                       f"{kept}; continue the run with --resume")
            raise
    except IsingRBMError:
        if rank != 0:          # rank 0 reports; the others leave quietly
            return 2
        raise
    if rank != 0:
        return 0
    with ising.open_dataset(kwargs["path"]) as f:
        root = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    summary = summarize(ensembles, L=kwargs["L"], path=kwargs["path"], root=root)
    if args.json:
        _common.emit_json(summary)
        _common.info(args, format_table(summary))
    else:
        print(format_table(summary))
    return 0
