"""MPI for the Monte Carlo driver: launch detection from :mod:`mccore.parallel`.

``mpiexec -n K isingrbm generate ...`` spreads temperatures over ranks
(temperature i on rank i mod K); rank 0 is the only writer.
"""

from mccore.parallel import launched_size, world

__all__ = ["launched_size", "world"]
