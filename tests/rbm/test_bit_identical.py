"""Same seeds, same numbers: the RBMs against reference files made before a restructuring.

``tests/data/make_rbm_reference.py`` (run at b6ec560, before issue 20's
training-state restructuring) stored fixed-seed results of both RBMs: fitted
parameters, persistent chains and history of every method (cd, pcd, pt) and
optimizer (adam, sgd), samples, Gibbs steps, a checkpointed run resumed and
extended, partial_fit, initialize and AIS. This test recomputes the same
scenarios with the current code and requires every array to be identical
bit for bit.

The references are tied to the numpy, numba, scipy and scikit-learn versions
they were made with (recorded in the files): floating-point results depend
on BLAS, SIMD ufuncs and compiled kernels, so under other versions the test
skips, saying which version differs. It guards refactorings on this
machine; the version-independent checks of the physics are the other tests
(exact likelihoods, detailed balance, Ising observables).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_SCRIPT = Path(__file__).resolve().parents[1] / "data" / "make_rbm_reference.py"


def _reference_module():
    spec = importlib.util.spec_from_file_location("make_rbm_reference", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def references():
    ref = _reference_module()
    stored, recorded = {}, None
    for path in ref.FILES.values():
        arrays, recorded = ref.unpack(path)
        stored.update(arrays)
    current = ref.versions()
    if recorded != current:
        diff = ", ".join(f"{k} {recorded.get(k)} (now {current.get(k)})"
                         for k in sorted(set(recorded) | set(current))
                         if recorded.get(k) != current.get(k))
        pytest.skip(f"the reference bit patterns were made with other library versions: {diff}")
    return stored, ref.compute()


def test_every_reference_array_is_reproduced_bit_for_bit(references):
    stored, now = references
    assert sorted(now) == sorted(stored)
    differ = [key for key in stored
              if not (now[key].dtype == stored[key].dtype and now[key].shape == stored[key].shape
                      and now[key].tobytes() == stored[key].tobytes())]
    assert not differ, f"{len(differ)} of {len(stored)} arrays changed, e.g. {differ[:8]}"
