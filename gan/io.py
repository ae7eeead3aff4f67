"""GAN model files: the payload of an :class:`~gan.IsingGAN` (format
``isingrbm-gan``), reading it back, and the migration of older files.

A model file is a PyTorch zip archive of tensors, strings and numbers only,
read with ``torch.load(weights_only=True)`` (no code executed)::

    format="isingrbm-gan", format_version=2,
    hyperparameters (JSON; "rng" holds the seed), metadata (JSON),
    training_temperatures (JSON), n_epochs_trained,
    generator, [generator_ema], discriminator   (state dicts),
    history   (per-epoch float64 tensors, snapshot_epochs, snapshots int8),
    [training] (checkpoints only: both optimizers' state, data_fingerprint)

Format 1 files (before symmetrization, conditioning and the choice of loss)
load with the settings they were trained with (:data:`_V1_DEFAULTS`); format 2
files written before the learning-rate schedule and the ablation options
(or before PacGAN packing, ``pack``, the moment matching,
``moment_matching``, the distribution matching,
``distribution_matching``, its warm-up, ``matching_warmup``, or the
checkerboard draw, ``draw``) take :data:`_V2_DEFAULTS`; generator
weights named ``body.*`` (before the condition map entered every layer) are
renamed. The bytes are written by
:meth:`IsingGAN.save <gan.IsingGAN.save>` (atomically).
"""

from __future__ import annotations

import errno
import io
import json
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError
from mccore.files import atomic_path

__all__ = ["FORMAT", "FORMAT_VERSION", "payload", "checkpoint_payload", "read_payload",
           "from_payload", "write_payload"]

FORMAT = "isingrbm-gan"
FORMAT_VERSION = 2

# Settings of models written by format version 1 (before symmetrization,
# conditioning and the choice of loss existed): they load with these.
_V1_DEFAULTS = {"loss": "nonsaturating", "n_critic": 1, "training_output": "mean",
                "label_smoothing": 0.9,
                "ema_decay": 0.0,
                "symmetrize": False, "random_translation": False, "conditional": False}
# Settings of format-2 files written before the learning-rate schedule and the
# ablation options existed (applied to format-1 files too).
_V2_DEFAULTS = {"bond_features": False, "head_hidden": 0, "lr_schedule": "constant",
                "feature_matching": 0.0, "pack": 1, "moment_matching": 0.0,
                "distribution_matching": 0.0, "matching_warmup": 0.0, "draw": "independent"}

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def payload(model, torch) -> dict:
    """The model file's content for a fitted ``model``."""
    model._require_fitted()
    hist = model.history_
    snap_epochs = sorted(hist["snapshots"])
    history = {key: torch.tensor(hist[key], dtype=torch.float64)
               for key in hist if key != "snapshots"}
    history["snapshot_epochs"] = torch.tensor(snap_epochs, dtype=torch.int64)
    if snap_epochs:
        history["snapshots"] = torch.from_numpy(
            np.stack([hist["snapshots"][e] for e in snap_epochs]).astype(np.int8))
    params = model.get_params()
    params["rng"] = model.seed_
    if params["draw"] == "independent":
        # written only when it is not the draw of before the option: such a file is
        # the file of then (older versions read it), and a checkerboard model's file
        # is refused by them (an unknown setting) rather than read as independent
        del params["draw"]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "hyperparameters": json.dumps(params),
        "metadata": json.dumps(model.metadata_),
        "training_temperatures": json.dumps(model.training_temperatures_),
        "n_epochs_trained": int(model.n_epochs_trained_),
        "generator": model._generator.state_dict(),
        **({} if model._generator_ema is None
           else {"generator_ema": model._generator_ema.state_dict()}),
        "discriminator": model._discriminator.state_dict(),
        "history": history,
    }


def checkpoint_payload(model, torch, opt_g, opt_d, data_fingerprint: str) -> dict:
    """:func:`payload` plus the training state (both optimizers, the data's fingerprint)."""
    content = payload(model, torch)
    content["training"] = {"optimizer_generator": opt_g.state_dict(),
                           "optimizer_discriminator": opt_d.state_dict(),
                           "data_fingerprint": data_fingerprint}
    return content


