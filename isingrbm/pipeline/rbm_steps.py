"""The RBM steps of the pipeline: training data, fit, sample.

1. :func:`training_data` picks the Monte Carlo ensemble of one temperature
   (or phase) of a dataset file; :func:`fit_rbm` trains a
   :class:`rbm.BernoulliRBM` on its visible units ``v = (s + 1) / 2``
   (row-major) and writes the model file with
   :func:`~isingrbm.pipeline.provenance.fit_provenance`.
2. :func:`sample_rbm` draws independent configurations from a model file
   (each the end of its own block-Gibbs chain) and writes them in the
   dataset schema with :func:`~isingrbm.pipeline.provenance.sample_provenance`.

Conventions: k_B = J = 1, periodic L x L lattice.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.files import atomic_path, output_lock
from mccore.rng import stream

from .provenance import _write_target, checkpoint_path, fit_provenance, sample_provenance

__all__ = ["FitResult", "SampleResult", "fit_rbm", "initial_units", "load_sampler",
           "sample_rbm", "sample_temperature", "training_data", "training_units"]

#: Stream key (under the fit seed) of the random symmetry images.
_IMAGES_KEY = 1


def training_data(data_path, *, temperature: float | None = None, phase: str | None = None):
    """The Monte Carlo ensemble to train on: ``(dataset, ensemble)``.

    Parameters
    ----------
    data_path : path-like
        A Monte Carlo dataset file (source ``"monte-carlo"``).
    temperature : float, optional
        A temperature of the file (matched within 1e-6).
    phase : {"ordered", "critical", "disordered"}, optional
        Instead of ``temperature``: the file's temperature closest to the
        phase's centre.

    Raises
    ------
    InvalidParameterError
        Not a Monte Carlo dataset, no such temperature, or fewer than 2
        samples there.
    FileFormatError
        The file is not a dataset.
    """
    from ising.store import DATA_SOURCES, load

    if (temperature is None) == (phase is None):
        raise InvalidParameterError("give exactly one of temperature or phase")
    data_path = Path(data_path)
    dataset = load(data_path)
    if dataset.source not in DATA_SOURCES:
        raise InvalidParameterError(
            f"DATA must be a Monte Carlo dataset (source 'monte-carlo' or 'imported'), "
            f"{data_path.name} has source {dataset.source!r}")
    if phase is not None:
        ensemble = dataset.ensemble_for_phase(phase)
    else:
        ensemble = dataset.ensemble(float(temperature), tol=1e-6)
    if ensemble.n_samples < 2:
        raise InvalidParameterError(
            f"DATA must hold at least 2 samples at T = {ensemble.T:g}, got {ensemble.n_samples}")
    return dataset, ensemble


def training_units(ensemble, *, seed: int, augment: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Visible units of an ensemble: ``(X, X_train)``.

    ``X`` is the data itself (hashed for provenance); ``X_train`` adds
    ``augment`` random symmetry images of every configuration (translations,
    rotations, reflections of the periodic lattice), drawn from their own
    stream of ``seed`` so that a resumed run sees the same images.
    """
    from ising.lattice import spins_to_visible, symmetry_images

    X = spins_to_visible(ensemble.spins)
    if augment <= 1:
        return X, X
    images = symmetry_images(ensemble.spins, int(augment), stream(int(seed), _IMAGES_KEY))
    return X, spins_to_visible(images)


@dataclass
class FitResult:
    """A trained model: the estimator, its file and provenance.

    ``interrupted``: training was stopped by Ctrl-C; nothing was written to
    ``path``, the checkpoint of the last completed epoch is kept for a resume.
    """

    model: object
    path: Path
    metadata: dict
    seconds: float
    interrupted: bool = False


