"""Effectively independent Ising samples per second at T_c: Metropolis vs Wolff.

    python benchmarks/ising_independent.py [--quick] [--json] [--sizes 16 32 64]

For each L, both algorithms run ``n_chains`` chains (one numba thread) at
T_c = 2/ln(1+sqrt 2), equilibrate, then record |m| after every sweep
(Wolff: sweep-equivalent, see ``ising.chains.WolffChains``). tau_int of |m|
comes from Sokal's window (``mcstats.integrated_time``; flagged unreliable
if the series is shorter than 50 tau). Samples spaced by 2 tau_int are
effectively independent, so

    independent samples / s = (chains x sweeps) / (2 tau_int) / seconds,

the seconds being the wall time of the recorded sweeps including the
measurement (compile and Wolff calibration excluded); the CPU time of the
process is recorded beside it. "auto" is what
``ising.simulate(algorithm="auto")`` picks at T_c (one of the two measured
rows, repeated under that name). The Metropolis row is the baseline,
measured in the same run.

``--json`` prints the JSON document of ``benchmarks/_harness.py``; each
record is ``{"impl", "L", "T", "tau_int", "reliable", "sweeps_per_second",
"independent_per_second", "independent_per_cpu_second"}``.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

if __package__:
    from . import _harness as harness
else:
    import _harness as harness

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


def _measure(cls, L, n_chains, n_equil, n_steps, seed):
    chains = cls(L, 1.0 / T_C, n_chains, rng=seed, start="up")
    chains.sweep(n_equil)
    series = np.empty((n_chains, n_steps))
    t0, c0 = time.perf_counter(), time.process_time()
    for t in range(n_steps):
        chains.sweep(1)
        series[:, t] = chains.magnetization()
    return np.abs(series) / (L * L), time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--chains", type=int, default=4)
    args = parser.parse_args(argv)

    from ising.chains import MetropolisChains, WolffChains
    from mcstats import integrated_time

    try:
        from ising.montecarlo import resolve_algorithm
        auto = resolve_algorithm(T_C, "auto")
    except ImportError:                      # the driver is optional here
        auto = None

    sizes = args.sizes or ([16, 32] if args.quick else [16, 32, 64])
    records = []
    with harness.threads(1):
        for L in sizes:
            by_impl = {}
            for name, cls, steps_per_tau in (("metropolis", MetropolisChains, 0.06 * L ** 2.17),
                                             ("wolff", WolffChains, 2.0)):
                # long enough for >= 50 tau with the expected tau (z = 2.17 / ~0)
                n_steps = int(max(2000, 120 * steps_per_tau) // (4 if args.quick else 1))
                n_equil = max(200, n_steps // 10)
                _measure(cls, 8, 1, 2, 2, 0)                  # compile
                x, elapsed, cpu = _measure(cls, L, args.chains, n_equil, n_steps, seed=L)
                tau = float(integrated_time(x, quiet=True))
                reliable = n_steps >= 50 * tau
                sweeps_ps = args.chains * n_steps / elapsed
                rec = {"impl": name, "L": L, "T": round(T_C, 6), "tau_int": round(tau, 3),
                       "reliable": bool(reliable), "sweeps_per_second": round(sweeps_ps, 1),
                       "independent_per_second": round(sweeps_ps / (2 * tau), 2),
                       "independent_per_cpu_second": round(
                           args.chains * n_steps / cpu / (2 * tau), 2)}
                records.append(rec)
                by_impl[name] = rec
                harness.say(f"L={L:3d} {name:10s} tau_int(|m|) = {tau:7.2f} sweeps"
                            f"{'' if reliable else ' (UNRELIABLE: series < 50 tau)'}, "
                            f"{sweeps_ps:10.0f} sweeps/s, "
                            f"{rec['independent_per_second']:9.1f} independent samples/s "
                            f"({rec['independent_per_cpu_second']:9.1f} per CPU second)")
            ratio = by_impl["wolff"]["independent_per_second"] / \
                by_impl["metropolis"]["independent_per_second"]
            harness.say(f"       Wolff / Metropolis independent samples per second: "
                        f"{ratio:.1f}x")
            if auto is not None:
                records.append(dict(by_impl[auto], impl="auto", algorithm=auto))
    if args.json:
        harness.emit(harness.document("ising_independent", args, records))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(main))