def from_payload(cls, torch, content: dict, path):
    """A model of class ``cls`` (IsingGAN) from a file's content (any supported version).

    Raises
    ------
    FileFormatError
        Missing or malformed entries.
    """
    try:
        params = json.loads(content["hyperparameters"])
        if content["format_version"] == 1:
            params = {**_V1_DEFAULTS, **params}
            params["rng"] = params.pop("seed")
        params = {**_V2_DEFAULTS, **params}
        seed = params.pop("rng")
        model = cls(**params, rng=seed)
        model.seed_ = seed
        model.metadata_ = json.loads(content["metadata"])
        temps = json.loads(content.get("training_temperatures", "[]"))
        model.training_temperatures_ = [float(t) for t in temps]
        if model.conditional:
            model.temperature_range_ = (min(temps), max(temps))
        model._build(torch)
        model._generator.load_state_dict(_generator_state(content["generator"],
                                                          model.n_layers))
        if model._generator_ema is not None:
            model._generator_ema.load_state_dict(content["generator_ema"])
        model._discriminator.load_state_dict(content["discriminator"])
        model.n_epochs_trained_ = int(content["n_epochs_trained"])
        hist = content["history"]
        history = cls._empty_history()
        for key in history:
            if key != "snapshots":
                history[key] = [float(v) for v in hist[key].tolist()]
        epochs = [int(e) for e in hist["snapshot_epochs"].tolist()]
        for i, epoch in enumerate(epochs):
            history["snapshots"][epoch] = hist["snapshots"][i].numpy().astype(np.int8)
        model.history_ = history
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError,
            IndexError) as exc:
        raise FileFormatError(f"{path}: not a valid GAN model file "
                              f"({type(exc).__name__}: {exc})") from None
    return model


def _generator_state(state: dict, n_layers: int) -> dict:
    """Rename the generator weights of files written before the condition map
    entered every layer (``body.{2k}`` -> ``convs.{k}``, the last -> ``out``)."""
    if not any(key.startswith("body.") for key in state):
        return state
    renamed = {}
    for key, value in state.items():
        if key.startswith("body."):
            _, index, name = key.split(".", 2)
            k = int(index) // 2
            key = f"out.{name}" if k == n_layers else f"convs.{k}.{name}"
        renamed[key] = value
    return renamed


def _not_ours(path: Path) -> str:
    """Why ``path``, which torch cannot read, is not a GAN model file (one line)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_HDF5_SIGNATURE))
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if not head:
        return "the file is empty"
    if head == _HDF5_SIGNATURE:
        return ("it is an HDF5 file, such as an RBM model or a dataset; GAN models are "
                "PyTorch archives written by IsingGAN.save or 'isingrbm gan fit'")
    return "not a PyTorch archive written by IsingGAN.save or 'isingrbm gan fit'"


def read_payload(torch, path) -> dict:
    """The content of a GAN model (or checkpoint) file, checked for format and version.

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        Not a GAN model file (one line saying why), or an unsupported version.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception:  # noqa: BLE001 - any failure to parse means "not ours"
        raise FileFormatError(f"{path}: not a GAN model file ({_not_ours(path)})") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise FileFormatError(f"{path}: not a GAN model file (format attribute missing or "
                              f"different)")
    if content.get("format_version") not in (1, FORMAT_VERSION):
        raise FileFormatError(f"{path}: GAN model format_version "
                              f"{content.get('format_version')!r} is not supported "
                              f"(expected 1 or {FORMAT_VERSION})")
    return content


def write_payload(torch, payload: dict, path: Path) -> None:
    """Serialize in memory, then write atomically (mccore.files.atomic_path).

    A full disk becomes ``OSError(ENOSPC, "No space left on device", path)``
    (torch's own writer reports it as an opaque RuntimeError), and the
    temporary file is removed.
    """
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getbuffer()
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(errno.ENOSPC, "No space left on device", str(path)) from None
        raise
