"""Make the bit-identity references of tests/ising/test_ising_bit_identical.py and
tests/gan/test_gan_bit_identical.py.

Run ONCE at the commit whose behaviour the tests pin (here b6ec560, before
ising/store.py, ising/montecarlo.py and gan/model.py were split), from a
clean export of that commit so that nothing uncommitted leaks in::

    git archive b6ec560 | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/data/bit_identical/make_references.py /tmp/old b6ec560

Writes, beside this script: small dataset files (Metropolis and Wolff at
L = 8, a ``write_generated`` file), two tiny GAN model files (plain and
temperature-conditioned), and ``manifest.json`` with the library versions,
the commit, and SHA-256 digests of every array the tests compare. Bit
patterns of floating-point results are tied to the numpy / numba / torch
versions, so the tests skip when those differ from the recorded ones.
"""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parents[1]) not in sys.path:   # run as a script: tests/ holds bit_identity
    sys.path.insert(0, str(HERE.parents[1]))
from bit_identity import digest, library_versions


# the settings the tests repeat (imported by them)
ISING_RUNS = {
    "metropolis": dict(L=8, temperatures=[1.8, 3.0], n_samples=48, algorithm="metropolis",
                       rng=20261205, n_chains=4),
    "wolff": dict(L=8, temperatures=[2.0, 2.4], n_samples=48, algorithm="wolff",
                  rng=7, n_chains=4),
}
GENERATED = dict(T=2.5, source="gan", seed=5, provenance={"model_file": "x.pt", "n_steps": 3})
GAN_DATA = dict(L=8, T=2.6, n=64, seed=11, n_sweeps=30)
GAN_RUNS = {
    "plain": dict(L=8, latent_dim=4, noise_channels=1, channels=4, n_layers=2, n_epochs=2,
                  batch_size=16, snapshot_epochs=(1,), n_snapshot=4, rng=3),
    "conditional": dict(L=8, latent_dim=4, noise_channels=1, channels=4, n_layers=2,
                        n_epochs=2, batch_size=16, conditional=True, loss="hinge",
                        feature_matching=0.5, n_snapshot=4, rng=4),
}
N_GAN_SAMPLES = 40


def versions() -> dict:
    return library_versions("numpy", "numba", "torch")


def gan_data(conditional: bool):
    sys.path.insert(0, str(HERE.parents[1] / "gan"))
    from gan_testdata import metropolis_spins
    d = GAN_DATA
    spins = metropolis_spins(d["L"], d["T"], d["n"], seed=d["seed"], n_sweeps=d["n_sweeps"])
    if not conditional:
        return spins, None
    other = metropolis_spins(d["L"], 1.8, d["n"], seed=d["seed"] + 1, n_sweeps=d["n_sweeps"])
    temps = np.repeat([d["T"], 1.8], d["n"])
    return np.concatenate([spins, other]), temps


def ising_digests(ensembles) -> dict:
    return {f"{e.T:.6f}": {"spins": digest(e.spins), "energy": digest(e.energy),
                           "magnetization": digest(e.magnetization),
                           "thinning": int(e.attrs["thinning"]),
                           "equilibration_sweeps": int(e.attrs["equilibration_sweeps"])}
            for e in ensembles}


def gan_digests(model) -> dict:
    out = {}
    for name in ("_generator", "_generator_ema", "_discriminator"):
        net = getattr(model, name)
        for key, value in net.state_dict().items():
            out[f"{name}.{key}"] = digest(value.numpy())
    return out


def main(source_root: str, commit: str) -> None:
    import ising
    import gan
    if not str(Path(ising.__file__).resolve()).startswith(str(Path(source_root).resolve())):
        raise SystemExit(f"ising imported from {ising.__file__}, not {source_root}")
    manifest = {"versions": versions(), "made_at": commit, "ising": {}, "gan": {}}
    for name, run in ISING_RUNS.items():
        path = HERE / f"ising_{name}_L8.h5"
        path.unlink(missing_ok=True)
        run = dict(run)
        ens = ising.simulate(run.pop("L"), run.pop("temperatures"), run.pop("n_samples"),
                             path=path, checkpoint_interval=0.0, **run)
        manifest["ising"][name] = ising_digests(ens)
    spins = ising.load(HERE / "ising_metropolis_L8.h5").ensembles[0].spins
    path = HERE / "generated_L8.h5"
    path.unlink(missing_ok=True)
    ising.write_generated(path, spins[:16], **GENERATED)
    manifest["ising"]["generated"] = ising_digests(ising.load(path).ensembles)
    for name, run in GAN_RUNS.items():
        spins, temps = gan_data(run.get("conditional", False))
        model = gan.IsingGAN(**run).fit(spins, temps)
        model.save(HERE / f"gan_{name}.pt", overwrite=True)
        T = 2.2 if model.conditional else None
        samples = model.sample(N_GAN_SAMPLES, rng=9, temperature=T)
        manifest["gan"][name] = {
            "weights": gan_digests(model), "samples": digest(samples),
            "history": {k: v for k, v in model.history_.items()
                        if k not in ("snapshots", "seconds")},   # seconds: wall time
            "snapshots": {str(k): digest(v) for k, v in model.history_["snapshots"].items()},
        }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: make_references.py SOURCE_ROOT COMMIT")
    main(sys.argv[1], sys.argv[2])
