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

Training works in better-conditioned coordinates of the same family (units
in {-1, +1} by default, the ``encoding`` hyperparameter);
:mod:`rbm.parametrization` holds them, the exact maps to the canonical
parameters above, and the measurement that chose the default. The public attributes ``weights``,
``visible_bias``, ``hidden_bias`` and model files always hold the canonical
{0, 1} parameters; how well the model describes data (log Z, log p(v),
pseudo-log-likelihood) is computed in :mod:`rbm.likelihood`.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.parallel import with_single_threaded_blas
from mccore.validation import check_int
from mcstats import Estimate

from . import hyperparameters as _hyperparameters
from . import likelihood
from ._base import _KEY_GIBBS, _KEY_INITIALIZE, _KEY_LOG_PARTITION, _KEY_SAMPLE, RBMBase
from ._utils import check_data, sigmoid, softplus
from .epochs import data_hash  # noqa: F401 (the provenance hash, imported from here by the app)
from .negative_phase import InternalParams, advance_chains, gibbs
from .parametrization import ENCODINGS as _ENCODINGS
from .parametrization import (
    canonical_from_internal,
    check_canonical,
    check_tied,
    initial_internal,
    internal_from_canonical,
)
from .tying import TranslationTying

__all__ = ["BernoulliRBM"]



