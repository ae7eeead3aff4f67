"""The HDF5 dataset store (format ``isingrbm-ising``, version 1).

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
batch in flight; ``complete`` is set last. Only this module imports h5py in
the ``ising`` package.

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
import datetime as _dt
import errno
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mccore.errors import (
    FileFormatError,
    InvalidParameterError,
    IsingRBMError,
    OutputExistsError,
)
from mccore.files import atomic_path
from mccore.validation import check_positive_number
from mccore.version import software_version

from .phases import PHASE_WINDOW, PHASES, phase_centre, phase_label

__all__ = [
    "FORMAT", "FORMAT_VERSION", "SOURCES", "Ensemble", "IsingDataset", "DatasetWriter",
    "load", "open_dataset", "validate", "write_generated", "group_key",
    "energy_magnetization", "DiskFullError", "DatasetBusyError", "FREE_SPACE_RESERVE",
    "counted_rows", "DATA_SOURCES",
]

FORMAT = "isingrbm-ising"
FORMAT_VERSION = 1
SOURCES = ("monte-carlo", "rbm", "gan", "imported")
#: Sources of reference data (Boltzmann samples made here or read from another format),
#: which ``fit``, ``evaluate`` and ``gan fit`` take as DATA.
DATA_SOURCES = ("monte-carlo", "imported")
_SLOTS = ("checkpoint_a", "checkpoint_b")
_GROUP_ATTRS = ("T", "beta", "phase", "complete", "n_target", "seed", "algorithm",
                "thinning", "equilibration_sweeps", "tau_int")
#: Bytes an append leaves free on the output's file system beyond the batch's raw size.
FREE_SPACE_RESERVE = 1 << 18


class DiskFullError(IsingRBMError, OSError):
    """The output's file system is (nearly) full; ``errno`` is ``ENOSPC``."""

    def __init__(self, message: str, filename=None):
        super().__init__(errno.ENOSPC, message, None if filename is None else str(filename))
        self.message = message

    def __str__(self) -> str:
        return self.message


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
_ROOT_ATTRS = ("format", "format_version", "L", "lattice", "boundary", "J", "source",
               "created", "software_version")


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


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Ensemble:
    """Samples of one temperature.

    Attributes
    ----------
    T, beta : float
        Temperature and 1/T (k_B = J = 1).
    L : int
        Linear lattice size.
    phase : str
        "ordered", "critical" or "disordered".
    key : str
        HDF5 group name under ``/samples``.
    spins : ndarray, shape (n, L, L), int8 in {-1, +1}
    energy : ndarray, shape (n,), float64
        Total energies ``E = -sum_<ij> s_i s_j``.
    magnetization : ndarray, shape (n,), float64
        Total magnetizations ``M = sum_i s_i``.
    attrs : dict
        The group's attributes (``tau_int`` decoded to a dict).
    """

    T: float
    beta: float
    L: int
    phase: str
    key: str
    spins: np.ndarray = field(repr=False)
    energy: np.ndarray = field(repr=False)
    magnetization: np.ndarray = field(repr=False)
    attrs: dict = field(default_factory=dict, repr=False)

    @property
    def n_samples(self) -> int:
        """Number of configurations."""
        return int(self.energy.shape[0])

    @property
    def complete(self) -> bool:
        """Whether the run reached its target number of samples."""
        return bool(self.attrs.get("complete", True))

    def observables(self) -> dict:
        """Per-spin observables with error bars (:func:`ising.observables.measure`)."""
        from .observables import measure
        return measure(self.energy, self.magnetization, L=self.L, T=self.T)


@dataclass(frozen=True, eq=False)
class IsingDataset:
    """A dataset file read into memory.

    Attributes
    ----------
    path : Path
    L : int
    source : str
        "monte-carlo", "rbm" or "gan".
    attrs : dict
        Root attributes.
    ensembles : list of Ensemble
        Sorted by temperature.
    being_written : bool
        Read while another process was writing it (``load(...,
        while_written=True)``): the rows counted at that moment.
    """

    path: Path
    L: int
    source: str
    attrs: dict
    ensembles: list
    being_written: bool = False

    @property
    def temperatures(self) -> list[float]:
        """Temperatures present, ascending."""
        return [e.T for e in self.ensembles]

    def ensemble(self, T: float, *, tol: float = 1e-9) -> Ensemble:
        """The ensemble at temperature ``T`` (within ``tol``).

        Raises
        ------
        InvalidParameterError
            No such temperature; the message lists those available.
        """
        for ens in self.ensembles:
            if abs(ens.T - float(T)) <= tol:
                return ens
        available = ", ".join(f"{t:g}" for t in self.temperatures) or "none"
        raise InvalidParameterError(
            f"temperature must be one of those in {self.path.name} ({available}), got {T!r}")

    def ensemble_for_phase(self, phase: str) -> Ensemble:
        """The ensemble of ``phase`` closest to the phase's centre.

        Raises
        ------
        InvalidParameterError
            Unknown phase, or no temperature of that phase in the file.
        """
        if phase not in PHASES:
            raise InvalidParameterError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
        window = float(self.attrs.get("phase_window", PHASE_WINDOW))
        candidates = [e for e in self.ensembles if e.phase == phase]
        if not candidates:
            raise InvalidParameterError(
                f"phase must be one present in {self.path.name} "
                f"({', '.join(sorted({e.phase for e in self.ensembles})) or 'none'}), got {phase!r}")
        centre = phase_centre(phase, window=window)
        return min(candidates, key=lambda e: abs(e.T - centre))


