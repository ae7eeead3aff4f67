"""Deprecated: moved to :mod:`vmc.spins.lattice` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .spins.lattice import *  # noqa: F401,F403
from .spins.lattice import __all__ as _all_spins_lattice

__all__ = list(_all_spins_lattice)

_warnings.warn("vmc.lattice is deprecated: use vmc.spins.lattice; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
