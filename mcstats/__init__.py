"""Monte Carlo statistics: estimates with honest error bars.

``Estimate`` (mean, error, variance, tau_int, n); integrated autocorrelation
time with Sokal's window; automatic blocking (Jonsson 2018); block jackknife
and bootstrap for derived quantities such as specific heat and
susceptibility. Used by every other package.
"""

from .autocorr import autocorrelation, integrated_time
from .blocking import blocking_error, estimate
from .errors import (ChainTooShortError, DivergenceError, FileFormatError,
                     InvalidParameterError, IsingRBMError, IsingRBMWarning,
                     MissingDependencyError, OutputExistsError)
from .estimate import Estimate, format_value_error
from .resampling import bootstrap, jackknife

__all__ = [
    "Estimate", "format_value_error", "estimate", "blocking_error",
    "autocorrelation", "integrated_time", "jackknife", "bootstrap",
    "IsingRBMError", "InvalidParameterError", "FileFormatError", "OutputExistsError",
    "DivergenceError", "ChainTooShortError", "MissingDependencyError", "IsingRBMWarning",
]
