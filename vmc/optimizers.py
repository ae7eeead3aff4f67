"""Parameter updates for VMC: ``Optimizer.step(grad, O_centered) -> delta``.

``grad`` is the energy gradient ``2 (<E_L O_k> - <E_L><O_k>)`` (computed
once, in the driver) and ``O_centered`` the centred log-derivatives
``O_k - <O_k>`` (n_samples, n_params) of this rank's samples. SGD and Adam
ignore ``O_centered`` and delegate to the one implementation of their update
rules in :mod:`rbm.optim` (which ascends, so they are handed ``-grad``);
stochastic reconfiguration (SR, the natural gradient) solves

    (S + shift * I) delta = -learning_rate * grad,   S_kl = <O_k O_l> - <O_k><O_l>,

with ``S`` formed by one BLAS product ``O_c^T O_c / n`` (summed over MPI
ranks) and solved by a Cholesky factorization.
"""

from __future__ import annotations

import warnings

import numpy as np

from mccore.errors import InvalidParameterError, IsingRBMWarning


def _rbm_optim():
    """:mod:`rbm.optim` (the one SGD/Adam), imported when an optimizer is first built:
    importing :mod:`rbm` imports scikit-learn, which ``import vmc`` does not need."""
    from rbm import optim
    return optim

__all__ = ["SGD", "Adam", "SR", "OPTIMIZERS", "DEFAULT_LEARNING_RATES", "make_optimizer",
           "SHIFT_SCHEDULES", "carleo_shift"]

OPTIMIZERS = ("sgd", "adam", "sr")
DEFAULT_LEARNING_RATES = {"sgd": 0.2, "adam": 0.1, "sr": 0.1}


