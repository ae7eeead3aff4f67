"""Time spent compiling numba kernels, measured through numba's event API.

A demo on a fresh install compiles its kernels (later runs load them from
numba's cache, ``cache=True``); :class:`CompileClock` adds up the wall and
CPU seconds of every top-level ``numba:compile`` event (a kernel compiled
inside another's compilation counts once) and the signatures compiled, so
that ``demo.json`` can say how much of a stage's time was compilation.
Loading a kernel from the cache is not a compile event.
"""

from __future__ import annotations

import time

__all__ = ["CompileClock"]


class CompileClock:
    """Context manager: ``seconds``, ``cpu_seconds`` and ``signatures`` compiled inside it."""

    def __init__(self):
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.signatures = 0
        self._depth = 0
        self._start = (0.0, 0.0)
        self._listener = None

    def __enter__(self):
        try:
            from numba.core import event
        except ImportError:  # pragma: no cover - numba is a dependency
            return self
        clock = self

        class _Listener(event.Listener):
            def on_start(self, ev):
                if clock._depth == 0:
                    clock._start = (time.perf_counter(), time.process_time())
                clock._depth += 1

            def on_end(self, ev):
                clock._depth -= 1
                clock.signatures += 1
                if clock._depth == 0:
                    clock.seconds += time.perf_counter() - clock._start[0]
                    clock.cpu_seconds += time.process_time() - clock._start[1]

        self._listener = _Listener()
        event.register("numba:compile", self._listener)
        return self

    def __exit__(self, *exc):
        if self._listener is not None:
            from numba.core import event

            event.unregister("numba:compile", self._listener)
            self._listener = None
        return False
