"""Deprecated: moved to :mod:`vmc.spins.runner` (this path works for one release).

The package was split by physics into :mod:`vmc.trap` and :mod:`vmc.spins`.
"""

import warnings as _warnings

from .spins.runner import *  # noqa: F401,F403
from .spins.runner import __all__ as _all_spins_runner

__all__ = list(_all_spins_runner)

_warnings.warn("vmc.tfim_run is deprecated: use vmc.spins.runner; "
               "the old path goes away in the next release", DeprecationWarning,
               stacklevel=2)
