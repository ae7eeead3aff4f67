"""A full disk: one line ``isingrbm <cmd>: error: No space left on device (<path>)``,
exit status 2, no temporary files left, the last good checkpoint intact, and
no crash in HDF5's clean-up at exit (it used to end in a segmentation fault,
exit 139, after pages of h5py tracebacks)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ising.store import DatasetWriter, energy_magnetization
from isingrbm import cli

REPO = Path(__file__).resolve().parents[2]


def random_dataset(path: Path, *, L: int = 8, n: int = 200, T: float = 3.0) -> Path:
    rng = np.random.default_rng(0)
    spins = (2 * rng.integers(0, 2, (n, L, L)) - 1).astype(np.int8)
    E, M = energy_magnetization(spins)
    with DatasetWriter.create(path, L=L, source="monte-carlo") as w:
        w.add_group("T3", T=T, n_target=n, seed=0, algorithm="test")
        w.append("T3", spins, E, M)
        w.mark_complete("T3")
    return path


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --------------------------------------------------------------------------
# in-process: ENOSPC raised by the writers


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    # h5py raises HDF5 write failures as OSError/RuntimeError without errno
    RuntimeError("Can't decrement id ref count (file write failed: time = x, filename = "
                 "'{tmp}', file descriptor = 3, errno = 28, error message = 'No space left "
                 "on device', buf = 0x0)"),
], ids=["oserror", "h5py-runtimeerror"])
def test_fit_disk_full_is_one_line(tmp_path, capsys, monkeypatch, error):
    import rbm

    data = random_dataset(tmp_path / "d.h5", L=4, n=50)
    out = tmp_path / "m.h5"
    real_save = rbm.save

    def full_save(model, path, **kwargs):
        if Path(path).name.startswith(".m.h5."):      # the final model, not a checkpoint
            Path(path).write_bytes(b"partial")
            if isinstance(error, OSError):
                raise OSError(error.errno, error.strerror, str(path))
            raise RuntimeError(str(error).format(tmp=path))
        return real_save(model, path, **kwargs)

    monkeypatch.setattr(rbm, "save", full_save)
    code = cli.main(["fit", str(data), "--temperature", "3", "--hidden", "2", "--epochs", "1",
                     "--out", str(out), "--seed", "1", "--quiet"])
    assert code == 2
    assert one_line(capsys.readouterr().err) == (
        f"isingrbm fit: error: No space left on device ({out})")
    # the temporary file is gone; the checkpoint of the finished training is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.h5", "m.h5.checkpoint"]


def test_other_runtime_errors_keep_their_traceback(tmp_path, monkeypatch):
    parser = cli.build_parser()

    def bug(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    for action in parser._actions:
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            action.choices["inspect"].set_defaults(func=bug)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["inspect", "x.h5"])


def test_temporary_names_are_shown_as_their_destination():
    assert cli._shown_path("/d/.m.h5.checkpoint.e28gfyjx.tmp") == "/d/m.h5.checkpoint"
    assert cli._shown_path("/d/m.h5") == "/d/m.h5"


# --------------------------------------------------------------------------
# a real full file system: a small tmpfs (needs root and mount permission)


@pytest.fixture
def small_tmpfs(tmp_path):
    def mount(size_bytes: int) -> Path:
        where = tmp_path / "full"
        where.mkdir()
        size = -(-size_bytes // 4096) * 4096
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                 str(where)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(where)
        return where

    mounted: list[Path] = []
    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], capture_output=True, check=False)


def run_cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "isingrbm", *argv], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300, check=False)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0,
                    reason="mounting a tmpfs needs root on Linux")
def test_fit_on_a_full_tmpfs_keeps_the_last_checkpoint(tmp_path, small_tmpfs):
    import rbm

    data = random_dataset(tmp_path / "d.h5")
    settings = ["--temperature", "3", "--hidden", "1000", "--epochs", "2", "--seed", "1",
                "--quiet"]
    # room for one checkpoint and half of the next: the second checkpoint write fails
    probe = rbm.BernoulliRBM(n_hidden=1000, n_epochs=1, rng=1)
    from ising.lattice import spins_to_visible
    from ising.store import load
    probe.fit(spins_to_visible(load(data).ensembles[0].spins),
              checkpoint=tmp_path / "probe.ckpt")
    full = small_tmpfs(int(1.5 * (tmp_path / "probe.ckpt").stat().st_size))

    result = run_cli("fit", str(data), *settings, "--out", str(full / "m.h5"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    line = one_line(result.stderr)
    assert line.startswith("isingrbm fit: error: No space left on device (")
    assert sorted(p.name for p in full.iterdir()) == ["m.h5.checkpoint"]   # no .tmp left

    # the last good checkpoint resumes where there is room, ending as an uninterrupted run
    room = tmp_path / "room"
    room.mkdir()
    (room / "m.h5.checkpoint").write_bytes((full / "m.h5.checkpoint").read_bytes())
    resumed = run_cli("fit", str(data), *settings, "--out", str(room / "m.h5"), "--resume",
                      cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    whole = run_cli("fit", str(data), *settings, "--out", str(room / "whole.h5"), cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    np.testing.assert_array_equal(rbm.load(room / "m.h5").weights,
                                  rbm.load(room / "whole.h5").weights)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0,
                    reason="mounting a tmpfs needs root on Linux")
def test_sample_on_a_full_tmpfs(tmp_path, small_tmpfs):
    data = random_dataset(tmp_path / "d.h5")
    model = tmp_path / "m.h5"
    fitted = run_cli("fit", str(data), "--temperature", "3", "--hidden", "8", "--epochs", "1",
                     "--seed", "1", "--quiet", "--out", str(model), cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    full = small_tmpfs(1 << 20)
    result = run_cli("sample", str(model), "--samples", "100000", "--steps", "2", "--seed", "1",
                     "--quiet", "--out", str(full / "s.h5"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    # either the up-front free-space check or the write itself refuses, in one line
    line = one_line(result.stderr)
    assert line.startswith("isingrbm sample: error: No space left on device"), line
    assert str(full / "s.h5") in line
    assert list(full.iterdir()) == []
