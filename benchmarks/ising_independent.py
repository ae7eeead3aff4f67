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
measurement (compile and Wolff calibration excluded). "auto" is what
``ising.simulate(algorithm="auto")`` picks at T_c (one of the two measured
rows, repeated under that name). The Metropolis row is the baseline.

``--json`` prints one JSON list of records ``{"impl", "L", "T", "tau_int",
"reliable", "sweeps_per_second", "independent_per_second"}`` on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


def _measure(cls, L, n_chains, n_equil, n_steps, seed):
    chains = cls(L, 1.0 / T_C, n_chains, rng=seed, start="up")
    chains.sweep(n_equil)
    series = np.empty((n_chains, n_steps))
    t0 = time.perf_counter()
    for t in range(n_steps):
        chains.sweep(1)
        series[:, t] = chains.magnetization()
    elapsed = time.perf_counter() - t0
    return np.abs(series) / (L * L), elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="L = 16, 32 and short series")
    parser.add_argument("--json", action="store_true", help="print one JSON list on stdout")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--chains", type=int, default=4)
    args = parser.parse_args(argv)

    import numba

    from ising.chains import MetropolisChains, WolffChains
    from mcstats import integrated_time

    try:
        from ising.montecarlo import resolve_algorithm
        auto = resolve_algorithm(T_C, "auto")
    except ImportError:                      # the driver is optional here
        auto = None

    sizes = args.sizes or ([16, 32] if args.quick else [16, 32, 64])
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    records = []
    try:
        for L in sizes:
            by_impl = {}
            for name, cls, steps_per_tau in (("metropolis", MetropolisChains, 0.06 * L ** 2.17),
                                             ("wolff", WolffChains, 2.0)):
                # long enough for >= 50 tau with the expected tau (z = 2.17 / ~0)
                n_steps = int(max(2000, 120 * steps_per_tau) // (4 if args.quick else 1))
                n_equil = max(200, n_steps // 10)
                _measure(cls, 8, 1, 2, 2, 0)                  # compile
                x, elapsed = _measure(cls, L, args.chains, n_equil, n_steps, seed=L)
                tau = float(integrated_time(x, quiet=True))
                reliable = n_steps >= 50 * tau
                sweeps_ps = args.chains * n_steps / elapsed
                rec = {"impl": name, "L": L, "T": round(T_C, 6), "tau_int": round(tau, 3),
                       "reliable": bool(reliable), "sweeps_per_second": round(sweeps_ps, 1),
                       "independent_per_second": round(sweeps_ps / (2 * tau), 2)}
                records.append(rec)
                by_impl[name] = rec
                print(f"L={L:3d} {name:10s} tau_int(|m|) = {tau:7.2f} sweeps"
                      f"{'' if reliable else ' (UNRELIABLE: series < 50 tau)'}, "
                      f"{sweeps_ps:10.0f} sweeps/s, {rec['independent_per_second']:9.1f} "
                      f"independent samples/s", file=sys.stderr, flush=True)
            ratio = by_impl["wolff"]["independent_per_second"] / \
                by_impl["metropolis"]["independent_per_second"]
            print(f"       Wolff / Metropolis independent samples per second: {ratio:.1f}x",
                  file=sys.stderr)
            if auto is not None:
                records.append(dict(by_impl[auto], impl="auto", algorithm=auto))
    finally:
        numba.set_num_threads(previous)
    if args.json:
        print(json.dumps(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
