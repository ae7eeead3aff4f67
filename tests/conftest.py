"""Shared pytest fixtures: a seeded ``rng`` (no global seeding anywhere)."""

import numpy as np
import pytest

#: The seed of the shared ``rng`` fixture; tests needing others derive them.
SEED = 20240611


@pytest.fixture
def rng():
    """A fresh ``numpy.random.Generator`` seeded with :data:`SEED`."""
    return np.random.default_rng(SEED)


@pytest.fixture
def out_path(tmp_path):
    """A not-yet-existing file path in a fresh temporary folder."""
    return tmp_path / "out.h5"


def _hdf5_content(path):
    """Every dataset and attr of an HDF5 file except the creation time."""
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            attrs = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                     for k, v in obj.attrs.items() if k != "created"}
            out[name] = (attrs, obj[()].tobytes() if isinstance(obj, h5py.Dataset) else None)
        visit("/", f)
        f.visititems(visit)
    return out


@pytest.fixture
def hdf5_content():
    """``hdf5_content(path) -> dict``: compare two files' content, creation time aside."""
    return _hdf5_content


@pytest.fixture
def foreign_files(tmp_path):
    """``(text, other)``: ``notes.h5``, a text file, not HDF5; ``other.h5``, an HDF5
    file of another format (root attr ``format='isingrbm-rbm'``, nothing else)."""
    import h5py

    text = tmp_path / "notes.h5"
    text.write_text("not hdf5 at all")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "isingrbm-rbm"
    return text, other
