"""The GAN steps of the pipeline: training data, fit, sample (needs the ``gan`` extra).

The same path as the RBM's (:mod:`isingrbm.pipeline.rbm_steps`): the model
file is written atomically (a symlink written through), its checkpoint is
:func:`mccore.training.checkpoint_path` of it, an interrupted run resumes
under the seed its checkpoint records (:func:`gan_seed`), and every writer
holds the output lock of its file (and of the checkpoint) for the whole run.

1. :func:`gan_training_data` picks the Monte Carlo ensembles of one
   temperature, or of every temperature for a temperature-conditioned GAN;
   :func:`fit_gan` trains :class:`gan.IsingGAN` on their spins and writes the
   model file with its provenance (``data``, ``data_sha256``,
   ``n_training``, ``T`` / ``group`` / ``phase`` or ``temperatures`` /
   ``groups``).
2. :func:`sample_gan` draws configurations (one stream per temperature,
   keyed by its value) into a dataset file of source ``"gan"`` with the
   model file, its SHA-256 and the training data as provenance.

Conventions: k_B = J = 1, spins in {-1, +1} on the periodic L x L lattice.
"""

from __future__ import annotations

import contextlib
import errno
from dataclasses import dataclass, field
from pathlib import Path

from mccore import training
from mccore.errors import InvalidParameterError, OutputExistsError
from mccore.files import atomic_path, output_lock
from mccore.rng import child, resolve_seed, temperature_key

from .provenance import _write_target, check_disk_space, checkpoint_path, file_hash

__all__ = ["GanFitResult", "GanSampleResult", "fit_gan", "gan_health", "gan_sample_temperatures",
           "gan_seed", "gan_training_data", "sample_gan"]


def gan_training_data(data_path, *, temperature: float | None = None,
                      all_temperatures: bool = False):
    """The Monte Carlo ensembles a GAN trains on: ``(dataset, ensembles)``.

    ``temperature``: one temperature of the file (matched within 1e-6);
    ``all_temperatures``: every temperature (at least 2), for a
    temperature-conditioned GAN.

    Raises
    ------
    InvalidParameterError
        Not a Monte Carlo dataset, no such temperature, fewer than 2
        temperatures (conditioned) or fewer than 2 samples at one.
    """
    import ising

    data_path = Path(data_path)
    dataset = ising.load(data_path)
    if dataset.source not in ising.store.DATA_SOURCES:
        raise InvalidParameterError(
            f"DATA must be a Monte Carlo dataset (source 'monte-carlo' or 'imported'), "
            f"{data_path.name} has source {dataset.source!r}")
    if all_temperatures:
        ensembles = list(dataset.ensembles)
        if len(ensembles) < 2:
            raise InvalidParameterError(
                f"--all-temperatures needs at least 2 temperatures in {data_path.name}, "
                f"it has {len(ensembles)}")
    else:
        ensembles = [dataset.ensemble(temperature, tol=1e-6)]
    for ens in ensembles:
        if ens.n_samples < 2:
            raise InvalidParameterError(f"DATA must hold at least 2 samples at T = "
                                        f"{ens.T:g}, got {ens.n_samples}")
    return dataset, ensembles


def gan_seed(checkpoint, seed: int | None, *, resume: bool) -> int:
    """The seed of a GAN fit: the interrupted run's when resuming from ``checkpoint``.

    :func:`mccore.training.resume_seed` refuses a different ``seed``; without
    a checkpoint to resume, ``seed`` is resolved (None: fresh entropy).
    """
    if resume and Path(checkpoint).exists():
        import gan

        seed = training.resume_seed(gan.IsingGAN.load(checkpoint).seed_, seed)
    return resolve_seed(seed)


@dataclass
class GanFitResult:
    """A trained GAN: the model, its file, checkpoint and seed.

    ``interrupted``: Ctrl-C or SIGTERM stopped training; nothing was written
    to ``path``, the checkpoint of the last completed epoch is kept.
    """

    model: object
    path: Path
    checkpoint: Path
    seed: int
    interrupted: bool = False


