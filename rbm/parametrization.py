"""The parameters of a :class:`~rbm.BernoulliRBM` in their forms: canonical
(public and stored), internal (the training coordinates: the encodings of the
units) and translation-tied; the exact maps between the first two, the
initial draw, and the checks of canonical parameters given by a caller.

The canonical model has visible ``v`` in {0, 1}^n_visible and hidden ``h`` in
{0, 1}^n_hidden, energy ``-a.v - b.h - v.W.h``. By default
(``encoding="pm1"``) training works with visible units ``s = 2 v - 1`` and
hidden units ``g = 2 h - 1``, both in {-1, +1}, i.e. energy
``-c.s - d.g - s.U.g``. This is the same family of distributions; the exact
map to the canonical parameters is ``W = 4 U``, ``a = 2 c - 2 sum_j U_ij``,
``b = 2 d - 2 sum_i U_ij`` (the additive constant cancels in Z);
``encoding="pm1-visible"`` (``W = 2 U``, ``a = 2 c``, ``b = d - sum_i U_ij``)
and ``"01"`` (the identity) are available too. Gradient steps in these
coordinates are better conditioned (units are centred for symmetric data).
On L = 4 Ising data at T = 1.5 with Adam (2 x 10^4 samples, 16 hidden units,
all other settings the defaults), {0, 1} units and {-1, +1} visible with
{0, 1} hidden units both stalled near 0.038 nats of exact KL, {-1, +1} units
on both layers reached 0.007 (REFERENCES.md reports 7.7-9.0 nats for plain
{0, 1} units with Adam and no other help). The public attributes
``weights``, ``visible_bias``, ``hidden_bias`` and model files always hold
the canonical {0, 1} parameters.

A translation-tied model (:mod:`rbm.tying`) has its parameters projected
onto the tied subspace after each map (the bias sums round differently per
unit), starts from tied weights and one visible bias, and accepts only
canonical parameters that are tied (orbits equal within :data:`TIED_RTOL`).

Arrays in, arrays out: nothing here knows of an estimator.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError

__all__ = ["ENCODINGS", "TIED_RTOL", "canonical_from_internal", "check_canonical",
           "check_tied", "initial_internal", "internal_from_canonical"]

#: ``encoding -> (alpha, beta0, alpha_h, beta_h)``: the training units are
#: ``u = alpha v + beta0`` (visible) and ``g = alpha_h h + beta_h`` (hidden), as in
#: :class:`rbm.negative_phase.InternalParams`.
ENCODINGS = {"pm1": (2.0, -1.0, 2.0, -1.0), "pm1-visible": (2.0, -1.0, 1.0, 0.0),
             "01": (1.0, 0.0, 1.0, 0.0)}
#: Relative tolerance of :func:`check_tied`: the entries of an orbit must be equal within it.
TIED_RTOL = 1e-9


def canonical_from_internal(U, c, d, encoding: str, tying=None) -> tuple:
    """Canonical ``(weights, visible_bias, hidden_bias)`` (float64) of the
    internal ``U`` (n_visible, n_hidden), ``c`` (n_visible,), ``d`` (n_hidden,),
    projected onto the tied subspace of ``tying`` (a
    :class:`~rbm.tying.TranslationTying`) when given."""
    al, be, ah, bh = ENCODINGS[encoding]
    U = np.asarray(U, dtype=np.float64)
    W = al * ah * U
    a = al * np.asarray(c, dtype=np.float64) + al * bh * U.sum(axis=1)
    b = ah * np.asarray(d, dtype=np.float64) + be * ah * U.sum(axis=0)
    if tying is not None:
        tying.project(W, a, b)
    return W, a, b


def internal_from_canonical(W, a, b, encoding: str, tying=None) -> dict:
    """The internal ``{"U", "c", "d"}`` of the canonical ``W``, ``a``, ``b``
    (the inverse of :func:`canonical_from_internal`), projected like it."""
    al, be, ah, bh = ENCODINGS[encoding]
    U = W / (al * ah)
    q = {"U": U, "c": (a - al * bh * U.sum(axis=1)) / al,
         "d": (b - be * ah * U.sum(axis=0)) / ah}
    if tying is not None:
        tying.project(q["U"], q["c"], q["d"])
    return q


def initial_internal(n_visible: int, n_hidden: int, init_scale: float, encoding: str,
                     tying, X, rng: np.random.Generator) -> tuple:
    """Initial internal ``(U, c, d)``: ``U ~ N(0, init_scale^2)`` (for a tied
    model its filters, ``tying.alpha x tying.n_sites`` draws), ``c`` at the
    visible marginals of ``X`` (n_samples, n_visible) in [0, 1] clipped to
    [1e-3, 1 - 1e-3] (their site average for a tied model; zero without
    ``X``), ``d = 0``."""
    alpha = ENCODINGS[encoding][0]
    if tying is None:
        U = init_scale * rng.standard_normal((n_visible, n_hidden))
    else:
        U = tying.weights_from_filters(
            init_scale * rng.standard_normal((tying.alpha, tying.n_sites)))
    c = np.zeros(n_visible)
    if X is not None:
        mean = np.asarray(X, dtype=np.float64).mean(axis=0)
        if tying is not None:
            mean = np.full(n_visible, mean.mean())
        mean = np.clip(mean, 1e-3, 1 - 1e-3)
        c = np.log(mean / (1.0 - mean)) / alpha
    d = np.zeros(n_hidden)
    return U, c, d


def check_canonical(weights, visible_bias, hidden_bias, n_hidden: int) -> tuple:
    """Copies (float64) ``(W, a, b)`` of canonical parameters: ``weights``
    (n_visible, n_hidden), ``visible_bias`` (n_visible,), ``hidden_bias``
    (n_hidden,), all finite; InvalidParameterError otherwise."""
    W = np.array(weights, dtype=np.float64)
    if W.ndim != 2 or W.shape[1] != n_hidden:
        raise InvalidParameterError(
            f"weights must have shape (n_visible, {n_hidden}), got {W.shape}")
    a = np.array(visible_bias, dtype=np.float64).reshape(-1)
    b = np.array(hidden_bias, dtype=np.float64).reshape(-1)
    if a.shape != (W.shape[0],):
        raise InvalidParameterError(
            f"visible_bias must have shape ({W.shape[0]},), got {a.shape}")
    if b.shape != (n_hidden,):
        raise InvalidParameterError(
            f"hidden_bias must have shape ({n_hidden},), got {b.shape}")
    for name, arr in (("weights", W), ("visible_bias", a), ("hidden_bias", b)):
        if not np.all(np.isfinite(arr)):
            raise InvalidParameterError(f"{name} must be finite, got NaN or inf")
    return W, a, b


def check_tied(tying, W, a, b) -> None:
    """Refuse (InvalidParameterError) canonical parameters that are not tied
    under ``tying`` (a :class:`~rbm.tying.TranslationTying`; None: no tying)."""
    if tying is not None and not tying.is_tied(W, a, b, rtol=TIED_RTOL):
        raise InvalidParameterError(
            f"weights, visible_bias and hidden_bias must be tied under the translations "
            f"of translation_tied {tying.shape} (rbm.tying), got untied parameters")
