"""Shared helpers of the bit-identity tests (tests/*/test_*_bit_identical.py).

Those tests compare today's outputs with reference files made by a committed
script at an older commit. Bit patterns depend on the library versions
(numpy's, numba's, torch's arithmetic), so a test skips, naming what
differs, when the installed versions are not the recorded ones; the physics
tests are the version-independent checks.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


def load_script(path):
    """The reference generator at ``path`` as a module (it is a script, not a package)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"reference_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def skip_unless_versions(recorded: dict, installed: dict) -> None:
    """Skip the calling test when a library in ``recorded`` has another version installed."""
    differing = [f"{name} {version} recorded, {installed.get(name)} installed"
                 for name, version in sorted(recorded.items())
                 if installed.get(name) != version]
    if differing:
        pytest.skip("bit patterns are tied to library versions: " + "; ".join(differing))
