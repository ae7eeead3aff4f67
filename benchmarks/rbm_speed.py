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
speedup is reported against the faster of the two and against float64. A numba probe implements the same PCD-1
update with explicit loops to answer whether numba beats BLAS here.

Usage::

    python benchmarks/rbm_speed.py [--quick] [--json] [--threads K]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples and repeats")
    ap.add_argument("--json", action="store_true", help="print one JSON list of records")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS/numba threads for both sides (default 1)")
    return ap.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402


def make_data(n_samples, n_visible=256, rng=0):
    rng = np.random.default_rng(rng)
    mode = rng.random(n_samples) < 0.5
    flips = rng.random((n_samples, n_visible)) < 0.15
    return (mode[:, None] ^ flips).astype(np.uint8)


def _median_rate(fn, n_samples, repeats):
    fn()  # warm-up (and numba compile)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return n_samples / statistics.median(times)


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
                    hs[j] = 1.0 if r_h[start % r_h.shape[0], c, j] < 1.0 / (1.0 + np.exp(-s)) else 0.0
                for i in range(nv):
                    s = a[i]
                    for j in range(nh):
                        s += W[i, j] * hs[j]
                    chains[c, i] = 1.0 if r_v[start % r_v.shape[0], c, i] < 1.0 / (1.0 + np.exp(-s)) else 0.0
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


def main():
    import sklearn
    from sklearn.neural_network import BernoulliRBM as SkRBM

    from rbm import BernoulliRBM

    quick = ARGS.quick
    n_samples = 2000 if quick else 10000
    repeats = 3 if quick else 5
    X = make_data(n_samples)
    X64 = X.astype(np.float64)
    X32 = X.astype(np.float32)
    records = []
    probe = numba_probe()
    for n_hidden in (64, 256):
        for batch in (10, 100):
            row = {"n_visible": 256, "n_hidden": n_hidden, "batch_size": batch,
                   "n_samples": n_samples, "method": "PCD-1", "threads": ARGS.threads}

            def sk(Xin):
                m = SkRBM(n_components=n_hidden, learning_rate=0.01, batch_size=batch,
                          n_iter=1, random_state=0)
                return lambda: m.fit(Xin)
            row["sklearn_float64"] = _median_rate(sk(X64), n_samples, repeats)
            row["sklearn_float32"] = _median_rate(sk(X32), n_samples, repeats)

            def ours(dtype, flips, optimizer="adam"):
                m = BernoulliRBM(n_hidden, method="pcd", k=1, n_chains=batch, batch_size=batch,
                                 learning_rate=1e-3, dtype=dtype, flip_moves=flips, rng=0,
                                 optimizer=optimizer, momentum=0.0)
                m.partial_fit(X)
                return lambda: m.partial_fit(X)
            row["ours_float32"] = _median_rate(ours("float32", False), n_samples, repeats)
            row["ours_float64"] = _median_rate(ours("float64", False), n_samples, repeats)
            row["ours_float32_sgd"] = _median_rate(ours("float32", False, "sgd"), n_samples,
                                                   repeats)
            row["ours_float32_flip_moves"] = _median_rate(ours("float32", True), n_samples,
                                                          repeats)
            rng = np.random.default_rng(0)
            W = (0.01 * rng.standard_normal((256, n_hidden))).astype(np.float32)
            a = np.zeros(256, np.float32)
            b = np.zeros(n_hidden, np.float32)
            chains = X32[:batch].copy()
            r_h = rng.random((min(n_samples, 1000), batch, n_hidden)).astype(np.float32)
            r_v = rng.random((min(n_samples, 1000), batch, 256)).astype(np.float32)
            row["numba_loops_float32"] = _median_rate(
                lambda: probe(X32, W, a, b, chains, np.float32(1e-3), batch, r_h, r_v, None),
                n_samples, repeats)
            best_sk = max(row["sklearn_float64"], row["sklearn_float32"])
            row["speedup_vs_best_sklearn"] = row["ours_float32"] / best_sk
            row["speedup_vs_sklearn_default_float64"] = row["ours_float32"] / row["sklearn_float64"]
            row["speedup_sgd_vs_best_sklearn"] = row["ours_float32_sgd"] / best_sk
            row["speedup_flip_moves_vs_best_sklearn"] = row["ours_float32_flip_moves"] / best_sk
            row["numba_over_blas"] = row["numba_loops_float32"] / row["ours_float32"]
            records.append(row)
            if not ARGS.json:
                print(f"n_hidden={n_hidden:4d} batch={batch:4d}  samples/s: "
                      f"sklearn f64 {row['sklearn_float64']:9.0f}  f32 {row['sklearn_float32']:9.0f} | "
                      f"ours f32 {row['ours_float32']:9.0f}  f64 {row['ours_float64']:9.0f}  "
                      f"f32+flips {row['ours_float32_flip_moves']:9.0f}  f32 sgd "
                      f"{row['ours_float32_sgd']:9.0f} | numba loops "
                      f"{row['numba_loops_float32']:9.0f}  => ours/sklearn "
                      f"{row['speedup_vs_best_sklearn']:.2f}x (vs its float64 default "
                      f"{row['speedup_vs_sklearn_default_float64']:.2f}x)", file=sys.stderr,
                      flush=True)
    if ARGS.json:
        print(json.dumps(records))
    else:
        print(f"(scikit-learn {sklearn.__version__}; {ARGS.threads} thread(s); target: ours "
              ">= 2.5x scikit-learn)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
