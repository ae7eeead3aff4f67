"""Same seeds give bit-identical GAN models and samples as before gan/model.py
was split, and the model files written then still load.

(Named test_gan_bit_identical.py, not test_bit_identical.py: the suite has no
``__init__.py`` files, so two test modules of one basename would collide.)

The references (tests/data/bit_identical/) were made at b6ec560 by
``tests/data/bit_identical/make_references.py``; its docstring says how.
Bit patterns are tied to the library versions (and to one torch thread,
the default ``n_threads=1``), so the comparisons skip when numpy or torch
differ from the recorded ones.
"""

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from bit_identity import load_script, skip_unless_recorded_versions

import gan

REF = Path(__file__).resolve().parents[1] / "data" / "bit_identical"
# IsingGAN options added after the references were made, at the values that
# reproduce the models of then (distribution_matching's default is now 1)
ADDED_SINCE = {"pack": 1, "moment_matching": 0.0, "distribution_matching": 0.0,
               "matching_warmup": 0.0}
MANIFEST = json.loads((REF / "manifest.json").read_text())


refs = load_script(REF / "make_references.py")


def _same_versions():
    skip_unless_recorded_versions(MANIFEST["versions"], "numpy", "torch")


def _check(model, expected):
    assert refs.gan_digests(model) == expected["weights"]
    T = 2.2 if model.conditional else None
    samples = model.sample(refs.N_GAN_SAMPLES, rng=9, temperature=T)
    assert refs.digest(samples) == expected["samples"]
    assert {str(k): refs.digest(v) for k, v in model.history_["snapshots"].items()} == \
        expected["snapshots"]


@pytest.fixture(scope="module", params=sorted(refs.GAN_RUNS))
def fitted(request):
    name = request.param
    run = refs.GAN_RUNS[name]
    spins, temps = refs.gan_data(run.get("conditional", False))
    # the draw of then (a file of the independent draw has no "draw" entry)
    return name, gan.IsingGAN(**{**ADDED_SINCE, "draw": "independent", **run}).fit(spins, temps)


def test_fit_and_sample_are_bit_identical(fitted):
    _same_versions()
    name, model = fitted
    expected = MANIFEST["gan"][name]
    _check(model, expected)
    for key, values in expected["history"].items():
        assert model.history_[key] == values, key


def test_saved_model_round_trip_is_bit_identical(fitted, tmp_path):
    _same_versions()
    name, model = fitted
    model.save(tmp_path / "m.pt")
    _check(gan.IsingGAN.load(tmp_path / "m.pt"), MANIFEST["gan"][name])
    # the file's own entries too (JSON strings written in the same order)
    new = torch.load(tmp_path / "m.pt", weights_only=True)
    old = torch.load(REF / f"gan_{name}.pt", weights_only=True)
    assert sorted(new) == sorted(old)
    for key in ("format", "format_version", "metadata", "training_temperatures",
                "n_epochs_trained"):
        assert new[key] == old[key], key
    # hyperparameters: the old ones in the same order, plus the options added
    # since (with the values that reproduce the old model)
    params_new, params_old = json.loads(new["hyperparameters"]), json.loads(old["hyperparameters"])
    assert params_new == {**params_old, **ADDED_SINCE}
    assert [k for k in params_new if k not in ADDED_SINCE] == list(params_old)


@pytest.mark.parametrize("name", sorted(refs.GAN_RUNS))
def test_old_model_files_load(name):
    model = gan.IsingGAN.load(REF / f"gan_{name}.pt")
    run = refs.GAN_RUNS[name]
    assert model.seed_ == run["rng"] and model.n_epochs_trained_ == run["n_epochs"]
    assert model.get_params()["channels"] == run["channels"]
    assert model.pack == 1  # files from before packing: the plain discriminator
    # and from before the distribution term: without it, whatever today's default
    assert model.distribution_matching == 0.0
    expected = MANIFEST["gan"][name]
    # weights are stored tensors: they load bit for bit whatever the versions
    assert refs.gan_digests(model) == expected["weights"]
    for key, values in expected["history"].items():
        assert model.history_[key] == values, key
    _same_versions()
    _check(model, expected)
