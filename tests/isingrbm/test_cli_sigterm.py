"""Long commands under SIGTERM (what ``timeout`` and batch schedulers send) and
beside a second run on the same output, in real subprocesses.

SIGTERM is treated like Ctrl-C: the command checkpoints, prints one line
``isingrbm <cmd>: interrupted...``, exits 143 (128 + SIGTERM), leaves no lock
or temporary file, and ``--resume`` ends bit for bit where an uninterrupted
run ends. A second run on the output of a running job (``--overwrite`` or
``--resume``) is refused with one line and exit status 2.

No test depends on timing: a run is stopped (SIGSTOP) as soon as its first
checkpoint exists, the second run is tried against it, and SIGTERM is sent
before it continues (SIGCONT).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import fit_model, one_error_line

from isingrbm import cli

REPO = Path(__file__).resolve().parents[2]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["ISINGRBM_PROGRESS_SECONDS"] = "0"     # a progress line after every piece of work
    return env


def start(args, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "isingrbm", *map(str, args)], cwd=cwd,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def stop_at_line(proc: subprocess.Popen, fragment: str) -> list[str]:
    """SIGSTOP ``proc`` right after it printed a line containing ``fragment``."""
    seen = []
    for line in proc.stderr:                 # not a terminal: timed progress lines
        seen.append(line)
        if fragment in line:
            os.kill(proc.pid, signal.SIGSTOP)
            return seen
    proc.wait()
    pytest.fail(f"the run ended (status {proc.returncode}) before a line with {fragment!r}:\n"
                + "".join(seen))


def stop_when(proc: subprocess.Popen, condition, what: str, limit: float = 300.0) -> None:
    """SIGSTOP ``proc`` as soon as ``condition()`` holds (it must hold before the end)."""
    begin = time.monotonic()
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (status {proc.returncode}) before {what}:\n{err}")
        assert time.monotonic() - begin < limit, f"no {what} after {limit} s"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGSTOP)


def terminate(proc: subprocess.Popen, seen=()) -> tuple[int, str]:
    """SIGTERM to a stopped process, then let it run to its end: (status, stderr)."""
    os.kill(proc.pid, signal.SIGTERM)
    os.kill(proc.pid, signal.SIGCONT)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, "".join(seen) + err


def no_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()
                  if p.name.endswith((".lock", ".tmp")))


# --------------------------------------------------------------------------
# fit


def test_fit_sigterm_checkpoints_and_a_second_run_is_refused(tmp_path, data_file, capsys):
    import rbm

    args = ["fit", data_file, "--temperature", "1.5", "--hidden", "4", "--epochs", "150",
            "--seed", "5"]
    out = tmp_path / "m.h5"
    checkpoint = tmp_path / "m.h5.checkpoint"
    proc = start([*args, "--out", out], tmp_path)
    try:
        stop_when(proc, checkpoint.exists, "the first checkpoint")
        # the running job holds the lock of MODEL and of its checkpoint
        assert cli.main(["fit", str(data_file), "--temperature", "1.5", "--hidden", "6",
                         "--epochs", "2", "--out", str(out), "--overwrite", "--quiet"]) == 2
        one_error_line(capsys, str(out), "another process")
        assert cli.main([*map(str, args), "--out", str(out), "--resume", "--quiet"]) == 2
        one_error_line(capsys, "another process")
        assert not out.exists() and checkpoint.exists()
    finally:
        status, err = terminate(proc)
    assert status == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("isingrbm fit: interrupted after"), err
    assert checkpoint.exists() and not out.exists()
    assert no_leftovers(tmp_path) == []

    assert cli.main([*map(str, args), "--out", str(out), "--resume", "--quiet"]) == 0
    reference = tmp_path / "reference.h5"
    assert cli.main([*map(str, args), "--out", str(reference), "--quiet"]) == 0
    a, b = rbm.load(reference), rbm.load(out)
    for name in ("weights", "visible_bias", "hidden_bias"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not checkpoint.exists() and no_leftovers(tmp_path) == []


# --------------------------------------------------------------------------
# sample --exact


@pytest.fixture
def model_file(tmp_path, data_file):
    return fit_model(data_file, tmp_path / "model.h5", epochs=2)


def test_sample_exact_sigterm_mid_production_resumes_bit_for_bit(tmp_path, model_file,
                                                                  capsys, hdf5_content):
    args = ["sample", model_file, "--exact", "--samples", "3000", "--chains", "16",
            "--seed", "9"]
    out = tmp_path / "gen.h5"
    checkpoint = tmp_path / "gen.h5.checkpoint"
    proc = start([*args, "--out", out], tmp_path)
    try:
        seen = stop_at_line(proc, "exact production: 32/3000 samples")
        assert cli.main([*map(str, args), "--out", str(out), "--overwrite", "--quiet"]) == 2
        one_error_line(capsys, "another process")
    finally:
        status, err = terminate(proc, seen)
    assert status == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "isingrbm sample: interrupted; continue with --resume (checkpoint gen.h5.checkpoint "
        "kept)"), err
    assert checkpoint.exists() and not out.exists()
    assert no_leftovers(tmp_path) == []

    # without --resume the checkpoint is not silently discarded; another seed is refused
    assert cli.main([*map(str, args), "--out", str(out), "--quiet"]) == 2
    one_error_line(capsys, "checkpoint", "--resume")
    assert cli.main([*map(str, args[:-1]), "10", "--out", str(out), "--resume",
                     "--quiet"]) == 2
    one_error_line(capsys, "--seed", "9")

    assert cli.main([*map(str, args), "--out", str(out), "--resume", "--quiet"]) == 0
    assert not checkpoint.exists()
    reference = tmp_path / "reference.h5"
    assert cli.main([*map(str, args), "--out", str(reference), "--quiet"]) == 0
    assert hdf5_content(out) == hdf5_content(reference)

    # --resume of the finished file: complete, untouched
    before = out.stat().st_mtime_ns
    assert cli.main([*map(str, args), "--out", str(out), "--resume", "--quiet"]) == 0
    assert out.stat().st_mtime_ns == before and no_leftovers(tmp_path) == []


# --------------------------------------------------------------------------
# generate


def test_generate_sigterm_keeps_the_samples_and_no_lock(tmp_path, hdf5_content):
    """Issue 19: SIGTERM left ``.e.h5.lock``; now: one line, exit 143, the samples so
    far kept, and --resume ends where an uninterrupted run ends."""
    n = "20000"
    args = ["generate", "--size", "8", "-T", "2.0", "3.0", "--samples", n, "--algorithm",
            "metropolis", "--seed", "5", "--chains", "8", "--checkpoint-every", "0.05"]
    out = tmp_path / "e.h5"
    proc = start([*args, "--out", out], tmp_path)
    seen = stop_at_line(proc, f"/{n} samples")
    status, err = terminate(proc, seen)
    assert status == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "isingrbm generate: interrupted", err
    assert no_leftovers(tmp_path) == []
    assert cli.main([*args, "--out", str(out), "--resume", "--quiet"]) == 0
    reference = tmp_path / "reference.h5"
    assert cli.main([*args, "--out", str(reference), "--quiet"]) == 0
    assert hdf5_content(out) == hdf5_content(reference)


# --------------------------------------------------------------------------
# gan fit


def test_gan_fit_sigterm_checkpoints_before_its_epoch_interval(tmp_path):
    """Issue 19: SIGTERM saved nothing before the first checkpoint (epoch 5); now the
    epoch in progress is given up and the last completed one is checkpointed."""
    pytest.importorskip("torch")
    import ising

    data = tmp_path / "d.h5"
    ising.simulate(4, [3.0], 256, rng=1, path=data)
    args = ["gan", "fit", data, "--temperature", "3", "--seed", "5", "--epochs", "6",
            "--channels", "4", "--latent-dim", "4", "--noise-channels", "1",
            "--batch-size", "16", "--checkpoint-every", "100"]
    out = tmp_path / "g.pt"
    proc = start([*args, "--out", out], tmp_path)
    seen = stop_at_line(proc, "GAN fit: 2/6 epoch")
    status, err = terminate(proc, seen)
    assert status == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("isingrbm gan fit: interrupted after "), err
    assert err.strip().endswith("of 6 epochs; continue with --resume (checkpoint g.pt.checkpoint "
                                "kept)"), err
    checkpoint = tmp_path / "g.pt.checkpoint"
    assert checkpoint.exists() and not out.exists()
    assert no_leftovers(tmp_path) == []
    import gan

    assert 2 <= gan.IsingGAN.load(checkpoint).n_epochs_trained_ < 6
    assert cli.main([*map(str, args), "--out", str(out), "--resume", "--quiet"]) == 0
    reference = tmp_path / "reference.pt"
    assert cli.main([*map(str, args), "--out", str(reference), "--quiet"]) == 0
    a, b = gan.IsingGAN.load(out), gan.IsingGAN.load(reference)
    assert a.n_epochs_trained_ == b.n_epochs_trained_ == 6
    np.testing.assert_array_equal(a.sample(50, rng=1), b.sample(50, rng=1))


def test_plain_sample_holds_its_lock_for_the_whole_run(tmp_path, model_file, capsys):
    out = tmp_path / "plain.h5"
    lock = tmp_path / ".plain.h5.lock"
    proc = start(["sample", model_file, "--samples", "2000", "--steps", "1000000",
                  "--seed", "3", "--out", out], tmp_path)
    try:
        stop_when(proc, lock.exists, "the output lock")
        assert cli.main(["sample", str(model_file), "--samples", "10", "--out", str(out),
                         "--overwrite", "--quiet"]) == 2
        one_error_line(capsys, "another process")
    finally:
        status, err = terminate(proc)
    assert status == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "isingrbm sample: interrupted", err
    assert not out.exists() and no_leftovers(tmp_path) == []


# --------------------------------------------------------------------------
# vmc (its own loop on mccore.training.run_steps)


@pytest.mark.parametrize("system", [
    ["--particles", "2", "--dims", "2", "--samples", "500"],
    ["--system", "tfim", "--lattice", "chain", "--size", "6", "--field", "1.0"],
])
def test_vmc_sigterm_checkpoints(tmp_path, system):
    out = tmp_path / "v.h5"
    proc = start(["vmc", *system, "--iterations", "400", "--seed", "3", "--out", out],
                 tmp_path)
    seen = stop_at_line(proc, "vmc: 3/400")
    status, err = terminate(proc, seen)
    assert status == 143, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("isingrbm vmc: interrupted after"), err
    assert (tmp_path / "v.h5.checkpoint").exists() and not out.exists()
    assert no_leftovers(tmp_path) == []
    common = ["vmc", *system, "--iterations", "400", "--seed", "3", "--quiet"]
    assert cli.main([*common, "--out", str(out), "--resume"]) == 0
    reference = tmp_path / "reference.h5"
    assert cli.main([*common, "--out", str(reference)]) == 0
    assert _datasets(out) == _datasets(reference)      # every number, bit for bit


def _datasets(path) -> dict:
    import h5py

    def content(value):
        value = np.asarray(value)
        return value.tolist() if value.dtype.kind == "O" else value.tobytes()

    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.__setitem__(name, content(obj[()]))
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def test_overwrite_removes_only_a_checkpoint_of_its_own_kind(tmp_path, data_file, model_file,
                                                            capsys):
    """A FILE.checkpoint that another command wrote (or the user's own file) is not
    deleted by --overwrite: one line, and it stays."""
    foreign = tmp_path / "x.h5.checkpoint"
    foreign.write_bytes(b"the user's notes")
    assert cli.main(["sample", str(model_file), "--exact", "--samples", "20", "--out",
                     str(tmp_path / "x.h5"), "--overwrite", "--quiet"]) == 2
    one_error_line(capsys, "not a checkpoint")
    assert cli.main(["fit", str(data_file), "--temperature", "1.5", "--hidden", "4",
                     "--epochs", "1", "--out", str(tmp_path / "x.h5"), "--overwrite",
                     "--quiet"]) == 2
    one_error_line(capsys, "x.h5.checkpoint")
    assert foreign.read_bytes() == b"the user's notes"
    assert not (tmp_path / "x.h5").exists()


# --------------------------------------------------------------------------
# the frame


def test_sigterm_handler_is_restored_and_a_bad_line_interval_is_one_line(
        tmp_path, data_file, capsys, monkeypatch):
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["inspect", str(data_file)]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
    capsys.readouterr()
    monkeypatch.setenv("ISINGRBM_PROGRESS_SECONDS", "soon")
    assert cli.main(["inspect", str(data_file)]) == 2
    one_error_line(capsys, "ISINGRBM_PROGRESS_SECONDS must be a number >= 0, got 'soon'")
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_in_process_is_an_interrupt_with_status_143(tmp_path, data_file, capsys,
                                                           monkeypatch):
    """The handler raises KeyboardInterrupt where the command is, once: the command's
    own Ctrl-C path runs (here fit's checkpoint and its line)."""
    from mccore.progress import Progress

    original = Progress.update

    def update(self, n=1):
        original(self, n)
        if self.n == 2:                            # after the second epoch
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(Progress, "update", update)
    out = tmp_path / "m.h5"
    assert cli.main(["fit", str(data_file), "--temperature", "1.5", "--hidden", "4",
                     "--epochs", "50", "--out", str(out), "--seed", "1", "--quiet"]) == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("isingrbm fit: interrupted after"), err
    assert (tmp_path / "m.h5.checkpoint").exists() and not out.exists()


def test_a_second_sigterm_does_not_interrupt_the_checkpoint_being_written():
    term = cli._TermAsInterrupt()
    with term:
        with pytest.raises(KeyboardInterrupt):
            term._handler(signal.SIGTERM, None)
        assert term._handler(signal.SIGTERM, None) is None and term.received


def test_fit_refuses_a_huge_k_and_an_early_interrupt_promises_no_checkpoint(
        tmp_path, data_file, capsys, monkeypatch):
    """``--k 1e12`` ran one update for ever; an interrupt before the first epoch ended
    said "checkpoint kept" though there was none."""
    out = tmp_path / "m.h5"
    assert cli.main(["fit", str(data_file), "--temperature", "1.5", "--hidden", "4",
                     "--k", "1e12", "--out", str(out)]) == 2
    one_error_line(capsys, "--k must be an integer in [1, 10000], got 1000000000000")
    import rbm.training
    from mccore import training

    def interrupt(i):
        raise KeyboardInterrupt

    def first_epoch_interrupted(step, **kwargs):
        return training.run_steps(interrupt, **kwargs)

    monkeypatch.setattr(rbm.training, "run_steps", first_epoch_interrupted)
    assert cli.main(["fit", str(data_file), "--temperature", "1.5", "--hidden", "4",
                     "--epochs", "3", "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["isingrbm fit: interrupted after 0 of 3 epochs; no epoch was complete: "
                   "nothing to resume"], err
    assert list(tmp_path.iterdir()) == [data_file]
