"""isingrbm.pipeline: the fit -> sample -> evaluate steps and their provenance.

A small Monte Carlo dataset (L = 4, two temperatures) is made once per module;
the RBMs are tiny (8 hidden units, 3 epochs): these tests check what the steps
write and that they are reproducible, not how well the model learns (that is
rbm's and the demo's business).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from isingrbm import pipeline
from mccore.errors import InvalidParameterError

SEED = 20261202
SETTINGS = {"n_hidden": 8, "n_epochs": 3, "batch_size": 32}


@pytest.fixture(scope="module")
def data_path(tmp_path_factory):
    import ising

    path = tmp_path_factory.mktemp("pipeline") / "L4.h5"
    ising.simulate(4, [2.269, 3.5], 300, rng=SEED, path=path)
    return path


@pytest.fixture(scope="module")
def fitted(data_path, tmp_path_factory):
    _, ens = pipeline.training_data(data_path, temperature=2.269)
    out = tmp_path_factory.mktemp("fit") / "m.h5"
    return pipeline.fit_rbm(data_path, ens, SETTINGS, out=out, seed=7), ens


def test_fit_writes_the_model_with_its_provenance(fitted, data_path):
    import rbm
    from ising.lattice import spins_to_visible
    from rbm.bernoulli import data_hash

    result, ens = fitted
    model = rbm.load(result.path)
    meta = model.metadata_
    assert meta["data_file"] == str(data_path.resolve())
    assert meta["temperature"] == pytest.approx(2.269) and meta["phase"] == "critical"
    assert meta["data_hash"] == data_hash(spins_to_visible(ens.spins))
    assert meta["seed"] == 7 and meta["L"] == 4 and meta["n_samples"] == ens.n_samples
    assert meta["encoding"] == pipeline.ENCODING
    for old in ("T", "data", "demo_seed", "isingrbm_version"):
        assert old not in meta
    np.testing.assert_array_equal(model.weights, result.model.weights)
    assert not pipeline.checkpoint_path(result.path).exists()


def test_fit_is_reproducible_from_the_recorded_seed(fitted, data_path, tmp_path):
    import rbm

    result, ens = fitted
    again = pipeline.fit_rbm(data_path, ens, SETTINGS, out=tmp_path / "again.h5",
                             seed=rbm.load(result.path).metadata_["seed"])
    np.testing.assert_array_equal(again.model.weights, result.model.weights)
    other = pipeline.fit_rbm(data_path, ens, SETTINGS, out=tmp_path / "other.h5", seed=8)
    assert not np.array_equal(other.model.weights, result.model.weights)


def test_training_data_refusals(data_path, tmp_path):
    import ising

    with pytest.raises(InvalidParameterError, match="exactly one"):
        pipeline.training_data(data_path)
    with pytest.raises(InvalidParameterError, match="temperature must be one of"):
        pipeline.training_data(data_path, temperature=1.0)
    generated = tmp_path / "g.h5"
    ising.write_generated(generated, np.ones((3, 4, 4), np.int8), T=2.269, source="rbm")
    with pytest.raises(InvalidParameterError, match="Monte Carlo dataset"):
        pipeline.training_data(generated, temperature=2.269)


def test_sample_writes_spins_with_the_model_provenance(fitted, tmp_path):
    import ising

    result, _ = fitted
    out = tmp_path / "s.h5"
    drawn = pipeline.sample_rbm(result.path, n_samples=50, out=out, seed=3, n_steps=20)
    ens = ising.load(out).ensembles[0]
    np.testing.assert_array_equal(ens.spins, drawn.spins)
    assert ens.T == pytest.approx(2.269) and ising.load(out).source == "rbm"
    attrs = ens.attrs
    assert attrs["model_hash"] == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert attrs["model_file"] == str(result.path.resolve())
    assert attrs["data_hash"] == result.metadata["data_hash"]
    assert attrs["data_file"] == result.metadata["data_file"]
    assert int(attrs["seed"]) == 3 and int(attrs["n_steps"]) == 20
    again = pipeline.sample_rbm(result.path, n_samples=50, out=tmp_path / "t.h5", seed=3,
                                n_steps=20)
    np.testing.assert_array_equal(again.spins, drawn.spins)
    with pytest.raises(InvalidParameterError, match="training temperature"):
        pipeline.sample_rbm(result.path, n_samples=5, out=tmp_path / "u.h5", seed=3,
                            temperature=3.5)
    assert not (tmp_path / "u.h5").exists()


def test_sample_from_data_starts_checks_the_data_hash(fitted, tmp_path):
    result, _ = fitted
    drawn = pipeline.sample_rbm(result.path, n_samples=10, out=tmp_path / "d.h5", seed=4,
                                n_steps=5, init="data")
    assert drawn.provenance["init"] == "data"
    meta = dict(result.metadata, data_hash="0" * 40)
    with pytest.raises(InvalidParameterError, match="hash differs"):
        pipeline.initial_units(meta, result.path)


def test_evaluate_seeds_are_recorded_and_keyed_by_temperature(fitted, data_path, tmp_path):
    """None = fresh entropy, recorded; the recorded seed reproduces the tables; a
    temperature's table does not depend on which other temperatures are compared."""
    import ising

    result, _ = fitted
    data = ising.load(data_path)
    pipeline.sample_rbm(result.path, n_samples=60, out=tmp_path / "a.h5", seed=1, n_steps=5)
    generated = {"RBM": ising.load(tmp_path / "a.h5")}
    first = pipeline.evaluate_datasets(data, generated, free_energies=False)
    assert isinstance(first["seed"], int)
    (table,) = first["tables"]
    assert table["T"] == pytest.approx(2.269) and table["seed"] == first["seed"]
    again = pipeline.evaluate_datasets(data, generated, seed=first["seed"],
                                       free_energies=False)
    assert again["tables"][0]["distance"] == table["distance"]
    # the same comparison beside a second temperature: unchanged
    ising.write_generated(tmp_path / "b.h5", data.ensemble(3.5).spins[:40], T=3.5,
                          source="rbm")
    both = pipeline.evaluate_datasets(
        data, {"RBM": generated["RBM"], "other": ising.load(tmp_path / "b.h5")},
        seed=first["seed"], free_energies=False)
    assert [t["T"] for t in both["tables"]] == pytest.approx([2.269, 3.5])
    assert both["tables"][0]["distance"] == table["distance"]


