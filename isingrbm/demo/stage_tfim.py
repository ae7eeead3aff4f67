"""Demo stage 7: the transverse-field Ising chain, an RBM trial state against free fermions.

``H = -sum_i sz_i sz_{i+1} - h sum_i sx_i`` on a periodic chain (J = 1,
Pauli matrices), the code of ``isingrbm vmc --system tfim``
(:func:`vmc.run_tfim`): an RBM with alpha N hidden units optimized by
stochastic reconfiguration; the exact ground-state energy of the even chain
from free fermions. Energies are totals (per site = / N). Writes
``results/tfim_chain.h5`` (a ``vmc.VMCResult`` file) and
``results/tfim.json``: the energy with its error, the exact energy, the
relative error and the observables (<sx>, <|m_z|>, C(r)).
"""

from __future__ import annotations

import time

from mccore.files import atomic_path
from mccore.version import software_version

from ..pipeline import jsonable, write_json
from ._util import deviation, number, valid_file

__all__ = ["run"]


def run(ctx):
    import vmc

    cfg, paths = ctx.config, ctx.paths
    settings = dict(cfg.tfim)
    path = paths.tfim_result
    start = time.perf_counter()
    reused = path.exists() and ctx.intact(path) and valid_file(path, vmc.VMCResult.load)
    seed = ctx.seed_for("tfim")
    if reused:
        result = vmc.VMCResult.load(path)
        ctx.log(f"  {paths.relative(path)} reused")
    else:
        result = vmc.run_tfim("chain", rng=seed, progress=ctx.progress, **settings)
        if getattr(result, "status", "complete") == "interrupted":
            raise KeyboardInterrupt
        with atomic_path(path, create=False) as tmp:
            result.save(tmp)
    data = result.to_dict()
    n = int(settings["size"])
    energy = result.energy.to_dict()
    exact = number(result.exact)
    entry = ctx.item("chain", start, reused)
    record = {
        "system": f"transverse-field Ising chain, N = {n} periodic, h = {settings['field']:g}; "
                  "H = -sum sz sz - h sum sx, J = 1, total energies",
        "lattice": "chain", "size": n, "field": float(settings["field"]),
        "file": paths.relative(path), "seed": seed, "settings": settings,
        "energy": energy, "energy_per_site": energy["mean"] / n,
        "exact": exact, "exact_method": result.parameters.get("exact_method"),
        "exact_per_site": None if exact is None else exact / n,
        "relative_error": data.get("relative_error"),
        "relative_error_sigma": data.get("relative_error_sigma"),
        "deviation_sigma": None if exact is None else deviation(energy, exact),
        "variance": number(result.variance), "acceptance": number(result.acceptance),
        "iterations": int(result.iterations),
        "observables": jsonable(result.observables),
        "software_version": software_version(), "seconds": entry["seconds"]}
    write_json(paths.tfim_results, record)
    rel = record["relative_error"]
    ctx.log(f"  N = {n}, h = {settings['field']:g}: E = {result.energy} (exact "
            f"{exact:.8g}, {record['exact_method']}); relative error {rel:.1e} +- "
            f"{record['relative_error_sigma']:.1e}" if exact is not None else
            f"  N = {n}: E = {result.energy} (no exact value)")
    summary = {"chain": {**entry, "size": n, "field": float(settings["field"]),
                         "energy": energy["mean"], "error": energy["error"], "exact": exact,
                         "relative_error": rel}}
    return [path, paths.tfim_results], summary
