"""Deprecated: moved to :mod:`vmc.spins.kernels` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .spins.kernels import *  # noqa: F401,F403
from .spins.kernels import __all__ as _all_spins_kernels

__all__ = list(_all_spins_kernels)

_warnings.warn("vmc.spin_kernels is deprecated: use vmc.spins.kernels; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
