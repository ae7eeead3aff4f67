"""Progress of long work: a bar on a terminal, timed lines in a batch job's log.

:class:`Progress` is the one progress reporter of the workbench's long
loops (:func:`mccore.training.run_steps`, exact RBM sampling). It shows

- a tqdm bar on stderr when asked for a bar (the command line asks on a
  terminal without ``--quiet``); tqdm shows the remaining time;
- otherwise, while :func:`progress_lines` is in force (the command line turns
  it on when stderr is *not* a terminal and ``--quiet`` is not given), one
  line on stderr every ``interval`` seconds (the first after
  ``first_after``), with the count, the percentage, the elapsed time and an
  estimate of the remaining time, e.g.
  ``fit: 12/100 epochs (12%), 1:05 elapsed, about 7:55 left`` -- so the log
  of a batch job says how far the job got and when it will end;
- nothing otherwise.

The setting is a :class:`contextvars.ContextVar` (restored on exit of the
``with`` block), so library code keeps its ``progress: bool`` arguments and
prints nothing unless an application asked for it. Only output depends on
it, never a number.

Imports only the standard library (tqdm lazily, for a bar and its time format).
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time

__all__ = ["Progress", "progress_lines", "line_interval", "format_seconds", "LINE_INTERVAL"]

#: Seconds between progress lines in a log (the first comes after FIRST_LINE_AFTER).
LINE_INTERVAL = 60.0
FIRST_LINE_AFTER = 10.0

_LINES: contextvars.ContextVar = contextvars.ContextVar("mccore_progress_lines", default=None)


@contextlib.contextmanager
def progress_lines(enabled: bool = True, *, interval: float = LINE_INTERVAL,
                   first_after: float = FIRST_LINE_AFTER, stream=None):
    """Within the block, loops without a bar print a progress line every ``interval`` s.

    Parameters
    ----------
    enabled : bool
        False: no lines (the block runs as if the context were absent).
    interval, first_after : float
        Seconds between lines, and before the first one.
    stream : file, optional
        Where the lines go (default: ``sys.stderr`` at the time of writing).
    """
    token = _LINES.set((float(interval), float(first_after), stream) if enabled else None)
    try:
        yield
    finally:
        _LINES.reset(token)


def line_interval() -> float | None:
    """Seconds between progress lines in force (:func:`progress_lines`), or None."""
    lines = _LINES.get()
    return None if lines is None else lines[0]


def format_seconds(seconds: float) -> str:
    """``3725 -> '1:02:05'``, ``65 -> '1:05'`` (tqdm's format)."""
    if not seconds >= 0 or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(minutes, 60)
    return f"{hours:d}:{m:02d}:{s:02d}" if hours else f"{m:d}:{s:02d}"


class Progress:
    """Progress of ``total`` units of work (None: unknown), starting at ``initial``.

    Parameters
    ----------
    total : int or None
        Planned units (epochs, samples); None while unknown (no estimate).
    initial : int
        Units already done (a resumed run); the remaining-time estimate uses
        only the rate of this run, after its first update (which pays for
        compilation and warm-up) once there is a second one.
    description, unit : str
        Shown as ``description: n/total unit``.
    bar : bool
        A tqdm bar on stderr. Without one, lines are printed only under
        :func:`progress_lines`.
    """

    def __init__(self, total: int | None, *, initial: int = 0, description: str = "",
                 unit: str = "step", bar: bool = False, clock=None):
        self.total = total
        self.n = self._initial = int(initial)
        self.description, self.unit = description, unit
        self._clock = clock or time.monotonic
        self._start = self._clock()
        self._postfix = ""
        self._first = None
        self._bar = None
        self._lines = None if bar else _LINES.get()
        if bar:
            from tqdm.auto import tqdm
            self._bar = tqdm(total=total, initial=initial, desc=description, unit=unit,
                             leave=False)
        if self._lines is not None:
            self._next_line = self._start + self._lines[1]

    def set_total(self, total: int | None) -> None:
        """The planned units became known (or changed)."""
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def set_postfix(self, text: str) -> None:
        """A short status shown after the count (e.g. the last loss)."""
        self._postfix = text
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def update(self, n: int = 1) -> None:
        """``n`` more units are done."""
        self.n += int(n)
        if self._first is None:         # the rate is measured after the first update,
            self._first = (self._clock(), self.n)  # which pays compilation and warm-up
        if self._bar is not None:
            self._bar.update(int(n))
        elif self._lines is not None:
            now = self._clock()
            if now >= self._next_line:
                self._next_line = now + self._lines[0]
                self._write(self.line(now))

    def line(self, now: float | None = None) -> str:
        """The progress line: count, percentage, elapsed and remaining time."""
        now = self._clock() if now is None else now
        elapsed = now - self._start
        head = f"{self.description}: " if self.description else ""
        if self.total:
            text = (f"{head}{self.n}/{self.total} {self.unit} "
                    f"({100.0 * self.n / self.total:.0f}%), {format_seconds(elapsed)} elapsed")
            since, done = now - self._start, self.n - self._initial
            if self._first is not None and self.n > self._first[1]:
                since, done = now - self._first[0], self.n - self._first[1]
            if done > 0 and self.n < self.total:
                left = since / done * (self.total - self.n)
                text += f", about {format_seconds(left)} left"
        else:
            text = f"{head}{self.n} {self.unit}, {format_seconds(elapsed)} elapsed"
        return text + (f"; {self._postfix}" if self._postfix else "")

    def _write(self, text: str) -> None:
        stream = self._lines[2] or sys.stderr
        try:
            # one write with its newline: print() writes the newline separately, and a
            # signal handler raising between the two leaves the line unterminated
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed or full log never stops the work
            pass

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
