"""VMC sampling speed and optimizer efficiency.

1. Single-particle moves per second, ONE thread, N = 2 particles, D = 2,
   2 hidden units (RBM trial state, Psi = sqrt(F)): the numba kernels
   (brute-force Metropolis, importance sampling) beside two NumPy
   implementations of the same algorithm (same proposals, same incremental
   updates of the hidden inputs), measured in the same run:
     * "numpy-chain": one walker, each move vectorized over its coordinates
       and hidden units (the textbook NumPy VMC code);
     * "numpy-batched": all walkers moved at once, each move vectorized over
       walkers (NumPy's best case; it needs many walkers to pay off).
   Targets (issue 4): >= 10 M/s brute force, >= 4 M/s importance sampling,
   >= 30x the NumPy implementation. Timed by ``benchmarks/_harness.py``
   (compile excluded, medians of repeats, wall and CPU time); the figures
   printed are from the CPU time of this process (the code is
   single-threaded; on a shared machine wall time also counts other
   processes), the wall figures are in the JSON records.
2. Iterations to get within 1e-3 of the exact energy (10-iteration running
   mean) for SR and Adam from the same starting point, over several seeds:
   free particles (N=2, D=2, exact 2) and two electrons in 2D with the
   Pade-Jastrow factor (exact 3).

Usage: python benchmarks/vmc_speed.py [--quick] [--json]
"""

from __future__ import annotations

import math
import sys

import numpy as np

if __package__:
    from . import _harness as harness
else:
    import _harness as harness


# ---------------------------------------------------------------- NumPy versions
def _softplus(t):
    return np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def _start(wf, x):
    """What every reference reads of ``wf`` and the hidden pre-activations of ``x`` (one
    walker, or all as rows): ``a, W, 1/sigma^2, f, N, D, theta``."""
    inv_s2 = 1.0 / wf.sigma**2
    return wf.a, wf.W, inv_s2, wf.f, wf.n_particles, wf.n_dims, wf.b + (x * inv_s2) @ wf.W


def _log_ratio(f, a, inv_s2, xo, xn, sp, sp_n, axis):
    """``log Psi(xn) / Psi(xo)`` of one particle's move (summed over ``axis``: None for
    one walker, 1 for all)."""
    return (-0.5 * f * np.sum(((xn - a) ** 2 - (xo - a) ** 2) * inv_s2, axis=axis)
            + f * np.sum(sp_n - sp, axis=axis))


def numpy_chain_metropolis(wf, x, step, n_sweeps, rng):
    """One walker, single-particle moves; vectorized over coordinates and hidden units."""
    a, W, inv_s2, f, N, D, theta = _start(wf, x)
    sp = _softplus(theta)
    accepted = 0
    for _ in range(n_sweeps):
        for p in range(N):
            sl = slice(p * D, (p + 1) * D)
            xo = x[sl]
            xn = xo + step * (2.0 * rng.random(D) - 1.0)
            theta_n = theta + ((xn - xo) * inv_s2[sl]) @ W[sl]
            sp_n = _softplus(theta_n)
            log_ratio = _log_ratio(f, a[sl], inv_s2[sl], xo, xn, sp, sp_n, None)
            if rng.random() < math.exp(2.0 * log_ratio):
                x[sl] = xn
                theta, sp = theta_n, sp_n
                accepted += 1
    return accepted


def numpy_chain_importance(wf, x, dt, n_sweeps, rng):
    """One walker, Langevin proposals; vectorized over coordinates and hidden units."""
    a, W, inv_s2, f, N, D, theta = _start(wf, x)
    sp = _softplus(theta)
    sg = _sigmoid(theta)
    sqdt = math.sqrt(dt)
    accepted = 0
    for _ in range(n_sweeps):
        for p in range(N):
            sl = slice(p * D, (p + 1) * D)
            xo = x[sl]
            g_old = f * (-(xo - a[sl]) + W[sl] @ sg) * inv_s2[sl]
            xn = xo + dt * g_old + sqdt * rng.standard_normal(D)
            theta_n = theta + ((xn - xo) * inv_s2[sl]) @ W[sl]
            sp_n = _softplus(theta_n)
            sg_n = _sigmoid(theta_n)
            g_new = f * (-(xn - a[sl]) + W[sl] @ sg_n) * inv_s2[sl]
            log_ratio = _log_ratio(f, a[sl], inv_s2[sl], xo, xn, sp, sp_n, None)
            fwd = xn - xo - dt * g_old
            back = xo - xn - dt * g_new
            log_green = np.sum(fwd * fwd - back * back) / (2.0 * dt)
            if rng.random() < math.exp(2.0 * log_ratio + log_green):
                x[sl] = xn
                theta, sp, sg = theta_n, sp_n, sg_n
                accepted += 1
    return accepted


