"""RBM trial states for spin-1/2 systems (Carleo & Troyer, Science 355, 602 (2017)).

Plain RBM (:class:`SpinRBM`), hidden-unit density ``alpha = M / N``::

    log psi(s) = sum_i a_i s_i + sum_j log cosh(theta_j),   theta_j = b_j + sum_i W_ij s_i,

``s_i = +-1`` (sz eigenvalues), the hidden units ``h_j = +-1`` summed out
(the factor 2^M dropped). Parameters are real, so psi > 0: enough for the
transverse-field Ising ground state with h > 0, whose amplitudes are all
positive (Perron-Frobenius: every off-diagonal element of H, -h, is <= 0),
never for a state with signs.

Translation-symmetric RBM (:class:`SymmetricSpinRBM`): ``alpha`` filters
``w^f`` (N weights each) shared over the N lattice translations T_t, one
hidden bias per filter and one visible bias::

    theta_{f,t} = b_f + sum_i w^f_i s_{T_t(i)},   log psi = a sum_i s_i + sum_{f,t} log cosh theta_{f,t},

``alpha N + alpha + 1`` parameters. It *is* the plain RBM with M = alpha N
hidden units and tied weights ``W[T_t(i), (f, t)] = w^f_i``,
``b_(f,t) = b_f``, ``a_i = a`` (:meth:`SymmetricSpinRBM.expanded`), which
the kernels use.

Both share one interface (arrays in, arrays out; ``s`` is (n, N) float64):
``params`` (flat, views), ``log_psi(s)``, ``log_psi_param_grad(s)`` (the
log-derivatives ``O_k = d log psi / d p_k``, (n, n_params)),
``expanded() -> (a, b, W)`` of the equivalent plain RBM. An object keeps
work arrays between calls (fresh large arrays cost more than the
arithmetic), so use one object per Python thread.
"""

from __future__ import annotations

import numbers

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import resolve_seed, stream
from mccore.validation import check_float, check_int

from ..params import FlatParameters
from . import kernels
from .lattice import Lattice

__all__ = ["SpinRBM", "SymmetricSpinRBM", "make_spin_wavefunction"]


def _check_alpha(alpha) -> int:
    return check_int("alpha", alpha, minimum=1)


def _initial_stream(rng):
    """``(Generator, seed_)`` for the initial parameters: ``rng=None`` draws a fresh int
    seed (kept as ``seed_``, so the state can be made again), an int is its own
    ``seed_``; a SeedSequence or Generator gives ``seed_ = None`` (its giver records it)."""
    if rng is None:
        rng = resolve_seed(None)
    seed = (int(rng) if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_))
            else None)
    return stream(rng), seed


def _log_cosh(x, out=None, abs_out=None):
    """``|x| + log1p(exp(-2|x|)) - log 2`` elementwise, into ``out`` (may be ``x``) if
    given, ``|x|`` into ``abs_out`` if given.

    The same ufuncs in the same order as the one-line expression, so the same bits;
    in place, because fresh (n, M) temporaries cost more in page faults than the
    arithmetic (chain N = 80, alpha = 2, 1008 rows: 1.2 -> 0.26 ms)."""
    ax = np.abs(x, out=abs_out)
    t = np.multiply(ax, -2.0, out=out)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    np.add(ax, t, out=t)
    return np.subtract(t, np.log(2.0), out=t)


