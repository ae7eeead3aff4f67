"""Demo stage 1: Monte Carlo data at every temperature, with the exact values beside.

Writes ``datasets/ising_L<L>.h5`` (resumed if partial) and
``results/monte_carlo.json`` (observables per spin, k_B = J = 1, with the
exact finite-lattice and infinite-lattice values).
"""

from __future__ import annotations

from mccore.version import software_version

from .. import pipeline
from ..pipeline import write_json
from ._util import deviation

__all__ = ["run"]


def run(ctx):
    import ising

    cfg, paths = ctx.config, ctx.paths
    if paths.monte_carlo.exists():
        ctx.log(f"  resuming {paths.relative(paths.monte_carlo)}")
    # resume=True continues a partial file (complete temperatures are kept)
    # and starts afresh when there is none
    seed = ctx.seed_for("monte-carlo")
    ising.simulate(cfg.L, list(cfg.temperatures), cfg.n_samples, algorithm="auto", rng=seed,
                   path=paths.monte_carlo, resume=True, progress=ctx.progress,
                   log=lambda m: ctx.log(f"  {m}"))
    dataset = ising.load(paths.monte_carlo)
    rows = pipeline.monte_carlo_rows(dataset)
    result = {"L": cfg.L, "data_file": paths.relative(paths.monte_carlo), "seed": seed,
              "software_version": software_version(),
              "conventions": "per spin, k_B = J = 1, periodic L x L lattice; "
                             "errors: one standard error (blocking / block jackknife)",
              "temperatures": rows}
    write_json(paths.monte_carlo_results, result)
    worst = max(abs(deviation(r["observables"]["energy"], r["exact_finite"]["energy"]))
                for r in rows)
    summary = {"n_temperatures": len(rows), "n_samples": cfg.n_samples, "L": cfg.L,
               "max_energy_deviation_sigma": worst}
    ctx.log(f"  {len(rows)} temperatures x {cfg.n_samples} samples, L = {cfg.L}; "
            f"energy vs exact finite-L: largest deviation {worst:.1f} sigma")
    return [paths.monte_carlo, paths.monte_carlo_results], summary
