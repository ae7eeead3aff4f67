"""The one harness every benchmark in this folder uses: timing, records, peers.

Timing (:func:`measure`)
    ``fn`` is called ``warmup`` times untimed (numba compilation, caches,
    sleeping thread pools), then ``repeats`` times, each call timed by the
    wall clock (``time.perf_counter``) and by the CPU time of this process
    (``time.process_time``: every thread of the process added up, so k busy
    threads accumulate k CPU seconds per wall second). The figures are the
    medians over the repeats of seconds per unit of work. On a shared,
    busy machine wall time also counts the time the process waited for a
    core; CPU time does not, and for one thread it is the better measure of
    cost. Both are reported side by side; the ratio to a peer measured in
    the same run (:func:`speedup`) is what carries over between machines.

Records (:func:`document`, :func:`emit`)
    ``--json`` prints ONE JSON document on stdout: ``{"benchmark", "machine"
    (CPU model, cores, load average, library versions, date, commit),
    "conditions" (the command line's settings, thread counts), "records"
    (the benchmark's list of records)}``; a timing inside a record is
    :meth:`Timing.as_dict` ``{"unit", "wall", "cpu", "repeats"}``. NaN and
    infinities become null. Human text goes to stderr under ``--json``.

Peers (:func:`peer`)
    mcising (Ising Monte Carlo), scikit-learn (RBMs), NetKet (VMC) are
    imported only when a benchmark asks; a missing one raises
    :class:`MissingPeer`, which :func:`main` turns into one line on stderr
    naming the install command and exit status 2: a benchmark never
    presents "peer not measured" as a result.

Threads (:func:`threads`)
    numba and BLAS thread counts are set in ``main`` (never at import), for
    a block, and restored after.

Scripts run from the repository with the package installed
(``pip install -e .[bench]``): ``python benchmarks/NAME.py [--quick] [--json]``.
Importing a benchmark module does nothing but define it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import importlib
import json
import numbers
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

#: peer name -> (module, what it is, install command)
PEERS = {
    "mcising": ("mcising", "Ising Monte Carlo in Rust", "pip install mcising"),
    "scikit-learn": ("sklearn", "BernoulliRBM", "pip install scikit-learn"),
    "netket": ("netket", "VMC with neural quantum states (JAX)", "pip install netket"),
}
#: distributions whose versions every record carries (where installed)
VERSIONED = ("isingrbm", "numpy", "scipy", "numba", "scikit-learn", "threadpoolctl", "torch",
             "mcising", "netket", "jax")


class MissingPeer(ImportError):
    """A peer the benchmark compares with is not installed."""


class BadSetting(ValueError):
    """A setting the benchmark cannot honour (e.g. more threads than numba's pool)."""


# --------------------------------------------------------------------------- timing
@dataclasses.dataclass(frozen=True)
class Timing:
    """Medians over ``repeats`` timed calls of seconds per unit of work."""

    wall: float
    cpu: float
    repeats: int

    def as_dict(self, unit: str = "s per call", scale: float = 1.0) -> dict:
        """JSON form; ``scale`` converts seconds to the ``unit`` (1e9 for ns)."""
        return {"unit": unit, "wall": self.wall * scale, "cpu": self.cpu * scale,
                "repeats": self.repeats}


def measure(fn, *, repeats: int = 5, warmup: int = 1, work: float | None = 1.0,
            clocks=(time.perf_counter, time.process_time)) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then medians of ``repeats`` timed ones.

    ``work`` is the number of units one call does (samples, flips, moves),
    so that the figures are seconds per unit; ``work=None`` means ``fn``
    returns the work it did (e.g. spins flipped by Wolff clusters).
    ``clocks`` (wall, CPU) are replaceable for tests.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats}, {warmup}")
    wall_clock, cpu_clock = clocks
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = wall_clock(), cpu_clock()
        done = fn()
        w1, c1 = wall_clock(), cpu_clock()
        units = done if work is None else work
        if not isinstance(units, numbers.Real) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"the work of one call must be a positive number, got {units!r}")
        walls.append((w1 - w0) / units)
        cpus.append((c1 - c0) / units)
    return Timing(statistics.median(walls), statistics.median(cpus), repeats)


def speedup(ours: Timing, peer: Timing) -> dict:
    """How many times faster ours is than the peer (> 1: ours faster), wall and CPU."""
    def ratio(p, o):
        return p / o if o > 0 else float("nan")
    return {"wall": ratio(peer.wall, ours.wall), "cpu": ratio(peer.cpu, ours.cpu)}


# --------------------------------------------------------------------------- threads
@contextlib.contextmanager
def threads(n: int):
    """numba and every loaded BLAS limited to ``n`` threads for the block; restored after.

    Import the libraries whose BLAS should be limited (scikit-learn, scipy,
    torch) before entering: threadpoolctl limits the libraries loaded then.
    """
    import numba
    from threadpoolctl import threadpool_limits

    from mccore.parallel import numba_threads

    pool = numba.config.NUMBA_NUM_THREADS
    if not 1 <= n <= pool:
        raise BadSetting(f"threads must be between 1 and numba's pool of {pool}, got {n} "
                         f"(start with NUMBA_NUM_THREADS={n} for more)")
    _THREADS_USED.add(n)
    with threadpool_limits(limits=n), numba_threads(n):
        yield