def fit_rbm(data_path, ensemble, settings: dict, *, out, seed: int, augment: int = 1,
            resume: bool = False, progress: bool = False, checkpoint_every: int = 1,
            command: str = "isingrbm fit") -> FitResult:
    """Train a Bernoulli RBM on ``ensemble`` and write it (atomically) to ``out``.

    Parameters
    ----------
    data_path : path-like
        The dataset ``ensemble`` comes from (recorded as ``data_file``).
    ensemble : ising Ensemble
        From :func:`training_data`.
    settings : dict
        Keyword arguments of :class:`rbm.BernoulliRBM` (``n_hidden``, ...).
    out : path-like
        Model file; checked by the caller (it is replaced, atomically; a
        symlink is written through and stays a link). The training
        state is kept in :func:`checkpoint_path` ``(out)`` while training
        and removed once the model is written.
    seed : int
        Seed of the fit (and of the symmetry images); recorded.
    augment : int
        Symmetry images per configuration (1: none).
    resume : bool
        Continue from the checkpoint if there is one.

    Returns
    -------
    FitResult
        With ``interrupted=True`` after Ctrl-C (nothing written, checkpoint kept).
    """
    import rbm

    out = Path(out)
    checkpoint = checkpoint_path(out)
    X, X_train = training_units(ensemble, seed=seed, augment=augment)
    model = rbm.BernoulliRBM(**settings, rng=int(seed))
    model.metadata_ = {"seed": int(seed)}      # carried into the checkpoints
    start = time.perf_counter()
    model.fit(X_train, progress=progress, checkpoint=checkpoint,
              checkpoint_every=checkpoint_every, resume=resume)
    seconds = time.perf_counter() - start
    metadata = fit_provenance(data_path, ensemble, X, seed=seed, augment=augment,
                              command=command, seconds=seconds)
    if getattr(model, "interrupted_", False):
        # Ctrl-C: the training loop saved a checkpoint of the last completed epoch
        return FitResult(model=model, path=out, metadata=metadata, seconds=seconds,
                         interrupted=True)
    with atomic_path(_write_target(out)) as tmp:
        rbm.save(model, tmp, metadata=metadata, overwrite=True)
    checkpoint.unlink(missing_ok=True)
    return FitResult(model=model, path=out, metadata=metadata, seconds=seconds)


def load_sampler(model_path, *, purpose: str = ""):
    """A Bernoulli RBM model file ready to sample: ``(model, metadata, L)``.

    ``purpose`` (e.g. ``"--exact"``) is named in the refusal of another kind of model.

    Raises
    ------
    InvalidParameterError
        Not a Bernoulli RBM, or its visible units are not an L x L lattice.
    FileFormatError
        Not a model file.
    """
    import rbm

    model_path = Path(model_path)
    model = rbm.load(model_path)
    kind = getattr(model, "kind", type(model).__name__)
    if kind != "bernoulli":
        raise InvalidParameterError(
            f"MODEL must be a Bernoulli RBM (spins are binary)"
            f"{f' for {purpose}' if purpose else ''}, {model_path.name} holds a {kind!r} model")
    metadata = dict(getattr(model, "metadata_", None) or {})
    n_visible = int(model.weights.shape[0])
    L = int(round(math.sqrt(n_visible)))
    if L * L != n_visible or L < 2:
        raise InvalidParameterError(
            f"MODEL must have L*L visible units for an L x L lattice, {model_path.name} has "
            f"{n_visible}")
    if "L" in metadata and int(metadata["L"]) != L:
        raise InvalidParameterError(
            f"{model_path.name}: metadata L = {metadata['L']} does not match its {n_visible} "
            "visible units")
    return model, metadata, L


def sample_temperature(metadata: dict, model_path, temperature: float | None = None) -> float:
    """The temperature generated samples stand for: the model's training temperature.

    ``temperature`` is needed for a model that records none, and must match
    the recorded one otherwise.
    """
    name = Path(model_path).name
    recorded = metadata.get("temperature")
    if temperature is not None and not (math.isfinite(temperature) and temperature > 0):
        raise InvalidParameterError(
            f"--temperature must be a finite number > 0, got {temperature}")
    if recorded is None:
        if temperature is None:
            raise InvalidParameterError(
                f"{name} records no training temperature (not written by 'isingrbm fit'); "
                "pass --temperature T")
        return float(temperature)
    if temperature is not None and abs(float(recorded) - temperature) > 1e-9:
        raise InvalidParameterError(
            f"--temperature must match the model's training temperature {float(recorded):g}, "
            f"got {temperature:g}")
    return float(recorded)


