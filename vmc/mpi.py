"""MPI helpers (mpi4py imported only when launched on several ranks).

``mpiexec -n K isingrbm vmc ...`` runs the walkers on K ranks; energies,
gradients and the SR matrix are summed over ranks so that every rank takes
the same step, and rank 0 alone writes files and prints.
"""

from __future__ import annotations

import numpy as np

from mccore.parallel import launched_size, world

__all__ = ["launched_size", "world", "allreduce_sum", "gather_rows", "is_root"]


def is_root(comm) -> bool:
    """True on rank 0 (or without MPI)."""
    return comm is None or comm.Get_rank() == 0


def allreduce_sum(comm, array) -> np.ndarray:
    """Elementwise sum of a float64 array over ranks (identity without MPI)."""
    array = np.ascontiguousarray(array, dtype=np.float64)
    if comm is None:
        return array
    from mpi4py import MPI
    out = np.empty_like(array)
    comm.Allreduce(array, out, op=MPI.SUM)
    return out


def gather_rows(comm, array) -> np.ndarray:
    """Concatenate every rank's ``array`` along axis 0, in rank order, on all ranks."""
    if comm is None:
        return np.asarray(array)
    return np.concatenate(comm.allgather(np.asarray(array)), axis=0)
