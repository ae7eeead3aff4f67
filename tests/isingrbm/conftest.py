"""Fixtures of the isingrbm tests (helpers in cli_helpers.py)."""

import pytest
from cli_helpers import exact_dataset


@pytest.fixture
def data_file(tmp_path):
    """The shared L = 4 data (exact samples at T = 1.5 and 2.269); a module that
    needs other data defines its own ``data_file``."""
    return exact_dataset(tmp_path / "data.h5")
