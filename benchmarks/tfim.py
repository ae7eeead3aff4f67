"""Transverse-field Ising ground states with RBM trial states: ours beside NetKet.

Both codes run in this one process with the same lattice, field, hidden-unit
density, samples per iteration, Metropolis chains, SR settings (learning
rate, diagonal shift (constant, or Carleo & Troyer's schedule relative to
diag(S), NetKet's ``diag_scale``); NetKet's gradient is 2 Re F like ours, so
equal learning rates are equal steps) and iterations, on one thread each
(numba and BLAS threads 1 through ``benchmarks/_harness.py``; XLA on the CPU
with one thread, set by the harness before jax loads). Per case: the final
energy from 4x the samples with its statistical error, the relative error vs
the exact value (free fermions, Lanczos), iterations until the 10-iteration
running mean of the energy is within 1e-3 and 1e-4 of exact, and the time
of one SR iteration in milliseconds, wall and CPU: each iteration of the
run is one timed repeat and the figures are the medians over them, after a
2-iteration warm-up run that compiles both (numba, jit); NetKet's step is
waited for (``block_until_ready``) before its clock is read.

Usage::

    python benchmarks/tfim.py --quick            # chain N=20, N=80 (h=1), 4x4; 150 iterations
    python benchmarks/tfim.py --json --figure tfim.png
    python benchmarks/tfim.py --fields           # the symmetric RBM across fields (our side)
    python benchmarks/tfim.py --carleo-troyer --checkpoint-dir D --json   # chain N=80 table
    python benchmarks/tfim.py --frontier --checkpoint-dir D --json        # accuracy targets

``--fields`` runs the cases of the "Measured" table of the quantum Ising
guide (the symmetric RBM from h = 0.5 to 100 on the chain and 4 x 4, the
settings at which version 0.2's symmetric RBM collapsed; then the command line's defaults) and prints
that table, so the guide's figures come from one command; it measures our
side only and does not need NetKet.

``--carleo-troyer`` runs the table of Carleo & Troyer's Fig. 3 (chain N = 80,
h = 0.5, 1, 2 x alpha = 1, 2, 4, translation-symmetric RBM) with NetKet's
RBMSymm beside at the same iterations, samples, learning-rate schedule,
diagonal shift and parameter average (``--ct-netket-alphas``, default 1 and
2); ``--ct-fields`` / ``--ct-alphas`` choose a part of it. ``--frontier``
runs the accuracy cases (:data:`FRONTIER`: chain N = 80 at h = 0.5, 1, 2;
6 x 6 at h = 3 against the exact energy published by varbench; 10 x 10 at
h = 3.044 against the best published value) with the staged recipe of
``benchmarks/_tfim_accuracy.py`` (learning-rate decay, more samples late,
parameter average: the schedule options of ``isingrbm vmc --system tfim``,
``--tail-iterations``, ``--tail-samples``, ``--tail-learning-rate``,
``--average-last``, which a case without a warm start reproduces bit for
bit) and prints the published anchors beside. Both write
checkpoints under ``--checkpoint-dir`` and a rerun continues or reuses them;
``--json`` prints one document whose ``records`` are the table's rows
(ours and NetKet, the format ``docs/conf.py`` renders) and whose
``frontier`` holds the accuracy cases; ``--markdown FILE`` writes the
frontier table (markdown, pasted into the docs page), and
``--from-json FILE`` rebuilds the figure and table from a stored document
without running anything.

NetKet is not a dependency of the workbench: install it (``pip install
netket``, CPU jax, or ``pip install -e '.[bench]'``). Without it the
comparison stops with one line naming the install command and exit status 2.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

if __package__:
    from . import _harness as harness
    from . import _tfim_accuracy as accuracy
else:
    import _harness as harness
    import _tfim_accuracy as accuracy

UNIT = "ms per iteration"
H_CRITICAL_2D = 3.04438

CASES = [
    # label, lattice, size, field, symmetric, alpha
    ("chain N=20 h=1, RBM alpha=1", "chain", 20, 1.0, False, 1),
    ("chain N=80 h=0.5, symmetric alpha=2", "chain", 80, 0.5, True, 2),
    ("chain N=80 h=1, symmetric alpha=2", "chain", 80, 1.0, True, 2),
    ("chain N=80 h=2, symmetric alpha=2", "chain", 80, 2.0, True, 2),
    ("square 4x4 h=3.04438, RBM alpha=1", "square", 4, H_CRITICAL_2D, False, 1),
    ("square 10x10 h=3.04438, symmetric alpha=1", "square", 10, H_CRITICAL_2D, True, 1),
]
QUICK = (0, 2, 4)


def _first_within(energies, exact, tol, window=10):
    if exact is None:
        return None
    e = np.asarray(energies)
    for k in range(window, e.size + 1):
        if abs(np.mean(e[k - window:k]) - exact) / abs(exact) < tol:
            return k
    return None


def _timing(marks) -> harness.Timing:
    """Medians of the per-iteration (wall, CPU) seconds between consecutive marks."""
    t = np.asarray(marks, dtype=float)
    step = np.diff(t, axis=0)
    return harness.Timing(float(np.median(step[:, 0])), float(np.median(step[:, 1])),
                          len(step))


def _clocks():
    return time.perf_counter(), time.process_time()


def run_ours(lattice, size, field, symmetric, alpha, *, n_iter, n_samples, n_chains, lr,
             shift, seed, schedule):
    import vmc

    kw = dict(symmetric=symmetric, alpha=alpha, n_samples=n_samples, n_chains=n_chains,
              learning_rate=lr, diag_shift=shift, shift_schedule=schedule, rng=seed,
              n_threads=1)
    vmc.run_tfim(lattice, size, field, n_iterations=2, **kw)  # warm-up (numba cache)
    marks = []

    def cb(step):
        marks.append(_clocks())

    marks.append(_clocks())
    result = vmc.run_tfim(lattice, size, field, n_iterations=n_iter, callback=cb, **kw)
    return {"energies": [float(e) for e in result.history["energy"]],
            "energy": result.energy.mean, "error": result.energy.error,
            "timing": _timing(marks), "n_params": int(result.parameters["n_params"])}


def run_netket(lattice, size, field, symmetric, alpha, *, n_iter, n_samples, n_chains, lr,
               shift, seed, schedule):
    nk = harness.peer("netket")
    import jax
    import jax.numpy as jnp

    graph, hilbert, ham = harness.netket_tfim(lattice, size, field)
    if symmetric:
        model = nk.models.RBMSymm(symmetries=graph.translation_group(), alpha=alpha,
                                  param_dtype=float)
    else:
        model = nk.models.RBM(alpha=alpha, param_dtype=float)
    sampler = nk.sampler.MetropolisLocal(hilbert, n_chains=n_chains)
    state = nk.vqs.MCState(sampler, model, n_samples=n_samples, n_discard_per_chain=5,
                           seed=seed, sampler_seed=seed + 1)
    opt = nk.optimizer.Sgd(learning_rate=lr)
    if schedule == "carleo":
        # the same (S_kk (1 + lambda(p)) + shift) regularization as ours
        sr = nk.optimizer.SR(diag_shift=shift,
                             diag_scale=lambda p: jnp.maximum(100.0 * 0.9 ** p, 1e-4))
    else:
        sr = nk.optimizer.SR(diag_shift=shift)
    driver = nk.driver.VMC(ham, opt, variational_state=state, preconditioner=sr)
    warm = nk.logging.RuntimeLog()
    driver.run(n_iter=2, out=warm, show_progress=False)  # warm-up (jit)
    log = nk.logging.RuntimeLog()
    marks = []

    def cb(step, log_data, drv):
        jax.block_until_ready(drv.state.parameters)   # jax dispatches asynchronously
        marks.append(_clocks())
        return True

    marks.append(_clocks())
    driver.run(n_iter=n_iter, out=log, show_progress=False, callback=cb)
    energies = list(np.asarray(warm.data["Energy"]["Mean"]).real) + \
        list(np.asarray(log.data["Energy"]["Mean"]).real)
    state.n_samples = 4 * n_samples
    final = state.expect(ham)
    return {"energies": [float(e) for e in energies], "energy": float(np.real(final.mean)),
            "error": float(final.error_of_mean), "timing": _timing(marks),
            "n_params": int(state.n_parameters)}


def main(argv=None):
    parser = harness.parser(__doc__)
    parser.add_argument("--iterations", type=int, default=None,
                        help="SR iterations per case (default 300; 150 with --quick)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--diag-shift", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shift-schedule", default=None, choices=("constant", "carleo"),
                        help="default: carleo for the symmetric RBM, whose S grows as N^2 so "
                             "that a constant 0.01 barely regularizes it; constant otherwise")
    parser.add_argument("--cases", default=None,
                        help=f"comma-separated case numbers (0-{len(CASES) - 1})")
    parser.add_argument("--figure", default=None, help="PNG of relative error vs iteration")
    parser.add_argument("--fields", action="store_true",
                        help="the symmetric RBM across fields (the guide's table), ours only")
    parser.add_argument("--carleo-troyer", action="store_true",
                        help="chain N = 80, h x alpha table, NetKet beside (see above)")
    parser.add_argument("--ct-fields", default="0.5,1,2")
    parser.add_argument("--ct-alphas", default="1,2,4")
    parser.add_argument("--ct-netket-alphas", default="1,2",
                        help="alphas NetKet runs at (empty: none)")
    parser.add_argument("--ct-sides", default="ours,netket",
                        help="which sides run (e.g. netket alone, in a second process)")
    parser.add_argument("--frontier", action="store_true", help="the accuracy cases")
    parser.add_argument("--frontier-cases", default=None,
                        help="comma-separated names of FRONTIER (default all)")
    parser.add_argument("--checkpoint-dir", default=None,
                        help="checkpoints and finished records of the accuracy runs")
    parser.add_argument("--stored-only", action="store_true",
                        help="only the cases with a finished record in --checkpoint-dir")
    parser.add_argument("--markdown", default=None, help="write the frontier table here")
    parser.add_argument("--from-json", default=None,
                        help="figure/table from a stored --json document, no runs")
    args = parser.parse_args(argv)
    if args.iterations is not None and args.iterations < 10:
        parser.error(f"--iterations must be >= 10, got {args.iterations}")
    for name in ("samples", "chains"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    try:
        chosen = (QUICK if args.quick else range(len(CASES))) if args.cases is None else \
            [int(c) for c in args.cases.split(",")]
    except ValueError:
        parser.error(f"--cases must be comma-separated integers, got {args.cases!r}")
    if any(not 0 <= k < len(CASES) for k in chosen):
        parser.error(f"--cases must be between 0 and {len(CASES) - 1}, got {args.cases!r}")
    if args.fields:
        with harness.threads(1):
            return fields_table(args)
    if args.carleo_troyer or args.frontier or args.from_json:
        return accuracy_main(args)
    harness.peer("netket")      # missing: one line and status 2 (harness.main), before any run
    n_iter = args.iterations or (150 if args.quick else 300)
    with harness.threads(1):
        records = [_case(k, n_iter, args) for k in chosen]
    if args.figure:
        _figure(records, args.figure)
    for row in records:
        for side in ("ours", "netket"):
            row[side].pop("energies", None)
    if args.json:
        harness.emit(harness.document("tfim", args, records))
    return 0


def _case(k, n_iter, args) -> dict:
    """One case of :data:`CASES`, ours then NetKet: the record with both sides."""
    from vmc.spins import Lattice, exact_energy

    label, lattice, size, field, symmetric, alpha = CASES[k]
    exact, method = exact_energy(Lattice(lattice, size), field)
    schedule = args.shift_schedule or ("carleo" if symmetric else "constant")
    kw = dict(n_iter=n_iter, n_samples=args.samples, n_chains=args.chains,
              lr=args.learning_rate, shift=args.diag_shift, seed=args.seed, schedule=schedule)
    row = {"case": label, "exact": exact, "exact_method": method if exact else None,
           "iterations": n_iter, "samples": args.samples, "chains": args.chains,
           "learning_rate": args.learning_rate, "diag_shift": args.diag_shift,
           "shift_schedule": schedule}
    timings = {}
    for name, fn in (("ours", run_ours), ("netket", run_netket)):
        r = fn(lattice, size, field, symmetric, alpha, **kw)
        timings[name] = r.pop("timing")
        r["time"] = timings[name].as_dict(UNIT, 1e3)
        n = size if lattice == "chain" else size * size
        r["energy_per_site"] = r["energy"] / n
        if exact is not None:
            r["relative_error"] = abs(r["energy"] - exact) / abs(exact)
            r["relative_error_sigma"] = r["error"] / abs(exact)
            r["iterations_to_1e-3"] = _first_within(r["energies"], exact, 1e-3)
            r["iterations_to_1e-4"] = _first_within(r["energies"], exact, 1e-4)
        row[name] = r
        harness.say(f"{label:44s} {name:6s} E/N {r['energy_per_site']:.6f} "
                    + (f"rel {r['relative_error']:.1e} +- {r['relative_error_sigma']:.0e} "
                       f"it1e-3 {r['iterations_to_1e-3']} it1e-4 {r['iterations_to_1e-4']} "
                       if exact is not None else "")
                    + f"wall {r['time']['wall']:.1f} cpu {r['time']['cpu']:.1f} {UNIT}")
    row["speedup"] = harness.speedup(timings["ours"], timings["netket"])
    harness.say(f"{'':44s} ours/NetKet speedup: {row['speedup']['cpu']:.2f}x CPU, "
                f"{row['speedup']['wall']:.2f}x wall")
    return row


#: (lattice, size, field, alpha, seed, iterations, samples, final samples) of --fields
FIELD_CASES = [
    ("chain", 20, 1.5, 2, 5, 300, 1000, 4000), ("chain", 20, 2.0, 2, 5, 300, 1000, 4000),
    ("chain", 20, 2.0, 2, 7, 300, 1000, 4000), ("chain", 20, 3.0, 2, 5, 300, 1000, 4000),
    ("chain", 20, 0.5, 2, 1, 300, 1000, 4000), ("chain", 20, 100.0, 2, 1, 300, 1000, 4000),
    ("square", 4, 3.0, 2, 5, 300, 1000, 4000), ("square", 4, 3.0, 4, 5, 300, 1000, 4000),
    ("chain", 20, 1.0, 4, 4, 1000, 1000, 100_000),
    ("chain", 20, 1.0, 4, 11, 1000, 1000, 100_000),
    ("square", 4, H_CRITICAL_2D, 4, 5, 1000, 1000, 100_000),
    ("square", 4, H_CRITICAL_2D, 4, 1, 1000, 1000, 100_000)]


def fields_table(args) -> int:
    """Run :data:`FIELD_CASES` (symmetric RBM, one thread); a markdown table, or JSON."""
    import vmc

    records = []
    if not args.json:
        print("| lattice, h | alpha | seed | iterations x samples, final | relative error "
              "| status | wall s |")
        print("|---|---|---|---|---|---|---|")
    for lattice, size, field, alpha, seed, n_iter, n_samples, n_final in FIELD_CASES:
        t0 = time.perf_counter()
        r = vmc.run_tfim(lattice, size, field, symmetric=True, alpha=alpha, rng=seed,
                         n_iterations=n_iter, n_samples=n_samples, n_final_samples=n_final,
                         n_threads=1)
        wall = time.perf_counter() - t0
        shape = f"chain {size}" if lattice == "chain" else f"square {size} x {size}"
        rel = abs(r.energy.mean - r.exact) / abs(r.exact)
        sigma = r.energy.error / abs(r.exact)
        records.append({"lattice": lattice, "size": size, "field": field, "alpha": alpha,
                        "seed": seed, "iterations": n_iter, "samples": n_samples,
                        "final_samples": n_final, "exact": r.exact, "energy": r.energy.mean,
                        "error": r.energy.error, "relative_error": rel,
                        "relative_error_sigma": sigma, "status": r.status, "wall_s": wall})
        line = (f"| {shape}, h = {field:g} | {alpha} | {seed} | {n_iter} x {n_samples}, "
                f"{n_final} | {rel:.1e} ± {sigma:.1e} | {r.status} | {wall:.0f} |")
        if args.json:
            harness.say(line)
        else:
            print(line, flush=True)
    if args.json:
        harness.emit(harness.document("tfim_fields", args, records))
    return 0


def _figure(records, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [r for r in records if r["exact"] is not None]
    fig = Figure(figsize=(4.2 * max(len(rows), 1), 3.4))
    FigureCanvasAgg(fig)
    for k, row in enumerate(rows):
        ax = fig.add_subplot(1, len(rows), k + 1)
        for side, style in (("ours", "C0"), ("netket", "C1")):
            if side in row:
                e = np.asarray(row[side]["energies"])
                ax.semilogy(np.arange(1, e.size + 1), np.abs(e - row["exact"]) / abs(row["exact"]),
                            style, lw=1, label=side)
        ax.set_title(row["case"], fontsize=8)
        ax.set_xlabel("iteration")
        ax.set_ylabel("|E - E0| / |E0| (per-iteration mean)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# --------------------------------------------------------------------------- accuracy
#: exact ground-state energy of the 6 x 6 periodic lattice at h = 3 (J = 1), exact
#: diagonalization published by varbench (D. Wu et al., Science 386, 296 (2024);
#: github.com/varbench/varbench, TFIsing/square_36_P_3.md)
VARBENCH_6X6_H3 = -115.232707303718485

#: published anchors: key -> (what, energy, variance of E_L or None, exact, sites, source)
ANCHORS = {
    "netket_tutorial": ("NetKet Ising tutorial, chain N = 20, h = 1, symmetric RBM alpha = 4, "
                        "600 iterations", None, None, None, 20,
                        "netket.readthedocs.io, tutorial 'Ground-state: Ising model'"),
    "varbench_chain32": ("varbench chain N = 32, h = 1, symmetric FFN (32 features)",
                         -40.760008, 2.0e-4, -40.76003249419223, 32,
                         "varbench TFIsing/chain_32_P_1.md"),
    "varbench_chain32_h0.5": ("varbench chain N = 32, h = 0.5, symmetric FFN (32 features)",
                              -34.03338, 3.5e-4, -34.03342111916819, 32,
                              "varbench TFIsing/chain_32_P_0.5.md"),
    "varbench_6x6_rbm": ("varbench 6 x 6, h = 3, RBM alpha = 1", -115.23165, 0.082848699,
                         VARBENCH_6X6_H3, 36, "varbench TFIsing/square_36_P_3.md"),
}
#: the NetKet tutorial's relative error as quoted in the issue (no energy to recompute it)
NETKET_TUTORIAL_RELATIVE_ERROR = 2.6e-5

#: name, lattice, size, field, alpha, phases, average, final samples, shift schedule, anchor
FRONTIER = [
    ("c80h1a4", "chain", 80, 1.0, 4, "500x1000@0.05,300x2000@0.05:0.003", 150, 600_000,
     "constant", "varbench_chain32"),
    ("c80h1a8w", "chain", 80, 1.0, 8, "100x1000@0.02,100x1000@0.02:0.003", 50, 100_000,
     "constant", "varbench_chain32"),
    ("c80h1a8w2", "chain", 80, 1.0, 8, "250x1000@0.03,100x1000@0.03:0.003", 50, 100_000,
     "constant", "varbench_chain32"),
    ("c80h0.5a4", "chain", 80, 0.5, 4, "300x1000@0.05,200x2000@0.05:0.003", 100, 200_000,
     "carleo", "varbench_chain32_h0.5"),
    ("c80h2a4", "chain", 80, 2.0, 4, "300x1000@0.05,200x2000@0.05:0.003", 100, 200_000,
     "carleo", None),
    ("s6h3a4c", "square", 6, 3.0, 4, "500x1000@0.05,300x2000@0.05:0.003", 150, 400_000,
     "carleo", "varbench_6x6_rbm"),
    ("s10h3.044a2", "square", 10, 3.044, 2, "200x1000@0.05,100x1000@0.05:0.005", 50, 50_000,
     "carleo", "published_10x10"),
    ("s10h3.044a2long", "square", 10, 3.044, 2, "500x1000@0.05,300x2000@0.05:0.003", 150,
     200_000, "carleo", "published_10x10"),
]

#: case -> the finished case whose parameters start it (widened to its alpha)
WARM_STARTS = {"c80h1a8w": "c80h1a4", "c80h1a8w2": "c80h1a8w"}

#: the Carleo-Troyer table: one recipe for every cell and for NetKet
CT_PHASES = "200x1000@0.05,100x1000@0.05:0.005"
CT_AVERAGE = 50
CT_FINAL = 20_000


def anchor_figures(key) -> dict:
    """An anchor's relative error and V-score, computed from its published numbers."""
    if key == "netket_tutorial":
        return {"what": ANCHORS[key][0], "relative_error": NETKET_TUTORIAL_RELATIVE_ERROR,
                "v_score": None, "source": ANCHORS[key][5]}
    if key not in ANCHORS:
        return {}
    what, energy, var, exact, n, source = ANCHORS[key]
    return {"what": what, "relative_error": (energy - exact) / abs(exact),
            "v_score": n * var / energy**2, "source": source}


