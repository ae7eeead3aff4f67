"""Deprecated: moved to :mod:`vmc.trap.samplers`, :mod:`vmc.walkers` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .trap.samplers import *  # noqa: F401,F403
from .trap.samplers import __all__ as _all_trap_samplers
from .walkers import *  # noqa: F401,F403
from .walkers import __all__ as _all_walkers

__all__ = list(_all_trap_samplers) + list(_all_walkers)

_warnings.warn("vmc.samplers is deprecated: use vmc.trap.samplers / vmc.walkers; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
