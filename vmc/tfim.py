"""Deprecated: moved to :mod:`vmc.spins.tfim` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .spins.tfim import *  # noqa: F401,F403
from .spins.tfim import __all__ as _all_spins_tfim

__all__ = list(_all_spins_tfim)

_warnings.warn("vmc.tfim is deprecated: use vmc.spins.tfim; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
