"""The schedule of a long VMC run: a tail with a decaying step and more samples, and
the average of the last iterates (:class:`Schedule`).

Stochastic reconfiguration steps ``delta = -lr S^-1 g`` from a gradient
``g`` estimated from M samples: one step is an imaginary-time step
``tau = lr`` of ``exp(-tau H)`` plus noise of order ``lr / sqrt(M)``. Near
the optimum that noise keeps the parameters jittering around it, and the
energy of one iterate lies above the optimum's by about the quadratic form
of the jitter: a fixed step and sample count give a floor that more
iterations do not lower. Three remedies, all off by default:

* a **tail**: the last ``tail_iterations`` iterations of the run, in which
  the learning rate decays geometrically from ``learning_rate`` (first
  tail iteration) to ``tail_learning_rate`` (last iteration): the jitter
  shrinks with the step (in stochastic approximation a decreasing step is
  what lets the iterates settle instead of fluctuating), while the long
  run before it at the full rate has done the travelling;
* ``tail_samples`` samples per iteration in the tail (the gradient's noise
  falls as ``1 / sqrt(M)``);
* SR's **diagonal shift** decaying geometrically over the tail from the
  run's ``diag_shift`` to ``tail_diag_shift``: a shift ``epsilon`` damps
  every direction in which S is smaller than ``epsilon``, which at a
  critical point are the slow, long-wavelength ones; a large shift keeps
  the noisy small eigenvalues of a sampled S out of the step while the
  parameters travel, a smaller one late (with more samples and a smaller
  step, so that the noise let through stays small) lets those directions
  converge;
* **iterate averaging** (Polyak-Ruppert): the reported estimate uses the
  mean of the parameters at which the last ``average_last`` iterations
  sampled. The iterates scatter around the optimum; their mean is closer
  to it than any one of them (by up to the number of uncorrelated iterates
  in the window, in the quadratic excess energy).

The schedule is a pure function of the iteration (0-based) and the run's
total ``n_iterations``, and the average is taken from the run's history of
parameters, which checkpoints carry: a resumed run continues bit-identically
anywhere in the tail, on any number of MPI ranks. A finished run extended to
more iterations applies the schedule of the new total to the new iterations.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mccore.errors import InvalidParameterError

__all__ = ["Schedule", "check_schedule"]


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Learning rate and samples of each iteration, and the iterate average.

    Attributes
    ----------
    n_iterations : int
        The run's total iterations.
    learning_rate : float
        The learning rate before the tail (and at its first iteration).
    n_samples : int
        Samples per iteration before the tail.
    tail_iterations : int
        The last iterations forming the tail (0: none).
    tail_learning_rate : float or None
        The learning rate of the last iteration, reached geometrically over
        the tail (None: no decay; the optimizer keeps its own rate).
    tail_samples : int or None
        Samples per iteration in the tail (None: ``n_samples``).
    average_last : int
        The final estimate uses the mean of the parameters of the last
        ``average_last`` iterations (0: the last parameters).
    diag_shift : float or None
        SR's diagonal shift before the tail (and at its first iteration).
    tail_diag_shift : float or None
        SR's diagonal shift at the last iteration, reached geometrically from
        ``diag_shift`` over the tail (None: no decay; the optimizer keeps its
        own shift).
    """

    n_iterations: int
    learning_rate: float
    n_samples: int
    tail_iterations: int = 0
    tail_learning_rate: float | None = None
    tail_samples: int | None = None
    average_last: int = 0
    diag_shift: float | None = None
    tail_diag_shift: float | None = None

    @property
    def active(self) -> bool:
        """Whether anything differs from a plain run."""
        return bool(self.tail_iterations or self.average_last)

    @property
    def tail_start(self) -> int:
        """The first (0-based) iteration of the tail."""
        return self.n_iterations - self.tail_iterations

    def learning_rate_at(self, it: int) -> float | None:
        """The learning rate of iteration ``it`` (0-based), or None where there is no decay.

        ``lr * (lr_tail / lr) ** (k / (T - 1))`` at the tail's k-th iteration
        (T iterations; a one-iteration tail runs at ``tail_learning_rate``).
        """
        return self._geometric(it, self.learning_rate, self.tail_learning_rate)

    def diag_shift_at(self, it: int) -> float | None:
        """SR's diagonal shift at iteration ``it`` (0-based), or None where there is no decay.

        ``eps * (eps_tail / eps) ** (k / (T - 1))`` at the tail's k-th
        iteration, as :meth:`learning_rate_at`.
        """
        return self._geometric(it, self.diag_shift, self.tail_diag_shift)

    def _geometric(self, it: int, start: float | None, end: float | None) -> float | None:
        if end is None:
            return None
        k = it - self.tail_start
        if k < 0:
            return start
        if self.tail_iterations <= 1:
            return end
        frac = min(k, self.tail_iterations - 1) / (self.tail_iterations - 1)
        return start * (end / start) ** frac

    def n_samples_at(self, it: int) -> int:
        """The samples of iteration ``it`` (0-based)."""
        if self.tail_samples is not None and it >= self.tail_start:
            return self.tail_samples
        return self.n_samples

    def averaged(self, params_history) -> np.ndarray | None:
        """Mean of the last ``average_last`` rows of ``params_history`` (the parameters
        each iteration sampled at); None without averaging or history."""
        if self.average_last <= 0 or not len(params_history):
            return None
        rows = np.asarray(params_history[-self.average_last:], dtype=np.float64)
        return rows.mean(axis=0)

    def settings(self) -> dict:
        """The settings to record (and match on resume); empty for a plain run."""
        if not self.active:
            return {}
        out = {"tail_iterations": self.tail_iterations,
               "tail_learning_rate": self.tail_learning_rate,
               "tail_samples": self.tail_samples, "average_last": self.average_last}
        if self.tail_diag_shift is not None:      # absent when off: older records match
            out["tail_diag_shift"] = self.tail_diag_shift
        return out

    def notes(self) -> list:
        """The result's notes: what the tail did and what the final estimate is."""
        out = []
        if self.tail_iterations and (self.tail_samples is not None
                                     or self.tail_learning_rate is not None
                                     or self.tail_diag_shift is not None):
            what = [f"{self.tail_samples} samples each"] if self.tail_samples else []
            if self.tail_learning_rate is not None:
                what.append(f"learning rate {self.learning_rate:g} decaying geometrically "
                            f"to {self.tail_learning_rate:g}")
            if self.tail_diag_shift is not None:
                what.append(f"SR diagonal shift {self.diag_shift:g} decaying geometrically "
                            f"to {self.tail_diag_shift:g}")
            out.append(f"tail: the last {self.tail_iterations} iterations at "
                       + ", ".join(what))
        if self.average_last > 0:
            out.append(f"final estimate at the mean of the parameters of the last "
                       f"{self.average_last} iterations (iterate averaging); the resume "
                       f"state keeps the last iterate")
        return out


