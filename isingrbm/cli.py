"""The ``isingrbm`` command line: ``build_parser()`` and ``main(argv) -> int``.

Each subcommand lives in its own module ``isingrbm.commands.<name>`` with
``register(subparsers)`` (adds its parser and sets ``func``) and
``run(args) -> int``. Heavy imports (numba, h5py, torch) happen inside
``run`` so that ``isingrbm --help`` is instant.

Errors the workbench raises on purpose (:class:`mccore.errors.IsingRBMError`) and
``OSError`` become one line ``isingrbm <cmd>: error: <message>`` on stderr and
exit status 2; argparse errors are one line of the same form (no usage
block) and exit 2 as well. Ctrl-C prints ``isingrbm <cmd>: interrupted`` and
exits 130. Unexpected exceptions (bugs) keep their traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mccore.errors import IsingRBMError

from . import __version__
from .commands._common import OneLineErrorParser

SUBCOMMANDS = ("generate", "inspect", "fit", "sample", "evaluate", "vmc", "gan",
               "demo", "report")


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
    try:
        return int(args.func(args) or 0)
    except IsingRBMError as exc:
        _report_error(args, exc)
        return 2
    except BrokenPipeError:  # e.g. `isingrbm inspect f.h5 | head`: not an error
        _silence_stdout()
        return 0
    except OSError as exc:
        _report_error(args, exc)
        return 2
    except KeyboardInterrupt:
        command = getattr(args, "command_path", args.command)
        print(f"isingrbm {command}: interrupted", file=sys.stderr)
        return 130


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
    command = getattr(args, "command_path", args.command)
    print(f"isingrbm {command}: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