def _prefix(args, name):
    if not args.checkpoint_dir:
        return None
    os.makedirs(args.checkpoint_dir, exist_ok=True)
    return os.path.join(args.checkpoint_dir, name)


def _reference(lattice, size, field):
    from vmc.spins import Lattice, exact_energy

    if (lattice, size, field) == ("square", 6, 3.0):
        return VARBENCH_6X6_H3, "exact diagonalization (varbench)"
    if (lattice, size) == ("square", 10):
        return None, None
    exact, method = exact_energy(Lattice(lattice, size), field)
    return exact, method if exact is not None else None


def frontier(args) -> list:
    """The accuracy cases of :data:`FRONTIER` chosen by ``--frontier-cases``."""
    chosen = FRONTIER if not args.frontier_cases else \
        [c for c in FRONTIER if c[0] in args.frontier_cases.split(",")]
    out = []
    for name, lattice, size, field, alpha, text, average, n_final, shift, anchor in chosen:
        phases = accuracy.parse_phases(text)
        prefix = _prefix(args, name)

        def run(name=name, lattice=lattice, size=size, field=field, alpha=alpha,
                phases=phases, average=average, n_final=n_final, shift=shift, prefix=prefix):
            init = None
            if name in WARM_STARTS:     # the source case's filters, widened if alpha grew
                source = _prefix(args, WARM_STARTS[name])
                if source is None or not os.path.exists(source + ".json"):
                    raise harness.BadSetting(f"{name} starts from {WARM_STARTS[name]}: run "
                                             "that case first, with the same --checkpoint-dir")
                with open(source + ".json") as fh:
                    init = accuracy.widen_symmetric(json.load(fh)["params"], size, alpha,
                                                    args.seed)
            return accuracy.staged_run(
                lattice, size, field, alpha=alpha, phases=phases, seed=args.seed,
                final_samples=n_final, average=average, shift_schedule=shift,
                prefix=prefix, init_params=init, log=harness.say)

        rec = accuracy.cached(prefix, run, phases, args.stored_only)
        if rec is None:
            continue
        if name in WARM_STARTS:
            rec["warm_start"] = WARM_STARTS[name]
        exact, method = _reference(lattice, size, field)
        rec.update({"name": name, "lattice": lattice, "size": size, "field": field,
                    "alpha": alpha, "phases": text, "average": average,
                    "final_samples": n_final, "shift_schedule": shift, "reference": exact,
                    "reference_method": method, "anchor": anchor_figures(anchor)})
        rec.pop("params", None)
        if exact is not None:
            rec["relative_error"] = accuracy.relative(rec["energy"], exact)
            rec["relative_error_sigma"] = rec["error"] / abs(exact)
            rec["phase_tails"] = accuracy.phase_tails(rec["energies"], phases, exact)
        harness.say(_frontier_line(rec))
        out.append(rec)
    return out


