"""``isingrbm gan fit|sample|plot`` in-process: files, schema, provenance,
resume, the conditioned model, refusals (exit 2, one stderr line, files
untouched), a full disk, help texts, missing torch."""

import json
import sys

import numpy as np
import pytest
from disk_full import FullDiskFile

pytest.importorskip("torch")

import ising
from isingrbm import cli

SMALL = ["--epochs", "2", "--channels", "4", "--latent-dim", "4", "--noise-channels", "1",
         "--batch-size", "16", "--quiet"]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    """A Monte Carlo dataset (ising.simulate) with 64 4 x 4 configurations at T = 2 and 3."""
    path = tmp_path_factory.mktemp("data") / "data.h5"
    ising.simulate(4, [2.0, 3.0], 64, rng=1, path=path)
    return path


@pytest.fixture(scope="module")
def rbm_file(tmp_path_factory):
    """RBM-generated samples (source 'rbm'): not training data for the GAN."""
    path = tmp_path_factory.mktemp("data") / "rbm.h5"
    rng = np.random.default_rng(3)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(64, 4, 4))
    ising.write_generated(path, spins, T=3.0, source="rbm", provenance={"note": "test"}, seed=3)
    return path


@pytest.fixture(scope="module")
def model_file(data_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "gan.pt"
    assert cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out", str(path),
                     "--seed", "1", *SMALL]) == 0
    return path


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_fit_sample_plot(data_file, tmp_path, capsys):
    model = tmp_path / "gan.pt"
    assert cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out", str(model),
                     "--seed", "1", "--json", *SMALL]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == 2 and summary["seed"] == 1 and summary["L"] == 4
    assert summary["status"] == "complete" and summary["health"] == []
    assert model.exists() and (tmp_path / "gan.pt.checkpoint").exists()

    out = tmp_path / "gen.h5"
    assert cli.main(["gan", "sample", str(model), "--samples", "50", "--out", str(out),
                     "--seed", "2", "--quiet"]) == 0
    ds = ising.load(out)
    assert ds.source == "gan" and ds.L == 4 and ds.temperatures == [3.0]
    ens = ds.ensemble(3.0)
    assert ens.spins.shape == (50, 4, 4)
    assert ens.attrs["model_file"] == str(model)
    assert len(ens.attrs["model_sha256"]) == 64
    out2 = tmp_path / "gen2.h5"
    cli.main(["gan", "sample", str(model), "--samples", "50", "--out", str(out2), "--seed", "2",
              "--quiet"])
    assert np.array_equal(ising.load(out2).ensemble(3.0).spins, ens.spins)

    figs = tmp_path / "fresh" / "figures"          # a folder that does not exist yet
    assert cli.main(["gan", "plot", str(model), "--out-dir", str(figs), "--quiet"]) == 0
    for name in ("losses.png", "training_samples.png", "latent_space.png"):
        assert (figs / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_conditioned_fit_and_sample_at_a_new_temperature(data_file, tmp_path, capsys):
    model = tmp_path / "cgan.pt"
    assert cli.main(["gan", "fit", str(data_file), "--all-temperatures", "--out", str(model),
                     "--seed", "1", "--json", *SMALL]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["conditional"] and summary["temperatures"] == [2.0, 3.0]
    out = tmp_path / "g.h5"
    assert cli.main(["gan", "sample", str(model), "--temperature", "2.6", "--samples", "40",
                     "--out", str(out), "--seed", "2", "--quiet"]) == 0
    ds = ising.load(out)
    assert ds.temperatures == [2.6] and ds.ensemble(2.6).spins.shape == (40, 4, 4)
    for extra in ([], ["--temperature", "3.5"]):
        code = cli.main(["gan", "sample", str(model), "--samples", "5", "--out",
                         str(tmp_path / "x.h5"), *extra])
        assert code == 2 and "temperature" in _one_error_line(capsys)
    assert not (tmp_path / "x.h5").exists()
    # several temperatures: one file, one group each, and the per-temperature table
    both = tmp_path / "both.h5"
    assert cli.main(["gan", "sample", str(model), "--temperature", "3", "2", "--samples", "40",
                     "--out", str(both), "--seed", "2", "--quiet"]) == 0
    ds = ising.load(both)
    assert ds.temperatures == [2.0, 3.0]
    assert not np.array_equal(ds.ensemble(2.0).spins, ds.ensemble(3.0).spins)
    capsys.readouterr()
    assert cli.main(["evaluate", str(data_file), str(both), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "T = 2 (" in table and "T = 3 (" in table and "GAN (n=40)" in table
    figs = tmp_path / "figs"
    assert cli.main(["gan", "plot", str(model), "--out-dir", str(figs), "--quiet",
                     "--temperature", "2.5"]) == 0
    assert (figs / "latent_space.png").exists()


def _assert_resumed_to_4_epochs_equals_4_epochs_at_once(data_file, a, b, args):
    """``gan fit --resume`` of MODEL ``a`` (fitted for 2 epochs with ``args``) to 4 epochs
    gives the model that 4 epochs at once give in ``b``."""
    args4 = [x if x != "2" else "4" for x in args]  # --epochs 4
    assert cli.main(["gan", "fit", str(data_file), "--out", str(a), "--resume", *args4]) == 0
    assert cli.main(["gan", "fit", str(data_file), "--out", str(b), *args4]) == 0
    import gan
    ma, mb = gan.IsingGAN.load(a), gan.IsingGAN.load(b)
    assert ma.n_epochs_trained_ == mb.n_epochs_trained_ == 4
    assert np.array_equal(ma.sample(30, rng=1), mb.sample(30, rng=1))


def test_resume_extends_training_identically(data_file, tmp_path, capsys):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    args = ["--temperature", "3", "--seed", "5", *SMALL]
    assert cli.main(["gan", "fit", str(data_file), "--out", str(a), *args]) == 0
    _assert_resumed_to_4_epochs_equals_4_epochs_at_once(data_file, a, b, args)


def test_resume_finds_the_checkpoint_of_an_older_version(data_file, tmp_path, capsys):
    """A run interrupted under the old name MODEL.ckpt resumes from it (to the same bits)."""
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    args = ["--temperature", "3", "--seed", "5", *SMALL]
    assert cli.main(["gan", "fit", str(data_file), "--out", str(a), *args]) == 0
    a.unlink()
    (tmp_path / "a.pt.checkpoint").rename(tmp_path / "a.pt.ckpt")   # as the old version kept it
    _assert_resumed_to_4_epochs_equals_4_epochs_at_once(data_file, a, b, args)
    code = cli.main(["gan", "fit", str(data_file), "--out", str(a), "--resume",
                     "--temperature", "3", "--seed", "6", *SMALL])
    assert code == 2 and "must match the interrupted run's seed 5" in _one_error_line(capsys)


def test_resume_before_first_checkpoint_starts_afresh(data_file, tmp_path, capsys):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    args = ["--temperature", "3", "--seed", "5", *SMALL]
    assert cli.main(["gan", "fit", str(data_file), "--out", str(a), "--resume", *args]) == 0
    assert cli.main(["gan", "fit", str(data_file), "--out", str(b), *args]) == 0
    import gan
    assert np.array_equal(gan.IsingGAN.load(a).sample(30, rng=1),
                          gan.IsingGAN.load(b).sample(30, rng=1))


def test_resume_of_a_finished_model_is_accepted(model_file, data_file, tmp_path, capsys):
    before = model_file.read_bytes()
    ckpt = model_file.with_name(model_file.name + ".checkpoint")
    args = ["gan", "fit", str(data_file), "--temperature", "3", "--out", str(model_file),
            "--resume", *SMALL]
    assert cli.main(args) == 0                         # with its checkpoint
    ckpt.rename(tmp_path / "kept.ckpt")
    assert cli.main(args) == 0                         # and without it
    assert model_file.read_bytes() == before
    (tmp_path / "kept.ckpt").rename(ckpt)


def test_refusals_exit_2_and_leave_files(data_file, rbm_file, model_file, tmp_path, capsys):
    model = tmp_path / "gan.pt"
    model.write_bytes(b"keep me")
    code = cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out", str(model),
                     *SMALL])
    assert code == 2 and "exists" in _one_error_line(capsys)
    assert model.read_bytes() == b"keep me"
    code = cli.main(["gan", "fit", str(data_file), "--temperature", "2.5", "--out",
                     str(tmp_path / "x.pt"), *SMALL])
    assert code == 2 and "2.5" in _one_error_line(capsys)
    code = cli.main(["gan", "sample", str(model), "--samples", "5", "--out",
                     str(tmp_path / "g.h5")])
    assert code == 2 and "gan.pt" in _one_error_line(capsys)
    assert not (tmp_path / "g.h5").exists()
    # RBM samples are not training data, as for 'isingrbm fit'
    code = cli.main(["gan", "fit", str(rbm_file), "--temperature", "3", "--out",
                     str(tmp_path / "r.pt"), *SMALL])
    assert code == 2 and "Monte Carlo" in _one_error_line(capsys)
    # more threads than CPUs
    code = cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out",
                     str(tmp_path / "t.pt"), "--threads", "1000", *SMALL])
    assert code == 2 and "--threads" in _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gan.pt"]


