"""Parallel launch and thread settings, so that results depend on the seed only.

MPI launch detection
    ``mpiexec -n K isingrbm generate|vmc ...`` starts K processes; the launcher
    announces itself through environment variables (MPICH/Hydra: ``PMI_SIZE``,
    Open MPI: ``OMPI_COMM_WORLD_SIZE``, PMIx, MVAPICH). Only when one of them
    says more than one process is mpi4py imported, so a plain single-process
    run never loads MPI.

BLAS threads
    OpenBLAS's multithreaded matrix products are not bitwise independent of
    the thread count for every shape (a float32 (100 x 256) @ (256 x 64)
    product differs in the last bit between one and two threads). In a Markov
    chain a last-bit difference sooner or later flips a Bernoulli draw or an
    accept/reject decision, and two runs with the same seed diverge. Code whose
    random draws depend on BLAS results therefore runs inside
    :func:`single_threaded_blas` (or is decorated with
    :func:`with_single_threaded_blas`); the products involved are far too
    small to gain from a second thread anyway. Uses threadpoolctl, the library
    scikit-learn and joblib use for this.

numba threads
    :func:`numba_threads` sets numba's thread count for a block and restores
    the previous count afterwards. :func:`select_threading_layer` prefers
    numba's sleeping thread pools to OpenMP before a package's first parallel
    launch (the one setting here that cannot be restored: numba fixes the
    layer for the process at that launch).

Every other setting made here is a context manager that restores what it
changed; nothing is changed at import.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys

from .errors import MissingDependencyError

__all__ = ["launched_size", "launched_rank", "world", "single_threaded_blas", "with_single_threaded_blas",
           "numba_threads", "select_threading_layer"]

_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE",
                   "MV2_COMM_WORLD_SIZE")


def _announced(names, floor: int) -> int | None:
    """The first of the environment variables ``names`` that holds an integer, at least
    ``floor``; None if none does."""
    for name in names:
        value = os.environ.get(name)
        if value:
            try:
                return max(floor, int(value))
            except ValueError:
                continue
    return None


def launched_size() -> int:
    """Number of processes the MPI launcher started (1 if not under MPI)."""
    return _announced(_SIZE_VARIABLES, 1) or 1


_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")


def launched_rank() -> int:
    """This process's rank as the MPI launcher announced it (0 if not under MPI).

    Read from the environment, so messages can be left to rank 0 without
    importing mpi4py.
    """
    if launched_size() <= 1:
        return 0
    return _announced(_RANK_VARIABLES, 0) or 0


def world():
    """``mpi4py.MPI.COMM_WORLD`` when launched on more than one rank, else None.

    Raises
    ------
    MissingDependencyError
        Launched under mpiexec with several ranks but mpi4py is missing.
    """
    if launched_size() <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise MissingDependencyError(
            "running under mpiexec needs mpi4py; install it with "
            "pip install mpi4py mpich") from None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None


_controller = None
_controller_modules = -1


# Base dependencies that load a BLAS library of their own on first use (scipy's
# wheels bundle an OpenBLAS apart from numpy's). threadpoolctl can only limit a
# library already loaded, and code inside the block imports these lazily.
_BLAS_LOADERS = ("scipy.linalg",)


def _load_blas_libraries() -> None:
    for name in _BLAS_LOADERS:
        if name not in sys.modules:
            try:
                importlib.import_module(name)
            except ImportError:
                pass


def single_threaded_blas():
    """Context manager limiting every BLAS library to one thread.

    scipy's BLAS is loaded first (it is a separate library from numpy's, and
    a block that imports ``scipy.linalg`` only inside would otherwise run it
    with every core). The threadpoolctl controller is cached (building one
    costs milliseconds) and rebuilt whenever modules were imported since, so a
    BLAS library loaded before entry (by importing torch, say) is limited too;
    the previous limits are restored on exit.
    """
    global _controller, _controller_modules
    _load_blas_libraries()
    n_modules = len(sys.modules)
    if _controller is None or n_modules != _controller_modules:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
        _controller_modules = len(sys.modules)
    return _controller.limit(limits=1, user_api="blas")


def with_single_threaded_blas(func):
    """Decorator: run ``func`` inside :func:`single_threaded_blas`."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with single_threaded_blas():
            return func(*args, **kwargs)
    return wrapper


@contextlib.contextmanager
def numba_threads(n_threads: int | None):
    """Run a block with ``n_threads`` numba threads (None: leave as is); restore after.

    ``n_threads`` is clipped to numba's ``NUMBA_NUM_THREADS`` (the size of
    its pool), which the caller should have validated against. Setting the
    count starts numba's pool, which fixes the threading layer: it is chosen
    first (:func:`select_threading_layer`).
    """
    if n_threads is None:
        yield
        return
    select_threading_layer()
    import numba
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


_LAYER_PRIORITY = ("tbb", "workqueue", "omp")
_layer_selected = False


def select_threading_layer() -> None:
    """Prefer numba's sleeping thread pools to OpenMP; call before the first parallel launch.

    numba's default priority puts OpenMP first, whose worker threads
    spin-wait between parallel regions; on a shared, loaded machine that made
    the Ising kernels many times slower. TBB (if installed) and numba's own
    "workqueue" layer sleep instead. The layer is process-wide and fixed by
    numba when its thread pool starts (the first parallel launch, and also
    ``numba.get_num_threads`` or ``set_num_threads``; it cannot be restored
    afterwards), so a package calls this before any of those (as
    :mod:`ising.chains`, :mod:`vmc.spins.kernels` and :func:`numba_threads`
    do); importing this module changes nothing. The choice is left alone when the user made one
    (``NUMBA_THREADING_LAYER`` or ``NUMBA_THREADING_LAYER_PRIORITY``) or when
    a parallel region already ran. It goes through the environment as well
    because numba re-reads its configuration from the environment whenever a
    ``NUMBA_*`` variable changes. Results never depend on the layer (the
    kernels draw from counter-based streams keyed by chain, not by thread).
    """
    global _layer_selected
    if _layer_selected:
        return
    _layer_selected = True
    if ("NUMBA_THREADING_LAYER" in os.environ
            or "NUMBA_THREADING_LAYER_PRIORITY" in os.environ):
        return
    import numba
    try:
        numba.threading_layer()
        return                  # a parallel region already ran: the layer is fixed
    except ValueError:
        pass
    os.environ["NUMBA_THREADING_LAYER_PRIORITY"] = " ".join(_LAYER_PRIORITY)
    numba.config.THREADING_LAYER_PRIORITY = list(_LAYER_PRIORITY)
