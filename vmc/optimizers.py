"""Parameter updates for VMC: ``Optimizer.step(grad, O_centered) -> delta``.

``grad`` is the energy gradient ``2 (<E_L O_k> - <E_L><O_k>)`` (computed
once, in the driver) and ``O_centered`` the centred log-derivatives
``O_k - <O_k>`` (n_samples, n_params) of this rank's samples. SGD and Adam
ignore ``O_centered`` and delegate to the one implementation of their update
rules in :mod:`rbm.optim` (which ascends, so they are handed ``-grad``);
stochastic reconfiguration (SR, the natural gradient) solves

    (S + shift * I) delta = -learning_rate * grad,   S_kl = <O_k O_l> - <O_k><O_l>,

by one of three solvers chosen by the shape of ``O_c`` (:func:`choose_solver`):
``S`` formed by one BLAS product ``O_c^T O_c / n`` (summed over MPI ranks)
and factorized (Cholesky), the n x n sample-space system (minSR, Woodbury),
or conjugate gradients with the matrix-free product ``S v = O^T (O v) / n``.
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
           "SHIFT_SCHEDULES", "SR_SOLVERS", "CG_MIN_SIZE", "carleo_shift", "choose_solver"]

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

#: SR's linear solvers (:class:`SR`, ``solver=``)
SR_SOLVERS = ("auto", "dense", "minsr", "cg")

#: ``solver="auto"`` takes conjugate gradients only once both the samples and the
#: parameters number at least this many, where neither the P x P nor the n x n matrix
#: (8 GiB) fits in memory. Measured (benchmarks/tfim_speed.py, plain-RBM log-derivatives,
#: shift 0.01) CG was 3-7x slower than the faster direct solve at every shape up to
#: n = P = 2024 and n = 1008, P = 4224: its iterations grow like sqrt(P) (99 at P = 80,
#: 879 at P = 4224) and each streams O from memory twice, while the direct solves run at
#: BLAS-3 speed.
CG_MIN_SIZE = 32768


def _gram(O, out=None) -> np.ndarray:
    """``O^T O`` by one BLAS product (numpy hands ``A.T @ A`` to dsyrk: n P^2 / 2
    multiply-adds), into ``out`` if given."""
    return np.matmul(O.T, O, out=out)


def carleo_shift(step: int) -> float:
    """Carleo & Troyer's relative shift ``lambda(p) = max(100 * 0.9^p, 1e-4)`` at step p (0-based)."""
    return max(100.0 * 0.9 ** step, 1e-4)