def fit_gan(data_path, L: int, ensembles, settings: dict, *, out, seed: int,
            resume: bool = False, overwrite: bool = False, progress: bool = False,
            checkpoint_every: int = 5, lock: bool = True, on_start=None) -> GanFitResult:
    """Train :class:`gan.IsingGAN` on ``ensembles`` and write it (atomically) to ``out``.

    Parameters
    ----------
    data_path : path-like
        The dataset the ensembles come from (recorded with its SHA-256).
    L : int
        Lattice size.
    ensembles : list of ising Ensemble
        From :func:`gan_training_data`; several make a conditioned GAN
        (``settings["conditional"]`` must say so).
    settings : dict
        Keyword arguments of :class:`gan.IsingGAN`; a ``batch_size`` larger
        than the data is clipped (to whole packs).
    out : path-like
        Model file, checked by the caller; the checkpoint is
        :func:`checkpoint_path` ``(out)``, kept after training.
    seed : int
        From :func:`gan_seed`; recorded in the model.
    resume : bool
        Continue from the checkpoint if there is one.
    overwrite : bool
        Without ``resume``: remove an existing checkpoint first.
    lock : bool
        Hold the output locks of ``out`` and the checkpoint for the run
        (False: the caller holds them).
    on_start : callable, optional
        ``on_start(model, spins)`` is called under the locks just before
        training (e.g. to print what is trained).
    """
    import gan
    import numpy as np

    out = Path(out)
    ckpt = checkpoint_path(out)
    settings = dict(settings)
    # the batch never exceeds the data (a larger batch is clipped)
    n_total = sum(ens.n_samples for ens in ensembles)
    batch = max(2, min(settings["batch_size"], n_total))
    if batch < settings["batch_size"]:  # clipped: whole packs only
        pack = int(settings.get("pack", 1))
        batch = max(pack, batch - batch % pack)
    settings["batch_size"] = batch
    model = gan.IsingGAN(L, **settings, rng=seed)
    model.check_memory()
    spins = np.concatenate([ens.spins for ens in ensembles])
    temps = None
    if model.conditional:
        temps = np.concatenate([np.full(ens.n_samples, float(ens.T)) for ens in ensembles])
    model.metadata_ = {"data": str(data_path), "data_sha256": file_hash(data_path),
                       "n_training": int(spins.shape[0])}
    if model.conditional:
        model.metadata_.update({"T": None, "temperatures": [float(e.T) for e in ensembles],
                                "groups": [e.key for e in ensembles]})
    else:
        ens = ensembles[0]
        model.metadata_.update({"T": float(ens.T), "group": ens.key, "phase": ens.phase})
    locks = contextlib.ExitStack()
    if lock:
        locks.enter_context(output_lock(_write_target(out)))
        locks.enter_context(output_lock(ckpt))
    with locks:
        if overwrite and not resume and ckpt.exists():
            ckpt.unlink()
        if on_start is not None:
            on_start(model, spins)
        model.fit(spins, temps, progress=progress, checkpoint=ckpt,
                  checkpoint_every=checkpoint_every, resume=resume)
        if model.interrupted_:       # Ctrl-C or SIGTERM: the last completed epoch is kept
            return GanFitResult(model=model, path=out, checkpoint=ckpt, seed=int(seed),
                                interrupted=True)
        with atomic_path(_write_target(out)) as tmp:
            model.save(tmp, overwrite=True)
    return GanFitResult(model=model, path=out, checkpoint=ckpt, seed=int(seed))


#: configurations generated per temperature by :func:`gan_health`
HEALTH_SAMPLES = 1000
#: the stream key of :func:`gan_health`'s draws under the run's seed (no other stream uses it)
HEALTH_KEY = 4_736_102
#: a mean energy this many training standard deviations away ...
HEALTH_SIGMAS = 5.0
#: ... and this far relative to the training mean is a failed generator
HEALTH_RELATIVE = 0.10


def gan_health(model, ensembles, seed: int) -> list:
    """The gross failures of a trained generator, as sentences (empty: none found).

    ``HEALTH_SAMPLES`` configurations are generated at each training
    temperature (their own stream, so nothing else the run draws changes) and
    compared with the training set. A failure is what no usable model shows:

    * the mean energy per spin more than ``HEALTH_SIGMAS`` standard deviations
      of the training set's per-configuration energy away from its mean and
      more than ``HEALTH_RELATIVE`` of it: a generator that ended in noise
      (the mean energy near 0) or froze into the ordered lattice above T_c;
    * a single configuration repeated, where the training set has several
      (complete mode collapse).

    The finer accuracy (observables with error bars, histogram distances)
    is :mod:`isingrbm.evaluate`'s job; this is the run's own health check.
    Convention: E = -sum over the 2N bonds, per spin, k_B = J = 1.
    """
    import numpy as np
    from gan.diagnostics import distinct_configurations
    from ising import energy_magnetization

    problems = []
    for i, ens in enumerate(ensembles):
        T = float(ens.T) if model.conditional else None
        spins = model.sample(HEALTH_SAMPLES, rng=child(seed, HEALTH_KEY, i), temperature=T)
        n_sites = spins.shape[1] * spins.shape[2]
        e_gen = energy_magnetization(spins)[0] / n_sites
        e_train = energy_magnetization(ens.spins)[0] / n_sites
        # one flip changes e by at least 8 / N: the floor of a frozen training set's spread
        spread = max(float(e_train.std()), 8.0 / n_sites)
        shift = abs(float(e_gen.mean() - e_train.mean()))
        if (shift > HEALTH_SIGMAS * spread
                and shift > HEALTH_RELATIVE * abs(float(e_train.mean()))):
            problems.append(
                f"at T = {float(ens.T):g} the generated mean energy per spin "
                f"{e_gen.mean():.4f} is {shift / spread:.0f} standard deviations from the "
                f"training set's {e_train.mean():.4f}")
        if (distinct_configurations(spins) == 1
                and distinct_configurations(ens.spins) > 1):
            problems.append(f"at T = {float(ens.T):g} every generated configuration is the "
                            f"same (mode collapse)")
    return problems


