"""Demo stage 4: the GAN baseline per phase, fitted and sampled (when PyTorch is installed).

Writes ``models/gan_<phase>.pt`` and ``datasets/gan_<phase>.h5``; an intact
model and an intact sample drawn from exactly that model are reused, an
interrupted fit continues from its checkpoint.
"""

from __future__ import annotations

import time

from ising.phases import PHASES
from mccore.files import atomic_path
from mccore.version import software_version

from .. import pipeline
from ._util import attrs, valid_file
from .stage_rbm import CHECKPOINT_EVERY

__all__ = ["run"]


def run(ctx):
    if not ctx.use_gan:
        ctx.log(f"  skipped: {ctx.gan_reason}")
        return [], {"skipped": ctx.gan_reason}
    import gan
    import ising

    cfg, paths = ctx.config, ctx.paths
    data = ising.load(paths.monte_carlo)
    outputs, summary = [], {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        model_path, sample_path = paths.model("gan", phase), paths.generated("gan", phase)
        start = time.perf_counter()
        reused = model_path.exists() and ctx.intact(model_path) and valid_file(
            model_path, gan.IsingGAN.load)
        if reused:
            model = gan.IsingGAN.load(model_path)
        else:
            ens = data.ensemble(T)
            seed = ctx.seed_for("gan", item)
            model = gan.IsingGAN(cfg.L, rng=seed, **cfg.gan)
            checkpoint = model_path.with_name(f"{model_path.stem}.checkpoint.pt")
            if checkpoint.exists():
                ctx.log(f"  {phase} (T = {T:g}): resuming GAN training from "
                        f"{paths.relative(checkpoint)}")
            model.fit(ens.spins, progress=ctx.progress, checkpoint=checkpoint,
                      checkpoint_every=CHECKPOINT_EVERY, resume=checkpoint.exists())
            if getattr(model, "interrupted_", False):
                raise KeyboardInterrupt   # the checkpoint is kept; a rerun continues it
            metadata = {"data_file": str(paths.monte_carlo.resolve()), "temperature": float(T),
                        "phase": phase, "data_group": ens.key, "seed": seed,
                        "command": "isingrbm demo", "software_version": software_version()}
            with atomic_path(model_path, create=False) as tmp:
                model.save(tmp, metadata=metadata)
            checkpoint.unlink(missing_ok=True)
            ctx.log(f"  {phase} (T = {T:g}): GAN fitted in {time.perf_counter() - start:.1f} s")
        model_hash = pipeline.file_hash(model_path)
        sample_ok = (sample_path.exists() and ctx.intact(sample_path)
                     and valid_file(sample_path, ising.load)
                     and attrs(sample_path).get("model_hash") == model_hash)
        if not sample_ok:
            seed = ctx.seed_for("gan", 100 + item)
            spins = model.sample(cfg.n_generated, rng=seed)
            provenance = {"model_file": str(model_path.resolve()), "model_hash": model_hash,
                          "model_kind": "gan",
                          "data_file": str(paths.monte_carlo.resolve()),
                          "training_phase": phase, "command": "isingrbm demo",
                          "software_version": software_version()}
            # write_generated writes a temporary file and moves it into place
            ising.write_generated(sample_path, spins, T=T, source="gan", provenance=provenance,
                                  seed=seed, overwrite=True)
        outputs += [model_path, sample_path]
        summary[phase] = ctx.item(phase, start, reused and sample_ok, temperature=T)
    return outputs, summary
