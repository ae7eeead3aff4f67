"""Output safety helpers shared by every subcommand."""

import os
import stat

import pytest

from isingrbm.commands import _common
from isingrbm.commands._common import atomic_output, check_output_path
from mccore.errors import InvalidParameterError, OutputExistsError


def test_atomic_output_moves_into_place_with_umask_permissions(tmp_path):
    target = tmp_path / "out.h5"
    with atomic_output(target) as tmp:
        tmp.write_text("payload")
    assert target.read_text() == "payload"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.h5"]


def test_atomic_output_leaves_existing_file_untouched_on_error(tmp_path):
    target = tmp_path / "out.h5"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half-written")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.h5"]


def test_check_output_path(tmp_path):
    existing = tmp_path / "a.h5"
    existing.write_text("x")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        check_output_path(existing)
    assert check_output_path(existing, overwrite=True) == existing
    with pytest.raises(InvalidParameterError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "b.h5")
    with pytest.raises(InvalidParameterError, match="directory"):
        check_output_path(tmp_path)


def test_check_output_path_refuses_an_input_also_through_a_symlink(tmp_path):
    data = tmp_path / "d.h5"
    data.write_text("data")
    link = tmp_path / "link.h5"
    link.symlink_to(data)
    for out in (data, link, tmp_path / "." / "d.h5"):
        with pytest.raises(InvalidParameterError, match="is the input file"):
            check_output_path(out, overwrite=True, inputs=[data])


def test_symlinked_output_is_written_through_and_the_link_kept(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.h5"
    target.write_text("old")
    link = tmp_path / "out.h5"
    link.symlink_to(target)
    assert check_output_path(link, overwrite=True) == target
    with atomic_output(link) as tmp:
        assert tmp.parent == target.parent  # the temporary file sits beside the target
        tmp.write_text("new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["out.h5"]


def test_dangling_symlink_output_creates_its_target(tmp_path):
    target = tmp_path / "new.h5"
    link = tmp_path / "link.h5"
    link.symlink_to(target)
    assert check_output_path(link) == target
    with atomic_output(link) as tmp:
        tmp.write_text("x")
    assert link.is_symlink() and target.read_text() == "x"


def test_integer_arguments_keep_every_digit_of_a_large_seed():
    from isingrbm.commands._common import integer, nonnegative_int

    big = 2**62 + 1  # not representable as a float
    assert nonnegative_int(str(big)) == big
    assert integer(str(-big)) == -big
    assert integer("1e9") == 10**9 and integer(" 7 ") == 7
    for bad in ("1.5", "inf", "nan", "x", "1e400"):
        with pytest.raises(Exception, match="integer"):
            integer(bad)


@pytest.mark.parametrize("convert, text, message", [
    (_common.positive_int, "0", "value must be an integer >= 1, got '0'"),
    (_common.positive_int, "2.5", "value must be an integer >= 1, got '2.5'"),
    (_common.positive_int, "many", "value must be an integer >= 1, got 'many'"),
    (_common.nonnegative_int, "-1", "value must be an integer >= 0, got '-1'"),
    (_common.integer, "x", "value must be an integer, got 'x'"),
    (_common.number, "x", "value must be a finite number, got 'x'"),
    (_common.positive_float, "0", "value must be a finite number > 0, got '0'"),
    (_common.positive_float, "nan", "value must be a finite number > 0, got 'nan'"),
    (_common.temperature, "-1", "temperature must be a finite number > 0, got '-1'"),
    (_common.temperature, "inf", "temperature must be a finite number > 0, got 'inf'"),
])
def test_argument_types_refuse_in_the_validation_format(convert, text, message):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError) as info:
        convert(text)
    assert str(info.value) == message


def test_argument_types_accept():
    assert _common.positive_int("1e3") == 1000 and _common.nonnegative_int("0") == 0
    assert _common.integer("-3") == -3
    assert _common.number("inf") == float("inf")        # the command checks the range
    assert _common.positive_float("2.5e-4") == 2.5e-4 and _common.temperature("2.269") == 2.269
    from isingrbm.commands import _params
    from mccore.validation import Rule

    bounded = _params.argument_type(Rule.integer(minimum=1, maximum=10), "steps")
    assert bounded("10") == 10
    with pytest.raises(Exception, match=r"^steps must be an integer in \[1, 10\], got '11'$"):
        bounded("11")
