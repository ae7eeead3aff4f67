"""Detecting an MPI launch (mpi4py imported lazily), shared by ``ising`` and ``vmc``.

``mpiexec -n K isingrbm generate|vmc ...`` starts K processes; the launcher
announces itself through environment variables (MPICH/Hydra: ``PMI_SIZE``,
Open MPI: ``OMPI_COMM_WORLD_SIZE``, PMIx, MVAPICH, Slurm's srun). Only when
one of them says more than one process is mpi4py imported, so a plain
single-process run never loads MPI. It lives in ``mcstats``, the lowest
package, because both the Ising driver and VMC reduce their Monte Carlo
statistics over ranks.
"""

from __future__ import annotations

import os

from .errors import MissingDependencyError

__all__ = ["launched_size", "world"]

_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE",
                   "MV2_COMM_WORLD_SIZE")


def launched_size() -> int:
    """Number of processes the MPI launcher started (1 if not under MPI)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name)
        if value:
            try:
                return max(1, int(value))
            except ValueError:
                continue
    return 1


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
            "pip install 'isingrbm[mpi]'") from None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None
