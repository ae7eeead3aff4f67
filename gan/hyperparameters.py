"""The hyperparameters of :class:`gan.IsingGAN`: their names, checks and resume rule.

:data:`GAN_SETTINGS` holds the rule of each (``isingrbm gan fit`` builds its
options from it); :func:`check_params` validates the constructor's arguments
with it in the order of the signature (the first bad one is reported, in the
house message format of :mod:`mccore.validation`) and returns them
normalized; the meaning of each is documented on :class:`gan.IsingGAN`.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import seed_sequence
from mccore.validation import COUNT, Rule

from .losses import LOSSES
from .sampling import DRAWS, GENERATION_MODES
from .training import LR_SCHEDULES, TRAINING_OUTPUTS

__all__ = ["GAN_SETTINGS", "PARAMS", "RESUMABLE_CHANGES", "check_pack", "check_params"]

# The hyperparameters, in the order of get_params() (and of the model file's JSON).
PARAMS = ("L", "latent_dim", "channels", "n_layers", "n_epochs", "batch_size",
          "learning_rate_generator", "learning_rate_discriminator", "beta1", "beta2", "loss",
          "n_critic", "label_smoothing", "noise_channels", "gradient_penalty", "minibatch_std",
          "training_output", "generation", "symmetrize", "random_translation", "conditional",
          "snapshot_epochs", "n_snapshot", "ema_decay", "lr_schedule", "feature_matching",
          "bond_features", "head_hidden", "pack", "moment_matching", "distribution_matching",
          "matching_warmup", "draw", "n_threads", "rng")
# Hyperparameters that may change when training is resumed from a checkpoint;
# the rest define the model and its random streams and must match.
RESUMABLE_CHANGES = ("n_epochs", "snapshot_epochs", "n_threads")

#: The rules of the hyperparameters (all but ``rng``), in the order of the constructor's
#: signature; the rule of ``snapshot_epochs`` is that of each epoch. ``isingrbm gan
#: fit`` builds its options from this table. Light: nothing of torch is imported.
GAN_SETTINGS = {
    "L": Rule.integer(minimum=2),
    "latent_dim": COUNT,
    "noise_channels": Rule.integer(minimum=0),
    "channels": COUNT,
    "n_layers": COUNT,
    "n_epochs": COUNT,
    "batch_size": Rule.integer(minimum=2),
    "learning_rate_generator": Rule.number(0, 1, strict_min=True),
    "learning_rate_discriminator": Rule.number(0, 1, strict_min=True),
    "beta1": Rule.number(0, 1, strict_max=True),
    "beta2": Rule.number(0, 1, strict_max=True),
    "loss": Rule.choice(LOSSES),
    "n_critic": COUNT,
    "label_smoothing": Rule.number(0.5, 1, strict_min=True),
    "gradient_penalty": Rule.number(0, 1e6),
    "minibatch_std": Rule.boolean(),
    "training_output": Rule.choice(TRAINING_OUTPUTS),
    "generation": Rule.choice(GENERATION_MODES),
    "symmetrize": Rule.boolean(),
    "random_translation": Rule.boolean(),
    "conditional": Rule.boolean(),
    "snapshot_epochs": COUNT,
    "n_snapshot": COUNT,
    "ema_decay": Rule.number(0, 1, strict_max=True),
    "lr_schedule": Rule.choice(LR_SCHEDULES),
    "feature_matching": Rule.number(0, 1e6),
    "bond_features": Rule.boolean(),
    "head_hidden": Rule.integer(minimum=0),
    "pack": Rule.integer(1, 8),
    "moment_matching": Rule.number(0, 1e6),
    "distribution_matching": Rule.number(0, 1e6),
    "matching_warmup": Rule.number(0, 1e4),
    "draw": Rule.choice(DRAWS),
    "n_threads": Rule.integer(minimum=1, optional=True),
}


def _check_rng_type(rng):
    """Refuse what :func:`mccore.rng.seed_sequence` refuses, without drawing from ``rng``."""
    if rng is not None and not isinstance(rng, np.random.Generator):
        seed_sequence(rng)          # an int or a SeedSequence: checked, nothing drawn
    return rng


def check_params(p: dict, *, partial: bool = False) -> dict:
    """The constructor arguments ``p`` (a dict by name) checked by the rules of
    :data:`GAN_SETTINGS` and normalized, then the rules across them
    (``batch_size`` a multiple of ``pack``). ``partial``: ``p`` may lack some
    (a command line checks its flags before it knows ``L``); those are left out.

    Raises
    ------
    InvalidParameterError
        The first argument (in signature order) that is out of range.
    """
    out = {}
    for name, rule in GAN_SETTINGS.items():
        if partial and name not in p:
            continue
        if name != "snapshot_epochs":
            out[name] = rule.check(name, p[name])
            continue
        try:
            out[name] = tuple(sorted({rule.check("snapshot_epochs", e) for e in p[name]}))
        except TypeError:
            raise InvalidParameterError(f"snapshot_epochs must be a sequence of integers "
                                        f"{rule.allowed}, got {p[name]!r}") from None
    if "batch_size" in out and "pack" in out:
        check_pack(out["batch_size"], out["pack"])
    if not partial or "rng" in p:
        out["rng"] = _check_rng_type(p["rng"])
    return out


def check_pack(batch_size: int, pack: int) -> None:
    """Refuse a minibatch that is not whole packs of the discriminator."""
    if batch_size % pack:
        raise InvalidParameterError(f"batch_size must be a multiple of pack = {pack}, "
                                    f"got {batch_size}")
