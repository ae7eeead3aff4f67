"""The result of a VMC run and its HDF5 file (the only vmc module importing h5py).

File layout (format ``"isingrbm-vmc"``, version 1)::

    /            attrs: format, format_version, status ("complete" |
                        "unhealthy" | "interrupted" | "diverged"), message, iterations,
                        exact (NaN if unknown), variance, acceptance,
                        energy (JSON of the Estimate), parameters (JSON of the
                        settings), notes (JSON list), health (JSON of
                        :func:`vmc.health.assess`, when assessed), created,
                        software_version
    params           (n_params,) float64   final (last good) parameters
    parameter_names  (n_params,) str       a[i], b[j], W[i,j], log_beta (trap) or a, b, w (symmetric RBM)
    local_energy     (n_walkers, n_steps)  final local energies, if kept
    history/<key>    one dataset per history series (energy, variance,
                     acceptance, grad_norm, step, params (n_iter, n_params))
    resume/...       (optional) the state a run resumes from: walkers and
                     their streams, optimizer moments, as datasets; scalars
                     as attrs of ``resume`` (see :func:`vmc.driver.VMC.run`)

The file is built in memory and then written to disk with plain file I/O,
so a full disk gives one ``OSError`` (``No space left on device``) and never
a half-written HDF5 file (HDF5's own writes segfaulted on ENOSPC).
"""

from __future__ import annotations

import errno
import importlib
import io
import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mcstats import Estimate
from mccore.errors import FileFormatError, OutputExistsError
from mccore.version import software_version

__all__ = ["VMCResult", "FORMAT", "FORMAT_VERSION", "SYSTEMS", "open_versioned_hdf5", "write_bytes"]

#: ``parameters["system"]`` -> the module that prints and summarizes results of that physics
#: (``summary(result) -> str``, ``json_extras(result) -> dict``); trap results carry no
#: ``system`` key (their files predate it)
SYSTEMS = {"trap": "vmc.trap.summary", "tfim": "vmc.spins.summary"}

FORMAT = "isingrbm-vmc"
FORMAT_VERSION = 1


