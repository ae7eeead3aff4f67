"""Command-line options built from the libraries' rule tables (isingrbm/commands/_params.py):
the rule and its message exist once, in the library, and the help says the rule's words."""

import argparse

import pytest

from isingrbm.commands import _params
from isingrbm.commands._params import add_options, exclusive, flag, flag_message, option
from mccore.errors import InvalidParameterError
from mccore.validation import Rule, check_settings


def test_rule_checks_with_the_validation_helpers_and_says_why():
    assert Rule.integer(1, 3).check("n_dims", 3) == 3
    with pytest.raises(InvalidParameterError, match=r"^n_dims must be an integer in \[1, 3\], "
                                                    r"got 4$"):
        Rule.integer(1, 3).check("n_dims", 4)
    omega = Rule.number(0.001, 1000, why="outside it the arithmetic loses its meaning")
    with pytest.raises(InvalidParameterError,
                       match=r"^omega must be a number in \[0.001, 1000\] \(outside it the "
                             r"arithmetic loses its meaning\), got 0.0001$"):
        omega.check("omega", 1e-4)
    assert Rule.integer(minimum=1, optional=True).check("n", None) is None
    assert Rule.choice(("a", "b")).allowed == "a, b" and omega.allowed == "in [0.001, 1000]"
    with pytest.raises(InvalidParameterError, match="^L must be an integer >= 2, got 1$"):
        check_settings({"L": Rule.integer(minimum=2)}, L=1)


def test_options_take_type_range_and_help_from_the_rule(capsys):
    parser = argparse.ArgumentParser(prog="cmd")
    add_options(parser, (
        option("--hidden", rule=Rule.integer(minimum=1), metavar="H",
               help="hidden units ({allowed})"),
        option("--form", rule=Rule.choice(("sqrt", "full")), help="the form"),
        exclusive(flag("--quick", "short"), flag("--full", "long")),
    ))
    args = parser.parse_args(["--hidden", "1e3", "--form", "full", "--quick"])
    assert (args.hidden, args.form, args.quick, args.full) == (1000, "full", True, False)
    text = parser.format_help()
    assert "hidden units (>= 1)" in text and "{sqrt,full}" in text
    with pytest.raises(SystemExit):
        parser.parse_args(["--hidden", "0"])
    assert "argument --hidden: value must be an integer >= 1, got '0'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["--quick", "--full"])


def test_unchecked_options_only_read_their_kind_and_messages_name_the_flags():
    parser = argparse.ArgumentParser()
    table = (option("--particles", setting="n_particles", rule=Rule.integer(minimum=1), help=""),
             option("--jastrow", setting="jastrow", rule=Rule.choice(("none", "pade")), help=""),
             option("--interaction", setting="interaction", rule=Rule.choice(("none", "c")),
                    help=""))
    add_options(parser, table, check=False)
    args = parser.parse_args(["--particles", "0", "--jastrow", "x"])
    assert (args.particles, args.jastrow) == (0, "x")     # the library's check comes after
    assert _params.library_values(args, table, given=True) == {"n_particles": 0,
                                                               "jastrow": "x"}
    exc = InvalidParameterError("jastrow 'pade' needs interaction 'c', got interaction 'none'")
    assert str(flag_message(exc, [table])) == (
        "--jastrow 'pade' needs --interaction 'c', got --interaction 'none'")


def test_vmc_options_come_from_the_vmc_tables(capsys):
    from isingrbm.cli import main
    from isingrbm.commands import vmc as command
    from vmc.settings import TFIM_SETTINGS, TRAP_SETTINGS

    rules = {row.setting: row.rule for row in _params.rows(command.TRAP + command.TFIM)
             if row.setting is not None}
    assert rules["omega"] is TRAP_SETTINGS["omega"] and rules["field"] is TFIM_SETTINGS["field"]
    assert main(["vmc", "--particles", "1", "--dims", "2", "--omega", "1e-4"]) == 2
    assert capsys.readouterr().err.strip() == (
        "isingrbm vmc: error: --omega must be a number in [0.001, 1000] (outside it the "
        "arithmetic loses its meaning), got 0.0001")
