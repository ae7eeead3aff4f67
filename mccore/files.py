"""Writing files safely: the one atomic-write helper of the workbench.

Every output (datasets, model files, results, reports) is written to a
temporary file beside its destination and moved into place with
``os.replace`` only when complete, so an interrupted or failing write never
leaves a half-written file and never touches an existing one.

:func:`output_lock` takes an advisory lock for an output path (a hidden
``.NAME.lock`` file beside it, ``flock``), so that two processes writing the
same output (a running job and a second run with ``--overwrite``) cannot
destroy each other's file: the second is refused with one line. The lock is
released when the process ends, however it ends.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from .errors import InvalidParameterError, OutputExistsError

__all__ = ["atomic_path", "check_output_folder", "output_lock", "OutputLockedError"]


class OutputLockedError(OutputExistsError):
    """Another process holds the lock of an output path."""


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


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


@contextlib.contextmanager
def output_lock(path):
    """Hold an exclusive advisory lock on ``path`` (as an output) for the block.

    Parameters
    ----------
    path : str or Path
        The output; the lock file is ``.NAME.lock`` in the same folder, so
        processes that resolve the same output take the same lock. Symlinks
        are resolved, so writing through a link locks the target.

    Raises
    ------
    OutputLockedError
        Another process holds the lock (it is writing ``path`` now).

    Notes
    -----
    ``flock`` locks are released by the kernel when the process dies, so a
    killed run never leaves a stale lock; the lock file is removed on a
    normal exit. The inode is re-checked after locking, so a lock file
    removed by its previous holder in between is never trusted.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        yield
        return
    target = Path(os.path.realpath(path))
    lock = _lock_path(target)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutputLockedError(
                    f"output {path} is being written by another process; "
                    "wait for it to finish or choose another --out") from None
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed this lock file: take the new one
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def check_output_folder(path, *, flag: str, parents: bool = False) -> Path:
    """Refuse an output folder before any computation: it must be a writable folder,
    or not exist in a writable folder (it is then created when written into).

    Parameters
    ----------
    parents : bool
        Missing parent folders are created too (the nearest existing one
        must then be writable).

    Raises
    ------
    InvalidParameterError
        Naming ``flag`` (e.g. ``--plots``): the path is a file, its parent is
        missing, or the folder that would be written is not writable.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InvalidParameterError(f"{flag} {path} exists and is not a folder")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise InvalidParameterError(f"{flag} folder {path} is not writable")
        return path
    parent = Path(os.path.abspath(path)).parent
    while parents and not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        shown = path.parent if str(path.parent) else Path(".")
        raise InvalidParameterError(f"{flag} folder {shown} does not exist"
                                    if not parents else f"{flag} {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidParameterError(
            f"{flag} folder {path} cannot be created: {parent} is not writable")
    return path
