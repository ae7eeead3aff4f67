"""One training epoch and the monitored numbers of each kind of RBM.

:mod:`rbm.training` runs the loop and owns the
:class:`~rbm.training.TrainingState`; this module says what is particular to
each model, as one *recipe* per kind (:data:`RECIPES`): how training data is
checked and hashed, how the validation split and the monitoring rows are
made, one epoch of minibatch updates (reading and updating the state it is
given), and the per-epoch history. The estimators provide the model's
mathematics (conditionals, free energies, the exact reparametrization of the
binary RBM's internal coordinates); what this module changes on them is
their parameters, ``history_`` and the cached ``log_partition_``.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from mccore.errors import DivergenceError, InvalidParameterError

from ._utils import check_data, sigmoid
from .negative_phase import InternalParams, TemperedChains, advance_chains
from .optim import make_optimizer

__all__ = ["RECIPES", "bernoulli_epoch", "data_hash", "gaussian_epoch", "monitor_rows"]

_MONITOR_ROWS = 2000
_MONITOR_BUDGET = 4_000_000   # rows x n_visible x n_hidden of the per-epoch monitoring
_MONITOR_EXACT_MAX = 20
_GAUSSIAN_MONITOR_EXACT_MAX = 16
_GAUSSIAN_FINAL_LR_FRACTION = 0.1


def data_hash(X: np.ndarray) -> str:
    """SHA-1 of binary data (shape + uint8 bytes) for provenance and resume checks."""
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


def monitor_rows(n_visible: int, n_hidden: int) -> int:
    """Rows used for the per-epoch history: 2000, fewer for large models so
    that the all-site pseudo-likelihood stays cheap beside an epoch."""
    return int(min(_MONITOR_ROWS, max(100, _MONITOR_BUDGET // (n_visible * n_hidden))))


# ------------------------------------------------------ Bernoulli: one epoch
def _views(flat, nv, nh) -> dict:
    """Views ``U`` (nv, nh), ``c`` (nv,), ``d`` (nh,) into one flat parameter vector."""
    return {"U": flat[:nv * nh].reshape(nv, nh), "c": flat[nv * nh:nv * nh + nv],
            "d": flat[nv * nh + nv:]}


def _chains_from_rows(rows: np.ndarray, rng) -> np.ndarray:
    """Persistent chains ({0, 1} uint8) started at data rows; fractional rows
    (probabilities) are drawn as bits (binary rows draw nothing)."""
    if rows.dtype == np.uint8:
        return rows.copy()
    return (rng.random(rows.shape) < rows).astype(np.uint8)


def bernoulli_epoch(model, state, X, lr, average: bool = False) -> dict:
    """One pass of a :class:`~rbm.BernoulliRBM` over ``X`` (validated, augmented).

    Minibatch gradient ascent on log p: data statistics minus negative-phase
    statistics (CD-k chains from the minibatch, persistent chains, or the
    beta = 1 replicas of parallel tempering), projected onto the tied subspace
    for a ``translation_tied`` model (:mod:`rbm.tying`; the parameters, read
    through ``_to_internal``, are tied), then one optimizer step. With
    ``average`` the iterates after every update are summed into the
    Polyak-Ruppert average. Rows of ``X`` may be fractional (visible
    probabilities): they enter the data statistics as they are. Returns the
    chains' statistics.
    """
    rng = state.rng
    dt = np.dtype(model.dtype)
    if state.optimizer is None:
        state.optimizer = make_optimizer(model.optimizer, model.base_learning_rate,
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
        if state.average_sum is None:
            state.average_sum = np.zeros(theta.shape, dtype=np.float64)
            state.average_count = 0
        avg_sum = state.average_sum
    persistent = model.method in ("pcd", "pt")
    if persistent:
        if state.chains is None:
            idx = rng.integers(0, X.shape[0], model.n_chains)
            state.chains = _chains_from_rows(X[idx], rng)
        if model.method == "pt":
            if state.tempered is None:
                state.tempered = TemperedChains(p.encode(state.chains),
                                                model.n_temperatures, model.beta_min)
            state.tempered.state = state.tempered.state.astype(dt)
    tempered = state.tempered
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
        A[:n_neg_max] = p.encode(state.chains)
        np.matmul(A[:n_neg_max], p.U, out=Xh[:n_neg_max])
        Xh[:n_neg_max] += p.d
    order = rng.permutation(X.shape[0])
    Xd = p.encode(X[order])        # shuffled once; minibatches are views
    flips = []
    k, flip_moves, batch_size = model.k, model.flip_moves, model.batch_size
    tying = model._tying()       # translation-tied: the gradient projected (rbm.tying)
    optimizer = state.optimizer
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
            tempered.step(p, k, rng, flip_moves=flip_moves)
            neg_u[...] = tempered.samples
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
        if tying is not None:
            tying.project(gq["U"], gq["c"], gq["d"])
        optimizer.step({"theta": theta}, {"theta": grad}, learning_rate=lr)
        if average:
            avg_sum += theta
            state.average_count += 1
    if not np.all(np.isfinite(theta)):
        raise DivergenceError("training diverged (non-finite parameters); lower "
                              "learning_rate", last_good_params=model.get_parameters())
    model._set_from_internal(q["U"], q["c"], q["d"])
    flips = [f for f in flips if not math.isnan(f)]
    stats = {"flip_acceptance": float(np.mean(flips)) if flips else float("nan"),
             "swap_acceptance": float("nan")}
    if model.method == "pcd":
        state.chains = p.decode(A[:n_neg_max])
    elif model.method == "pt":
        state.chains = p.decode(tempered.samples)
        stats["swap_acceptance"] = float(np.mean(tempered.swap_rates()))
    return stats


def _bernoulli_finish_average(model, state, monitor, X_val) -> None:
    """Replace the parameters by the Polyak-Ruppert average and re-record the last epoch."""
    nv, nh = model.n_visible, model.n_hidden
    q = _views(state.average_sum / state.average_count, nv, nh)
    model._set_from_internal(q["U"], q["c"], q["d"])
    state.average_sum, state.average_count = None, 0
    h = model.history_
    stats = {"flip_acceptance": h["flip_acceptance"].pop(),
             "swap_acceptance": h["swap_acceptance"].pop()}
    lr = h["learning_rate"].pop()
    for key in list(h):
        if key not in ("flip_acceptance", "swap_acceptance", "learning_rate"):
            h[key].pop()
    bernoulli_record(model, monitor, X_val, lr, stats)


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


class _Bernoulli:
    """What is particular to training a :class:`~rbm.BernoulliRBM`."""

    epoch = staticmethod(bernoulli_epoch)
    record = staticmethod(bernoulli_record)
    finish_average = staticmethod(_bernoulli_finish_average)

    @staticmethod
    def validate(model, X):
        """Binary data as uint8 (as compact as the data); fractional data in
        [0, 1] (visible probabilities) as float64."""
        return model._check_visible(X, name="X", for_training=True)

    @staticmethod
    def hash(X) -> str:
        return data_hash(X) if X.dtype == np.uint8 else _float_hash(X)

    @staticmethod
    def begin(state) -> None:
        state.split_seed = int(state.rng.integers(2**63))

    @staticmethod
    def split(model, state, X, X_val):
        """(training rows before augmentation; validation rows or None; monitoring rows)."""
        if X_val is not None:
            X_val = model._check_visible(X_val, name="X_val", n_features=X.shape[1])
        elif model.validation_fraction > 0:
            n_val = int(round(model.validation_fraction * X.shape[0]))
            if 1 <= n_val < X.shape[0]:
                perm = np.random.default_rng(state.split_seed).permutation(X.shape[0])
                X, X_val = X[perm[n_val:]], X[perm[:n_val]]
        rows = monitor_rows(X.shape[1], model.n_hidden)
        return X, X_val, X[:rows].astype(np.float64)

    @staticmethod
    def augment(model, X):
        if model.flip_augment:
            return np.concatenate([X, 1 - X], axis=0)
        return X

    @staticmethod
    def average_fraction(model) -> float:
        return model.average_fraction

    @staticmethod
    def final_lr_fraction(model) -> float:
        return model.final_lr_fraction


# ------------------------------------------------------- Gaussian: one epoch
def gaussian_epoch(model, state, X, lr, average: bool = False) -> dict:
    """One pass of a :class:`~rbm.GaussianBernoulliRBM` over ``X``.

    Minibatch gradient ascent: ``<-dF/dtheta>_data - <-dF/dtheta>_model``,
    the model average from CD-k chains started at the minibatch or from
    persistent chains; ``sigma`` is learned through ``log sigma`` when
    ``learn_sigma``. (No parameter averaging for this model: ``average`` is
    ignored.)
    """
    rng = state.rng
    if state.optimizer is None:
        state.optimizer = make_optimizer(model.optimizer, model.learning_rate,
                                         momentum=model.momentum)
    if model.method == "pcd" and state.chains is None:
        idx = rng.integers(0, X.shape[0], model.n_chains)
        state.chains = X[idx].copy()
    order = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0], model.batch_size):
        batch = X[order[start:start + model.batch_size]]
        if model.method == "pcd":
            state.chains = model._gibbs(state.chains, model.k, rng)
            neg = state.chains
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
        state.optimizer.step(params, grads, learning_rate=lr)
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


class _Gaussian:
    """What is particular to training a :class:`~rbm.GaussianBernoulliRBM`."""

    epoch = staticmethod(gaussian_epoch)
    record = staticmethod(gaussian_record)

    @staticmethod
    def validate(model, X):
        return check_data(X, name="X", model_name=type(model).__name__)

    hash = staticmethod(_float_hash)

    @staticmethod
    def begin(state) -> None:
        """No draws before initialization."""

    @staticmethod
    def split(model, state, X, X_val):
        if X_val is not None:
            raise InvalidParameterError("X_val is not supported by GaussianBernoulliRBM, "
                                        "got an array")
        return X, None, X

    @staticmethod
    def augment(model, X):
        return X

    @staticmethod
    def average_fraction(model) -> float:
        return 0.0

    @staticmethod
    def final_lr_fraction(model) -> float:
        return _GAUSSIAN_FINAL_LR_FRACTION

    @staticmethod
    def finish_average(model, state, monitor, X_val) -> None:   # pragma: no cover
        raise AssertionError("the Gaussian-binary RBM does not average its parameters")


#: the training recipe of each kind of RBM (the estimator's ``kind``)
RECIPES = {"bernoulli": _Bernoulli, "gaussian": _Gaussian}