def choose_solver(n_samples: int, n_params: int) -> str:
    """The solver ``solver="auto"`` takes for ``n_samples`` rows (all ranks) and ``n_params``.

    By cost: forming S (``n P^2 / 2 + P^3 / 3`` multiply-adds, dense) or the
    sample-space matrix (``n^2 P / 2 + n^3 / 3``, minSR) are symmetric in n and
    P, so the smaller of the two dimensions decides (``n < P``: minSR); CG,
    ``2 n P`` per iteration but memory-bound and needing hundreds of iterations,
    only when both are at least :data:`CG_MIN_SIZE`.
    """
    if min(n_samples, n_params) >= CG_MIN_SIZE:
        return "cg"
    return "minsr" if n_samples < n_params else "dense"


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
    solver : {"auto", "dense", "minsr", "cg"}
        How the system is solved (all give the same delta up to rounding, CG
        up to ``cg_tol``): ``"dense"`` forms ``S = O^T O / n`` (P x P) and
        factorizes it (Cholesky); ``"minsr"`` works in sample space through
        the Woodbury identity,
        ``(D + O^T O / n)^-1 g = D^-1/2 (h - Y^T (n I + Y Y^T)^-1 Y h)``
        with ``Y = O D^-1/2``, ``h = D^-1/2 g`` (n x n; needs D > 0, else
        dense); ``"cg"`` runs Jacobi-preconditioned conjugate gradients with
        ``S v = O^T (O v) / n``, never forming S. ``"auto"``:
        :func:`choose_solver` by the shape of O.
    cg_tol, cg_maxiter : float, int or None
        CG stops when ``|r| <= cg_tol |grad|`` or after ``cg_maxiter``
        iterations (default ``max(100, 10 P)``; not converged: a warning).
    comm : mpi4py communicator or None
        Rows of O split over ranks: dense sums ``O_c^T O_c`` and the sample
        count over ranks, minSR gathers the rows (the same solve on every
        rank), CG sums each ``O^T (O v)``. ``grad`` must be the global
        gradient (the same on every rank). (:class:`vmc.driver.VMC` gathers
        every row itself and uses SR without comm.)

    Attributes
    ----------
    last_solve : dict
        The last step's ``solver`` and, for CG, ``iterations`` and the relative
        ``residual``.
    """

    name = "sr"

    def __init__(self, learning_rate: float = DEFAULT_LEARNING_RATES["sr"], *,
                 diag_shift: float = 1e-3, shift_schedule: str = "constant",
                 solver: str = "auto", cg_tol: float = 1e-10, cg_maxiter: int | None = None,
                 comm=None):
        self.learning_rate = _check_lr(learning_rate)
        shift = float(diag_shift)
        if not (np.isfinite(shift) and shift >= 0):
            raise InvalidParameterError(f"diag_shift must be a finite number >= 0, got {diag_shift!r}")
        if shift_schedule not in SHIFT_SCHEDULES:
            raise InvalidParameterError(
                f"shift_schedule must be one of {SHIFT_SCHEDULES}, got {shift_schedule!r}")
        if solver not in SR_SOLVERS:
            raise InvalidParameterError(f"solver must be one of {SR_SOLVERS}, got {solver!r}")
        tol = float(cg_tol)
        if not (np.isfinite(tol) and 0 < tol < 1):
            raise InvalidParameterError(f"cg_tol must be a number in (0, 1), got {cg_tol!r}")
        if cg_maxiter is not None and (isinstance(cg_maxiter, bool) or int(cg_maxiter) != cg_maxiter
                                       or cg_maxiter < 1):
            raise InvalidParameterError(
                f"cg_maxiter must be an integer >= 1 or None, got {cg_maxiter!r}")
        self.diag_shift = shift
        self.shift_schedule = shift_schedule
        self.solver = solver
        self.cg_tol = tol
        self.cg_maxiter = None if cg_maxiter is None else int(cg_maxiter)
        self.comm = comm
        self.n_steps = 0
        self.last_solve = {}
        self._s_buffer = None
        self._warned = False
        self._warned_cg = False

    def _allsum(self, value):
        if self.comm is None:
            return value
        if np.ndim(value):
            from .mpi import allreduce_sum
            return allreduce_sum(self.comm, value)
        return self.comm.allreduce(value)

    def s_matrix(self, O_centered, out=None) -> np.ndarray:
        """``S = O_c^T O_c / n`` (n_params, n_params), summed over MPI ranks; into ``out``
        (float64, that shape) if given."""
        O = np.asarray(O_centered, dtype=np.float64)
        S = self._allsum(_gram(O, out))
        n = self._allsum(O.shape[0])
        S /= n
        return S

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
        n_params = O.shape[1]
        n = self._allsum(O.shape[0])
        if n <= n_params and not self._warned and self.shift_schedule == "constant":
            warnings.warn(f"SR with n_samples={n} <= n_params={n_params}: S is singular and "
                          "only the diagonal shift regularizes it; use more samples",
                          IsingRBMWarning, stacklevel=2)
            self._warned = True
        solver = choose_solver(n, n_params) if self.solver == "auto" else self.solver
        x = None
        if solver == "minsr":
            x = self._minsr(grad, O)
        elif solver == "cg":
            x = self._cg(grad, O, n)
        if x is None:
            solver = "dense"
            x = self._dense(grad, O)
        self.n_steps += 1
        return -self.learning_rate * x

    def _dense(self, grad, O):
        """``(S + D)^-1 grad`` with S formed (Cholesky; least squares if not positive)."""
        import scipy.linalg

        n_params = O.shape[1]
        if self.comm is None and (self._s_buffer is None or self._s_buffer.shape[0] != n_params):
            # kept between steps: a fresh P x P array costs page faults every step
            self._s_buffer = np.empty((n_params, n_params))
        S = self._shifted_s(O, out=self._s_buffer if self.comm is None else None)
        self.last_solve = {"solver": "dense"}
        try:
            # the factorization scipy.linalg.solve(assume_a="pos") uses, bit for bit
            factor = scipy.linalg.cho_factor(S, lower=False, overwrite_a=True,
                                             check_finite=False)
            return scipy.linalg.cho_solve(factor, grad, check_finite=False)
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            return np.linalg.lstsq(self._shifted_s(O), grad, rcond=None)[0]

    def _shifted_s(self, O, out=None):
        S = self.s_matrix(O, out=out)
        S[np.diag_indices_from(S)] += self._shift_diagonal(np.diag(S).copy())
        return S

    def _minsr(self, grad, O):
        """``(D + O^T O / n)^-1 grad`` in sample space; None where D has a zero."""
        import scipy.linalg

        if self.comm is not None:
            from .mpi import gather_rows
            O = gather_rows(self.comm, O)
        n = O.shape[0]
        d = self._shift_diagonal(np.einsum("ij,ij->j", O, O) / n)
        if not np.all(d > 0):
            return None
        root = np.sqrt(d)
        Y = O / root
        h = grad / root
        K = Y @ Y.T                      # numpy: dsyrk
        K[np.diag_indices_from(K)] += n
        try:
            factor = scipy.linalg.cho_factor(K, lower=False, overwrite_a=True,
                                             check_finite=False)
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            return None
        y = scipy.linalg.cho_solve(factor, Y @ h, check_finite=False)
        self.last_solve = {"solver": "minsr"}
        return (h - Y.T @ y) / root

    def _cg(self, grad, O, n):
        """``(S + D)^-1 grad`` by Jacobi-preconditioned CG, ``S v = O^T (O v) / n``."""
        s_diag = self._allsum(np.einsum("ij,ij->j", O, O)) / n
        d = self._shift_diagonal(s_diag)
        precond = s_diag + d
        precond = np.where(precond > 0, 1.0 / np.where(precond > 0, precond, 1.0), 1.0)
        maxiter = self.cg_maxiter or max(100, 10 * O.shape[1])
        x = np.zeros_like(grad)
        r = grad.copy()
        target = self.cg_tol * float(np.sqrt(grad @ grad))
        z = precond * r
        p = z.copy()
        rz = float(r @ z)
        k = 0
        res = float(np.sqrt(r @ r))
        while res > target and k < maxiter:
            Ap = self._allsum(O.T @ (O @ p)) / n + d * p
            alpha = rz / float(p @ Ap)
            x += alpha * p
            r -= alpha * Ap
            k += 1
            res = float(np.sqrt(r @ r))
            z = precond * r
            rz, rz_old = float(r @ z), rz
            p *= rz / rz_old
            p += z
        norm = float(np.sqrt(grad @ grad))
        self.last_solve = {"solver": "cg", "iterations": k,
                           "residual": res / norm if norm > 0 else 0.0}
        if res > target and not self._warned_cg:
            warnings.warn(f"SR's conjugate gradients stopped after {k} iterations at a "
                          f"relative residual {res / norm:.1e} > cg_tol {self.cg_tol:g}",
                          IsingRBMWarning, stacklevel=3)
            self._warned_cg = True
        return x

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
