"""HDF5 model files for RBMs (DESIGN.md section 3, "Model files").

Layout (format ``"isingrbm-rbm"``, version 1)::

    /                   attrs: format, format_version, kind ("bernoulli" | "gaussian"),
                               n_visible, n_hidden, hyperparameters (JSON),
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

Files are written to a temporary file in the target folder and moved into
place with ``os.replace``; an existing file is only replaced with
``overwrite=True``. :func:`load` checks ``format`` and ``format_version``
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

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION"]

FORMAT = "isingrbm-rbm"
FORMAT_VERSION = 1
_RESERVED = {"format", "format_version", "kind", "n_visible", "n_hidden", "hyperparameters",
             "training_data_hash", "epochs_done", "created", "software_version",
             "log_partition", "log_partition_error", "metadata_keys", "fit_seed"}


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


def save(model, path, *, metadata: dict | None = None, overwrite: bool = False,
         training_state: bool = False) -> Path:
    """Write ``model`` to an HDF5 model file.

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
        A model with parameters.
    path : str or Path
        Output file.
    metadata : dict or None
        Provenance (data file, temperature, data hash, phase, ...), stored as
        root attributes and read back into ``model.metadata_``. Merged over
        the model's existing ``metadata_``.
    overwrite : bool
        Replace an existing file.
    training_state : bool
        Also store what a resumed fit needs (optimizer state, chains, RNG).

    Returns
    -------
    Path

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    InvalidParameterError
        The model has no parameters, or a metadata key is reserved.
    """
    import h5py

    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True to replace it")
    if getattr(model, "weights", None) is None:
        raise InvalidParameterError("the model has no parameters yet: fit it before saving")
    meta = dict(getattr(model, "metadata_", {}) or {})
    meta.update(metadata or {})
    bad = sorted(set(meta) & _RESERVED)
    if bad:
        raise InvalidParameterError(f"metadata keys must not be any of {sorted(_RESERVED)}, "
                                    f"got {bad}")
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["kind"] = model.kind
            f.attrs["n_visible"] = int(model.weights.shape[0])
            f.attrs["n_hidden"] = int(model.weights.shape[1])
            f.attrs["hyperparameters"] = json.dumps(model.hyperparameters())
            f.attrs["training_data_hash"] = getattr(model, "_data_hash", None) or ""
            f.attrs["epochs_done"] = int(getattr(model, "epochs_done_", 0))
            if getattr(model, "seed_", None) is not None:
                f.attrs["fit_seed"] = json.dumps(model.seed_)
            f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
            f.attrs["software_version"] = software_version()
            lz = getattr(model, "log_partition_", None)
            if lz is not None:
                f.attrs["log_partition"] = float(lz.mean)
                f.attrs["log_partition_error"] = float(lz.error)
            f.attrs["metadata_keys"] = json.dumps(sorted(meta))
            for key, value in meta.items():
                f.attrs[key] = _attr_value(value)
            f.create_dataset("weights", data=np.asarray(model.weights, dtype=np.float64))
            f.create_dataset("visible_bias", data=np.asarray(model.visible_bias, np.float64))
            f.create_dataset("hidden_bias", data=np.asarray(model.hidden_bias, np.float64))
            if model.kind == "gaussian":
                f.create_dataset("sigma", data=np.asarray(model.sigma, dtype=np.float64))
            hist = f.create_group("history")
            for key, values in (model.history_ or {}).items():
                hist.create_dataset(key, data=np.asarray(values, dtype=np.float64))
            if training_state and hasattr(model, "_training_state"):
                _write_state(f.create_group("training_state"), model._training_state())
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


def load(path):
    """Read a model file written by :func:`save`.

    Returns
    -------
    BernoulliRBM or GaussianBernoulliRBM
        With parameters, ``history_``, ``metadata_`` (the provenance dict) and,
        for checkpoints, the training state needed by ``fit(resume=True)``.

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
        if kind not in ("bernoulli", "gaussian"):
            raise FileFormatError(f"{path}: attr kind must be 'bernoulli' or 'gaussian', "
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

        W = read("weights", (n_visible, n_hidden))
        a = read("visible_bias", (n_visible,))
        b = read("hidden_bias", (n_hidden,))
        sigma = read("sigma", (n_visible,)) if kind == "gaussian" else None
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

    try:
        if kind == "bernoulli":
            from .bernoulli import BernoulliRBM
            model = BernoulliRBM(**hp)
            model._validate_params()
            model.set_parameters(weights=W, visible_bias=a, hidden_bias=b)
        else:
            from .gaussian import GaussianBernoulliRBM
            if "sigma" in hp:            # files written before sigma_init was named so
                hp["sigma_init"] = hp.pop("sigma")
            model = GaussianBernoulliRBM(**hp)
            model._validate_params()
            model.set_parameters(weights=W, visible_bias=a, hidden_bias=b, sigma=sigma)
    except (TypeError, InvalidParameterError) as exc:
        raise FileFormatError(f"{path}: invalid hyperparameters or parameters ({exc})") from None
    model.history_ = history
    model.metadata_ = metadata
    model._data_hash = data_hash
    model.epochs_done_ = epochs_done
    model._training_state_dict = state
    if fit_seed is not None:
        model.seed_ = json.loads(_plain(fit_seed))
    if log_z is not None:
        from mcstats import Estimate
        model.log_partition_ = Estimate(mean=float(log_z), error=float(log_z_err))
    return model