@dataclass
class VMCResult:
    """Energy estimate, history and final parameters of a VMC run (hbar = m = 1).

    Attributes
    ----------
    energy : mcstats.Estimate
        Ground-state energy estimate (total, not per particle) with a
        blocking error from the final sampling run.
    variance : float
        Variance of the local energy in that run (0 for an exact eigenstate).
    acceptance : float
        Acceptance rate of single-particle moves in that run (1 for Gibbs).
    exact : float or None
        Exact ground-state energy where known.
    iterations : int
        Optimization iterations done.
    history : dict of ndarray
        Per iteration: ``energy`` (mean E_L), ``variance``, ``acceptance``,
        ``grad_norm``, ``step`` (the sampler's), ``params`` (n_iter, n_params)
        at which that iteration sampled.
    parameters : dict
        The run's settings (particles, dims, omega, interaction, hidden,
        jastrow, form, sigma, sampler, optimizer, learning_rate, samples,
        walkers, seed, ...).
    params : ndarray (n_params,)
        Final parameters (the last good ones if the run diverged).
    parameter_names : list of str
    status : {"complete", "unhealthy", "interrupted", "diverged"}
        ``"unhealthy"``: the run finished but its final sampling failed a
        health check (:mod:`vmc.health`: stuck chains, R-hat far above 1, a
        zero error bar); the numbers are kept but are not a result.
    message : str
        Why a run stopped early, or which health checks failed.
    notes : list of str
        Caveats to print beside the result.
    local_energy : ndarray (n_walkers, n_steps) or None
        Local energies of the final sampling run.
    """

    energy: Estimate
    variance: float
    acceptance: float
    exact: float | None
    iterations: int
    history: dict
    parameters: dict
    params: np.ndarray
    parameter_names: list = field(default_factory=list)
    status: str = "complete"
    message: str = ""
    notes: list = field(default_factory=list)
    local_energy: np.ndarray | None = None
    resume_state: dict | None = None
    observables: dict = field(default_factory=dict)
    health: dict = field(default_factory=dict)

    @property
    def error(self) -> float:
        """Blocking error of :attr:`energy`."""
        return self.energy.error

    def to_dict(self) -> dict:
        """The ``--json`` summary (the output contract of issue 4), plus what its
        physics adds (TFIM runs: ``energy_per_site``, ``relative_error``
        |E - E0| / |E0| and its statistical error ``relative_error_sigma``, and
        ``observables``)."""
        out = {
            "energy": self.energy.mean,
            "error": self.energy.error,
            "variance": self.variance,
            "acceptance": self.acceptance,
            "exact": self.exact,
            "deviation": (None if self.exact is None or not self.energy.error > 0
                          else (self.energy.mean - self.exact) / self.energy.error),
            "iterations": self.iterations,
            "status": self.status,
            "message": self.message,
            "tau_int": self.energy.tau_int,
            "n_samples": self.energy.n_samples,
            "parameters": dict(self.parameters),
            "final_params": {n: float(v) for n, v in zip(self.parameter_names, self.params)},
            "notes": list(self.notes),
            "health": dict(self.health),
        }
        out.update(self.physics().json_extras(self))
        return out

    def summary(self) -> str:
        """A one-screen human summary (its physics' :func:`summary`)."""
        return self.physics().summary(self)

    def iterations_line(self) -> str:
        """The summaries' ``iterations: K (status)`` line, with the message of a run
        that stopped early (an unhealthy run's problems are :meth:`warning_lines`)."""
        return (f"  iterations: {self.iterations} ({self.status})"
                + (f": {self.message}" if self.message and self.status != "unhealthy" else ""))

    def warning_lines(self) -> list:
        """The lines that flag an unhealthy result (none for any other status)."""
        if self.status != "unhealthy":
            return []
        return ["  WARNING: UNHEALTHY RESULT, not an estimate: " + p
                for p in self.health.get("problems", [self.message])]

    def physics(self):
        """The module that describes this result's physics (``summary``, ``json_extras``):
        :data:`SYSTEMS` by ``parameters["system"]``, the trap when absent."""
        return importlib.import_module(SYSTEMS[self.parameters.get("system", "trap")])

    # ----------------------------------------------------------------- files
    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the result to an HDF5 file (layout in the module docstring).

        Raises
        ------
        OutputExistsError
            ``path`` exists and ``overwrite`` is False.
        """
        import h5py

        path = Path(path)
        if path.exists() and not overwrite:
            raise OutputExistsError(f"output {path} exists; pass overwrite=True to replace it")
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as h5:
            a = h5.attrs
            a["format"] = FORMAT
            a["format_version"] = FORMAT_VERSION
            a["status"] = self.status
            a["message"] = self.message
            a["iterations"] = int(self.iterations)
            a["exact"] = float("nan") if self.exact is None else float(self.exact)
            a["variance"] = float(self.variance)
            a["acceptance"] = float(self.acceptance)
            a["energy"] = json.dumps(self.energy.to_dict())
            a["parameters"] = json.dumps(self.parameters)
            a["notes"] = json.dumps(list(self.notes))
            a["observables"] = json.dumps(self.observables, default=_json_default)
            a["health"] = json.dumps(self.health, default=_json_default)
            a["created"] = datetime.now(timezone.utc).isoformat()
            a["software_version"] = software_version()
            h5.create_dataset("params", data=np.asarray(self.params, dtype=np.float64))
            h5.create_dataset("parameter_names",
                              data=np.array(self.parameter_names, dtype=h5py.string_dtype()))
            if self.local_energy is not None:
                h5.create_dataset("local_energy", data=np.asarray(self.local_energy),
                                  compression="gzip")
            g = h5.create_group("history")
            for key, value in self.history.items():
                g.create_dataset(key, data=np.asarray(value, dtype=np.float64))
            if self.resume_state is not None:
                r = h5.create_group("resume")
                for key, value in self.resume_state.items():
                    if isinstance(value, np.ndarray):
                        r.create_dataset(key, data=value)
                    else:
                        r.attrs[key] = json.dumps(value)
        write_bytes(path, buffer.getbuffer())
        return path

    @classmethod
    def load(cls, path) -> "VMCResult":
        """Read a result file written by :meth:`save`.

        Raises
        ------
        FileFormatError
            Not an HDF5 file, or not an ``isingrbm-vmc`` file of a known version.
        """
        path = Path(path)
        with open_versioned_hdf5(path, FORMAT, FORMAT_VERSION) as h5:
            a = h5.attrs
            try:
                e = json.loads(a["energy"])
                energy = Estimate(**{k: (float("nan") if v is None else v) for k, v in e.items()})
                exact = float(a["exact"])
                result = cls(
                    energy=energy, variance=float(a["variance"]),
                    acceptance=float(a["acceptance"]),
                    exact=None if math.isnan(exact) else exact,
                    iterations=int(a["iterations"]),
                    history={k: h5["history"][k][()] for k in h5["history"]},
                    parameters=json.loads(a["parameters"]),
                    params=h5["params"][()],
                    parameter_names=[s.decode() if isinstance(s, bytes) else str(s)
                                     for s in h5["parameter_names"][()]],
                    status=str(a["status"]), message=str(a["message"]),
                    notes=json.loads(a["notes"]),
                    local_energy=h5["local_energy"][()] if "local_energy" in h5 else None,
                    resume_state=_read_resume(h5["resume"]) if "resume" in h5 else None,
                    observables=json.loads(a["observables"]) if "observables" in a else {},
                    health=json.loads(a["health"]) if "health" in a else {})
            except (KeyError, ValueError, TypeError) as exc:
                raise FileFormatError(f"{path}: corrupt isingrbm-vmc file ({exc})") from None
        return result


def _read_resume(group) -> dict:
    """The ``resume`` group as a flat dict (dataset paths -> arrays, attrs -> JSON values)."""
    import h5py

    state = {key: json.loads(value) for key, value in group.attrs.items()}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            state[name] = obj[()]

    group.visititems(visit)
    return state


def open_versioned_hdf5(path, fmt: str, version: int):
    """``path`` opened read-only (an ``h5py.File``), after checking that it is an
    HDF5 file whose root attributes say ``format = fmt``, ``format_version = version``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    FileFormatError
        Not an HDF5 file, another format, or another version (the message names the file).
    """
    import h5py

    path = Path(path)
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        if not path.exists():
            raise
        raise FileFormatError(f"{path}: not an HDF5 file ({exc})") from None
    a = h5.attrs
    problem = None
    if a.get("format") != fmt:
        problem = f"attribute format is {a.get('format')!r}, expected {fmt!r}"
    elif int(a.get("format_version", -1)) != version:
        problem = (f"format_version {a.get('format_version')!r} is not supported "
                   f"(expected {version})")
    if problem is not None:
        h5.close()
        raise FileFormatError(f"{path}: {problem}")
    return h5


def write_bytes(path: Path, data) -> None:
    """Write ``data`` to ``path`` with plain file I/O; a full disk raises one clear OSError."""
    try:
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
        raise


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
