"""Training of the RBMs: one training-state object, the epoch loop, checkpoints and resume.

The models (:mod:`rbm.bernoulli`, :mod:`rbm.gaussian`) hold hyperparameters
and fitted parameters; everything a fit carries from one epoch to the next
besides the parameters lives in ONE :class:`TrainingState` owned by this
module: the training random stream and its recorded seed, the optimizer,
the Polyak-Ruppert average, the persistent or tempered chains, the epoch
counter, the validation split's seed and the data hash. An estimator keeps
a reference to it (``model._training``) so that ``partial_fit`` and
``fit(resume=True)`` can continue; it never reads its fields itself except
through the public ``seed_``, ``epochs_done_`` and ``persistent_chains_``.
One epoch and the monitored numbers of each kind of RBM are in
:mod:`rbm.epochs`.

The contract of :func:`fit` (the workbench's one loop,
:func:`mccore.training.run_steps`):

callback
    ``callback(step: mccore.training.TrainingStep) -> bool | None`` after every
    epoch (``step.step`` the number of epochs done, ``step.metrics`` that
    epoch's monitored numbers, ``step.model`` the estimator with its
    ``history_`` updated); True stops training early.
checkpoint + resume
    With ``checkpoint`` the parameters, the history and the training state
    are written atomically every ``checkpoint_every`` epochs, after the last
    one and on Ctrl-C. ``resume=True`` continues the run stored there:
    identical to an uninterrupted run when ``n_epochs`` is unchanged; a
    larger ``n_epochs`` *extends* the run (the learning-rate schedule and the
    averaging window are then laid over the new total from the epoch
    reached); a checkpoint of a finished run is returned as it is. Settings
    that define the model must match
    (:func:`mccore.training.check_resume_settings`), and so must the data.
Ctrl-C
    ``KeyboardInterrupt`` inside an epoch rolls that epoch back (parameters,
    training state as after the last completed epoch), writes the checkpoint
    and returns the partial model with ``interrupted_ = True``.

Randomness: the user's seed (the estimator's ``rng``, or ``random_state``)
is turned into a SeedSequence once, by :meth:`TrainingState.start`; its
recorded integer is the model's ``seed_`` and the fit's stream is
``numpy.random.default_rng`` of that SeedSequence. ``partial_fit`` makes
the state on its first call and continues it afterwards, as
scikit-learn's ``partial_fit`` does. A resumed state restores the stream's
bit-generator state; nothing draws fresh entropy except an unseeded start,
whose seed is then recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import recorded_seed, seed_sequence
from mccore.training import check_resume_settings, run_steps
from mccore.validation import check_bool, check_int

from . import io
from .epochs import RECIPES
from .negative_phase import TemperedChains
from .optim import learning_rate_at, make_optimizer

__all__ = ["TrainingState", "fit", "partial_fit", "resume_settings"]


class TrainingState:
    """What a fit carries between epochs besides the model's parameters.

    Attributes
    ----------
    rng : numpy.random.Generator or None
        The training stream (None in a state read from a plain model file,
        which cannot be continued).
    seed : int, list of int or None
        The recorded seed of that stream (the model's ``seed_``).
    epochs_done : int
        Completed epochs.
    optimizer : rbm.optim.SGD, rbm.optim.Adam or None
        Made on the first update.
    average_sum, average_count : ndarray or None, int
        Running sum of the internal parameters over the averaging window.
    chains : ndarray or None
        Persistent chains ({0, 1} uint8 for the binary RBM, float64 for the
        Gaussian one).
    tempered : rbm.negative_phase.TemperedChains or None
        Parallel-tempering replicas (``method="pt"``).
    split_seed : int or None
        Seed of the validation split (binary RBM).
    data_hash : str or None
        SHA-1 of the training data (resume refuses other data).
    """

    def __init__(self, rng=None, seed=None):
        self.rng = rng
        self.seed = seed
        self.epochs_done = 0
        self.optimizer = None
        self.average_sum = None
        self.average_count = 0
        self.chains = None
        self.tempered = None
        self.split_seed = None
        self.data_hash = None

    @classmethod
    def start(cls, seed) -> "TrainingState":
        """A new state whose stream comes from the user's seed (int, SeedSequence,
        Generator or None = fresh entropy): the one conversion, recorded once."""
        seq = seed_sequence(seed)
        return cls(np.random.default_rng(seq), recorded_seed(seq))

    # ------------------------------------------------------------ roll back
    def snapshot(self) -> dict:
        """What an epoch changes in place, to roll it back on Ctrl-C."""
        snap = {"rng": self.rng.bit_generator.state,
                "optimizer": None if self.optimizer is None else self.optimizer.state_dict(),
                "chains": self.chains,
                "average_sum": None if self.average_sum is None else self.average_sum.copy(),
                "average_count": self.average_count}
        if self.tempered is not None:
            t = self.tempered
            snap["tempered"] = (t.state.copy(), t.n_swaps_accepted.copy(),
                                t.n_swaps_tried.copy())
        return snap

    def restore(self, snap: dict) -> None:
        """Return to a :meth:`snapshot`."""
        self.rng.bit_generator.state = snap["rng"]
        if snap["optimizer"] is None:
            self.optimizer = None
        else:
            self.optimizer.load_state_dict(snap["optimizer"])
        self.chains = snap["chains"]
        self.average_sum, self.average_count = snap["average_sum"], snap["average_count"]
        if "tempered" in snap:
            t = self.tempered
            t.state, t.n_swaps_accepted, t.n_swaps_tried = snap["tempered"]

    # ----------------------------------------------------------- checkpoint
    def to_dict(self) -> dict:
        """The state as HDF5-storable attrs and arrays (a checkpoint's ``training_state``)."""
        out = {"epochs_done": int(self.epochs_done),
               "rng_state": json.dumps(self.rng.bit_generator.state),
               "split_seed": -1 if self.split_seed is None else int(self.split_seed),
               "data_hash": self.data_hash or "",
               "seed": json.dumps(self.seed)}
        if self.average_sum is not None:
            out["average_sum"] = self.average_sum
            out["average_count"] = self.average_count
        if self.optimizer is not None:
            out["optimizer"] = self.optimizer.state_dict()
            out["optimizer_name"] = self.optimizer.name
        if self.chains is not None:
            out["persistent_chains"] = self.chains
        if self.tempered is not None:
            t = self.tempered
            out["tempered_state"] = t.state.astype(np.float64)
            out["tempered_swaps"] = np.stack([t.n_swaps_accepted, t.n_swaps_tried])
        return out

    @classmethod
    def from_dict(cls, state: dict, model) -> "TrainingState":
        """Rebuild what :meth:`to_dict` stored, for ``model`` (its kind and settings)."""
        rng_state = json.loads(state["rng_state"])
        if rng_state.get("bit_generator") != "PCG64":
            raise InvalidParameterError(
                f"training state: the stream must be a PCG64 state, got "
                f"{rng_state.get('bit_generator')!r}")
        # a placeholder seed, replaced by the stored state at once (no entropy drawn)
        bit_generator = np.random.PCG64(0)
        bit_generator.state = rng_state
        self = cls(np.random.Generator(bit_generator),
                   json.loads(state["seed"]) if "seed" in state else None)
        self.epochs_done = int(state["epochs_done"])
        seed = int(state.get("split_seed", -1))
        self.split_seed = None if seed < 0 else seed
        self.data_hash = state.get("data_hash") or None
        if "optimizer" in state:
            self.optimizer = make_optimizer(state.get("optimizer_name", model.optimizer),
                                            model.base_learning_rate, momentum=model.momentum)
            self.optimizer.load_state_dict(state["optimizer"])
        if "average_sum" in state:
            self.average_sum = np.asarray(state["average_sum"], dtype=np.float64)
            self.average_count = int(state["average_count"])
        if "persistent_chains" in state:
            chains = np.asarray(state["persistent_chains"])
            self.chains = (chains.astype(np.uint8) if model.kind == "bernoulli"
                           else chains.astype(np.float64))
        if "tempered_state" in state:
            t = TemperedChains(np.zeros((1, model.n_visible)), model.n_temperatures,
                               model.beta_min)
            t.state = np.asarray(state["tempered_state"], dtype=np.float64)
            t.n_chains = t.state.shape[1]
            swaps = np.asarray(state["tempered_swaps"])
            t.n_swaps_accepted, t.n_swaps_tried = swaps[0].copy(), swaps[1].copy()
            self.tempered = t
        return self

    @classmethod
    def recorded(cls, stored: dict) -> "TrainingState":
        """What a model file records of its training (seed, epochs, data hash):
        a state that cannot be continued (no stream; ``partial_fit`` starts a
        new one, a checkpoint is continued by ``fit(resume=True)``)."""
        self = cls(None, stored.get("fit_seed"))
        self.epochs_done = int(stored.get("epochs_done", 0))
        self.data_hash = stored.get("data_hash")
        return self


# ----------------------------------------------------------------- the loop
def fit(model, X, *, X_val=None, callback=None, progress: bool = False, checkpoint=None,
        checkpoint_every: int = 1, resume: bool = False):
    """Train ``model`` for ``model.n_epochs`` epochs (see the module docstring).

    Returns
    -------
    model
    """
    recipe = RECIPES[model.kind]
    model._validate_params()
    X = recipe.validate(model, X)
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
    progress = check_bool("progress", progress)
    resume = check_bool("resume", resume)
    state = None
    if resume and checkpoint is not None and Path(checkpoint).exists():
        state = _resume_from(model, checkpoint, X, recipe)
    resumed = state is not None
    if not resumed:
        state = TrainingState.start(model._seed())
        state.data_hash = recipe.hash(X)
        recipe.begin(state)
    X_train, X_val, monitor = recipe.split(model, state, X, X_val)
    if not resumed:
        model._initialize(X.shape[1], X_train, state.rng)
        model.history_ = {}
    model._training = state
    X_train = recipe.augment(model, X_train)
    model.interrupted_ = False
    model.stopped_early_ = False
    n_epochs = model.n_epochs
    if state.epochs_done > n_epochs:
        raise InvalidParameterError(
            f"n_epochs must be >= the {state.epochs_done} epochs already done in checkpoint "
            f"{checkpoint}, got {n_epochs}")
    avg_start = n_epochs - round(recipe.average_fraction(model) * n_epochs)
    final_fraction = recipe.final_lr_fraction(model)

    def step(i: int) -> dict:
        lr = learning_rate_at(model.base_learning_rate, model.schedule,
                              i / max(n_epochs, 1), final_fraction=final_fraction)
        average = i >= avg_start
        if not average and state.average_sum is not None:   # an extended run's new window
            state.average_sum, state.average_count = None, 0
        snapshot = state.snapshot()
        try:
            stats = recipe.epoch(model, state, X_train, lr, average=average)
        except KeyboardInterrupt:
            state.restore(snapshot)
            raise
        state.epochs_done = i + 1
        recipe.record(model, monitor, X_val, lr, stats)
        if state.epochs_done == n_epochs and state.average_count > 0:
            recipe.finish_average(model, state, monitor, X_val)
        return {key: float(values[-1]) for key, values in model.history_.items()
                if key not in ("epoch", "learning_rate") and values}

    save = None
    if checkpoint is not None:
        def save(n_done: int) -> None:
            io.write(checkpoint, **model._file_contents(), overwrite=True,
                     training_state=state.to_dict())

    outcome = run_steps(step, start=state.epochs_done, stop=n_epochs, model=model,
                        callback=callback, save_checkpoint=save,
                        checkpoint_every=checkpoint_every, progress=progress,
                        description="fit", unit="epoch")
    model.interrupted_ = outcome.interrupted
    model.stopped_early_ = outcome.stopped_early
    return model


def partial_fit(model, X):
    """One pass over ``X`` at the initial learning rate (initializing on first use).

    The first call starts the training state from the model's seed (recording
    ``seed_``); later calls continue it, with the persistent chains and the
    optimizer.
    """
    recipe = RECIPES[model.kind]
    model._validate_params()
    X = recipe.validate(model, X)
    state = model._training
    if state is None or state.rng is None or model.weights is None:
        state = TrainingState.start(model._seed())
        if model._training is not None and model.weights is not None:
            # a loaded model: its record carries over, the stream is new
            state.epochs_done = model._training.epochs_done
            state.data_hash = model._training.data_hash
    if model.weights is None:
        model._initialize(X.shape[1], X, state.rng)
    elif X.shape[1] != model.n_visible:
        raise InvalidParameterError(
            f"X has {X.shape[1]} features, but {type(model).__name__} is expecting "
            f"{model.n_visible} features as input (n_visible of the model)")
    model._training = state
    recipe.epoch(model, state, recipe.augment(model, X), model.base_learning_rate)
    return model


# ----------------------------------------------------------------- resume
def resume_settings(kind: str, hyperparameters: dict) -> dict:
    """The settings that define a run: the hyperparameters except ``n_epochs``, and the kind."""
    settings = dict(hyperparameters)
    settings.pop("n_epochs", None)
    settings["kind"] = kind
    return settings


def _resume_from(model, checkpoint, X, recipe) -> TrainingState:
    """Set ``model`` to the checkpoint's parameters and history; return its training state."""
    stored = io.read(checkpoint)
    what = f"checkpoint {checkpoint}"
    if stored["kind"] != model.kind:
        check_resume_settings({"kind": stored["kind"]}, {"kind": model.kind}, what=what)
    saved = type(model)(**type(model)._hyperparameters_from_file(stored["hyperparameters"]))
    check_resume_settings(resume_settings(stored["kind"], saved.hyperparameters()),
                          resume_settings(model.kind, model.hyperparameters()), what=what)
    if stored["training_state"] is None:
        raise InvalidParameterError(f"{what} has no training state")
    state_hash = stored["training_state"].get("data_hash")
    h = recipe.hash(X)
    if state_hash and state_hash != h:
        raise InvalidParameterError(
            f"{what} was trained on different data (hash {state_hash[:12]}, got {h[:12]}); "
            "resume needs the same X")
    model._set_parameters_unchecked(stored["parameters"])
    model.history_ = {k: list(v) for k, v in stored["history"].items()}
    model.log_partition_ = None
    return TrainingState.from_dict(stored["training_state"], model)
