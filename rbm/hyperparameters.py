"""The hyperparameters of :class:`~rbm.BernoulliRBM`: their checks, the form
they take in model files, and the rule of ``learning_rate="auto"``.

:func:`check` validates them in the order of the constructor's signature
(the first bad one is reported, in the house message format of
:mod:`mccore.validation`), as ``fit``/``partial_fit``/``initialize`` start
(scikit-learn's habit: never in ``__init__``); the meaning of each is
documented on :class:`~rbm.BernoulliRBM`. (:class:`~rbm.GaussianBernoulliRBM`
keeps its few in :mod:`rbm.gaussian`; the training-loop ones both share are
checked by ``RBMBase._check_loop_params``.)
"""

from __future__ import annotations

import math

from mccore.errors import InvalidParameterError
from mccore.validation import POSITIVE, check_bool, check_choice, check_float, check_int

from .parametrization import ENCODINGS
from .tying import check_tying

__all__ = ["AUTO_LR_MAX", "AUTO_LR_SCALE", "STORED", "base_learning_rate", "check",
           "from_file", "stored"]

#: ``learning_rate="auto"``: ``min(AUTO_LR_MAX, AUTO_LR_SCALE / sqrt(n_visible))``.
AUTO_LR_MAX, AUTO_LR_SCALE = 0.01, 0.04
#: The hyperparameters a model file stores, in this order (``translation_tied`` after
#: them, only when set).
STORED = ("n_hidden", "method", "k", "n_chains", "learning_rate", "batch_size",
          "n_epochs", "optimizer", "momentum", "weight_decay", "schedule",
          "final_lr_fraction", "encoding", "flip_moves", "flip_augment",
          "n_temperatures", "beta_min", "init_scale", "validation_fraction",
          "average_fraction", "dtype")


def check(model) -> None:
    """Check every hyperparameter of ``model``; InvalidParameterError naming the first bad one."""
    model._check_rng_param()
    check_int("n_hidden", model.n_hidden, minimum=1)
    check_choice("method", model.method, ("pcd", "cd", "pt"))
    check_int("k", model.k, minimum=1)
    check_int("n_chains", model.n_chains, minimum=1)
    if not (isinstance(model.learning_rate, str) and model.learning_rate == "auto"):
        if isinstance(model.learning_rate, str):
            raise InvalidParameterError(
                f"learning_rate must be 'auto' or a finite number > 0, "
                f"got {model.learning_rate!r}")
        POSITIVE.check("learning_rate", model.learning_rate)
    model._check_loop_params()
    check_float("final_lr_fraction", model.final_lr_fraction, minimum=0.0, maximum=1.0,
                strict_min=True)
    check_choice("encoding", model.encoding, tuple(ENCODINGS))
    check_bool("flip_moves", model.flip_moves)
    check_bool("flip_augment", model.flip_augment)
    check_int("n_temperatures", model.n_temperatures, minimum=2)
    check_float("beta_min", model.beta_min, minimum=0.0, maximum=1.0, strict_min=True,
                strict_max=True)
    check_float("init_scale", model.init_scale, minimum=0.0)
    check_float("validation_fraction", model.validation_fraction, minimum=0.0,
                maximum=1.0, strict_max=True)
    check_float("average_fraction", model.average_fraction, minimum=0.0, maximum=1.0,
                strict_max=True)
    if model.translation_tied is not None:
        check_tying(model.translation_tied, model.n_hidden)
    check_choice("dtype", model.dtype, ("float64", "float32"))


def base_learning_rate(learning_rate, n_visible: int | None) -> float:
    """``learning_rate``, or the ``"auto"`` rule for ``n_visible`` visible units."""
    if not (isinstance(learning_rate, str) and learning_rate == "auto"):
        return float(learning_rate)
    if n_visible is None:
        raise InvalidParameterError("learning_rate='auto' needs n_visible: fit or "
                                    "initialize the model first")
    return min(AUTO_LR_MAX, AUTO_LR_SCALE / math.sqrt(n_visible))


def stored(model) -> dict:
    """The hyperparameters of ``model`` as a model file stores them (:data:`STORED`,
    then ``translation_tied`` as a tuple of int when set)."""
    out = {n: getattr(model, n) for n in STORED}
    if model.translation_tied is not None:
        out["translation_tied"] = tuple(int(n) for n in model.translation_tied)
    return out


def from_file(hyperparameters: dict) -> dict:
    """Hyperparameters read from a model file, as the constructor takes them."""
    hp = dict(hyperparameters)
    if isinstance(hp.get("translation_tied"), list):     # JSON has no tuples
        hp["translation_tied"] = tuple(hp["translation_tied"])
    return hp
