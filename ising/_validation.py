"""Parameter checks shared by the ising modules (one message format:
name, allowed set, received value)."""

from __future__ import annotations

import math

from mccore.errors import InvalidParameterError

__all__ = ["check_positive_number"]


def check_positive_number(name: str, value) -> float:
    """``value`` as a finite float > 0, or InvalidParameterError.

    >>> check_positive_number("T", "2.5")
    2.5
    """
    if isinstance(value, bool):
        raise InvalidParameterError(f"{name} must be a finite number > 0, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{name} must be a finite number > 0, got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise InvalidParameterError(f"{name} must be a finite number > 0, got {value!r}")
    return number