def test_evaluate_refuses_a_temperature_the_data_lacks(data_path, tmp_path):
    import ising

    ising.write_generated(tmp_path / "c.h5", np.ones((5, 4, 4), np.int8), T=1.5, source="rbm")
    with pytest.raises(InvalidParameterError, match="T = 1.5 is not in"):
        pipeline.evaluate_datasets(ising.load(data_path), {"RBM": ising.load(tmp_path / "c.h5")})


def test_monte_carlo_rows_hold_exact_values(data_path):
    import ising
    from ising import exact

    rows = pipeline.monte_carlo_rows(ising.load(data_path))
    assert [r["temperature"] for r in rows] == pytest.approx([2.269, 3.5])
    for r in rows:
        assert r["exact_finite"]["energy"] == pytest.approx(
            float(exact.finite_lattice(4, r["temperature"])["energy"]), rel=1e-12)
        assert set(r["observables"]) >= {"energy", "specific_heat", "abs_magnetization"}


def test_resolve_seed():
    assert pipeline.resolve_seed(5) == 5
    fresh = {pipeline.resolve_seed(None) for _ in range(3)}
    assert len(fresh) == 3 and all(0 <= s < 2**63 for s in fresh)
    with pytest.raises(InvalidParameterError):
        pipeline.resolve_seed(-2)


def test_outputs_are_written_through_a_symlink(fitted, data_path, tmp_path):
    """The rule of every command: a symlinked output is written through, the link stays."""
    import ising
    import rbm

    result, ens = fitted
    target, link = tmp_path / "target.h5", tmp_path / "link.h5"
    target.write_bytes(b"old")
    link.symlink_to(target)
    pipeline.fit_rbm(data_path, ens, SETTINGS, out=link, seed=7)
    assert link.is_symlink() and rbm.load(target).metadata_["seed"] == 7
    samples, slink = tmp_path / "samples.h5", tmp_path / "slink.h5"
    samples.write_bytes(b"old")
    slink.symlink_to(samples)
    pipeline.sample_rbm(result.path, n_samples=5, out=slink, seed=2, n_steps=3, overwrite=True)
    assert slink.is_symlink() and ising.load(samples).ensembles[0].n_samples == 5


