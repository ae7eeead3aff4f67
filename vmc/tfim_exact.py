"""Deprecated: moved to :mod:`vmc.spins.exact` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .spins.exact import *  # noqa: F401,F403
from .spins.exact import __all__ as _all_spins_exact

__all__ = list(_all_spins_exact)

_warnings.warn("vmc.tfim_exact is deprecated: use vmc.spins.exact; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
