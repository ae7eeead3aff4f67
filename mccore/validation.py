"""Argument validation with one message format: name, what is allowed, what was given.

``"L must be an integer >= 2, got 1"`` (scikit-learn's format). Every public
entry point validates once, with these helpers; inner code trusts its inputs.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InvalidParameterError

__all__ = ["check_int", "check_float", "check_positive_number", "check_choice", "check_bool",
           "check_input_file", "check_memory", "available_memory", "format_bytes",
           "check_spins", "Rule", "check_settings", "COUNT", "SEED", "POSITIVE"]


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
        what = "a number" if bounds.startswith(" in [") else "a finite number"  # [a, b] is finite
        raise InvalidParameterError(f"{name} must be {what}{bounds}, got {value!r}")
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


@dataclass(frozen=True)
class Rule:
    """One setting's rule, declared once by the library that takes the setting.

    A library keeps a table ``{name: Rule}`` of its settings and checks its
    arguments with it (:func:`check_settings`); the command line builds its
    options from the same table, so a rule and its message exist once.
    Build rules with :meth:`integer`, :meth:`number`, :meth:`choice` and :meth:`boolean`.

    Attributes
    ----------
    kind : {"integer", "number", "choice", "bool"}
        Checked by :func:`check_int`, :func:`check_float`, :func:`check_choice` or
        :func:`check_bool`.
    minimum, maximum, strict_min, strict_max
        The bounds of an integer or number (None: unbounded).
    choices : tuple
        The allowed values of a choice.
    optional : bool
        None is allowed (it means "the default").
    why : str
        Why the rule holds, added to the refusal in parentheses.

    >>> Rule.integer(minimum=1).check("n_hidden", 0)
    Traceback (most recent call last):
    ...
    mccore.errors.InvalidParameterError: n_hidden must be an integer >= 1, got 0
    """

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    strict_min: bool = False
    strict_max: bool = False
    choices: tuple = ()
    optional: bool = False
    why: str = ""

    @classmethod
    def integer(cls, minimum=None, maximum=None, *, optional=False, why=""):
        """An integer in ``[minimum, maximum]``."""
        return cls("integer", minimum, maximum, optional=optional, why=why)

    @classmethod
    def number(cls, minimum=None, maximum=None, *, strict_min=False, strict_max=False,
               optional=False, why=""):
        """A finite number within the bounds (``strict_*``: the bound itself excluded)."""
        return cls("number", minimum, maximum, strict_min, strict_max, optional=optional, why=why)

    @classmethod
    def choice(cls, choices, *, why=""):
        """One of ``choices``."""
        return cls("choice", choices=tuple(choices), why=why)

    @classmethod
    def boolean(cls, *, why=""):
        """True or False (a Python or NumPy bool)."""
        return cls("bool", why=why)

    @property
    def allowed(self) -> str:
        """What the rule allows, for a help text: ``">= 1"``, ``"in [1, 3]"``, ``"none, coulomb"``."""
        if self.kind == "choice":
            return ", ".join(str(c) for c in self.choices)
        if self.kind == "bool":
            return "True, False"
        return _bounds_text(self.minimum, self.maximum, self.strict_min, self.strict_max).strip()

    def check(self, name: str, value):
        """``value`` checked (and converted: int, float), or InvalidParameterError naming ``name``."""
        if value is None and self.optional:
            return None
        try:
            if self.kind == "choice":
                return check_choice(name, value, self.choices)
            if self.kind == "bool":
                return check_bool(name, value)
            if self.kind == "integer":
                return check_int(name, value, minimum=self.minimum, maximum=self.maximum)
            return check_float(name, value, minimum=self.minimum, maximum=self.maximum,
                               strict_min=self.strict_min, strict_max=self.strict_max)
        except InvalidParameterError as exc:
            if not self.why:
                raise
            head, got = str(exc).rsplit(", got ", 1)
            raise InvalidParameterError(f"{head} ({self.why}), got {got}") from None


#: rules shared by several libraries: counts (sizes, epochs, samples), seeds, positive
#: numbers (temperatures, learning rates)
COUNT = Rule.integer(minimum=1)
SEED = Rule.integer(minimum=0)
POSITIVE = Rule.number(minimum=0, strict_min=True)


def check_settings(rules: dict, **settings) -> dict:
    """Every setting checked by its rule in ``rules`` (a library's table of :class:`Rule`).

    Returns the checked values in the order given.

    >>> check_settings({"L": Rule.integer(minimum=2)}, L=4)
    {'L': 4}
    """
    return {name: rules[name].check(name, value) for name, value in settings.items()}


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
