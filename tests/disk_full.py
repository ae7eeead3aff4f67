"""A full disk for the tests: ENOSPC from a write, without filling a real disk."""

import errno
import os

__all__ = ["FullDiskFile", "raise_enospc"]


def raise_enospc(*args, **kwargs):
    """Raise what a write to a full disk raises (``errno.ENOSPC``), whatever the arguments."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FullDiskFile:
    """A stand-in for ``open`` in a writer's module: the file opens, every write fails
    with ENOSPC."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, data):
        raise_enospc()

    def flush(self):
        pass