def numpy_batched_metropolis(wf, X, step, n_sweeps, rng):
    """All walkers at once (X (n_walkers, n_visible)), each move vectorized over walkers."""
    a, W, inv_s2, f, N, D, theta = _start(wf, X)
    n = X.shape[0]
    sp = _softplus(theta)
    accepted = 0
    for _ in range(n_sweeps):
        for p in range(N):
            sl = slice(p * D, (p + 1) * D)
            xo = X[:, sl]
            xn = xo + step * (2.0 * rng.random((n, D)) - 1.0)
            theta_n = theta + ((xn - xo) * inv_s2[sl]) @ W[sl]
            sp_n = _softplus(theta_n)
            log_ratio = _log_ratio(f, a[sl], inv_s2[sl], xo, xn, sp, sp_n, 1)
            acc = rng.random(n) < np.exp(2.0 * log_ratio)
            X[acc, sl] = xn[acc]
            theta[acc] = theta_n[acc]
            sp[acc] = sp_n[acc]
            accepted += int(acc.sum())
    return accepted


def numpy_batched_importance(wf, X, dt, n_sweeps, rng):
    """All walkers at once, Langevin proposals."""
    a, W, inv_s2, f, N, D, theta = _start(wf, X)
    n = X.shape[0]
    sp, sg = _softplus(theta), _sigmoid(theta)
    sqdt = math.sqrt(dt)
    accepted = 0
    for _ in range(n_sweeps):
        for p in range(N):
            sl = slice(p * D, (p + 1) * D)
            xo = X[:, sl]
            g_old = f * (-(xo - a[sl]) + sg @ W[sl].T) * inv_s2[sl]
            xn = xo + dt * g_old + sqdt * rng.standard_normal((n, D))
            theta_n = theta + ((xn - xo) * inv_s2[sl]) @ W[sl]
            sp_n, sg_n = _softplus(theta_n), _sigmoid(theta_n)
            g_new = f * (-(xn - a[sl]) + sg_n @ W[sl].T) * inv_s2[sl]
            log_ratio = _log_ratio(f, a[sl], inv_s2[sl], xo, xn, sp, sp_n, 1)
            fwd = xn - xo - dt * g_old
            back = xo - xn - dt * g_new
            log_green = np.sum(fwd * fwd - back * back, axis=1) / (2.0 * dt)
            acc = rng.random(n) < np.exp(2.0 * log_ratio + log_green)
            X[acc, sl] = xn[acc]
            theta[acc], sp[acc], sg[acc] = theta_n[acc], sp_n[acc], sg_n[acc]
            accepted += int(acc.sum())
    return accepted


# ---------------------------------------------------------------- timing
def _timed(fn, n_moves, repeats):
    """Seconds per move (wall and CPU); the caller has compiled and warmed up."""
    return harness.measure(fn, repeats=repeats, warmup=0, work=n_moves)


def _rate(timing):
    """Moves per second of CPU time (single-threaded code on a shared machine)."""
    return 1.0 / timing.cpu


