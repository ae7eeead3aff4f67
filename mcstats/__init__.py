"""Monte Carlo statistics: estimates with honest error bars.

``Estimate`` (mean, error, variance, tau_int, n); integrated autocorrelation
time with Sokal's window; automatic blocking (Jonsson 2018); block jackknife
and bootstrap for derived quantities such as specific heat and
susceptibility. Statistics only: the error classes, files and thread
settings it relies on live in :mod:`mccore`.
"""

from .autocorr import autocorrelation, integrated_time
from .blocking import blocking_error, estimate
from .estimate import Estimate, format_estimate, format_value_error
from .resampling import bootstrap, jackknife

__all__ = [
    "Estimate", "format_estimate", "format_value_error", "estimate", "blocking_error",
    "autocorrelation", "integrated_time", "jackknife", "bootstrap",
]
