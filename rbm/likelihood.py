"""How well a :class:`~rbm.BernoulliRBM` describes data: the work behind its
methods :meth:`~rbm.BernoulliRBM.log_partition` (exact or AIS),
:meth:`~rbm.BernoulliRBM.score_samples`,
:meth:`~rbm.BernoulliRBM.pseudo_log_likelihood`,
:meth:`~rbm.BernoulliRBM.reconstruction_error` and
:meth:`~rbm.BernoulliRBM.score` (whose docstrings say what they promise).

Functions of a fitted model (``model``) and of visible data ``V``
(n_samples, n_visible) float64 already checked by the model; the training
loop's monitor (:mod:`rbm.epochs`) uses the same ones. The partition
functions themselves are :mod:`rbm.partition`.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import check_choice, check_int
from mcstats import Estimate

from ._utils import sigmoid, softplus
from .partition import (
    MAX_EXACT_UNITS,
    bernoulli_log_partition_ais,
    bernoulli_log_partition_exact,
)

__all__ = ["log_partition", "pseudo_log_likelihood", "reconstruction_error", "score",
           "score_samples"]


def log_partition(model, method: str, *, stream, n_runs: int, n_betas: int) -> Estimate:
    """``log Z`` of ``model`` (cached in ``model.log_partition_``); ``stream()``
    gives the Generator of AIS (called for AIS only, so an exact log Z draws
    nothing from a Generator seed)."""
    check_choice("method", method, ("auto", "exact", "ais"))
    model._check_initialized()
    small = min(model.n_visible, model.n_hidden)
    if method == "auto":
        method = "exact" if small <= MAX_EXACT_UNITS else "ais"
    if method == "exact":
        if small > MAX_EXACT_UNITS:
            raise InvalidParameterError(
                f"exact log Z needs min(n_visible, n_hidden) <= {MAX_EXACT_UNITS}, "
                f"got {small}; use method='ais'")
        est = Estimate(mean=bernoulli_log_partition_exact(
            model.weights, model.visible_bias, model.hidden_bias), error=0.0, n_samples=0)
    else:
        n_runs = check_int("n_runs", n_runs, minimum=2)
        n_betas = check_int("n_betas", n_betas, minimum=1)
        est = bernoulli_log_partition_ais(model.weights, model.visible_bias,
                                          model.hidden_bias, rng=stream(), n_runs=n_runs,
                                          n_betas=n_betas)
    model.log_partition_ = est
    return est


def score_samples(model, V) -> np.ndarray:
    """``log p(v) = -F(v) - log Z`` (n_samples,), log Z exact when not cached."""
    if model.log_partition_ is None:
        if min(model.n_visible, model.n_hidden) > MAX_EXACT_UNITS:
            raise InvalidParameterError(
                "log Z is not exactly computable for this model size; call "
                "log_partition(method='ais') first")
        model.log_partition(method="exact")
    return -model._free_energy(V) - model.log_partition_.mean


def pseudo_log_likelihood(model, V) -> np.ndarray:
    """``sum_i log p(v_i | v_-i)`` over all sites (n_samples,):
    ``log p(v_i | v_-i) = -softplus(F(v) - F(v with site i flipped))``."""
    pre = V @ model.weights + model.hidden_bias
    f0 = -(V @ model.visible_bias) - softplus(pre).sum(axis=1)
    out = np.zeros(V.shape[0])
    for i in range(V.shape[1]):
        sign = 1.0 - 2.0 * V[:, i]
        f1 = (-(V @ model.visible_bias) - sign * model.visible_bias[i]
              - softplus(pre + sign[:, None] * model.weights[i]).sum(axis=1))
        out -= softplus(f0 - f1)
    return out


def reconstruction_error(model, V) -> float:
    """Mean squared error of the mean-field reconstruction ``v -> p(h|v) -> p(v|h)``."""
    ph = sigmoid(V @ model.weights + model.hidden_bias)
    pv = sigmoid(ph @ model.weights.T + model.visible_bias)
    return float(np.mean((V - pv) ** 2))


def score(model, V) -> float:
    """Mean ``log p(v)``, or the mean pseudo-log-likelihood where log Z is unknown."""
    if (model.log_partition_ is None
            and min(model.n_visible, model.n_hidden) > MAX_EXACT_UNITS):
        return float(np.mean(pseudo_log_likelihood(model, V)))
    return float(np.mean(model.score_samples(V)))
