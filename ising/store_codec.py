"""The schema of the HDF5 dataset store (format ``isingrbm-ising``, version 1):
its constants, attribute coding, and opening + validating a file.

The layout itself is documented in :mod:`ising.store` (the public face of
the store: import from there or from :mod:`ising`). Opening a file
validates it (format, version, root attrs, every group's attrs, dataset
shapes and dtypes); anything foreign, truncated or corrupt raises
:class:`~mccore.errors.FileFormatError` naming the file and the HDF5 path.
This module and :mod:`ising.store` are the only ones in ``ising`` that
import h5py.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError

__all__ = ["FORMAT", "FORMAT_VERSION", "SOURCES", "DATA_SOURCES", "DatasetBusyError",
           "counted_rows", "group_key", "energy_magnetization", "validate", "open_dataset"]

FORMAT = "isingrbm-ising"
FORMAT_VERSION = 1
SOURCES = ("monte-carlo", "rbm", "gan", "imported")
#: Sources of reference data (Boltzmann samples made here or read from another format),
#: which ``fit``, ``evaluate`` and ``gan fit`` take as DATA.
DATA_SOURCES = ("monte-carlo", "imported")
_GROUP_ATTRS = ("T", "beta", "phase", "complete", "n_target", "seed", "algorithm",
                "thinning", "equilibration_sweeps", "tau_int")
_ROOT_ATTRS = ("format", "format_version", "L", "lattice", "boundary", "J", "source",
               "created", "software_version")


class DatasetBusyError(FileFormatError):
    """Another process holds the file open for writing (HDF5's file lock)."""


def counted_rows(group) -> int:
    """The rows of a ``/samples/<key>`` group that count.

    ``n_written`` when the group has it (files of this package always do),
    else the length of ``energy`` (files written by other tools).
    """
    if "n_written" in group.attrs:
        return int(_decode(group.attrs["n_written"]))
    return int(group["energy"].shape[0])


def _h5py():
    import h5py
    return h5py


def group_key(T: float) -> str:
    """The default group name of temperature ``T``: ``"T2.269185"``."""
    return f"T{float(T):.6f}"


def energy_magnetization(spins) -> tuple[np.ndarray, np.ndarray]:
    """Total energies and magnetizations of spin configurations (NumPy).

    Parameters
    ----------
    spins : array_like, shape (n, L, L), int8 in {-1, +1}

    Returns
    -------
    energy, magnetization : ndarray, shape (n,), float64
        ``E = -sum_i s_i (s_right(i) + s_down(i))`` (2N bonds, periodic) and
        ``M = sum_i s_i``.
    """
    s = np.asarray(spins)
    n = s.shape[0]
    energy = np.empty(n, dtype=np.float64)
    magnetization = np.empty(n, dtype=np.float64)
    step = max(1, 2**22 // max(1, s[0].size)) if n else 1
    for start in range(0, n, step):
        block = s[start:start + step].astype(np.int32)
        bonds = block * (np.roll(block, -1, axis=1) + np.roll(block, -1, axis=2))
        energy[start:start + step] = -bonds.sum(axis=(1, 2))
        magnetization[start:start + step] = block.sum(axis=(1, 2))
    return energy, magnetization


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _attr_value(value):
    """Coerce a Python value into something h5py stores faithfully."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if -2**63 <= value < 2**63:
            return np.int64(value)
        if 0 <= value < 2**64:
            return np.uint64(value)
        return str(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (str, Path)):
        return str(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    return json.dumps(value, default=_json_default, sort_keys=True)


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def _decode(value):
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _attrs_dict(attrs) -> dict:
    out = {}
    for k, v in attrs.items():
        v = _decode(v)
        if k == "tau_int" and isinstance(v, str):
            with contextlib.suppress(ValueError):
                v = json.loads(v)
        out[k] = v
    return out


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

def _fail(path, where: str, message: str) -> FileFormatError:
    return FileFormatError(f"{Path(path).name}: {where} {message}")


def _open_h5(path, mode: str = "r", *, locking: bool | None = None):
    h5py = _h5py()
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(f"input file {path} does not exist")
    if not path.is_file():
        raise InvalidParameterError(f"input {path} is not a regular file")
    try:
        return h5py.File(path, mode, locking=locking)
    except OSError as exc:
        text = str(exc)
        if "unable to lock file" in text.lower():
            raise DatasetBusyError(
                f"{path} is being written by another process (isingrbm generate holds its "
                "lock); wait for it to finish, or read the rows written so far with "
                "'isingrbm inspect'") from None
        if "signature" in text or "not an HDF5" in text.lower():
            reason = "is not an HDF5 file"
        elif "truncated" in text:
            reason = "is truncated (incomplete HDF5 file)"
        else:
            reason = f"cannot be opened as HDF5 ({' '.join(text.split())})"
        raise FileFormatError(f"{path.name}: {reason}") from None


def _validate_open(f, path) -> None:
    """Check the schema of an open file; raise FileFormatError naming the path."""
    try:
        attrs = f.attrs
        fmt = _decode(attrs.get("format"))
        if fmt != FORMAT:
            raise _fail(path, "/", f"has format={fmt!r}, expected {FORMAT!r} "
                                   "(not an isingrbm Ising dataset)")
        version = _decode(attrs.get("format_version"))
        if version != FORMAT_VERSION:
            raise _fail(path, "/", f"has format_version={version!r}, this software reads "
                                   f"version {FORMAT_VERSION}")
        for name in _ROOT_ATTRS:
            if name not in attrs:
                raise _fail(path, "/", f"lacks the attr {name!r}")
        L = _decode(attrs["L"])
        if not isinstance(L, int) or L < 2:
            raise _fail(path, "/", f"attr L must be an integer >= 2, got {L!r}")
        source = _decode(attrs["source"])
        if source not in SOURCES:
            raise _fail(path, "/", f"attr source must be one of {SOURCES}, got {source!r}")
        if "samples" not in f:
            raise _fail(path, "/samples", "is missing")
        for key, g in f["samples"].items():
            where = f"/samples/{key}"
            for name in _GROUP_ATTRS:
                if name not in g.attrs:
                    raise _fail(path, where, f"lacks the attr {name!r}")
            T = _decode(g.attrs["T"])
            if not isinstance(T, float) or not (math.isfinite(T) and T > 0):
                raise _fail(path, where, f"attr T must be a finite number > 0, got {T!r}")
            if "n_written" in g.attrs:
                n = _decode(g.attrs["n_written"])
                if not isinstance(n, int) or n < 0:
                    raise _fail(path, where,
                                f"attr n_written must be an integer >= 0, got {n!r}")
                counted_by = f"n_written = {n}"
            else:
                n = g["energy"].shape[0] if "energy" in g else 0
                counted_by = f"energy has {n}"
            for name, dtype, shape in (("spins", np.int8, (L, L)),
                                       ("energy", np.float64, ()),
                                       ("magnetization", np.float64, ())):
                if name not in g:
                    raise _fail(path, f"{where}/{name}", "is missing")
                ds = g[name]
                if ds.dtype != dtype:
                    raise _fail(path, f"{where}/{name}",
                                f"has dtype {ds.dtype}, expected {np.dtype(dtype)}")
                if ds.shape[1:] != shape:
                    raise _fail(path, f"{where}/{name}",
                                f"has shape {ds.shape}, expected (n, {', '.join(map(str, shape))})"
                                .replace(", )", ")"))
                if ds.shape[0] < n:
                    raise _fail(path, f"{where}/{name}",
                                f"has {ds.shape[0]} rows but {counted_by} (truncated)")
    except FileFormatError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise FileFormatError(
            f"{Path(path).name}: corrupt HDF5 file ({' '.join(str(exc).split())})") from None


def validate(path) -> None:
    """Raise :class:`FileFormatError` unless ``path`` is a valid dataset file."""
    with _open_h5(path, "r") as f:
        _validate_open(f, path)


@contextlib.contextmanager
def open_dataset(path):
    """Open a dataset file read-only after validating it.

    Yields
    ------
    h5py.File
        The validated file (closed on exit).
    """
    f = _open_h5(path, "r")
    try:
        _validate_open(f, path)
        yield f
    finally:
        f.close()