def _frontier_line(rec) -> str:
    shape = f"chain N={rec['size']}" if rec["lattice"] == "chain" else \
        f"square {rec['size']}x{rec['size']}"
    n = rec["size"] if rec["lattice"] == "chain" else rec["size"] ** 2
    text = f"{shape} h={rec['field']:g} alpha={rec['alpha']}: E/N {rec['energy'] / n:.7f}"
    if rec.get("relative_error") is not None:
        text += f" rel {rec['relative_error']:.2e} +- {rec['relative_error_sigma']:.1e}"
    text += f" V-score {rec['v_score']:.1e} cpu {rec['cpu_s']:.0f} s"
    a = rec.get("anchor") or {}
    if a.get("relative_error") is not None:
        text += f" | anchor {a['what']}: {a['relative_error']:.1e}"
    return text


def carleo_troyer(args) -> list:
    """Chain N = 80, the fields x alphas of ``--ct-fields`` / ``--ct-alphas``; NetKet beside."""
    phases = accuracy.parse_phases(CT_PHASES)
    fields = [float(f) for f in args.ct_fields.split(",")]
    alphas = [int(a) for a in args.ct_alphas.split(",")]
    nk_alphas = [int(a) for a in args.ct_netket_alphas.split(",")] if args.ct_netket_alphas \
        else []
    nk = harness.peer("netket") if nk_alphas and "netket" in args.ct_sides else None
    n_iter = sum(p.iterations for p in phases)
    rows = []
    for field in fields:
        exact, method = _reference("chain", 80, field)
        for alpha in alphas:
            row = {"case": f"chain N=80 h={field:g}, symmetric alpha={alpha}", "exact": exact,
                   "exact_method": method, "field": field, "alpha": alpha,
                   "iterations": n_iter, "samples": phases[0].samples, "chains": 16,
                   "learning_rate": f"{phases[0].lr_from} (the last {phases[-1].iterations} "
                                    f"iterations decaying to {phases[-1].lr_to})",
                   "diag_shift": 0.01, "shift_schedule": "carleo", "average": CT_AVERAGE,
                   "final_samples": CT_FINAL, "phases": CT_PHASES}
            sides = [("ours", f"ct_h{field:g}_a{alpha}")] if "ours" in args.ct_sides else []
            if alpha in nk_alphas and "netket" in args.ct_sides:
                sides.append(("netket", f"ct_nk_h{field:g}_a{alpha}"))
            for side, name in sides:
                prefix = _prefix(args, name)
                if side == "ours":
                    def run(alpha=alpha, prefix=prefix):
                        return accuracy.staged_run(
                            "chain", 80, field, alpha=alpha, phases=phases, seed=args.seed,
                            final_samples=CT_FINAL, average=CT_AVERAGE,
                            shift_schedule="carleo", prefix=prefix)
                else:
                    def run(alpha=alpha):
                        return accuracy.netket_staged(
                            nk, harness, "chain", 80, field, alpha=alpha, phases=phases,
                            seed=args.seed, final_samples=CT_FINAL, average=CT_AVERAGE,
                            shift_schedule="carleo")
                r = accuracy.cached(prefix, run, phases, args.stored_only)
                if r is None:
                    continue
                r.pop("params", None)
                r["energy_per_site"] = r["energy"] / 80
                r["relative_error"] = accuracy.relative(r["energy"], exact)
                r["relative_error_sigma"] = r["error"] / abs(exact)
                r["iterations_to_1e-3"] = _first_within(r["energies"], exact, 1e-3)
                r["iterations_to_1e-4"] = _first_within(r["energies"], exact, 1e-4)
                r["time"] = {"unit": "ms per iteration", "cpu": 1e3 * r["cpu_iter_s"],
                             "wall": 1e3 * r["wall_iter_s"]}
                row[side] = r
                harness.say(f"{row['case']:36s} {side:6s} rel {r['relative_error']:.2e} +- "
                            f"{r['relative_error_sigma']:.1e} V-score {r['v_score']:.1e} "
                            f"cpu {r['time']['cpu']:.0f} ms/it")
            if "ours" in row or "netket" in row:
                rows.append(row)
    return rows


def accuracy_main(args) -> int:
    """``--carleo-troyer`` and/or ``--frontier`` (or ``--from-json``): run, print, write."""
    if args.from_json:
        with open(args.from_json) as fh:
            doc = json.load(fh)
        rows, front = doc.get("records", []), doc.get("frontier", [])
    else:
        with harness.threads(1):
            rows = carleo_troyer(args) if args.carleo_troyer else []
            front = frontier(args) if args.frontier else []
    if args.figure:
        accuracy.accuracy_figure(rows, front, args.figure)
    if args.markdown:
        _write_text(args.markdown, accuracy.frontier_markdown(front))
    for rec in rows:
        for side in ("ours", "netket"):
            if side in rec:
                rec[side].pop("energies", None)
    if args.json and not args.from_json:
        from vmc.spins import free_fermion_energy

        check = {"free_fermions_chain32_h1": free_fermion_energy(32, 1.0),
                 "varbench_exact_chain32_h1": ANCHORS["varbench_chain32"][3]}
        harness.emit(harness.document("tfim_accuracy", args, rows, frontier=front,
                                      reference_check=check))
    return 0


def _write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(harness.main(main))
