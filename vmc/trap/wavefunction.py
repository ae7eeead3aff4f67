"""RBM trial wavefunction (on :class:`rbm.GaussianBernoulliRBM`) with an optional Pade-Jastrow factor.

Positions of ``n_particles`` particles in ``n_dims`` dimensions are the
``n_visible = n_particles * n_dims`` visible units of a Gaussian-binary RBM,
flattened particle-major (particle ``p``'s coordinates are
``x[p*n_dims:(p+1)*n_dims]``). With the RBM free energy

    F_rbm(x) = sum_i (x_i - a_i)^2 / (2 sigma^2)
               - sum_j softplus(b_j + sum_i x_i W_ij / sigma^2)

(``exp(-F_rbm)`` is the marginal ``F(X)`` of the issue, hidden units summed
out), the trial wavefunction is

    log Psi(x) = -f F_rbm(x) + J(x),   J(x) = sum_{p<q} c r_pq / (1 + beta r_pq)

with ``f = 1`` for ``Psi = F`` (form ``"full"``) and ``f = 1/2`` for
``Psi = sqrt(F)`` (form ``"sqrt"``, whose ``|Psi|^2`` is the RBM marginal, so
Gibbs sampling applies). Units hbar = m = 1.

The free-particle ground state ``prod exp(-omega x_i^2 / 2)`` is the RBM with
``a = 0, W = 0`` when ``f / sigma^2 = omega``: ``sigma^2 = 1/(2 omega)`` for
``"sqrt"`` and ``1/omega`` for ``"full"`` (the defaults). ``sigma`` is fixed;
``a``, ``b``, ``W`` and (with the Jastrow factor) ``log beta`` are the
variational parameters.

Cusp: for two particles with Coulomb repulsion 1/r (reduced mass 1/2) the
relative wavefunction near r = 0 solves ``-(R'' + (D-1) R'/r) + R/r = E R``;
``R = 1 + c r`` removes the 1/r divergence when ``c = 1/(D-1)``: ``c = 1`` in
2D and ``c = 1/2`` in 3D (opposite spins; no cusp exists in 1D, where 1/r is
not integrable). ``dJ/dr`` at 0 is ``c`` for every ``beta``.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import check_float, check_int

from ..params import FlatParameters
from ..settings import FORMS

__all__ = ["Wavefunction", "cusp_constant", "FORMS"]


def cusp_constant(n_dims: int) -> float:
    """Pade-Jastrow cusp constant ``1/(D-1)`` for two opposite-spin unit charges (D = 2, 3)."""
    if n_dims not in (2, 3):
        raise InvalidParameterError(
            f"the Coulomb cusp needs dims 2 or 3, got {n_dims!r}")
    return 1.0 / (n_dims - 1)


class Wavefunction(FlatParameters):
    """``Psi(x) = F_rbm(x)^f * exp(J(x))`` with a flat parameter vector.

    Parameters
    ----------
    n_particles, n_dims : int
        N >= 1 particles in D = 1, 2 or 3 dimensions (``n_visible = N D`` RBM units).
    n_hidden : int
        Hidden units of the RBM (>= 1).
    omega : float
        Trap frequency; sets the default ``sigma``.
    form : {"sqrt", "full"}
        ``Psi = sqrt(F)`` (f = 1/2) or ``Psi = F`` (f = 1).
    sigma : float or None
        RBM width; default ``sqrt(1/(2 omega))`` ("sqrt") or ``sqrt(1/omega)`` ("full").
    jastrow_a : float or None
        Pade-Jastrow constant ``c`` (the cusp, see :func:`cusp_constant`);
        ``None`` means no Jastrow factor.
    beta : float
        Initial Pade-Jastrow ``beta`` (> 0); stored as ``log beta``.
    init_scale : float
        Standard deviation of the random initial ``a``, ``b``, ``W``.
    rng : numpy.random.Generator, int or None
        Draws the initial parameters.
    rbm : rbm.GaussianBernoulliRBM or None
        Use this (initialized) RBM instead of a fresh one; its ``sigma`` is kept.

    Attributes
    ----------
    params : ndarray (n_params,)
        ``[a (n_visible), b (n_hidden), W (n_visible*n_hidden, row-major), log beta?]``.
        The RBM's ``visible_bias``, ``hidden_bias`` and ``weights`` are views
        into it, so updating ``params`` in place updates ``rbm``. Change the
        parameters through ``params`` only: ``rbm.set_parameters``/``rbm.fit``
        replace the RBM's arrays and would detach them from ``params``.
    rbm : rbm.GaussianBernoulliRBM
    """

    def __init__(self, n_particles: int, n_dims: int, *, n_hidden: int = 2, omega: float = 1.0,
                 form: str = "sqrt", sigma: float | None = None, jastrow_a: float | None = None,
                 beta: float = 1.0, init_scale: float = 0.01, rng=None, rbm=None):
        self.n_particles = check_int("n_particles", n_particles, minimum=1)
        self.n_dims = check_int("n_dims", n_dims, minimum=1, maximum=3)
        self.omega = check_float("omega", omega, minimum=0.0, strict_min=True)
        if form not in FORMS:
            raise InvalidParameterError(f"form must be one of {FORMS}, got {form!r}")
        self.form = form
        self.f = 0.5 if form == "sqrt" else 1.0
        n_visible = self.n_particles * self.n_dims
        rng = np.random.default_rng(rng)
        if rbm is None:
            n_hidden = check_int("n_hidden", n_hidden, minimum=1)
            if sigma is None:
                sigma = float(np.sqrt(self.f / self.omega))
            sigma = check_float("sigma", sigma, minimum=0.0, strict_min=True)
            init_scale = float(init_scale)
            if not (np.isfinite(init_scale) and init_scale >= 0):
                raise InvalidParameterError(
                    f"init_scale must be a finite number >= 0, got {init_scale!r}")
            from rbm import GaussianBernoulliRBM  # scikit-learn: imported when first needed

            rbm = GaussianBernoulliRBM(n_hidden, sigma_init=sigma, init_scale=init_scale)
            rbm.initialize(n_visible, rng=rng)
            rbm.visible_bias = init_scale * rng.standard_normal(n_visible)
            rbm.hidden_bias = init_scale * rng.standard_normal(n_hidden)
        elif rbm.n_visible != n_visible:
            raise InvalidParameterError(
                f"rbm must have n_visible = n_particles * n_dims = {n_visible}, "
                f"got {rbm.n_visible}")
        self.rbm = rbm
        self.n_visible = n_visible
        self.n_hidden = rbm.n_hidden
        self.use_jastrow = jastrow_a is not None
        self.jastrow_a = float(jastrow_a) if self.use_jastrow else 0.0
        n_params = n_visible + self.n_hidden + n_visible * self.n_hidden + int(self.use_jastrow)
        params = np.empty(n_params)
        params[:n_visible] = rbm.visible_bias
        params[n_visible:n_visible + self.n_hidden] = rbm.hidden_bias
        params[n_visible + self.n_hidden:n_visible + self.n_hidden + n_visible * self.n_hidden] = \
            np.asarray(rbm.weights).ravel()
        if self.use_jastrow:
            params[-1] = np.log(check_float("beta", beta, minimum=0.0, strict_min=True))
        self._params = params
        self._bind()

    # ------------------------------------------------------------ parameters
    def _bind(self):
        nv, nh = self.n_visible, self.n_hidden
        p = self._params
        self.rbm.visible_bias = p[:nv]
        self.rbm.hidden_bias = p[nv:nv + nh]
        self.rbm.weights = p[nv + nh:nv + nh + nv * nh].reshape(nv, nh)

    # the RBM's parameters under the names of the theory (views into the flat vector)
    a = property(lambda self: self.rbm.visible_bias, doc="Visible bias (view).")
    b = property(lambda self: self.rbm.hidden_bias, doc="Hidden bias (view).")
    W = property(lambda self: self.rbm.weights, doc="Weights (n_visible, n_hidden) (view).")
    sigma = property(lambda self: self.rbm.sigma, doc="RBM widths (n_visible,) (fixed).")

    @property
    def beta(self) -> float:
        """Pade-Jastrow ``beta`` (``nan`` without the factor)."""
        return float(np.exp(self._params[-1])) if self.use_jastrow else float("nan")

    def parameter_names(self) -> list[str]:
        """Names of the entries of :attr:`params` (``a[i]``, ``b[j]``, ``W[i,j]``, ``log_beta``)."""
        names = [f"a[{i}]" for i in range(self.n_visible)]
        names += [f"b[{j}]" for j in range(self.n_hidden)]
        names += [f"W[{i},{j}]" for i in range(self.n_visible) for j in range(self.n_hidden)]
        if self.use_jastrow:
            names.append("log_beta")
        return names

    def set_free_particle_ground_state(self) -> "Wavefunction":
        """Set ``a = 0`` and ``W = 0`` (the exact state without interaction when f/sigma^2 = omega)."""
        self.a[:] = 0.0
        self.W[:] = 0.0
        return self

    def kernel_args(self) -> tuple:
        """``(a, b, W, inv_s2, f, n_particles, n_dims, use_jastrow, jastrow_a, beta)`` for vmc.trap.kernels."""
        inv_s2 = 1.0 / self.sigma**2
        beta = self.beta if self.use_jastrow else 1.0
        return (np.ascontiguousarray(self.a), np.ascontiguousarray(self.b),
                np.ascontiguousarray(self.W), inv_s2, self.f, self.n_particles, self.n_dims,
                self.use_jastrow, self.jastrow_a, beta)

    # ----------------------------------------------------------- the function
    def _check_x(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_visible:
            raise InvalidParameterError(
                f"x must have shape (n_walkers, {self.n_visible}), got {x.shape}")
        return x

    def _pairs(self, x):
        """Pair differences (n, N, N, D) and distances (n, N, N) with 1 on the diagonal."""
        X = x.reshape(x.shape[0], self.n_particles, self.n_dims)
        diff = X[:, :, None, :] - X[:, None, :, :]
        r = np.sqrt(np.sum(diff * diff, axis=-1))
        idx = np.arange(self.n_particles)
        r[:, idx, idx] = 1.0
        return diff, r

    def log_psi(self, x) -> np.ndarray:
        """``log Psi(x)`` (n_walkers,) for ``x`` (n_walkers, n_visible)."""
        x = self._check_x(x)
        out = -self.f * self.rbm.free_energy(x)
        if self.use_jastrow and self.n_particles > 1:
            _, r = self._pairs(x)
            iu = np.triu_indices(self.n_particles, 1)
            rp = r[:, iu[0], iu[1]]
            out = out + np.sum(self.jastrow_a * rp / (1.0 + self.beta * rp), axis=1)
        return out

    def grad_log_psi(self, x) -> np.ndarray:
        """``d log Psi / d x_i`` (n_walkers, n_visible); the quantum force is twice this."""
        x = self._check_x(x)
        g = -self.f * self.rbm.free_energy_grad_x(x)
        if self.use_jastrow and self.n_particles > 1:
            diff, r = self._pairs(x)
            den = 1.0 + self.beta * r
            coef = self.jastrow_a / (den * den) / r
            idx = np.arange(self.n_particles)
            coef[:, idx, idx] = 0.0
            g = g + np.einsum("npq,npqd->npd", coef, diff).reshape(x.shape)
        return g

    def laplacian_log_psi(self, x) -> np.ndarray:
        """``sum_i d^2 log Psi / d x_i^2`` (n_walkers,)."""
        x = self._check_x(x)
        lap = -self.f * self.rbm.free_energy_laplacian_x(x).sum(axis=1)
        if self.use_jastrow and self.n_particles > 1:
            _, r = self._pairs(x)
            c, beta, d = self.jastrow_a, self.beta, self.n_dims
            den = 1.0 + beta * r
            u1 = c / (den * den)
            u2 = -2.0 * c * beta / den**3
            term = u2 + (d - 1) * u1 / r
            idx = np.arange(self.n_particles)
            term[:, idx, idx] = 0.0
            lap = lap + term.sum(axis=(1, 2))  # each pair twice: once per particle
        return lap

    def log_psi_param_grad(self, x) -> np.ndarray:
        """``O_k = d log Psi / d params_k`` (n_walkers, n_params), in the order of :attr:`params`."""
        x = self._check_x(x)
        g = self.rbm.free_energy_param_grad(x)  # derivatives of -F_rbm
        n = x.shape[0]
        out = np.empty((n, self.n_params))
        nv, nh = self.n_visible, self.n_hidden
        out[:, :nv] = self.f * g["visible_bias"]
        out[:, nv:nv + nh] = self.f * g["hidden_bias"]
        out[:, nv + nh:nv + nh + nv * nh] = self.f * g["weights"].reshape(n, nv * nh)
        if self.use_jastrow:
            if self.n_particles > 1:
                _, r = self._pairs(x)
                iu = np.triu_indices(self.n_particles, 1)
                rp = r[:, iu[0], iu[1]]
                beta = self.beta
                out[:, -1] = beta * np.sum(-self.jastrow_a * rp * rp / (1.0 + beta * rp) ** 2,
                                           axis=1)
            else:
                out[:, -1] = 0.0
        return out