class _SpinWavefunction(FlatParameters):
    """Shared plumbing: checks of ``s``, theta, log psi (flat ``params``: :class:`vmc.params.FlatParameters`)."""

    n_sites: int

    @property
    def n_visible(self) -> int:
        return self.n_sites

    def _check_s(self, s) -> np.ndarray:
        s = np.asarray(s, dtype=np.float64)
        if s.ndim == 1:
            s = s[None, :]
        if s.ndim != 2 or s.shape[1] != self.n_sites:
            raise InvalidParameterError(
                f"s must have shape (n, {self.n_sites}), got {np.shape(s)}")
        return np.ascontiguousarray(s)

    def _out(self, out, n_samples) -> np.ndarray:
        """``out`` checked as the (n_samples, n_params) float64 C array to write, or a new one
        (the driver passes the same buffer every iteration: no page faults for fresh memory)."""
        shape = (n_samples, self.n_params)
        if out is None:
            return np.empty(shape)
        if not (isinstance(out, np.ndarray) and out.shape == shape and out.dtype == np.float64
                and out.flags.c_contiguous and out.flags.writeable):
            raise InvalidParameterError(
                f"out must be a writeable C-contiguous float64 array of shape {shape}")
        return out

    def _scratch(self, name, shape) -> np.ndarray:
        """A float64 work array kept between calls: a fresh (n, M) array costs more in page
        faults than the arithmetic done in it (chain N = 80, alpha = 2, 1008 rows:
        log_psi 2.6 -> 1.3 ms). So one object serves one Python thread at a time."""
        buffers = self.__dict__.setdefault("_buffers", {})
        buf = buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = buffers[name] = np.empty(shape)
        return buf

    def theta(self, s) -> np.ndarray:
        """``theta = b + W^T s`` of the expanded RBM (n, M)."""
        s = self._check_s(s)
        return self._theta(s, np.empty((s.shape[0], self.n_hidden)))

    def _theta(self, s, out) -> np.ndarray:
        _, b, W = self.expanded()
        kernels.spin_theta(s, b, W, out)
        return out

    def log_psi(self, s) -> np.ndarray:
        """``log psi(s)`` (n,) (unnormalized)."""
        s = self._check_s(s)
        theta = self._theta(s, self._scratch("theta", (s.shape[0], self.n_hidden)))
        return self._log_psi_from_theta(s, theta)

    def _log_psi_from_theta(self, s, theta) -> np.ndarray:
        """``log psi`` of checked rows ``s`` from their ``theta`` (overwritten)."""
        a = self.expanded()[0]
        lc = _log_cosh(theta, out=theta, abs_out=self._scratch("abs", theta.shape))
        return s @ a + lc.sum(axis=1)

    def _write_log_psi(self, log_psi_out, value) -> None:
        if not (isinstance(log_psi_out, np.ndarray) and log_psi_out.shape == value.shape
                and log_psi_out.dtype == np.float64):
            raise InvalidParameterError(
                f"log_psi_out must be a float64 array of shape {value.shape}")
        log_psi_out[...] = value


class SpinRBM(_SpinWavefunction):
    """Plain RBM trial state of ``n_sites`` spins with ``alpha * n_sites`` hidden units.

    Parameters
    ----------
    n_sites : int
        N >= 2.
    alpha : int
        Hidden-unit density M / N (>= 1).
    init_scale : float
        Standard deviation of the random initial a, b, W (>= 0).
    rng : int, SeedSequence, Generator or None
        Draws the initial parameters (None: fresh entropy, recorded in ``seed_``).

    Attributes
    ----------
    params : ndarray
        ``[a (N), b (M), W (N*M, row-major)]``; ``a``, ``b``, ``W`` are views.
    seed_ : int or None
        The int seed of the initial parameters (``rng`` itself, or the one drawn for
        None); None when ``rng`` was a SeedSequence or Generator.
    """

    symmetric = False

    def __init__(self, n_sites: int, alpha: int = 1, *, init_scale: float = 0.01, rng=None):
        self.n_sites = check_int("n_sites", n_sites, minimum=2)
        self.alpha = _check_alpha(alpha)
        init_scale = check_float("init_scale", init_scale, minimum=0.0)
        self.n_hidden = self.alpha * self.n_sites
        n, m = self.n_sites, self.n_hidden
        gen, self.seed_ = _initial_stream(rng)
        self._params = init_scale * gen.standard_normal(n + m + n * m)
        self.a = self._params[:n]
        self.b = self._params[n:n + m]
        self.W = self._params[n + m:].reshape(n, m)

    def expanded(self):
        """``(a, b, W)``: the parameters themselves (contiguous views)."""
        return self.a, self.b, self.W

    def parameter_names(self) -> list[str]:
        n, m = self.n_sites, self.n_hidden
        return ([f"a[{i}]" for i in range(n)] + [f"b[{j}]" for j in range(m)]
                + [f"W[{i},{j}]" for i in range(n) for j in range(m)])

    def log_psi_param_grad(self, s, out=None, log_psi_out=None) -> np.ndarray:
        """``O = (s_i, tanh theta_j, s_i tanh theta_j)`` (n, N + M + N M); written into
        ``out`` (a C-contiguous float64 array of that shape) if given; ``log psi(s)``
        (the numbers of :meth:`log_psi`, from the same theta) into ``log_psi_out`` (n,)
        if given."""
        s = self._check_s(s)
        out = self._out(out, s.shape[0])
        if log_psi_out is None:
            kernels.rbm_log_derivatives(s, self.b, self.W, out)
            return out
        theta = self._scratch("theta", (s.shape[0], self.n_hidden))
        kernels.rbm_log_derivatives(s, self.b, self.W, out, theta)
        self._write_log_psi(log_psi_out, self._log_psi_from_theta(s, theta))
        return out


