"""Writing files safely: the one atomic-write helper of the workbench.

Every output (datasets, model files, results, reports) is written to a
temporary file beside its destination and moved into place with
``os.replace`` only when complete, so an interrupted or failing write never
leaves a half-written file and never touches an existing one. It lives in
``mcstats``, the lowest package, because ``ising``, ``rbm``, ``vmc`` and the
application all write files.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path, *, create: bool = True):
    """Yield a temporary path beside ``path``; move it into place on success.

    Parameters
    ----------
    path : str or Path
        The destination.
    create : bool
        Leave the (empty) temporary file in place for the caller (True), or
        remove it first, for writers that refuse existing files (False).

    Notes
    -----
    The result gets the permissions a plain ``open()`` would give it
    (0666 minus the umask), not ``mkstemp``'s 0600. Nothing at ``path`` is
    touched if the block raises.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    if not create:
        os.unlink(tmp)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
