"""Deprecated: moved to :mod:`vmc.spins.wavefunction` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .spins.wavefunction import *  # noqa: F401,F403
from .spins.wavefunction import __all__ as _all_spins_wavefunction

__all__ = list(_all_spins_wavefunction)

_warnings.warn("vmc.spin_wavefunction is deprecated: use vmc.spins.wavefunction; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
