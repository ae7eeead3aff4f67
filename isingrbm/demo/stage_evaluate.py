"""Demo stage 5: per phase, Monte Carlo against the RBM (Gibbs), the RBM as exact
sampler and the GAN, all against the exact values.

Writes ``results/evaluation.json``: per phase the table of
:func:`isingrbm.evaluate.compare` (through :func:`isingrbm.pipeline.evaluate_datasets`)
with its text rendering and the files compared. Per spin, k_B = J = 1.
"""

from __future__ import annotations

from ising.phases import PHASES
from mccore.version import software_version

from .. import pipeline
from ..pipeline import write_json
from .stage_exact import SOURCE as EXACT_SOURCE

__all__ = ["LABELS", "run"]

#: Column label of each generated source in the evaluation tables.
LABELS = {"rbm": "RBM", EXACT_SOURCE: "RBM+MH", "gan": "GAN"}


def run(ctx):
    import ising
    from isingrbm import evaluate

    cfg, paths = ctx.config, ctx.paths
    data = ising.load(paths.monte_carlo)
    sources = ["rbm", EXACT_SOURCE] + (["gan"] if ctx.use_gan else [])
    phases = {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        generated = {LABELS[s]: ising.load(paths.generated(s, phase)) for s in sources}
        result = pipeline.evaluate_datasets(data, generated, seed=ctx.seed_for("evaluate", item),
                                            log=lambda m: ctx.log(f"  {m}"))
        (table,) = result["tables"]
        phases[phase] = {"temperature": T, "seed": result["seed"], "table": table,
                         "text": evaluate.format_table(table),
                         "files": {"Monte Carlo": paths.relative(paths.monte_carlo),
                                   **{LABELS[s]: paths.relative(paths.generated(s, phase))
                                      for s in sources}}}
    write_json(paths.evaluation_results,
               {"L": cfg.L, "data_file": paths.relative(paths.monte_carlo),
                "software_version": software_version(), "quick": cfg.quick,
                "sources": {LABELS[s]: s for s in sources}, "phases": phases})
    lines = [_line(phase, entry) for phase, entry in phases.items()]
    if cfg.quick:
        lines.append("(--quick is a smoke test: its models are untrained (a few epochs), so these "
                     "deviations say nothing about the methods)")
    for line in lines:
        ctx.log(f"  {line}")
    return [paths.evaluation_results], {"sources": [LABELS[s] for s in sources],
                                        "lines": lines}


def _line(phase: str, entry: dict) -> str:
    table = entry["table"]
    mc = table["observables"]["Monte Carlo"]
    parts = [f"MC {mc['energy']}"]
    for label in table["sources"][1:]:
        dev = table["deviation"][label]
        parts.append(f"{label} {table['observables'][label]['energy']} "
                     f"({dev['energy']:+.1f} sigma), <|m|> {dev['abs_magnetization']:+.1f} sigma")
    return f"{phase} T = {entry['temperature']:g}: e = " + "; ".join(parts)
