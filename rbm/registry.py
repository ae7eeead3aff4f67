"""The one kind -> class registry of the RBMs, and their model files: :func:`save`, :func:`load`.

A model file stores arrays plus a kind (:mod:`rbm.io`, DESIGN.md section 3);
:data:`KINDS` says which estimator class a kind is read back as. This
module sits above the estimators and :mod:`rbm.io`, so that neither imports
the other.
"""

from __future__ import annotations

from pathlib import Path

from mccore.errors import FileFormatError, InvalidParameterError

from . import io
from .bernoulli import BernoulliRBM
from .gaussian import GaussianBernoulliRBM
from .training import TrainingState

__all__ = ["KINDS", "save", "load"]

#: estimator class of each ``kind`` (a model file's root attr)
KINDS = {"bernoulli": BernoulliRBM, "gaussian": GaussianBernoulliRBM}


def save(model, path, *, metadata: dict | None = None, overwrite: bool = False) -> Path:
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
        Replace an existing file (else OutputExistsError when ``path`` exists).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InvalidParameterError
        The model has no parameters, or a metadata key is reserved.
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    """
    if getattr(model, "weights", None) is None:
        raise InvalidParameterError("the model has no parameters yet: fit it before saving")
    return io.write(path, **model._file_contents(metadata), overwrite=overwrite)


def load(path):
    """Read a model file written by :func:`save` (or a fit's checkpoint).

    Returns
    -------
    BernoulliRBM or GaussianBernoulliRBM
        With parameters, ``history_``, ``metadata_`` (the provenance dict),
        ``seed_`` and ``epochs_done_``. A checkpoint is continued with
        ``fit(X, checkpoint=path, resume=True)``.

    Raises
    ------
    FileFormatError
        What :func:`rbm.io.read` refuses (foreign, truncated or corrupt
        files, naming the file and the HDF5 path), and hyperparameters or
        parameters the estimator refuses.
    FileNotFoundError
        ``path`` does not exist.
    """
    stored = io.read(path)
    cls = KINDS[stored["kind"]]
    try:
        model = cls(**cls._hyperparameters_from_file(stored["hyperparameters"]))
        model._validate_params()
        model.set_parameters(**stored["parameters"])
    except (TypeError, InvalidParameterError) as exc:
        raise FileFormatError(f"{path}: invalid hyperparameters or parameters ({exc})") from None
    model.history_ = stored["history"]
    model.metadata_ = stored["metadata"]
    model._training = TrainingState.recorded(stored)
    if stored["log_partition"] is not None:
        model.log_partition_ = stored["log_partition"]
    return model
