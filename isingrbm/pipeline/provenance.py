"""Provenance and result files of the pipeline: hashes, metadata, JSON, output paths.

Provenance vocabulary (attrs of model files and generated datasets, keys of
the JSON results): ``data_file`` (resolved path of the Monte Carlo dataset),
``data_group``, ``data_hash`` (:func:`rbm.bernoulli.data_hash` of the
training units), ``temperature``, ``beta``, ``phase``, ``L``, ``n_samples``,
``model_file``, ``model_hash`` (SHA-256 of the model file), ``seed`` (the
integer seed that reproduces the step), ``command``, ``software_version``.

Checkpoints: :func:`checkpoint_path` is :func:`mccore.training.checkpoint_path`
(``OUT.checkpoint``; older names found on resume).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np

from mccore import training
from mccore.errors import FileFormatError
from mccore.files import atomic_path
from mccore.training import checkpoint_path
from mccore.version import software_version

__all__ = ["ENCODING", "check_disk_space", "checkpoint_path", "file_hash", "fit_provenance",
           "jsonable", "read_json", "resume_seed", "sample_provenance", "write_json"]

#: How spins become RBM visible units (recorded in every model file).
ENCODING = "v = (s + 1) / 2, row-major"


def file_hash(path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def jsonable(obj):
    """``obj`` as plain JSON types: Estimates via ``to_dict``, arrays as lists, NaN/inf as None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return obj


def write_json(path: Path, obj) -> None:
    """Write a JSON result file atomically (temp file + os.replace); NaN/inf become null."""
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(jsonable(obj), fh, indent=1, allow_nan=False)
        fh.write("\n")


def read_json(path) -> dict:
    """Read a JSON result file; FileFormatError naming the file if it is not JSON."""
    path = Path(path)
    try:
        with open(path) as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: not a valid JSON file ({exc})") from None


def fit_provenance(data_path, ensemble, X, *, seed: int, augment: int = 1,
                   command: str = "isingrbm fit", seconds: float | None = None) -> dict:
    """The metadata of a model file: where its data came from and how it was trained.

    ``software_version`` is not among them: :func:`rbm.save` records it at the
    file's root.
    """
    from rbm.bernoulli import data_hash

    metadata = {
        "data_file": str(Path(data_path).resolve()),
        "data_group": ensemble.key,
        "temperature": float(ensemble.T),
        "beta": float(ensemble.beta),
        "phase": ensemble.phase,
        "L": int(ensemble.L),
        "n_samples": int(ensemble.n_samples),
        "data_hash": data_hash(X),
        "symmetry_images": int(augment),
        "encoding": ENCODING,
        "seed": int(seed),
        "command": command,
    }
    # the model file's root records software_version itself (rbm.save)
    if seconds is not None:
        metadata["training_seconds"] = round(float(seconds), 3)
    return metadata


def resume_seed(checkpoint, seed: int | None) -> int | None:
    """The seed of an interrupted fit, from its RBM checkpoint (it governs a resume).

    Returns ``seed`` when the checkpoint records none; the rule itself is
    :func:`mccore.training.resume_seed`.

    Raises
    ------
    InvalidParameterError
        ``seed`` is given and differs from the checkpoint's.
    """
    import rbm

    previous = (getattr(rbm.load(checkpoint), "metadata_", None) or {}).get("seed")
    return training.resume_seed(previous, seed)


def sample_provenance(model_path, model, metadata: dict, details: dict, *,
                      command: str = "isingrbm sample") -> dict:
    """The attrs of a generated dataset: the model it came from and that model's data.

    ``details`` says how the samples were drawn (plain Gibbs chains:
    ``n_steps``, ``init``, ``algorithm="rbm-gibbs"``; exact sampling: its
    own acceptance and thinning records).
    """
    return {
        "model_file": str(Path(model_path).resolve()),
        "model_hash": file_hash(model_path),
        "model_kind": "bernoulli",
        "n_hidden": int(model.n_hidden),
        **details,
        "data_file": str(metadata.get("data_file", "")),
        "data_hash": str(metadata.get("data_hash", "")),
        "training_phase": str(metadata.get("phase", "")),
        "command": command,
        "software_version": software_version(),
    }


def check_disk_space(out, n_samples: int, n_sites: int) -> None:
    """Refuse up front a generated dataset that cannot fit beside ``out``.

    The dataset store's own rule: twice the uncompressed rows (int8 spins,
    energy and magnetization) plus 1 MiB.

    Raises
    ------
    ising.store.DiskFullError
        One line: the file, the free bytes and about how many are needed.
    """
    import shutil

    from ising.store import DiskFullError

    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    needed = 2 * n_samples * (n_sites + 16) + (1 << 20)
    if free < needed:
        raise DiskFullError(f"No space left on device for {out} ({free} bytes free, "
                            f"{n_samples} samples need about {needed})", out)


def _write_target(out) -> Path:
    """The file an output path writes: a symlink is written through (the link stays)."""
    out = Path(out)
    return Path(os.path.realpath(out)) if out.is_symlink() else out
