"""What both RBMs share as scikit-learn estimators (private).

:class:`RBMBase` makes an RBM a scikit-learn ``BaseEstimator`` and
``TransformerMixin``: hyperparameters are only stored by ``__init__``
(validated at the start of ``fit``/``partial_fit``/``initialize``), the
learned parameters are properties over private storage (so that ``fit``
adds only private or ``_``-suffixed attributes), ``fit(X, y=None)`` runs
the shared training loop of :mod:`rbm.training`, and randomness follows
:mod:`mccore.rng`: ``rng`` is a hyperparameter stored untouched, every call
that draws derives its own stream from it (or from its own ``rng``
argument), so calls never disturb one another.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from mccore.errors import InvalidParameterError
from mccore.parallel import with_single_threaded_blas
from mccore.rng import as_generator, seed_sequence, stream

from . import training
from ._utils import check_data


class NotFittedModelError(InvalidParameterError, NotFittedError):
    """A method that needs parameters was called before fit/initialize.

    Both an :class:`~mccore.errors.InvalidParameterError` (the workbench's
    type) and scikit-learn's ``NotFittedError``.
    """

# stream keys of the calls that draw (a fit uses the root stream itself)
_KEY_SAMPLE, _KEY_GIBBS, _KEY_LOG_PARTITION, _KEY_INITIALIZE = 1, 2, 3, 4


class RBMBase(TransformerMixin, BaseEstimator):
    """Shared estimator machinery of :class:`~rbm.BernoulliRBM` and
    :class:`~rbm.GaussianBernoulliRBM` (not used on its own)."""

    kind = ""
    # learned parameters (properties below) and fitted state: class-level
    # defaults, so that __init__ stores nothing but the hyperparameters
    _weights = None
    _visible_bias = None
    _hidden_bias = None
    persistent_chains_ = None
    log_partition_ = None
    epochs_done_ = 0
    seed_ = None
    metadata_ = None
    interrupted_ = False
    stopped_early_ = False
    _train_rng = None
    _opt = None
    _avg_sum = None
    _avg_count = 0
    _split_seed = None
    _data_hash = None
    _training_state_dict = None

    # ------------------------------------------------------------ parameters
    @property
    def weights(self):
        """Weights ``W`` (n_visible, n_hidden), or None before fit/initialize."""
        return self._weights

    @weights.setter
    def weights(self, value):
        self._weights = value
        self._parameters_changed()

    @property
    def visible_bias(self):
        """Visible biases ``a`` (n_visible,), or None before fit/initialize."""
        return self._visible_bias

    @visible_bias.setter
    def visible_bias(self, value):
        self._visible_bias = value
        self._parameters_changed()

    @property
    def hidden_bias(self):
        """Hidden biases ``b`` (n_hidden,), or None before fit/initialize."""
        return self._hidden_bias

    @hidden_bias.setter
    def hidden_bias(self, value):
        self._hidden_bias = value
        self._parameters_changed()

    def _parameters_changed(self) -> None:
        """Forget what was computed from the parameters (the cached log Z)."""
        if self.__dict__.get("log_partition_") is not None:
            self.log_partition_ = None

    @property
    def n_visible(self) -> int | None:
        """Number of visible units (``None`` before fit/initialize)."""
        return None if self._weights is None else self._weights.shape[0]

    def __sklearn_is_fitted__(self) -> bool:
        return self._weights is not None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    def _check_initialized(self):
        if self._weights is None:
            raise NotFittedModelError(
                f"this {type(self).__name__} has no parameters yet: call fit(X) or "
                "initialize(n_visible) first")

    # ------------------------------------------------------------ randomness
    def _check_rng_param(self) -> None:
        """``rng`` must be None, an int >= 0, a SeedSequence or a Generator."""
        if not isinstance(self.rng, (np.random.Generator, np.random.SeedSequence)):
            seed_sequence(self.rng)       # raises InvalidParameterError for anything else

    def _call_rng(self, rng, key: int) -> np.random.Generator:
        """The stream of one call: its own ``rng`` argument if given (a Generator
        is used as it is), else a stream derived from the ``rng`` hyperparameter
        and keyed by the kind of call."""
        if rng is not None:
            return as_generator(rng)
        return stream(seed_sequence(self.rng), key)

    # -------------------------------------------------------------- training
    @with_single_threaded_blas
    def fit(self, X, y=None, *, X_val=None, callback=None, progress: bool = False,
            checkpoint=None, checkpoint_every: int = 1, resume: bool = False):
        """Train for ``n_epochs`` epochs of minibatch gradient ascent on log p.

        Parameters
        ----------
        X : array_like (n_samples, n_visible)
            Training data.
        y : None
            Ignored (scikit-learn's signature).
        X_val : array_like or None
            Validation data (Bernoulli only; else ``validation_fraction`` of X
            is held out).
        callback : callable or None
            ``callback(step)`` after every epoch with a
            :class:`mccore.training.TrainingStep` (``step.step`` epochs done,
            ``step.metrics`` the epoch's monitored numbers, ``step.model``
            this estimator, ``history_`` updated); returning True stops
            training (``stopped_early_`` is then set).
        progress : bool
            Show a tqdm progress bar over epochs on stderr.
        checkpoint : path or None
            Model file written atomically every ``checkpoint_every`` epochs,
            after the last and on Ctrl-C, with the full training state
            (optimizer moments, persistent chains, RNG state, epoch counter,
            history).
        checkpoint_every : int
            Epochs between checkpoints.
        resume : bool
            If ``checkpoint`` exists, continue the run stored there (same data
            and same model-defining hyperparameters required) instead of
            starting afresh. With the same ``n_epochs`` the continued run is
            identical to an uninterrupted one; a larger ``n_epochs`` extends
            it; a finished checkpoint is returned as it is.

        Returns
        -------
        self
            ``interrupted_`` is True when Ctrl-C ended training (the model
            then holds the parameters of the last completed epoch and the
            checkpoint can be resumed).

        Notes
        -----
        The fit's random stream is ``default_rng(seed_sequence(rng))`` of
        :mod:`mccore.rng`; its integer seed is kept in ``seed_`` (drawn from
        fresh entropy when ``rng`` is None). Other calls (``sample``,
        ``gibbs``, ``log_partition``) never touch it.
        """
        return training.fit(self, X, X_val=X_val, callback=callback, progress=progress,
                            checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                            resume=resume)

    @with_single_threaded_blas
    def partial_fit(self, X, y=None):
        """One pass over ``X`` in minibatches at the initial learning rate.

        Initializes the model on first use (and makes its training stream,
        recording ``seed_``); persistent chains, optimizer state and the
        stream carry over between calls.
        """
        return training.partial_fit(self, X)

    def _augment(self, X):
        return X

    def _begin_fit(self) -> None:
        """Draws a fit makes from its stream before initializing (none here)."""

    def _final_lr_fraction(self) -> float:
        return 0.1

    # ------------------------------------------------------------ transforms
    def transform(self, X) -> np.ndarray:
        """Hidden-unit activation probabilities ``p(h = 1 | v)`` (n_samples, n_hidden)."""
        return self.hidden_probability(X)

    def _check_x(self, X, name="X"):
        self._check_initialized()
        return check_data(X, name=name, n_features=self.n_visible, binary=self.kind == "bernoulli",
                          model_name=type(self).__name__)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per sample (deterministic; higher is better).

        The mean of :meth:`score_samples`, i.e. the exact mean ``log p(v)``
        when log Z is exactly computable (the smaller layer small enough;
        computed on demand) or an AIS estimate of log Z has been made
        (``log_partition(method="ais")``, cached in ``log_partition_``);
        otherwise (Bernoulli only) the mean all-site pseudo-log-likelihood
        ``sum_i log p(v_i | v_-i)``, which is not comparable with a
        log-likelihood. ``y`` is ignored.
        """
        return float(np.mean(self.score_samples(X)))