def test_interrupted_fit_writes_nothing_and_resumes_exactly(fitted, data_path, tmp_path,
                                                             monkeypatch):
    """Ctrl-C during training: no model file (a partial model must not pass for a
    finished one), the checkpoint is kept, and resume=True ends bit for bit where
    the uninterrupted fit ends."""
    import rbm
    from rbm.epochs import RECIPES

    result, ens = fitted
    recipe = RECIPES["bernoulli"]
    original, calls = recipe.epoch, []

    def interrupted(*a, **k):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return original(*a, **k)

    out = tmp_path / "m.h5"
    monkeypatch.setattr(recipe, "epoch", staticmethod(interrupted))
    stopped = pipeline.fit_rbm(data_path, ens, SETTINGS, out=out, seed=7, resume=True)
    monkeypatch.setattr(recipe, "epoch", staticmethod(original))
    assert stopped.interrupted and not out.exists()
    assert pipeline.checkpoint_path(out).exists()
    resumed = pipeline.fit_rbm(data_path, ens, SETTINGS, out=out, seed=7, resume=True)
    assert not resumed.interrupted and out.exists()
    assert not pipeline.checkpoint_path(out).exists()
    np.testing.assert_array_equal(rbm.load(out).weights, result.model.weights)


GAN_SETTINGS = {"latent_dim": 4, "noise_channels": 1, "channels": 4, "n_epochs": 2,
                "batch_size": 16}


def test_gan_fit_and_sample_go_the_rbm_way(data_path, tmp_path):
    """fit_gan writes the model with its data's provenance and keeps the checkpoint
    (OUT.checkpoint); a resume takes the checkpoint's seed; sample_gan writes a gan dataset."""
    pytest.importorskip("torch")
    import gan
    import ising

    dataset, ensembles = pipeline.gan_training_data(data_path, temperature=3.5)
    assert [e.T for e in ensembles] == [3.5]
    out = tmp_path / "g.pt"
    fitted = pipeline.fit_gan(data_path, dataset.L, ensembles, GAN_SETTINGS, out=out, seed=3)
    assert not fitted.interrupted and fitted.checkpoint == tmp_path / "g.pt.checkpoint"
    assert fitted.checkpoint.exists()
    model = gan.IsingGAN.load(out)
    assert model.seed_ == 3 and model.n_epochs_trained_ == 2
    assert model.metadata_["T"] == 3.5 and model.metadata_["n_training"] == 300
    assert model.metadata_["data_sha256"] == pipeline.file_hash(data_path)
    assert pipeline.gan_seed(fitted.checkpoint, None, resume=True) == 3
    assert pipeline.gan_seed(fitted.checkpoint, 4, resume=False) == 4
    with pytest.raises(InvalidParameterError, match="interrupted run's seed 3"):
        pipeline.gan_seed(fitted.checkpoint, 4, resume=True)
    drawn = pipeline.sample_gan(out, n_samples=12, out=tmp_path / "gs.h5", seed=5)
    written = ising.load(tmp_path / "gs.h5")
    assert written.source == "gan" and written.temperatures == [3.5]
    assert np.array_equal(written.ensemble(3.5).spins, drawn.samples[3.5])
    assert written.ensemble(3.5).attrs["model_sha256"] == pipeline.file_hash(out)
    with pytest.raises(InvalidParameterError, match="only for a temperature-conditioned"):
        pipeline.sample_gan(out, n_samples=2, out=tmp_path / "x.h5", seed=1, temperatures=[3])
    with pytest.raises(InvalidParameterError, match="must be a Monte Carlo dataset"):
        pipeline.gan_training_data(tmp_path / "gs.h5", temperature=3.5)
    from mccore.errors import OutputExistsError
    with pytest.raises(OutputExistsError, match="exists"):
        pipeline.sample_gan(out, n_samples=2, out=tmp_path / "gs.h5", seed=1)
    pipeline.sample_gan(out, n_samples=2, out=tmp_path / "gs.h5", seed=1, overwrite=True)
    assert ising.load(tmp_path / "gs.h5").ensemble(3.5).n_samples == 2
