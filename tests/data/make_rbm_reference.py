"""Make ``rbm_reference_*.npz``: fixed-seed outputs of the RBMs, to keep them bit-identical.

Run from the repository root (``python tests/data/make_rbm_reference.py``)
at the commit whose numbers are the reference (first made at b6ec560, before
the training-state restructuring of issue 20). ``tests/rbm/test_rbm_bit_identical.py``
recomputes :func:`compute` with the current code and compares every array
exactly. The file records the numpy, numba, scipy and scikit-learn versions
it was made with: floating-point bit patterns are tied to them (BLAS, SIMD
ufuncs, compiled kernels), so the test skips under other versions.

``rbm_checkpoint_pt_sgd_b6ec560.h5`` beside it is a checkpoint written by
b6ec560's own code: ``rbm.BernoulliRBM(**_BERNOULLI["pt_sgd"] | {"n_epochs":
1}).fit(_binary_data(), checkpoint=path)``, run with that commit's
``rbm``, ``mccore`` and ``mcstats`` on ``PYTHONPATH`` (``git archive
b6ec560 rbm mccore mcstats``); the test resumes it with the current code.

Only public API is used (constructors, ``fit`` with a checkpoint and
``resume``, ``partial_fit``, ``initialize``, ``sample``, ``gibbs``,
``log_partition``), so the same scenarios run before and after a
restructuring of the internals.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
#: reference file of each group of scenarios (the key's first word decides)
FILES = {"bernoulli": HERE / "rbm_reference_bernoulli.npz",
         "gaussian": HERE / "rbm_reference_gaussian.npz"}
LIBRARIES = ("numpy", "numba", "scipy", "sklearn")


def versions() -> dict:
    """The versions of the libraries the bit patterns depend on."""
    import importlib

    return {name: importlib.import_module(name).__version__ for name in LIBRARIES}


def _binary_data() -> np.ndarray:
    rng = np.random.default_rng(11)
    base = rng.random((1, 6)) < 0.5
    mode = rng.random((160, 1)) < 0.5
    return ((base ^ mode) ^ (rng.random((160, 6)) < 0.15)).astype(np.uint8)


def _real_data() -> np.ndarray:
    rng = np.random.default_rng(12)
    centres = np.array([[1.0, -0.5, 0.2], [-1.0, 0.5, 0.0]])
    return centres[rng.integers(0, 2, 150)] + 0.4 * rng.standard_normal((150, 3))


_BERNOULLI = {
    "cd_adam": dict(n_hidden=3, method="cd", k=2, n_epochs=3, batch_size=20, rng=1),
    "cd_sgd": dict(n_hidden=3, method="cd", n_epochs=3, batch_size=32, optimizer="sgd",
                   momentum=0.7, learning_rate=0.05, schedule="cosine", weight_decay=1e-3,
                   encoding="01", flip_moves=False, rng=2),
    "pcd_adam": dict(n_hidden=4, method="pcd", k=1, n_chains=12, n_epochs=3, batch_size=25,
                     validation_fraction=0.2, average_fraction=0.5, rng=3),
    "pcd_sgd": dict(n_hidden=2, method="pcd", n_chains=8, n_epochs=2, batch_size=40,
                    optimizer="sgd", dtype="float32", flip_augment=True,
                    encoding="pm1-visible", schedule="exponential", rng=4),
    "pt_adam": dict(n_hidden=3, method="pt", k=1, n_chains=6, n_temperatures=3, n_epochs=2,
                    batch_size=40, rng=5),
    "pt_sgd": dict(n_hidden=2, method="pt", n_chains=5, n_temperatures=2, n_epochs=2,
                   batch_size=50, optimizer="sgd", average_fraction=0.0, rng=6),
}
_GAUSSIAN = {
    "gcd_adam": dict(n_hidden=2, method="cd", k=1, n_epochs=3, batch_size=30, rng=7),
    "gpcd_sgd": dict(n_hidden=2, method="pcd", n_chains=10, n_epochs=3, batch_size=50,
                     optimizer="sgd", learn_sigma=True, learning_rate=0.02, rng=8),
}


def _fitted(out: dict, name: str, model) -> None:
    for attr in ("weights", "visible_bias", "hidden_bias", "sigma", "persistent_chains_"):
        value = getattr(model, attr, None)
        if value is not None:
            out[f"{name}/{attr}"] = np.asarray(value)
    for key, values in sorted(model.history_.items()):
        out[f"{name}/history/{key}"] = np.asarray(values, dtype=np.float64)
    out[f"{name}/seed_"] = np.asarray(model.seed_)
    out[f"{name}/epochs_done_"] = np.asarray(model.epochs_done_)


def compute() -> dict:
    """Every reference array, keyed ``scenario/what``."""
    import rbm

    out = {}
    X = _binary_data()
    Y = _real_data()
    with tempfile.TemporaryDirectory() as tmp:
        for name, kw in _BERNOULLI.items():
            model = rbm.BernoulliRBM(**kw).fit(X)
            _fitted(out, name, model)
            out[f"{name}/sample"] = model.sample(7, n_steps=5)
            out[f"{name}/gibbs"] = model.gibbs(X[:5], n_steps=2)
            # a run stopped at half way and resumed (extended) from its checkpoint
            ck = Path(tmp) / f"{name}.h5"
            half = dict(kw, n_epochs=1)
            rbm.BernoulliRBM(**half).fit(X, checkpoint=ck)
            resumed = rbm.BernoulliRBM(**kw).fit(X, checkpoint=ck, resume=True)
            _fitted(out, f"{name}/resumed", resumed)
            for key, value in rbm.load(ck).get_parameters().items():
                out[f"{name}/checkpoint/{key}"] = value
        for name, kw in _GAUSSIAN.items():
            model = rbm.GaussianBernoulliRBM(**kw).fit(Y)
            _fitted(out, name, model)
            out[f"{name}/sample"] = model.sample(6, n_steps=4)
            out[f"{name}/gibbs_step"] = model.gibbs_step(Y[:4])
            ck = Path(tmp) / f"{name}.h5"
            rbm.GaussianBernoulliRBM(**dict(kw, n_epochs=1)).fit(Y, checkpoint=ck)
            resumed = rbm.GaussianBernoulliRBM(**kw).fit(Y, checkpoint=ck, resume=True)
            _fitted(out, f"{name}/resumed", resumed)
    partial = rbm.BernoulliRBM(3, method="pcd", n_chains=10, batch_size=30, rng=9)
    partial.partial_fit(X[:80]).partial_fit(X[80:])
    _fitted(out, "partial_fit", partial)
    gpartial = rbm.GaussianBernoulliRBM(2, n_chains=10, batch_size=30, rng=10)
    gpartial.partial_fit(Y[:70]).partial_fit(Y[70:])
    _fitted(out, "gaussian_partial_fit", gpartial)
    init = rbm.BernoulliRBM(4, rng=12).initialize(6, X=X)
    out["initialize/weights"] = init.weights
    out["initialize/visible_bias"] = init.visible_bias
    ais = init.log_partition(method="ais", n_runs=4, n_betas=30)
    out["initialize/ais"] = np.array([ais.mean, ais.error])
    out["initialize/ais_seeded"] = np.asarray(
        init.log_partition(method="ais", n_runs=4, n_betas=30, rng=3).mean)
    ginit = rbm.GaussianBernoulliRBM(3, sigma_init=0.5, rng=13).initialize(4)
    out["gaussian_initialize/weights"] = ginit.weights
    out["gaussian_initialize/sample_hidden"] = ginit.sample_hidden(Y[:5, [0, 1, 2, 0]])
    return out


def group(key: str) -> str:
    """The reference file a key belongs to."""
    return "gaussian" if key.startswith("g") else "bernoulli"


def pack(arrays: dict) -> dict:
    """Many small arrays as three (one zip member each keeps the file a few KiB):
    ``index`` ("key;dtype;shape" strings), ``blob`` (their bytes, concatenated)
    and ``versions`` ("library=version" strings)."""
    index = [f"{k};{np.asarray(v).dtype.str};{','.join(map(str, np.shape(v)))}"
             for k, v in arrays.items()]
    blob = b"".join(np.ascontiguousarray(v).tobytes() for v in arrays.values())
    return {"index": np.array(index), "blob": np.frombuffer(blob, dtype=np.uint8),
            "versions": np.array([f"{k}={v}" for k, v in versions().items()])}


def unpack(path) -> tuple[dict, dict]:
    """``(arrays, versions)`` of a file written by :func:`main`."""
    with np.load(path) as z:
        index, blob, recorded = list(z["index"]), z["blob"].tobytes(), list(z["versions"])
    arrays, pos = {}, 0
    for entry in index:
        key, dtype, shape = str(entry).split(";")
        dtype = np.dtype(dtype)
        shape = tuple(int(n) for n in shape.split(",")) if shape else ()
        n = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
        arrays[key] = np.frombuffer(blob[pos:pos + n], dtype=dtype).reshape(shape)
        pos += n
    return arrays, dict(str(v).split("=", 1) for v in recorded)


def main() -> int:
    arrays = compute()
    for name, path in FILES.items():
        part = {k: v for k, v in arrays.items() if group(k) == name}
        np.savez_compressed(path, **pack(part))
        print(f"wrote {path} ({path.stat().st_size} bytes, {len(part)} arrays)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
