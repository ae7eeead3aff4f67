"""The ``isingrbm`` command line: ``build_parser()`` and ``main(argv) -> int``.

Each subcommand lives in its own module ``isingrbm.commands.<name>`` with
``register(subparsers)`` (adds its parser and sets ``func``) and
``run(args) -> int``. Heavy imports (numba, h5py, torch) happen inside
``run`` so that ``isingrbm --help`` is instant.

Errors the workbench raises on purpose (:class:`mccore.errors.IsingRBMError`) and
``OSError`` become one line ``isingrbm <cmd>: error: <message>`` on stderr and
exit status 2; argparse errors are one line of the same form (no usage
block) and exit 2 as well. Ctrl-C prints ``isingrbm <cmd>: interrupted`` and
exits 130. SIGTERM (what ``timeout``, ``kill`` and batch schedulers send) is
treated like Ctrl-C: it raises ``KeyboardInterrupt`` in the main thread, so
every long command checkpoints and prints its one line as on Ctrl-C, then
exits 143 (128 + SIGTERM); a second SIGTERM while the checkpoint is written
is ignored (SIGKILL still ends the process). When stderr is not a terminal
and ``--quiet`` is not given, long loops print a progress line with the
remaining time every minute (:func:`mccore.progress.progress_lines`), or
every ``ISINGRBM_PROGRESS_SECONDS`` seconds where that environment variable
is set (0: after every piece of work).
Unexpected exceptions (bugs) keep their traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import re
import sys

from mccore.errors import IsingRBMError

from . import __version__
from .commands._common import OneLineErrorParser

SUBCOMMANDS = ("generate", "inspect", "fit", "sample", "evaluate", "vmc", "gan",
               "demo", "report", "transfer", "tomography")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every available subcommand."""
    parser = OneLineErrorParser(
        prog="isingrbm",
        description="Ising-physics workbench: Monte Carlo data, RBMs that learn "
                    "the phases, RBM variational Monte Carlo and a GAN baseline. "
                    "Conventions: per spin, k_B = J = 1, periodic L x L lattice.",
        epilog="Run 'isingrbm <command> --help' for a worked example of each command.")
    parser.add_argument("--version", action="version", version=f"isingrbm {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True,
                                       parser_class=OneLineErrorParser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"isingrbm.commands.{name}").register(subparsers)
    return parser


def _leaf_parser(parser: argparse.ArgumentParser, args) -> argparse.ArgumentParser:
    """The parser of the (sub)subcommand that ``args`` selected."""
    while True:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions:
            return parser
        chosen = getattr(args, actions[0].dest, None)
        if chosen not in actions[0].choices:
            return parser
        parser = actions[0].choices[chosen]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # name the subcommand, not the root (argparse would say "isingrbm:")
        _leaf_parser(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    from mccore.parallel import launched_rank
    from mccore.progress import progress_lines

    previous_hooks = sys.unraisablehook, sys.excepthook
    sys.unraisablehook, sys.excepthook = _quiet_disk_full_hooks(*previous_hooks)
    terminated = _TermAsInterrupt()
    try:
        lines = (not getattr(args, "quiet", False) and not _isatty(sys.stderr)
                 and launched_rank() == 0)       # under mpiexec: rank 0 reports
        with terminated, progress_lines(lines, **_line_interval()):
            status = int(args.func(args) or 0)
        return 143 if status == 130 and terminated.received else status
    except BrokenPipeError:  # e.g. `isingrbm inspect f.h5 | head`: not an error
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        command = getattr(args, "command_path", args.command)
        if launched_rank() == 0:        # under mpiexec every rank is interrupted: one line
            print(f"isingrbm {command}: interrupted", file=sys.stderr)
        return 143 if terminated.received else 130
    except Exception as exc:
        if isinstance(exc, IsingRBMError):  # our own message (e.g. which rows a full disk kept)
            _report_error(args, exc)
            _exit_if_hdf5_files_leaked(2)
            return 2
        full = _disk_full(exc, args)
        if full is not None:
            _report_message(args, f"No space left on device ({full})")
            _exit_if_hdf5_files_leaked(2)
            return 2
        if isinstance(exc, OSError):     # IsingRBMError was answered above
            _report_error(args, exc)
            return 2
        raise
    finally:
        sys.unraisablehook, sys.excepthook = previous_hooks


class _TermAsInterrupt:
    """Within the block, SIGTERM raises ``KeyboardInterrupt`` (once; later ones are ignored).

    The previous handler is restored on exit. Outside the main thread (where
    Python cannot set handlers) it does nothing.
    """

    def __init__(self):
        self.received = False
        self._previous = None

    def _handler(self, signum, frame):
        if not self.received:
            from mccore import interrupts

            self.received = True
            interrupts.request()    # seen at the next step if this raise is lost
            raise KeyboardInterrupt

    def __enter__(self):
        import signal
        import threading

        from mccore import interrupts

        interrupts.clear()
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handler)
        return self

    def __exit__(self, *exc):
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
        return False


