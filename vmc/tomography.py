"""Deprecated: moved to :mod:`vmc.spins.tomography` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .spins.tomography import *  # noqa: F401,F403
from .spins.tomography import __all__ as _all_spins_tomography

__all__ = list(_all_spins_tomography)

_warnings.warn("vmc.tomography is deprecated: use vmc.spins.tomography; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
