"""The fit -> sample -> evaluate pipeline of the application, written once.

``isingrbm fit``, ``isingrbm sample``, ``isingrbm evaluate``, the demo and
the report all go through these functions, so a model or a sample file
carries the same provenance whichever of them wrote it, and a model the
demo trained is reproduced exactly by ``isingrbm fit`` with the seed
recorded in it.

Steps
-----
1. :func:`training_data` picks the Monte Carlo ensemble of one temperature
   (or phase) of a dataset file; :func:`fit_rbm` trains a
   :class:`rbm.BernoulliRBM` on its visible units ``v = (s + 1) / 2``
   (row-major) and writes the model file with :func:`fit_provenance`.
2. :func:`sample_rbm` draws independent configurations from a model file
   (each the end of its own block-Gibbs chain) and writes them in the
   dataset schema with :func:`sample_provenance`.
3. :func:`evaluate_datasets` matches generated files to the Monte Carlo data
   by temperature and tabulates :func:`isingrbm.evaluate.compare`;
   :func:`monte_carlo_rows` tabulates the Monte Carlo data alone against
   the exact results.

Provenance vocabulary (attrs of model files and generated datasets, keys of
the JSON results): ``data_file`` (resolved path of the Monte Carlo dataset),
``data_group``, ``data_hash`` (:func:`rbm.bernoulli.data_hash` of the
training units), ``temperature``, ``beta``, ``phase``, ``L``, ``n_samples``,
``model_file``, ``model_hash`` (SHA-256 of the model file), ``seed`` (the
integer seed that reproduces the step), ``command``, ``software_version``.

Conventions: k_B = J = 1, observables per spin, periodic L x L lattice.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError
from mccore.files import atomic_path, output_lock
from mccore.rng import fresh_seed, recorded_seed, resolve_seed, seed_sequence, stream  # noqa: F401 - resolve_seed re-exported
from mccore.version import software_version

__all__ = [
    "ENCODING",
    "FitResult",
    "SampleResult",
    "checkpoint_path",
    "evaluate_datasets",
    "file_hash",
    "fit_provenance",
    "fit_rbm",
    "initial_units",
    "load_sampler",
    "match_temperatures",
    "monte_carlo_rows",
    "resolve_seed",
    "resume_seed",
    "sample_provenance",
    "sample_rbm",
    "sample_temperature",
    "training_data",
    "training_units",
]

#: How spins become RBM visible units (recorded in every model file).
ENCODING = "v = (s + 1) / 2, row-major"

#: Stream key (under the fit seed) of the random symmetry images.
_IMAGES_KEY = 1


def file_hash(path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checkpoint_path(out) -> Path:
    """Where an unfinished fit keeps its training state: ``MODEL.checkpoint``."""
    out = Path(out)
    return out.with_name(out.name + ".checkpoint")


# --------------------------------------------------------------------------
# JSON result files


def jsonable(obj):
    """``obj`` as plain JSON types: Estimates via ``to_dict``, arrays as lists, NaN/inf as None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return obj


def write_json(path: Path, obj) -> None:
    """Write a JSON result file atomically (temp file + os.replace); NaN/inf become null."""
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(jsonable(obj), fh, indent=1, allow_nan=False)
        fh.write("\n")


def read_json(path) -> dict:
    """Read a JSON result file; FileFormatError naming the file if it is not JSON."""
    path = Path(path)
    try:
        with open(path) as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: not a valid JSON file ({exc})") from None


# --------------------------------------------------------------------------
# step 1: fit


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


def fit_provenance(data_path, ensemble, X, *, seed: int, augment: int = 1,
                   command: str = "isingrbm fit", seconds: float | None = None) -> dict:
    """The metadata of a model file: where its data came from and how it was trained.

    ``software_version`` is not among them: :func:`rbm.save` records it at the
    file's root.
    """
    from rbm.bernoulli import data_hash

    metadata = {
        "data_file": str(Path(data_path).resolve()),
        "data_group": ensemble.key,
        "temperature": float(ensemble.T),
        "beta": float(ensemble.beta),
        "phase": ensemble.phase,
        "L": int(ensemble.L),
        "n_samples": int(ensemble.n_samples),
        "data_hash": data_hash(X),
        "symmetry_images": int(augment),
        "encoding": ENCODING,
        "seed": int(seed),
        "command": command,
    }
    # the model file's root records software_version itself (rbm.save)
    if seconds is not None:
        metadata["training_seconds"] = round(float(seconds), 3)
    return metadata


