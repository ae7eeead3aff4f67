"""What both RBMs share as scikit-learn estimators (private).

:class:`RBMBase` makes an RBM a scikit-learn ``BaseEstimator`` and
``TransformerMixin``: hyperparameters are only stored by ``__init__``
(validated at the start of ``fit``/``partial_fit``/``initialize``), the
learned parameters are properties over private storage (so that ``fit``
adds only private or ``_``-suffixed attributes), and ``fit(X, y=None)``
runs the training of :mod:`rbm.training`, which owns the one training-state
object a model refers to (``_training``; ``seed_``, ``epochs_done_`` and
``persistent_chains_`` read it).

Randomness follows :mod:`mccore.rng`: the seed is a hyperparameter stored
untouched, spelled ``rng`` (the workbench's name) or ``random_state``
(scikit-learn's name, which its tools such as ``check_estimator`` set);
they mean the same and at most one may be given. Every call that draws
derives its own stream from it (or from its own ``rng`` argument), so calls
never disturb one another.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from mccore.errors import InvalidParameterError
from mccore.parallel import with_single_threaded_blas
from mccore.rng import seed_sequence, stream
from mccore.validation import check_choice, check_float, check_int

from . import training
from ._utils import check_data
from .optim import SCHEDULES


class NotFittedModelError(InvalidParameterError, NotFittedError):
    """A method that needs parameters was called before fit/initialize.

    Both an :class:`~mccore.errors.InvalidParameterError` (the workbench's
    type) and scikit-learn's ``NotFittedError``.
    """

# stream keys of the calls that draw (a fit uses the root stream itself)
_KEY_SAMPLE, _KEY_GIBBS, _KEY_LOG_PARTITION, _KEY_INITIALIZE = 1, 2, 3, 4


class _Learned:
    """A learned parameter of an RBM: a property over private storage (``_NAME``, a
    class-level None until fit/initialize), so that ``fit`` adds only private attributes.
    Setting it forgets what was computed from the parameters (the cached log Z), unless
    ``forgets=False``."""

    def __init__(self, doc: str, *, forgets: bool = True):
        self.__doc__ = doc
        self.forgets = forgets

    def __set_name__(self, owner, name):
        self.private = "_" + name

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj, self.private)

    def __set__(self, obj, value):
        setattr(obj, self.private, value)
        if self.forgets:
            obj._parameters_changed()


class RBMBase(TransformerMixin, BaseEstimator):
    """Shared estimator machinery of :class:`~rbm.BernoulliRBM` and
    :class:`~rbm.GaussianBernoulliRBM` (not used on its own)."""

    kind = ""
    # learned parameters (properties below) and fitted state: class-level
    # defaults, so that __init__ stores nothing but the hyperparameters
    _weights = None
    _visible_bias = None
    _hidden_bias = None
    log_partition_ = None
    metadata_ = None
    interrupted_ = False
    stopped_early_ = False
    _training = None          # the rbm.training.TrainingState of the last fit

    # -------------------------------------------------------- training record
    @property
    def seed_(self):
        """The recorded seed of the last fit's stream (``rng``, or the fresh
        entropy drawn for ``rng=None``); model files carry it."""
        return None if self._training is None else self._training.seed

    @property
    def epochs_done_(self) -> int:
        """Epochs trained (a resumed fit continues from a checkpoint's count)."""
        return 0 if self._training is None else self._training.epochs_done

    @property
    def persistent_chains_(self):
        """Model samples of the negative phase (PCD, PT), or None."""
        return None if self._training is None else self._training.chains

    # ------------------------------------------------------------ parameters
    weights = _Learned("Weights ``W`` (n_visible, n_hidden), or None before fit/initialize.")
    visible_bias = _Learned("Visible biases ``a`` (n_visible,), or None before fit/initialize.")
    hidden_bias = _Learned("Hidden biases ``b`` (n_hidden,), or None before fit/initialize.")

    def _store_hyperparameters(self, arguments: dict) -> None:
        """``__init__``'s one job, scikit-learn's rule: every argument (``arguments``: its
        ``locals()``) stored as given, under its own name."""
        for name in self._get_param_names():
            setattr(self, name, arguments[name])

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
        # scikit-learn's meaning: deterministic given a fixed random_state
        # (its checks fix it through the random_state hyperparameter)
        tags.non_deterministic = False
        return tags

    def _check_initialized(self):
        if self._weights is None:
            raise NotFittedModelError(
                f"this {type(self).__name__} has no parameters yet: call fit(X) or "
                "initialize(n_visible) first")

    def _check_loop_params(self) -> None:
        """The training-loop hyperparameters both RBMs have, checked in this order
        (part of each model's ``_validate_params``)."""
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("n_epochs", self.n_epochs, minimum=0)
        check_choice("optimizer", self.optimizer, ("adam", "sgd"))
        check_float("momentum", self.momentum, minimum=0.0, maximum=1.0, strict_max=True)
        check_float("weight_decay", self.weight_decay, minimum=0.0)
        check_choice("schedule", self.schedule, SCHEDULES)

    @classmethod
    def check_hyperparameters(cls, **hyperparameters) -> None:
        """Refuse, as :meth:`fit` would and without fitting, the first of ``hyperparameters``
        (the others at their defaults) out of its range: InvalidParameterError naming it.
        For callers that check before any work (``isingrbm fit``)."""
        cls(**hyperparameters)._validate_params()

    # ------------------------------------------------------------ randomness
    def _check_rng_param(self) -> None:
        """``rng`` / ``random_state``: None, an int >= 0, a SeedSequence or a
        Generator, and not both given."""
        for name in ("rng", "random_state"):
            value = getattr(self, name)
            # None is valid and is not resolved here (that would draw entropy)
            if value is not None and not isinstance(
                    value, (np.random.Generator, np.random.SeedSequence)):
                try:
                    seed_sequence(value)  # raises InvalidParameterError for anything else
                except InvalidParameterError:
                    raise InvalidParameterError(
                        f"{name} must be an integer >= 0, a numpy SeedSequence or Generator, "
                        f"or None, got {value!r}") from None
        self._seed()

    def _seed(self):
        """The user's seed: ``rng``, else ``random_state`` (scikit-learn's spelling)."""
        if self.rng is not None and self.random_state is not None:
            raise InvalidParameterError(
                "give the seed as rng or as random_state (scikit-learn's name for it), "
                f"not both: got rng={self.rng!r}, random_state={self.random_state!r}")
        return self.rng if self.rng is not None else self.random_state

    def _call_rng(self, rng, key: int) -> np.random.Generator:
        """The stream of one call: its own ``rng`` argument if given (a Generator
        is used as it is), else a stream derived from the seed hyperparameter
        and keyed by the kind of call."""
        if rng is not None:
            return stream(rng)
        return stream(seed_sequence(self._seed()), key)

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
        fresh entropy when neither ``rng`` nor ``random_state`` is given).
        Other calls (``sample``, ``gibbs``, ``log_partition``) never touch it.
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

    # ------------------------------------------------------------ model files
    def _file_contents(self, metadata: dict | None = None) -> dict:
        """What a model file stores (:func:`rbm.io.write`'s keyword arguments):
        arrays, the kind, hyperparameters, history and provenance; ``metadata``
        is merged over ``metadata_``."""
        self._check_initialized()
        meta = dict(self.metadata_ or {})
        meta.update(metadata or {})
        record = self._training
        return {"kind": self.kind, "hyperparameters": self.hyperparameters(),
                "parameters": self.get_parameters(),
                "history": getattr(self, "history_", None) or {}, "metadata": meta,
                "data_hash": None if record is None else record.data_hash,
                "epochs_done": self.epochs_done_, "fit_seed": self.seed_,
                "log_partition": self.log_partition_}

    @classmethod
    def _hyperparameters_from_file(cls, hyperparameters: dict) -> dict:
        """Constructor arguments from a model file's ``hyperparameters`` (older
        files' names translated)."""
        return dict(hyperparameters)

    # ------------------------------------------------------------ transforms
    def transform(self, X) -> np.ndarray:
        """Hidden-unit activation probabilities ``p(h = 1 | v)`` (n_samples, n_hidden)."""
        return self.hidden_probability(X)

    def _check_x(self, X, name="X"):
        self._check_initialized()
        return check_data(X, name=name, n_features=self.n_visible,
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
