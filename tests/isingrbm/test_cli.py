"""The command-line frame: every subcommand documents itself with an example,
and argparse-level bad input exits with status 2 and one usage error."""

import argparse

import pytest

from isingrbm import cli


def _leaf_parsers(parser, path=()):
    """(command path, parser) for every runnable subcommand, nested ones included."""
    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not nested:
        yield path, parser
        return
    for name, sub in nested[0].choices.items():
        yield from _leaf_parsers(sub, path + (name,))


def test_every_available_subcommand_has_help_with_example():
    leaves = list(_leaf_parsers(cli.build_parser()))
    assert len(leaves) >= 8, [p for p, _ in leaves]
    for path, sub in leaves:
        text = sub.format_help()  # raises on a malformed help string
        name = " ".join(path)
        assert "example" in text, f"'isingrbm {name} --help' shows no example"
        for flag in ("--seed", "--quiet", "--json"):
            assert flag in text, f"'isingrbm {name}' lacks the common flag {flag}"


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["no-such-command"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert "isingrbm" in capsys.readouterr().out
