"""``isingrbm generate``: bad input is refused before any computation (one
stderr line, exit 2, no traceback, files untouched; fuzzed with hypothesis),
the end table/JSON, reproducibility, and resume after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isingrbm import cli

REPO = Path(__file__).resolve().parents[2]


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("isingrbm generate: error:"), lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""
    return lines[0]


def _args(out, size="4", temps=("2.0",), samples="100", extra=()):
    return ["generate", "--size", size, "--temperatures", *temps, "--samples", samples,
            "--out", str(out), "--quiet", *extra]


@pytest.mark.parametrize("change, message", [
    (dict(size="1"), "--size must be an integer >= 2, got '1'"),
    (dict(size="2.5"), "--size must be an integer >= 2, got '2.5'"),
    (dict(size="abc"), "--size must be an integer >= 2"),
    (dict(size="-4"), "--size must be an integer >= 2"),
    (dict(temps=("0",)), "--temperatures must be a finite number > 0, got '0'"),
    (dict(temps=("2.0", "-1")), "--temperatures must be a finite number > 0, got '-1'"),
    (dict(temps=("nan",)), "--temperatures must be a finite number > 0, got 'nan'"),
    (dict(temps=("inf",)), "got 'inf'"),
    (dict(temps=("2.0", "2.0")), "--temperatures must be distinct"),
    (dict(samples="0"), "--samples must be an integer >= 1, got '0'"),
    (dict(samples="-5"), "--samples must be an integer >= 1"),
    (dict(samples="1e2.5"), "--samples must be an integer >= 1"),
    (dict(extra=("--algorithm", "heatbath")), "--algorithm must be one of 'auto', 'metropolis', 'wolff', got 'heatbath'"),
    (dict(extra=("--threads", "0")), "--threads must be an integer >= 1, got '0'"),
    (dict(extra=("--chains", "0")), "--chains must be an integer >= 1, got '0'"),
    (dict(extra=("--checkpoint-every", "-1")), "--checkpoint-every must be a finite number >= 0"),
    (dict(extra=("--resume", "--overwrite")), "exclude each other"),
])
def test_bad_input_creates_nothing(tmp_path, capsys, change, message):
    out = tmp_path / "new.h5"
    assert cli.main(_args(out, **change)) == 2
    assert message in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_untouched(tmp_path, capsys):
    out = tmp_path / "old.h5"
    out.write_bytes(b"precious")
    assert cli.main(_args(out)) == 2
    assert "exists" in _one_error_line(capsys)
    assert out.read_bytes() == b"precious"
    # --resume of a file that is not a dataset: refused before computing, untouched
    assert cli.main(_args(out, extra=("--resume",))) == 2
    assert "old.h5" in _one_error_line(capsys)
    assert out.read_bytes() == b"precious"


def test_unwritable_paths(tmp_path, capsys):
    assert cli.main(_args(tmp_path / "no" / "such" / "dir.h5")) == 2
    assert "does not exist" in _one_error_line(capsys)
    assert cli.main(_args(tmp_path)) == 2                      # a directory
    assert "directory" in _one_error_line(capsys)
    if os.geteuid() != 0:                                      # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            assert cli.main(_args(locked / "x.h5")) == 2
            assert "not writable" in _one_error_line(capsys)
        finally:
            locked.chmod(0o700)


def _valid_int(text, minimum):
    try:
        v = float(text)
    except ValueError:
        return False
    return np.isfinite(v) and v == int(v) and v >= minimum


def _valid_temperature(text):
    try:
        v = float(text)
    except ValueError:
        return False
    return bool(np.isfinite(v) and v > 0)


_number_text = st.one_of(
    st.integers(-5, 70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "x", "1e400", "-0", "0x10", "3.0", "1_0", " 7", "nan", "-inf"]),
    st.text(alphabet="0123456789.-e+", min_size=1, max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=_number_text, temps=st.lists(_number_text, min_size=1, max_size=3),
       samples=_number_text, algorithm=st.sampled_from(["auto", "metropolis", "wolff", "Wolff",
                                                        "mc", ""]))
def test_fuzzed_arguments_never_traceback(tmp_path, capsys, size, temps, samples, algorithm):
    """Any argument values with an existing output and no --overwrite: exit 2,
    one stderr line naming the first bad value (or the existing file), nothing
    computed, the file untouched. Arguments argparse itself rejects (values
    that look like options) exit 2 via SystemExit."""
    out = tmp_path / "keep.h5"
    out.write_bytes(b"keep")
    argv = ["generate", "--size", size, "--temperatures", *temps, "--samples", samples,
            "--algorithm", algorithm, "--out", str(out), "--quiet"]
    try:
        code = cli.main(argv)
    except SystemExit as exc:              # argparse: e.g. a value starting with '-'
        assert exc.code == 2
        capsys.readouterr()
        assert out.read_bytes() == b"keep"
        return
    assert code == 2
    line = _one_error_line(capsys)
    if not _valid_int(size, 2):
        assert "--size" in line
    elif not all(_valid_temperature(t) for t in temps):
        assert "--temperatures" in line
    elif len({f"{float(t):.6f}" for t in temps}) < len(temps):
        assert "--temperatures must be distinct" in line
    elif not _valid_int(samples, 1):
        assert "--samples" in line
    elif algorithm not in ("auto", "metropolis", "wolff"):
        assert "--algorithm" in line
    else:
        assert "exists" in line
    assert out.read_bytes() == b"keep"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def test_generate_json_and_table(tmp_path, capsys):
    out = tmp_path / "run.h5"
    assert cli.main(["generate", "--size", "3", "-T", "3.0", "1.5", "--samples", "300",
                     "--out", str(out), "--seed", "4", "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    summary = json.loads(captured.out)
    assert summary["L"] == 3 and summary["seed"] == 4
    rows = summary["temperatures"]
    assert [r["T"] for r in rows] == [1.5, 3.0]
    assert [r["algorithm"] for r in rows] == ["wolff", "metropolis"]
    for r in rows:
        assert r["n_samples"] == 300 and r["complete"]
        assert set(r["observables"]) >= {"energy", "specific_heat", "abs_magnetization",
                                         "susceptibility_connected", "binder_cumulant"}
        assert r["exact"]["energy"] < 0 and "tau_int" in r
    # inspect prints the same summary from the file
    assert cli.main(["inspect", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["temperatures"] == rows
    # the human table
    assert cli.main(["inspect", str(out)]) == 0
    table = capsys.readouterr().out
    assert "wolff" in table and "metropolis" in table and "e exact" in table


def test_resume_after_sigkill(hdf5_content, tmp_path):
    """SIGKILL in the middle of a run, then --resume: exactly N samples per
    temperature, identical to an uninterrupted run with the same seed (so none
    lost, none duplicated)."""
    n = "20000"
    common = ["generate", "--size", "8", "-T", "2.0", "3.0", "--samples", n,
              "--algorithm", "metropolis", "--seed", "5", "--chains", "8",
              "--checkpoint-every", "0.05"]
    out = tmp_path / "killed.h5"
    proc = subprocess.Popen([sys.executable, "-m", "isingrbm", *common, "--out", str(out)],
                            cwd=REPO, env=_env(), stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    seen = []
    try:
        for line in proc.stderr:                       # not a TTY: one line per checkpoint
            seen.append(line)
            if "/" + n + " samples" in line:
                break
            assert time.monotonic() - start < 300, "".join(seen)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    import ising
    partial = ising.load(out)
    counts = [e.n_samples for e in partial.ensembles]
    assert not all(e.complete for e in partial.ensembles), counts
    assert sum(counts) < 2 * int(n)
    assert cli.main([*common, "--out", str(out), "--resume", "--quiet"]) == 0
    reference = tmp_path / "reference.h5"
    assert cli.main([*common, "--out", str(reference), "--quiet"]) == 0
    data = ising.load(out)
    assert [e.n_samples for e in data.ensembles] == [int(n)] * 2
    assert all(e.complete for e in data.ensembles)
    assert hdf5_content(out) == hdf5_content(reference)


def _mpiexec():
    import shutil
    candidate = Path(sys.executable).parent / "mpiexec"
    return str(candidate) if candidate.exists() else shutil.which("mpiexec")


@pytest.mark.mpi
def test_mpi_two_ranks_write_the_single_process_file(hdf5_content, tmp_path, capsys):
    """mpiexec -n 2: temperatures spread over ranks, rank 0 writes one file,
    identical (except the creation time) to the single-process file."""
    pytest.importorskip("mpi4py")
    mpiexec = _mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec not found")
    common = ["generate", "--size", "6", "-T", "1.5", "2.3", "3.0", "--samples", "400",
              "--seed", "9", "--quiet"]
    parallel, serial = tmp_path / "mpi.h5", tmp_path / "serial.h5"
    result = subprocess.run([mpiexec, "-n", "2", sys.executable, "-m", "isingrbm", *common,
                             "--out", str(parallel)], cwd=REPO, env=_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("1.5000") == 1          # only rank 0 prints the table
    assert cli.main([*common, "--out", str(serial)]) == 0
    capsys.readouterr()
    assert hdf5_content(parallel) == hdf5_content(serial)


def test_count_lines_in_a_log_are_thinned_and_carry_the_remaining_time(monkeypatch):
    """Not a terminal: one count line per temperature per progress interval, with the
    remaining time at that temperature's rate; other messages pass unchanged."""
    import time as time_module

    from isingrbm.commands.generate import _CountLines
    from mccore.progress import progress_lines

    now = [100.0]
    monkeypatch.setattr(time_module, "monotonic", lambda: now[0])
    lines = []
    log = _CountLines(lines.append)
    with progress_lines(interval=60.0):
        for second, n in ((0, 100), (2, 200), (30, 1000), (61, 2000), (62, 2100)):
            now[0] = 100.0 + second
            log(f"T=2: {n}/10000 samples")
        log("T=2: complete (10000 samples)")
    assert lines == ["T=2: 100/10000 samples",
                     "T=2: 2000/10000 samples, about 4:17 left at this temperature",
                     "T=2: complete (10000 samples)"]
    lines.clear()
    log("T=3: 5/10 samples")                 # outside progress_lines: everything passes
    log("T=3: 6/10 samples")
    assert lines == ["T=3: 5/10 samples", "T=3: 6/10 samples"]
