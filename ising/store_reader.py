"""Reading the HDF5 dataset store: :func:`load` into :class:`IsingDataset`
(one :class:`Ensemble` per temperature).

The schema is documented in :mod:`ising.store` (the public face of the
store: import from there or from :mod:`ising`). Readers trust only the
counted rows of a group (``n_written``; all rows of a file written by
other tools). A file that another process has open for writing is locked
by HDF5: :func:`load` refuses it with :class:`DatasetBusyError` unless
``while_written=True``, which reads it without the lock and trusts only
its counted rows (each checked against its energy and magnetization).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError

from .phases import PHASE_WINDOW, PHASES, phase_centre, phase_label
from .store_codec import (
    DatasetBusyError,
    _attrs_dict,
    _fail,
    _open_h5,
    _validate_open,
    counted_rows,
    energy_magnetization,
)

__all__ = ["Ensemble", "IsingDataset", "load"]


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
