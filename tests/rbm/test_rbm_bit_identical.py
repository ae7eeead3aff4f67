"""Same seeds, same numbers: the RBMs against reference files made before a restructuring.

``tests/data/make_rbm_reference.py`` (run at b6ec560, before issue 20's
training-state restructuring) stored fixed-seed results of both RBMs: fitted
parameters, persistent chains and history of every method (cd, pcd, pt) and
optimizer (adam, sgd), samples, Gibbs steps, a checkpointed run resumed and
extended, partial_fit, initialize and AIS. This test recomputes the same
scenarios with the current code and requires every array to be identical
bit for bit. A checkpoint written by b6ec560 itself
(``rbm_checkpoint_pt_sgd_b6ec560.h5``: parallel tempering with SGD, one of
two epochs, made by the script's scenario ``pt_sgd`` run with ``n_epochs=1``)
must resume to the very run that b6ec560 resumed.

The references are tied to the numpy, numba, scipy and scikit-learn versions
they were made with (recorded in the files): floating-point results depend
on BLAS, SIMD ufuncs and compiled kernels, so under other versions the test
skips, saying which version differs. It guards refactorings on this
machine; the version-independent checks of the physics are the other tests
(exact likelihoods, detailed balance, Ising observables).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bit_identity import load_script, skip_unless_versions

_DATA = Path(__file__).resolve().parents[1] / "data"
_SCRIPT = _DATA / "make_rbm_reference.py"
_OLD_CHECKPOINT = _DATA / "rbm_checkpoint_pt_sgd_b6ec560.h5"


def _reference_module():
    return load_script(_SCRIPT)


@pytest.fixture(scope="module")
def references():
    ref = _reference_module()
    stored, recorded = {}, None
    for path in ref.FILES.values():
        arrays, recorded = ref.unpack(path)
        stored.update(arrays)
    skip_unless_versions(recorded, ref.versions())
    return stored, ref.compute(), ref


def test_every_reference_array_is_reproduced_bit_for_bit(references):
    stored, now, _ = references
    assert sorted(now) == sorted(stored)
    differ = [key for key in stored
              if not (now[key].dtype == stored[key].dtype and now[key].shape == stored[key].shape
                      and now[key].tobytes() == stored[key].tobytes())]
    assert not differ, f"{len(differ)} of {len(stored)} arrays changed, e.g. {differ[:8]}"


def test_a_checkpoint_written_by_b6ec560_resumes_to_the_same_run(references, tmp_path):
    import rbm

    stored, _, ref = references
    checkpoint = tmp_path / "checkpoint.h5"
    shutil.copyfile(_OLD_CHECKPOINT, checkpoint)
    assert rbm.load(checkpoint).epochs_done_ == 1
    resumed = rbm.BernoulliRBM(**ref._BERNOULLI["pt_sgd"]).fit(
        ref._binary_data(), checkpoint=checkpoint, resume=True)
    for attr in ("weights", "visible_bias", "hidden_bias", "persistent_chains_"):
        expected = stored[f"pt_sgd/resumed/{attr}"]
        assert getattr(resumed, attr).tobytes() == expected.tobytes(), attr
    assert resumed.epochs_done_ == 2 and resumed.seed_ == 6
