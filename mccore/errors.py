"""Exception hierarchy shared by every isingrbm package.

It lives in the lowest package (``mccore``) so that ``ising``, ``rbm``,
``vmc``, ``gan`` and the ``isingrbm`` application raise the same types and the
command line can turn any of them into one line on stderr and exit status 2.
Messages follow one format: name, allowed set, received value, e.g.
``"L must be an integer >= 2, got 1"``.
"""

from __future__ import annotations

__all__ = [
    "IsingRBMError",
    "InvalidParameterError",
    "FileFormatError",
    "OutputExistsError",
    "DivergenceError",
    "ChainTooShortError",
    "MissingDependencyError",
    "IsingRBMWarning",
]


class IsingRBMError(Exception):
    """Base class of every error the workbench raises on purpose."""


class InvalidParameterError(IsingRBMError, ValueError):
    """A parameter or an input array is outside its allowed set."""


class FileFormatError(IsingRBMError, OSError):
    """A file is not what it should be (foreign, truncated, corrupt, wrong version)."""


class OutputExistsError(IsingRBMError, FileExistsError):
    """An output path exists and overwriting was not asked for."""


class MissingDependencyError(IsingRBMError, ImportError):
    """An optional dependency (an extra such as ``gan``) is not installed."""


class DivergenceError(IsingRBMError, FloatingPointError):
    """An optimization produced NaN or inf.

    Attributes
    ----------
    last_good_params : numpy.ndarray or None
        The last parameters for which everything was finite.
    """

    def __init__(self, message: str, last_good_params=None):
        super().__init__(message)
        self.last_good_params = last_good_params


class ChainTooShortError(IsingRBMError):
    """A time series is too short for a reliable autocorrelation time.

    Attributes
    ----------
    tau : float
        The (unreliable) estimate that was obtained.
    """

    def __init__(self, message: str, tau: float = float("nan")):
        super().__init__(message)
        self.tau = tau


class IsingRBMWarning(UserWarning):
    """Base class of the warnings the workbench emits."""
