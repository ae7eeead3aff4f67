"""Cost of one plain-RBM SR iteration (transverse-field Ising model): ours beside NetKet.

Three parts, one JSON record each (``--json``):

``iteration``
    Chain N = 20, h = 1, plain RBM alpha = 1 (440 parameters), 1000 samples
    from 16 Metropolis chains (63 sweeps each after 5 discarded), SR with
    learning rate 0.05 and diagonal shift 0.01. Ours is :func:`vmc.run_tfim`
    as a user runs it (its defaults: trust region, ``solver="auto"``);
    NetKet is ``nk.models.RBM(alpha=1)``, ``MetropolisLocal`` with 16
    chains, ``n_discard_per_chain=5``, ``SR(diag_shift=0.01)`` (its default
    solver: conjugate gradients on ``QGTAuto``) and ``Sgd(0.05)``, the
    baseline of ``benchmarks/tfim.py``; beside it NetKet's dense
    configuration (``QGTJacobianDense`` and its Cholesky solver) and its
    recommended SR driver ``nk.driver.VMC_SR`` (Cholesky with fallback; the
    sample-space/NTK form when samples < parameters). All run in this
    process on one thread (numba and BLAS through the harness; XLA on the
    CPU with one thread), in alternating blocks of iterations; an
    iteration's time is the interval between two consecutive callbacks (so
    the first iteration of a block, with burn-in and NetKet's compile, is
    never timed; NetKet's parameters are waited for with
    ``block_until_ready``). The figures are medians over all intervals of
    all blocks, wall and CPU, and the load average is recorded before and
    after. Our iteration is also split into its stages (sampling, local
    energies, log-derivatives and gradient, SR solve, trust region) by
    timing the same calls one by one.

``crossover``
    One SR solve (``vmc.optimizers.SR(solver=...)``) by each solver on
    log-derivatives of real samples of a plain RBM (init scale 0.3): the
    number of parameters P varied at n = 1008 samples, the samples n varied
    at P = 440, and a few n ~ P points where conjugate gradients can win;
    CG's iteration count (relative residual 1e-10) is recorded beside its time.

``scaling``
    Cost per iteration of ours for chains N = 20, 40, 80, 160, 400 and
    square lattices L = 4, 8, 12, 16 (plain RBM alpha = 1, 1000 samples, 16
    chains; the solver ``auto`` chose is recorded), NetKet's ``VMC_SR``
    (``--scaling-netket``) beside it while its previous size on that lattice
    took less than ``--netket-max-seconds`` per iteration.

Usage::

    python benchmarks/tfim_speed.py --quick          # < 2 minutes
    python benchmarks/tfim_speed.py --json > benchmarks/tfim_speed_results.json

On a shared machine wall time also counts the time the process waited for a
core; the ratios of the two codes measured in alternating blocks are what
carries over. NetKet is not a dependency of the workbench (``pip install
netket``, CPU jax, or ``pip install -e '.[bench]'``); without it the
benchmark stops with one line naming the install command and exit status 2.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import statistics
import sys
import time
import warnings

import numpy as np

if __package__:
    from . import _harness as harness
else:
    import _harness as harness

UNIT = "ms per iteration"
LR, SHIFT, FIELD, CHAINS, SAMPLES, DISCARD = 0.05, 0.01, 1.0, 16, 1000, 5
SCALING = [("chain", 20), ("chain", 40), ("chain", 80), ("chain", 160), ("chain", 400),
           ("square", 4), ("square", 8), ("square", 12), ("square", 16)]
#: NetKet configurations (--netket) -> record names
NETKET_NAMES = {"sr": "netket", "dense": "netket_dense", "vmc_sr": "netket_vmc_sr"}
QUICK_SCALING = [("chain", 20), ("chain", 40), ("chain", 80), ("square", 4), ("square", 8)]


def _clocks():
    return time.perf_counter(), time.process_time()


def _intervals(marks) -> list:
    """(wall, CPU) seconds between consecutive marks."""
    return [(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(marks)]


def _timing(intervals) -> harness.Timing:
    return harness.Timing(statistics.median(w for w, _ in intervals),
                          statistics.median(c for _, c in intervals), len(intervals))


def _sites(lattice, size):
    return size if lattice == "chain" else size * size


# --------------------------------------------------------------------------- ours
class Ours:
    """Blocks of :func:`vmc.run_tfim` iterations (fresh seed per block), timed between callbacks."""

    def __init__(self, lattice, size, *, seed):
        self.lattice, self.size, self.seed = lattice, size, seed
        self.solver = None

    def block(self, n_iter) -> list:
        import vmc
        from mccore.errors import IsingRBMWarning
        from vmc.optimizers import choose_solver

        marks = []
        self.seed += 1
        with warnings.catch_warnings():     # n_samples <= n_params: "S is singular" (expected)
            warnings.simplefilter("ignore", IsingRBMWarning)
            result = self._run(vmc, n_iter, marks)
        self.n_params = int(result.parameters["n_params"])
        self.solver = choose_solver(CHAINS * -(-SAMPLES // CHAINS), self.n_params)
        return _intervals(marks)

    def _run(self, vmc, n_iter, marks):
        return vmc.run_tfim(self.lattice, self.size, FIELD, alpha=1, n_iterations=n_iter,
                            n_samples=SAMPLES, n_chains=CHAINS, learning_rate=LR,
                            diag_shift=SHIFT, n_final_samples=16 * CHAINS, n_threads=1,
                            rng=self.seed, callback=lambda step: marks.append(_clocks()))


# --------------------------------------------------------------------------- NetKet
class NetKet:
    """One NetKet VMC driver, run in blocks that continue its optimization."""

    def __init__(self, lattice, size, *, seed, variant="sr"):
        with contextlib.redirect_stdout(sys.stderr):    # VMC_SR prints its choices
            self._build(lattice, size, seed, variant)

    def _build(self, lattice, size, seed, variant):
        nk = harness.peer("netket")
        import jax

        self._jax = jax
        _, hilbert, ham = harness.netket_tfim(lattice, size, FIELD)
        model = nk.models.RBM(alpha=1, param_dtype=float)
        sampler = nk.sampler.MetropolisLocal(hilbert, n_chains=CHAINS)
        self.state = nk.vqs.MCState(sampler, model, n_samples=SAMPLES,
                                    n_discard_per_chain=DISCARD, seed=seed,
                                    sampler_seed=seed + 1)
        opt = nk.optimizer.Sgd(learning_rate=LR)
        if variant == "vmc_sr":
            self.driver = nk.driver.VMC_SR(ham, opt, diag_shift=SHIFT,
                                           variational_state=self.state)
        else:
            sr = (nk.optimizer.SR(qgt=nk.optimizer.qgt.QGTJacobianDense,
                                  solver=nk.optimizer.solver.cholesky, diag_shift=SHIFT)
                  if variant == "dense" else nk.optimizer.SR(diag_shift=SHIFT))
            self.driver = nk.driver.VMC(ham, opt, variational_state=self.state,
                                        preconditioner=sr)
        self._log = nk.logging.RuntimeLog
        self.n_params = int(self.state.n_parameters)

    def block(self, n_iter) -> list:
        marks = []

        def cb(step, log_data, drv):
            self._jax.block_until_ready(drv.state.parameters)   # jax dispatches asynchronously
            marks.append(_clocks())
            return True

        with contextlib.redirect_stdout(sys.stderr):    # stdout is the JSON document's
            self.driver.run(n_iter=n_iter, out=self._log(), show_progress=False, callback=cb)
        return _intervals(marks)


def _alternate(sides: dict, n_blocks: int, n_iter: int) -> dict:
    """Per side, the intervals of ``n_blocks`` alternating blocks (after one warm-up block
    each) and the per-block medians."""
    for side in sides.values():
        side.block(3)                                    # compile, caches
    intervals = {name: [] for name in sides}
    per_block = {name: [] for name in sides}
    for _ in range(n_blocks):
        for name, side in sides.items():
            got = side.block(n_iter)
            intervals[name] += got
            per_block[name].append(_timing(got).as_dict(UNIT, 1e3))
    return {name: {"timing": _timing(intervals[name]), "blocks": per_block[name]}
            for name in sides}


def blas_kernels() -> dict:
    """The BLAS libraries loaded with the kernel family each runs (threadpoolctl's
    ``architecture``), and ``OPENBLAS_CORETYPE``, which overrides OpenBLAS's own choice
    when set: forming S is most of our iteration, and its speed is the kernel's (on an
    AVX-512 CPU the AVX2 ``Haswell`` kernels take 1.7x the time of ``SkylakeX``)."""
    from threadpoolctl import threadpool_info

    return {"openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
            "libraries": [{"prefix": i.get("prefix"), "version": i.get("version"),
                           "architecture": i.get("architecture")}
                          for i in threadpool_info() if i.get("user_api") == "blas"]}


def iteration_part(args) -> dict:
    """Chain N = 20: ours vs NetKet, alternating blocks; the stages of ours."""
    load_before = os.getloadavg()
    sides = {"ours": Ours("chain", 20, seed=args.seed)}
    for variant in (("sr",) if args.quick else args.netket.split(",")):
        sides[NETKET_NAMES[variant]] = NetKet("chain", 20, seed=args.seed, variant=variant)
    n_blocks = 2 if args.quick else args.blocks
    n_iter = 15 if args.quick else args.block_iterations
    got = _alternate(sides, n_blocks, n_iter)
    ours = got["ours"]["timing"]
    record = {"part": "iteration", "case": "chain N=20 h=1, plain RBM alpha=1",
              "samples": SAMPLES, "chains": CHAINS, "learning_rate": LR, "diag_shift": SHIFT,
              "n_params": sides["ours"].n_params, "solver": sides["ours"].solver,
              "blocks": n_blocks, "iterations_per_block": n_iter,
              "load_average_before": list(load_before), "load_average_after":
              list(os.getloadavg()), "blas": blas_kernels()}
    for name, value in got.items():
        t = value["timing"]
        record[name] = {"time": t.as_dict(UNIT, 1e3), "blocks": value["blocks"],
                        "iterations_per_second_wall": 1.0 / t.wall,
                        "iterations_per_second_cpu": 1.0 / t.cpu}
        if name != "ours":
            record[name]["speedup_of_ours"] = harness.speedup(ours, t)
    record["stages"] = stages(args)
    for name in got:
        t = record[name]["time"]
        harness.say(f"N=20 alpha=1 {name:13s} wall {t['wall']:7.2f} cpu {t['cpu']:7.2f} {UNIT}"
                    + (f"   ours is {record[name]['speedup_of_ours']['cpu']:.2f}x CPU, "
                       f"{record[name]['speedup_of_ours']['wall']:.2f}x wall"
                       if name != "ours" else
                       f"   {record[name]['iterations_per_second_wall']:.0f} it/s wall"))
    harness.say("stages of ours (CPU ms): " + ", ".join(
        f"{k} {v:.2f}" for k, v in record["stages"].items()))
    return record


def stages(args) -> dict:
    """Median CPU ms of each stage of our iteration, the calls made one by one."""
    from vmc.driver import VMC
    from vmc.optimizers import SR
    from vmc.spins import TFIM, Lattice, SpinMetropolisSampler, SpinRBM
    from vmc.trust_region import TrustRegion

    lat = Lattice("chain", 20)
    ham = TFIM(lat, FIELD)
    wf = SpinRBM(20, 1, init_scale=0.1, rng=args.seed)
    sampler = SpinMetropolisSampler(CHAINS, rng=args.seed)
    sr = SR(LR, diag_shift=SHIFT)
    driver = VMC(ham, wf, sampler, sr)
    trust = TrustRegion(wf, 0.01 * 20)
    out = {}

    def t(name, fn, *args):
        c0 = time.process_time()
        value = fn(*args)
        out.setdefault(name, []).append(time.process_time() - c0)
        return value

    def trust_step(x, delta):
        trust.check_last(x)
        trust.limit(x, wf.params, delta)

    for _ in range(8 if args.quick else 40):
        x = t("sampling", sampler.sample, wf, SAMPLES).flat
        t("local_energy", ham.local_energy, wf, x)
        grad, O_c = t("log_derivatives_and_gradient", driver._statistics, x)[3:]
        delta = t("sr_solve", sr.step, grad, O_c)
        t("trust_region", trust_step, x, delta)
        wf.params = wf.params + 0.01 * delta
    # _statistics computes the local energies again: counted once, under local_energy
    out["log_derivatives_and_gradient"] = [a - b for a, b in
                                           zip(out["log_derivatives_and_gradient"],
                                               out["local_energy"])]
    return {k: 1e3 * statistics.median(v[2:]) for k, v in out.items()}


# --------------------------------------------------------------------------- crossover
def _log_derivatives(n_sites, n_rows, seed):
    """Centred log-derivatives (n_rows, P) of a plain RBM (alpha 1, init scale 0.3) on
    samples of its own |psi|^2."""
    from vmc.spins import SpinMetropolisSampler, SpinRBM

    wf = SpinRBM(n_sites, 1, init_scale=0.3, rng=seed)
    batch = SpinMetropolisSampler(CHAINS, rng=seed).sample(wf, n_rows)
    O = wf.log_psi_param_grad(batch.flat[:n_rows])
    O -= O.mean(axis=0)
    return O


def _solve_time(O, grad, solver, repeats):
    from mccore.errors import IsingRBMWarning
    from vmc.optimizers import SR

    sr = SR(LR, diag_shift=SHIFT, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IsingRBMWarning)
        timing = harness.measure(lambda: sr.step(grad, O), repeats=repeats, warmup=1)
    return timing, sr.last_solve


def crossover_part(args) -> dict:
    """Time per solve of each solver over P (n = 1008), over n (P = 440) and at n ~ P."""
    from vmc.optimizers import choose_solver

    rng = np.random.default_rng(args.seed)
    if args.quick:
        points = [(8, 1008), (20, 1008), (30, 1008), (20, 200), (20, 400)]
        square = []
    else:
        points = ([(n, 1008) for n in (8, 14, 20, 30, 44, 64)]
                  + [(20, n) for n in (100, 200, 400, 800, 1600, 3200)])
        square = [(30, 960), (44, 2024), (64, 4224)]
    rows = []
    for n_sites, n_rows in points + square:
        O = _log_derivatives(n_sites, n_rows, args.seed)
        grad = rng.standard_normal(O.shape[1]) * 0.1
        P = O.shape[1]
        row = {"n": n_rows, "P": P, "auto": choose_solver(n_rows, P), "ms per solve": {}}
        big = n_rows * P * min(n_rows, P) > 4e10
        for solver in ("dense", "minsr", "cg"):
            timing, info = _solve_time(O, grad, solver, 1 if big else (3 if args.quick else 5))
            row["ms per solve"][solver] = timing.as_dict("ms per solve", 1e3)
            if solver == "cg":
                row["cg_iterations"] = info.get("iterations")
        best = min(row["ms per solve"], key=lambda k: row["ms per solve"][k]["cpu"])
        row["fastest_cpu"] = best
        rows.append(row)
        harness.say(f"crossover n={n_rows:5d} P={P:5d} " + " ".join(
            f"{k} {v['cpu']:8.2f}" for k, v in row["ms per solve"].items())
            + f" ms CPU; CG iterations {row['cg_iterations']}; fastest {best}, auto "
            f"{row['auto']}")
    return {"part": "crossover", "diag_shift": SHIFT, "cg_tol": 1e-10, "rows": rows}


# --------------------------------------------------------------------------- scaling
def scaling_part(args) -> dict:
    cases = QUICK_SCALING if args.quick else SCALING
    n_iter = 4 if args.quick else 5
    rows = []
    netket_ok = {"chain": not args.quick, "square": not args.quick}   # per lattice, by size
    for lattice, size in cases:
        ours = Ours(lattice, size, seed=args.seed)
        got = ours.block(n_iter)
        t = _timing(got)
        row = {"lattice": lattice, "size": size, "sites": _sites(lattice, size),
               "n_params": ours.n_params, "solver": ours.solver, "iterations": len(got),
               "ours": t.as_dict(UNIT, 1e3)}
        if netket_ok[lattice]:
            nk_side = NetKet(lattice, size, seed=args.seed, variant=args.scaling_netket)
            nk_side.block(2)                            # compile
            tn = _timing(nk_side.block(n_iter))
            row["netket"] = tn.as_dict(UNIT, 1e3)
            row["netket_variant"] = NETKET_NAMES[args.scaling_netket]
            row["speedup_of_ours"] = harness.speedup(t, tn)
            netket_ok[lattice] = tn.wall < args.netket_max_seconds
        rows.append(row)
        harness.say(f"scaling {lattice:6s} {size:3d} P={ours.n_params:6d} {ours.solver:5s} "
                    f"ours wall {t.wall * 1e3:9.1f} cpu {t.cpu * 1e3:9.1f} {UNIT}"
                    + (f"; NetKet wall {row['netket']['wall']:9.1f} cpu "
                       f"{row['netket']['cpu']:9.1f}" if "netket" in row else ""))
    return {"part": "scaling", "samples": SAMPLES, "chains": CHAINS, "alpha": 1,
            "rows": rows}


def main(argv=None):
    parser = harness.parser(__doc__)
    parser.add_argument("--parts", default="iteration,crossover,scaling",
                        help="comma-separated parts to run (iteration, crossover, scaling)")
    parser.add_argument("--blocks", type=int, default=5,
                        help="alternating blocks per side in the N = 20 comparison")
    parser.add_argument("--block-iterations", type=int, default=30,
                        help="iterations per block in the N = 20 comparison")
    parser.add_argument("--netket", default="sr,dense,vmc_sr",
                        help="NetKet configurations beside ours at N = 20 (--quick: sr): "
                             "sr = VMC with SR(diag_shift) (its default solver, CG), dense = "
                             "SR with QGTJacobianDense and Cholesky, vmc_sr = the VMC_SR driver")
    parser.add_argument("--scaling-netket", default="vmc_sr", choices=tuple(NETKET_NAMES),
                        help="NetKet configuration of the scaling table")
    parser.add_argument("--netket-max-seconds", type=float, default=2.0,
                        help="the scaling table stops running NetKet after a size whose "
                             "iteration took longer (wall seconds)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if any(v not in NETKET_NAMES for v in args.netket.split(",")):
        parser.error(f"--netket must name sr, dense, vmc_sr; got {args.netket!r}")
    parts = args.parts.split(",")
    if any(p not in ("iteration", "crossover", "scaling") for p in parts):
        parser.error(f"--parts must name iteration, crossover, scaling; got {args.parts!r}")
    for name in ("blocks", "block_iterations"):
        if getattr(args, name) < 2:
            parser.error(f"--{name.replace('_', '-')} must be >= 2, got {getattr(args, name)}")
    if "iteration" in parts or "scaling" in parts:
        harness.peer("netket")      # missing: one line and status 2, before any run
    records = []
    with harness.threads(1):
        if "iteration" in parts:
            records.append(iteration_part(args))
        if "crossover" in parts:
            records.append(crossover_part(args))
        if "scaling" in parts:
            records.append(scaling_part(args))
    if args.json:
        harness.emit(harness.document("tfim_speed", args, records))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(main))
