"""Shared helpers of the bit-identity tests (tests/*/test_*_bit_identical.py).

Those tests compare today's outputs with reference files made by a committed
script at an older commit. Bit patterns depend on the library versions
(numpy's, numba's, torch's arithmetic), so a test skips, naming what
differs, when the installed versions are not the recorded ones; the physics
tests are the version-independent checks.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"


def load_script(path):
    """The reference generator at ``path`` as a module (it is a script, not a package)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"reference_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digest(array) -> str:
    """SHA-256 of an array's bytes, dtype and shape (what a reference manifest records)."""
    a = np.ascontiguousarray(array)
    h = hashlib.sha256(a.tobytes())
    h.update(f"{a.dtype.str}{a.shape}".encode())
    return h.hexdigest()


#: import names of the libraries whose versions are recorded
_IMPORT_NAMES = {"scikit-learn": "sklearn"}


def library_versions(*names) -> dict:
    """Installed version of each library named (``None`` for torch when it is absent)."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.import_module(_IMPORT_NAMES.get(name, name)).__version__
        except ImportError:
            if name != "torch":      # the only optional one
                raise
            out[name] = None
    return out


def skip_unless_versions(recorded: dict, installed: dict) -> None:
    """Skip the calling test when a library in ``recorded`` has another version installed."""
    differing = [f"{name} {version} recorded, {installed.get(name)} installed"
                 for name, version in sorted(recorded.items())
                 if installed.get(name) != version]
    if differing:
        pytest.skip("bit patterns are tied to library versions: " + "; ".join(differing))


def skip_unless_recorded_versions(recorded: dict, *names) -> None:
    """:func:`skip_unless_versions` for the libraries ``names`` only."""
    skip_unless_versions({name: recorded[name] for name in names}, library_versions(*names))
