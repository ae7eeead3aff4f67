"""Small helpers shared by the demo's stages: reading back files, deviations, numbers."""

from __future__ import annotations

import math
from pathlib import Path

from mccore.errors import IsingRBMError

__all__ = ["attrs", "deviation", "number", "valid_file"]


def valid_file(path: Path, loader) -> bool:
    """True if ``path`` exists and ``loader(path)`` reads it back."""
    if not path.exists():
        return False
    try:
        loader(path)
    except (IsingRBMError, OSError, ValueError, KeyError):
        return False
    return True


def attrs(path: Path) -> dict:
    """Provenance attrs of the (only) temperature of a generated dataset file."""
    import ising

    return dict(ising.load(path).ensembles[0].attrs)


def deviation(estimate: dict, exact_value: float) -> float:
    """``(mean - exact) / error`` of an estimate dict (inf for a zero error that misses)."""
    error = estimate.get("error") or 0.0
    if not error:
        return 0.0 if estimate["mean"] == exact_value else math.inf
    return (estimate["mean"] - exact_value) / error


def number(value):
    """A float from a number or an estimate (its mean); None if there is none."""
    if value is None:
        return None
    if hasattr(value, "mean"):
        value = value.mean
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
