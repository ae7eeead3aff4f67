"""Binary-binary restricted Boltzmann machine.

Visible ``v`` in {0, 1}^n_visible, hidden ``h`` in {0, 1}^n_hidden, energy::

    E(v, h) = -a.v - b.h - v.W.h        (a = visible_bias, b = hidden_bias, W = weights)

    p(h_j = 1 | v) = sigmoid(b_j + (v W)_j)
    p(v_i = 1 | h) = sigmoid(a_i + (W h)_i)
    F(v) = -a.v - sum_j softplus(b_j + (v W)_j),     p(v) = exp(-F(v)) / Z

Training maximizes the log-likelihood; its gradient is the data average of
``-dF/dtheta`` (positive phase) minus its model average (negative phase,
estimated by CD-k, persistent chains or parallel tempering, see
:mod:`rbm.negative_phase`).

Internal parametrization: by default (``encoding="pm1"``) training works with
visible units ``s = 2 v - 1`` and hidden units ``g = 2 h - 1``, both in
{-1, +1}, i.e. energy ``-c.s - d.g - s.U.g``. This is the same family of
distributions; the exact map to the canonical parameters is ``W = 4 U``,
``a = 2 c - 2 sum_j U_ij``, ``b = 2 d - 2 sum_i U_ij`` (the additive constant
cancels in Z); ``encoding="pm1-visible"`` (``W = 2 U``, ``a = 2 c``,
``b = d - sum_i U_ij``) and ``"01"`` (the identity) are available too.
Gradient steps in these coordinates are better conditioned (units are centred
for symmetric data). On L = 4 Ising data at T = 1.5 with Adam (2 x 10^4
samples, 16 hidden units, all other settings the defaults), {0, 1} units
and {-1, +1} visible with {0, 1} hidden units both stalled near 0.038 nats
of exact KL, {-1, +1} units on both layers reached 0.007 (REFERENCES.md
reports 7.7-9.0 nats for plain {0, 1} units with Adam and no other help).
The public attributes ``weights``, ``visible_bias``, ``hidden_bias`` and
model files always hold the canonical {0, 1} parameters.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from mcstats import Estimate
from mccore.errors import DivergenceError, InvalidParameterError
from mccore.parallel import with_single_threaded_blas

from ._utils import (check_bool, check_choice, check_data, check_float, check_int,
                     check_rng, sigmoid, softplus)
from .negative_phase import InternalParams, TemperedChains, advance_chains, gibbs
from .optim import SCHEDULES, learning_rate_at, make_optimizer
from .partition import (MAX_EXACT_UNITS, bernoulli_log_partition_ais,
                        bernoulli_log_partition_exact)

__all__ = ["BernoulliRBM"]

_ENCODINGS = {"pm1": (2.0, -1.0, 2.0, -1.0), "pm1-visible": (2.0, -1.0, 1.0, 0.0),
              "01": (1.0, 0.0, 1.0, 0.0)}
_AUTO_LR_MAX, _AUTO_LR_SCALE = 0.01, 0.04     # learning_rate="auto"
_MONITOR_ROWS = 2000
_MONITOR_BUDGET = 4_000_000   # rows x n_visible x n_hidden of the per-epoch monitoring
_MONITOR_EXACT_MAX = 20


def data_hash(X: np.ndarray) -> str:
    """SHA-1 of the data (shape + uint8 bytes) for provenance and resume checks."""
    arr = np.ascontiguousarray(np.asarray(X, dtype=np.uint8))
    h = hashlib.sha1(str(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def _sufficient_statistics(u, p: InternalParams, weights=None) -> dict:
    """Averages of ``-dF/dtheta`` in internal coordinates over the rows of ``u``.

    ``-dF/dU = u E[g|u]^T``, ``-dF/dc = u``, ``-dF/dd = E[g|u]``; averaged
    uniformly or with ``weights`` (n,) summing to one. The log-likelihood
    gradient is the data average minus the model average.
    """
    g = p.hidden_mean(u)
    if weights is None:
        n = u.shape[0]
        return {"U": u.T @ g / n, "c": u.mean(axis=0), "d": g.mean(axis=0)}
    w = np.asarray(weights, dtype=u.dtype)
    return {"U": (u * w[:, None]).T @ g, "c": w @ u, "d": w @ g}


def _views(flat, nv, nh) -> dict:
    """Views ``U`` (nv, nh), ``c`` (nv,), ``d`` (nh,) into one flat parameter vector."""
    return {"U": flat[:nv * nh].reshape(nv, nh), "c": flat[nv * nh:nv * nh + nv],
            "d": flat[nv * nh + nv:]}


class BernoulliRBM:
    """Binary-binary RBM with scikit-learn habits.

    Parameters
    ----------
    n_hidden : int
        Number of hidden units (>= 1).
    method : {"pcd", "cd", "pt"}
        Negative phase: persistent chains (PCD), CD-k chains restarted at the
        minibatch, or parallel tempering (``n_temperatures`` replicas of each
        persistent chain).
        The default is CD-k: on L = 8 Ising data (64 visible, 64 hidden,
        10^4 Wolff samples, all other settings the defaults, samples from
        5000 chains of 500 Gibbs steps) PCD-5 with 100 chains left the
        generated set at T = 2.269 off the Monte Carlo test set by +4 % in
        |m|, -45 % in c and -62 % in chi, CD-5 by +0.2 %, +6 % and +2 %
        (the baseline MC training vs test set: -1.5 %, +5 %, +10 %); at
        T = 3.5 the energy went from +7.3 % (PCD-5) to +4.7 % (CD-5, also
        CD-10, 160 epochs or 128 hidden units: still +4.4 to +4.9 %, an open
        problem); at T = 1.5 both keep e and |m| within 0.1 % and chi
        about -16 %. At L = 4 CD-5 and PCD-5 give the same exact KL
        (0.005-0.008 nats) in the same time; the flip moves keep the
        ordered-phase model symmetric with either.
    k : int
        Gibbs steps per parameter update (the k of CD-k / PCD-k).
    n_chains : int
        Persistent chains (PCD, PT).
    learning_rate : float or "auto"
        Initial learning rate. ``"auto"`` (default):
        ``min(0.01, 0.04 / sqrt(n_visible))``, i.e. 0.01 up to 16 visible
        units, 0.005 for 64 and 0.0025 for 256. Adam moves every weight by
        about the learning rate per update whatever its gradient, and the
        jitter of the n_visible weights into a hidden unit adds up in its
        input like sqrt(n_visible): the model learns it as spurious random
        couplings. At L = 16 (256 visible) the fixed 0.01 left the generated
        set disordered at T = 1.5 (e +49 %) and 13 % off in e at T = 3.5;
        0.002 brought T = 1.5 to 0.1 %.
    batch_size : int
        Minibatch size.
    n_epochs : int
        Passes over the (augmented) training data in :meth:`fit`.
    optimizer : {"adam", "sgd"}
        Adam, or SGD with ``momentum``.
    momentum : float
        SGD momentum in [0, 1).
    weight_decay : float
        L2 penalty on the internal weights ``U`` (gradient ``-weight_decay U``).
    schedule : {"constant", "linear", "exponential", "cosine"}
        Learning-rate schedule over ``n_epochs`` (ends at ``final_lr_fraction``).
    final_lr_fraction : float
        Final over initial learning rate for decaying schedules.
    encoding : {"pm1", "pm1-visible", "01"}
        Internal encoding of the units during training (see the module
        docstring); it does not change the model family or the stored
        parameters.
    flip_moves : bool
        Add the Metropolis global-flip move ``v -> 1 - v`` to the negative-phase
        chains and to :meth:`sample` (exact MCMC for any model; lets chains
        move between flip-related modes).
    flip_augment : bool
        Train on the data together with its global flip ``1 - X`` (for data
        known to be flip symmetric, e.g. Ising spins without field).
    n_temperatures : int
        Replicas per chain for ``method="pt"`` (>= 2).
    beta_min : float
        Smallest inverse temperature of the PT ladder (geometric from 1).
    init_scale : float
        Standard deviation of the initial internal weights.
    validation_fraction : float
        Fraction of X held out as validation data when ``X_val`` is not given.
    average_fraction : float
        Polyak-Ruppert averaging: the fitted parameters are the average of the
        iterates over every update of the last ``average_fraction`` of the
        epochs (0 disables). This removes most of the minibatch noise left at
        the end of training (on L = 4 Ising data it takes the model's energy
        bias from ~5-14 to a few standard errors of the data mean). The
        history's last entries describe the averaged model.
    dtype : {"float64", "float32"}
        Arithmetic of the training loop (float32 is faster with BLAS; the
        canonical parameters are stored as float64).
    rng : numpy.random.Generator, int or None
        Source of randomness.

    Attributes
    ----------
    weights : ndarray (n_visible, n_hidden)
    visible_bias : ndarray (n_visible,)
    hidden_bias : ndarray (n_hidden,)
    history_ : dict of lists
        Per epoch: ``epoch``, ``learning_rate``, ``reconstruction_error``
        (mean squared error of the mean-field reconstruction v -> p(h|v) ->
        p(v|h)), ``pseudo_log_likelihood`` (mean over rows and all sites,
        deterministic, on the first 2000 training rows, fewer -- down to 100 --
        when n_visible x n_hidden is large), ``log_likelihood`` (exact
        mean log p(v) on those rows when the smaller layer has <= 20 units,
        else NaN), the same with ``val_`` prefix for validation data, and
        ``flip_acceptance`` / ``swap_acceptance`` of the chains.
    persistent_chains_ : ndarray or None
        Model samples of the negative phase ({0, 1}, uint8).
    n_features_in_ : int
    metadata_ : dict
        Provenance read from / written to model files.
    """

    kind = "bernoulli"

    def __init__(self, n_hidden: int = 16, *, method: str = "cd", k: int = 5,
                 n_chains: int = 100, learning_rate: float | str = "auto",
                 batch_size: int = 100,
                 n_epochs: int = 80, optimizer: str = "adam", momentum: float = 0.5,
                 weight_decay: float = 0.0, schedule: str = "linear",
                 final_lr_fraction: float = 0.03, encoding: str = "pm1",
                 flip_moves: bool = True, flip_augment: bool = False,
                 n_temperatures: int = 8, beta_min: float = 0.3, init_scale: float = 0.01,
                 validation_fraction: float = 0.0, average_fraction: float = 0.25,
                 dtype: str = "float64", rng=None):
        self.n_hidden = check_int("n_hidden", n_hidden, minimum=1)
        self.method = check_choice("method", method, ("pcd", "cd", "pt"))
        self.k = check_int("k", k, minimum=1)
        self.n_chains = check_int("n_chains", n_chains, minimum=1)
        self.learning_rate = (learning_rate if isinstance(learning_rate, str)
                              and learning_rate == "auto" else
                              check_float("learning_rate", learning_rate, minimum=0.0,
                                          strict_min=True))
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.n_epochs = check_int("n_epochs", n_epochs, minimum=0)
        self.optimizer = check_choice("optimizer", optimizer, ("adam", "sgd"))
        self.momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0,
                                    strict_max=True)
        self.weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
        self.schedule = check_choice("schedule", schedule, SCHEDULES)
        self.final_lr_fraction = check_float("final_lr_fraction", final_lr_fraction,
                                             minimum=0.0, maximum=1.0, strict_min=True)
        self.encoding = check_choice("encoding", encoding, tuple(_ENCODINGS))
        self.flip_moves = check_bool("flip_moves", flip_moves)
        self.flip_augment = check_bool("flip_augment", flip_augment)
        self.n_temperatures = check_int("n_temperatures", n_temperatures, minimum=2)
        self.beta_min = check_float("beta_min", beta_min, minimum=0.0, maximum=1.0,
                                    strict_min=True, strict_max=True)
        self.init_scale = check_float("init_scale", init_scale, minimum=0.0)
        self.validation_fraction = check_float("validation_fraction", validation_fraction,
                                               minimum=0.0, maximum=1.0, strict_max=True)
        self.average_fraction = check_float("average_fraction", average_fraction, minimum=0.0,
                                            maximum=1.0, strict_max=True)
        self.dtype = check_choice("dtype", dtype, ("float64", "float32"))
        self.rng_ = check_rng(rng)
        self.weights = None
        self.visible_bias = None
        self.hidden_bias = None
        self.history_: dict = {}
        self.persistent_chains_ = None
        self.metadata_: dict = {}
        self.log_partition_ = None
        self.epochs_done_ = 0
        self._opt = None
        self._internal = None     # dict U, c, d during training
        self._tempered = None
        self._split_seed = None
        self._data_hash = None
        self._avg_sum = None
        self._avg_count = 0

    # ---------------------------------------------------------------- setup
    @property
    def n_visible(self) -> int | None:
        """Number of visible units (``None`` before fit/initialize)."""
        return None if self.weights is None else self.weights.shape[0]

    @property
    def n_features_in_(self) -> int | None:
        return self.n_visible

    @property
    def base_learning_rate(self) -> float:
        """The initial learning rate: ``learning_rate``, or the ``"auto"`` rule
        ``min(0.01, 0.04 / sqrt(n_visible))`` once ``n_visible`` is known."""
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if self.n_visible is None:
            raise InvalidParameterError("learning_rate='auto' needs n_visible: fit or "
                                        "initialize the model first")
        return min(_AUTO_LR_MAX, _AUTO_LR_SCALE / math.sqrt(self.n_visible))

    def hyperparameters(self) -> dict:
        """Constructor arguments (stored in model files)."""
        names = ("n_hidden", "method", "k", "n_chains", "learning_rate", "batch_size",
                 "n_epochs", "optimizer", "momentum", "weight_decay", "schedule",
                 "final_lr_fraction", "encoding", "flip_moves", "flip_augment",
                 "n_temperatures", "beta_min", "init_scale", "validation_fraction",
                 "average_fraction", "dtype")
        return {n: getattr(self, n) for n in names}

    def initialize(self, n_visible: int, *, X=None, rng=None) -> "BernoulliRBM":
        """Draw initial parameters (weights ~ N(0, init_scale^2) internally).

        Visible biases start at the data marginals when ``X`` is given
        (``p(v_i = 1) = mean_i``), else at zero; hidden biases at zero.
        """
        n_visible = check_int("n_visible", n_visible, minimum=1)
        rng = self.rng_ if rng is None else check_rng(rng)
        alpha = _ENCODINGS[self.encoding][0]
        U = self.init_scale * rng.standard_normal((n_visible, self.n_hidden))
        c = np.zeros(n_visible)
        if X is not None:
            mean = np.clip(np.asarray(X, dtype=np.float64).mean(axis=0), 1e-3, 1 - 1e-3)
            c = np.log(mean / (1.0 - mean)) / alpha
        d = np.zeros(self.n_hidden)
        self._set_from_internal(U, c, d)
        self.persistent_chains_ = None
        self._opt = None
        self._internal = None
        self._tempered = None
        self.log_partition_ = None
        self.epochs_done_ = 0
        self._avg_sum, self._avg_count = None, 0
        return self

    def set_parameters(self, *, weights, visible_bias, hidden_bias) -> "BernoulliRBM":
        """Set the canonical parameters (validated, copied)."""
        W = np.array(weights, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != self.n_hidden:
            raise InvalidParameterError(
                f"weights must have shape (n_visible, {self.n_hidden}), got {W.shape}")
        a = np.array(visible_bias, dtype=np.float64).reshape(-1)
        b = np.array(hidden_bias, dtype=np.float64).reshape(-1)
        if a.shape != (W.shape[0],):
            raise InvalidParameterError(
                f"visible_bias must have shape ({W.shape[0]},), got {a.shape}")
        if b.shape != (self.n_hidden,):
            raise InvalidParameterError(
                f"hidden_bias must have shape ({self.n_hidden},), got {b.shape}")
        for name, arr in (("weights", W), ("visible_bias", a), ("hidden_bias", b)):
            if not np.all(np.isfinite(arr)):
                raise InvalidParameterError(f"{name} must be finite, got NaN or inf")
        self.weights, self.visible_bias, self.hidden_bias = W, a, b
        self.log_partition_ = None
        self._internal = None
        return self

    def get_parameters(self) -> dict:
        """Copies of the canonical ``weights``, ``visible_bias``, ``hidden_bias``."""
        self._check_initialized()
        return {"weights": self.weights.copy(), "visible_bias": self.visible_bias.copy(),
                "hidden_bias": self.hidden_bias.copy()}

    # exact reparametrization between internal and canonical coordinates
    def _set_from_internal(self, U, c, d) -> None:
        al, be, ah, bh = _ENCODINGS[self.encoding]
        U = np.asarray(U, dtype=np.float64)
        self.weights = al * ah * U
        self.visible_bias = al * np.asarray(c, dtype=np.float64) + al * bh * U.sum(axis=1)
        self.hidden_bias = ah * np.asarray(d, dtype=np.float64) + be * ah * U.sum(axis=0)
        self.log_partition_ = None

    def _to_internal(self) -> dict:
        al, be, ah, bh = _ENCODINGS[self.encoding]
        U = self.weights / (al * ah)
        return {"U": U, "c": (self.visible_bias - al * bh * U.sum(axis=1)) / al,
                "d": (self.hidden_bias - be * ah * U.sum(axis=0)) / ah}

    def _check_initialized(self):
        if self.weights is None:
            raise InvalidParameterError(
                "the model has no parameters yet: call fit(X) or initialize(n_visible) first")

    def _check_v(self, X, name="X"):
        self._check_initialized()
        return check_data(X, name=name, n_features=self.n_visible, binary=True)

    # ------------------------------------------------------------- the model
    def free_energy(self, X) -> np.ndarray:
        """``F(v) = -a.v - sum_j softplus(b_j + (v W)_j)`` (n_samples,).

        ``p(v) = exp(-F(v)) / Z``.
        """
        return self._free_energy(self._check_v(X))

    def _free_energy(self, V):
        return -(V @ self.visible_bias) - softplus(V @ self.weights + self.hidden_bias).sum(axis=1)

    def energy(self, V, H) -> np.ndarray:
        """Joint energy ``E(v, h) = -a.v - b.h - v.W.h`` of paired rows (n_samples,)."""
        V = self._check_v(V, "V")
        H = check_data(H, name="H", n_features=self.n_hidden, binary=True)
        if H.shape[0] != V.shape[0]:
            raise InvalidParameterError(
                f"H must have as many rows as V ({V.shape[0]}), got {H.shape[0]}")
        return -(V @ self.visible_bias) - H @ self.hidden_bias - np.einsum(
            "ni,ij,nj->n", V, self.weights, H)

    def hidden_probability(self, X) -> np.ndarray:
        """``p(h_j = 1 | v) = sigmoid(b_j + (v W)_j)`` (n_samples, n_hidden)."""
        V = self._check_v(X)
        return sigmoid(V @ self.weights + self.hidden_bias)

    def transform(self, X) -> np.ndarray:
        """Hidden-unit activation probabilities ``p(h = 1 | v)`` (n_samples, n_hidden)."""
        return self.hidden_probability(X)

    def visible_probability(self, H) -> np.ndarray:
        """``p(v_i = 1 | h) = sigmoid(a_i + (W h)_i)`` (n_samples, n_visible)."""
        self._check_initialized()
        H = check_data(H, name="H", n_features=self.n_hidden, binary=True)
        return sigmoid(H @ self.weights.T + self.visible_bias)

    @with_single_threaded_blas
    def gibbs(self, X, *, n_steps: int = 1, rng=None) -> np.ndarray:
        """``n_steps`` block-Gibbs steps ``v -> h -> v'`` from ``X``; returns uint8 {0,1}.

        No flip moves (a plain Gibbs kernel); see :meth:`sample`.
        """
        V = self._check_v(X)
        n_steps = check_int("n_steps", n_steps, minimum=1)
        rng = self.rng_ if rng is None else check_rng(rng)
        p = self._internal_params(np.float64)
        u = gibbs(p.encode(V), p, n_steps, rng)
        return p.decode(u)

    @with_single_threaded_blas
    def sample(self, n_samples: int, *, n_steps: int = 1000, rng=None, init=None) -> np.ndarray:
        """Draw ``n_samples`` visible configurations from independent chains.

        Each chain starts from ``init`` (rows, {0,1}) or uniformly random bits
        and runs ``n_steps`` block-Gibbs steps; with ``flip_moves`` each step
        is followed by a global-flip Metropolis move.

        Returns
        -------
        ndarray (n_samples, n_visible) uint8 in {0, 1}
        """
        n_samples = check_int("n_samples", n_samples, minimum=1)
        n_steps = check_int("n_steps", n_steps, minimum=1)
        rng = self.rng_ if rng is None else check_rng(rng)
        self._check_initialized()
        if init is None:
            V = (rng.random((n_samples, self.n_visible)) < 0.5).astype(np.float64)
        else:
            V = self._check_v(init, "init")
            if V.shape[0] != n_samples:
                raise InvalidParameterError(
                    f"init must have n_samples={n_samples} rows, got {V.shape[0]}")
        p = self._internal_params(np.float64)
        u = p.encode(V)
        advance_chains(u, p.hidden_input(u), p, n_steps, rng, flip_moves=self.flip_moves)
        return p.decode(u)

    def _internal_params(self, dtype) -> InternalParams:
        q = self._to_internal()
        return InternalParams(q["U"].astype(dtype), q["c"].astype(dtype),
                              q["d"].astype(dtype), *_ENCODINGS[self.encoding])

    # ------------------------------------------------------------ likelihood
    @with_single_threaded_blas
    def log_partition(self, method: str = "auto", *, rng=None, n_runs: int = 100,
                      n_betas: int = 10000) -> Estimate:
        """``log Z`` exactly or by annealed importance sampling.

        Parameters
        ----------
        method : {"auto", "exact", "ais"}
            ``auto``: exact when the smaller layer has <= 25 units, else AIS.
            ``exact`` sums over the ``2^min(n_visible, n_hidden)`` states of
            the smaller layer.
        rng : Generator, int or None
            For AIS (default: the model's ``rng_``).
        n_runs, n_betas : int
            AIS runs and intermediate distributions.

        Returns
        -------
        mcstats.Estimate
            Exact: ``error = 0``. AIS: delta-method standard error over runs.
            The result is cached in ``log_partition_`` (used by
            :meth:`score_samples`).
        """
        check_choice("method", method, ("auto", "exact", "ais"))
        self._check_initialized()
        small = min(self.n_visible, self.n_hidden)
        if method == "auto":
            method = "exact" if small <= MAX_EXACT_UNITS else "ais"
        if method == "exact":
            if small > MAX_EXACT_UNITS:
                raise InvalidParameterError(
                    f"exact log Z needs min(n_visible, n_hidden) <= {MAX_EXACT_UNITS}, "
                    f"got {small}; use method='ais'")
            est = Estimate(mean=bernoulli_log_partition_exact(
                self.weights, self.visible_bias, self.hidden_bias), error=0.0, n_samples=0)
        else:
            n_runs = check_int("n_runs", n_runs, minimum=2)
            n_betas = check_int("n_betas", n_betas, minimum=1)
            rng = self.rng_ if rng is None else check_rng(rng)
            est = bernoulli_log_partition_ais(self.weights, self.visible_bias,
                                              self.hidden_bias, rng=rng, n_runs=n_runs,
                                              n_betas=n_betas)
        self.log_partition_ = est
        return est

    def score_samples(self, X) -> np.ndarray:
        """``log p(v) = -F(v) - log Z`` (n_samples,), deterministic.

        Uses the cached ``log_partition_``; computes it exactly when possible.

        Raises
        ------
        InvalidParameterError
            When log Z is not exactly computable and no AIS estimate has been
            made (call ``log_partition(method="ais")`` first).
        """
        V = self._check_v(X)
        if self.log_partition_ is None:
            if min(self.n_visible, self.n_hidden) > MAX_EXACT_UNITS:
                raise InvalidParameterError(
                    "log Z is not exactly computable for this model size; call "
                    "log_partition(method='ais') first")
            self.log_partition(method="exact")
        return -self._free_energy(V) - self.log_partition_.mean

    def pseudo_log_likelihood(self, X) -> np.ndarray:
        """Pseudo-log-likelihood over all sites, ``sum_i log p(v_i | v_-i)`` (n_samples,).

        Deterministic (every site, not a random one as in scikit-learn):
        ``log p(v_i | v_-i) = -softplus(F(v) - F(v with site i flipped))``.
        """
        V = self._check_v(X)
        return self._pseudo_log_likelihood(V)

    def _pseudo_log_likelihood(self, V):
        pre = V @ self.weights + self.hidden_bias
        f0 = -(V @ self.visible_bias) - softplus(pre).sum(axis=1)
        out = np.zeros(V.shape[0])
        for i in range(V.shape[1]):
            sign = 1.0 - 2.0 * V[:, i]
            f1 = (-(V @ self.visible_bias) - sign * self.visible_bias[i]
                  - softplus(pre + sign[:, None] * self.weights[i]).sum(axis=1))
            out -= softplus(f0 - f1)
        return out

    def reconstruction_error(self, X) -> float:
        """Mean squared error of the mean-field reconstruction ``v -> p(h|v) -> p(v|h)``."""
        V = self._check_v(X)
        return self._reconstruction_error(V)

    def _reconstruction_error(self, V):
        ph = sigmoid(V @ self.weights + self.hidden_bias)
        pv = sigmoid(ph @ self.weights.T + self.visible_bias)
        return float(np.mean((V - pv) ** 2))

    # --------------------------------------------------------------- training
    @with_single_threaded_blas
    def fit(self, X, *, X_val=None, callback=None, progress: bool = False,
            checkpoint=None, checkpoint_every: int = 1, resume: bool = False) -> "BernoulliRBM":
        """Train for ``n_epochs`` epochs of minibatch gradient ascent on log p.

        Parameters
        ----------
        X : array_like (n_samples, n_visible) in {0, 1}
            Training data.
        X_val : array_like or None
            Validation data (else ``validation_fraction`` of X is held out).
        callback : callable or None
            ``callback(model, epoch)`` after every epoch (``history_`` updated);
            returning ``True`` stops training.
        progress : bool
            Show a tqdm progress bar over epochs.
        checkpoint : path or None
            Model file written (atomically) every ``checkpoint_every`` epochs
            with the full training state (optimizer moments, persistent
            chains, RNG state, epoch counter, history).
        resume : bool
            If ``checkpoint`` exists, continue the run stored there (the same
            data is required) instead of starting afresh. The continued run
            is identical to an uninterrupted one.

        Returns
        -------
        self
        """
        X = check_data(X, name="X", binary=True, dtype=np.uint8)
        checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
        resumed = False
        if resume and checkpoint is not None:
            from pathlib import Path
            if Path(checkpoint).exists():
                self._resume_from(checkpoint, X)
                resumed = True
        if not resumed:
            self._data_hash = data_hash(X)
            self._split_seed = int(self.rng_.integers(2**63))
        X_train, X_val = self._split(X, X_val)
        if not resumed:
            self.initialize(X.shape[1], X=X_train)
            self.history_ = {}
        elif X_train.shape[1] != self.n_visible:
            raise InvalidParameterError(
                f"X must have {self.n_visible} columns, got {X_train.shape[1]}")
        X_train = self._augment(X_train)
        rows = self._monitor_rows()
        monitor = (X_train[:rows] if not self.flip_augment else
                   X_train[: X_train.shape[0] // 2][:rows]).astype(np.float64)
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=self.n_epochs, initial=self.epochs_done_, desc="fit", unit="epoch")
        avg_start = self.n_epochs - int(round(self.average_fraction * self.n_epochs))
        try:
            while self.epochs_done_ < self.n_epochs:
                lr = learning_rate_at(self.base_learning_rate, self.schedule,
                                      self.epochs_done_ / max(self.n_epochs, 1),
                                      final_fraction=self.final_lr_fraction)
                stats = self._epoch(X_train, lr, average=self.epochs_done_ >= avg_start)
                self.epochs_done_ += 1
                self._record(monitor, X_val, lr, stats)
                if self.epochs_done_ == self.n_epochs and self._avg_count > 0:
                    self._finish_average(monitor, X_val)
                if checkpoint is not None and (self.epochs_done_ % checkpoint_every == 0
                                               or self.epochs_done_ == self.n_epochs):
                    from .io import save
                    save(self, checkpoint, overwrite=True, training_state=True)
                if bar is not None:
                    bar.update(1)
                    post = {"recon": f"{self.history_['reconstruction_error'][-1]:.4f}"}
                    ll = self.history_["log_likelihood"][-1]
                    if math.isfinite(ll):
                        post["loglik"] = f"{ll:.4f}"
                    bar.set_postfix(post)
                if callback is not None and callback(self, self.epochs_done_):
                    break
        finally:
            if bar is not None:
                bar.close()
        return self

    @with_single_threaded_blas
    def partial_fit(self, X) -> "BernoulliRBM":
        """One pass over ``X`` in minibatches at the initial learning rate.

        Initializes the model on first use; persistent chains and optimizer
        state carry over between calls.
        """
        X = check_data(X, name="X", binary=True, dtype=np.uint8)
        if self.weights is None:
            self.initialize(X.shape[1], X=X)
        elif X.shape[1] != self.n_visible:
            raise InvalidParameterError(
                f"X must have {self.n_visible} columns (n_visible of the model), "
                f"got {X.shape[1]}")
        self._epoch(self._augment(X), self.base_learning_rate)
        return self

    def _split(self, X, X_val):
        if X_val is not None:
            X_val = check_data(X_val, name="X_val", n_features=X.shape[1], binary=True)
            return X, X_val
        if self.validation_fraction > 0:
            n_val = int(round(self.validation_fraction * X.shape[0]))
            if n_val >= 1 and n_val < X.shape[0]:
                perm = np.random.default_rng(self._split_seed).permutation(X.shape[0])
                return X[perm[n_val:]], X[perm[:n_val]]
        return X, None

    def _augment(self, X):
        if self.flip_augment:
            return np.concatenate([X, 1 - X], axis=0)
        return X

    def _monitor_rows(self) -> int:
        """Rows used for the per-epoch history: 2000, fewer for large models so
        that the all-site pseudo-likelihood stays cheap beside an epoch."""
        return int(min(_MONITOR_ROWS, max(100, _MONITOR_BUDGET // (self.n_visible
                                                                  * self.n_hidden))))

    def _finish_average(self, monitor, X_val) -> None:
        """Replace the parameters by the Polyak-Ruppert average and re-record."""
        nv, nh = self.n_visible, self.n_hidden
        q = _views(self._avg_sum / self._avg_count, nv, nh)
        self._set_from_internal(q["U"], q["c"], q["d"])
        self._avg_sum, self._avg_count = None, 0
        h = self.history_
        stats = {"flip_acceptance": h["flip_acceptance"].pop(),
                 "swap_acceptance": h["swap_acceptance"].pop()}
        lr = h["learning_rate"].pop()
        for key in list(h):
            if key not in ("flip_acceptance", "swap_acceptance", "learning_rate"):
                h[key].pop()
        self._record(monitor, X_val, lr, stats)

    def _epoch(self, X, lr, average: bool = False) -> dict:
        """One pass over ``X`` (already validated/augmented); returns chain statistics.

        With ``average`` the iterates after every update are summed into the
        Polyak-Ruppert average.
        """
        rng = self.rng_
        dt = np.dtype(self.dtype)
        if self._opt is None:
            self._opt = make_optimizer(self.optimizer, self.base_learning_rate,
                                       momentum=self.momentum)
        # all internal parameters (and their gradient) live in one flat buffer,
        # so that an optimizer step is one fused pass (rbm.kernels)
        nv, nh = self.n_visible, self.n_hidden
        theta = np.empty(nv * nh + nv + nh, dtype=dt)
        grad = np.empty_like(theta)
        q = _views(theta, nv, nh)
        gq = _views(grad, nv, nh)
        for key, value in self._to_internal().items():
            q[key][...] = value
        p = InternalParams(q["U"], q["c"], q["d"], *_ENCODINGS[self.encoding])
        if average:
            if self._avg_sum is None:
                self._avg_sum = np.zeros(theta.shape, dtype=np.float64)
                self._avg_count = 0
            avg_sum = self._avg_sum
        persistent = self.method in ("pcd", "pt")
        if persistent:
            if self.persistent_chains_ is None:
                idx = rng.integers(0, X.shape[0], self.n_chains)
                self.persistent_chains_ = X[idx].astype(np.uint8)
            if self.method == "pt":
                if self._tempered is None:
                    self._tempered = TemperedChains(p.encode(self.persistent_chains_),
                                                    self.n_temperatures, self.beta_min)
                self._tempered.state = self._tempered.state.astype(dt)
        # Chains and data share two stacked buffers: rows [0, n_neg) are the
        # negative-phase chains, the next nb rows the minibatch, so that the
        # gradient is ONE weighted product  A^T (w * E[g|A])  (weights -1/n_neg
        # on chains, +1/nb on data) instead of two products, two means, two sums.
        n_neg_max = self.n_chains if persistent else self.batch_size
        rows = n_neg_max + self.batch_size
        A = np.empty((rows, nv), dtype=dt)            # internal visible states
        Xh = np.empty((rows, nh), dtype=dt)           # their hidden inputs d + A U
        G = np.empty((rows, nh), dtype=dt)            # weighted hidden means
        w = np.empty(rows, dtype=dt)
        if self.method == "pcd":
            A[:n_neg_max] = p.encode(self.persistent_chains_)
            np.matmul(A[:n_neg_max], p.U, out=Xh[:n_neg_max])
            Xh[:n_neg_max] += p.d
        order = rng.permutation(X.shape[0])
        Xd = p.encode(X[order])        # shuffled once; minibatches are views
        flips = []
        for start in range(0, X.shape[0], self.batch_size):
            ub = Xd[start:start + self.batch_size]
            nb = ub.shape[0]
            n_neg = n_neg_max if persistent else nb
            m = n_neg + nb
            neg_u, neg_x = A[:n_neg], Xh[:n_neg]
            A[n_neg:m] = ub
            np.matmul(ub, p.U, out=Xh[n_neg:m])
            Xh[n_neg:m] += p.d
            if self.method == "cd":
                neg_u[...] = ub
                neg_x[...] = Xh[n_neg:m]
                flips.append(advance_chains(neg_u, neg_x, p, self.k, rng,
                                            flip_moves=self.flip_moves))
            elif self.method == "pcd":
                # the first hidden draw uses the chains' hidden input from the
                # previous minibatch (computed before the last parameter update,
                # as scikit-learn does); this saves one matrix product per update
                flips.append(advance_chains(neg_u, neg_x, p, self.k, rng,
                                            flip_moves=self.flip_moves))
            else:
                self._tempered.step(p, self.k, rng, flip_moves=self.flip_moves)
                neg_u[...] = self._tempered.samples
                np.matmul(neg_u, p.U, out=neg_x)
                neg_x += p.d
            w[:n_neg] = -1.0 / n_neg
            w[n_neg:m] = 1.0 / nb
            g = p.hidden_mean(x=Xh[:m], out=G[:m])
            g *= w[:m, None]
            np.matmul(A[:m].T, g, out=gq["U"])
            np.matmul(w[:m], A[:m], out=gq["c"])
            np.sum(g, axis=0, out=gq["d"])
            if self.weight_decay:
                gq["U"] -= self.weight_decay * p.U
            self._opt.step({"theta": theta}, {"theta": grad}, learning_rate=lr)
            if average:
                avg_sum += theta
                self._avg_count += 1
        if not np.all(np.isfinite(theta)):
            raise DivergenceError("training diverged (non-finite parameters); lower "
                                  "learning_rate", last_good_params=self.get_parameters())
        self._set_from_internal(q["U"], q["c"], q["d"])
        flips = [f for f in flips if f == f]
        stats = {"flip_acceptance": float(np.mean(flips)) if flips else float("nan"),
                 "swap_acceptance": float("nan")}
        if self.method == "pcd":
            self.persistent_chains_ = p.decode(A[:n_neg_max])
        elif self.method == "pt":
            self.persistent_chains_ = p.decode(self._tempered.samples)
            stats["swap_acceptance"] = float(np.mean(self._tempered.swap_rates()))
        return stats

    def _record(self, monitor, X_val, lr, stats) -> None:
        h = self.history_
        for key in ("epoch", "learning_rate", "reconstruction_error", "pseudo_log_likelihood",
                    "log_likelihood", "flip_acceptance", "swap_acceptance"):
            h.setdefault(key, [])
        h["epoch"].append(self.epochs_done_)
        h["learning_rate"].append(float(lr))
        h["reconstruction_error"].append(self._reconstruction_error(monitor))
        h["pseudo_log_likelihood"].append(float(np.mean(self._pseudo_log_likelihood(monitor))))
        exact = min(self.n_visible, self.n_hidden) <= _MONITOR_EXACT_MAX
        if exact:
            self.log_partition(method="exact")
        logz = self.log_partition_.mean if exact else float("nan")
        h["log_likelihood"].append(float(np.mean(-self._free_energy(monitor)) - logz))
        h["flip_acceptance"].append(stats["flip_acceptance"])
        h["swap_acceptance"].append(stats["swap_acceptance"])
        if X_val is not None:
            Xv = X_val[:self._monitor_rows()]
            for key in ("val_reconstruction_error", "val_pseudo_log_likelihood",
                        "val_log_likelihood"):
                h.setdefault(key, [])
            h["val_reconstruction_error"].append(self._reconstruction_error(Xv))
            h["val_pseudo_log_likelihood"].append(
                float(np.mean(self._pseudo_log_likelihood(Xv))))
            h["val_log_likelihood"].append(float(np.mean(-self._free_energy(Xv)) - logz))

    # -------------------------------------------------------- checkpointing
    def _training_state(self) -> dict:
        """Everything beyond the parameters that a resumed fit needs."""
        import json
        state = {"epochs_done": self.epochs_done_,
                 "rng_state": json.dumps(self.rng_.bit_generator.state),
                 "split_seed": -1 if self._split_seed is None else self._split_seed,
                 "data_hash": self._data_hash or ""}
        if self._avg_sum is not None:
            state["average_sum"] = self._avg_sum
            state["average_count"] = self._avg_count
        if self._opt is not None:
            state["optimizer"] = self._opt.state_dict()
            state["optimizer_name"] = self._opt.name
        if self.persistent_chains_ is not None:
            state["persistent_chains"] = self.persistent_chains_
        if self._tempered is not None:
            t = self._tempered
            state["tempered_state"] = t.state.astype(np.float64)
            state["tempered_swaps"] = np.stack([t.n_swaps_accepted, t.n_swaps_tried])
        return state

    def _load_training_state(self, state: dict) -> None:
        import json
        self.epochs_done_ = int(state["epochs_done"])
        rs = state["rng_state"]
        self.rng_ = np.random.default_rng()
        self.rng_.bit_generator.state = json.loads(rs)
        seed = int(state.get("split_seed", -1))
        self._split_seed = None if seed < 0 else seed
        self._data_hash = state.get("data_hash") or None
        if "optimizer" in state:
            self._opt = make_optimizer(state.get("optimizer_name", self.optimizer),
                                       self.base_learning_rate, momentum=self.momentum)
            self._opt.load_state_dict(state["optimizer"])
        if "average_sum" in state:
            self._avg_sum = np.asarray(state["average_sum"], dtype=np.float64)
            self._avg_count = int(state["average_count"])
        if "persistent_chains" in state:
            self.persistent_chains_ = np.asarray(state["persistent_chains"], dtype=np.uint8)
        if "tempered_state" in state:
            t = TemperedChains(np.zeros((1, self.n_visible)), self.n_temperatures,
                               self.beta_min)
            t.state = np.asarray(state["tempered_state"], dtype=np.float64)
            t.n_chains = t.state.shape[1]
            sw = np.asarray(state["tempered_swaps"])
            t.n_swaps_accepted, t.n_swaps_tried = sw[0].copy(), sw[1].copy()
            self._tempered = t

    def _resume_from(self, checkpoint, X) -> None:
        from .io import load
        other = load(checkpoint)
        if not isinstance(other, BernoulliRBM):
            raise InvalidParameterError(
                f"checkpoint {checkpoint} holds a {other.kind} model, not a Bernoulli RBM")
        if other.hyperparameters() != self.hyperparameters():
            raise InvalidParameterError(
                f"checkpoint {checkpoint} was written with different hyperparameters; "
                "use the same settings to resume")
        if getattr(other, "_training_state_dict", None) is None:
            raise InvalidParameterError(f"checkpoint {checkpoint} has no training state")
        h = data_hash(X)
        st = other._training_state_dict
        if st.get("data_hash") and st["data_hash"] != h:
            raise InvalidParameterError(
                f"checkpoint {checkpoint} was trained on different data (hash "
                f"{st['data_hash'][:12]}, got {h[:12]}); resume needs the same X")
        self.weights, self.visible_bias, self.hidden_bias = (
            other.weights, other.visible_bias, other.hidden_bias)
        self.history_ = {k: list(v) for k, v in other.history_.items()}
        self.log_partition_ = None
        self._load_training_state(st)
