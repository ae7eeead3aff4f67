"""Deprecated: moved to :mod:`vmc.trap.hamiltonian` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .trap.hamiltonian import *  # noqa: F401,F403
from .trap.hamiltonian import __all__ as _all_trap_hamiltonian

__all__ = list(_all_trap_hamiltonian)

_warnings.warn("vmc.hamiltonian is deprecated: use vmc.trap.hamiltonian; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
