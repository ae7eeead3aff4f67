"""Deprecated: moved to :mod:`vmc.trap.wavefunction` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .trap.wavefunction import *  # noqa: F401,F403
from .trap.wavefunction import __all__ as _all_trap_wavefunction

__all__ = list(_all_trap_wavefunction)

_warnings.warn("vmc.wavefunction is deprecated: use vmc.trap.wavefunction; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
