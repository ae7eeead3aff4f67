"""Make ``vmc_reference.npz``: fixed-seed VMC results, to keep them bit-identical.

Run from the repository root (``python tests/data/make_vmc_reference.py``)
at the commit whose numbers are the reference (first made at 1a2a41f, from a
clean ``git archive`` of that commit, before issue 20's split of ``vmc`` into
``vmc.trap`` and ``vmc.spins``). ``tests/vmc/test_vmc_bit_identical.py``
recomputes :func:`compute` with the current code and compares every array
exactly. The file records the numpy, numba, scipy and scikit-learn versions
it was made with: floating-point bit patterns are tied to them (BLAS, SIMD
ufuncs, compiled kernels), so the test skips under other versions.

Only public API is used (``vmc.run``, ``vmc.run_tfim``, the tomography
trial state and ``Lattice`` from ``vmc`` before the split and ``vmc.spins``
after it, :class:`vmc.VMCResult`'s ``to_dict``/``summary``), so the same
scenarios run before and after.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
FILE = HERE / "vmc_reference.npz"
LIBRARIES = ("numpy", "numba", "scipy", "sklearn")

_SMALL = {"n_iterations": 3, "n_samples": 400, "n_walkers": 4, "n_threads": 1}
#: trap runs: name -> keyword arguments of vmc.run
TRAP = {
    "trap_coulomb_pade_importance_sr": dict(n_particles=2, n_dims=2, interaction="coulomb",
                                            jastrow="pade", sampler="importance",
                                            optimizer="sr", rng=1),
    "trap_free_metropolis_adam": dict(n_particles=1, n_dims=2, sampler="metropolis",
                                      optimizer="adam", rng=2),
    "trap_free_gibbs_sgd": dict(n_particles=2, n_dims=1, sampler="gibbs",
                                     optimizer="sgd", n_hidden=3, rng=3),
}
_TFIM_SMALL = {"n_iterations": 3, "n_samples": 200, "n_chains": 4, "n_threads": 1}
#: TFIM runs: name -> keyword arguments of vmc.run_tfim
TFIM = {
    "tfim_chain_plain_sr": dict(lattice="chain", size=6, field=1.0, optimizer="sr", rng=4),
    "tfim_chain_symmetric_adam": dict(lattice="chain", size=6, field=0.5, symmetric=True,
                                      optimizer="adam", p_global=0.2, rng=5),
    "tfim_square_plain_adam": dict(lattice="square", size=3, field=3.0, optimizer="adam",
                                   rng=6),
    "tfim_square_symmetric_sr": dict(lattice="square", size=3, field=2.0, symmetric=True,
                                     optimizer="sr", shift_schedule="carleo", rng=7),
}


def versions() -> dict:
    """The versions of the libraries the bit patterns depend on."""
    import importlib
    return {name: importlib.import_module(name).__version__ for name in LIBRARIES}


def _result_arrays(name: str, result) -> dict:
    out = {f"{name}/energy": np.array([result.energy.mean, result.energy.error,
                                       result.energy.variance, result.energy.tau_int,
                                       result.variance, result.acceptance]),
           f"{name}/params": np.asarray(result.params),
           f"{name}/to_dict": np.array(json.dumps(result.to_dict(), sort_keys=True,
                                                  default=str)),
           f"{name}/summary": np.array(result.summary())}
    if result.local_energy is not None:
        out[f"{name}/local_energy"] = np.asarray(result.local_energy)
    for key, value in result.history.items():
        out[f"{name}/history/{key}"] = np.asarray(value)
    return out


def compute() -> dict:
    """Every reference array, recomputed with the code importable now."""
    import vmc

    out = {}
    for name, kwargs in TRAP.items():
        out.update(_result_arrays(name, vmc.run(**(_SMALL | kwargs))))
    for name, kwargs in TFIM.items():
        out.update(_result_arrays(name, vmc.run_tfim(**(_TFIM_SMALL | kwargs))))
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "run.h5"
        base = _SMALL | TRAP["trap_coulomb_pade_importance_sr"]
        vmc.run(**(base | {"n_iterations": 2}), checkpoint=ckpt)
        resumed = vmc.run(**(base | {"n_iterations": 4}), checkpoint=ckpt, resume=True)
        out.update(_result_arrays("trap_resumed", resumed))
        ckpt = Path(tmp) / "tfim.h5"
        base = _TFIM_SMALL | TFIM["tfim_chain_symmetric_adam"]
        vmc.run_tfim(**(base | {"n_iterations": 2}), checkpoint=ckpt)
        resumed = vmc.run_tfim(**(base | {"n_iterations": 4}), checkpoint=ckpt, resume=True)
        out.update(_result_arrays("tfim_resumed", resumed))
    spins = getattr(vmc, "spins", vmc)   # vmc.spins since the split; vmc itself before
    tomo = spins.tomography_trial_state(spins.Lattice("chain", 4), 1.0, n_samples=200,
                                        n_epochs=5, n_refine=3, rng=8)
    out["tomography"] = np.array([tomo["exact"], tomo["fidelity"], tomo["energy"],
                                  tomo["refined_energy"], tomo["refined_fidelity"],
                                  *tomo["energies"]])
    return out


def unpack(path) -> tuple[dict, dict]:
    """(arrays, recorded library versions) of a reference file."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != "__versions__"}
        recorded = json.loads(str(data["__versions__"]))
    return arrays, recorded


def main() -> int:
    arrays = compute()
    arrays["__versions__"] = np.array(json.dumps(versions()))
    np.savez_compressed(FILE, **arrays)
    print(f"wrote {FILE} ({len(arrays) - 1} arrays)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
