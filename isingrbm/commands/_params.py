"""Command-line options built from tables whose rules are the libraries' own.

A command declares its options as a table of :class:`Option` rows: the
flags, the help, and the :class:`mccore.validation.Rule` of the library
setting the option feeds, taken from that library's table (for example
:data:`vmc.settings.TRAP_SETTINGS`). :func:`add_options` turns a table
into argparse arguments whose type reads the text and checks it with the
library's rule, so each rule and its message exist once, in the library:

    isingrbm vmc: error: argument --particles: value must be an integer >= 1, got '0'

A help text may say ``{allowed}``: the rule's own words (``>= 1``,
``in [0.001, 1000]``) are put there, so the help cannot disagree with the
check. Checks across settings stay in the library (e.g.
:func:`vmc.trap.runner.check_trap_settings`); :func:`flag_message` puts
the flags into their messages.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass, field

from mccore.errors import InvalidParameterError
from mccore.validation import Rule

__all__ = ["REQUIRED", "Option", "add_options", "argument_type", "exclusive", "flag", "flag_message", "library_values", "option", "parse_int", "read_option", "rows"]

#: the ``fallback`` of an option that must be given when its group applies
REQUIRED = object()


@dataclass(frozen=True)
class Option:
    """One row of a command's option table.

    Attributes
    ----------
    flags : tuple of str
        ``("--size", "-L")``, or ``("data",)`` for a positional argument.
    help : str
        The help text; ``{allowed}`` becomes the rule's :attr:`~Rule.allowed`.
    rule : Rule or None
        The library's rule for the value (None: text, or a flag without value).
    setting : str or None
        The library keyword the option sets (its name in the library's
        messages, replaced by the flag in :func:`flag_message`).
    fallback : object
        For options whose default depends on another option (e.g. the
        system of ``isingrbm vmc``): the value the command fills in when the
        option's group applies and it was not given; :data:`REQUIRED`: it
        must be given then. The argparse default of such an option is None.
    kwargs : dict
        Further arguments of ``add_argument`` (metavar, default, nargs, ...).
    """

    flags: tuple
    help: str
    rule: Rule | None = None
    setting: str | None = None
    fallback: object = None
    kwargs: dict = field(default_factory=dict)

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments (argparse's rule: the first long flag)."""
        if "dest" in self.kwargs:
            return self.kwargs["dest"]
        long = [f for f in self.flags if f.startswith("--")] or list(self.flags)
        return long[0].lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Exclusive:
    """Rows of a table of which at most one may be given (exactly one if ``required``)."""

    rows: tuple
    required: bool = False


def exclusive(*rows: Option, required: bool = False) -> Exclusive:
    """A mutually exclusive group of rows, for a table."""
    return Exclusive(rows, required)


def option(*flags, help: str, rule: Rule | None = None, setting: str | None = None,
           fallback=None, **kwargs) -> Option:
    """An :class:`Option` row (``kwargs``: those of ``add_argument``)."""
    return Option(tuple(flags), help, rule, setting, fallback, kwargs)


def flag(name: str, help: str, *, setting: str | None = None) -> Option:
    """A row for an on/off flag (``store_true``)."""
    return Option((name,), help, setting=setting, kwargs={"action": "store_true"})


def rows(table):
    """The :class:`Option` rows of ``table``, those of its exclusive groups included."""
    for row in table:
        if isinstance(row, Exclusive):
            yield from rows(row.rows)
        else:
            yield row


def library_values(args, table, *, given: bool = False) -> dict:
    """The library keywords of ``table``'s options and their values in ``args``
    (``given``: only the options given, not None or False)."""
    values = {row.setting: getattr(args, row.dest) for row in rows(table)
              if row.setting is not None}
    return ({k: v for k, v in values.items() if v is not None and v is not False} if given
            else values)


