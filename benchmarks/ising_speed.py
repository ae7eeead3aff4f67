"""Ising Monte Carlo speed: ns per attempted spin flip (Metropolis) and per
flipped spin (Wolff), beside the peer ``mcising`` (Rust) and a vectorized
NumPy checkerboard, all measured in the same run.

    python benchmarks/ising_speed.py [--quick] [--json] [--sizes 64 256 1024]

Metropolis: ``ising.chains.MetropolisChains`` (colour-packed checkerboard,
counter-based SplitMix64 draws). With k threads it runs k independent chains
(one per thread, impl "isingrbm") and, for k > 1, also one chain whose
half-sweeps are split over the threads by rows (impl "isingrbm-1chain").
Timings are medians of repeats; the first call (numba compile) is excluded.
The NumPy baseline is a straightforward vectorized checkerboard
(``np.roll`` neighbour sums, a Boltzmann table, ``Generator.random``), one
thread. The peer is ``mcising`` (``pip install mcising``; a Rust/PyO3
engine, one thread): ``IsingSimulation(L, J1, J2, J3, h, seed, algorithm)``
with J1 = 1 and no other couplings, ``sweep(n, temperature=T)``, which
returns (accepted, attempted, cluster flips); its Metropolis is a
sequential scan, one attempt per site per sweep, and its Wolff sweep is one
cluster, the flipped spins being ``accepted``. Both engines are warmed up
(our numba compile excluded) and timed on the same L, T and number of
attempted flips. Wolff: ``ising.chains.WolffChains`` and mcising's Wolff,
ns per flipped spin. The benchmark refuses to run without mcising (install
it, or pass ``--no-peer`` to measure ours and NumPy only).

``--json`` prints one JSON list of records ``{"impl", "L", "T", "threads",
"ns_per_flip", "ns_per_flip_cpu", "unit"}`` on stdout (human text goes to
stderr). ``ns_per_flip`` is from wall time; ``ns_per_flip_cpu`` from the
process's CPU time, which on a shared, busy machine is the better measure of
a single thread's cost (it ignores time the process spent descheduled; for
several threads it adds up all threads).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np


def _median_time(fn, repeats: int) -> tuple[float, float]:
    """Median wall time and median process CPU time of ``fn()`` over repeats."""
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _n_sweeps(L: int, budget_flips: float) -> int:
    return max(1, int(budget_flips // (L * L)))


class NumpyCheckerboard:
    """Vectorized NumPy checkerboard Metropolis (the baseline), one lattice."""

    def __init__(self, L: int, beta: float, rng):
        self.rng = rng
        self.s = (2 * rng.integers(0, 2, size=(L, L)) - 1).astype(np.int8)
        i, j = np.indices((L, L))
        self.masks = [((i + j) % 2) == c for c in (0, 1)]
        # acceptance of dE = 2 s nb, indexed by s*nb + 4 in 0..8
        x = np.arange(-4, 5)
        self.table = np.minimum(1.0, np.exp(-beta * 2.0 * x))

    def sweep(self, n: int) -> None:
        s = self.s
        for _ in range(n):
            for mask in self.masks:
                nb = (np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1)
                      + np.roll(s, -1, 1))
                p = self.table[s * nb + 4]
                flip = mask & (self.rng.random(s.shape) < p)
                s = np.where(flip, -s, s).astype(np.int8)
        self.s = s


def _mean_cluster(sim, T: float) -> float:
    """Mean Wolff cluster size of an mcising simulation (from 200 clusters)."""
    return sim.sweep(200, temperature=T)[0] / 200


def _summary(records) -> list[str]:
    """Median ratios (peer or NumPy time / ours, 1 thread) over the measured cases."""
    lines = []
    ours = {(r["L"], r["T"]): r for r in records if r["impl"] == "isingrbm" and r["threads"] == 1}
    ours_w = {(r["L"], r["T"]): r for r in records if r["impl"] == "isingrbm-wolff"}
    for name, mine, unit in (("mcising", ours, "Metropolis"), ("numpy", ours, "Metropolis"),
                             ("mcising-wolff", ours_w, "Wolff")):
        for key in ("ns_per_flip", "ns_per_flip_cpu"):
            ratios = [r[key] / mine[(r["L"], r["T"])][key] for r in records
                      if r["impl"] == name and (r["L"], r["T"]) in mine
                      and mine[(r["L"], r["T"])][key] > 0]
            if ratios:
                lines.append(f"{unit}: {name.split('-')[0]} / ours (1 thread, "
                             f"{'wall' if key == 'ns_per_flip' else 'CPU'} time): median "
                             f"{statistics.median(ratios):.2f}x, range {min(ratios):.2f}-"
                             f"{max(ratios):.2f}x over {len(ratios)} cases")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--json", action="store_true", help="print one JSON list on stdout")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--no-peer", action="store_true",
                        help="do not measure mcising (e.g. where it cannot be installed)")
    parser.add_argument("--engine-only", action="store_true",
                        help="only our engine on one thread, no baselines (to compare two "
                             "checkouts run alternately: PYTHONPATH=CHECKOUT python ...)")
    args = parser.parse_args(argv)
    mcising = None
    if not (args.no_peer or args.engine_only):
        try:
            import mcising
        except ImportError:
            print("ising_speed: error: the peer mcising is not installed; "
                  "pip install mcising (or pass --no-peer)", file=sys.stderr)
            return 2

    import numba

    from ising.chains import MetropolisChains, WolffChains

    sizes = args.sizes or ([64, 256] if args.quick else [64, 256, 1024])
    repeats = args.repeats or (3 if args.quick else 5)
    # attempted flips per timed repeat: with 2e7 (7 ms on one thread) the
    # wake-up of sleeping worker threads dominated and 2 threads showed 1.0-1.4x;
    # with 2e8 the same kernels show 2.0x on an idle 2-core machine
    budget = 2e7 if args.quick else 2e8
    temps = [2.269, 1.5]
    all_threads = numba.config.NUMBA_NUM_THREADS
    thread_counts = sorted({1, all_threads})
    records = []

    def say(msg):
        print(msg, file=sys.stderr, flush=True)

    def add(impl, L, T, threads, ns, ns_cpu, unit="ns per attempted flip"):
        records.append({"impl": impl, "L": L, "T": T, "threads": threads,
                        "ns_per_flip": round(ns, 4), "ns_per_flip_cpu": round(ns_cpu, 4),
                        "unit": unit})
        say(f"  {impl:16s} L={L:5d} T={T:5.3f} threads={threads}: {ns:8.3f} {unit} "
            f"(CPU time: {ns_cpu:8.3f})")

    if mcising is not None:
        say(f"peer: mcising {mcising.__version__} (Rust, one thread)")

    try:
        from ising.kernels import select_threading_layer
        select_threading_layer()          # what the engine does before its first launch
    except ImportError:                   # an older checkout chose it at import
        pass
    say(f"numba threading layer priority: {numba.config.THREADING_LAYER_PRIORITY}, "
        f"{all_threads} threads available")
    previous = numba.get_num_threads()
    try:
        for L in sizes:
            for T in temps:
                n = _n_sweeps(L, budget)
                ns_np = math.nan
                if not args.engine_only:
                    # NumPy baseline (one thread); fewer sweeps, it is slow
                    base = NumpyCheckerboard(L, 1 / T, np.random.default_rng(1))
                    n_np = max(1, n // 40)
                    base.sweep(1)
                    t, c = _median_time(lambda: base.sweep(n_np), repeats)
                    ns_np = t / (n_np * L * L) * 1e9
                    add("numpy", L, T, 1, ns_np, c / (n_np * L * L) * 1e9)
                peer = None
                if mcising is not None:
                    sim = mcising.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 1, "metropolis")
                    sim.sweep(2, temperature=T)                  # warm up
                    t, c = _median_time(lambda: sim.sweep(n, temperature=T), repeats)
                    peer = t / (n * L * L) * 1e9
                    add("mcising", L, T, 1, peer, c / (n * L * L) * 1e9)
                for threads in ([1] if args.engine_only else thread_counts):
                    numba.set_num_threads(threads)
                    variants = [("isingrbm", threads)]
                    if threads > 1:
                        variants.append(("isingrbm-1chain", 1))
                    for impl, n_chains in variants:
                        chains = MetropolisChains(L, 1 / T, n_chains, rng=1)
                        chains.sweep(2)                     # compile + warm up
                        n_run = max(1, n // n_chains)
                        t, c = _median_time(lambda: chains.sweep(n_run), repeats)
                        ns = t / (n_run * n_chains * L * L) * 1e9
                        add(impl, L, T, threads, ns, c / (n_run * n_chains * L * L) * 1e9)
                        if threads == 1 and not args.engine_only:
                            ns_one = ns
                            say(f"    one thread: {ns_np / ns:6.1f}x NumPy"
                                + (f", {peer / ns:5.2f}x mcising" if peer else "")
                                + " (flips per second, wall)")
                        elif impl == "isingrbm" and threads > 1:
                            say(f"    {threads} threads / 1 thread (flips per second): "
                                f"{ns_one / ns:4.2f}x")
        # Wolff: ns per flipped spin, single thread
        numba.set_num_threads(1)
        wolff_sizes = [s for s in sizes if s <= (64 if args.quick else 256)] or sizes[:1]
        for L in wolff_sizes:
            for T in temps:
                # equilibrated first (ordered start below T_c), so clusters are typical
                chains = WolffChains(L, 1 / T, 1, rng=1, start="up" if T < 2.269 else "random")
                chains.sweep(20)
                n_run = max(1, int(budget // (4 * L * L)))
                runs = []
                for _ in range(repeats):
                    before = int(chains.n_flipped.sum())
                    t0, c0 = time.perf_counter(), time.process_time()
                    chains.sweep(n_run)
                    flipped = int(chains.n_flipped.sum()) - before
                    runs.append(((time.perf_counter() - t0) / flipped,
                                 (time.process_time() - c0) / flipped))
                ours = statistics.median(r[0] for r in runs) * 1e9
                add("isingrbm-wolff", L, T, 1, ours,
                    statistics.median(r[1] for r in runs) * 1e9, unit="ns per flipped spin")
                if mcising is not None:
                    sim = mcising.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 1, "wolff")
                    if T < 2.269:
                        sim.set_spins(np.ones((L, L), dtype=np.int8))
                    sim.sweep(20, temperature=T)
                    n_clusters = max(1, int(budget // 4 / max(1.0, _mean_cluster(sim, T))))
                    runs = []
                    for _ in range(repeats):
                        t0, c0 = time.perf_counter(), time.process_time()
                        flipped = sim.sweep(n_clusters, temperature=T)[0]
                        runs.append(((time.perf_counter() - t0) / flipped,
                                     (time.process_time() - c0) / flipped))
                    peer = statistics.median(r[0] for r in runs) * 1e9
                    add("mcising-wolff", L, T, 1, peer,
                        statistics.median(r[1] for r in runs) * 1e9,
                        unit="ns per flipped spin")
                    say(f"    Wolff: {peer / ours:5.2f}x mcising (flipped spins per second, wall)")
    finally:
        numba.set_num_threads(previous)

    for line in _summary(records):
        say(line)
    if args.json:
        print(json.dumps(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