_THREADS_USED: set = set()     # what threads() was asked for in this run (the conditions)


def thread_counts() -> dict:
    """Thread counts set through :func:`threads` in this run, and the defaults outside it."""
    out = {"set_for_measurements": sorted(_THREADS_USED)}
    if "numba" in sys.modules:
        out["numba_default"] = sys.modules["numba"].get_num_threads()
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_info
        out["blas_default"] = sorted({f"{i['internal_api']}: {i['num_threads']}"
                                      for i in threadpool_info()})
    return out


# --------------------------------------------------------------------------- peers
def peer(name: str):
    """The peer's module, imported now; :class:`MissingPeer` naming the install command."""
    module, what, install = PEERS[name]
    if name == "netket":
        # XLA reads these when jax is first imported: one CPU thread, like ours
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                           "intra_op_parallelism_threads=1")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingPeer(f"the peer {name} ({what}) is not installed ({exc}); install it "
                          f"with: {install}   (or: pip install -e '.[bench]')") from None


def sklearn_rbm(n_hidden: int, *, learning_rate: float, batch_size: int, n_iter: int,
                seed: int):
    """scikit-learn's BernoulliRBM (PCD-1, ``batch_size`` persistent chains)."""
    peer("scikit-learn")
    from sklearn.neural_network import BernoulliRBM

    return BernoulliRBM(
        n_components=n_hidden, learning_rate=learning_rate, batch_size=batch_size,
        n_iter=n_iter, random_state=seed)


def mcising_lattice(L: int, algorithm: str, *, seed: int = 1, ordered: bool = False):
    """An mcising L x L simulation, J1 = 1 and no other couplings or field.

    ``sweep(n, temperature=T)`` returns (accepted, attempted, cluster flips);
    its Metropolis sweep is one sequential scan, its Wolff sweep one cluster.
    """
    import numpy as np

    sim = peer("mcising").IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, seed, algorithm)
    if ordered:
        sim.set_spins(np.ones((L, L), dtype=np.int8))
    return sim


def netket_tfim(lattice: str, size: int, field: float):
    """NetKet's (graph, hilbert, Hamiltonian) of our transverse-field Ising model.

    Ours is H = -sum_<ij> sz_i sz_j - h sum_i sx_i on a periodic chain of
    ``size`` sites or ``size`` x ``size`` square; NetKet's ``Ising`` is
    -h sum sx + J sum sz sz, so J = -1.
    """
    nk = peer("netket")
    graph = (nk.graph.Chain(length=size, pbc=True) if lattice == "chain"
             else nk.graph.Square(size, pbc=True))
    hilbert = nk.hilbert.Spin(s=0.5, N=graph.n_nodes)
    return graph, hilbert, nk.operator.Ising(hilbert=hilbert, graph=graph, h=field, J=-1.0)


# --------------------------------------------------------------------------- records
def parser(doc: str) -> argparse.ArgumentParser:
    """The command line every benchmark shares: ``--quick`` and ``--json``."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0].strip(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a short run (minutes at most)")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON document on stdout (human text goes to stderr)")
    return ap


def add_overrides(ap: argparse.ArgumentParser, options: dict) -> None:
    """Options that override a benchmark's own default (None when not given):
    ``{flag: (type, nargs, help)}``."""
    for flag, (kind, nargs, help_text) in options.items():
        ap.add_argument(flag, type=kind, nargs=nargs, default=None, help=help_text)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    return None


def machine() -> dict:
    """Where and when: CPU model, cores, load, library versions, date, commit."""
    versions = {"python": platform.python_version()}
    for dist in VERSIONED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "usable_cores": usable,
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "platform": platform.platform(), "versions": versions,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "commit": _commit()}


def document(benchmark: str, args: argparse.Namespace, records: list, **extra) -> dict:
    """The one JSON document of a run (see the module docstring)."""
    conditions = dict(vars(args), thread_counts=thread_counts())
    return {"benchmark": benchmark, "machine": machine(), "conditions": conditions,
            "records": records, **extra}


def emit(doc: dict, file=None) -> None:
    """Print the document as JSON (stdout by default); NaN/inf as null.

    The app's one JSON cleaner (numpy scalars and arrays, Estimates) is used.
    """
    from isingrbm.pipeline import jsonable

    out = file or sys.stdout
    json.dump(jsonable(doc), out, indent=1, allow_nan=False)
    out.write("\n")


def say(*parts, file=None) -> None:
    """Human text, flushed (progress of a long run); stderr by default."""
    print(*parts, file=file or sys.stderr, flush=True)


def main(entry, argv=None) -> int:
    """Run a benchmark's ``main(argv)``; a missing peer or bad setting: one line, status 2."""
    try:
        return entry(argv)
    except (MissingPeer, BadSetting) as exc:
        print(f"{Path(sys.argv[0]).name}: error: {exc}", file=sys.stderr)
        return 2