def gan_sample_temperatures(model, model_path, temperatures=None) -> list:
    """The temperatures to generate at: given ones (conditioned) or the training one.

    Raises
    ------
    InvalidParameterError
        A conditioned model without ``temperatures`` or with one outside its
        range; an unconditioned model with ``temperatures`` or without a
        recorded training temperature.
    """
    name = Path(model_path).name
    if model.conditional:
        if temperatures is None:
            lo, hi = model.temperature_range_
            raise InvalidParameterError(
                f"--temperature is required for the temperature-conditioned model "
                f"{name} (trained on T in [{lo:g}, {hi:g}])")
        return sorted({model.check_temperature(t) for t in temperatures})
    if temperatures is not None:
        raise InvalidParameterError(
            f"--temperature is only for a temperature-conditioned model; {name} "
            f"was trained at T = {model.metadata_.get('T')}")
    T = model.metadata_.get("T")
    if T is None:
        raise InvalidParameterError(f"{model_path}: the model records no training "
                                    f"temperature; it was not written by 'isingrbm gan fit'")
    return [T]


@dataclass
class GanSampleResult:
    """Configurations drawn from a GAN and written as a dataset file."""

    path: Path
    temperatures: list
    L: int
    seed: int
    provenance: dict
    samples: dict = field(repr=False, default_factory=dict)


def sample_gan(model_path, *, n_samples: int, out, seed: int, temperatures=None,
               generation: str | None = None, overwrite: bool = False, lock: bool = True,
               model=None) -> GanSampleResult:
    """Draw ``n_samples`` configurations per temperature from a GAN model file into ``out``.

    Parameters
    ----------
    model_path : path-like
        A model file written by :func:`fit_gan` (``model``: it, already loaded).
    temperatures : list of float, optional
        For a temperature-conditioned model (one group per temperature);
        see :func:`gan_sample_temperatures`.
    seed : int
        Recorded; a conditioned model draws temperature T from the stream
        keyed by T's value under it.
    generation : {"bernoulli", "sign"}, optional
        Override the model's rule for drawing spins from its mean.
    overwrite : bool
        Replace an existing ``out`` (else OutputExistsError before any work).
    lock : bool
        Hold the output lock of ``out`` for the run (False: the caller does).

    Raises
    ------
    InvalidParameterError
        Bad temperatures, or not enough memory.
    OutputExistsError
        ``out`` exists and ``overwrite`` is False.
    ising.store.DiskFullError
        The file cannot fit (:func:`~isingrbm.pipeline.provenance.check_disk_space`,
        before drawing).
    OSError
        ENOSPC when the write fails for lack of space.
    """
    import gan
    import ising
    from mccore.validation import check_memory

    model_path = Path(model_path)
    if model is None:
        model = gan.IsingGAN.load(model_path)
    out = Path(out)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output {out} exists; pass overwrite=True to replace it")
    temps = gan_sample_temperatures(model, model_path, temperatures)
    n_sites = model.L * model.L
    n_total = n_samples * len(temps)
    # the spins, the sampler's working memory, and the writer's copies (energies, int8 rows)
    check_memory(f"--samples {n_samples}" + (f" at {len(temps)} temperatures"
                                             if len(temps) > 1 else ""),
                 model.sample_memory_estimate(n_total) + n_total * (n_sites + 32.0))
    check_disk_space(out, n_total, n_sites)
    provenance = {"model_file": str(model_path), "model_sha256": file_hash(model_path),
                  "generation": generation or model.generation,
                  "symmetrized": bool(model.symmetrize),
                  "conditional": bool(model.conditional),
                  "training_data": model.metadata_.get("data", ""),
                  "training_data_sha256": model.metadata_.get("data_sha256", ""),
                  "epochs": model.n_epochs_trained_}
    with output_lock(out) if lock else contextlib.nullcontext():
        samples = {}
        for T in temps:
            # one stream per temperature, keyed by its value (mccore.rng convention)
            rng = child(seed, temperature_key(T)) if model.conditional else seed
            samples[T] = model.sample(n_samples, rng=rng, mode=generation,
                                      temperature=T if model.conditional else None)
        try:
            with atomic_path(_write_target(out)) as tmp:
                for i, T in enumerate(temps):
                    ising.write_generated(tmp, samples[T], T=T, source="gan",
                                          provenance=provenance, seed=seed,
                                          overwrite=i == 0, append=i > 0)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc):
                raise OSError(errno.ENOSPC, "No space left on device", str(out)) from None
            raise
    return GanSampleResult(path=out, temperatures=temps, L=model.L, seed=int(seed),
                           provenance=provenance, samples=samples)
