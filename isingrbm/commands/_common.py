"""Helpers every subcommand shares: common flags, argparse types, output
safety (check before computing, write to a temp file, ``os.replace``), JSON
output, messages on stderr and progress bars.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from isingrbm.pipeline import jsonable
from mccore.errors import InvalidParameterError, OutputExistsError
from mccore.files import atomic_path, check_output_folder, output_lock
from mccore.rng import resolve_seed  # noqa: F401 - re-exported for the commands
from mccore.validation import COUNT, POSITIVE, SEED, Rule

from . import _params

__all__ = [
    "OneLineErrorParser", "add_common_options", "add_subcommand", "atomic_output",
    "check_input_file", "check_output_folder", "check_output_path", "check_resumable_output",
    "emit_json",
    "info", "integer", "nonnegative_int",
    "number", "output_folder", "output_lock", "output_target", "positive_float", "positive_int",
    "progress_enabled", "resolve_seed", "temperature",
]


class OneLineErrorParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line without the usage block.

    ``isingrbm generate: error: argument --seed: value must be an integer >= 0,
    got '-1' (see 'isingrbm generate --help')`` on stderr and exit status 2, the
    format of every other refusal of the command line. Subparsers created
    from it (``add_subparsers``) are of the same class, so nested commands
    (``isingrbm gan fit``) name their full path.
    """

    def error(self, message: str):
        message = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def add_subcommand(subparsers, name: str, *, help: str, description: str, example: str,
                   func, options=None, draws: bool | None = None) -> argparse.ArgumentParser:
    """Add a subcommand parser with a worked example.

    ``options``: the command's option table (rows of :func:`._params.option`),
    added with the common flags (:func:`add_common_options`, ``draws`` as
    there); None: the caller adds its arguments and the common flags itself.
    """
    parser = subparsers.add_parser(
        name, help=help, description=description,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=func, command_path=name)
    if options is not None:
        _params.add_options(parser, options)
        add_common_options(parser, draws=draws)
    return parser


#: subcommands that draw no random numbers: their --seed is accepted (every
#: subcommand has one) and says that it has no effect
DRAW_NOTHING = ("inspect",)


def add_common_options(parser: argparse.ArgumentParser, *, draws: bool | None = None) -> None:
    """``--seed``, ``--quiet`` and ``--json``, which every subcommand has.

    Parameters
    ----------
    draws : bool or None
        Whether the command draws random numbers; None: all but the commands
        in :data:`DRAW_NOTHING`. A command that draws none still accepts
        ``--seed`` and its help says it has no effect.
    """
    if draws is None:
        draws = parser.get_default("command_path") not in DRAW_NOTHING
    parser.add_argument("--seed", type=nonnegative_int, default=None,
                        help="random seed (default: fresh entropy, recorded in the output)"
                        if draws else
                        "accepted for uniformity (no effect: this command draws no random "
                        "numbers)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars or messages on stderr")
    parser.add_argument("--json", action="store_true",
                        help="print a machine-readable JSON summary on stdout")


#: argparse types of the commands, from the shared rules of mccore.validation
integer = _params.argument_type(Rule.integer())
number = _params.argument_type(None)
positive_int = _params.argument_type(COUNT)
nonnegative_int = _params.argument_type(SEED)
positive_float = _params.argument_type(POSITIVE)
temperature = _params.argument_type(POSITIVE, "temperature")


def check_resumable_output(out, *, inputs, resume: bool, overwrite: bool,
                           checkpointed: bool = True) -> tuple[Path, Path]:
    """Check the output of a resumable command and its checkpoint before any work.

    ``out`` is checked as by :func:`check_output_path` (an existing one is
    accepted with ``--resume`` or ``--overwrite``). With ``checkpointed``, the
    checkpoint ``OUT.checkpoint`` must be writable too, and if it exists (an
    unfinished run) ``--resume`` (continue it) or ``--overwrite`` (start
    again) must be given.

    Returns
    -------
    (Path, Path)
        ``out`` and its checkpoint path.
    """
    from mccore.training import checkpoint_path

    out = Path(out)
    checkpoint = checkpoint_path(out)
    check_output_path(out, overwrite=overwrite, allow_existing=resume, inputs=inputs)
    if checkpointed:
        check_output_path(checkpoint, allow_existing=True, inputs=inputs)
        if checkpoint.exists() and not (resume or overwrite):
            raise OutputExistsError(
                f"checkpoint {checkpoint} of an unfinished run exists; pass --resume to "
                "continue it or --overwrite to start afresh")
    return out, checkpoint

def output_target(path) -> Path:
    """The file an output path writes: the link's target if ``path`` is a symlink.

    The rule of every command: an output that is a symbolic link is written
    *through* the link (its target is replaced, atomically), and the link
    itself is kept.
    """
    path = Path(path)
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def check_output_path(path, *, overwrite: bool = False, allow_existing: bool = False,
                      inputs=()) -> Path:
    """Refuse an output path before any computation is done.

    Parameters
    ----------
    path : str or Path
        The output as given on the command line.
    overwrite, allow_existing : bool
        Accept an existing ``path`` (to replace it, or to continue it).
    inputs : iterable of paths
        The command's input files: an output that resolves to one of them
        (the same file, also through a symlink) is refused even with
        ``--overwrite``.

    Returns
    -------
    Path
        The path to write: ``path`` itself, or the target of the symlink
        ``path`` (see :func:`output_target`).

    Raises
    ------
    OutputExistsError
        ``path`` exists and neither ``overwrite`` nor ``allow_existing``.
    InvalidParameterError
        The parent folder does not exist, is not writable, ``path`` is a
        folder, or ``path`` is one of ``inputs``.
    """
    path = Path(path)
    resolved = Path(os.path.realpath(path))
    for source in inputs:
        if source is not None and Path(os.path.realpath(source)) == resolved:
            raise InvalidParameterError(
                f"output {path} is the input file {source}; choose another --out")
    if path.is_dir():
        raise InvalidParameterError(f"output {path} is a directory, expected a file path")
    if path.exists() and not (overwrite or allow_existing):
        raise OutputExistsError(f"output {path} exists; pass --overwrite to replace it")
    target = output_target(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidParameterError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InvalidParameterError(f"output folder {parent} is not writable")
    return target


@contextlib.contextmanager
def output_folder(path):
    """Create ``path`` (and missing parents) for the block; if the block fails,
    remove again every folder it created that is still empty, so a command
    that wrote nothing (e.g. on a full disk) leaves nothing behind."""
    path = Path(path)
    created = []
    folder = Path(os.path.abspath(path))
    while not folder.exists():
        created.append(folder)
        folder = folder.parent
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        for folder in created:           # innermost first; rmdir removes only empty ones
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def atomic_output(path):
    """Yield a temporary path beside ``path``; move it into place on success.

    Nothing at ``path`` is touched if the block raises (see
    :func:`mccore.files.atomic_path`). A symlink ``path`` is written through:
    its target is replaced and the link kept (:func:`output_target`).
    """
    return atomic_path(output_target(path))


def check_input_file(path) -> Path:
    """An existing, readable regular file, or InvalidParameterError."""
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(f"input file {path} does not exist")
    if not path.is_file():
        raise InvalidParameterError(f"input {path} is not a regular file")
    return path


def emit_json(obj) -> None:
    """Print ``obj`` as one JSON document on stdout (NaN/inf become null)."""
    json.dump(jsonable(obj), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def info(args, message: str) -> None:
    """A human message on stderr, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def progress_enabled(args) -> bool:
    """Progress bars only on a terminal and without ``--quiet``."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()
