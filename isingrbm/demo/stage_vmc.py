"""Demo stage 6: VMC for two electrons in a 2D harmonic trap (omega = 1, Coulomb).

Two trial states, the RBM alone and the RBM times a Pade-Jastrow factor,
against the exact energy 3 (Taut 1993). Units hbar = m = 1, energies in
hbar * omega. Writes ``results/vmc_<name>.h5`` (``vmc.VMCResult`` files)
and ``results/vmc.json``.
"""

from __future__ import annotations

import time

from mccore.files import atomic_path
from mccore.version import software_version

from ..pipeline import write_json
from ._util import deviation, number, valid_file

__all__ = ["VMC_EXACT", "VMC_RUNS", "run"]

#: The two VMC runs: name -> (label, jastrow).
VMC_RUNS = {"rbm": ("RBM", "none"), "rbm_pade": ("RBM + Pade-Jastrow", "pade")}
VMC_EXACT = 3.0  # two electrons, 2D, omega = 1 (Taut 1993)


def run(ctx):
    import vmc

    cfg, paths = ctx.config, ctx.paths
    outputs, runs = [], {}
    for item, (name, (label, jastrow)) in enumerate(VMC_RUNS.items()):
        path = paths.vmc_result(name)
        start = time.perf_counter()
        reused = path.exists() and ctx.intact(path) and valid_file(path, vmc.VMCResult.load)
        seed = ctx.seed_for("vmc", item)
        if reused:
            result = vmc.VMCResult.load(path)
            ctx.log(f"  {label}: {paths.relative(path)} reused")
        else:
            result = vmc.run(2, 2, omega=1.0, interaction="coulomb", jastrow=jastrow,
                             rng=seed, progress=ctx.progress, **cfg.vmc)
            if getattr(result, "status", "complete") == "interrupted":
                raise KeyboardInterrupt
            with atomic_path(path, create=False) as tmp:
                result.save(tmp)
        energy = result.energy
        runs[name] = {"label": label, "jastrow": jastrow, "file": paths.relative(path),
                      "seed": seed,
                      "energy": energy.to_dict(), "variance": number(result.variance),
                      "acceptance": number(result.acceptance), "exact": VMC_EXACT,
                      **ctx.item(name, start, reused)}
        ctx.log(f"  {label}: E = {energy} (exact {VMC_EXACT:g}), "
                f"{deviation(energy.to_dict(), VMC_EXACT):+.1f} sigma")
        outputs.append(path)
    summary = {name: {"label": r["label"], "energy": r["energy"]["mean"],
                      "error": r["energy"]["error"], "exact": VMC_EXACT,
                      "seconds": r["seconds"], "reused": r["reused"]}
               for name, r in runs.items()}
    write_json(paths.vmc_results, {"system": "two electrons, 2D harmonic trap, omega = 1, "
                                             "Coulomb interaction; hbar = m = 1",
                                   "exact": VMC_EXACT, "settings": cfg.vmc,
                                   "software_version": software_version(), "runs": runs})
    outputs.append(paths.vmc_results)
    return outputs, summary
