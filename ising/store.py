"""The HDF5 dataset store (format ``isingrbm-ising``, version 1): its public
face and its writer.

Every public name of the store is importable from here (and the main ones
from :mod:`ising`). The work is split by job: :mod:`ising.store_codec`
(the schema's constants, attribute coding, opening and validating a file),
:mod:`ising.store_reader` (:func:`load`, :class:`IsingDataset`,
:class:`Ensemble`) and this module (:class:`DatasetWriter` and
:func:`write_generated`).

One file holds one lattice size and any number of temperatures::

    /                  attrs: format="isingrbm-ising", format_version=1, L,
                              lattice="square", boundary="periodic", J=1.0,
                              source ("monte-carlo" | "rbm" | "gan" | "imported"), created
                              (ISO 8601, UTC), software_version, phase_window
    /samples/<key>     attrs: T, beta, phase, complete, n_target, seed,
                              algorithm, thinning, equilibration_sweeps,
                              tau_int (JSON string), [n_written], ...
        spins          (n, L, L) int8 in {-1, +1}, chunked, gzip, resizable
        energy         (n,) float64, total E = -sum_<ij> s_i s_j (2N bonds)
        magnetization  (n,) float64, total M = sum_i s_i
        checkpoint_a/  chain state + RNG state after row n_rows (two slots,
        checkpoint_b/  written alternately; the one with n_rows == n_written
                       is the valid one; removed once complete)

``n_written`` (the rows that count) is optional for readers: a group without
it counts all its rows (``len(energy)``). This module's writers always
record it. Appends follow emcee's HDF5 backend: resize -> write rows ->
write the checkpoint into the spare slot -> flush -> bump the counter
``n_written`` last -> flush. Readers trust only the first ``n_written``
rows, so a process killed at any point between flushes loses at most the
batch in flight; ``complete`` is set last. In the ``ising`` package only
this module and :mod:`ising.store_codec` import h5py.

Full disks. Before every append the writer checks that the folder has room
for the batch's raw size (an upper bound of its compressed size) plus a
reserve for metadata (:data:`FREE_SPACE_RESERVE`); if
not it stops with :class:`DiskFullError` *before* writing, so the file keeps
its last counted rows and their checkpoint and closes cleanly. If a write
fails anyway (another process filled the disk), HDF5 cannot close the file
(its close flushes, the flush fails, and the process would crash at exit):
the writer then points the file's descriptor at ``/dev/null`` so that the
library can close it, leaving on disk what the last successful flush wrote.

Files being written. A file that another process has open for writing is
locked by HDF5; :func:`load` refuses it with :class:`DatasetBusyError`
unless ``while_written=True``, which reads it without the lock and trusts
only its counted rows (each checked against its energy and magnetization).

Opening a file validates it (format, version, root attrs, every group's attrs,
dataset shapes and dtypes); anything foreign, truncated or corrupt raises
:class:`~mccore.errors.FileFormatError` naming the file and the HDF5 path.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np

from mccore.errors import (
    FileFormatError,
    InvalidParameterError,
    IsingRBMError,
    OutputExistsError,
)
from mccore.files import atomic_path
from mccore.validation import check_positive_number, check_spins
from mccore.version import software_version

from .phases import PHASE_WINDOW, phase_label
from .store_codec import (
    DATA_SOURCES,
    FORMAT,
    FORMAT_VERSION,
    SOURCES,
    DatasetBusyError,
    _attr_value,
    _attrs_dict,
    _decode,
    _h5py,
    _json_default,
    _now,
    _open_h5,
    _validate_open,
    counted_rows,
    energy_magnetization,
    group_key,
    open_dataset,
    validate,
)
from .store_reader import Ensemble, IsingDataset, _read_group, load

__all__ = [
    "FORMAT", "FORMAT_VERSION", "SOURCES", "Ensemble", "IsingDataset", "DatasetWriter",
    "load", "open_dataset", "validate", "write_generated", "group_key",
    "energy_magnetization", "DiskFullError", "DatasetBusyError", "FREE_SPACE_RESERVE",
    "counted_rows", "DATA_SOURCES",
]

_SLOTS = ("checkpoint_a", "checkpoint_b")
#: Bytes an append leaves free on the output's file system beyond the batch's raw size.
FREE_SPACE_RESERVE = 1 << 18


class DiskFullError(IsingRBMError, OSError):
    """The output's file system is (nearly) full; ``errno`` is ``ENOSPC``."""

    def __init__(self, message: str, filename=None):
        super().__init__(errno.ENOSPC, message, None if filename is None else str(filename))
        self.message = message

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------

