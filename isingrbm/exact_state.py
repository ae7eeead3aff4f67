"""The saved state of exact RBM sampling (:mod:`isingrbm.exact_sampling`), and its size.

- :func:`write_checkpoint` / :func:`read_checkpoint`: a run's state as one
  NumPy ``.npz`` file (arrays: chain states, measurement series, samples so
  far; JSON: counters, settings, random-generator states), written
  atomically; read with ``allow_pickle=False``, so a planted file cannot run
  code;
- :func:`parameters_hash`: what a checkpoint's model must match;
- :func:`memory_estimate`: the bytes a run needs, by what drives them, so
  the command line can refuse before anything is created.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_EQUILIBRATION_PROPOSALS", "checkpoint_seed", "memory_estimate",
           "parameters_hash", "read_checkpoint", "write_checkpoint"]

#: Equilibration gives up (with a warning, recorded) after this many proposals.
MAX_EQUILIBRATION_PROPOSALS = 2**16


def parameters_hash(model) -> str:
    """SHA-256 of a binary RBM's parameters (float64 bytes): what a checkpoint must match."""
    import hashlib

    h = hashlib.sha256()
    for name in ("weights", "visible_bias", "hidden_bias"):
        h.update(np.ascontiguousarray(getattr(model, name), dtype=np.float64).tobytes())
    return h.hexdigest()


_CHECKPOINT_FORMAT = "isingrbm-exact-sampling-checkpoint"


def write_checkpoint(path, snapshot: dict, seconds: float) -> None:
    """Write a :class:`_Run` snapshot atomically (a NumPy ``.npz``: arrays, and the
    counters, settings and random-generator states as JSON; no pickle)."""
    import json

    from mccore.files import atomic_path

    meta = dict(snapshot["meta"], format=_CHECKPOINT_FORMAT,
                seconds_before=snapshot["meta"]["seconds_before"] + seconds)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(meta)), **snapshot["arrays"])


def read_checkpoint(path) -> dict:
    """A checkpoint of :func:`write_checkpoint` as ``{"meta", "arrays", "settings"}``.

    Raises
    ------
    FileFormatError
        Not such a checkpoint (naming the file).
    """
    import json
    import zipfile

    from mccore.errors import FileFormatError

    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("format") != _CHECKPOINT_FORMAT:
            raise ValueError("another format")
        return {"meta": meta, "arrays": arrays, "settings": meta["settings"]}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{path}: not a checkpoint of 'isingrbm sample --exact' "
                              f"({type(exc).__name__})") from None


def checkpoint_seed(path) -> int:
    """The seed recorded in a checkpoint (it governs a resume)."""
    return int(read_checkpoint(path)["settings"]["seed"])


def memory_estimate(n_samples: int, n_visible: int, n_hidden: int, *, k: int,
                    n_chains: int) -> dict:
    """Bytes exact sampling needs, by what drives them (floats: huge counts never overflow).

    ``"samples"``: the stored spins (int8) with energy and magnetization;
    ``"chains"``: per chain its states, random streams, buffers of one Gibbs
    step, one more row of samples and the measurement series of the
    equilibration check (at most :data:`MAX_EQUILIBRATION_PROPOSALS` values
    of E and ``|M|``); ``"proposal"``: the uniforms of a k-step proposal for all
    chains (at least 32 MiB, float32 with their float64 draws);
    ``"total"``: all of it, with the model in float64 and float32 and 64 MiB
    for the interpreter.
    """
    n, C, k = float(n_samples), float(n_chains), float(k)
    samples = n * (n_visible + 16)
    chains = C * (8 * 4.0 * (n_visible + n_hidden) + 3 * 2048 + 2 * n_visible + 16
                  + 2 * 8.0 * MAX_EQUILIBRATION_PROPOSALS)
    proposal = max(32.0 * 2**20, 3 * 8.0 * C * k * (n_visible + n_hidden))
    total = samples + chains + proposal + 16.0 * n_visible * n_hidden + 64 * 2**20
    return {"samples": samples, "chains": chains, "proposal": proposal, "total": total}
