"""A process-wide record that the user asked the run to stop (SIGTERM).

A signal handler that raises ``KeyboardInterrupt`` raises it wherever the main
thread happens to be. Inside a finalizer or a weakref callback (h5py closes
its objects through them while a checkpoint is written) Python prints
"Exception ignored" and the exception is lost, so the run would carry on and
end as if never interrupted. The command line's handler therefore also
records the request here, and the step loops (:func:`mccore.training.run_steps`,
exact RBM sampling) call :func:`raise_if_requested` at every step boundary:
a lost exception still stops the run at the next step, with its checkpoint.

Library users who never install a handler are unaffected (nothing is recorded).
"""

from __future__ import annotations

__all__ = ["request", "requested", "clear", "raise_if_requested"]

_requested = False


def request() -> None:
    """Record that the run should stop (called by a signal handler)."""
    global _requested
    _requested = True


def requested() -> bool:
    """Whether a stop was requested and not yet cleared."""
    return _requested


def clear() -> None:
    """Forget an earlier request (a new command starts)."""
    global _requested
    _requested = False


def raise_if_requested() -> None:
    """Raise ``KeyboardInterrupt`` if a stop was requested."""
    if _requested:
        raise KeyboardInterrupt