def speed(quick):
    from vmc import streams
    from vmc.trap import Wavefunction, kernels

    wf = Wavefunction(2, 2, n_hidden=2, init_scale=0.3, rng=1)
    wf_j = Wavefunction(2, 2, n_hidden=2, init_scale=0.3, jastrow_a=1.0, rng=1)
    n_walkers = 16
    n_sweeps = 20_000 if quick else 100_000  # per walker for numba
    repeats = 3 if quick else 5
    records = []
    timings = {}
    for name, kernel, step in (("metropolis", kernels.metropolis_sweeps, 1.3),
                               ("importance", kernels.importance_sweeps, 0.7)):
        for label, w in (("rbm", wf), ("rbm+jastrow", wf_j)):
            states = streams.seed_states(np.random.SeedSequence(3), n_walkers)
            x = np.random.default_rng(0).normal(size=(n_walkers, 4)) * 0.7
            steps_per_call = max(n_sweeps // n_walkers, 1)
            out = np.empty((n_walkers, steps_per_call, 4))
            acc = np.zeros(n_walkers, dtype=np.int64)
            args = w.kernel_args()
            kernel(x, states, *args, step, 2, out[:, :2], acc)  # compile / warm up

            def call():
                kernel(x, states, *args, step, steps_per_call, out, acc)

            moves = n_walkers * steps_per_call * 2
            timing = _timed(call, moves, repeats)
            timings[(name, label)] = timing
            records.append({"benchmark": "moves_per_second", "sampler": name, "ansatz": label,
                            "implementation": "numba", "threads": 1,
                            "moves_per_second": _rate(timing),
                            "time": timing.as_dict("ns per move", 1e9),
                            "acceptance": float(acc.sum() / moves)})   # the last call's
        # NumPy baselines (RBM only, same algorithm)
        rng = np.random.default_rng(0)
        chain = numpy_chain_metropolis if name == "metropolis" else numpy_chain_importance
        batched = numpy_batched_metropolis if name == "metropolis" else numpy_batched_importance
        n_np = 500 if quick else 2000
        x1 = np.zeros(4)
        t_chain = _timed(lambda: chain(wf, x1, step, n_np, rng), n_np * 2, repeats)
        n_batch, sweeps_b = 1024, (20 if quick else 100)
        Xb = rng.normal(size=(n_batch, 4)) * 0.7
        t_batched = _timed(lambda: batched(wf, Xb, step, sweeps_b, rng),
                           n_batch * sweeps_b * 2, repeats)
        ours = timings[(name, "rbm")]
        for impl, t in (("numpy-chain", t_chain), (f"numpy-batched ({n_batch} walkers)",
                                                   t_batched)):
            records.append({"benchmark": "moves_per_second", "sampler": name, "ansatz": "rbm",
                            "implementation": impl, "threads": 1,
                            "moves_per_second": _rate(t), "time": t.as_dict("ns per move", 1e9),
                            "numba_speedup": harness.speedup(ours, t)})
    return records


def iterations_to_converge(quick):
    import vmc

    seeds = (1, 2) if quick else (1, 2, 3)
    records = []
    systems = (("free N=2 D=2", dict(n_particles=2, n_dims=2), 2.0, 2000),
               ("coulomb N=2 D=2 +PJ", dict(n_particles=2, n_dims=2, interaction="coulomb",
                                            jastrow="pade"), 3.0, 5000))
    for label, kw, exact, n_samples in systems:
        for opt in ("sr", "adam"):
            hits = []
            max_iter = 300 if opt == "sr" else (600 if quick else 1000)
            for seed in seeds:
                window = []
                state = {"hit": None}

                def cb(step, window=window, state=state):
                    window.append(step.metrics["energy"])
                    if len(window) >= 10 and abs(np.mean(window[-10:]) - exact) < 1e-3:
                        state["hit"] = step.step
                        return True
                    return False

                kw2 = dict(kw)
                vmc.run(**kw2, optimizer=opt, n_iterations=max_iter, n_samples=n_samples,
                        n_final_samples=16 * 16, init_scale=0.3, rng=seed, n_threads=1,
                        callback=cb)
                hits.append(state["hit"])
            records.append({"benchmark": "iterations_to_1e-3", "system": label,
                            "optimizer": opt, "seeds": list(seeds), "iterations": hits,
                            "max_iterations": max_iter, "samples_per_iteration": n_samples})
    return records


def main(argv=None):
    parser = harness.parser(__doc__)
    args = parser.parse_args(argv)
    with harness.threads(1):
        records = speed(args.quick) + iterations_to_converge(args.quick)
    if args.json:
        harness.emit(harness.document("vmc_speed", args, records))
        return 0
    print("Single-particle moves per second of CPU time, 1 thread, N=2 D=2 H=2 "
          "(median of repeats)")
    print(f"{'sampler':<12}{'ansatz':<13}{'implementation':<30}{'moves/s':>12}{'numba x':>10}")
    for r in records:
        if r["benchmark"] != "moves_per_second":
            continue
        sp = r.get("numba_speedup", {}).get("cpu")
        print(f"{r['sampler']:<12}{r['ansatz']:<13}{r['implementation']:<30}"
              f"{r['moves_per_second'] / 1e6:>10.2f} M{'' if sp is None else f'{sp:>10.1f}'}")
    print("targets: metropolis >= 10 M/s, importance >= 4 M/s, >= 30x NumPy")
    print()
    print("Iterations until the 10-iteration mean energy is within 1e-3 of exact "
          "(None: not within max)")
    for r in records:
        if r["benchmark"] == "iterations_to_1e-3":
            print(f"  {r['system']:<22}{r['optimizer']:<6}{r['iterations']} "
                  f"(max {r['max_iterations']}, {r['samples_per_iteration']} samples/it)")
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(main))
