"""Translation-tied ("convolutional") RBM parameters on a periodic lattice.

The visible units are the ``N`` sites of a periodic lattice of shape
``shape`` (row-major, e.g. ``(L, L)``), the hidden units ``alpha``
channels of ``N`` units each, hidden unit ``j = c N + t`` (channel ``c``,
translation ``t``) seeing the configuration through the filter ``f_c``
shifted by ``t``::

    U[t + d, c N + t] = f_c[d]        (t + d: the site t shifted by d, periodic)
    hidden bias of (c, t) = d_c,      visible bias of every site = one value

so that a translation of the configuration permutes the hidden units within
each channel and the model's distribution is translation invariant. The
``alpha N`` filter values, ``alpha`` hidden biases and one visible bias
replace the ``alpha N^2 + (alpha + 1) N`` free parameters.

The subspace of tied parameters is linear, and the same in every encoding
of the units (:mod:`rbm.bernoulli`: the bias shifts ``sum_j U_ij`` and
``sum_i U_ij`` of a tied ``U`` are uniform over the sites and per channel).
:meth:`TranslationTying.project` is the orthogonal projection onto it: every
orbit of tied entries is replaced by its mean. Applied to the log-likelihood
gradient with respect to the dense parameters it gives, at every entry of an
orbit, ``1 / |orbit|`` times the gradient with respect to the orbit's one tied
parameter (the chain rule: a tied parameter's gradient is the sum over its
entries), so a gradient step on the dense parameters with the projected
gradient is a gradient step of the tied model, and Adam, seeing identical
gradients at the entries of an orbit, keeps identical moments there and the
parameters exactly tied.

Arrays in, arrays out: nothing here knows of Ising or of an estimator.
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError

from .kernels import tie_translations

__all__ = ["TranslationTying", "check_lattice_shape", "check_tying"]


def check_lattice_shape(shape) -> tuple:
    """``shape`` as a tuple of ints >= 1 (one to three dimensions), else InvalidParameterError."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__"):
        raise InvalidParameterError(
            "translation_tied must be None or a lattice shape (a tuple of 1 to 3 integers "
            f">= 1, e.g. (L, L)), got {shape!r}")
    out = []
    for n in shape:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidParameterError(
                "translation_tied must be None or a lattice shape (a tuple of 1 to 3 "
                f"integers >= 1, e.g. (L, L)), got {shape!r}")
        out.append(int(n))
    if not 1 <= len(out) <= 3:
        raise InvalidParameterError(
            "translation_tied must be None or a lattice shape (a tuple of 1 to 3 integers "
            f">= 1, e.g. (L, L)), got {shape!r}")
    return tuple(out)


def check_tying(shape, n_hidden: int) -> tuple:
    """``(shape, N)``: the lattice checked and its number of sites, of which
    ``n_hidden`` must be a multiple (InvalidParameterError otherwise)."""
    shape = check_lattice_shape(shape)
    n_sites = math.prod(shape)
    if n_hidden % n_sites:
        raise InvalidParameterError(
            f"n_hidden must be a multiple of the {n_sites} sites of translation_tied "
            f"{shape} (alpha hidden channels per site), got {n_hidden}")
    return shape, n_sites


