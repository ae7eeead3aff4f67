"""Make the bit-identity references of tests/isingrbm/test_app_bit_identical.py.

The command line end to end: ``generate``, ``fit``, ``sample``, ``gan fit``
and ``gan sample`` (plain and temperature-conditioned) at tiny sizes and
fixed seeds. Run ONCE at the commit whose behaviour the test pins (here
b6ec560, before isingrbm/pipeline.py was split and the GAN commands went
through it), from a clean export of that commit::

    git archive b6ec560 | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/data/bit_identical/make_app_references.py /tmp/old b6ec560

Writes ``app_manifest.json`` beside this script: the library versions, the
commit, and SHA-256 digests of every array of the outputs (datasets, RBM
parameters and history) plus the GAN's loss history (floats, exact). Bit
patterns of floating-point results are tied to the numpy / numba / scipy /
scikit-learn / torch versions, so the test skips when those differ.
(``sample --exact`` is not pinned here: its default moves changed after
b6ec560 by design.)
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parents[1]) not in sys.path:   # run as a script: tests/ holds bit_identity
    sys.path.insert(0, str(HERE.parents[1]))
from bit_identity import digest, library_versions

MANIFEST = HERE / "app_manifest.json"

GAN_SMALL = ["--epochs", "2", "--channels", "4", "--latent-dim", "4", "--noise-channels", "1",
             "--batch-size", "16", "--quiet"]
#: (output file, argv after ``isingrbm``); run in order in one folder
RUNS = [
    ("data.h5", ["generate", "--size", "4", "--temperatures", "1.5", "2.5", "--samples", "64",
                 "--out", "data.h5", "--seed", "3", "--quiet"]),
    ("m.h5", ["fit", "data.h5", "--temperature", "2.5", "--hidden", "4", "--out", "m.h5",
              "--seed", "5", "--epochs", "2", "--quiet"]),
    ("s.h5", ["sample", "m.h5", "--samples", "40", "--steps", "20", "--out", "s.h5",
              "--seed", "6", "--quiet"]),
    ("g.pt", ["gan", "fit", "data.h5", "--temperature", "2.5", "--out", "g.pt", "--seed", "8",
              *GAN_SMALL]),
    ("gs.h5", ["gan", "sample", "g.pt", "--samples", "30", "--out", "gs.h5", "--seed", "9",
               "--quiet"]),
    ("cg.pt", ["gan", "fit", "data.h5", "--all-temperatures", "--out", "cg.pt", "--seed", "10",
               *GAN_SMALL]),
    ("cgs.h5", ["gan", "sample", "cg.pt", "--samples", "20", "--temperature", "1.5", "2.5",
                "--out", "cgs.h5", "--seed", "11", "--quiet"]),
]


def versions() -> dict:
    return library_versions("numpy", "numba", "scipy", "scikit-learn", "torch")


def digests(folder: Path) -> dict:
    """Every array of the HDF5 outputs; the GAN models' loss history (exact floats)."""
    import h5py

    import gan
    out = {}
    for name, _ in RUNS:
        path = folder / name
        if name.endswith(".pt"):
            history = gan.IsingGAN.load(path).history_
            out[name] = {k: [float(x) for x in history[k]]
                         for k in ("loss_discriminator", "loss_generator", "d_real", "d_fake")}
            continue
        arrays = {}
        with h5py.File(path, "r") as fh:
            fh.visititems(lambda key, obj: arrays.__setitem__(key, digest(obj[()]))
                          if isinstance(obj, h5py.Dataset) else None)
        out[name] = arrays
    return out


def main(source_root: str, commit: str) -> None:
    import isingrbm
    if not str(Path(isingrbm.__file__).resolve()).startswith(str(Path(source_root).resolve())):
        raise SystemExit(f"isingrbm imported from {isingrbm.__file__}, not {source_root}")
    with tempfile.TemporaryDirectory() as tmp:
        for _, argv in RUNS:
            subprocess.run([sys.executable, "-m", "isingrbm", *argv], cwd=tmp, check=True)
        manifest = {"versions": versions(), "made_at": commit, "outputs": digests(Path(tmp))}
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: make_app_references.py SOURCE_ROOT COMMIT")
    main(sys.argv[1], sys.argv[2])