def read_option(args, row: Option, rule: Rule):
    """The value of ``row``'s option in ``args``, given as text, read and checked by ``rule``
    (a library's rule), after parsing; a list for an option of several values, None if
    the option was not given.

    For a command whose rules live in a library too heavy to import for ``--help``
    (e.g. :data:`ising.settings.SIMULATE_SETTINGS`): the option is declared without a
    rule and read here, the refusal naming the flag:
    ``InvalidParameterError: --size must be an integer >= 2, got '1'``.
    """
    text = getattr(args, row.dest)
    if text is None:
        return None
    name = next((f for f in row.flags if f.startswith("--")), row.flags[0])
    read = argument_type(rule, name, error=InvalidParameterError)
    return [read(t) for t in text] if isinstance(text, list) else read(text)


def add_options(parser, table, *, check: bool = True) -> None:
    """Add the options of ``table`` to ``parser`` (or an argument group).

    ``check=False``: the values are only read as their kind (integer, number,
    text) and the command checks them after parsing, all at once with the
    library's check (whose messages :func:`flag_message` gives the flags),
    where a rule depends on other options (e.g. the system of ``isingrbm vmc``).
    """
    for row in table:
        if isinstance(row, Exclusive):
            group = parser.add_mutually_exclusive_group(required=row.required)
            add_options(group, row.rows, check=check)
            continue
        kwargs = dict(row.kwargs)
        help_text = row.help
        if row.rule is not None:
            kwargs["type"] = argument_type(row.rule, check=check)
            help_text = help_text.replace("{allowed}", row.rule.allowed)
            if row.rule.kind == "choice":
                kwargs.setdefault("metavar", "{" + ",".join(map(str, row.rule.choices)) + "}")
        parser.add_argument(*row.flags, help=help_text, **kwargs)


def parse_int(text: str) -> int | None:
    """``text`` as an exact integer (``"12"``, ``"1e9"``, ``"2.0"``), else None.

    Digits are read exactly (a 19-digit seed keeps every digit); other forms
    go through float and must be finite and whole.
    """
    try:
        return int(text.strip())
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


#: what reading a text as each kind of value refuses (a choice reads any text)
_READ = {"integer": Rule.integer(), "number": Rule.number()}


def argument_type(rule: Rule | None, name: str = "value", *, check: bool = True,
                  error=argparse.ArgumentTypeError):
    """An argparse type: the text read as the rule's kind and checked by ``rule``.

    Parameters
    ----------
    rule : Rule or None
        The library's rule; None: a number read as it is (inf and nan
        included; the command checks it).
    name : str
        The name in the message (argparse adds the flag before it).
    check : bool
        False: only read the text as the rule's kind (the command checks the
        value later with the library; see :func:`add_options`).
    error : exception class
        Raised with the message (argparse's type error by default; a command
        that reads a flag after parsing passes ``InvalidParameterError``).

    The refusal is the rule's message with the text as typed:
    ``argument --epochs: value must be an integer >= 1, got '0'``.
    """
    kind = "number" if rule is None else rule.kind
    parse = {"integer": parse_int, "number": _parse_float}.get(kind, str)
    read_only = rule is None or not check

    def convert(text: str):
        value = parse(text)
        if value is not None and read_only:
            return value
        try:
            # an unreadable text is handed over as it is: the rule refuses it in its words
            return (_READ[kind] if read_only else rule).check(
                name, text if value is None else value)
        except InvalidParameterError as exc:
            message = str(exc).rsplit(", got ", 1)[0]
            raise error(f"{message}, got {text!r}") from None

    convert.__name__ = kind if rule is None else f"{kind}_{name}"
    return convert


def flag_message(exc: InvalidParameterError, tables) -> InvalidParameterError:
    """``exc`` (from a library's check) with its setting names replaced by the flags
    of ``tables`` (``jastrow 'pade' needs ...`` -> ``--jastrow 'pade' needs ...``)."""
    message = str(exc)
    for table in tables:
        for row in rows(table):
            if row.setting is not None:
                flag = next(f for f in row.flags if f.startswith("--"))
                message = re.sub(rf"(?<![\w-]){re.escape(row.setting)}(?= '| \d| must)", flag,
                                 message)
    return InvalidParameterError(message)