def _check_lr(learning_rate):
    try:
        lr = float(learning_rate)
    except (TypeError, ValueError):
        lr = float("nan")
    if not (np.isfinite(lr) and lr > 0):
        raise InvalidParameterError(
            f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    return lr


class _Delegating:
    """Wrap an :mod:`rbm.optim` optimizer (which updates a dict in place, ascending).

    ``schedule`` and ``n_planned`` give a learning-rate schedule
    (:func:`rbm.optim.learning_rate_at`, down to ``final_fraction`` of the
    initial rate after ``n_planned`` steps); Adam needs a decaying rate to
    settle, since its normalized step does not shrink with the gradient.
    """

    def _setup_schedule(self, schedule, n_planned, final_fraction):
        if schedule not in _rbm_optim().SCHEDULES:
            raise InvalidParameterError(
                f"schedule must be one of {_rbm_optim().SCHEDULES}, got {schedule!r}")
        self.schedule = schedule
        self.n_planned = max(int(n_planned), 1)
        self.final_fraction = float(final_fraction)
        self.n_steps = 0

    def current_learning_rate(self) -> float:
        """Learning rate of the next step."""
        return _rbm_optim().learning_rate_at(self._impl.learning_rate, self.schedule,
                                           self.n_steps / self.n_planned,
                                           final_fraction=self.final_fraction)

    def step(self, grad, O_centered=None) -> np.ndarray:
        """Return the parameter change for the energy gradient ``grad`` (n_params,)."""
        grad = np.asarray(grad, dtype=np.float64)
        params = {"params": np.zeros_like(grad)}
        self._impl.step(params, {"params": -grad}, learning_rate=self.current_learning_rate())
        self.n_steps += 1
        return params["params"]

    def state_dict(self) -> dict:
        """Moments and step counts needed to resume exactly (plain arrays and scalars)."""
        return {"schedule_steps": self.n_steps, **self._impl.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""
        state = dict(state)
        self.n_steps = int(state.pop("schedule_steps", 0))
        self._impl.load_state_dict(state)

    @property
    def learning_rate(self) -> float:
        return self._impl.learning_rate


class SGD(_Delegating):
    """Plain (momentum) gradient descent, ``delta = -learning_rate * grad`` (+ momentum)."""

    name = "sgd"

    def __init__(self, learning_rate: float = DEFAULT_LEARNING_RATES["sgd"], *,
                 momentum: float = 0.0, schedule: str = "constant", n_planned: int = 1,
                 final_fraction: float = 0.01):
        self._impl = _rbm_optim().SGD(_check_lr(learning_rate), momentum=momentum)
        self._setup_schedule(schedule, n_planned, final_fraction)


class Adam(_Delegating):
    """Adam (Kingma & Ba 2015) on the energy gradient.

    By default the learning rate decays exponentially to 1 % over
    ``n_planned`` steps (Adam's step is ~``learning_rate`` in size whatever
    the gradient, so a constant rate leaves the parameters jittering at that
    scale).
    """

    name = "adam"

    def __init__(self, learning_rate: float = DEFAULT_LEARNING_RATES["adam"], *,
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 schedule: str = "exponential", n_planned: int = 1,
                 final_fraction: float = 0.01):
        self._impl = _rbm_optim().Adam(_check_lr(learning_rate), beta1=beta1, beta2=beta2,
                                     eps=eps)
        self._setup_schedule(schedule, n_planned, final_fraction)


SHIFT_SCHEDULES = ("constant", "carleo")


def _gram(O) -> np.ndarray:
    """``O^T O`` by one BLAS product (measured: OpenBLAS's gemm beats dsyrk plus the
    symmetrization here, 3.9 vs 6.4 ms at 1000 x 420)."""
    return O.T @ O


def carleo_shift(step: int) -> float:
    """Carleo & Troyer's relative shift ``lambda(p) = max(100 * 0.9^p, 1e-4)`` at step p (0-based)."""
    return max(100.0 * 0.9 ** step, 1e-4)


class SR:
    """Stochastic reconfiguration (natural gradient) with a diagonal shift.

    Parameters
    ----------
    learning_rate : float
        Step ``lr`` in ``(S + D) delta = -lr * grad``.
    diag_shift : float
        ``shift`` (>= 0) of ``D = shift * I`` (schedule ``"constant"``).
    shift_schedule : {"constant", "carleo"}
        ``"constant"``: ``D = shift * I``. ``"carleo"``: Carleo & Troyer's
        ``D = lambda(p) diag(S)``, ``lambda(p) = max(100 * 0.9^p, 1e-4)`` at
        step p (relative to the diagonal of S; the first steps are
        plain-gradient-like, the later ones the full natural gradient).
    comm : mpi4py communicator or None
        Sums ``O_c^T O_c`` and the sample count over ranks.

    Notes
    -----
    With more samples than parameters ``S`` is formed and the system solved
    by Cholesky. With fewer samples than parameters (and one rank) the
    Woodbury identity solves it through the n x n sample-space matrix:
    ``(D + O^T O / n)^-1 g = D^-1 g - D^-1 O^T (n I + O D^-1 O^T)^-1 O D^-1 g``,
    O(n^2 P) instead of O(P^3).
    """

    name = "sr"

    def __init__(self, learning_rate: float = DEFAULT_LEARNING_RATES["sr"], *,
                 diag_shift: float = 1e-3, shift_schedule: str = "constant", comm=None):
        self.learning_rate = _check_lr(learning_rate)
        shift = float(diag_shift)
        if not (np.isfinite(shift) and shift >= 0):
            raise InvalidParameterError(f"diag_shift must be a finite number >= 0, got {diag_shift!r}")
        if shift_schedule not in SHIFT_SCHEDULES:
            raise InvalidParameterError(
                f"shift_schedule must be one of {SHIFT_SCHEDULES}, got {shift_schedule!r}")
        self.diag_shift = shift
        self.shift_schedule = shift_schedule
        self.comm = comm
        self.n_steps = 0
        self._warned = False

    def s_matrix(self, O_centered) -> np.ndarray:
        """``S = O_c^T O_c / n`` (n_params, n_params), summed over MPI ranks."""
        O = np.asarray(O_centered, dtype=np.float64)
        S = _gram(O)
        n = O.shape[0]
        if self.comm is not None:
            from .mpi import allreduce_sum
            S = allreduce_sum(self.comm, S)
            n = self.comm.allreduce(n)
        if n <= O.shape[1] and not self._warned and self.shift_schedule == "constant" \
                and self.comm is not None:
            warnings.warn(f"SR with n_samples={n} <= n_params={O.shape[1]}: S is singular and "
                          "only the diagonal shift regularizes it; use more samples",
                          IsingRBMWarning, stacklevel=3)
            self._warned = True
        return S / n

    def _shift_diagonal(self, s_diag) -> np.ndarray:
        if self.shift_schedule == "carleo":
            return carleo_shift(self.n_steps) * s_diag + self.diag_shift
        return np.full_like(s_diag, self.diag_shift)

    def step(self, grad, O_centered) -> np.ndarray:
        """Return ``delta`` solving ``(S + D) delta = -lr * grad``."""
        if O_centered is None:
            raise InvalidParameterError("SR needs the centred log-derivatives O_centered")
        grad = np.asarray(grad, dtype=np.float64)
        O = np.asarray(O_centered, dtype=np.float64)
        n, n_params = O.shape
        if self.comm is None and n <= n_params and not self._warned \
                and self.shift_schedule == "constant":
            warnings.warn(f"SR with n_samples={n} <= n_params={n_params}: S is singular and "
                          "only the diagonal shift regularizes it; use more samples",
                          IsingRBMWarning, stacklevel=2)
            self._warned = True
        if self.comm is None and n < n_params:
            delta = self._woodbury(grad, O)
            if delta is not None:
                self.n_steps += 1
                return delta
        S = self.s_matrix(O)
        S[np.diag_indices_from(S)] += self._shift_diagonal(np.diag(S).copy())
        self.n_steps += 1
        import scipy.linalg

        try:
            return -self.learning_rate * scipy.linalg.solve(S, grad, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            return -self.learning_rate * np.linalg.lstsq(S, grad, rcond=None)[0]

    def _woodbury(self, grad, O):
        n = O.shape[0]
        d = self._shift_diagonal(np.einsum("ij,ij->j", O, O) / n)
        if not np.all(d > 0):
            return None
        g = grad / d
        K = (O / d) @ O.T
        K[np.diag_indices_from(K)] += n
        import scipy.linalg

        try:
            y = scipy.linalg.solve(K, O @ g, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            return None
        return -self.learning_rate * (g - (O.T @ y) / d)

    def state_dict(self) -> dict:
        """The step count (for the shift schedule)."""
        return {"n_steps": self.n_steps}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""
        self.n_steps = int(state.get("n_steps", 0))


def make_optimizer(name: str, learning_rate: float | None = None, *, comm=None, **kwargs):
    """Build an optimizer by name (``"sgd"``, ``"adam"``, ``"sr"``); default learning rates
    :data:`DEFAULT_LEARNING_RATES`."""
    if name not in OPTIMIZERS:
        raise InvalidParameterError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    lr = DEFAULT_LEARNING_RATES[name] if learning_rate is None else learning_rate
    if name == "sgd":
        return SGD(lr, **kwargs)
    if name == "adam":
        return Adam(lr, **kwargs)
    return SR(lr, comm=comm, **kwargs)
