"""The one place where ``gan`` imports PyTorch.

PyTorch is an optional dependency (the ``gan`` extra). ``import gan`` never
imports it; every public entry point calls :func:`require_torch` first, which
either returns the ``torch`` module or raises
:class:`mccore.errors.MissingDependencyError` with a one-line install hint.
"""

from __future__ import annotations

import contextlib

from mccore.errors import MissingDependencyError

__all__ = ["INSTALL_HINT", "deterministic_torch", "require_torch", "torch_available"]

#: The CPU build first: a plain ``pip install torch`` on Linux fetches a multi-GB CUDA build.
INSTALL_HINT = ("pip install 'torch>=2.3' --index-url https://download.pytorch.org/whl/cpu "
                "(the CPU build; plain 'pip install torch' is a multi-GB CUDA build on Linux), "
                "then in a checkout the gan extra: pip install -e '.[gan]'")


def require_torch():
    """Return the ``torch`` module, or raise MissingDependencyError.

    Raises
    ------
    MissingDependencyError
        PyTorch cannot be imported. The message is one line that says how to
        install the ``gan`` extra.
    """
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(
            f"the GAN baseline needs PyTorch, which is not installed; "
            f"install it with: {INSTALL_HINT}") from None
    return torch


def torch_available() -> bool:
    """True if PyTorch can be imported (it is imported to find out)."""
    try:
        require_torch()
    except MissingDependencyError:
        return False
    return True


@contextlib.contextmanager
def deterministic_torch(n_threads: int | None):
    """Run a block with deterministic PyTorch settings, restoring them after.

    Inside the block ``torch.use_deterministic_algorithms(True)`` is on (on
    the CPU every operation this package uses has a deterministic
    implementation) and, if ``n_threads`` is given, PyTorch uses that many
    intra-op threads. The previous settings are restored on exit, so calling
    code keeps its own global configuration.
    """
    torch = require_torch()
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    previous_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    if n_threads is not None:
        torch.set_num_threads(int(n_threads))
    try:
        yield torch
    finally:
        torch.use_deterministic_algorithms(previous_deterministic)
        if n_threads is not None:
            torch.set_num_threads(previous_threads)
