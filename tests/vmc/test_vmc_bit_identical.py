"""Same seeds, same numbers: VMC against reference results made before a restructuring.

``tests/data/make_vmc_reference.py`` (run on a clean export of 1a2a41f,
before issue 20 split ``vmc`` into ``vmc.trap`` and ``vmc.spins``) stored
fixed-seed results of the trap VMC (three sampler/optimizer/Jastrow
choices, one checkpointed run resumed and extended), of the TFIM VMC (chain
and square lattice, plain and symmetric RBM, SR and Adam, one resumed run)
and of the tomography trial state: energies, histories, parameters, local
energies, the ``--json`` summary and the printed summary. This test
recomputes the same scenarios with the current code and requires every
array to be identical bit for bit.

The references are tied to the numpy, numba, scipy and scikit-learn
versions they were made with (recorded in the file): under other versions
the test skips, saying which version differs. The physics itself is checked
against exact results by the other tests of this folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bit_identity import load_script, skip_unless_versions

_SCRIPT = Path(__file__).resolve().parents[1] / "data" / "make_vmc_reference.py"


def _reference_module():
    return load_script(_SCRIPT)


@pytest.fixture(scope="module")
def references():
    ref = _reference_module()
    stored, recorded = ref.unpack(ref.FILE)
    skip_unless_versions(recorded, ref.versions())
    return stored, ref.compute()


def test_every_reference_array_is_reproduced_bit_for_bit(references):
    stored, now = references
    assert sorted(now) == sorted(stored)
    for key, value in stored.items():
        got = now[key]
        assert got.dtype == value.dtype and got.shape == value.shape, key
        if value.dtype.kind == "f":
            assert np.array_equal(got.view(np.uint64 if value.itemsize == 8 else np.uint8),
                                  value.view(np.uint64 if value.itemsize == 8 else np.uint8)), key
        else:
            assert np.array_equal(got, value), key
