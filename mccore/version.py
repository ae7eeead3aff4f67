"""The software version, read once from the installed package's metadata."""

from __future__ import annotations

import functools

__all__ = ["software_version"]


@functools.lru_cache(maxsize=1)
def software_version() -> str:
    """The installed isingrbm version, or ``"unknown"`` in a bare source checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("isingrbm")
    except PackageNotFoundError:
        return "unknown"
