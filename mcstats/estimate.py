"""The :class:`Estimate` every estimating function returns."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["Estimate", "format_estimate", "format_value_error"]


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its error bar.

    Attributes
    ----------
    mean : float
        The estimate.
    error : float
        One standard error of ``mean`` (blocking, jackknife or bootstrap),
        including the effect of autocorrelation.
    variance : float
        Variance of the underlying samples (``nan`` for derived quantities).
    tau_int : float
        Integrated autocorrelation time in units of the sample spacing, in
        the convention ``tau_int = 1 + 2 sum_t rho(t)`` so that
        ``error**2 = tau_int * variance / n_samples`` (1 for independent
        samples).
    n_samples : int
        Number of samples the estimate is based on.
    """

    mean: float
    error: float
    variance: float = float("nan")
    tau_int: float = float("nan")
    n_samples: int = 0

    def __str__(self) -> str:
        return format_value_error(self.mean, self.error)

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        return f"{format(self.mean, spec)} ± {format(self.error, spec)}"

    def to_dict(self) -> dict:
        """Plain-float dictionary for JSON output (NaN becomes ``None``)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}

    def deviation(self, exact: float) -> float:
        """Signed distance to ``exact`` in standard errors."""
        if self.error == 0:
            return 0.0 if self.mean == exact else math.copysign(math.inf, self.mean - exact)
        return (self.mean - exact) / self.error


def format_value_error(mean: float, error: float) -> str:
    """Format ``mean ± error`` with two significant digits of the error.

    >>> format_value_error(-1.453021, 0.002113)
    '-1.4530 ± 0.0021'
    """
    if not (math.isfinite(error) and error > 0):
        return f"{mean:.6g} ± {error:.2g}"
    decimals = max(0, 1 - int(math.floor(math.log10(error))))
    return f"{mean:.{decimals}f} ± {error:.{decimals}f}"


def format_estimate(est, *, missing: str = "—") -> str:
    """The one text form of an estimate in tables: ``mean ± error``.

    Parameters
    ----------
    est : Estimate, dict or None
        An :class:`Estimate`, or its :meth:`Estimate.to_dict` form (JSON
        results, where ``None`` stands for NaN).
    missing : str
        The text of an absent estimate (``None``, or no mean).

    Returns
    -------
    str
        ``format_value_error(mean, error)`` (two significant digits of the
        error); ``"mean ± 0"`` for an error of zero (or below 1e-12 of the
        mean: rounding noise of an exact value); the mean alone with 6
        significant digits when the error is unknown (``None`` or NaN);
        ``"nan"`` for a NaN mean.

    >>> format_estimate({"mean": -1.453021, "error": 0.002113})
    '-1.4530 ± 0.0021'
    >>> format_estimate(Estimate(0.75, 0.0))
    '0.75 ± 0'
    """
    if est is None:
        return missing
    if isinstance(est, Estimate):
        mean, error = est.mean, est.error
    elif isinstance(est, dict):
        mean, error = est.get("mean"), est.get("error")
    else:
        raise TypeError(f"not an estimate: {est!r}")
    if mean is None:
        return missing
    mean = float(mean)
    if not math.isfinite(mean):
        return "nan"
    if error is None or not math.isfinite(float(error)):
        return f"{mean:.6g}"
    error = float(error)
    if error <= 1e-12 * max(1.0, abs(mean)):
        return f"{mean:.6g} ± 0"
    return format_value_error(mean, error)