def resume_seed(checkpoint, seed: int | None) -> int | None:
    """The seed of an interrupted fit, from its checkpoint (it governs a resume).

    Returns ``seed`` when the checkpoint records none.

    Raises
    ------
    InvalidParameterError
        ``seed`` is given and differs from the checkpoint's.
    """
    import rbm

    previous = (getattr(rbm.load(checkpoint), "metadata_", None) or {}).get("seed")
    if previous is None:
        return seed
    if seed is not None and int(seed) != int(previous):
        raise InvalidParameterError(
            f"--seed must match the interrupted run's seed {previous} to resume, got {seed}")
    return int(previous)


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


# --------------------------------------------------------------------------
# step 2: sample


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


def sample_provenance(model_path, model, metadata: dict, details: dict, *,
                      command: str = "isingrbm sample") -> dict:
    """The attrs of a generated dataset: the model it came from and that model's data.

    ``details`` says how the samples were drawn (plain Gibbs chains:
    ``n_steps``, ``init``, ``algorithm="rbm-gibbs"``; exact sampling: its
    own acceptance and thinning records).
    """
    return {
        "model_file": str(Path(model_path).resolve()),
        "model_hash": file_hash(model_path),
        "model_kind": "bernoulli",
        "n_hidden": int(model.n_hidden),
        **details,
        "data_file": str(metadata.get("data_file", "")),
        "data_hash": str(metadata.get("data_hash", "")),
        "training_phase": str(metadata.get("phase", "")),
        "command": command,
        "software_version": software_version(),
    }


def _write_target(out) -> Path:
    """The file an output path writes: a symlink is written through (the link stays)."""
    out = Path(out)
    return Path(os.path.realpath(out)) if out.is_symlink() else out


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
    rng = np.random.default_rng(int(seed))
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


# --------------------------------------------------------------------------
# step 3: evaluate


def monte_carlo_rows(dataset) -> list[dict]:
    """Observables of every temperature of a Monte Carlo dataset, with exact values.

    Returns
    -------
    list of dict
        Per temperature (ascending): ``temperature``, ``phase``, ``key``,
        ``n_samples``, ``algorithm``, ``observables`` {name: Estimate dict}
        (per spin, blocking errors), ``exact_finite`` (``energy``,
        ``specific_heat`` of the L x L torus, Kaufman), ``exact_infinite``
        (Onsager's ``energy`` and ``specific_heat``, None at T_c; Yang's
        ``abs_magnetization``).
    """
    from ising import exact

    rows = []
    for ens in sorted(dataset.ensembles, key=lambda e: e.T):
        obs = ens.observables()
        finite = exact.finite_lattice(dataset.L, ens.T)
        rows.append({
            "temperature": float(ens.T), "phase": ens.phase, "key": ens.key,
            "n_samples": len(ens.energy),
            "algorithm": ens.attrs.get("algorithm"),
            "observables": {name: est.to_dict() for name, est in obs.items()},
            "exact_finite": {"energy": float(finite["energy"]),
                             "specific_heat": float(finite["specific_heat"])},
            "exact_infinite": {
                "energy": float(exact.onsager_energy(ens.T)),
                "specific_heat": (float(exact.onsager_specific_heat(ens.T))
                                  if abs(ens.T - exact.T_C) > 1e-9 else None),
                "abs_magnetization": float(exact.spontaneous_magnetization(ens.T))},
        })
    return rows