def test_output_equal_to_input_refused(model_file, data_file, capsys):
    before = model_file.read_bytes()
    code = cli.main(["gan", "sample", str(model_file), "--samples", "5", "--out",
                     str(model_file), "--overwrite"])
    assert code == 2 and "input" in _one_error_line(capsys)
    assert model_file.read_bytes() == before
    data_before = data_file.read_bytes()
    code = cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out",
                     str(data_file), "--overwrite", *SMALL])
    assert code == 2 and "input" in _one_error_line(capsys)
    assert data_file.read_bytes() == data_before


def test_huge_values_refused_up_front(data_file, model_file, tmp_path, capsys):
    code = cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out",
                     str(tmp_path / "m.pt"), "--latent-dim", "1e9", "--quiet"])
    assert code == 2 and "memory" in _one_error_line(capsys)
    code = cli.main(["gan", "sample", str(model_file), "--samples", "1e13", "--out",
                     str(tmp_path / "g.h5")])
    assert code == 2 and "memory" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_text_file_is_not_a_gan_model(tmp_path, capsys):
    text = tmp_path / "text.h5"
    text.write_text("just some text\n")
    for argv in (["gan", "sample", str(text), "--samples", "5", "--out", str(tmp_path / "o.h5")],
                 ["gan", "plot", str(text), "--out-dir", str(tmp_path / "figs")]):
        assert cli.main(argv) == 2
        assert "not a GAN model file" in _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text.h5"]