def check_schedule(n_iterations: int, optimizer: str, *, tail_iterations: int = 0,
                   tail_learning_rate: float | None = None, tail_samples: int | None = None,
                   average_last: int = 0, tail_diag_shift: float | None = None,
                   diag_shift: float | None = None) -> None:
    """The checks across settings of a schedule (each setting checked by its rule,
    :data:`vmc.settings.SCHEDULE_SETTINGS`, before; ``diag_shift`` the run's SR shift):
    InvalidParameterError."""
    if tail_iterations > n_iterations:
        raise InvalidParameterError(
            f"tail_iterations must be at most n_iterations {n_iterations}, got {tail_iterations}")
    if average_last > n_iterations:
        raise InvalidParameterError(
            f"average_last must be at most n_iterations {n_iterations}, got {average_last}")
    for name, value in (("tail_samples", tail_samples),
                        ("tail_learning_rate", tail_learning_rate),
                        ("tail_diag_shift", tail_diag_shift)):
        if value is not None and tail_iterations == 0:
            raise InvalidParameterError(
                f"{name} must go with a tail of the run, got tail_iterations 0")
    if tail_learning_rate is not None and optimizer != "sr":
        raise InvalidParameterError(
            f"tail_learning_rate must go with optimizer 'sr' (adam and sgd decay their own "
            f"rate), got optimizer '{optimizer}'")
    if tail_diag_shift is not None and optimizer != "sr":
        raise InvalidParameterError(
            f"tail_diag_shift must go with optimizer 'sr' (the shift is SR's), got optimizer "
            f"'{optimizer}'")
    if tail_diag_shift is not None and diag_shift is not None and not diag_shift > 0:
        raise InvalidParameterError(
            f"diag_shift must be > 0 when the shift decays geometrically from it over the tail "
            f"(tail_diag_shift {tail_diag_shift!r}), got {diag_shift!r}")
