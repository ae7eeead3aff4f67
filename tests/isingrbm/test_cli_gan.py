"""``isingrbm gan fit|sample|plot`` in-process: files, schema, provenance,
resume, refusals (exit 2, one stderr line, files untouched), missing torch."""

import json
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

import ising  # noqa: E402
from isingrbm import cli  # noqa: E402

SMALL = ["--epochs", "2", "--channels", "4", "--latent-dim", "4", "--noise-channels", "1",
         "--batch-size", "16", "--quiet"]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    """A dataset file (made by the ising store) with 64 random 4 x 4 configurations at T = 3."""
    path = tmp_path_factory.mktemp("data") / "data.h5"
    rng = np.random.default_rng(3)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(64, 4, 4))
    ising.write_generated(path, spins, T=3.0, source="rbm", provenance={"note": "test data"},
                          seed=3)
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
    assert model.exists() and (tmp_path / "gan.pt.ckpt").exists()

    out = tmp_path / "gen.h5"
    assert cli.main(["gan", "sample", str(model), "--samples", "50", "--out", str(out),
                     "--seed", "2", "--quiet"]) == 0
    ds = ising.load(out)
    assert ds.source == "gan" and ds.L == 4 and ds.temperatures == [3.0]
    ens = ds.ensemble(3.0)
    assert ens.spins.shape == (50, 4, 4)
    assert ens.attrs["model_file"] == str(model)
    assert len(ens.attrs["model_sha256"]) == 64
    # the same seed gives the same file contents
    out2 = tmp_path / "gen2.h5"
    cli.main(["gan", "sample", str(model), "--samples", "50", "--out", str(out2), "--seed", "2",
              "--quiet"])
    assert np.array_equal(ising.load(out2).ensemble(3.0).spins, ens.spins)

    figs = tmp_path / "figs"
    figs.mkdir()
    assert cli.main(["gan", "plot", str(model), "--out-dir", str(figs), "--quiet"]) == 0
    for name in ("losses.png", "training_samples.png", "latent_space.png"):
        assert (figs / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_extends_training_identically(data_file, tmp_path, capsys):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    args = ["--temperature", "3", "--seed", "5", *SMALL]
    assert cli.main(["gan", "fit", str(data_file), "--out", str(a), *args]) == 0
    args4 = [x if x != "2" else "4" for x in args]  # --epochs 4
    assert cli.main(["gan", "fit", str(data_file), "--out", str(a), "--resume", *args4]) == 0
    assert cli.main(["gan", "fit", str(data_file), "--out", str(b), *args4]) == 0
    import gan
    ma, mb = gan.IsingGAN.load(a), gan.IsingGAN.load(b)
    assert ma.n_epochs_trained_ == mb.n_epochs_trained_ == 4
    assert np.array_equal(ma.sample(30, seed=1), mb.sample(30, seed=1))


def test_refusals_exit_2_and_leave_files(data_file, tmp_path, capsys):
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


def test_missing_torch_one_line_exit_2(monkeypatch, data_file, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    code = cli.main(["gan", "fit", str(data_file), "--temperature", "3", "--out",
                     str(tmp_path / "m.pt"), *SMALL])
    assert code == 2
    line = _one_error_line(capsys)
    assert line.startswith("isingrbm gan fit: error:") and 'pip install "isingrbm[gan]"' in line
    assert not (tmp_path / "m.pt").exists()
