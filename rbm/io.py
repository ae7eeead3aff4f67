"""HDF5 model files for RBMs (DESIGN.md section 3, "Model files").

Layout (format ``"isingrbm-rbm"``, version 1)::

    /                   attrs: format, format_version, kind ("bernoulli" | "gaussian"),
                               n_visible, n_hidden, hyperparameters (JSON; a
                               translation-tied Bernoulli RBM adds
                               "translation_tied": [L, L], rbm.tying, and its
                               parameters are tied; absent = untied, as in
                               files written before it existed),
                               training_data_hash, epochs_done, fit_seed (JSON, the
                               seed of the fit's stream), created,
                               software_version, log_partition[, log_partition_error],
                               metadata_keys (JSON list) and one attr per metadata key
    weights             (n_visible, n_hidden) float64
    visible_bias        (n_visible,) float64
    hidden_bias         (n_hidden,) float64
    sigma               (n_visible,) float64             (Gaussian only)
    history/<name>      (n_epochs,) float64              one dataset per history entry
    training_state/     (checkpoints only) attrs epochs_done, rng_state (JSON),
                        split_seed, data_hash, optimizer_name; datasets
                        persistent_chains, tempered_state, tempered_swaps,
                        optimizer/<m|s|velocity>/<param>, optimizer attr n_steps

This module reads and writes arrays plus a kind, knowing no estimator
class (:func:`write`, :func:`read`); the kind -> class registry and the
public :func:`rbm.save` / :func:`rbm.load` are in :mod:`rbm.registry`.
Files are written to a temporary file in the target folder and moved into
place with ``os.replace``; an existing file is only replaced with
``overwrite=True``. :func:`read` checks ``format`` and ``format_version``
and every dataset's shape, and raises :class:`FileFormatError` naming the
file and the HDF5 path for anything foreign, truncated or corrupt.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError, OutputExistsError
from mccore.files import atomic_path
from mccore.version import software_version

__all__ = ["write", "read", "FORMAT", "FORMAT_VERSION", "PARAMETERS"]

FORMAT = "isingrbm-rbm"
FORMAT_VERSION = 1
_RESERVED = {"format", "format_version", "kind", "n_visible", "n_hidden", "hyperparameters",
             "training_data_hash", "epochs_done", "created", "software_version",
             "log_partition", "log_partition_error", "metadata_keys", "fit_seed"}
#: the parameter datasets of each kind of model, with their shapes
PARAMETERS = {"bernoulli": {"weights": ("n_visible", "n_hidden"), "visible_bias": ("n_visible",),
                            "hidden_bias": ("n_hidden",)},
              "gaussian": {"weights": ("n_visible", "n_hidden"), "visible_bias": ("n_visible",),
                           "hidden_bias": ("n_hidden",), "sigma": ("n_visible",)}}


def _attr_value(value):
    """Metadata values as HDF5-storable attrs (dict/list -> JSON string)."""
    if value is None:
        return "null"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (str, bool, int, float, np.integer, np.floating, np.bool_)):
        return value
    if isinstance(value, np.ndarray):
        return value
    return str(value)


def _plain(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def write(path, *, kind: str, hyperparameters: dict, parameters: dict, history: dict,
          metadata: dict, data_hash: str | None = None, epochs_done: int = 0,
          fit_seed=None, log_partition=None, training_state: dict | None = None,
          overwrite: bool = False) -> Path:
    """Write one model file (the layout above).

    Parameters
    ----------
    path : str or Path
        Output file.
    kind : {"bernoulli", "gaussian"}
        The model's kind; ``parameters`` must hold its :data:`PARAMETERS`.
    hyperparameters : dict
        JSON-able constructor arguments.
    parameters : dict of str to ndarray
        ``weights``, ``visible_bias``, ``hidden_bias`` (and ``sigma``).
    history : dict of str to list
        Per-epoch numbers.
    metadata : dict
        Provenance, one root attr per key (none of the reserved names).
    data_hash, epochs_done, fit_seed, log_partition
        Provenance of the training (``log_partition``: an Estimate or None).
    training_state : dict or None
        What a resumed fit needs (:meth:`rbm.training.TrainingState.to_dict`).
    overwrite : bool
        Replace an existing file.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    InvalidParameterError
        A metadata key is reserved.
    """
    import h5py

    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True to replace it")
    bad = sorted(set(metadata) & _RESERVED)
    if bad:
        raise InvalidParameterError(f"metadata keys must not be any of {sorted(_RESERVED)}, "
                                    f"got {bad}")
    weights = np.asarray(parameters["weights"], dtype=np.float64)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["kind"] = kind
            f.attrs["n_visible"] = int(weights.shape[0])
            f.attrs["n_hidden"] = int(weights.shape[1])
            f.attrs["hyperparameters"] = json.dumps(hyperparameters)
            f.attrs["training_data_hash"] = data_hash or ""
            f.attrs["epochs_done"] = int(epochs_done)
            if fit_seed is not None:
                f.attrs["fit_seed"] = json.dumps(fit_seed)
            f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
            f.attrs["software_version"] = software_version()
            if log_partition is not None:
                f.attrs["log_partition"] = float(log_partition.mean)
                f.attrs["log_partition_error"] = float(log_partition.error)
            f.attrs["metadata_keys"] = json.dumps(sorted(metadata))
            for key, value in metadata.items():
                f.attrs[key] = _attr_value(value)
            for name in PARAMETERS[kind]:
                f.create_dataset(name, data=np.asarray(parameters[name], dtype=np.float64))
            hist = f.create_group("history")
            for key, values in history.items():
                hist.create_dataset(key, data=np.asarray(values, dtype=np.float64))
            if training_state is not None:
                _write_state(f.create_group("training_state"), training_state)
    return path


def _write_state(group, state: dict) -> None:
    for key, value in state.items():
        if key == "optimizer":
            og = group.create_group("optimizer")
            for okey, ovalue in value.items():
                if isinstance(ovalue, np.ndarray):
                    og.create_dataset(okey, data=ovalue)
                else:
                    og.attrs[okey] = ovalue
        elif isinstance(value, np.ndarray):
            group.create_dataset(key, data=value)
        else:
            group.attrs[key] = value


def _read_state(group) -> dict:
    import h5py

    state = {k: _plain(v) for k, v in group.attrs.items()}
    for key, item in group.items():
        if key == "optimizer":
            opt = {k: _plain(v) for k, v in item.attrs.items()}

            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    opt[name] = obj[()]
            item.visititems(visit)
            state["optimizer"] = opt
        else:
            state[key] = item[()]
    return state


def read(path) -> dict:
    """Read a model file written by :func:`write`.

    Returns
    -------
    dict
        ``kind``, ``hyperparameters`` (dict), ``parameters`` (dict of
        float64 arrays of the kind's :data:`PARAMETERS`), ``history``,
        ``metadata`` (the provenance dict), ``data_hash``, ``epochs_done``,
        ``fit_seed``, ``log_partition`` (an Estimate or None) and
        ``training_state`` (a dict for checkpoints, else None).

    Raises
    ------
    FileFormatError
        The file is not HDF5, not an ``isingrbm-rbm`` file (e.g. a dataset
        file), of an unsupported version, or has missing/misshapen/non-finite
        parameters. The message names the file and the HDF5 path.
    FileNotFoundError
        ``path`` does not exist.
    """
    import h5py

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise FileFormatError(f"{path}: not an HDF5 file ({exc})") from None
    with f:
        fmt = _plain(f.attrs.get("format", None))
        if fmt != FORMAT:
            raise FileFormatError(
                f"{path}: not an isingrbm RBM model file (root attr format={fmt!r}, "
                f"expected {FORMAT!r})")
        version = _plain(f.attrs.get("format_version", None))
        if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
            raise FileFormatError(
                f"{path}: unsupported format_version {version!r} (this software reads "
                f"1..{FORMAT_VERSION})")
        kind = _plain(f.attrs.get("kind", None))
        if kind not in PARAMETERS:
            raise FileFormatError(f"{path}: attr kind must be one of {sorted(PARAMETERS)}, "
                                  f"got {kind!r}")
        try:
            n_visible = int(f.attrs["n_visible"])
            n_hidden = int(f.attrs["n_hidden"])
            hp = json.loads(_plain(f.attrs["hyperparameters"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise FileFormatError(f"{path}: missing or corrupt root attrs ({exc})") from None

        def read(name, shape):
            if name not in f or not isinstance(f[name], h5py.Dataset):
                raise FileFormatError(f"{path}: /{name} is missing")
            arr = f[name][()]
            if arr.shape != shape:
                raise FileFormatError(f"{path}: /{name} has shape {arr.shape}, "
                                      f"expected {shape}")
            if not np.issubdtype(arr.dtype, np.floating):
                raise FileFormatError(f"{path}: /{name} has dtype {arr.dtype}, expected float64")
            if not np.all(np.isfinite(arr)):
                raise FileFormatError(f"{path}: /{name} contains NaN or inf")
            return arr.astype(np.float64)

        sizes = {"n_visible": n_visible, "n_hidden": n_hidden}
        parameters = {name: read(name, tuple(sizes[d] for d in dims))
                      for name, dims in PARAMETERS[kind].items()}
        history = {}
        if "history" in f:
            for key, ds in f["history"].items():
                values = ds[()]
                history[key] = ([int(x) for x in values] if key == "epoch"
                                else [float(x) for x in values])
        try:
            meta_keys = json.loads(_plain(f.attrs.get("metadata_keys", "[]")))
        except ValueError:
            raise FileFormatError(f"{path}: root attr metadata_keys is not JSON") from None
        metadata = {k: _plain(f.attrs[k]) for k in meta_keys if k in f.attrs}
        state = _read_state(f["training_state"]) if "training_state" in f else None
        data_hash = _plain(f.attrs.get("training_data_hash", "")) or None
        epochs_done = int(f.attrs.get("epochs_done", 0))
        fit_seed = f.attrs.get("fit_seed", None)
        log_z = f.attrs.get("log_partition", None)
        log_z_err = f.attrs.get("log_partition_error", 0.0)
    log_partition = None
    if log_z is not None:
        from mcstats import Estimate
        log_partition = Estimate(mean=float(log_z), error=float(log_z_err))
    return {"kind": kind, "hyperparameters": hp, "parameters": parameters,
            "history": history, "metadata": metadata, "data_hash": data_hash,
            "epochs_done": epochs_done,
            "fit_seed": None if fit_seed is None else json.loads(_plain(fit_seed)),
            "log_partition": log_partition, "training_state": state}

