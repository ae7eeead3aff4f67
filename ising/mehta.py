"""The Mehta et al. Ising set in and out: packed-bit pickles <-> the HDF5 store.

Mehta, Bukov, Wang, Day, Richardson, Fisher and Schwab, "A high-bias,
low-variance introduction to machine learning for physicists", Physics
Reports 810, 1-124 (2019), publish 2D Ising configurations (ferromagnet,
periodic L = 40 lattice, k_B = J = 1) at the 16 temperatures
T = 0.25, 0.50, ..., 4.00, 10^4 per temperature, hosted at
https://physics.bu.edu/~pankajm/ML-Review-Datasets/isingMC/ as

* ``Ising2DFM_reSample_L40_T=All.pkl``: a pickled ``uint8`` NumPy array made
  with ``np.packbits`` (160000 x 1600 bits: one row of L*L = 1600 spins per
  configuration, row-major, 200 bytes per row), the temperatures in
  ascending blocks of 10^4 rows;
* ``Ising2DFM_reSample_L40_T=All_labels.pkl``: a pickled 1D array of the
  phase labels, 1 for ordered and 0 for disordered states by Onsager's
  criterion (T < T_c);
* per-temperature files ``Ising2DFM_reSample_L40_T=0.25.pkl`` etc.

The convention, from the review's notebook 6 ("Phases of the Ising Model
with Logistic Regression", github.com/drckf/mlreview_notebooks:
``np.unpackbits(data).reshape(-1, 1600)``, then 0 -> -1; "convention is 1
for ordered states and 0 for disordered states"): **bit 1 is spin +1, bit 0
is spin -1**, the L x L spins flattened row-major: this workbench's visible
units ``v = (s + 1) // 2`` (:mod:`ising.lattice`) packed with
``np.packbits(v, axis=1)``. For L * L not a multiple of 8 each row is padded
to whole bytes (``np.unpackbits(data, axis=1, count=L * L)`` reads it).

Pickles can run any code when loaded, so they are read with
:class:`ising.pickles.RestrictedUnpickler` (NumPy arrays only; any other
global is refused before anything is called; re-exported here with
:func:`load_array_pickle`), and the array's dtype and shape are checked.
Imported files are ordinary :mod:`ising.store` datasets (``source =
"imported"``) with the house phase label and the Mehta label
(``mehta_label``) per temperature. :func:`export_mehta` writes the layout
back plus ``..._T=All_temperatures.txt`` (read back on import), so import
-> export -> import reproduces the spins bit for bit at any temperatures.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError, OutputExistsError
from mccore.files import atomic_path, check_output_folder, output_lock

from .exact import T_C
from .lattice import spins_to_visible, visible_to_spins
from .phases import phase_label
from .pickles import RestrictedUnpickler, load_array_pickle
from .store import DatasetWriter, energy_magnetization, group_key, load

__all__ = [
    "MEHTA_L",
    "MEHTA_REFERENCE",
    "MEHTA_TEMPERATURES",
    "RestrictedUnpickler",
    "export_mehta",
    "import_mehta",
    "load_array_pickle",
    "mehta_file_names",
    "pack_spins",
    "read_mehta",
    "unpack_spins",
]

#: Linear size of the published set.
MEHTA_L = 40
#: The published temperatures (k_B = J = 1), in the order of the blocks of the all-T file.
MEHTA_TEMPERATURES = tuple(0.25 * k for k in range(1, 17))
#: Where the set comes from (recorded in imported files).
MEHTA_REFERENCE = ("P. Mehta et al., 'A high-bias, low-variance introduction to machine "
                   "learning for physicists', Phys. Rep. 810, 1-124 (2019); "
                   "https://physics.bu.edu/~pankajm/ML-Review-Datasets/isingMC/")
_LABEL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64")
_NAME_T = re.compile(r"T=(?P<T>All|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\.pkl$")
_NAME_L = re.compile(r"_L(?P<L>[0-9]+)_")
_PICKLE_PROTOCOL = 4


# --- bits <-> spins --------------------

def pack_spins(spins) -> np.ndarray:
    """Spins (n, L, L) in {-1, +1} -> packed rows (n, ceil(L*L / 8)) uint8 (bit 1 = +1)."""
    return np.packbits(spins_to_visible(np.asarray(spins)), axis=1)


def unpack_spins(packed, L: int) -> np.ndarray:
    """Packed rows (n, ceil(L*L / 8)) uint8 -> spins (n, L, L) int8 (bit 1 = +1, row-major)."""
    bits = np.unpackbits(np.asarray(packed, dtype=np.uint8), axis=1, count=int(L) * int(L))
    return visible_to_spins(bits, int(L))


def mehta_file_names(L: int) -> dict:
    """The file names of the all-temperatures layout for size ``L``.

    Returns
    -------
    dict
        ``{"data": "Ising2DFM_reSample_L40_T=All.pkl", "labels":
        "..._T=All_labels.pkl", "temperatures": "..._T=All_temperatures.txt"}``
    """
    stem = f"Ising2DFM_reSample_L{int(L)}_T=All"
    return {"data": f"{stem}.pkl", "labels": f"{stem}_labels.pkl",
            "temperatures": f"{stem}_temperatures.txt"}


# --- reading --------------------

@dataclass(frozen=True, eq=False)
class _Block:
    T: float
    packed: np.ndarray          # (n, ceil(L*L/8)) uint8
    label: int | None
    source_file: str
    rows: tuple


def _size_from_width(width: int) -> int | None:
    """The L >= 2 with ceil(L*L / 8) == width, if exactly one."""
    found = [L for L in range(2, math.isqrt(8 * width) + 2) if -(-L * L // 8) == width]
    return found[0] if len(found) == 1 else None


def _resolve_size(path: Path, arr: np.ndarray, L: int | None) -> int:
    match = _NAME_L.search(path.name)
    named = int(match["L"]) if match else None
    if L is not None and named is not None and named != L:
        raise InvalidParameterError(
            f"--size must match the L = {named} in the name of {path.name}, got {L}")
    L = L if L is not None else named
    if arr.ndim == 2:
        inferred = _size_from_width(arr.shape[1])
        if L is None:
            if inferred is None:
                raise InvalidParameterError(
                    f"cannot tell L from the {arr.shape[1]} bytes per row of {path.name}; "
                    "pass --size")
            L = inferred
    if L is None:
        L = MEHTA_L
    if L < 2:
        raise InvalidParameterError(f"--size must be an integer >= 2, got {L}")
    return L


def _packed_rows(path: Path, arr: np.ndarray, L: int) -> np.ndarray:
    """The uint8 array as (n, ceil(L*L/8)) packed rows, after checking its shape."""
    width = -(-L * L // 8)
    if arr.ndim == 2:
        if arr.shape[1] != width or arr.shape[0] < 1:
            raise FileFormatError(f"{path.name}: has shape {arr.shape}, expected (n, {width}) "
                                  f"for L = {L} (L*L bits per row)")
        return np.ascontiguousarray(arr)
    if arr.ndim == 1:
        n = arr.size * 8 // (L * L)
        if n < 1 or arr.size != -(-n * L * L // 8):
            raise FileFormatError(f"{path.name}: has {arr.size} bytes, not a whole number of "
                                  f"L = {L} configurations ({L * L} bits each)")
        if L * L % 8 == 0:
            return arr.reshape(n, width)
        bits = np.unpackbits(arr, count=n * L * L).reshape(n, L * L)
        return np.packbits(bits, axis=1)
    raise FileFormatError(f"{path.name}: has shape {arr.shape}, expected (n, {width}) or a "
                          "flat bit stream")


def _read_temperature_file(path: Path) -> list[float]:
    values = []
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path.name}: cannot be read ({exc})") from None
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            T = float(text)
        except ValueError:
            raise FileFormatError(f"{path.name}: line {number} is not a temperature: "
                                  f"{text!r}") from None
        values.append(T)
    if not values:
        raise FileFormatError(f"{path.name}: lists no temperatures")
    return values


def _file_temperatures(path: Path, explicit) -> list[float]:
    """The temperatures of a data file's blocks: explicit, its name, or its sidecar."""
    match = _NAME_T.search(path.name)
    named = match["T"] if match else None
    if named is not None and named != "All":
        T = float(named)
        if explicit is not None and (len(explicit) != 1 or abs(explicit[0] - T) > 1e-9):
            raise InvalidParameterError(
                f"--temperatures must agree with the T = {named} in the name of {path.name}, "
                f"got {' '.join(f'{t:g}' for t in explicit)}")
        return [T]
    if explicit is not None:
        return list(explicit)
    sidecar = path.with_name(f"{path.stem}_temperatures.txt")
    if sidecar.is_file():
        return _read_temperature_file(sidecar)
    if named == "All":
        return list(MEHTA_TEMPERATURES)
    raise InvalidParameterError(
        f"cannot tell the temperatures of {path.name} from its name (Mehta et al. names "
        "carry 'T=All' or 'T=<value>'); pass --temperatures")


