"""Running a fitted :class:`~gan.IsingGAN` forward: the checks and the work
behind its methods :meth:`~gan.IsingGAN.check_temperature`,
:meth:`~gan.IsingGAN.sample`, :meth:`~gan.IsingGAN.latent_vectors`,
:meth:`~gan.IsingGAN.generate` and :meth:`~gan.IsingGAN.discriminate`
(whose docstrings say what they promise).

Functions of a fitted model (``model``) and the torch module (``torch``,
imported lazily by the caller); training is :mod:`gan.training`, the random
streams, symmetry operations and draws are :mod:`gan.sampling`. Generation
and judgement run under ``deterministic_torch`` (:mod:`gan._torch`) with the
model's ``n_threads``.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import child, seed_sequence
from mccore.validation import check_choice, check_float, check_int, check_memory

from ._torch import deterministic_torch
from .sampling import (
    _STREAM_LATENT,
    _STREAM_SAMPLE,
    GENERATION_MODES,
    condition,
    draw,
    draw_blocks,
    torch_seed,
)

__all__ = ["check_temperature", "discriminate", "generate", "latent_vectors", "sample"]


def check_temperature(model, temperature) -> float | None:
    """The temperature to generate at (None for an unconditioned model); raises
    InvalidParameterError for a missing, misplaced or out-of-range temperature."""
    if not model.conditional:
        if temperature is not None:
            raise InvalidParameterError(
                "temperature is only for a temperature-conditioned GAN; this model was "
                "trained at one temperature")
        return None
    if temperature is None:
        raise InvalidParameterError("a temperature-conditioned GAN needs a temperature")
    T = check_float("temperature", temperature, minimum=0, strict_min=True)
    if model.temperature_range_ is not None:
        lo, hi = model.temperature_range_
        if not (lo - 1e-9 <= T <= hi + 1e-9):
            raise InvalidParameterError(
                f"temperature must be in the training range [{lo:g}, {hi:g}] "
                f"(the conditioned GAN interpolates, it does not extrapolate), got {T:g}")
    return T


def sample(model, torch, n_samples, *, rng, temperature, mode, batch_size) -> np.ndarray:
    """``n_samples`` configurations (n_samples, L, L) int8, symmetry applied."""
    model._require_fitted()
    n_samples = check_int("n_samples", n_samples, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    mode = model.generation if mode is None else check_choice("mode", mode, GENERATION_MODES)
    T = model.check_temperature(temperature)
    check_memory(f"{n_samples} samples of L = {model.L}",
                 model.sample_memory_estimate(n_samples))
    seq = seed_sequence(model.rng if rng is None else rng)
    with deterministic_torch(model.n_threads):
        out = draw_blocks(model, torch, n_samples, seq, T, mode, batch_size)
    return out


def latent_vectors(model, n, *, rng) -> np.ndarray:
    """Standard-normal latent vectors (n, latent_size) float32."""
    n = check_int("n", n, minimum=1)
    seq = seed_sequence(model.rng if rng is None else rng)
    gen = np.random.default_rng(child(seq, _STREAM_LATENT))
    return gen.standard_normal((n, model.latent_size)).astype(np.float32)


def generate(model, torch, latent, *, temperature, mode, rng) -> np.ndarray:
    """Generator output (mean spins float64 or drawn spins int8, (n, L, L)) for
    latent vectors ``latent`` (n, latent_size), without the symmetry operations."""
    model._require_fitted()
    check_choice("mode", mode, ("mean",) + GENERATION_MODES)
    z = np.asarray(latent, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] != model.latent_size:
        raise InvalidParameterError(f"latent must have shape (n, {model.latent_size}), "
                                    f"got {z.shape}")
    c = None
    if model.conditional:
        T = np.broadcast_to(np.asarray(temperature if temperature is not None else np.nan,
                                       dtype=np.float64), (z.shape[0],))
        for t in np.unique(T):
            model.check_temperature(None if np.isnan(t) else float(t))
    else:
        model.check_temperature(temperature)
    seq = seed_sequence(model.rng if rng is None else rng)
    with deterministic_torch(model.n_threads):
        if model.conditional:
            c = torch.from_numpy(model._scaled(T))
        gen = torch.Generator().manual_seed(torch_seed(child(seq, _STREAM_SAMPLE)))
        return draw(model, torch, torch.from_numpy(np.ascontiguousarray(z)), c, gen, mode)


def discriminate(model, torch, spins, *, temperature) -> np.ndarray:
    """Discriminator output (n,) float64 for configurations ``spins`` (n, L, L),
    one configuration (pack) at a time when the minibatch feature is on."""
    model._require_fitted()
    arr = np.asarray(spins, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[1:] != (model.L, model.L):
        raise InvalidParameterError(f"spins must have shape (n, {model.L}, {model.L}), "
                                    f"got {arr.shape}")
    if len(arr) % model.pack:
        raise InvalidParameterError(f"the number of configurations must be a multiple of "
                                    f"pack = {model.pack}, got {len(arr)}")
    T = model.check_temperature(temperature)
    k = model.pack
    discriminator = model._discriminator
    with deterministic_torch(model.n_threads), torch.no_grad():
        discriminator.eval()
        x = torch.from_numpy(arr)
        c = condition(model, torch, T, len(x))
        if model.minibatch_std:
            logits = torch.cat([discriminator(x[i:i + k], None if c is None else c[i:i + k])
                                for i in range(0, len(x), k)])
        else:
            logits = discriminator(x, c)
        if k > 1:
            logits = logits.repeat_interleave(k)
        if model.loss == "nonsaturating":
            logits = torch.sigmoid(logits)
        return logits.double().numpy()
