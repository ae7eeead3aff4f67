"""Demo stage 4: the GAN baseline per phase, fitted and sampled (when PyTorch is installed).

Through :mod:`isingrbm.pipeline` (:func:`~isingrbm.pipeline.fit_gan`,
:func:`~isingrbm.pipeline.sample_gan`), the code of ``isingrbm gan fit``
and ``isingrbm gan sample``. Writes ``models/gan_<phase>.pt`` and
``datasets/gan_<phase>.h5``; an intact model trained on exactly this data
and an intact sample drawn from exactly that model (by their SHA-256) are
reused, an interrupted fit continues from its checkpoint.
"""

from __future__ import annotations

import time

from ising.phases import PHASES

from .. import pipeline
from ._util import attrs, valid_file
from .stage_rbm import CHECKPOINT_EVERY

__all__ = ["run"]


def _reusable_model(ctx, path, data_sha256: str) -> bool:
    import gan

    if not (path.exists() and ctx.intact(path) and valid_file(path, gan.IsingGAN.load)):
        return False
    return (gan.IsingGAN.load(path).metadata_ or {}).get("data_sha256") == data_sha256


def run(ctx):
    if not ctx.use_gan:
        ctx.log(f"  skipped: {ctx.gan_reason}")
        return [], {"skipped": ctx.gan_reason}
    import gan
    import ising

    cfg, paths = ctx.config, ctx.paths
    data_sha256 = pipeline.file_hash(paths.monte_carlo)
    settings = {"batch_size": 32, **cfg.gan}
    outputs, summary = [], {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        model_path, sample_path = paths.model("gan", phase), paths.generated("gan", phase)
        start = time.perf_counter()
        reused = _reusable_model(ctx, model_path, data_sha256)
        if not reused:
            _, ensembles = pipeline.gan_training_data(paths.monte_carlo, temperature=T)
            checkpoint = pipeline.checkpoint_path(model_path)
            if checkpoint.exists():
                ctx.log(f"  {phase} (T = {T:g}): resuming GAN training from "
                        f"{paths.relative(checkpoint)}")
            fitted = pipeline.fit_gan(paths.monte_carlo, cfg.L, ensembles, settings,
                                      out=model_path, seed=ctx.seed_for("gan", item),
                                      resume=True, progress=ctx.progress,
                                      checkpoint_every=CHECKPOINT_EVERY)
            if fitted.interrupted:
                raise KeyboardInterrupt   # the checkpoint is kept; a rerun continues it
            fitted.checkpoint.unlink(missing_ok=True)
            ctx.log(f"  {phase} (T = {T:g}): GAN fitted in {time.perf_counter() - start:.1f} s "
                    f"({cfg.gan['n_epochs']} epochs, a short training)")
        model_hash = pipeline.file_hash(model_path)
        sample_ok = (sample_path.exists() and ctx.intact(sample_path)
                     and valid_file(sample_path, ising.load)
                     and attrs(sample_path).get("model_sha256") == model_hash)
        if not sample_ok:
            pipeline.sample_gan(model_path, n_samples=cfg.n_generated, out=sample_path,
                                seed=ctx.seed_for("gan", 100 + item), overwrite=True,
                                model=gan.IsingGAN.load(model_path))
        outputs += [model_path, sample_path]
        summary[phase] = ctx.item(phase, start, reused and sample_ok, temperature=T)
    return outputs, summary