def _check_temperatures(temperatures, where: str) -> list[float]:
    out = []
    for T in temperatures:
        T = float(T)
        if not (math.isfinite(T) and T > 0 and math.isfinite(1.0 / T)):
            raise InvalidParameterError(f"temperatures of {where} must be finite numbers > 0, "
                                        f"got {T!r}")
        out.append(T)
    return out


def _check_labels(path: Path, labels: np.ndarray, blocks: list[_Block]) -> list[int]:
    n_total = sum(b.packed.shape[0] for b in blocks)
    if labels.dtype.name not in _LABEL_DTYPES:
        raise FileFormatError(f"{path.name}: has dtype {labels.dtype}, expected integer or "
                              "bool labels")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise FileFormatError(f"{path.name}: has shape {labels.shape}, expected "
                              f"({n_total},)")
    if labels.shape[0] != n_total:
        raise FileFormatError(f"{path.name}: has {labels.shape[0]} labels, the data has "
                              f"{n_total} configurations")
    if not np.all((labels == 0) | (labels == 1)):
        raise FileFormatError(f"{path.name}: labels must be 0 (disordered) or 1 (ordered)")
    out, start = [], 0
    for b in blocks:
        part = labels[start:start + b.packed.shape[0]]
        if part.min() != part.max():
            raise FileFormatError(f"{path.name}: labels {start}..{start + len(part) - 1} "
                                  f"(T = {b.T:g}) are not all equal")
        out.append(int(part[0]))
        start += len(part)
    return out