def _read_group(f, key: str, path, L: int, *, check: bool = True) -> Ensemble:
    g = f["samples"][key]
    where = f"/samples/{key}"
    attrs = _attrs_dict(g.attrs)
    n = counted_rows(g)
    attrs.setdefault("n_written", n)
    try:
        spins = g["spins"][:n]
        energy = g["energy"][:n]
        magnetization = g["magnetization"][:n]
    except (OSError, ValueError, RuntimeError) as exc:
        raise FileFormatError(
            f"{Path(path).name}: {where} cannot be read (corrupt: "
            f"{' '.join(str(exc).split())})") from None
    if check and n:
        bad = ~((spins == 1) | (spins == -1))
        if bad.any():
            row = int(np.argmax(bad.reshape(n, -1).any(axis=1)))
            raise _fail(path, f"{where}/spins", f"has values outside {{-1, +1}} at row {row}")
        e_chk, m_chk = energy_magnetization(spins)
        for name, stored, computed in (("energy", energy, e_chk),
                                       ("magnetization", magnetization, m_chk)):
            wrong = stored != computed
            if wrong.any():
                row = int(np.argmax(wrong))
                raise _fail(path, f"{where}/{name}",
                            f"does not match the spins at row {row} "
                            f"({stored[row]:g} stored, {computed[row]:g} computed)")
    T = float(attrs["T"])
    phase = attrs.get("phase") or phase_label(T)
    return Ensemble(T=T, beta=1.0 / T, L=L, phase=str(phase), key=key, spins=spins,
                    energy=energy, magnetization=magnetization, attrs=attrs)


def load(path, *, check: bool = True, while_written: bool = False) -> IsingDataset:
    """Read a dataset file (validated) into memory.

    Parameters
    ----------
    path : str or Path
    check : bool
        Also verify that every spin is +-1 and that the stored energies and
        magnetizations match the spins (catches silent corruption).
    while_written : bool
        If another process is writing the file (HDF5's lock is held), read
        it without the lock instead of refusing: only the rows counted at
        that moment, always checked as with ``check=True``; the result has
        ``being_written=True``. A file caught in the middle of a flush may
        still be refused (FileFormatError); try again.

    Returns
    -------
    IsingDataset
        Only the counted rows (``n_written``) of each temperature; groups of
        an interrupted run are included with ``attrs["complete"] == False``.

    Raises
    ------
    DatasetBusyError
        Another process is writing the file and ``while_written`` is False.
    FileFormatError
        Foreign, truncated or corrupt file (message names file and HDF5 path).
    InvalidParameterError
        The file does not exist.
    """
    path = Path(path)
    busy = False
    try:
        f = _open_h5(path, "r")
    except DatasetBusyError:
        if not while_written:
            raise
        f = _open_h5(path, "r", locking=False)
        busy = check = True
    try:
        _validate_open(f, path)
        root = _attrs_dict(f.attrs)
        L = int(root["L"])
        try:
            ensembles = [_read_group(f, key, path, L, check=check) for key in f["samples"]]
        except (KeyError, OSError, RuntimeError, ValueError) as exc:
            if isinstance(exc, FileFormatError):
                raise
            raise FileFormatError(f"{path.name}: corrupt HDF5 file "
                                  f"({' '.join(str(exc).split())})") from None
    finally:
        f.close()
    ensembles.sort(key=lambda e: e.T)
    return IsingDataset(path=path, L=L, source=str(root["source"]), attrs=root,
                        ensembles=ensembles, being_written=busy)


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

def _check_spins(spins) -> np.ndarray:
    arr = np.asarray(spins)
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] < 2 or arr.shape[0] < 1:
        raise InvalidParameterError(f"spins must have shape (n >= 1, L, L) with L >= 2, "
                                    f"got {arr.shape}")
    if not np.all((arr == 1) | (arr == -1)):
        raise InvalidParameterError("spins must be in {-1, +1}")
    return arr.astype(np.int8, copy=False)


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
    spins = _check_spins(spins)
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
