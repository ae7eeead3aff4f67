"""Deprecated: moved to :mod:`vmc.trap.kernels`, :mod:`vmc.streams` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .trap.kernels import *  # noqa: F401,F403
from .trap.kernels import __all__ as _all_trap_kernels
from .streams import *  # noqa: F401,F403
from .streams import __all__ as _all_streams

__all__ = list(_all_trap_kernels) + list(_all_streams)

_warnings.warn("vmc.kernels is deprecated: use vmc.trap.kernels / vmc.streams; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