class SymmetricSpinRBM(_SpinWavefunction):
    """Translation-symmetric RBM on ``lattice`` with ``alpha`` filters.

    Parameters
    ----------
    lattice : vmc.spins.Lattice
    alpha : int
        Number of filters (hidden-unit density, >= 1).
    init_scale : float
        Standard deviation of the random initial a, b, w.
    rng : int, SeedSequence, Generator or None
        Draws the initial parameters (None: fresh entropy, recorded in ``seed_``).

    Attributes
    ----------
    params : ndarray
        ``[a (1), b (alpha), w (alpha*N, filter-major)]``: ``alpha N + alpha + 1``.
    seed_ : int or None
        As :attr:`SpinRBM.seed_`.
    """

    symmetric = True

    def __init__(self, lattice: Lattice, alpha: int = 1, *, init_scale: float = 0.01,
                 rng=None):
        if not isinstance(lattice, Lattice):
            raise InvalidParameterError(f"lattice must be a vmc.spins.Lattice, got {lattice!r}")
        self.lattice = lattice
        self.n_sites = lattice.n_sites
        self.alpha = _check_alpha(alpha)
        init_scale = check_float("init_scale", init_scale, minimum=0.0)
        self.n_hidden = self.alpha * self.n_sites
        n, f = self.n_sites, self.alpha
        gen, self.seed_ = _initial_stream(rng)
        self._params = init_scale * gen.standard_normal(1 + f + f * n)
        self.a = self._params[:1]
        self.b = self._params[1:1 + f]
        self.w = self._params[1 + f:].reshape(f, n)
        # inverse translations: inv[t, j] = i with T_t(i) = j
        tr = lattice.translations
        self._inverse = np.argsort(tr, axis=1)
        self._translations = tr

    def expanded(self):
        """The equivalent plain RBM ``(a (N), b (alpha N), W (N, alpha N))``.

        Hidden unit ``(f, t)`` has index ``f * N + t``;
        ``W[j, f N + t] = w^f[T_t^{-1}(j)]``.
        """
        n, f = self.n_sites, self.alpha
        a = np.full(n, self.a[0])
        b = np.repeat(self.b, n)
        # W[j, (f, t)] = w[f, inv[t, j]]
        W = self.w[:, self._inverse]          # (f, t, j)
        W = np.ascontiguousarray(W.transpose(2, 0, 1).reshape(n, f * n))
        return a, b, W

    def parameter_names(self) -> list[str]:
        return (["a"] + [f"b[{k}]" for k in range(self.alpha)]
                + [f"w[{k},{i}]" for k in range(self.alpha) for i in range(self.n_sites)])

    def log_psi_param_grad(self, s, out=None, log_psi_out=None) -> np.ndarray:
        """``O_a = sum_i s_i``, ``O_bf = sum_t tanh theta_ft``,
        ``O_wfi = sum_t tanh(theta_ft) s_{T_t(i)}`` (n, alpha N + alpha + 1); written
        into ``out`` if given; ``log psi(s)`` (the numbers of :meth:`log_psi`, from the
        same theta) into ``log_psi_out`` (n,) if given."""
        s = self._check_s(s)
        n_samples, n = s.shape
        theta = self._theta(s, self._scratch("theta", (n_samples, self.n_hidden)))
        t = np.tanh(theta, out=self._scratch("tanh", theta.shape))
        t = t.reshape(n_samples, self.alpha, n)   # (n, f, t)
        if log_psi_out is not None:
            self._write_log_psi(log_psi_out, self._log_psi_from_theta(s, theta))
        out = self._out(out, n_samples)
        kernels.symmetric_log_derivatives(s, t, self._translations, out)
        return out


def make_spin_wavefunction(lattice: Lattice, alpha: int = 1, *, symmetric: bool = False,
                           init_scale: float = 0.01, rng=None):
    """A :class:`SymmetricSpinRBM` or a :class:`SpinRBM` on ``lattice``."""
    if symmetric:
        return SymmetricSpinRBM(lattice, alpha, init_scale=init_scale, rng=rng)
    return SpinRBM(lattice.n_sites, alpha, init_scale=init_scale, rng=rng)
