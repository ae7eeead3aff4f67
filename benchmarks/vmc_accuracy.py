"""VMC accuracy: two electrons in a 2D/3D harmonic trap, RBM alone and RBM x Pade-Jastrow.

Energies (hbar = m = 1, total) with blocking errors beside the exact or
reference values: 2D omega = 1: 3 (Taut, exact); 2D omega = 0.5: 1.65977
(DMC); 3D omega = 1: 3.7301 (DMC); 3D omega = 0.5: 2 (Taut, exact). Also the
RBM-only and RBM+PJ energies of D. Nordhagen's MSc thesis (2019) as a second
baseline. Targets (issue 4): with the Jastrow factor within 2e-4 of the
reference for 2D omega = 1 and within 1e-3 for the others. Note: without the
cusp the local energy's variance diverges logarithmically, so the error bars
of the RBM-only energies are unreliable at the 1e-3 level.

Settings: 2 hidden units, Psi = sqrt(F), importance sampling, stochastic
reconfiguration (learning rate 0.1, shift 1e-3), 16 walkers, one thread.

Usage: python benchmarks/vmc_accuracy.py [--quick] [--json]

``--json`` prints the JSON document of ``benchmarks/_harness.py`` (machine,
conditions, one record per system and ansatz, with wall and CPU seconds).
"""

from __future__ import annotations

import sys
import time

if __package__:
    from . import _harness as harness
else:
    import _harness as harness

SYSTEMS = [
    # dims, omega, reference, kind (exact: Taut 1993), Nordhagen RBM, Nordhagen RBM+PJ
    (2, 1.0, 3.0, "exact", 3.0822, 3.00002),
    (2, 0.5, 1.65977, "DMC", 1.7231, 1.65957),
    (3, 1.0, 3.7301, "DMC", 3.7571, 3.73032),
    (3, 0.5, 2.0, "exact", 2.0269, 2.00009),
]


def measure(quick: bool, seed: int = 1):
    import vmc

    n_iter = 150 if quick else 400
    n_samples = 5_000 if quick else 20_000
    n_final = 100_000 if quick else 1_000_000
    records = []
    for dims, omega, ref, kind, nord_rbm, nord_pj in SYSTEMS:
        for jastrow in ("none", "pade"):
            t0, c0 = time.perf_counter(), time.process_time()
            r = vmc.run(2, dims, omega=omega, interaction="coulomb", jastrow=jastrow,
                        n_hidden=2, sampler="importance", optimizer="sr",
                        n_iterations=n_iter, n_samples=n_samples, n_final_samples=n_final,
                        rng=seed, n_threads=1)
            target = None
            if jastrow == "pade":
                target = 2e-4 if (dims == 2 and omega == 1.0) else 1e-3
            records.append({
                "benchmark": "vmc_accuracy", "particles": 2, "dims": dims, "omega": omega,
                "jastrow": jastrow, "energy": r.energy.mean, "error": r.energy.error,
                "variance": r.variance, "reference": ref, "reference_kind": kind,
                "difference": r.energy.mean - ref,
                "nordhagen_2019": nord_pj if jastrow == "pade" else nord_rbm,
                "target": target,
                "within_target": None if target is None else abs(r.energy.mean - ref) <= target,
                "iterations": n_iter, "samples_per_iteration": n_samples,
                "final_samples": n_final, "seed": seed,
                "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0})
    return records


def main(argv=None):
    parser = harness.parser(__doc__)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with harness.threads(1):
        records = measure(args.quick, args.seed)
    if args.json:
        harness.emit(harness.document("vmc_accuracy", args, records))
        return 0
    print("Two electrons in a harmonic trap (hbar = m = 1), 2 hidden units, importance "
          "sampling + SR")
    print(f"{'D':>2} {'omega':>6} {'ansatz':<8} {'energy':>22} {'reference':>18} "
          f"{'E - ref':>10} {'Nordhagen':>10} {'target':>8}")
    for r in records:
        ansatz = "RBM+PJ" if r["jastrow"] == "pade" else "RBM"
        e = f"{r['energy']:.5f} ± {r['error']:.5f}"
        target = "" if r["target"] is None else (
            f"{'ok' if r['within_target'] else 'MISSED'} {r['target']:.0e}")
        print(f"{r['dims']:>2} {r['omega']:>6} {ansatz:<8} {e:>22} "
              f"{r['reference']:>9} {r['reference_kind'][:8]:<8} {r['difference']:>+10.5f} "
              f"{r['nordhagen_2019']:>10} {target:>8}")
    print("RBM-only error bars are unreliable at the 1e-3 level (no cusp: the local "
          "energy's variance diverges logarithmically).")
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(main))
