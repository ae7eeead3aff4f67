"""Training speed of rbm.BernoulliRBM beside scikit-learn's BernoulliRBM.

Both do PCD-1 (scikit-learn's only method; its persistent chains number
``batch_size``) on the same data: 256 visible units (L = 16-like: two
magnetized modes with 15% of the sites flipped at random), 64 and 256 hidden
units, batch sizes 10 and 100. The figure is training samples per second,
median of repeats, after a warm-up epoch. Ours runs through ``partial_fit``
(one pass, no per-epoch monitoring, as scikit-learn's ``fit`` without
``verbose``), with ``n_chains = batch_size``, in float32 and float64, with
Adam (our default) and plain SGD (scikit-learn's update rule), with and
without the global-flip moves. scikit-learn converts uint8 data to float64
(its default here) and also runs in float32 when given float32 data; the
speedup is reported against the faster of the two and against float64. A
numba probe implements the same PCD-1 update with explicit loops to answer
whether numba beats BLAS here.

Usage::

    python benchmarks/rbm_speed.py [--quick] [--json] [--threads K]

Timings by ``benchmarks/_harness.py`` (warm-up epoch excluded, medians of
repeats, wall and CPU time); BLAS and numba threads are set to ``--threads``
for both sides inside ``main``.
"""

from __future__ import annotations

import sys

import numpy as np

if __package__:
    from . import _harness as harness
else:
    import _harness as harness

UNIT = "us per training sample"


def make_data(n_samples, n_visible=256, rng=0):
    rng = np.random.default_rng(rng)
    mode = rng.random(n_samples) < 0.5
    flips = rng.random((n_samples, n_visible)) < 0.15
    return (mode[:, None] ^ flips).astype(np.uint8)


def numba_probe():
    """A PCD-1 epoch with explicit numba loops (the alternative to BLAS)."""
    import numba

    @numba.njit(cache=False)
    def epoch(X, W, a, b, chains, lr, batch, r_h, r_v, r_hc):
        n, nv = X.shape
        nh = W.shape[1]
        nc = chains.shape[0]
        gW = np.zeros_like(W)
        ph = np.zeros(nh, dtype=W.dtype)
        hs = np.zeros(nh, dtype=W.dtype)
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            gW[:] = 0.0
            ga = np.zeros(nv, dtype=W.dtype)
            gb = np.zeros(nh, dtype=W.dtype)
            for r in range(start, stop):
                for j in range(nh):
                    s = b[j]
                    for i in range(nv):
                        s += X[r, i] * W[i, j]
                    ph[j] = 1.0 / (1.0 + np.exp(-s))
                    gb[j] += ph[j]
                for i in range(nv):
                    ga[i] += X[r, i]
                    if X[r, i] != 0:
                        for j in range(nh):
                            gW[i, j] += ph[j]
            pos_n = stop - start
            for c in range(nc):
                for j in range(nh):
                    s = b[j]
                    for i in range(nv):
                        s += chains[c, i] * W[i, j]
                    p = 1.0 / (1.0 + np.exp(-s))
                    hs[j] = 1.0 if r_h[start % r_h.shape[0], c, j] < p else 0.0
                for i in range(nv):
                    s = a[i]
                    for j in range(nh):
                        s += W[i, j] * hs[j]
                    p = 1.0 / (1.0 + np.exp(-s))
                    chains[c, i] = 1.0 if r_v[start % r_v.shape[0], c, i] < p else 0.0
                for j in range(nh):
                    s = b[j]
                    for i in range(nv):
                        s += chains[c, i] * W[i, j]
                    p = 1.0 / (1.0 + np.exp(-s))
                    gb[j] -= p * pos_n / nc
                    for i in range(nv):
                        if chains[c, i] != 0:
                            gW[i, j] -= p * pos_n / nc
                for i in range(nv):
                    ga[i] -= chains[c, i] * pos_n / nc
            for i in range(nv):
                a[i] += lr * ga[i] / pos_n
                for j in range(nh):
                    W[i, j] += lr * gW[i, j] / pos_n
            for j in range(nh):
                b[j] += lr * gb[j] / pos_n

    return epoch