def initial_units(metadata: dict, model_path) -> np.ndarray:
    """The training units recorded in a model's provenance, verified by their hash."""
    from ising.lattice import spins_to_visible
    from ising.store import load
    from rbm.bernoulli import data_hash

    name = Path(model_path).name
    data_file, T = metadata.get("data_file"), metadata.get("temperature")
    if not data_file or T is None:
        raise InvalidParameterError(
            f"--init data needs the training data recorded in {name} (a model written by "
            "'isingrbm fit'); use --init random")
    path = Path(str(data_file))
    if not path.is_file():
        raise InvalidParameterError(
            f"--init data: training data {path} recorded in {name} does not exist")
    visible = spins_to_visible(load(path).ensemble(float(T), tol=1e-6).spins)
    if metadata.get("data_hash") and data_hash(visible) != metadata["data_hash"]:
        raise InvalidParameterError(
            f"--init data: {path.name} at T = {float(T):g} is not the data {name} was "
            "trained on (hash differs)")
    return visible


@dataclass
class SampleResult:
    """Configurations drawn from a model and written as a dataset file."""

    spins: np.ndarray
    path: Path
    temperature: float
    L: int
    seed: int
    provenance: dict
    seconds: float

    @property
    def fraction_positive_magnetization(self) -> float:
        """Fraction with m > 0, samples with m = 0 counting one half."""
        m = self.spins.reshape(self.spins.shape[0], -1).mean(axis=1)
        return float(np.mean(m > 0) + 0.5 * np.mean(m == 0))


def sample_rbm(model_path, *, n_samples: int, out, seed: int, n_steps: int = 1000,
               init: str = "random", temperature: float | None = None,
               overwrite: bool = False, command: str = "isingrbm sample",
               model=None, metadata: dict | None = None, lock: bool = True) -> SampleResult:
    """Draw ``n_samples`` configurations from a model file and write them to ``out``.

    Each configuration ends its own block-Gibbs chain of ``n_steps`` steps,
    started from uniformly random units (``init="random"``) or from randomly
    chosen training configurations (``init="data"``, the data recorded in
    the model, checked by its hash). Visible units become spins
    ``s = 2 v - 1``; the file has source ``"rbm"``, the model's temperature
    and :func:`sample_provenance`.

    Parameters
    ----------
    model, metadata : optional
        The model and metadata already read by :func:`load_sampler`.
    seed : int
        Seed of the chains (and of the choice of starts); recorded.
    lock : bool
        Take the output lock for the write (False: the caller holds it,
        e.g. for the whole run, :func:`mccore.files.output_lock`).
    """
    import contextlib

    from ising.lattice import visible_to_spins
    from ising.store import write_generated

    if model is None:
        model, metadata, L = load_sampler(model_path)
    else:
        L = int(round(math.sqrt(model.weights.shape[0])))
    metadata = dict(metadata or {})
    T = sample_temperature(metadata, model_path, temperature)
    init_units = initial_units(metadata, model_path) if init == "data" else None
    rng = stream(int(seed))
    start_rows = None
    if init_units is not None:
        n_data = init_units.shape[0]
        start_rows = init_units[rng.choice(n_data, size=n_samples, replace=n_samples > n_data)]
    start = time.perf_counter()
    visible = model.sample(int(n_samples), n_steps=int(n_steps), rng=rng, init=start_rows)
    seconds = time.perf_counter() - start
    spins = visible_to_spins(np.rint(np.asarray(visible)).astype(np.uint8), L)
    provenance = sample_provenance(
        model_path, model, metadata,
        {"n_steps": int(n_steps), "init": init, "algorithm": "rbm-gibbs", "method": "gibbs"},
        command=command)
    target = _write_target(out)
    with output_lock(target) if lock else contextlib.nullcontext():
        write_generated(target, spins, T=T, source="rbm", provenance=provenance,
                        seed=int(seed), overwrite=overwrite)
    return SampleResult(spins=spins, path=Path(out), temperature=T, L=L, seed=int(seed),
                        provenance=provenance, seconds=seconds)