def test_full_disk_one_line_and_no_temporary_files(data_file, model_file, tmp_path, capsys,
                                                   monkeypatch):
    from gan import io as gan_io

    monkeypatch.setattr(gan_io, "open", FullDiskFile, raising=False)
    code = cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out",
                     str(tmp_path / "m.pt"), *SMALL])
    line = _one_error_line(capsys)
    assert code == 2 and "No space left on device" in line and "Traceback" not in line
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    # gan sample: refused before sampling when the file system cannot hold the output
    import shutil
    from collections import namedtuple
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**6, 10**6 - 100, 100))
    code = cli.main(["gan", "sample", str(model_file), "--samples", "1000", "--out",
                     str(tmp_path / "g.h5")])
    assert code == 2 and "No space left on device" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_plot_colours_black_is_plus_one(model_file, tmp_path):
    import gan
    from isingrbm.plots import gan as gan_plots
    model = gan.IsingGAN.load(model_file)
    fig = gan_plots.latent_exploration(model, rng=1)
    image = next(ax.images[0] for ax in fig.axes if ax.images)
    cmap, norm = image.get_cmap(), image.norm
    assert cmap(norm(1.0))[:3] == pytest.approx((0, 0, 0))     # +1 black
    assert cmap(norm(-1.0))[:3] == pytest.approx((1, 1, 1))    # -1 white
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "spin +1 (up)" in labels and "spin -1 (down)" in labels   # the one spin key
    gan_plots.close(fig)


def test_help_is_plain_text_without_private_documents(capsys):
    for argv in (["gan", "--help"], ["gan", "fit", "--help"], ["gan", "sample", "--help"],
                 ["gan", "plot", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        text = capsys.readouterr().out
        assert "``" not in text and ":class:" not in text and ":func:" not in text
        assert "DESIGN.md" not in text and "REFERENCES.md" not in text


def test_missing_torch_one_line_exit_2(monkeypatch, data_file, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    code = cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out",
                     str(tmp_path / "m.pt"), *SMALL])
    assert code == 2
    line = _one_error_line(capsys)
    assert line.startswith("isingrbm gan fit: error:") and "pip install 'torch>=2.3'" in line
    assert not (tmp_path / "m.pt").exists()
