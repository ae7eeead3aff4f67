"""The fit -> sample -> evaluate pipeline of the application, written once.

``isingrbm fit``, ``isingrbm sample``, ``isingrbm gan fit|sample``,
``isingrbm evaluate``, the demo and the report all go through these
functions, so a model or a sample file carries the same provenance whichever
of them wrote it, and a model the demo trained is reproduced exactly by
``isingrbm fit`` with the seed recorded in it.

One module per job; every public name is importable from
``isingrbm.pipeline`` itself:

- :mod:`~isingrbm.pipeline.provenance`: file hashes, the provenance of
  model files and generated datasets, JSON result files, checkpoint paths
  and the resume seed;
- :mod:`~isingrbm.pipeline.rbm_steps`: the RBM's training data, fit and
  sampling (:func:`fit_rbm`, :func:`sample_rbm`);
- :mod:`~isingrbm.pipeline.gan_steps`: the GAN's (:func:`fit_gan`,
  :func:`sample_gan`; PyTorch imported only when called);
- :mod:`~isingrbm.pipeline.evaluation`: generated data against Monte Carlo
  and exact results (:func:`evaluate_datasets`, :func:`monte_carlo_rows`).

Conventions: k_B = J = 1, observables per spin, periodic L x L lattice.
"""

from __future__ import annotations

from mccore.rng import resolve_seed

from .evaluation import evaluate_datasets, match_temperatures, model_free_energy, monte_carlo_rows
from .gan_steps import (GanFitResult, GanSampleResult, fit_gan, gan_health,
                        gan_sample_temperatures, gan_seed, gan_training_data, sample_gan)
from .provenance import (ENCODING, check_disk_space, checkpoint_path, file_hash, fit_provenance,
                         jsonable, read_json, resume_seed, sample_provenance, write_json)
from .rbm_steps import (FitResult, SampleResult, fit_rbm, initial_units, load_sampler,
                        sample_rbm, sample_temperature, training_data, training_units)

__all__ = [
    "ENCODING",
    "FitResult",
    "GanFitResult",
    "GanSampleResult",
    "SampleResult",
    "check_disk_space",
    "checkpoint_path",
    "evaluate_datasets",
    "file_hash",
    "fit_gan",
    "fit_provenance",
    "fit_rbm",
    "gan_health",
    "gan_sample_temperatures",
    "gan_seed",
    "gan_training_data",
    "initial_units",
    "jsonable",
    "load_sampler",
    "match_temperatures",
    "model_free_energy",
    "monte_carlo_rows",
    "read_json",
    "resolve_seed",
    "resume_seed",
    "sample_gan",
    "sample_provenance",
    "sample_rbm",
    "sample_temperature",
    "training_data",
    "training_units",
    "write_json",
]
