"""Training of the RBMs: the epoch loop, negative phase, optimizer steps,
parameter averaging, monitoring and checkpoints.

The models (:mod:`rbm.bernoulli`, :mod:`rbm.gaussian`) hold energies,
conditionals, sampling and partition functions; this module trains them.
Both RBMs share one loop (:func:`fit`, run through
:func:`mccore.training.run_steps`, the workbench's one training-loop
contract) and one checkpoint format; what differs is one epoch
(:func:`bernoulli_epoch`, :func:`gaussian_epoch`) and the monitored numbers
(:func:`bernoulli_record`, :func:`gaussian_record`).

The contract of :func:`fit`:

callback
    ``callback(step: mccore.training.TrainingStep) -> bool | None`` after every
    epoch (``step.step`` the number of epochs done, ``step.metrics`` that
    epoch's monitored numbers, ``step.model`` the estimator with its
    ``history_`` updated); True stops training early.
checkpoint + resume
    With ``checkpoint`` the full training state (parameters, optimizer
    moments, persistent chains, the training stream's RNG state, the
    parameter average, the epoch counter, the history) is written
    atomically every ``checkpoint_every`` epochs, after the last one and on
    Ctrl-C. ``resume=True`` continues the run stored there: identical to an
    uninterrupted run when ``n_epochs`` is unchanged; a larger ``n_epochs``
    *extends* the run (the learning-rate schedule and the averaging window
    are then laid over the new total from the epoch reached); a checkpoint
    of a finished run (as many epochs done as asked) is returned as it is.
    Settings that define the model must match
    (:func:`mccore.training.check_resume_settings`), and so must the data.
Ctrl-C
    ``KeyboardInterrupt`` inside an epoch rolls that epoch back (parameters,
    optimizer, chains and RNG as they were after the last completed epoch),
    writes the checkpoint and returns the partial model with
    ``interrupted_ = True``.

Randomness: a fit draws from its own stream, ``numpy.random.default_rng(
seed_sequence(model.rng))`` (:mod:`mccore.rng`); the integer seed is kept in
``seed_``. ``partial_fit`` makes that stream on its first call and keeps
it for the following calls, as scikit-learn's ``partial_fit`` does.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from mccore.errors import DivergenceError, InvalidParameterError
from mccore.rng import recorded_seed, seed_sequence
from mccore.training import check_resume_settings, run_steps
from mccore.validation import check_bool, check_int

from ._utils import sigmoid
from .negative_phase import InternalParams, TemperedChains, advance_chains
from .optim import learning_rate_at, make_optimizer

__all__ = ["bernoulli_epoch", "bernoulli_record", "data_hash", "fit", "gaussian_epoch",
           "gaussian_record", "load_training_state", "partial_fit", "training_state"]

_MONITOR_ROWS = 2000
_MONITOR_BUDGET = 4_000_000   # rows x n_visible x n_hidden of the per-epoch monitoring
_MONITOR_EXACT_MAX = 20
_GAUSSIAN_MONITOR_EXACT_MAX = 16


def data_hash(X: np.ndarray) -> str:
    """SHA-1 of the data (shape + uint8 bytes) for provenance and resume checks."""
    arr = np.ascontiguousarray(np.asarray(X, dtype=np.uint8))
    h = hashlib.sha1(str(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def _float_hash(X: np.ndarray) -> str:
    """SHA-1 of real-valued data (shape + float64 bytes)."""
    arr = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    h = hashlib.sha1(str(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------- the loop
def fit(model, X, *, X_val=None, callback=None, progress: bool = False, checkpoint=None,
        checkpoint_every: int = 1, resume: bool = False):
    """Train ``model`` for ``model.n_epochs`` epochs (see the module docstring).

    Returns
    -------
    model
    """
    model._validate_params()
    X = model._validate_training_data(X)
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
    progress = check_bool("progress", progress)
    resume = check_bool("resume", resume)
    resumed = False
    if resume and checkpoint is not None and Path(checkpoint).exists():
        _resume_from(model, checkpoint, X)
        resumed = True
    if not resumed:
        seq = seed_sequence(model.rng)
        model.seed_ = recorded_seed(seq)
        model._train_rng = np.random.default_rng(seq)
        model._data_hash = model._hash_data(X)
        model._begin_fit()
    X_train, X_val, monitor = model._training_data(X, X_val)
    if not resumed:
        model._initialize(X.shape[1], X_train, model._train_rng)
        model.history_ = {}
    X_train = model._augment(X_train)
    model.interrupted_ = False
    model.stopped_early_ = False
    n_epochs = model.n_epochs
    if model.epochs_done_ > n_epochs:
        raise InvalidParameterError(
            f"n_epochs must be >= the {model.epochs_done_} epochs already done in checkpoint "
            f"{checkpoint}, got {n_epochs}")
    fraction = getattr(model, "average_fraction", 0.0)
    avg_start = n_epochs - round(fraction * n_epochs)

    def step(i: int) -> dict:
        lr = learning_rate_at(model._base_learning_rate(), model.schedule,
                              i / max(n_epochs, 1), final_fraction=model._final_lr_fraction())
        average = i >= avg_start
        if not average and model._avg_sum is not None:     # an extended run's new window
            model._avg_sum, model._avg_count = None, 0
        snapshot = _snapshot(model)
        try:
            stats = model._epoch(X_train, lr, average=average)
        except KeyboardInterrupt:
            _restore(model, snapshot)
            raise
        model.epochs_done_ = i + 1
        model._record(monitor, X_val, lr, stats)
        if model.epochs_done_ == n_epochs and model._avg_count > 0:
            _finish_average(model, monitor, X_val)
        return {key: float(values[-1]) for key, values in model.history_.items()
                if key not in ("epoch", "learning_rate") and values}

    save = None
    if checkpoint is not None:
        def save(n_done: int) -> None:
            from .io import save as save_model
            save_model(model, checkpoint, overwrite=True, training_state=True)

    outcome = run_steps(step, start=model.epochs_done_, stop=n_epochs, model=model,
                        callback=callback, save_checkpoint=save,
                        checkpoint_every=checkpoint_every, progress=progress,
                        description="fit", unit="epoch")
    model.interrupted_ = outcome.interrupted
    model.stopped_early_ = outcome.stopped_early
    return model


def partial_fit(model, X):
    """One pass over ``X`` at the initial learning rate (initializing on first use).

    The first call makes the training stream from ``model.rng`` (recording
    ``seed_``); later calls continue it, with the persistent chains and the
    optimizer state.
    """
    model._validate_params()
    X = model._validate_training_data(X)
    if model._train_rng is None or model.weights is None:
        seq = seed_sequence(model.rng)
        model.seed_ = recorded_seed(seq)
        model._train_rng = np.random.default_rng(seq)
    if model.weights is None:
        model._initialize(X.shape[1], X, model._train_rng)
    elif X.shape[1] != model.n_visible:
        raise InvalidParameterError(
            f"X has {X.shape[1]} features, but {type(model).__name__} is expecting "
            f"{model.n_visible} features as input (n_visible of the model)")
    model._epoch(model._augment(X), model._base_learning_rate())
    return model


def _snapshot(model) -> dict:
    """What an epoch changes in place, to roll it back on Ctrl-C."""
    snap = {"rng": model._train_rng.bit_generator.state,
            "opt": None if model._opt is None else model._opt.state_dict(),
            "opt_none": model._opt is None,
            "chains": model.persistent_chains_,
            "avg_sum": None if model._avg_sum is None else model._avg_sum.copy(),
            "avg_count": model._avg_count}
    tempered = getattr(model, "_tempered", None)
    if tempered is not None:
        snap["tempered"] = (tempered.state.copy(), tempered.n_swaps_accepted.copy(),
                            tempered.n_swaps_tried.copy())
    return snap


def _restore(model, snap: dict) -> None:
    model._train_rng.bit_generator.state = snap["rng"]
    if snap["opt_none"]:
        model._opt = None
    else:
        model._opt.load_state_dict(snap["opt"])
    model.persistent_chains_ = snap["chains"]
    model._avg_sum, model._avg_count = snap["avg_sum"], snap["avg_count"]
    if "tempered" in snap:
        t = model._tempered
        t.state, t.n_swaps_accepted, t.n_swaps_tried = snap["tempered"]


# ------------------------------------------------------ Bernoulli: one epoch
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


def bernoulli_epoch(model, X, lr, average: bool = False) -> dict:
    """One pass of a :class:`~rbm.BernoulliRBM` over ``X`` (validated, augmented).

    Minibatch gradient ascent on log p: data statistics minus negative-phase
    statistics (CD-k chains from the minibatch, persistent chains, or the
    beta = 1 replicas of parallel tempering), then one optimizer step. With
    ``average`` the iterates after every update are summed into the
    Polyak-Ruppert average. Returns the chains' statistics.
    """
    rng = model._train_rng
    dt = np.dtype(model.dtype)
    if model._opt is None:
        model._opt = make_optimizer(model.optimizer, model.base_learning_rate,
                                    momentum=model.momentum)
    # all internal parameters (and their gradient) live in one flat buffer,
    # so that an optimizer step is one fused pass (rbm.kernels)
    nv, nh = model.n_visible, model.n_hidden
    theta = np.empty(nv * nh + nv + nh, dtype=dt)
    grad = np.empty_like(theta)
    q = _views(theta, nv, nh)
    gq = _views(grad, nv, nh)
    for key, value in model._to_internal().items():
        q[key][...] = value
    p = InternalParams(q["U"], q["c"], q["d"], *model._encoding())
    if average:
        if model._avg_sum is None:
            model._avg_sum = np.zeros(theta.shape, dtype=np.float64)
            model._avg_count = 0
        avg_sum = model._avg_sum
    persistent = model.method in ("pcd", "pt")
    if persistent:
        if model.persistent_chains_ is None:
            idx = rng.integers(0, X.shape[0], model.n_chains)
            model.persistent_chains_ = X[idx].astype(np.uint8)
        if model.method == "pt":
            if model._tempered is None:
                model._tempered = TemperedChains(p.encode(model.persistent_chains_),
                                                 model.n_temperatures, model.beta_min)
            model._tempered.state = model._tempered.state.astype(dt)
    # Chains and data share two stacked buffers: rows [0, n_neg) are the
    # negative-phase chains, the next nb rows the minibatch, so that the
    # gradient is ONE weighted product  A^T (w * E[g|A])  (weights -1/n_neg
    # on chains, +1/nb on data) instead of two products, two means, two sums.
    n_neg_max = model.n_chains if persistent else model.batch_size
    rows = n_neg_max + model.batch_size
    A = np.empty((rows, nv), dtype=dt)            # internal visible states
    Xh = np.empty((rows, nh), dtype=dt)           # their hidden inputs d + A U
    G = np.empty((rows, nh), dtype=dt)            # weighted hidden means
    w = np.empty(rows, dtype=dt)
    if model.method == "pcd":
        A[:n_neg_max] = p.encode(model.persistent_chains_)
        np.matmul(A[:n_neg_max], p.U, out=Xh[:n_neg_max])
        Xh[:n_neg_max] += p.d
    order = rng.permutation(X.shape[0])
    Xd = p.encode(X[order])        # shuffled once; minibatches are views
    flips = []
    k, flip_moves, batch_size = model.k, model.flip_moves, model.batch_size
    for start in range(0, X.shape[0], batch_size):
        ub = Xd[start:start + batch_size]
        nb = ub.shape[0]
        n_neg = n_neg_max if persistent else nb
        m = n_neg + nb
        neg_u, neg_x = A[:n_neg], Xh[:n_neg]
        A[n_neg:m] = ub
        np.matmul(ub, p.U, out=Xh[n_neg:m])
        Xh[n_neg:m] += p.d
        if model.method == "cd":
            neg_u[...] = ub
            neg_x[...] = Xh[n_neg:m]
            flips.append(advance_chains(neg_u, neg_x, p, k, rng, flip_moves=flip_moves))
        elif model.method == "pcd":
            # the first hidden draw uses the chains' hidden input from the
            # previous minibatch (computed before the last parameter update,
            # as scikit-learn does); this saves one matrix product per update
            flips.append(advance_chains(neg_u, neg_x, p, k, rng, flip_moves=flip_moves))
        else:
            model._tempered.step(p, k, rng, flip_moves=flip_moves)
            neg_u[...] = model._tempered.samples
            np.matmul(neg_u, p.U, out=neg_x)
            neg_x += p.d
        w[:n_neg] = -1.0 / n_neg
        w[n_neg:m] = 1.0 / nb
        g = p.hidden_mean(x=Xh[:m], out=G[:m])
        g *= w[:m, None]
        np.matmul(A[:m].T, g, out=gq["U"])
        np.matmul(w[:m], A[:m], out=gq["c"])
        np.sum(g, axis=0, out=gq["d"])
        if model.weight_decay:
            gq["U"] -= model.weight_decay * p.U
        model._opt.step({"theta": theta}, {"theta": grad}, learning_rate=lr)
        if average:
            avg_sum += theta
            model._avg_count += 1
    if not np.all(np.isfinite(theta)):
        raise DivergenceError("training diverged (non-finite parameters); lower "
                              "learning_rate", last_good_params=model.get_parameters())
    model._set_from_internal(q["U"], q["c"], q["d"])
    flips = [f for f in flips if not math.isnan(f)]
    stats = {"flip_acceptance": float(np.mean(flips)) if flips else float("nan"),
             "swap_acceptance": float("nan")}
    if model.method == "pcd":
        model.persistent_chains_ = p.decode(A[:n_neg_max])
    elif model.method == "pt":
        model.persistent_chains_ = p.decode(model._tempered.samples)
        stats["swap_acceptance"] = float(np.mean(model._tempered.swap_rates()))
    return stats


def _finish_average(model, monitor, X_val) -> None:
    """Replace the parameters by the Polyak-Ruppert average and re-record the last epoch."""
    nv, nh = model.n_visible, model.n_hidden
    q = _views(model._avg_sum / model._avg_count, nv, nh)
    model._set_from_internal(q["U"], q["c"], q["d"])
    model._avg_sum, model._avg_count = None, 0
    h = model.history_
    stats = {"flip_acceptance": h["flip_acceptance"].pop(),
             "swap_acceptance": h["swap_acceptance"].pop()}
    lr = h["learning_rate"].pop()
    for key in list(h):
        if key not in ("flip_acceptance", "swap_acceptance", "learning_rate"):
            h[key].pop()
    model._record(monitor, X_val, lr, stats)


# ----------------------------------------------------------------- monitoring
def monitor_rows(n_visible: int, n_hidden: int) -> int:
    """Rows used for the per-epoch history: 2000, fewer for large models so
    that the all-site pseudo-likelihood stays cheap beside an epoch."""
    return int(min(_MONITOR_ROWS, max(100, _MONITOR_BUDGET // (n_visible * n_hidden))))


def bernoulli_record(model, monitor, X_val, lr, stats) -> None:
    """Append one epoch to a :class:`~rbm.BernoulliRBM`'s ``history_``.

    ``reconstruction_error``, all-site ``pseudo_log_likelihood`` and (when the
    smaller layer has <= 20 units) the exact ``log_likelihood`` of the
    monitoring rows, the same with ``val_`` for validation data, the
    learning rate and the chains' acceptance rates.
    """
    h = model.history_
    for key in ("epoch", "learning_rate", "reconstruction_error", "pseudo_log_likelihood",
                "log_likelihood", "flip_acceptance", "swap_acceptance"):
        h.setdefault(key, [])
    h["epoch"].append(model.epochs_done_)
    h["learning_rate"].append(float(lr))
    h["reconstruction_error"].append(model._reconstruction_error(monitor))
    h["pseudo_log_likelihood"].append(float(np.mean(model._pseudo_log_likelihood(monitor))))
    exact = min(model.n_visible, model.n_hidden) <= _MONITOR_EXACT_MAX
    if exact:
        model.log_partition(method="exact")
    logz = model.log_partition_.mean if exact else float("nan")
    h["log_likelihood"].append(float(np.mean(-model._free_energy(monitor)) - logz))
    h["flip_acceptance"].append(stats["flip_acceptance"])
    h["swap_acceptance"].append(stats["swap_acceptance"])
    if X_val is not None:
        Xv = X_val[:monitor_rows(model.n_visible, model.n_hidden)]
        for key in ("val_reconstruction_error", "val_pseudo_log_likelihood",
                    "val_log_likelihood"):
            h.setdefault(key, [])
        h["val_reconstruction_error"].append(model._reconstruction_error(Xv))
        h["val_pseudo_log_likelihood"].append(
            float(np.mean(model._pseudo_log_likelihood(Xv))))
        h["val_log_likelihood"].append(float(np.mean(-model._free_energy(Xv)) - logz))


# ------------------------------------------------------- Gaussian: one epoch
def gaussian_epoch(model, X, lr, average: bool = False) -> dict:
    """One pass of a :class:`~rbm.GaussianBernoulliRBM` over ``X``.

    Minibatch gradient ascent: ``<-dF/dtheta>_data - <-dF/dtheta>_model``,
    the model average from CD-k chains started at the minibatch or from
    persistent chains; ``sigma`` is learned through ``log sigma`` when
    ``learn_sigma``. (No parameter averaging for this model: ``average`` is
    ignored.)
    """
    rng = model._train_rng
    if model._opt is None:
        model._opt = make_optimizer(model.optimizer, model.learning_rate,
                                    momentum=model.momentum)
    if model.method == "pcd" and model.persistent_chains_ is None:
        idx = rng.integers(0, X.shape[0], model.n_chains)
        model.persistent_chains_ = X[idx].copy()
    order = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0], model.batch_size):
        batch = X[order[start:start + model.batch_size]]
        if model.method == "pcd":
            model.persistent_chains_ = model._gibbs(model.persistent_chains_, model.k, rng)
            neg = model.persistent_chains_
        else:
            neg = model._gibbs(batch, model.k, rng)
        pos_g = model._neg_free_energy_grad(batch, per_sample=False)
        neg_g = model._neg_free_energy_grad(neg, per_sample=False)
        grads = {key: pos_g[key] - neg_g[key] for key in pos_g}
        if model.weight_decay:
            grads["weights"] = grads["weights"] - model.weight_decay * model.weights
        params = {"weights": model.weights, "visible_bias": model.visible_bias,
                  "hidden_bias": model.hidden_bias}
        if model.learn_sigma:
            params["log_sigma"] = np.log(model.sigma)
        model._opt.step(params, grads, learning_rate=lr)
        if model.learn_sigma:
            model.sigma = np.exp(params["log_sigma"])
        if not all(np.all(np.isfinite(v)) for v in params.values()):
            raise DivergenceError("training diverged (non-finite parameters); "
                                  "lower learning_rate", last_good_params=None)
    return {}


def gaussian_record(model, monitor, X_val, lr, stats) -> None:
    """Append one epoch to a :class:`~rbm.GaussianBernoulliRBM`'s ``history_``.

    ``reconstruction_error`` (mean squared error of ``x -> p(h|x) -> a + W p``)
    and the exact mean ``log_likelihood`` of the training data when
    ``n_hidden <= 16`` (else NaN).
    """
    h = model.history_
    for key in ("epoch", "reconstruction_error", "log_likelihood"):
        h.setdefault(key, [])
    p = sigmoid(model._hidden_input(monitor))
    recon = model.visible_bias + p @ model.weights.T
    h["epoch"].append(model.epochs_done_)
    h["reconstruction_error"].append(float(np.mean((monitor - recon) ** 2)))
    if model.n_hidden <= _GAUSSIAN_MONITOR_EXACT_MAX:
        ll = float(np.mean(-model._free_energy(monitor)) - model._log_partition_exact())
    else:
        ll = float("nan")
    h["log_likelihood"].append(ll)


# -------------------------------------------------------------- checkpoints
def training_state(model) -> dict:
    """Everything beyond the parameters that a resumed fit needs (HDF5-storable)."""
    state = {"epochs_done": int(model.epochs_done_),
             "rng_state": json.dumps(model._train_rng.bit_generator.state),
             "split_seed": -1 if model._split_seed is None else int(model._split_seed),
             "data_hash": model._data_hash or "",
             "seed": json.dumps(model.seed_)}
    if model._avg_sum is not None:
        state["average_sum"] = model._avg_sum
        state["average_count"] = model._avg_count
    if model._opt is not None:
        state["optimizer"] = model._opt.state_dict()
        state["optimizer_name"] = model._opt.name
    if model.persistent_chains_ is not None:
        state["persistent_chains"] = model.persistent_chains_
    tempered = getattr(model, "_tempered", None)
    if tempered is not None:
        state["tempered_state"] = tempered.state.astype(np.float64)
        state["tempered_swaps"] = np.stack([tempered.n_swaps_accepted, tempered.n_swaps_tried])
    return state


def load_training_state(model, state: dict) -> None:
    """Restore what :func:`training_state` returned (after the parameters)."""
    model.epochs_done_ = int(state["epochs_done"])
    model._train_rng = np.random.default_rng()
    model._train_rng.bit_generator.state = json.loads(state["rng_state"])
    seed = int(state.get("split_seed", -1))
    model._split_seed = None if seed < 0 else seed
    model._data_hash = state.get("data_hash") or None
    if "seed" in state:
        model.seed_ = json.loads(state["seed"])
    if "optimizer" in state:
        model._opt = make_optimizer(state.get("optimizer_name", model.optimizer),
                                    model._base_learning_rate(), momentum=model.momentum)
        model._opt.load_state_dict(state["optimizer"])
    if "average_sum" in state:
        model._avg_sum = np.asarray(state["average_sum"], dtype=np.float64)
        model._avg_count = int(state["average_count"])
    if "persistent_chains" in state:
        chains = np.asarray(state["persistent_chains"])
        model.persistent_chains_ = (chains.astype(np.uint8) if model.kind == "bernoulli"
                                    else chains.astype(np.float64))
    if "tempered_state" in state:
        t = TemperedChains(np.zeros((1, model.n_visible)), model.n_temperatures,
                           model.beta_min)
        t.state = np.asarray(state["tempered_state"], dtype=np.float64)
        t.n_chains = t.state.shape[1]
        sw = np.asarray(state["tempered_swaps"])
        t.n_swaps_accepted, t.n_swaps_tried = sw[0].copy(), sw[1].copy()
        model._tempered = t


def resume_settings(model) -> dict:
    """The settings that define a run: the hyperparameters except ``n_epochs``."""
    settings = dict(model.hyperparameters())
    settings.pop("n_epochs", None)
    settings["kind"] = model.kind
    return settings


def _resume_from(model, checkpoint, X) -> None:
    from .io import load
    other = load(checkpoint)
    check_resume_settings(resume_settings(other), resume_settings(model),
                          what=f"checkpoint {checkpoint}")
    state = getattr(other, "_training_state_dict", None)
    if state is None:
        raise InvalidParameterError(f"checkpoint {checkpoint} has no training state")
    h = model._hash_data(X)
    if state.get("data_hash") and state["data_hash"] != h:
        raise InvalidParameterError(
            f"checkpoint {checkpoint} was trained on different data (hash "
            f"{state['data_hash'][:12]}, got {h[:12]}); resume needs the same X")
    model._set_parameters_unchecked(other.get_parameters())
    model.history_ = {k: list(v) for k, v in other.history_.items()}
    model.log_partition_ = None
    load_training_state(model, state)
