"""The hyperparameters of :class:`gan.IsingGAN`: their names, checks and resume rule.

:func:`check_params` validates the constructor's arguments in the order of
the signature (the first bad one is reported, in the house message format
of :mod:`mccore.validation`) and returns them normalized; the meaning of
each is documented on :class:`gan.IsingGAN`.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import seed_sequence
from mccore.validation import check_bool, check_choice, check_float, check_int

from .losses import LOSSES
from .sampling import GENERATION_MODES
from .training import LR_SCHEDULES, TRAINING_OUTPUTS

__all__ = ["PARAMS", "RESUMABLE_CHANGES", "check_params"]

# The hyperparameters, in the order of get_params() (and of the model file's JSON).
PARAMS = ("L", "latent_dim", "channels", "n_layers", "n_epochs", "batch_size",
          "learning_rate_generator", "learning_rate_discriminator", "beta1", "beta2", "loss",
          "n_critic", "label_smoothing", "noise_channels", "gradient_penalty", "minibatch_std",
          "training_output", "generation", "symmetrize", "random_translation", "conditional",
          "snapshot_epochs", "n_snapshot", "ema_decay", "lr_schedule", "feature_matching",
          "bond_features", "head_hidden", "pack", "moment_matching", "n_threads", "rng")
# Hyperparameters that may change when training is resumed from a checkpoint;
# the rest define the model and its random streams and must match.
RESUMABLE_CHANGES = ("n_epochs", "snapshot_epochs", "n_threads")


def _check_rng_type(rng):
    """Refuse what :func:`mccore.rng.seed_sequence` refuses, without drawing from ``rng``."""
    if rng is not None and not isinstance(rng, np.random.Generator):
        seed_sequence(rng)          # an int or a SeedSequence: checked, nothing drawn
    return rng


def check_params(p: dict) -> dict:
    """The constructor arguments ``p`` (a dict by name) checked and normalized.

    Raises
    ------
    InvalidParameterError
        The first argument (in signature order) that is out of range.
    """
    out = {}
    out["L"] = check_int("L", p["L"], minimum=2)
    out["latent_dim"] = check_int("latent_dim", p["latent_dim"], minimum=1)
    out["noise_channels"] = check_int("noise_channels", p["noise_channels"], minimum=0)
    out["channels"] = check_int("channels", p["channels"], minimum=1)
    out["n_layers"] = check_int("n_layers", p["n_layers"], minimum=1)
    out["n_epochs"] = check_int("n_epochs", p["n_epochs"], minimum=1)
    out["batch_size"] = check_int("batch_size", p["batch_size"], minimum=2)
    for name in ("learning_rate_generator", "learning_rate_discriminator"):
        out[name] = check_float(name, p[name], minimum=0, maximum=1, strict_min=True)
    for name in ("beta1", "beta2"):
        out[name] = check_float(name, p[name], minimum=0, maximum=1, strict_max=True)
    out["loss"] = check_choice("loss", p["loss"], LOSSES)
    out["n_critic"] = check_int("n_critic", p["n_critic"], minimum=1)
    out["label_smoothing"] = check_float("label_smoothing", p["label_smoothing"], minimum=0.5,
                                         maximum=1, strict_min=True)
    out["gradient_penalty"] = check_float("gradient_penalty", p["gradient_penalty"], minimum=0,
                                          maximum=1e6)
    out["minibatch_std"] = check_bool("minibatch_std", p["minibatch_std"])
    out["training_output"] = check_choice("training_output", p["training_output"],
                                          TRAINING_OUTPUTS)
    out["generation"] = check_choice("generation", p["generation"], GENERATION_MODES)
    for name in ("symmetrize", "random_translation", "conditional"):
        out[name] = check_bool(name, p[name])
    try:
        epochs = tuple(sorted({check_int("snapshot epoch", e, minimum=1)
                               for e in p["snapshot_epochs"]}))
    except TypeError:
        raise InvalidParameterError(f"snapshot_epochs must be a sequence of integers >= 1, "
                                    f"got {p['snapshot_epochs']!r}") from None
    out["snapshot_epochs"] = epochs
    out["n_snapshot"] = check_int("n_snapshot", p["n_snapshot"], minimum=1)
    out["ema_decay"] = check_float("ema_decay", p["ema_decay"], minimum=0, maximum=1,
                                   strict_max=True)
    out["lr_schedule"] = check_choice("lr_schedule", p["lr_schedule"], LR_SCHEDULES)
    out["feature_matching"] = check_float("feature_matching", p["feature_matching"], minimum=0,
                                          maximum=1e6)
    out["bond_features"] = check_bool("bond_features", p["bond_features"])
    out["head_hidden"] = check_int("head_hidden", p["head_hidden"], minimum=0)
    out["pack"] = check_int("pack", p["pack"], minimum=1, maximum=8)
    if out["batch_size"] % out["pack"]:
        raise InvalidParameterError(f"batch_size must be a multiple of pack = {out['pack']}, "
                                    f"got {out['batch_size']}")
    out["moment_matching"] = check_float("moment_matching", p["moment_matching"], minimum=0,
                                         maximum=1e6)
    out["n_threads"] = check_int("n_threads", p["n_threads"], minimum=1, allow_none=True)
    out["rng"] = _check_rng_type(p["rng"])
    return out