def main(argv=None):
    ap = harness.parser(__doc__)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS/numba threads for both sides (default 1)")
    args = ap.parse_args(argv)
    harness.peer("scikit-learn")          # loaded before the thread limits apply to it

    from rbm import BernoulliRBM

    n_samples = 2000 if args.quick else 10000
    repeats = 3 if args.quick else 5
    X = make_data(n_samples)
    X64 = X.astype(np.float64)
    X32 = X.astype(np.float32)
    records = []
    probe = numba_probe()

    def timed(fn):
        return harness.measure(fn, repeats=repeats, warmup=1, work=n_samples)

    with harness.threads(args.threads):
        for n_hidden in (64, 256):
            for batch in (10, 100):
                t = {}

                def sk(Xin):
                    m = harness.sklearn_rbm(n_hidden, learning_rate=0.01, batch_size=batch,
                                            n_iter=1, seed=0)
                    return lambda: m.fit(Xin)
                t["sklearn_float64"] = timed(sk(X64))
                t["sklearn_float32"] = timed(sk(X32))

                def ours(dtype, flips, optimizer="adam"):
                    m = BernoulliRBM(n_hidden, method="pcd", k=1, n_chains=batch,
                                     batch_size=batch, learning_rate=1e-3, dtype=dtype,
                                     flip_moves=flips, rng=0, optimizer=optimizer,
                                     momentum=0.0)
                    return lambda: m.partial_fit(X)
                t["ours_float32"] = timed(ours("float32", False))
                t["ours_float64"] = timed(ours("float64", False))
                t["ours_float32_sgd"] = timed(ours("float32", False, "sgd"))
                t["ours_float32_flip_moves"] = timed(ours("float32", True))
                rng = np.random.default_rng(0)
                W = (0.01 * rng.standard_normal((256, n_hidden))).astype(np.float32)
                a = np.zeros(256, np.float32)
                b = np.zeros(n_hidden, np.float32)
                chains = X32[:batch].copy()
                r_h = rng.random((min(n_samples, 1000), batch, n_hidden)).astype(np.float32)
                r_v = rng.random((min(n_samples, 1000), batch, 256)).astype(np.float32)
                t["numba_loops_float32"] = timed(
                    lambda: probe(X32, W, a, b, chains, np.float32(1e-3), batch, r_h, r_v,
                                  None))
                best_sk = min((t["sklearn_float64"], t["sklearn_float32"]),
                              key=lambda x: x.wall)
                row = {"n_visible": 256, "n_hidden": n_hidden, "batch_size": batch,
                       "n_samples": n_samples, "method": "PCD-1",
                       "timings": {k: v.as_dict(UNIT, 1e6) for k, v in t.items()},
                       "speedup_vs_best_sklearn": harness.speedup(t["ours_float32"], best_sk),
                       "speedup_vs_sklearn_default_float64": harness.speedup(
                           t["ours_float32"], t["sklearn_float64"]),
                       "speedup_sgd_vs_best_sklearn": harness.speedup(t["ours_float32_sgd"],
                                                                      best_sk),
                       "speedup_flip_moves_vs_best_sklearn": harness.speedup(
                           t["ours_float32_flip_moves"], best_sk),
                       "numba_loops_over_blas": harness.speedup(t["numba_loops_float32"],
                                                                t["ours_float32"])}
                records.append(row)
                rate = {k: 1 / v.wall for k, v in t.items()}
                harness.say(
                    f"n_hidden={n_hidden:4d} batch={batch:4d}  samples/s (wall): "
                    f"sklearn f64 {rate['sklearn_float64']:9.0f}  f32 "
                    f"{rate['sklearn_float32']:9.0f} | ours f32 {rate['ours_float32']:9.0f}  "
                    f"f64 {rate['ours_float64']:9.0f}  f32+flips "
                    f"{rate['ours_float32_flip_moves']:9.0f}  f32 sgd "
                    f"{rate['ours_float32_sgd']:9.0f} | numba loops "
                    f"{rate['numba_loops_float32']:9.0f}  => ours/sklearn "
                    f"{row['speedup_vs_best_sklearn']['wall']:.2f}x wall, "
                    f"{row['speedup_vs_best_sklearn']['cpu']:.2f}x CPU (vs its float64 "
                    f"default {row['speedup_vs_sklearn_default_float64']['wall']:.2f}x wall)")
    harness.say(f"({args.threads} thread(s); target: ours >= 2.5x scikit-learn)")
    if args.json:
        harness.emit(harness.document("rbm_speed", args, records))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(main))
