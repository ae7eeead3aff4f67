"""Gaussian-binary restricted Boltzmann machine.

Real visible units ``x`` (per-unit width ``sigma``), binary hidden units
``h`` in {0, 1}.  Energy (the convention of issue 3 and of the lecture notes,
with their typos corrected)::

    E(x, h) = sum_i (x_i - a_i)^2 / (2 sigma_i^2) - b.h - sum_ij x_i W_ij h_j / sigma_i^2

with ``a = visible_bias`` (n_visible,), ``b = hidden_bias`` (n_hidden,),
``W = weights`` (n_visible, n_hidden), ``sigma`` (n_visible,).

What this energy implies (derived by completing the square in ``x_i``):

* ``p(x_i | h) = N(a_i + sum_j W_ij h_j, sigma_i^2)`` -- the conditional mean
  is exactly ``a + W h`` (not ``a + sigma^2 W h``), because the coupling
  ``x_i W_ij h_j`` is divided by ``sigma_i^2`` like the quadratic term;
* ``p(h_j = 1 | x) = sigmoid(b_j + sum_i x_i W_ij / sigma_i^2)``;
* free energy (hidden units summed out)
  ``F(x) = sum_i (x_i - a_i)^2 / (2 sigma_i^2) - sum_j softplus(b_j + sum_i x_i W_ij / sigma_i^2)``
  so that ``p(x) = exp(-F(x)) / Z``;
* the marginal is a Gaussian mixture over the ``2^n_hidden`` hidden states,
  ``p(x) = sum_h pi_h N(x; a + W h, diag sigma^2)`` with
  ``pi_h ∝ exp(b.h + sum_i ((W h)_i^2 + 2 a_i (W h)_i) / (2 sigma_i^2))``, and
  ``log Z = (n_visible/2) log(2 pi) + sum_i log sigma_i + logsumexp_h [...]``.

The VMC trial wavefunction (``vmc.trap.wavefunction``) is ``Psi(x) = exp(-F(x))``
or its square root; :meth:`GaussianBernoulliRBM.free_energy_grad_x` and
:meth:`free_energy_laplacian_x` give the position derivatives it needs and
:meth:`free_energy_param_grad` the per-sample parameter derivatives.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.parallel import with_single_threaded_blas
from mccore.validation import POSITIVE, check_bool, check_choice, check_float, check_int

from ._base import _KEY_GIBBS, _KEY_INITIALIZE, _KEY_SAMPLE, RBMBase, _Learned
from ._utils import check_data, sigmoid, softplus

__all__ = ["GaussianBernoulliRBM"]

_MAX_EXACT_HIDDEN = 25


class GaussianBernoulliRBM(RBMBase):
    """Gaussian-binary RBM (real visible units, binary hidden units).

    Parameters
    ----------
    n_hidden : int
        Number of hidden units (>= 1).
    sigma_init : float
        Initial width of every visible unit (> 0). (Called ``sigma`` before
        the RBMs became scikit-learn estimators: ``sigma`` is the learned
        widths, a parameter like ``weights``; old model files still load.)
    learn_sigma : bool
        Whether :meth:`fit` also learns ``sigma`` (through ``log sigma``).
    method : {"cd", "pcd"}
        Negative phase: CD-k from the data or persistent chains.
    k : int
        Gibbs steps per negative phase.
    n_chains : int
        Number of persistent chains (method "pcd").
    learning_rate : float
        Initial step size.
    batch_size : int
        Minibatch size.
    n_epochs : int
        Passes over the data in :meth:`fit`.
    optimizer : {"adam", "sgd"}
        Optimizer; ``momentum`` is used by SGD.
    momentum : float
        SGD momentum.
    weight_decay : float
        L2 penalty coefficient on the weights (gradient ``-weight_decay * W``).
    schedule : {"constant", "linear", "exponential", "cosine"}
        Learning-rate schedule over the planned epochs (down to 10 %).
    init_scale : float
        Standard deviation of the initial weights.
    rng : int, SeedSequence, Generator or None
        Seed of every call that draws, stored untouched: each ``fit`` and
        ``sample`` derives its own stream (:mod:`mccore.rng`), so calls
        never disturb one another; None draws fresh entropy (the seed of a
        fit is kept in ``seed_``).
    random_state : int, SeedSequence, Generator or None
        The same seed under scikit-learn's name (as for
        :class:`~rbm.BernoulliRBM`; give one of the two).

    Attributes
    ----------
    weights : ndarray (n_visible, n_hidden)
    visible_bias : ndarray (n_visible,)
    hidden_bias : ndarray (n_hidden,)
    sigma : ndarray (n_visible,)
    history_ : dict of lists
        ``"epoch"``, ``"reconstruction_error"`` (mean squared error of one
        Gibbs step x -> h -> mean x), ``"log_likelihood"`` (exact mean log p
        of the training data when ``n_hidden <= 16``, else NaN).
    seed_ : int
        The seed of the last fit's stream.
    epochs_done_ : int
    interrupted_, stopped_early_ : bool
        How the last :meth:`fit` ended (Ctrl-C; a callback returning True).

    Notes
    -----
    Training (loop, callback, checkpoints, resume, Ctrl-C) is the one of
    :mod:`rbm.training`, shared with :class:`~rbm.BernoulliRBM`.
    """

    kind = "gaussian"

    def __init__(self, n_hidden: int = 2, *, sigma_init: float = 1.0,
                 learn_sigma: bool = False, method: str = "pcd", k: int = 1,
                 n_chains: int = 100, learning_rate: float = 1e-2, batch_size: int = 100,
                 n_epochs: int = 100, optimizer: str = "adam", momentum: float = 0.5,
                 weight_decay: float = 0.0, schedule: str = "linear",
                 init_scale: float = 0.01, rng=None, random_state=None):
        self._store_hyperparameters(locals())

    _sigma = None
    # fit keeps it with the weights, which forget the cache (as before: setting it alone does not)
    sigma = _Learned("Widths ``sigma`` of the visible units (n_visible,), or None before fit.",
                     forgets=False)

    def _validate_params(self) -> None:
        """Check every hyperparameter (scikit-learn habit: at fit, not in __init__)."""
        self._check_rng_param()
        check_int("n_hidden", self.n_hidden, minimum=1)
        check_float("sigma_init", self.sigma_init, minimum=0.0, strict_min=True)
        check_bool("learn_sigma", self.learn_sigma)
        check_choice("method", self.method, ("cd", "pcd"))
        check_int("k", self.k, minimum=1)
        check_int("n_chains", self.n_chains, minimum=1)
        POSITIVE.check("learning_rate", self.learning_rate)
        self._check_loop_params()
        check_float("init_scale", self.init_scale, minimum=0.0)

    # ------------------------------------------------------------------ setup
    def hyperparameters(self) -> dict:
        """Constructor arguments except the seed (``rng``, ``random_state``), as
        stored in model files."""
        return {"n_hidden": self.n_hidden, "sigma_init": self.sigma_init,
                "learn_sigma": self.learn_sigma, "method": self.method, "k": self.k,
                "n_chains": self.n_chains, "learning_rate": self.learning_rate,
                "batch_size": self.batch_size, "n_epochs": self.n_epochs,
                "optimizer": self.optimizer, "momentum": self.momentum,
                "weight_decay": self.weight_decay, "schedule": self.schedule,
                "init_scale": self.init_scale}

    def initialize(self, n_visible: int, *, rng=None) -> "GaussianBernoulliRBM":
        """Draw initial parameters: ``W ~ N(0, init_scale^2)``, zero biases, ``sigma``.

        Parameters
        ----------
        n_visible : int
            Number of visible units (>= 1).
        rng : int, SeedSequence, Generator or None
            The stream of this call; by default one derived from the ``rng``
            hyperparameter (:mod:`mccore.rng`).
        """
        self._validate_params()
        n_visible = check_int("n_visible", n_visible, minimum=1)
        self._initialize(n_visible, None, self._call_rng(rng, _KEY_INITIALIZE))
        self._training = None
        return self

    def _initialize(self, n_visible, X, rng) -> "GaussianBernoulliRBM":
        self._weights = self.init_scale * rng.standard_normal((n_visible, self.n_hidden))
        self._visible_bias = np.zeros(n_visible) if X is None else X.mean(axis=0)
        self._hidden_bias = np.zeros(self.n_hidden)
        self._sigma = np.full(n_visible, float(self.sigma_init))
        self.n_features_in_ = n_visible
        if "history_" not in self.__dict__:
            self.history_ = {}
        return self

    def set_parameters(self, *, weights, visible_bias, hidden_bias, sigma) -> "GaussianBernoulliRBM":
        """Set all parameters at once (validated; copies are stored).

        Raises
        ------
        InvalidParameterError
            Inconsistent shapes, non-finite values or ``sigma <= 0``.
        """
        W = np.array(weights, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != self.n_hidden:
            raise InvalidParameterError(
                f"weights must have shape (n_visible, {self.n_hidden}), got {W.shape}")
        n_visible = W.shape[0]
        a = np.array(visible_bias, dtype=np.float64).reshape(-1)
        b = np.array(hidden_bias, dtype=np.float64).reshape(-1)
        s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n_visible,)).copy()
        if a.shape != (n_visible,):
            raise InvalidParameterError(
                f"visible_bias must have shape ({n_visible},), got {a.shape}")
        if b.shape != (self.n_hidden,):
            raise InvalidParameterError(
                f"hidden_bias must have shape ({self.n_hidden},), got {b.shape}")
        for name, arr in (("weights", W), ("visible_bias", a), ("hidden_bias", b),
                          ("sigma", s)):
            if not np.all(np.isfinite(arr)):
                raise InvalidParameterError(f"{name} must be finite, got NaN or inf")
        if np.any(s <= 0):
            raise InvalidParameterError(f"sigma must be > 0, got {s.min()!r}")
        self._set_parameters_unchecked(
            {"weights": W, "visible_bias": a, "hidden_bias": b, "sigma": s})
        return self

    def _set_parameters_unchecked(self, params: dict) -> None:
        self._weights = params["weights"]
        self._visible_bias = params["visible_bias"]
        self._hidden_bias = params["hidden_bias"]
        self._sigma = params["sigma"]
        self.n_features_in_ = self._weights.shape[0]

    def get_parameters(self) -> dict:
        """Copies of ``weights``, ``visible_bias``, ``hidden_bias``, ``sigma``."""
        self._check_initialized()
        return {"weights": self.weights.copy(), "visible_bias": self.visible_bias.copy(),
                "hidden_bias": self.hidden_bias.copy(), "sigma": self.sigma.copy()}

    # ------------------------------------------------------------ the model
    def _hidden_input(self, X: np.ndarray) -> np.ndarray:
        return (X / self.sigma**2) @ self.weights + self.hidden_bias

    def free_energy(self, X) -> np.ndarray:
        """Free energy ``F(x)``, hidden units summed out; ``p(x) = exp(-F(x)) / Z``.

        Parameters
        ----------
        X : array_like (n_samples, n_visible)

        Returns
        -------
        ndarray (n_samples,)
        """
        X = self._check_x(X)
        return self._free_energy(X)

    def _free_energy(self, X):
        quad = 0.5 * np.sum(((X - self.visible_bias) / self.sigma) ** 2, axis=1)
        return quad - softplus(self._hidden_input(X)).sum(axis=1)

    def energy(self, X, H) -> np.ndarray:
        """Joint energy ``E(x, h)`` of paired rows of ``X`` and ``H`` (n_samples,)."""
        X = self._check_x(X)
        H = check_data(H, name="H", n_features=self.n_hidden, binary=True)
        if H.shape[0] != X.shape[0]:
            raise InvalidParameterError(
                f"H must have as many rows as X ({X.shape[0]}), got {H.shape[0]}")
        quad = 0.5 * np.sum(((X - self.visible_bias) / self.sigma) ** 2, axis=1)
        return quad - H @ self.hidden_bias - np.einsum(
            "ni,ij,nj->n", X / self.sigma**2, self.weights, H)

    def hidden_probability(self, X) -> np.ndarray:
        """``p(h_j = 1 | x) = sigmoid(b_j + sum_i x_i W_ij / sigma_i^2)`` (n_samples, n_hidden)."""
        X = self._check_x(X)
        return sigmoid(self._hidden_input(X))


    def visible_mean(self, H) -> np.ndarray:
        """Mean of ``p(x | h)``: ``a + W h`` (n_samples, n_visible); the variance is ``sigma^2``."""
        self._check_initialized()
        H = check_data(H, name="H", n_features=self.n_hidden, binary=True)
        return self.visible_bias + H @ self.weights.T

    @with_single_threaded_blas
    def sample_hidden(self, X, *, rng=None) -> np.ndarray:
        """Draw ``h ~ p(h | x)`` as float {0, 1} (n_samples, n_hidden)."""
        X = self._check_x(X)
        return self._sample_hidden(X, self._call_rng(rng, _KEY_GIBBS))

    def _sample_hidden(self, X, rng):
        p = sigmoid(self._hidden_input(X))
        return (rng.random(p.shape) < p).astype(np.float64)

    @with_single_threaded_blas
    def sample_visible(self, H, *, rng=None) -> np.ndarray:
        """Draw ``x ~ N(a + W h, sigma^2)`` (n_samples, n_visible)."""
        self._check_initialized()
        H = check_data(H, name="H", n_features=self.n_hidden, binary=True)
        return self._sample_visible(H, self._call_rng(rng, _KEY_GIBBS))

    def _sample_visible(self, H, rng):
        mean = self.visible_bias + H @ self.weights.T
        return mean + self.sigma * rng.standard_normal(mean.shape)

    @with_single_threaded_blas
    def gibbs_step(self, X, *, rng=None) -> np.ndarray:
        """One block-Gibbs step ``x -> h ~ p(h|x) -> x' ~ p(x|h)``; returns ``x'``."""
        X = self._check_x(X)
        return self._gibbs(X, 1, self._call_rng(rng, _KEY_GIBBS))

    def _gibbs(self, X, n_steps, rng):
        for _ in range(n_steps):
            X = self._sample_visible(self._sample_hidden(X, rng), rng)
        return X

    @with_single_threaded_blas
    def sample(self, n_samples: int, *, n_steps: int = 1000, rng=None, init=None) -> np.ndarray:
        """Draw ``n_samples`` independent chains run for ``n_steps`` Gibbs steps.

        Chains start from ``init`` (n_samples, n_visible) or from
        ``N(a, sigma^2)``.

        Returns
        -------
        ndarray (n_samples, n_visible) float64
        """
        n_samples = check_int("n_samples", n_samples, minimum=1)
        n_steps = check_int("n_steps", n_steps, minimum=1)
        self._check_initialized()
        rng = self._call_rng(rng, _KEY_SAMPLE)
        if init is None:
            X = self.visible_bias + self.sigma * rng.standard_normal((n_samples, self.n_visible))
        else:
            X = self._check_x(init, "init")
            if X.shape[0] != n_samples:
                raise InvalidParameterError(
                    f"init must have n_samples={n_samples} rows, got {X.shape[0]}")
        return self._gibbs(X, n_steps, rng)

    # ------------------------------------------------------ derivatives (VMC)
    def free_energy_grad_x(self, X) -> np.ndarray:
        """``dF/dx_i = (x_i - a_i)/sigma_i^2 - sum_j W_ij p_j(x) / sigma_i^2`` (n_samples, n_visible)."""
        X = self._check_x(X)
        p = sigmoid(self._hidden_input(X))
        return (X - self.visible_bias - p @ self.weights.T) / self.sigma**2

    def free_energy_laplacian_x(self, X) -> np.ndarray:
        """Diagonal second derivatives ``d^2F/dx_i^2`` (n_samples, n_visible).

        ``d^2F/dx_i^2 = 1/sigma_i^2 - sum_j W_ij^2 p_j (1 - p_j) / sigma_i^4``;
        sum over ``i`` for the Laplacian.
        """
        X = self._check_x(X)
        p = sigmoid(self._hidden_input(X))
        s2 = self.sigma**2
        return 1.0 / s2 - (p * (1.0 - p)) @ (self.weights**2).T / s2**2

    def free_energy_param_grad(self, X) -> dict:
        """Per-sample derivatives of ``-F(x)`` with respect to the parameters.

        Returns
        -------
        dict
            ``"visible_bias"`` (n, n_visible): ``(x - a)/sigma^2``;
            ``"hidden_bias"`` (n, n_hidden): ``p(h=1|x)``;
            ``"weights"`` (n, n_visible, n_hidden): ``x_i p_j / sigma_i^2``;
            ``"log_sigma"`` (n, n_visible):
            ``((x - a)^2 - 2 x (W p)) / sigma^2``.
        """
        X = self._check_x(X)
        return self._neg_free_energy_grad(X, per_sample=True)

    def _neg_free_energy_grad(self, X, *, per_sample: bool):
        s2 = self.sigma**2
        p = sigmoid(self._hidden_input(X))
        xs = X / s2
        d = X - self.visible_bias
        if per_sample:
            out = {"weights": xs[:, :, None] * p[:, None, :], "visible_bias": d / s2,
                   "hidden_bias": p}
            out["log_sigma"] = (d * d - 2.0 * X * (p @ self.weights.T)) / s2
            return out
        n = X.shape[0]
        out = {"weights": xs.T @ p / n, "visible_bias": (d / s2).mean(axis=0),
               "hidden_bias": p.mean(axis=0)}
        if self.learn_sigma:
            out["log_sigma"] = ((d * d - 2.0 * X * (p @ self.weights.T)) / s2).mean(axis=0)
        return out

    # ---------------------------------------------------------- likelihood
    def log_partition(self, method: str = "exact", *, rng=None):
        """Exact ``log Z`` by summing over the ``2^n_hidden`` hidden states.

        Parameters
        ----------
        method : {"auto", "exact"}
            Only the exact sum is available for this model (n_hidden <= 25).

        Returns
        -------
        mcstats.Estimate
            ``mean = log Z``, ``error = 0``.
        """
        from mcstats import Estimate

        check_choice("method", method, ("auto", "exact"))
        self._check_initialized()
        if self.n_hidden > _MAX_EXACT_HIDDEN:
            raise InvalidParameterError(
                f"exact log Z needs n_hidden <= {_MAX_EXACT_HIDDEN}, got {self.n_hidden}")
        return Estimate(mean=float(self._log_partition_exact()), error=0.0, n_samples=0)

    def _log_partition_exact(self) -> float:
        from .partition import logsumexp_over_binary

        s2 = self.sigma**2
        a = self.visible_bias

        def log_weights(H):
            mu = H @ self.weights.T  # (m, n_visible)
            return H @ self.hidden_bias + np.sum((mu * mu + 2.0 * a * mu) / (2.0 * s2), axis=1)

        const = 0.5 * self.n_visible * np.log(2.0 * np.pi) + np.sum(np.log(self.sigma))
        return const + logsumexp_over_binary(self.n_hidden, log_weights)

    def mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The exact marginal as a Gaussian mixture (n_hidden <= 25).

        Returns
        -------
        weights : ndarray (2^n_hidden,)
            Mixture weights ``pi_h`` (sum to 1), hidden state ``h`` = bits of
            the index (bit j = h_j).
        means : ndarray (2^n_hidden, n_visible)
            ``a + W h``.
        sigma : ndarray (n_visible,)
            Common diagonal standard deviations.
        """
        self._check_initialized()
        if self.n_hidden > 16:
            raise InvalidParameterError(
                f"mixture() enumerates 2^n_hidden components and needs n_hidden <= 16, "
                f"got {self.n_hidden}")
        from .partition import binary_states

        H = binary_states(self.n_hidden)
        mu = H @ self.weights.T
        logw = H @ self.hidden_bias + np.sum(
            (mu * mu + 2.0 * self.visible_bias * mu) / (2.0 * self.sigma**2), axis=1)
        logw -= logw.max()
        w = np.exp(logw)
        return w / w.sum(), self.visible_bias + mu, self.sigma.copy()

    def score_samples(self, X) -> np.ndarray:
        """Exact ``log p(x) = -F(x) - log Z`` (n_samples,); a density in R^n_visible."""
        X = self._check_x(X)
        return -self._free_energy(X) - self.log_partition().mean

    @property
    def base_learning_rate(self) -> float:
        """The initial learning rate (``learning_rate``; the schedule starts there)."""
        return float(self.learning_rate)

    @classmethod
    def _hyperparameters_from_file(cls, hyperparameters: dict) -> dict:
        hp = dict(hyperparameters)
        if "sigma" in hp:            # files written before sigma_init was named so
            hp["sigma_init"] = hp.pop("sigma")
        return hp