def _line_interval() -> dict:
    """``progress_lines`` arguments from ``ISINGRBM_PROGRESS_SECONDS`` (if set and valid)."""
    import math
    import os

    from mccore.progress import FIRST_LINE_AFTER

    text = os.environ.get("ISINGRBM_PROGRESS_SECONDS")
    if text is None:
        return {}
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not (math.isfinite(seconds) and seconds >= 0):
        from mccore.errors import InvalidParameterError
        raise InvalidParameterError(
            f"ISINGRBM_PROGRESS_SECONDS must be a number >= 0, got {text!r}")
    return {"interval": seconds, "first_after": min(seconds, FIRST_LINE_AFTER)}


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


_DISK_FULL_TEXT = ("No space left on device", "errno = 28,", "Disk quota exceeded")
_TMP_NAME = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")  # mccore.files.atomic_path
_H5_FILENAME = re.compile(r"filename = '(?P<path>[^']*)'")


def _output_of(args):
    for attr in ("out", "out_dir", "plots"):
        value = getattr(args, attr, None)
        if value:
            return value
    return None


def _shown_path(path) -> str:
    """A temporary file of :func:`mccore.files.atomic_path` is shown as its destination."""
    import os

    path = os.fsdecode(path)
    folder, name = os.path.split(path)
    match = _TMP_NAME.match(name)
    return os.path.join(folder, match["name"]) if match else path


def _disk_full(exc: BaseException, args) -> str | None:
    """The path of a full file system if ``exc`` (or its cause) is one, else None.

    Recognizes ``OSError`` with errno ENOSPC/EDQUOT, HDF5 errors whose text
    carries ``errno = 28`` (h5py raises them as OSError or RuntimeError
    without ``errno``) and write failures of other libraries (PyTorch's
    "file write failed") when the output's file system has no space left.
    """
    import errno
    import os

    seen = set()
    chain = exc
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        text = str(chain)
        if ((isinstance(chain, OSError) and chain.errno in (errno.ENOSPC, errno.EDQUOT))
                or any(t in text for t in _DISK_FULL_TEXT)):
            filename = getattr(chain, "filename", None)
            if not filename:
                match = _H5_FILENAME.search(text)
                filename = match["path"] if match else _output_of(args)
            return _shown_path(filename) if filename else "the output's file system"
        if "write failed" in text:
            output = _output_of(args)
            if output is not None:
                folder = os.path.dirname(os.path.abspath(os.fsdecode(output)))
                try:
                    st = os.statvfs(folder)
                except OSError:
                    st = None
                if st is not None and st.f_bavail * st.f_frsize < 1 << 20:
                    return os.fsdecode(output)
        chain = chain.__cause__ or chain.__context__
    return None


def _quiet_disk_full_hooks(unraisable_hook, except_hook):
    """``sys.unraisablehook`` and ``sys.excepthook`` that drop h5py's dealloc errors
    on a full disk (and a recorded SIGTERM's interrupt raised inside a finalizer).

    When a write fails for lack of space, h5py objects that cannot be
    released print "Exception ignored in ... __dealloc__" tracebacks (Cython
    prints them through both hooks); the command reports one line instead.
    """

    def disk_full(value) -> bool:
        return value is not None and any(t in str(value) for t in _DISK_FULL_TEXT)

    def unraisable(info):
        value = getattr(info, "exc_value", None)
        if isinstance(value, KeyboardInterrupt):
            from mccore import interrupts

            if interrupts.requested():   # SIGTERM raised in a finalizer: honoured at the
                return                   # next step boundary, no traceback for the user
        if not disk_full(value):
            unraisable_hook(info)

    def excepthook(exc_type, value, tb):
        if not disk_full(value):
            except_hook(exc_type, value, tb)

    return unraisable, excepthook


def _exit_if_hdf5_files_leaked(status: int) -> None:
    """End the process at once if HDF5 still holds files it cannot flush.

    A write that failed for lack of space leaves the HDF5 file open (its
    close needs to flush, which fails); HDF5's own clean-up at interpreter
    exit then crashes (segmentation fault, exit 139). The files are closed
    if possible; if any stays open the process ends with ``os._exit`` after
    flushing stdout and stderr (the temporary files are already removed).
    """
    import os

    h5py = sys.modules.get("h5py")
    if h5py is None:
        return
    import gc

    gc.collect()
    try:
        ids = h5py.h5f.get_obj_ids(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE)
    except Exception:  # noqa: BLE001 - the library is in an error state: assume leaked
        ids = [None]
    for fid in ids:
        if fid is None:
            continue
        with contextlib.suppress(Exception):  # it cannot flush: it stays open
            fid._close_open_objects(h5py.h5f.OBJ_LOCAL | ~h5py.h5f.OBJ_FILE)
            fid.close()
    try:
        left = h5py.h5f.get_obj_ids(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE)
    except Exception:  # noqa: BLE001
        left = [None]
    if left:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(status)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _report_error(args, exc: BaseException) -> None:
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and not isinstance(exc, IsingRBMError) and exc.filename:
        message = f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    _report_message(args, message)


def _report_message(args, message: str) -> None:
    command = getattr(args, "command_path", args.command)
    print(f"isingrbm {command}: error: {' '.join(message.split())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
