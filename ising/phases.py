"""Phase labels of the 2D Ising model by temperature.

A temperature is *ordered* below ``T_c - window``, *disordered* above
``T_c + window`` and *critical* in between (inclusive), with
``T_c = 2 / ln(1 + sqrt 2)`` (k_B = J = 1). The window used is recorded in
every dataset file (root attr ``phase_window``) so labels can be re-derived.
"""

from __future__ import annotations

import math

from mccore.errors import InvalidParameterError
from mccore.validation import check_positive_number

from .exact import T_C

__all__ = ["PHASES", "PHASE_WINDOW", "phase_label", "phase_centre"]

#: The three labels, ordered by temperature.
PHASES = ("ordered", "critical", "disordered")
#: Default half-width of the critical window around T_c.
PHASE_WINDOW = 0.2


def _check_window(window) -> float:
    try:
        w = float(window)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"window must be a number in [0, T_c), got {window!r}") from None
    if not (math.isfinite(w) and 0.0 <= w < T_C):
        raise InvalidParameterError(f"window must be a number in [0, T_c), got {window!r}")
    return w


def phase_label(T: float, *, window: float = PHASE_WINDOW) -> str:
    """Label a temperature "ordered", "critical" or "disordered".

    Parameters
    ----------
    T : float
        Temperature > 0 (k_B = J = 1).
    window : float
        Half-width w of the critical window: critical iff
        ``T_c - w <= T <= T_c + w``.

    Returns
    -------
    str
    """
    t = check_positive_number("T", T)
    w = _check_window(window)
    if t < T_C - w:
        return "ordered"
    if t > T_C + w:
        return "disordered"
    return "critical"


def phase_centre(phase: str, *, window: float = PHASE_WINDOW) -> float:
    """A representative temperature of a phase.

    ``T_c`` for "critical"; for "ordered" and "disordered" the point
    ``T_c -/+ (window + 1)``, one unit of T beyond the window edge (T_c - 1.2
    = 1.07 and T_c + 1.2 = 3.47 with the default window).
    """
    w = _check_window(window)
    if phase == "critical":
        return T_C
    if phase == "ordered":
        return max(T_C - w - 1.0, 0.5 * (T_C - w))
    if phase == "disordered":
        return T_C + w + 1.0
    raise InvalidParameterError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
