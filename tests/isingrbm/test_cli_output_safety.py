"""Output safety of ``fit`` and ``evaluate`` through ``cli.main``: an output
that is an input is refused, a symlinked output is written through (link
kept), and checkpoints are handled on resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ising import exact as ising_exact
from ising.store import DatasetWriter, energy_magnetization
from isingrbm import cli

L = 4


def exact_dataset(path: Path, temperatures=(2.269,), n=200, seed=7) -> Path:
    """A small Monte-Carlo-schema file of exact, independent L = 4 samples."""
    rng = np.random.default_rng(seed)
    with DatasetWriter.create(path, L=L, source="monte-carlo") as w:
        for T in temperatures:
            p = ising_exact.boltzmann_distribution(L, T)
            idx = rng.choice(p.size, size=n, p=p)
            spins = (2 * ((idx[:, None] >> np.arange(L * L)) & 1) - 1).astype(np.int8)
            spins = spins.reshape(n, L, L)
            E, M = energy_magnetization(spins)
            key = f"T{T:.6g}"
            w.add_group(key, T=T, n_target=n, seed=seed, algorithm="exact-sampling")
            w.append(key, spins, E, M)
            w.mark_complete(key)
    return path


def one_error_line(capsys, *fragments) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error:" in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def snapshot(*paths):
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


@pytest.fixture
def data_file(tmp_path):
    return exact_dataset(tmp_path / "data.h5", temperatures=(2.269,), n=200)


def fit_argv(data, out, *extra):
    return ["fit", str(data), "--temperature", "2.269", "--hidden", "2", "--epochs", "2",
            "--out", str(out), "--seed", "3", "--quiet", *extra]


@pytest.mark.parametrize("through_link", [False, True])
def test_fit_refuses_output_equal_to_data(tmp_path, data_file, capsys, through_link):
    before = snapshot(data_file)
    out = data_file
    if through_link:
        out = tmp_path / "alias.h5"
        out.symlink_to(data_file)
    assert cli.main(fit_argv(data_file, out, "--overwrite")) == 2
    one_error_line(capsys, "isingrbm fit:", "is the input file")
    assert snapshot(data_file) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["data.h5"] + (["alias.h5"] if through_link else []))


def test_fit_writes_through_a_symlinked_output(tmp_path, data_file, capsys):
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "m.h5"
    target.write_bytes(b"old")
    link = tmp_path / "m.h5"
    link.symlink_to(target)
    assert cli.main(fit_argv(data_file, link)) == 2      # exists: needs --overwrite
    one_error_line(capsys, "--overwrite")
    assert cli.main(fit_argv(data_file, link, "--overwrite")) == 0
    assert link.is_symlink() and link.resolve() == target
    assert target.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["m.h5"]


def test_evaluate_refuses_a_figure_path_that_is_an_input(tmp_path, capsys):
    figs = tmp_path / "figs"
    figs.mkdir()
    data = exact_dataset(figs / "observables_vs_T.png", temperatures=(2.269,), n=50)
    before = snapshot(data)
    assert cli.main(["evaluate", str(data), "--plots", str(figs), "--overwrite"]) == 2
    one_error_line(capsys, "isingrbm evaluate:", "is the input file")
    assert snapshot(data) == before