def read_mehta(paths, *, labels=None, temperatures=None, L: int | None = None) -> dict:
    """Read Mehta-format pickles (validated) without writing anything.

    Parameters
    ----------
    paths : path or sequence of paths
        Data pickles: the all-temperatures file or per-temperature files.
    labels : path, optional
        The labels pickle, one label per configuration of all ``paths`` in
        order (1 ordered, 0 disordered; constant within a temperature).
    temperatures : sequence of float, optional
        The temperatures (k_B = J = 1) where the file names do not say them:
        with one file, those of its equal blocks of rows, in order; with
        several, one per file. A file named ``...T=<value>.pkl`` must agree.
        Default: from the name (``T=<value>``), else the ``<stem>_temperatures.txt``
        file beside it (written by :func:`export_mehta`), else for
        ``T=All`` names the published 16.
    L : int, optional
        Lattice size; default from the name (``_L40_``), the row width, or 40.

    Returns
    -------
    dict
        ``L``, ``blocks`` (T, packed rows, label, source file, row range),
        ``files`` and ``labels_file`` (names), ``sha256`` (per file),
        ``labels_dtype``.
    """
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    if not paths:
        raise InvalidParameterError("give at least one data pickle")
    if temperatures is not None:
        temperatures = _check_temperatures(temperatures, "--temperatures")
        if len(paths) > 1 and len(temperatures) != len(paths):
            raise InvalidParameterError(
                f"--temperatures must give one temperature per file ({len(paths)} files), "
                f"got {len(temperatures)}")
    for p in paths + ([Path(labels)] if labels is not None else []):
        if not p.exists():
            raise InvalidParameterError(f"input file {p} does not exist")
        if not p.is_file():
            raise InvalidParameterError(f"input {p} is not a regular file")
    blocks, size, sha = [], None, {}
    for index, path in enumerate(paths):
        arr = load_array_pickle(path, what="data")
        if arr.dtype != np.uint8:
            raise FileFormatError(f"{path.name}: has dtype {arr.dtype}, expected uint8 "
                                  "(np.packbits of the spins)")
        file_L = _resolve_size(path, arr, L)
        if size is not None and file_L != size:
            raise InvalidParameterError(f"every file must have the same L: {path.name} has "
                                        f"L = {file_L}, the first has {size}")
        size = file_L
        rows = _packed_rows(path, arr, size)
        explicit = None
        if temperatures is not None:
            explicit = temperatures if len(paths) == 1 else [temperatures[index]]
        temps = _check_temperatures(_file_temperatures(path, explicit), path.name)
        if rows.shape[0] % len(temps):
            raise FileFormatError(
                f"{path.name}: has {rows.shape[0]} configurations, not a multiple of its "
                f"{len(temps)} temperatures")
        per = rows.shape[0] // len(temps)
        for k, T in enumerate(temps):
            blocks.append(_Block(T=T, packed=rows[k * per:(k + 1) * per], label=None,
                                 source_file=path.name, rows=(k * per, (k + 1) * per)))
        sha[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    seen = {}
    for b in blocks:
        key = group_key(b.T)
        if key in seen:
            raise InvalidParameterError(f"temperature T = {b.T:g} appears twice "
                                        f"({seen[key]} and {b.source_file})")
        seen[key] = b.source_file
    labels_dtype = None
    if labels is not None:
        labels = Path(labels)
        label_arr = load_array_pickle(labels, what="labels")
        values = _check_labels(labels, label_arr, blocks)
        blocks = [_Block(T=b.T, packed=b.packed, label=v, source_file=b.source_file,
                         rows=b.rows) for b, v in zip(blocks, values)]
        labels_dtype = label_arr.dtype.name
        sha[labels.name] = hashlib.sha256(labels.read_bytes()).hexdigest()
    return {"L": size, "blocks": blocks, "files": [p.name for p in paths],
            "labels_file": None if labels is None else labels.name, "sha256": sha,
            "labels_dtype": labels_dtype}


# --- import --------------------

def import_mehta(paths, out, *, labels=None, temperatures=None, L: int | None = None,
                 overwrite: bool = False) -> dict:
    """Convert Mehta-format pickles into an isingrbm dataset file (``source="imported"``).

    Everything is read and checked before ``out`` is created; ``out`` is
    written to a temporary file and moved into place, under an output lock.

    Parameters
    ----------
    paths, labels, temperatures, L
        As for :func:`read_mehta`.
    out : str or Path
        The HDF5 dataset to write (schema of :mod:`ising.store`).
    overwrite : bool
        Replace an existing ``out``.

    Returns
    -------
    dict
        A JSON-able summary: ``out``, ``L``, ``files``, ``labels_file`` and
        per temperature ``T``, ``phase``, ``mehta_label``, ``n_samples``.

    Raises
    ------
    InvalidParameterError, FileFormatError
        Missing or malformed input (one-line messages), before anything is written.
    OutputExistsError
        ``out`` exists and not ``overwrite``.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output {out} exists; pass --overwrite to replace it")
    data = read_mehta(paths, labels=labels, temperatures=temperatures, L=L)
    size = data["L"]
    root = {"reference": MEHTA_REFERENCE, "import_format": "mehta-pickle",
            "imported_files": data["files"], "imported_sha256": data["sha256"],
            "bit_convention": "bit 1 = spin +1, bit 0 = spin -1; L*L spins per row, row-major"}
    if data["labels_file"] is not None:
        root["mehta_labels_file"] = data["labels_file"]
        root["mehta_labels_dtype"] = data["labels_dtype"]
    rows = []
    with output_lock(out), atomic_path(out, create=False) as tmp:
        with DatasetWriter.create(tmp, L=size, source="imported", attrs=root) as writer:
            for b in sorted(data["blocks"], key=lambda b: b.T):
                key = group_key(b.T)
                spins = unpack_spins(b.packed, size)
                energy, magnetization = energy_magnetization(spins)
                extra = {"source_file": b.source_file, "source_rows": list(b.rows)}
                if b.label is not None:
                    extra["mehta_label"] = int(b.label)
                writer.add_group(key, T=b.T, n_target=spins.shape[0], seed=-1,
                                 algorithm="imported", thinning=0, equilibration_sweeps=0,
                                 tau_int={}, **extra)
                writer.append(key, spins, energy, magnetization)
                writer.mark_complete(key)
                rows.append({"T": b.T, "phase": phase_label(b.T), "mehta_label": b.label,
                             "n_samples": int(spins.shape[0])})
    return {"out": str(out), "L": size, "files": data["files"],
            "labels_file": data["labels_file"], "temperatures": rows}


# --- export --------------------

def _dump(obj, path: Path) -> None:
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=_PICKLE_PROTOCOL)
        fh.flush()
        os.fsync(fh.fileno())


def export_mehta(dataset, out_dir, *, overwrite: bool = False) -> dict:
    """Write a dataset file in the Mehta et al. all-temperatures layout.

    Writes, in ``out_dir`` (created if missing; its parent must exist),
    ``Ising2DFM_reSample_L<L>_T=All.pkl`` (``np.packbits`` rows, bit 1 =
    spin +1, temperatures in ascending blocks), ``..._T=All_labels.pkl``
    (the imported Mehta labels where the file has them, else 1 for
    T < T_c and 0 above, Onsager's criterion as in the published set) and
    ``..._T=All_temperatures.txt`` (the block temperatures, exactly, one a
    line). Every file is written completely to a temporary file first; the
    set is moved into place only when all are written (a new folder at
    once, with a single rename).

    Parameters
    ----------
    dataset : str or Path
        An isingrbm dataset file (any source) with the same number of
        configurations at every temperature (the layout has equal blocks).
    out_dir : str or Path
    overwrite : bool
        Replace files of these names already in ``out_dir``.

    Returns
    -------
    dict
        ``out_dir``, ``files`` (the three paths), ``L``, ``n_per_temperature``,
        ``temperatures`` and ``labels``.

    Raises
    ------
    OutputExistsError
        One of the three files exists and not ``overwrite``.
    InvalidParameterError
        ``out_dir`` is a file, its parent is missing, or the folder that would be
        written is not writable (:func:`mccore.files.check_output_folder`); the dataset is empty
        or has unequal numbers of configurations per temperature.
    """
    out_dir = check_output_folder(out_dir, flag="output")
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    data = load(dataset)
    names = mehta_file_names(data.L)
    targets = {k: out_dir / v for k, v in names.items()}
    if not overwrite:
        for path in targets.values():
            if path.exists():
                raise OutputExistsError(f"output {path} exists; pass --overwrite to replace it")
    ensembles = [e for e in data.ensembles]
    if not ensembles or all(e.n_samples == 0 for e in ensembles):
        raise InvalidParameterError(f"{data.path.name} holds no configurations to export")
    counts = {e.n_samples for e in ensembles}
    if len(counts) != 1:
        listing = ", ".join(f"{e.n_samples} at T = {e.T:g}" for e in ensembles)
        raise InvalidParameterError(
            f"export mehta needs the same number of configurations at every temperature "
            f"(the all-temperatures layout has equal blocks); {data.path.name} has {listing}")
    n = counts.pop()
    labels_dtype = str(data.attrs.get("mehta_labels_dtype", "int64"))
    if labels_dtype not in _LABEL_DTYPES:
        labels_dtype = "int64"
    label_values = [int(e.attrs["mehta_label"]) if "mehta_label" in e.attrs
                    else int(e.T < T_C) for e in ensembles]
    packed = np.concatenate([pack_spins(e.spins) for e in ensembles])
    labels = np.repeat(np.array(label_values, dtype=labels_dtype), n)
    text = ("# temperatures (k_B = J = 1) of the blocks of "
            f"{names['data']}, {n} configurations each, in order; written by isingrbm\n"
            + "".join(f"{e.T!r}\n" for e in ensembles))
    created = not out_dir.exists()
    with output_lock(targets["data"] if not created else parent / out_dir.name):
        if created:
            staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp",
                                            dir=parent))
            try:
                _dump(packed, staging / names["data"])
                _dump(labels, staging / names["labels"])
                (staging / names["temperatures"]).write_text(text)
                os.chmod(staging, 0o777 & ~_umask())
                os.replace(staging, out_dir)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        else:
            with atomic_path(targets["data"], create=False) as tmp_data, \
                    atomic_path(targets["labels"], create=False) as tmp_labels, \
                    atomic_path(targets["temperatures"], create=False) as tmp_text:
                _dump(packed, tmp_data)
                _dump(labels, tmp_labels)
                tmp_text.write_text(text)
    return {"out_dir": str(out_dir), "files": {k: str(v) for k, v in targets.items()},
            "L": data.L, "n_per_temperature": n, "temperatures": [e.T for e in ensembles],
            "labels": label_values, "source": str(data.path)}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
