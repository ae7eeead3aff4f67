"""mccore.validation: one message format, memory estimates."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from mccore.errors import InvalidParameterError
from mccore.validation import (check_bool, check_choice, check_float, check_input_file,
                               check_int, check_memory, check_positive_number, format_bytes)


def test_messages_name_the_allowed_set_and_the_value():
    with pytest.raises(InvalidParameterError, match=r"^L must be an integer >= 2, got 1$"):
        check_int("L", 1, minimum=2)
    with pytest.raises(InvalidParameterError, match=r"k must be an integer in \[1, 3\], got 4"):
        check_int("k", 4, minimum=1, maximum=3)
    with pytest.raises(InvalidParameterError, match=r"T must be a finite number > 0, got 0.0"):
        check_float("T", 0, minimum=0, strict_min=True)
    with pytest.raises(InvalidParameterError, match="method must be one of 'cd', 'pcd'"):
        check_choice("method", "x", ("cd", "pcd"))


@given(st.one_of(st.booleans(), st.floats(), st.text(), st.none()))
def test_check_int_refuses_every_non_integer(value):
    with pytest.raises(InvalidParameterError):
        check_int("n", value)


def test_numpy_scalars_are_accepted_and_converted():
    assert check_int("n", np.int64(4)) == 4 and type(check_int("n", np.int64(4))) is int
    assert check_float("x", np.float32(0.5)) == 0.5
    assert check_bool("flag", np.bool_(True)) is True


@pytest.mark.parametrize("value", ["inf", float("nan"), -1, 0, "abc", True])
def test_check_positive_number_refuses(value):
    with pytest.raises(InvalidParameterError):
        check_positive_number("T", value)


def test_check_input_file(tmp_path):
    with pytest.raises(InvalidParameterError, match="does not exist"):
        check_input_file(tmp_path / "missing.h5")
    with pytest.raises(InvalidParameterError, match="not a regular file"):
        check_input_file(tmp_path)
    f = tmp_path / "a.h5"
    f.write_bytes(b"x")
    assert check_input_file(f) == f


def test_check_memory_refuses_more_than_the_machine_has():
    with pytest.raises(InvalidParameterError, match=r"--samples 1e15 needs about .* of memory"):
        check_memory("--samples 1e15", 1e15 * 256)
    with pytest.raises(InvalidParameterError):
        check_memory("inf", float("inf"))
    check_memory("a small array", 1024)


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 2**30) == "3.0 GiB"
