"""Deprecated: moved to :mod:`vmc.spins.samplers` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .spins.samplers import *  # noqa: F401,F403
from .spins.samplers import __all__ as _all_spins_samplers

__all__ = list(_all_spins_samplers)

_warnings.warn("vmc.spin_samplers is deprecated: use vmc.spins.samplers; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
