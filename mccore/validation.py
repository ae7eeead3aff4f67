"""Argument validation with one message format: name, what is allowed, what was given.

``"L must be an integer >= 2, got 1"`` (scikit-learn's format). Every public
entry point validates once, with these helpers; inner code trusts its inputs.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

import numpy as np

from .errors import InvalidParameterError

__all__ = ["check_int", "check_float", "check_positive_number", "check_choice", "check_bool",
           "check_input_file", "check_memory", "available_memory", "format_bytes",
           "check_spins"]


def _bounds_text(minimum, maximum, strict_min=False, strict_max=False) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if strict_min else '>='} {minimum}")
    if maximum is not None:
        parts.append(f"{'<' if strict_max else '<='} {maximum}")
    if len(parts) == 2 and not (strict_min or strict_max):
        return f" in [{minimum}, {maximum}]"
    return (" " + " and ".join(parts)) if parts else ""


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None,
              allow_none: bool = False):
    """``value`` as an ``int`` within ``[minimum, maximum]``, or InvalidParameterError.

    Accepts Python and NumPy integers; refuses bools, floats and strings.

    >>> check_int("L", 4, minimum=2)
    4
    """
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if ok and minimum is not None and value < minimum:
        ok = False
    if ok and maximum is not None and value > maximum:
        ok = False
    if not ok:
        raise InvalidParameterError(
            f"{name} must be an integer{_bounds_text(minimum, maximum)}, got {value!r}")
    return int(value)


def check_float(name: str, value, *, minimum: float | None = None,
                maximum: float | None = None, strict_min: bool = False,
                strict_max: bool = False, allow_none: bool = False):
    """``value`` as a finite ``float`` within the bounds, or InvalidParameterError.

    >>> check_float("T", 2.5, minimum=0, strict_min=True)
    2.5
    """
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        value = float(value)
        ok = math.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if strict_min else value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if strict_max else value <= maximum
    if not ok:
        bounds = _bounds_text(minimum, maximum, strict_min, strict_max)
        raise InvalidParameterError(f"{name} must be a finite number{bounds}, got {value!r}")
    return value


def check_positive_number(name: str, value) -> float:
    """``value`` (a number or a numeric string) as a finite float > 0.

    >>> check_positive_number("T", "2.5")
    2.5
    """
    if isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be a finite number > 0, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a finite number > 0, got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise InvalidParameterError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_choice(name: str, value, choices):
    """``value`` if it is one of ``choices``, else InvalidParameterError."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise InvalidParameterError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    """``value`` as a bool (Python or NumPy bool only)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_spins(spins, *, L: int | None = None, n: int | None = None, min_n: int = 1,
                name: str = "spins") -> np.ndarray:
    """Ising configurations ``(n, L, L)`` with values in {-1, +1}, as contiguous int8.

    The lattice is square with ``L >= 2``; ``L`` and ``n``, if given, must
    match, and there must be at least ``min_n`` configurations.

    >>> check_spins([[[1, -1], [-1, 1]]]).dtype
    dtype('int8')
    """
    arr = np.asarray(spins)
    if (arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] < 2
            or L is not None and arr.shape[1] != L or n is not None and arr.shape[0] != n):
        side = "L" if L is None else L
        want = f"({'n' if n is None else n}, {side}, {side})" + (" with L >= 2" if L is None else "")
        raise InvalidParameterError(f"{name} must have shape {want}, got shape {arr.shape}")
    if arr.shape[0] < min_n:
        raise InvalidParameterError(
            f"{name} must hold at least {min_n} configuration(s), got {arr.shape[0]}")
    if arr.dtype.kind not in "biuf" or not np.all((arr == 1) | (arr == -1)):
        raise InvalidParameterError(f"{name} must be in {{-1, +1}}")
    return np.ascontiguousarray(arr, dtype=np.int8)


def check_input_file(path, *, what: str = "input file") -> Path:
    """An existing, readable regular file, or InvalidParameterError (one type everywhere)."""
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(f"{what} {path} does not exist")
    if not path.is_file():
        raise InvalidParameterError(f"{what} {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise InvalidParameterError(f"{what} {path} is not readable")
    return path


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``).

    Falls back to physical memory from ``sysconf``, then to 2**63 - 1 where
    neither is known (the check then never refuses).
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return 2**63 - 1


def format_bytes(n_bytes: float) -> str:
    """``1536 -> '1.5 KiB'``: a byte count for messages."""
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} EiB"  # pragma: no cover


def check_memory(what: str, n_bytes: float, *, fraction: float = 0.8) -> None:
    """Refuse work whose estimated memory exceeds ``fraction`` of what is available.

    Parameters
    ----------
    what : str
        What needs the memory, for the message (e.g. ``"--samples 1e12"``).
    n_bytes : float
        The estimate (may be huge: a float, not an int, so it never overflows).

    Raises
    ------
    InvalidParameterError
        ``"--samples 1e12 needs about 58.2 TiB of memory, this machine has 20.1 GiB available"``.
    """
    available = available_memory()
    if not math.isfinite(n_bytes) or n_bytes > fraction * available:
        raise InvalidParameterError(
            f"{what} needs about {format_bytes(n_bytes)} of memory, "
            f"this machine has {format_bytes(available)} available")
