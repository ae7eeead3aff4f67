"""Commands that write into a folder (``evaluate --plots DIR``, ``gan plot --out-dir
DIR``): the folder is checked before anything is computed, created only when
a figure is written into it, and removed again when the command fails
before writing anything (a full disk leaves no empty folder behind)."""

from __future__ import annotations

import os

import pytest
from cli_helpers import one_error_line
from disk_full import raise_enospc

from isingrbm import cli


def test_evaluate_unwritable_plots_folder_is_refused_before_computing(tmp_path, data_file,
                                                                      capsys, monkeypatch):
    """Issue 19: ``--plots /readonly/figs`` printed the whole table, then failed."""
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **k: (
        False if os.fspath(path) == os.fspath(readonly) else real_access(path, mode, **k)))
    assert cli.main(["evaluate", str(data_file), "--plots", str(readonly / "figs"),
                     "--seed", "1"]) == 2
    line = one_error_line(capsys, "--plots", "not writable")
    assert capsys.readouterr().out == ""       # nothing was computed or printed
    assert list(readonly.iterdir()) == [], line
    for bad, fragment in ((data_file, "not a folder"),
                          (tmp_path / "missing" / "figs", "does not exist")):
        assert cli.main(["evaluate", str(data_file), "--plots", str(bad)]) == 2
        one_error_line(capsys, fragment)


def test_evaluate_plots_on_a_full_disk_leave_no_empty_folder(tmp_path, data_file, capsys,
                                                            monkeypatch):
    from isingrbm.commands import evaluate

    monkeypatch.setattr(evaluate, "_save", raise_enospc)
    figs = tmp_path / "figs"
    assert cli.main(["evaluate", str(data_file), "--plots", str(figs), "--seed", "1",
                     "--quiet"]) == 2
    one_error_line(capsys, "No space left on device")
    assert not figs.exists()
    (tmp_path / "kept").mkdir()                # a folder the user made is never removed
    assert cli.main(["evaluate", str(data_file), "--plots", str(tmp_path / "kept"),
                     "--seed", "1", "--quiet"]) == 2
    one_error_line(capsys, "No space left on device")
    assert (tmp_path / "kept").is_dir()


def test_gan_plot_on_a_full_disk_leaves_no_empty_folders(tmp_path, capsys, monkeypatch):
    pytest.importorskip("torch")
    import matplotlib.figure

    import ising

    data = tmp_path / "d.h5"
    ising.simulate(4, [3.0], 64, rng=1, path=data)
    model = tmp_path / "gan.pt"
    assert cli.main(["gan", "fit", str(data), "--temperature", "3", "--out", str(model),
                     "--seed", "1", "--epochs", "1", "--channels", "4", "--latent-dim", "4",
                     "--noise-channels", "1", "--batch-size", "16", "--quiet"]) == 0
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", raise_enospc)
    figs = tmp_path / "new" / "figs"
    assert cli.main(["gan", "plot", str(model), "--out-dir", str(figs), "--quiet"]) == 2
    one_error_line(capsys, "No space left on device")
    assert not (tmp_path / "new").exists()     # both folders it created are gone
