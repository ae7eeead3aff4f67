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


def test_boolean_rule():
    assert Rule.boolean().check("symmetrize", False) is False and Rule.boolean().allowed == (
        "True, False")
    with pytest.raises(InvalidParameterError, match=r"^minibatch_std must be True or False, "
                                                    r"got 'yes'$"):
        Rule.boolean().check("minibatch_std", "yes")


def test_generate_reads_its_flags_with_the_rules_of_ising_simulate(tmp_path, capsys):
    from ising.settings import SIMULATE_SETTINGS
    from isingrbm.cli import main
    from isingrbm.commands import generate as command

    settings = {row.setting for row in _params.rows(command.OPTIONS) if row.setting}
    assert settings == set(SIMULATE_SETTINGS)     # every rule of simulate has its flag
    args = argparse.Namespace(size="3", chains=None)
    size = next(r for r in command.OPTIONS if r.setting == "L")
    chains = next(r for r in command.OPTIONS if r.setting == "n_chains")
    assert _params.read_option(args, size, SIMULATE_SETTINGS["L"]) == 3
    assert _params.read_option(args, chains, SIMULATE_SETTINGS["n_chains"]) is None
    args.size = "1"
    with pytest.raises(InvalidParameterError, match=r"^--size must be an integer >= 2, got '1'$"):
        _params.read_option(args, size, SIMULATE_SETTINGS["L"])
    # a rule across settings, from ising.settings.check_temperatures, names the flag
    assert main(["generate", "-L", "4", "-T", "2", "2.0000001", "-n", "5",
                 "--out", str(tmp_path / "x.h5")]) == 2
    assert capsys.readouterr().err.strip() == (
        "isingrbm generate: error: --temperatures must be distinct (to 6 decimals), got 2, 2")
    assert list(tmp_path.iterdir()) == []


def test_gan_fit_options_come_from_the_gan_table(tmp_path, capsys):
    import subprocess
    import sys

    from gan.hyperparameters import GAN_SETTINGS
    from isingrbm.cli import main
    from isingrbm.commands import gan as command

    rules = {row.setting: row.rule for row in _params.rows(command.FIT_OPTIONS)
             if row.rule is not None}
    assert rules["pack"] is GAN_SETTINGS["pack"]
    assert rules["label_smoothing"] is GAN_SETTINGS["label_smoothing"]
    assert main(["gan", "fit", str(tmp_path / "none.h5"), "-T", "2", "--out",
                 str(tmp_path / "g.pt"), "--label-smoothing", "0.5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "isingrbm gan fit: error: --label-smoothing must be a finite number > 0.5 and <= 1, "
        "got 0.5")
    assert list(tmp_path.iterdir()) == []
    # the table is built without PyTorch: the help stays fast
    code = ("import sys; from isingrbm.cli import build_parser; build_parser(); "
            "print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
