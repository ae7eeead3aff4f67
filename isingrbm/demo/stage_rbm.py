"""Demo stage 2: an RBM per phase, fitted and sampled (Gibbs, approximate).

Through :mod:`isingrbm.pipeline`, the code of ``isingrbm fit`` and
``isingrbm sample``: each model file records the seed with which
``isingrbm fit`` reproduces it. Writes ``models/rbm_<phase>.h5`` and
``datasets/rbm_<phase>.h5``; an intact model trained on exactly this data
and an intact sample drawn from exactly this model are reused.
"""

from __future__ import annotations

import time
from pathlib import Path

from ising.phases import PHASES

from .. import pipeline
from ._util import attrs, valid_file

__all__ = ["CHECKPOINT_EVERY", "run"]

CHECKPOINT_EVERY = 5  # epochs between RBM training checkpoints


def _reusable_model(ctx, path: Path, data_hash: str) -> bool:
    """An intact RBM model file trained on exactly this data."""
    import rbm

    if not (path.exists() and ctx.intact(path) and valid_file(path, rbm.load)):
        return False
    return (rbm.load(path).metadata_ or {}).get("data_hash") == data_hash


def reusable_sample(ctx, path: Path, model_path: Path) -> bool:
    """An intact sample file drawn from exactly this model file (by its SHA-256)."""
    import ising

    if not (path.exists() and ctx.intact(path) and valid_file(path, ising.load)):
        return False
    return attrs(path).get("model_hash") == pipeline.file_hash(model_path)


def run(ctx):
    from ising.lattice import spins_to_visible
    from rbm.bernoulli import data_hash

    cfg, paths = ctx.config, ctx.paths
    outputs, summary = [], {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        model_path, sample_path = paths.model("rbm", phase), paths.generated("rbm", phase)
        start = time.perf_counter()
        _, ens = pipeline.training_data(paths.monte_carlo, temperature=T)
        reused = _reusable_model(ctx, model_path, data_hash(spins_to_visible(ens.spins)))
        if reused:
            ctx.log(f"  {phase} (T = {T:g}): model {paths.relative(model_path)} reused")
        else:
            checkpoint = pipeline.checkpoint_path(model_path)
            if checkpoint.exists():
                ctx.log(f"  {phase} (T = {T:g}): resuming training from "
                        f"{paths.relative(checkpoint)}")
            fitted = pipeline.fit_rbm(paths.monte_carlo, ens, cfg.rbm[phase], out=model_path,
                                      seed=ctx.seed_for("rbm", item), resume=True,
                                      progress=ctx.progress, checkpoint_every=CHECKPOINT_EVERY,
                                      command="isingrbm demo")
            if fitted.interrupted:
                raise KeyboardInterrupt   # the checkpoint is kept; a rerun continues it
            ctx.log(f"  {phase} (T = {T:g}): RBM with {fitted.model.n_hidden} hidden units "
                    f"fitted in {fitted.seconds:.1f} s")
        reused_sample = reusable_sample(ctx, sample_path, model_path)
        if not reused_sample:
            pipeline.sample_rbm(model_path, n_samples=cfg.n_generated, out=sample_path,
                                seed=ctx.seed_for("rbm", 100 + item),
                                n_steps=cfg.gibbs_steps, overwrite=True,
                                command="isingrbm demo")
        outputs += [model_path, sample_path]
        summary[phase] = ctx.item(phase, start, reused and reused_sample, temperature=T)
    return outputs, summary
