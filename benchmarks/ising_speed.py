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
ns per flipped spin. Without mcising the benchmark stops with exit status 2
and the install command (``--engine-only`` measures our engine alone, to
compare two checkouts run alternately).

Timings by ``benchmarks/_harness.py``. ``--json`` prints the harness's JSON
document; each record is ``{"impl", "L", "T", "threads", "time": {"unit",
"wall", "cpu", "repeats"}}``. The wall figure counts time the process spent
descheduled on a shared machine; the CPU figure (all threads of the process
added up) does not, and is the better measure of a single thread's cost there.
"""

from __future__ import annotations

import statistics
import sys

import numpy as np

if __package__:
    from . import _harness as harness
else:
    import _harness as harness


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


def _summary(records) -> list[str]:
    """Median ratios (peer or NumPy time / ours, 1 thread) over the measured cases."""
    lines = []
    ours = {(r["L"], r["T"]): r["time"] for r in records
            if r["impl"] == "isingrbm" and r["threads"] == 1}
    ours_w = {(r["L"], r["T"]): r["time"] for r in records if r["impl"] == "isingrbm-wolff"}
    for name, mine, unit in (("mcising", ours, "Metropolis"), ("numpy", ours, "Metropolis"),
                             ("mcising-wolff", ours_w, "Wolff")):
        for key in ("wall", "cpu"):
            ratios = [r["time"][key] / mine[(r["L"], r["T"])][key] for r in records
                      if r["impl"] == name and (r["L"], r["T"]) in mine
                      and mine[(r["L"], r["T"])][key] > 0]
            if ratios:
                lines.append(f"{unit}: {name.split('-')[0]} / ours (1 thread, "
                             f"{'wall' if key == 'wall' else 'CPU'} time): median "
                             f"{statistics.median(ratios):.2f}x, range {min(ratios):.2f}-"
                             f"{max(ratios):.2f}x over {len(ratios)} cases")
    return lines


def main(argv=None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--engine-only", action="store_true",
                        help="only our engine on one thread, no baselines (to compare two "
                             "checkouts run alternately: PYTHONPATH=CHECKOUT python ...)")
    args = parser.parse_args(argv)
    mcising = None if args.engine_only else harness.peer("mcising")

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
    say = harness.say

    def add(impl, L, T, threads, timing, unit="ns per attempted flip"):
        records.append({"impl": impl, "L": L, "T": T, "threads": threads,
                        "time": timing.as_dict(unit, 1e9)})
        say(f"  {impl:16s} L={L:5d} T={T:5.3f} threads={threads}: {timing.wall * 1e9:8.3f} "
            f"{unit} (CPU time: {timing.cpu * 1e9:8.3f})")
        return timing.wall

    def timed(fn, work, warmup=1):
        return harness.measure(fn, repeats=repeats, warmup=warmup, work=work)

    if mcising is not None:
        say(f"peer: mcising {mcising.__version__} (Rust, one thread)")

    try:
        from ising.kernels import select_threading_layer
        select_threading_layer()          # what the engine does before its first launch
    except ImportError:                   # an older checkout chose it at import
        pass
    say(f"numba threading layer priority: {numba.config.THREADING_LAYER_PRIORITY}, "
        f"{all_threads} threads available")
    for L in sizes:
        for T in temps:
            n = _n_sweeps(L, budget)
            ns_np = peer = None
            if not args.engine_only:
                # NumPy baseline (one thread); fewer sweeps, it is slow
                base = NumpyCheckerboard(L, 1 / T, np.random.default_rng(1))
                n_np = max(1, n // 40)
                with harness.threads(1):
                    ns_np = add("numpy", L, T, 1, timed(lambda: base.sweep(n_np),
                                                        n_np * L * L))
                sim = harness.mcising_lattice(L, "metropolis")
                sim.sweep(2, temperature=T)                  # warm up
                peer = add("mcising", L, T, 1, timed(lambda: sim.sweep(n, temperature=T),
                                                     n * L * L, warmup=0))
            for threads in ([1] if args.engine_only else thread_counts):
                variants = [("isingrbm", threads)]
                if threads > 1:
                    variants.append(("isingrbm-1chain", 1))
                for impl, n_chains in variants:
                    chains = MetropolisChains(L, 1 / T, n_chains, rng=1)
                    n_run = max(1, n // n_chains)
                    with harness.threads(threads):
                        chains.sweep(2)                     # compile + warm up
                        ns = add(impl, L, T, threads,
                                 timed(lambda: chains.sweep(n_run), n_run * n_chains * L * L,
                                       warmup=0))
                    if threads == 1 and not args.engine_only:
                        ns_one = ns
                        say(f"    one thread: {ns_np / ns:6.1f}x NumPy, {peer / ns:5.2f}x "
                            "mcising (flips per second, wall)")
                    elif impl == "isingrbm" and threads > 1:
                        say(f"    {threads} threads / 1 thread (flips per second): "
                            f"{ns_one / ns:4.2f}x")
    # Wolff: ns per flipped spin, single thread
    wolff_sizes = [s for s in sizes if s <= (64 if args.quick else 256)] or sizes[:1]
    for L in wolff_sizes:
        for T in temps:
            # equilibrated first (ordered start below T_c), so clusters are typical
            chains = WolffChains(L, 1 / T, 1, rng=1, start="up" if T < 2.269 else "random")
            n_run = max(1, int(budget // (4 * L * L)))

            def wolff():
                before = int(chains.n_flipped.sum())
                chains.sweep(n_run)
                return int(chains.n_flipped.sum()) - before
            with harness.threads(1):
                chains.sweep(20)
                ours = add("isingrbm-wolff", L, T, 1, timed(wolff, None, warmup=0),
                           unit="ns per flipped spin")
            if mcising is not None:
                sim = harness.mcising_lattice(L, "wolff", ordered=T < 2.269)
                sim.sweep(20, temperature=T)
                mean_cluster = sim.sweep(200, temperature=T)[0] / 200
                n_clusters = max(1, int(budget // 4 / max(1.0, mean_cluster)))
                peer = add("mcising-wolff", L, T, 1,
                           timed(lambda: sim.sweep(n_clusters, temperature=T)[0], None,
                                 warmup=0), unit="ns per flipped spin")
                say(f"    Wolff: {peer / ours:5.2f}x mcising (flipped spins per second, wall)")

    for line in _summary(records):
        say(line)
    if args.json:
        harness.emit(harness.document("ising_speed", args, records))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(main))