class TranslationTying:
    """The tied structure of an RBM with ``n_hidden = alpha N`` hidden units on a
    periodic lattice of ``N`` sites (module docstring).

    Parameters
    ----------
    shape : tuple of int
        The lattice; ``N = prod(shape)`` must be the number of visible units.
    n_hidden : int
        A multiple of ``N``.

    Attributes
    ----------
    shape, n_sites (N), alpha, n_hidden
    """

    def __init__(self, shape, n_hidden: int):
        self.shape, self.n_sites = check_tying(shape, n_hidden)
        self.n_hidden = int(n_hidden)
        self.alpha = self.n_hidden // self.n_sites
        n = self.n_sites
        sites = np.arange(n)
        coords = np.stack(np.unravel_index(sites, self.shape), axis=1)       # (N, dims)
        summed = (coords[:, None, :] + coords[None, :, :]) % np.array(self.shape)
        #: plus[t, d]: the site t shifted by d (periodic)
        self.plus = np.ravel_multi_index(tuple(np.moveaxis(summed, -1, 0)), self.shape)
        # flat index into U (N, alpha N) of the entry (t + d, c N + t), shape
        # (alpha, N_t, N_d): every entry exactly once, orbit (c, d) along axis 1
        columns = np.arange(self.alpha)[:, None, None] * n + sites[None, :, None]
        self._orbits = (self.plus[None, :, :] * self.n_hidden + columns).astype(np.intp)
        #: offset[i, t]: the d with t + d = i (what the projection kernel reads)
        self.offset = np.empty((n, n), dtype=np.intp)
        self.offset[self.plus, sites[:, None]] = sites[None, :]
        self._sums = np.empty((self.alpha, n))

    # ----------------------------------------------------------------- build
    def weights_from_filters(self, filters) -> np.ndarray:
        """The dense ``U`` (N, alpha N) of filters ``f`` (alpha, N) (indexed by offset d)."""
        filters = np.asarray(filters)
        if filters.shape != (self.alpha, self.n_sites):
            raise InvalidParameterError(
                f"filters must have shape ({self.alpha}, {self.n_sites}), got {filters.shape}")
        U = np.empty((self.n_sites, self.n_hidden), dtype=filters.dtype)
        U.reshape(-1)[self._orbits] = filters[:, None, :]
        return U

    def filters(self, U) -> np.ndarray:
        """The filters (alpha, N) of a tied ``U``: ``f_c[d] = U[d, c N]`` (translation 0)."""
        U = np.asarray(U)
        return U[:, ::self.n_sites].T.copy()

    def hidden_bias_from_channels(self, channel_bias) -> np.ndarray:
        """The hidden biases (alpha N,) of one bias per channel (alpha,)."""
        return np.repeat(np.asarray(channel_bias), self.n_sites)

    # ------------------------------------------------------------ projection
    def project(self, U, c=None, d=None) -> None:
        """Project in place onto the tied subspace: every orbit replaced by its mean
        (the weights by a numba kernel, :func:`rbm.kernels.tie_translations`).

        ``U`` (N, alpha N) C-contiguous; ``c`` (N,) visible and ``d`` (alpha N,)
        hidden biases (optional). For a gradient this gives the gradient of the
        tied parametrization divided by the orbit sizes (module docstring).
        """
        if U.shape != (self.n_sites, self.n_hidden) or not U.flags.c_contiguous:
            raise InvalidParameterError(
                f"U must be a C-contiguous ({self.n_sites}, {self.n_hidden}) array, "
                f"got shape {U.shape}")
        tie_translations(U, self.offset, self.alpha, self._sums)
        if c is not None:
            c[...] = c.mean()
        if d is not None:
            d.reshape(self.alpha, self.n_sites)[...] = d.reshape(
                self.alpha, self.n_sites).mean(axis=1, keepdims=True)

    def is_tied(self, U, c=None, d=None, *, rtol: float = 0.0) -> bool:
        """Whether every orbit of tied entries holds one value (within ``rtol`` times
        the largest magnitude of its array; 0: exactly equal)."""
        orbits = []
        if U is not None:
            U = np.ascontiguousarray(U)
            if U.shape != (self.n_sites, self.n_hidden):
                raise InvalidParameterError(
                    f"U must have shape ({self.n_sites}, {self.n_hidden}), got {U.shape}")
            orbits.append((U.reshape(-1)[self._orbits], 1))
        if c is not None:
            orbits.append((np.asarray(c).reshape(1, -1), 1))
        if d is not None:
            orbits.append((np.asarray(d).reshape(self.alpha, self.n_sites), 1))
        for values, axis in orbits:
            if values.size == 0:
                continue
            spread = np.max(values.max(axis=axis) - values.min(axis=axis))
            if not spread <= rtol * float(np.max(np.abs(values))):
                return False
        return True
