"""``isingrbm generate`` / ``inspect`` under concurrency, bad derived values,
a full disk and symlinks: nothing a user owns is lost, every refusal is one
line with exit status 2, and no temporary file is left behind."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import ising
from ising import store
from isingrbm import cli

REPO = Path(__file__).resolve().parents[2]
OLD_FILE = REPO / "tests" / "data" / "old_format1_L4_complete.h5"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def _one_error_line(capsys, command="generate") -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"isingrbm {command}: error:"), lines[0]
    assert "Traceback" not in captured.err
    return lines[0]


def _args(out, size="4", temps=("2.0",), samples="100", extra=()):
    return ["generate", "--size", size, "--temperatures", *temps, "--samples", samples,
            "--out", str(out), "--quiet", *extra]


def _leftovers(folder: Path, keep=()):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# -- a running job and a second run on the same output (#1, #10) -----------------

# L = 64: long enough (about 10^10 flips) that the run is still writing when the
# second process looks, also on an idle machine (L = 16 finished in well under a second)
_LONG = ["generate", "--size", "64", "-T", "3.0", "--samples", "100000", "--algorithm",
         "metropolis", "--seed", "5", "--chains", "8", "--checkpoint-every", "1"]


@pytest.fixture
def paused_writer(tmp_path):
    """A generate run writing ``tmp_path/w.h5`` (fresh), stopped (SIGSTOP) right
    after its first append: it holds the output lock and the HDF5 file."""
    out = tmp_path / "w.h5"
    proc = subprocess.Popen([sys.executable, "-m", "isingrbm", *_LONG, "--out", str(out)],
                            cwd=REPO, env=_env(), stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    try:
        for line in proc.stderr:                   # not a TTY: one line per append
            if "/100000 samples" in line:
                break
            assert time.monotonic() - start < 120, line
        os.kill(proc.pid, signal.SIGSTOP)
        yield out, proc
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        os.kill(proc.pid, signal.SIGCONT)
        proc.wait()


def test_second_run_with_overwrite_is_refused_and_first_file_intact(paused_writer, capsys):
    out, _ = paused_writer
    before = out.read_bytes()
    result = subprocess.run([sys.executable, "-m", "isingrbm", *_LONG, "--out", str(out),
                             "--overwrite", "--quiet"], cwd=REPO, env=_env(),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "being written by another process" in lines[0], result.stderr
    assert out.read_bytes() == before                      # not truncated, not touched
    assert not (out.parent / "w.h5.partial").exists()
    # the same in-process, and --resume is refused as well while the first run holds it
    assert cli.main([*_LONG, "--out", str(out), "--resume", "--quiet"]) == 2
    assert "being written by another process" in _one_error_line(capsys)
    assert out.read_bytes() == before


def test_inspect_reads_a_file_being_written(paused_writer, capsys):
    out, _ = paused_writer
    assert cli.main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "being written by another process" in text
    row = next(line for line in text.splitlines() if line.startswith("3.0000"))
    n_shown = row.split()[5]
    assert n_shown.endswith("/100000*") and int(n_shown.split("/")[0]) > 0
    assert cli.main(["inspect", str(out), "--json"]) == 0
    import json
    summary = json.loads(capsys.readouterr().out)
    assert summary["being_written"] is True
    # a plain load refuses with one clear reason
    with pytest.raises(store.DatasetBusyError, match="being written by another process"):
        ising.load(out)


def test_overwrite_keeps_the_old_file_until_the_new_run_completes(tmp_path, capsys):
    """--overwrite writes NAME.partial and replaces NAME only at the end: an
    interrupted --overwrite leaves NAME intact, --resume finishes the new run."""
    out = tmp_path / "v.h5"
    out.write_bytes(OLD_FILE.read_bytes())
    calls = {"n": 0}
    original = store.DatasetWriter.append

    def interrupted_append(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *a, **k)

    common = _args(out, temps=("2.0", "3.0"), samples="400",
                   extra=("--seed", "3", "--chains", "4", "--checkpoint-every", "0"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store.DatasetWriter, "append", interrupted_append)
        assert cli.main([*common, "--overwrite"]) == 130
    capsys.readouterr()
    assert out.read_bytes() == OLD_FILE.read_bytes()      # the old file is intact
    partial = tmp_path / "v.h5.partial"
    assert partial.exists()
    assert cli.main(common) == 2                            # plain rerun names both flags
    line = _one_error_line(capsys)
    assert "--resume" in line and "--overwrite" in line
    assert cli.main([*common, "--resume"]) == 0
    capsys.readouterr()
    assert not partial.exists()
    resumed = ising.load(out)
    reference = tmp_path / "ref.h5"
    assert cli.main(_args(reference, temps=("2.0", "3.0"), samples="400",
                          extra=("--seed", "3", "--chains", "4", "--checkpoint-every", "0"))) == 0
    capsys.readouterr()
    fresh = ising.load(reference)
    for a, b in zip(resumed.ensembles, fresh.ensembles):
        assert a.complete and a.n_samples == 400
        np.testing.assert_array_equal(a.spins, b.spins)
    assert _leftovers(tmp_path) == ["ref.h5", "v.h5"]


def test_rerun_of_killed_run_mentions_resume(tmp_path, capsys):
    out = tmp_path / "k.h5"
    out.write_bytes(OLD_FILE.read_bytes())
    assert cli.main(_args(out)) == 2
    line = _one_error_line(capsys)
    assert "--resume" in line and "--overwrite" in line


# -- validation of derived values before any file exists (#2) --------------------

@pytest.mark.parametrize("change, message", [
    (dict(temps=("1e-320",)), "--temperatures must give a finite beta"),
    (dict(size="100000"), "of memory"),
    (dict(size="3000", samples="100000000"), "of memory"),
])
def test_derived_values_refused_before_any_file(tmp_path, capsys, change, message):
    out = tmp_path / "v.h5"
    out.write_bytes(OLD_FILE.read_bytes())
    assert cli.main(_args(out, extra=("--overwrite",), **change)) == 2
    assert message in _one_error_line(capsys)
    assert out.read_bytes() == OLD_FILE.read_bytes()
    new = tmp_path / "new.h5"
    assert cli.main(_args(new, **change)) == 2
    assert message in _one_error_line(capsys)
    assert _leftovers(tmp_path) == ["v.h5"]


def test_library_refuses_infinite_beta_and_huge_runs(tmp_path):
    from mccore.errors import InvalidParameterError
    with pytest.raises(InvalidParameterError, match="finite beta"):
        ising.simulate(4, [1e-320], 10, rng=1, path=tmp_path / "x.h5")
    with pytest.raises(InvalidParameterError, match="memory"):
        ising.simulate(100000, [2.0], 10, rng=1, path=tmp_path / "x.h5")
    assert list(tmp_path.iterdir()) == []


# -- a full disk (#4) -------------------------------------------------------------

def test_disk_full_before_a_write_keeps_the_rows_so_far(tmp_path, capsys, monkeypatch):
    """The free-space check before an append fails: one line, exit 2, the rows
    written so far kept (resumable), no temporary file; --resume then finishes
    the run exactly as an uninterrupted one."""
    out = tmp_path / "d.h5"
    calls = {"n": 0}
    original = store._check_free_space

    def filling(path, n_bytes):
        calls["n"] += 1
        if calls["n"] >= 4:
            raise store.DiskFullError(f"No space left on device for {path}", path)
        return original(path, n_bytes)

    common = _args(out, temps=("2.5",), samples="400",
                   extra=("--seed", "8", "--chains", "4", "--checkpoint-every", "0"))
    monkeypatch.setattr(store, "_check_free_space", filling)
    assert cli.main(common) == 2
    assert "No space left on device" in _one_error_line(capsys)
    kept = ising.load(out).ensembles[0]
    assert 0 < kept.n_samples < 400 and not kept.complete
    assert _leftovers(tmp_path) == ["d.h5"]
    # the library's error names what was kept and how to continue
    calls["n"] = 0
    with pytest.raises(store.DiskFullError, match=r"rows written so far are kept .*--resume"):
        ising.simulate(4, [2.5], 400, rng=8, n_chains=4, checkpoint_interval=0.0,
                       path=out, resume=True)
    monkeypatch.setattr(store, "_check_free_space", original)
    assert cli.main([*common, "--resume"]) == 0
    reference = tmp_path / "ref.h5"
    assert cli.main(_args(reference, temps=("2.5",), samples="400",
                          extra=("--seed", "8", "--chains", "4", "--checkpoint-every", "0"))) == 0
    np.testing.assert_array_equal(ising.load(out).ensembles[0].spins,
                                  ising.load(reference).ensembles[0].spins)


def test_disk_full_during_overwrite_leaves_old_file_and_no_partial(tmp_path, capsys, monkeypatch):
    out = tmp_path / "v.h5"
    out.write_bytes(OLD_FILE.read_bytes())

    def full(path, n_bytes):
        raise store.DiskFullError(f"No space left on device for {path}", path)

    monkeypatch.setattr(store, "_check_free_space", full)
    assert cli.main(_args(out, extra=("--overwrite",))) == 2
    assert "No space left on device" in _one_error_line(capsys)
    assert out.read_bytes() == OLD_FILE.read_bytes()
    assert _leftovers(tmp_path) == ["v.h5"]


def test_hdf5_write_error_closes_cleanly(tmp_path, capsys, monkeypatch):
    """HDF5 itself failing with ENOSPC (the pre-check passed, another process
    filled the disk): one line, no crash, the file closed and not left empty."""
    out = tmp_path / "h.h5"
    original = store.DatasetWriter._append.__wrapped__

    def failing(self, key, spins, *a, **k):
        if self.n_written(key) > 0:
            raise OSError(errno.ENOSPC, "Can't synchronously write data (errno = 28, "
                                        "No space left on device)")
        return original(self, key, spins, *a, **k)

    monkeypatch.setattr(store.DatasetWriter, "_append", store._writes(failing))
    assert cli.main(_args(out, samples="400", extra=("--seed", "2", "--chains", "4",
                                                     "--checkpoint-every", "0"))) == 2
    line = _one_error_line(capsys)
    assert "No space left on device" in line
    assert _leftovers(tmp_path) in (["h.h5"], [])
    if out.exists():
        assert ising.load(out).ensembles[0].n_samples > 0


def _tmpfs(folder: Path, size: str):
    folder.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                             str(folder)], capture_output=True, check=False)
    return result.returncode == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="mounting a small tmpfs needs root")
def test_real_full_disk_no_crash(tmp_path):
    """A 2 MiB tmpfs fills up: one line, exit 2 (no segfault), the rows so far kept."""
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "2m"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = disk / "full.h5"
        result = subprocess.run(
            [sys.executable, "-m", "isingrbm", "generate", "-L", "32", "-T", "5.0", "-n", "20000",
             "--algorithm", "metropolis", "--seed", "1", "--checkpoint-every", "0", "--quiet",
             "--out", str(out)], cwd=REPO, env=_env(), capture_output=True, text=True,
            timeout=300, check=False)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "No space left on device" in lines[0], result.stderr
        assert _leftovers(disk) in (["full.h5"], [])
        if out.exists():
            assert 0 < ising.load(out).ensembles[0].n_samples < 20000
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, check=False)


# -- symlinks (#16) ---------------------------------------------------------------

def test_overwrite_writes_through_a_symlink(tmp_path, capsys):
    target = tmp_path / "real.h5"
    target.write_bytes(OLD_FILE.read_bytes())
    link = tmp_path / "link.h5"
    link.symlink_to(target.name)
    assert cli.main(_args(link, samples="50", extra=("--overwrite", "--seed", "1"))) == 0
    capsys.readouterr()
    assert link.is_symlink() and os.readlink(link) == "real.h5"
    data = ising.load(target)
    assert data.ensembles[0].n_samples == 50 and data.temperatures == [2.0]
    assert _leftovers(tmp_path) == ["link.h5", "real.h5"]
    # a dangling link: the new file is created at its target
    dangling = tmp_path / "later.h5"
    dangling.symlink_to("made.h5")
    assert cli.main(_args(dangling, samples="20", extra=("--seed", "1"))) == 0
    assert dangling.is_symlink() and ising.load(tmp_path / "made.h5").ensembles[0].n_samples == 20