def _is_enospc(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == errno.ENOSPC or "errno = 28" in str(exc) \
        or "No space left on device" in str(exc)


def _check_free_space(path, n_bytes: int) -> None:
    """Refuse (DiskFullError) unless ``path``'s folder has ``n_bytes`` + the reserve free."""
    folder = Path(path).parent if str(Path(path).parent) else Path(".")
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < n_bytes + FREE_SPACE_RESERVE:
        raise DiskFullError(
            f"No space left on device for {Path(path)} ({free} bytes free, the next write "
            f"needs about {n_bytes + FREE_SPACE_RESERVE})", path)


def _detach(f) -> None:
    """Point an h5py file's descriptor at /dev/null (after a failed write).

    HDF5 flushes whenever an object or the file is closed; after a failed
    write (e.g. a full disk) every such flush fails again, the file stays
    open inside the library and the process crashes at exit. With the
    descriptor on /dev/null the library flushes into nothing and closes;
    the file on disk keeps what was written before the failure. Must run
    before any h5py object of the file is released.
    """
    with contextlib.suppress(Exception):
        fd = f.id.get_vfd_handle()
        null = os.open(os.devnull, os.O_RDWR)
        try:
            os.dup2(null, fd)
        finally:
            os.close(null)


def _abandon(f) -> None:
    """Close an h5py file whose flush fails, without crashing the process."""
    _detach(f)
    with contextlib.suppress(Exception):
        f.close()


def _writes(method):
    """Decorator of :class:`DatasetWriter` methods that write (see ``_guarded``)."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        return self._guarded(method, self, *args, **kwargs)
    return wrapper


class DatasetWriter:
    """Writes and appends to a dataset file (one writer at a time).

    Use :meth:`create` for a new file or :meth:`open` to resume/append; both
    return a context manager.
    """

    def __init__(self, file, path: Path):
        self._f = file
        self.path = Path(path)
        self.L = int(_decode(file.attrs["L"])) if "L" in file.attrs else None
        self.failed = False

    # -- construction -------------------------------------------------------
    @classmethod
    def create(cls, path, *, L: int, source: str = "monte-carlo", attrs: dict | None = None,
               phase_window: float = PHASE_WINDOW) -> "DatasetWriter":
        """Create (truncate) ``path`` with the root attributes of the schema."""
        if source not in SOURCES:
            raise InvalidParameterError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        h5py = _h5py()
        _check_free_space(path, 0)
        f = h5py.File(path, "w", track_order=True)
        try:
            writer = cls(f, path)
            writer._guarded(writer._init_root, L=L, source=source, attrs=attrs,
                            phase_window=phase_window)
        except BaseException:
            writer.close(quiet=True)
            raise
        return writer

    def _init_root(self, *, L, source, attrs, phase_window) -> None:
        f = self._f
        self.L = int(L)
        root = {"format": FORMAT, "format_version": FORMAT_VERSION, "L": int(L),
                "lattice": "square", "boundary": "periodic", "J": 1.0, "source": source,
                "created": _now(), "software_version": software_version(),
                "phase_window": float(phase_window)}
        root.update(attrs or {})
        for k, v in root.items():
            f.attrs[k] = _attr_value(v)
        f.create_group("samples", track_order=True)
        f.flush()

    @classmethod
    def open(cls, path) -> "DatasetWriter":
        """Open an existing, valid file for appending."""
        f = _open_h5(path, "r+")
        try:
            _validate_open(f, path)
        except BaseException:
            f.close()
            raise
        return cls(f, path)

    def close(self, *, quiet: bool = False) -> None:
        """Flush and close the file (always closed, also after a failed write).

        Parameters
        ----------
        quiet : bool
            Do not raise if the final flush fails (used while another
            error is already on its way).
        """
        f, self._f = self._f, None
        if f is None:
            return
        if self.failed:
            _abandon(f)
            return
        try:
            f.flush()
            f.close()
        except BaseException:
            self.failed = True
            _abandon(f)
            if not quiet:
                raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(quiet=exc_type is not None)

    def _guarded(self, func, *args, **kwargs):
        """Run a write; a failed HDF5 write marks the writer failed.

        An ``ENOSPC`` from HDF5 becomes :class:`DiskFullError`.
        """
        try:
            return func(*args, **kwargs)
        except (OSError, RuntimeError) as exc:
            if isinstance(exc, IsingRBMError):
                raise
            self.failed = True
            if self._f is not None:
                _detach(self._f)             # before the traceback's h5py objects go
            if _is_enospc(exc):
                raise DiskFullError(f"No space left on device writing {self.path}",
                                    self.path) from None
            raise

    # -- groups --------------------------------------------------------------
    @property
    def root_attrs(self) -> dict:
        """Root attributes, decoded."""
        return _attrs_dict(self._f.attrs)

    def keys(self) -> list[str]:
        """Group names under /samples."""
        return list(self._f["samples"].keys())

    def group_attrs(self, key: str) -> dict:
        """A group's attributes, decoded."""
        return _attrs_dict(self._f["samples"][key].attrs)

    @_writes
    def add_group(self, key: str, *, T: float, n_target: int, seed, algorithm: str,
                  thinning: int = 1, equilibration_sweeps: int = 0, tau_int: dict | None = None,
                  phase: str | None = None, **extra) -> None:
        """Create ``/samples/<key>`` with empty resizable datasets and its attrs."""
        samples = self._f["samples"]
        if key in samples:
            raise InvalidParameterError(f"group /samples/{key} already exists in {self.path.name}")
        L = self.L
        window = float(_decode(self._f.attrs.get("phase_window", PHASE_WINDOW)))
        g = samples.create_group(key)
        rows = max(1, min(1024, 2**18 // (L * L)))
        g.create_dataset("spins", shape=(0, L, L), maxshape=(None, L, L), dtype=np.int8,
                         chunks=(rows, L, L), compression="gzip", compression_opts=4)
        for name in ("energy", "magnetization"):
            g.create_dataset(name, shape=(0,), maxshape=(None,), dtype=np.float64,
                             chunks=(4096,), compression="gzip", compression_opts=4)
        attrs = {"T": float(T), "beta": 1.0 / float(T),
                 "phase": phase or phase_label(T, window=window), "complete": False,
                 "n_target": int(n_target), "seed": seed, "algorithm": algorithm,
                 "thinning": int(thinning), "equilibration_sweeps": int(equilibration_sweeps),
                 "tau_int": tau_int or {}}
        attrs.update(extra)
        for k, v in attrs.items():
            g.attrs[k] = _attr_value(v)
        g.attrs["n_written"] = np.int64(0)
        self._f.flush()

    @_writes
    def set_attrs(self, key: str, **attrs) -> None:
        """Set (overwrite) attributes of a group and flush."""
        g = self._f["samples"][key]
        for k, v in attrs.items():
            g.attrs[k] = _attr_value(v)
        self._f.flush()

    def n_written(self, key: str) -> int:
        """The counted rows of a group."""
        return int(self._f["samples"][key].attrs["n_written"])

    def append(self, key: str, spins, energy, magnetization, *, checkpoint: dict | None = None,
               ) -> int:
        """Append rows (and optionally the state after them); returns the new count.

        Order: resize, write rows, write ``checkpoint`` into the spare slot,
        flush, then bump ``n_written`` and flush again. A crash before the
        last flush leaves the previous count and its matching checkpoint.
        """
        spins = np.asarray(spins, dtype=np.int8)
        if spins.shape[1:] != (self.L, self.L):
            raise InvalidParameterError(
                f"spins must have shape (n, {self.L}, {self.L}), got {spins.shape}")
        n_bytes = spins.nbytes + 16 * spins.shape[0] + sum(
            getattr(v, "nbytes", 0) for v in (checkpoint or {}).values())
        _check_free_space(self.path, n_bytes)
        return self._append(key, spins, energy, magnetization, checkpoint)

    @_writes
    def _append(self, key, spins, energy, magnetization, checkpoint) -> int:
        g = self._f["samples"][key]
        n0 = counted_rows(g)
        k = spins.shape[0]
        # the datasets stay referenced until the flush: releasing one flushes
        # its chunk cache, where a write error would only be printed
        datasets = [g[name] for name in ("spins", "energy", "magnetization")]
        for ds, rows in zip(datasets, (spins, energy, magnetization)):
            ds.resize(n0 + k, axis=0)
            ds[n0:n0 + k] = rows
        if checkpoint is not None:
            self._write_checkpoint(g, n0, n0 + k, checkpoint)
        self._f.flush()
        del datasets
        g.attrs["n_written"] = np.int64(n0 + k)
        self._f.flush()
        return n0 + k

    @_writes
    def save_checkpoint(self, key: str, state: dict) -> None:
        """Store ``state`` as the checkpoint valid at the current count."""
        _check_free_space(self.path, sum(getattr(v, "nbytes", 0) for v in state.values()))
        g = self._f["samples"][key]
        n = int(g.attrs["n_written"])
        self._write_checkpoint(g, n, n, state)
        self._f.flush()

    def _write_checkpoint(self, g, n_current: int, n_rows: int, state: dict) -> None:
        valid = self._valid_slot(g, n_current)
        # always write into the slot that is not the currently valid one
        slot_name = _SLOTS[1] if valid == _SLOTS[0] else _SLOTS[0]
        if slot_name in g:
            del g[slot_name]
        slot = g.create_group(slot_name)
        for k, v in state.items():
            if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
                slot.create_dataset(k, data=v)
            else:
                slot.attrs[k] = json.dumps(v, default=_json_default, sort_keys=True)
        slot.attrs["__n_rows__"] = np.int64(n_rows)
        other = _SLOTS[1 - _SLOTS.index(slot_name)]
        if other in g and int(g[other].attrs.get("__n_rows__", -1)) == n_rows:
            # a stale slot for the same count (state saved again): exactly one may match
            g[other].attrs["__n_rows__"] = np.int64(-1)

    @staticmethod
    def _valid_slot(g, n: int):
        for name in _SLOTS:
            if name in g and int(g[name].attrs.get("__n_rows__", -1)) == n:
                return name
        return None

    def checkpoint(self, key: str) -> dict | None:
        """The saved state matching the current count, or None."""
        g = self._f["samples"][key]
        slot_name = self._valid_slot(g, int(g.attrs["n_written"]))
        if slot_name is None:
            return None
        slot = g[slot_name]
        try:
            state = {k: slot[k][()] for k in slot.keys()}
            for k, v in slot.attrs.items():
                if k != "__n_rows__":
                    state[k] = json.loads(_decode(v))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise FileFormatError(
                f"{self.path.name}: /samples/{key}/{slot_name} is corrupt "
                f"({' '.join(str(exc).split())})") from None
        return state

    @_writes
    def mark_complete(self, key: str) -> None:
        """Set ``complete=True`` (the last write of a temperature) and drop the
        checkpoints, which a complete temperature no longer needs."""
        g = self._f["samples"][key]
        self._f.flush()
        g.attrs["complete"] = True
        self._f.flush()
        for name in _SLOTS:
            if name in g:
                del g[name]
        self._f.flush()

    def read(self, key: str) -> Ensemble:
        """The counted rows of a group as an :class:`Ensemble`."""
        return _read_group(self._f, key, self.path, self.L, check=False)


# --------------------------------------------------------------------------
# generated samples (RBM, GAN)
# --------------------------------------------------------------------------

def write_generated(path, spins, *, T: float, source: str, provenance: dict | None = None,
                    seed=None, overwrite: bool = False, append: bool = False) -> Path:
    """Store generated spin configurations (RBM, GAN) in the dataset schema.

    Parameters
    ----------
    path : str or Path
        Output file.
    spins : array_like, shape (n, L, L), values in {-1, +1}
    T : float
        The temperature the samples stand for (k_B = J = 1).
    source : {"rbm", "gan"}
    provenance : dict, optional
        Stored as attrs of the temperature's group (e.g. ``model_file``,
        ``model_hash``, ``n_steps``); non-scalar values as JSON strings.
    seed : int, optional
        The seed the samples were drawn with (recorded).
    overwrite : bool
        Replace an existing file.
    append : bool
        Add this temperature to an existing file of the same L and source.

    Returns
    -------
    Path

    Raises
    ------
    OutputExistsError
        ``path`` exists and neither ``overwrite`` nor ``append``.
    InvalidParameterError
        Bad spins, T or source; appending a different L/source or an existing T.
    FileFormatError
        Appending to a file that is not a valid dataset.
    """
    path = Path(path)
    if source not in ("rbm", "gan"):
        raise InvalidParameterError(f"source must be one of rbm, gan, got {source!r}")
    T = check_positive_number("T", T)
    spins = check_spins(spins)
    n, L = spins.shape[0], spins.shape[1]
    energy, magnetization = energy_magnetization(spins)
    provenance = dict(provenance or {})
    group_attrs = dict(T=T, n_target=n, seed=-1 if seed is None else seed,
                       algorithm=str(provenance.pop("algorithm", source)),
                       thinning=int(provenance.pop("thinning", 1)),
                       equilibration_sweeps=int(provenance.pop("equilibration_sweeps", 0)),
                       tau_int=provenance.pop("tau_int", {}))
    group_attrs.update(provenance)
    key = group_key(T)

    if path.exists() and append and not overwrite:
        with DatasetWriter.open(path) as w:
            root = w.root_attrs
            if w.L != L:
                raise InvalidParameterError(
                    f"spins must have L = {w.L} to append to {path.name}, got L = {L}")
            if root["source"] != source:
                raise InvalidParameterError(
                    f"source must be {root['source']!r} to append to {path.name}, got {source!r}")
            if key in w.keys():
                raise InvalidParameterError(
                    f"T must be a temperature not yet in {path.name}, got {T:g}")
            w.add_group(key, **group_attrs)
            w.append(key, spins, energy, magnetization)
            w.mark_complete(key)
        return path
    if path.exists() and not overwrite:
        raise OutputExistsError(f"output {path} exists; pass overwrite=True to replace it")
    with atomic_path(path, create=False) as tmp:
        with DatasetWriter.create(tmp, L=L, source=source) as w:
            w.add_group(key, **group_attrs)
            w.append(key, spins, energy, magnetization)
            w.mark_complete(key)
    return path
