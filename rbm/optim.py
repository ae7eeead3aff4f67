"""Stochastic-gradient optimizers and learning-rate schedules.

The one implementation of SGD (with momentum) and Adam in the workbench
(``vmc`` imports them from here). Optimizers work on a dictionary of NumPy
arrays and *ascend* a gradient (the log-likelihood gradient of an RBM); pass
``-grad`` to minimize. State (moments, step count) can be saved and restored
so that training resumes exactly.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from mccore.validation import check_choice, check_float

from .kernels import adam_update, momentum_update

__all__ = ["SGD", "Adam", "make_optimizer", "learning_rate_at", "SCHEDULES"]

SCHEDULES = ("constant", "linear", "exponential", "cosine")


def learning_rate_at(base: float, schedule: str, progress: float, *,
                     final_fraction: float = 0.1) -> float:
    """Learning rate after a fraction ``progress`` in [0, 1] of training.

    Parameters
    ----------
    base : float
        Initial learning rate.
    schedule : {"constant", "linear", "exponential", "cosine"}
        ``constant``: ``base``; ``linear``: from ``base`` down to
        ``final_fraction * base``; ``exponential``: geometric decay to
        ``final_fraction * base``; ``cosine``: half cosine from ``base`` to
        ``final_fraction * base``.
    progress : float
        Fraction of the planned training done.
    final_fraction : float
        Ratio of the final to the initial learning rate.
    """
    p = min(max(progress, 0.0), 1.0)
    f = final_fraction
    if schedule == "constant":
        return base
    if schedule == "linear":
        return base * (1.0 - (1.0 - f) * p)
    if schedule == "exponential":
        return base * f ** p
    if schedule == "cosine":
        return base * (f + (1.0 - f) * 0.5 * (1.0 + math.cos(math.pi * p)))
    check_choice("schedule", schedule, SCHEDULES)
    raise AssertionError  # pragma: no cover


def _as_flat(a) -> np.ndarray:
    """A C-contiguous 1-D view (or copy) of a gradient."""
    return np.ascontiguousarray(a).reshape(-1)


@contextlib.contextmanager
def _flat(param: np.ndarray):
    """A 1-D array to update in place; written back if ``param`` is not contiguous."""
    if param.flags.c_contiguous:
        yield param.reshape(-1)
        return
    flat = np.ascontiguousarray(param).reshape(-1)
    yield flat
    param[...] = flat.reshape(param.shape)


class SGD:
    """Stochastic gradient ascent with (heavy-ball) momentum.

    ``velocity = momentum * velocity + learning_rate * grad``;
    ``param += velocity``.

    Parameters
    ----------
    learning_rate : float
        Step size (> 0).
    momentum : float
        Momentum coefficient in [0, 1).
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, *, momentum: float = 0.5):
        self.learning_rate = check_float("learning_rate", learning_rate, minimum=0.0,
                                         strict_min=True)
        self.momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0,
                                    strict_max=True)
        self.velocity: dict[str, np.ndarray] = {}
        self.n_steps = 0

    def step(self, params: dict, grads: dict, *, learning_rate: float | None = None) -> None:
        """Update ``params`` in place along ``grads`` (ascent)."""
        lr = self.learning_rate if learning_rate is None else learning_rate
        for key, g in grads.items():
            v = self.velocity.get(key)
            if v is None:
                v = self.velocity[key] = np.zeros(np.shape(g), dtype=np.result_type(g))
            with _flat(params[key]) as theta:
                momentum_update(theta, _as_flat(g), v.reshape(-1), self.momentum, lr)
        self.n_steps += 1

    def state_dict(self) -> dict:
        """Arrays and scalars needed to resume (plain types, HDF5-able)."""
        out = {"n_steps": self.n_steps}
        for key, v in self.velocity.items():
            out[f"velocity/{key}"] = v.copy()
        return out

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.n_steps = int(state.get("n_steps", 0))
        self.velocity = {k.split("/", 1)[1]: np.array(v) for k, v in state.items()
                         if k.startswith("velocity/")}


class Adam:
    """Adam (Kingma & Ba 2015) for gradient ascent.

    ``m = b1 m + (1-b1) g``; ``s = b2 s + (1-b2) g^2``;
    ``param += lr * mhat / (sqrt(shat) + eps)`` with bias-corrected moments.

    Parameters
    ----------
    learning_rate : float
        Step size (> 0).
    beta1, beta2 : float
        Moment decay rates in [0, 1).
    eps : float
        Denominator offset (> 0).
    """

    name = "adam"

    def __init__(self, learning_rate: float = 1e-3, *, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):
        self.learning_rate = check_float("learning_rate", learning_rate, minimum=0.0,
                                         strict_min=True)
        self.beta1 = check_float("beta1", beta1, minimum=0.0, maximum=1.0, strict_max=True)
        self.beta2 = check_float("beta2", beta2, minimum=0.0, maximum=1.0, strict_max=True)
        self.eps = check_float("eps", eps, minimum=0.0, strict_min=True)
        self.m: dict[str, np.ndarray] = {}
        self.s: dict[str, np.ndarray] = {}
        self.n_steps = 0

    def step(self, params: dict, grads: dict, *, learning_rate: float | None = None) -> None:
        """Update ``params`` in place along ``grads`` (ascent)."""
        lr = self.learning_rate if learning_rate is None else learning_rate
        self.n_steps += 1
        t = self.n_steps
        c1 = 1.0 - self.beta1 ** t
        c2 = 1.0 - self.beta2 ** t
        step = lr * math.sqrt(c2) / c1
        eps = self.eps * math.sqrt(c2)
        for key, g in grads.items():
            m = self.m.get(key)
            if m is None:
                m = self.m[key] = np.zeros(np.shape(g), dtype=np.result_type(g))
                self.s[key] = np.zeros_like(m)
            with _flat(params[key]) as theta:
                adam_update(theta, _as_flat(g), m.reshape(-1), self.s[key].reshape(-1),
                            self.beta1, self.beta2, step, eps)

    def state_dict(self) -> dict:
        """Arrays and scalars needed to resume (plain types, HDF5-able)."""
        out = {"n_steps": self.n_steps}
        for key in self.m:
            out[f"m/{key}"] = self.m[key].copy()
            out[f"s/{key}"] = self.s[key].copy()
        return out

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.n_steps = int(state.get("n_steps", 0))
        self.m = {k.split("/", 1)[1]: np.array(v) for k, v in state.items()
                  if k.startswith("m/")}
        self.s = {k.split("/", 1)[1]: np.array(v) for k, v in state.items()
                  if k.startswith("s/")}


def make_optimizer(name: str, learning_rate: float, *, momentum: float = 0.5):
    """Build an optimizer by name (``"sgd"`` or ``"adam"``)."""
    check_choice("optimizer", name, ("sgd", "adam"))
    if name == "sgd":
        return SGD(learning_rate, momentum=momentum)
    return Adam(learning_rate)