def match_temperatures(data, generated: dict) -> dict:
    """Pair generated ensembles with the Monte Carlo temperature they stand for.

    Parameters
    ----------
    data : ising IsingDataset
        The Monte Carlo data.
    generated : dict[str, IsingDataset]
        Column label -> generated dataset (same L).

    Returns
    -------
    dict
        ``T -> {label: Ensemble}`` for the data's temperatures T (matched
        within 1e-6, the generated ensembles relabelled with the data's
        exact T); every temperature of ``data`` with an empty dict when
        ``generated`` is empty.

    Raises
    ------
    InvalidParameterError
        A generated file has another L or a temperature the data lacks.
    """
    import dataclasses

    per_T: dict = {}
    for label, g in generated.items():
        if g.L != data.L:
            raise InvalidParameterError(
                f"{_name(g)}: L = {g.L} does not match L = {data.L} of {_name(data)}")
        for ens in g.ensembles:
            try:
                ref = data.ensemble(ens.T, tol=1e-6)
            except InvalidParameterError:
                available = ", ".join(f"{t:g}" for t in data.temperatures) or "none"
                raise InvalidParameterError(
                    f"{_name(g)}: T = {ens.T:g} is not in {_name(data)} "
                    f"(available: {available})") from None
            if ens.T != ref.T:
                ens = dataclasses.replace(ens, T=ref.T, beta=ref.beta)
            per_T.setdefault(ref.T, {})[label] = ens
    if not generated:
        per_T = {T: {} for T in data.temperatures}
    return dict(sorted(per_T.items()))


def _name(dataset) -> str:
    path = getattr(dataset, "path", None)
    return Path(path).name if path is not None else "dataset"


def model_free_energy(attrs: dict, log=None):
    """The generating RBM's free energy F(V), if its model file is still there unchanged.

    Read from a generated ensemble's provenance (``model_file``,
    ``model_hash``); None (with a line to ``log``) when the file is missing,
    changed since sampling, or unreadable.
    """
    model_file, model_hash = attrs.get("model_file"), attrs.get("model_hash")
    if not model_file or not model_hash or attrs.get("model_kind", "bernoulli") != "bernoulli":
        return None
    path = Path(str(model_file))
    log = log or (lambda message: None)
    if not path.is_file():
        log(f"model file {path} not found; skipping the model's own P(m>0)")
        return None
    if file_hash(path) != model_hash:
        log(f"model file {path} changed since sampling (hash differs); skipping the model's "
            "own P(m>0)")
        return None
    import rbm
    try:
        model = rbm.load(path)
    except (OSError, ValueError) as exc:
        log(f"cannot read {path} ({exc}); skipping the model's own P(m>0)")
        return None
    return model.free_energy


def evaluate_datasets(data, generated: dict, *, seed: int | None = None,
                      free_energies: bool = True, log=None) -> dict:
    """The comparison tables of generated datasets against Monte Carlo and exact.

    Parameters
    ----------
    data : ising IsingDataset
        Monte Carlo data (source ``"monte-carlo"``).
    generated : dict[str, IsingDataset]
        Column label -> generated dataset; matched by temperature
        (:func:`match_temperatures`).
    seed : int or None
        Seed of the noise-level replicas (None: fresh entropy); temperature
        T uses the stream keyed by its value under it.
    free_energies : bool
        Add each RBM's own weight of the m > 0 mode when its model file is
        at hand (:func:`model_free_energy`).
    log : callable, optional
        Receives a line per skipped model.

    Returns
    -------
    dict
        ``seed`` (recorded), ``tables``: one :func:`isingrbm.evaluate.compare`
        table per matched temperature (ascending).
    """
    from ising.store import DATA_SOURCES
    from isingrbm import evaluate
    from mccore.rng import child, temperature_key

    if data.source not in DATA_SOURCES:
        raise InvalidParameterError(
            f"DATA must be a Monte Carlo dataset (source 'monte-carlo' or 'imported'), "
            f"{_name(data)} has source {data.source!r}")
    seed = resolve_seed(seed)
    tables = []
    for T, gens in match_temperatures(data, generated).items():
        reference = data.ensemble(T, tol=1e-6)
        energies = {}
        if free_energies:
            for label, ens in gens.items():
                free_energy = model_free_energy(
                    ens.attrs, log=(lambda m, label=label: log and log(f"{label}: {m}")))
                if free_energy is not None:
                    energies[label] = free_energy
        tables.append(evaluate.compare(reference, gens, exact=True,
                                       rng=child(seed, temperature_key(T)),
                                       free_energies=energies))
    return {"seed": seed, "tables": tables}