class BernoulliRBM(RBMBase):
    """Binary-binary RBM with scikit-learn habits.

    Data are visible units in [0, 1], as scikit-learn's ``BernoulliRBM``
    takes them: bits, or fractional values read as visible probabilities
    (they enter the data statistics as they are; persistent chains started
    from such rows draw their bits with those probabilities). Values above 1
    are accepted as scikit-learn accepts them, although they are no
    probabilities; negative values are refused (Ising spins ``s`` become
    ``v = (s + 1) / 2`` first).

    Parameters
    ----------
    n_hidden : int
        Number of hidden units (>= 1).
    method : {"pcd", "cd", "pt"}
        Negative phase: persistent chains (PCD), CD-k chains restarted at the
        minibatch, or parallel tempering (``n_temperatures`` replicas of each
        persistent chain). Default CD-k (see Notes).
    k : int
        Gibbs steps per parameter update (the k of CD-k / PCD-k).
    n_chains : int
        Persistent chains (PCD, PT).
    learning_rate : float or "auto"
        Initial learning rate. ``"auto"`` (default):
        ``min(0.01, 0.04 / sqrt(n_visible))``, i.e. 0.01 up to 16 visible
        units, 0.005 for 64 and 0.0025 for 256 (see Notes).
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
        Internal encoding of the units during training (see
        :mod:`rbm.parametrization`); it does not change the model family or
        the stored parameters.
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
    translation_tied : tuple of int or None
        The shape of a periodic lattice (``(L, L)``, or ``(N,)`` for a ring)
        whose sites are the visible units (row-major): the parameters are then
        tied under its translations (:mod:`rbm.tying`). ``n_hidden`` must be
        ``alpha N`` (``alpha`` channels of one hidden unit per site; hidden
        unit ``c N + t`` sees the configuration through filter ``f_c``
        shifted by ``t``), every hidden unit of a channel has one bias and
        every visible unit the same bias: ``alpha (N + 1) + 1`` parameters
        instead of ``alpha N^2 + (alpha + 1) N``, and a distribution invariant
        under translations. The gradient is projected onto the tied subspace
        (the mean over each orbit of tied entries), so every optimizer keeps
        the parameters exactly tied. The stored parameters stay the dense
        canonical ones. None (default): no tying.
    dtype : {"float64", "float32"}
        Arithmetic of the training loop (float32 is faster with BLAS; the
        canonical parameters are stored as float64).
    rng : int, SeedSequence, Generator or None
        Seed of every call that draws, stored untouched (scikit-learn's
        ``random_state`` habit; :mod:`mccore.rng`): each ``fit``, ``sample``,
        ``gibbs``, ``log_partition`` derives its own stream from it (or uses
        its own ``rng`` argument), so calls never disturb one another and
        two models given one int seed behave identically and independently.
        A Generator is drawn from once per call; None draws fresh entropy
        (the seed of a fit is kept in ``seed_``).
    random_state : int, SeedSequence, Generator or None
        scikit-learn's name for the same seed (its tools, e.g.
        ``check_estimator``, set it): give ``rng`` or ``random_state``, not
        both.

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
    metadata_ : dict or None
        Provenance read from / written to model files.
    seed_ : int
        The seed of the last fit's stream (``rng``, or the fresh entropy drawn
        for ``rng=None``); model files carry it.
    epochs_done_ : int
        Epochs trained (a resumed fit continues from a checkpoint's count).
    interrupted_, stopped_early_ : bool
        How the last :meth:`fit` ended (Ctrl-C; a callback returning True).

    Notes
    -----
    The defaults and the measurements that chose them (Ising data, samples
    from 5000 chains of 500 Gibbs steps, compared with an independent Monte
    Carlo test set):

    - ``method="cd"``: at L = 8 (64 visible, 64 hidden, 10^4 Wolff
      samples), PCD-5 with 100 chains left the generated set at T = 2.269
      off by +4 % in |m|, -45 % in c and -62 % in chi, CD-5 by +0.2 %, +6 %
      and +2 % (the Monte Carlo training set itself: -1.5 %, +5 %, +10 %);
      at T = 3.5 the energy went from +7.3 % (PCD-5) to +4.7 % (CD-5; CD-10,
      160 epochs or 128 hidden units: still +4.4 to +4.9 %); at T = 1.5
      both keep e and |m| within 0.1 %, chi about -16 %. At L = 4 CD-5 and
      PCD-5 reach the same exact KL (0.005-0.008 nats) in the same time.
    - ``learning_rate="auto"``: Adam moves every weight by about the
      learning rate per update whatever its gradient, and the jitter of the
      n_visible weights into a hidden unit adds up in its input like
      sqrt(n_visible), which the model learns as spurious random couplings.
      At L = 16 (256 visible) a fixed 0.01 left the generated set
      disordered at T = 1.5 (e +49 %) and 13 % off in e at T = 3.5; 0.002
      brought T = 1.5 to 0.1 %.

    The model (energies, conditionals, Gibbs sampling, free energy) lives
    here, with every method; the work of the likelihoods (log Z, log p(v),
    pseudo-log-likelihood) is in :mod:`rbm.likelihood`, the parameters'
    coordinates and checks in :mod:`rbm.parametrization`, the
    hyperparameters' checks in :mod:`rbm.hyperparameters`; its training
    (negative phase, optimizer steps, averaging, monitoring, checkpoints) in
    :mod:`rbm.training`, shared with :class:`~rbm.GaussianBernoulliRBM`.
    Hyperparameters are validated when ``fit``/``partial_fit``/``initialize``
    start, never in ``__init__``.
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
                 translation_tied: tuple | None = None,
                 dtype: str = "float64", rng=None, random_state=None):
        self._store_hyperparameters(locals())

    def _validate_params(self) -> None:
        """Check every hyperparameter (scikit-learn habit: at fit, not in __init__)."""
        _hyperparameters.check(self)

    # ---------------------------------------------------------------- setup
    @property
    def base_learning_rate(self) -> float:
        """The initial learning rate: ``learning_rate``, or the ``"auto"`` rule
        ``min(0.01, 0.04 / sqrt(n_visible))`` once ``n_visible`` is known."""
        return _hyperparameters.base_learning_rate(self.learning_rate, self.n_visible)

    def hyperparameters(self) -> dict:
        """Constructor arguments except the seed (``rng``, ``random_state``), as
        stored in model files; ``translation_tied`` (a tuple) only when set, so
        that files of untied models read as before."""
        return _hyperparameters.stored(self)

    @classmethod
    def _hyperparameters_from_file(cls, hyperparameters: dict) -> dict:
        return _hyperparameters.from_file(hyperparameters)

    def _tying(self, n_visible: int | None = None):
        """The :class:`~rbm.tying.TranslationTying` of this model (None when untied),
        checked against ``n_visible`` (default: the model's)."""
        if self.translation_tied is None:
            return None
        shape = tuple(self.translation_tied)
        n_visible = self.n_visible if n_visible is None else n_visible
        cached = self.__dict__.get("_tying_cache")
        if cached is None or cached.shape != shape or cached.n_hidden != self.n_hidden:
            cached = self._tying_cache = TranslationTying(shape, self.n_hidden)
        if n_visible is not None and n_visible != cached.n_sites:
            raise InvalidParameterError(
                f"translation_tied {cached.shape} has {cached.n_sites} sites, but there are "
                f"{n_visible} visible units")
        return cached

    def initialize(self, n_visible: int, *, X=None, rng=None) -> "BernoulliRBM":
        """Draw initial parameters (weights ~ N(0, init_scale^2) internally).

        Visible biases start at the data marginals when ``X`` is given
        (``p(v_i = 1) = mean_i``), else at zero; hidden biases at zero.

        Parameters
        ----------
        n_visible : int
            Number of visible units (>= 1).
        X : array_like or None
            Data in [0, 1] for the visible biases.
        rng : int, SeedSequence, Generator or None
            The stream of this call; by default one derived from the ``rng``
            hyperparameter (:mod:`mccore.rng`).
        """
        self._validate_params()
        n_visible = check_int("n_visible", n_visible, minimum=1)
        if X is not None:
            X = self._check_visible(X, name="X", n_features=n_visible, for_training=True)
        self._initialize(n_visible, X, self._call_rng(rng, _KEY_INITIALIZE))
        self._training = None
        return self

    def _initialize(self, n_visible, X, rng) -> "BernoulliRBM":
        U, c, d = initial_internal(n_visible, self.n_hidden, self.init_scale, self.encoding,
                                   self._tying(n_visible), X, rng)
        self._set_from_internal(U, c, d)
        self.n_features_in_ = n_visible
        if "history_" not in self.__dict__:
            self.history_ = {}
        return self

    def set_parameters(self, *, weights, visible_bias, hidden_bias) -> "BernoulliRBM":
        """Set the canonical parameters (validated, copied)."""
        W, a, b = check_canonical(weights, visible_bias, hidden_bias, self.n_hidden)
        check_tied(self._tying(W.shape[0]), W, a, b)
        self._set_parameters_unchecked(
            {"weights": W, "visible_bias": a, "hidden_bias": b})
        return self

    def _set_parameters_unchecked(self, params: dict) -> None:
        self._weights = params["weights"]
        self._visible_bias = params["visible_bias"]
        self._hidden_bias = params["hidden_bias"]
        self.n_features_in_ = self._weights.shape[0]
        self.log_partition_ = None

    def get_parameters(self) -> dict:
        """Copies of the canonical ``weights``, ``visible_bias``, ``hidden_bias``."""
        self._check_initialized()
        return {"weights": self.weights.copy(), "visible_bias": self.visible_bias.copy(),
                "hidden_bias": self.hidden_bias.copy()}

    def _encoding(self) -> tuple:
        return _ENCODINGS[self.encoding]

    # the exact reparametrization between internal and canonical coordinates
    def _set_from_internal(self, U, c, d) -> None:
        self._weights, self._visible_bias, self._hidden_bias = canonical_from_internal(
            U, c, d, self.encoding, self._tying())
        self.log_partition_ = None

    def _to_internal(self) -> dict:
        return internal_from_canonical(self.weights, self.visible_bias, self.hidden_bias,
                                       self.encoding, self._tying())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True     # negative values are refused (spins)
        return tags

    def _check_visible(self, X, *, name="X", n_features=None, for_training=False):
        """Visible data: values in [0, 1] (bits, or probabilities as in
        scikit-learn's BernoulliRBM; larger values are accepted as it accepts
        them, negative ones refused). For training, binary data comes back as
        uint8 and anything else as float64; otherwise float64."""
        if not for_training:
            self._check_initialized()
            if n_features is None:
                n_features = self.n_visible
        arr = check_data(X, name=name, n_features=n_features, nonnegative=True, dtype=None,
                         model_name=type(self).__name__)
        if not for_training:
            return arr.astype(np.float64, copy=False)
        if arr.dtype == np.bool_ or (np.issubdtype(arr.dtype, np.unsignedinteger)
                                     and (arr.size == 0 or arr.max() <= 1)):
            binary = True
        else:
            binary = bool(np.all((arr == 0) | (arr == 1)))
        return arr.astype(np.uint8 if binary else np.float64, copy=False)

    def _check_v(self, X, name="X"):
        return self._check_visible(X, name=name)

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
        rng = self._call_rng(rng, _KEY_GIBBS)
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
        self._check_initialized()
        rng = self._call_rng(rng, _KEY_SAMPLE)
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
        rng : int, SeedSequence, Generator or None
            For AIS; by default a stream derived from the ``rng``
            hyperparameter (the same estimate on every call with an int seed).
        n_runs, n_betas : int
            AIS runs and intermediate distributions.

        Returns
        -------
        mcstats.Estimate
            Exact: ``error = 0``. AIS: delta-method standard error over runs.
            The result is cached in ``log_partition_`` (used by
            :meth:`score_samples`).
        """
        return likelihood.log_partition(
            self, method, stream=lambda: self._call_rng(rng, _KEY_LOG_PARTITION),
            n_runs=n_runs, n_betas=n_betas)

    def score_samples(self, X) -> np.ndarray:
        """``log p(v) = -F(v) - log Z`` (n_samples,), deterministic.

        Uses the cached ``log_partition_``; computes it exactly when possible.

        Raises
        ------
        InvalidParameterError
            When log Z is not exactly computable and no AIS estimate has been
            made (call ``log_partition(method="ais")`` first).
        """
        return likelihood.score_samples(self, self._check_v(X))

    def pseudo_log_likelihood(self, X) -> np.ndarray:
        """Pseudo-log-likelihood over all sites, ``sum_i log p(v_i | v_-i)`` (n_samples,).

        Deterministic (every site, not a random one as in scikit-learn):
        ``log p(v_i | v_-i) = -softplus(F(v) - F(v with site i flipped))``.
        """
        V = self._check_v(X)
        return self._pseudo_log_likelihood(V)

    def _pseudo_log_likelihood(self, V):
        return likelihood.pseudo_log_likelihood(self, V)

    def reconstruction_error(self, X) -> float:
        """Mean squared error of the mean-field reconstruction ``v -> p(h|v) -> p(v|h)``."""
        V = self._check_v(X)
        return self._reconstruction_error(V)

    def _reconstruction_error(self, V):
        return likelihood.reconstruction_error(self, V)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per sample, or the pseudo-log-likelihood where
        log Z is unknown (deterministic; higher is better).

        * exact mean ``log p(v)`` when ``min(n_visible, n_hidden) <= 25``
          (log Z summed exactly, cached in ``log_partition_``);
        * else the mean ``log p(v)`` with the AIS estimate of log Z when one
          was made (``log_partition(method="ais")``, cached);
        * else the mean all-site pseudo-log-likelihood
          ``sum_i log p(v_i | v_-i)`` (:meth:`pseudo_log_likelihood`), an
          upper bound of the log-likelihood's scale, not comparable with it.

        ``y`` is ignored. Used by ``GridSearchCV`` and friends.
        """
        return likelihood.score(self, self._check_v(X))
