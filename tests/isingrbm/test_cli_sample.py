"""``isingrbm sample`` in-process via ``cli.main``: --exact and output safety.

- Exactness at L = 3 from a poor model (4 hidden units, one epoch): the
  state histogram of ``--exact`` samples passes a chi-square test against the
  exact Boltzmann distribution (enumeration) while the same model's plain
  samples fail it (the test has power). The file records the MH attrs.
- Same seed -> the same file.
- Bad input (``--exact`` on a Gaussian model, a model without a temperature,
  flags of the other mode): one line, exit 2, no file.
- Issue 10: the output may not be the model (#3); a full disk gives one line,
  exit 2 and no temporary files (#4); ``--samples 1e12`` is refused up front
  with a memory estimate (#5); a symlinked ``--out`` is written through and
  stays a link (#16).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
from chi_square import chi_square_p, state_index
from cli_helpers import exact_dataset, fit_model, one_error_line

from ising import boltzmann_distribution
from ising.store import load
from isingrbm import cli

L = 3
T = 2.269
SEED = 271828


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A poor model (4 hidden units, one epoch) of 2000 exact L = 3 samples."""
    folder = tmp_path_factory.mktemp("model")
    data = exact_dataset(folder / "data.h5", L=L, temperatures=(T,), n=2000, seed=SEED)
    return fit_model(data, folder / "model.h5", temperature=T)


# --------------------------------------------------------------------------
# --exact: physics, attrs, reproducibility

def test_exact_samples_are_boltzmann_where_plain_samples_are_not(tmp_path, model_file, capsys):
    n = 6000
    exact_out, plain_out = tmp_path / "exact.h5", tmp_path / "plain.h5"
    assert cli.main(["sample", str(model_file), "--samples", str(n), "--out", str(exact_out),
                     "--exact", "--seed", "5", "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert cli.main(["sample", str(model_file), "--samples", str(n), "--steps", "50",
                     "--out", str(plain_out), "--seed", "5", "--quiet"]) == 0
    p = boltzmann_distribution(L, T)
    exact_spins = load(exact_out).ensemble(T, tol=1e-6).spins
    plain_spins = load(plain_out).ensemble(T, tol=1e-6).spins
    assert exact_spins.shape == plain_spins.shape == (n, L, L)
    assert chi_square_p(state_index(exact_spins), p) > 1e-3
    assert chi_square_p(state_index(plain_spins), p) < 1e-6
    # what the file and the summary record
    with h5py.File(exact_out, "r") as f:
        assert f.attrs["source"] == "rbm"
        (key,) = f["samples"].keys()
        g = f["samples"][key].attrs
        assert g["method"] == "metropolis-hastings"
        assert g["proposal_steps"] == 5
        assert g["local_sweeps"] == 1   # the default: one Metropolis sweep per proposal
        assert 0.0 < g["acceptance_rate"] <= 1.0
        tau = json.loads(g["tau_int"])
        assert set(tau) == {"energy", "abs_magnetization"}
        assert g["thinning"] >= 2 * max(tau.values())
        assert bool(g["equilibration_check_passed"])
        acceptance = float(g["acceptance_rate"])
    with h5py.File(plain_out, "r") as f:
        (key,) = f["samples"].keys()
        assert f["samples"][key].attrs["method"] == "gibbs"
    assert summary["method"] == "metropolis-hastings"
    assert summary["acceptance_rate"] == pytest.approx(acceptance)
    # inspect shows what the exactness cost
    assert cli.main(["inspect", str(exact_out), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["temperatures"]
    assert row["metropolis_hastings"]["acceptance_rate"] == pytest.approx(acceptance)
    assert cli.main(["inspect", str(exact_out)]) == 0
    assert "exact RBM Monte Carlo (Metropolis-Hastings" in capsys.readouterr().out


def test_exact_same_seed_same_file(tmp_path, model_file, hdf5_content):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    for out in (a, b):
        assert cli.main(["sample", str(model_file), "--samples", "200", "--out", str(out),
                         "--exact", "--proposal-steps", "2", "--seed", "9", "--quiet"]) == 0
    assert hdf5_content(a) == hdf5_content(b)


def test_help_says_plain_samples_are_approximate(capsys):
    with pytest.raises(SystemExit):
        cli.main(["sample", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "APPROXIMATE" in text and "--exact" in text


# --------------------------------------------------------------------------
# bad input: one line, exit 2, nothing written

def _gaussian_model(path: Path) -> Path:
    import rbm
    m = rbm.GaussianBernoulliRBM(3, sigma_init=0.7, rng=2).initialize(L * L)
    rbm.save(m, path, metadata={"temperature": T, "L": L})
    return path


def test_exact_on_a_gaussian_model_is_refused(tmp_path, capsys):
    model = _gaussian_model(tmp_path / "g.h5")
    out = tmp_path / "out.h5"
    assert cli.main(["sample", str(model), "--samples", "10", "--out", str(out), "--exact"]) == 2
    one_error_line(capsys, "Bernoulli", "--exact")
    assert not out.exists()


def test_model_without_temperature_is_refused(tmp_path, model_file, capsys):
    import rbm
    bare = tmp_path / "bare.h5"
    model = rbm.load(model_file)
    model.metadata_ = {}
    rbm.save(model, bare)
    out = tmp_path / "out.h5"
    assert cli.main(["sample", str(bare), "--samples", "10", "--out", str(out), "--exact"]) == 2
    one_error_line(capsys, "no training temperature")
    assert not out.exists()


@pytest.mark.parametrize("args, fragment", [
    (["--exact", "--steps", "10"], "--steps"),
    (["--exact", "--init", "data"], "--init"),
    (["--exact", "--proposal-steps", "0"], "--proposal-steps"),
    (["--exact", "--chains", "0"], "--chains"),
    (["--proposal-steps", "3"], "only with --exact"),
    (["--chains", "3"], "only with --exact"),
    (["--exact", "--local-sweeps", "-1"], "--local-sweeps"),
    (["--local-sweeps", "1"], "only with --exact"),
])
def test_flags_of_the_other_mode_are_refused(tmp_path, model_file, capsys, args, fragment):
    out = tmp_path / "out.h5"
    assert cli.main(["sample", str(model_file), "--samples", "10", "--out", str(out),
                     *args]) == 2
    one_error_line(capsys, fragment)
    assert not out.exists()


# --------------------------------------------------------------------------
# issue 10

@pytest.mark.parametrize("exact", [False, True])
def test_output_equal_to_the_model_is_refused(tmp_path, model_file, capsys, exact):
    """#3: ``sample m.h5 --out m.h5 --overwrite`` used to replace the model."""
    model = tmp_path / "m.h5"
    shutil.copy(model_file, model)
    before = model.read_bytes()
    link = tmp_path / "link.h5"
    link.symlink_to(model)
    for out in (model, link):
        code = cli.main(["sample", str(model), "--samples", "10", "--out", str(out),
                         "--overwrite", "--seed", "1"] + (["--exact"] if exact else []))
        assert code == 2
        one_error_line(capsys, "is the input file")
    assert model.read_bytes() == before


def test_huge_sample_count_is_refused_with_a_memory_estimate(tmp_path, model_file, capsys):
    """#5: ``--samples 1e12`` used to end in a MemoryError traceback."""
    for extra in ([], ["--exact"]):
        out = tmp_path / "out.h5"
        assert cli.main(["sample", str(model_file), "--samples", "1e12", "--out", str(out),
                         *extra]) == 2
        one_error_line(capsys, "--samples 1000000000000", "memory", "available")
        assert not out.exists()


@pytest.mark.parametrize("args, fragment", [
    # issue 19: a 291 TiB allocation (traceback); an unbounded run that ignored Ctrl-C;
    # a refusal that named --samples
    (["--proposal-steps", "1e12"], "--proposal-steps must be an integer in [1, 10000]"),
    (["--local-sweeps", "1e12"], "--local-sweeps must be an integer in [0, 10000]"),
    (["--chains", "1e9"], "--chains 1000000000 needs about"),
    (["--chains", "3000", "--proposal-steps", "10000"],
     "--proposal-steps 10000 with 3000 chains needs about"),
])
def test_exact_work_beyond_the_machine_is_refused_naming_its_flag(tmp_path, model_file,
                                                                  capsys, args, fragment,
                                                                  monkeypatch):
    import mccore.validation

    monkeypatch.setattr(mccore.validation, "available_memory", lambda: 8 * 2**30)
    out = tmp_path / "out.h5"
    assert cli.main(["sample", str(model_file), "--exact", "--samples", "20", "--out",
                     str(out), *args]) == 2
    one_error_line(capsys, fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_resume_is_only_for_exact_runs(tmp_path, model_file, capsys):
    out = tmp_path / "out.h5"
    assert cli.main(["sample", str(model_file), "--samples", "20", "--out", str(out),
                     "--resume"]) == 2
    one_error_line(capsys, "--resume must be given only with --exact")
    assert cli.main(["sample", str(model_file), "--samples", "20", "--out", str(out),
                     "--exact", "--resume", "--overwrite"]) == 2
    one_error_line(capsys, "exclude each other")
    assert not out.exists()


def test_full_disk_is_one_line_and_leaves_nothing(tmp_path, model_file, capsys, monkeypatch):
    """#4 (in-process): a folder without room is refused before any work."""
    folder = tmp_path / "full"
    folder.mkdir()
    real = shutil.disk_usage

    def nearly_full(path):
        usage = real(path)
        return type(usage)(usage.total, usage.total - 1000, 1000)
    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    out = folder / "g.h5"
    assert cli.main(["sample", str(model_file), "--samples", "100", "--out", str(out),
                     "--exact"]) == 2
    one_error_line(capsys, "No space left on device")
    assert list(folder.iterdir()) == []


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 1 MiB tmpfs (needs root and mount; skipped elsewhere)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True, check=False)


def test_really_full_disk_in_a_subprocess(tiny_tmpfs, model_file):
    """#4: on a 1 MiB file system ``sample`` used to crash (exit 139) after
    h5py tracebacks; now one line, exit 2, nothing left behind."""
    out = tiny_tmpfs / "g.h5"
    done = subprocess.run(
        [sys.executable, "-m", "isingrbm", "sample", str(model_file), "--samples", "200000",
         "--steps", "1", "--out", str(out), "--seed", "1", "--quiet"],
        capture_output=True, text=True, cwd=tiny_tmpfs.parent, timeout=300, check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], done.stderr[-2000:]
    assert list(tiny_tmpfs.iterdir()) == []


@pytest.mark.parametrize("exists", [True, False])
def test_symlinked_output_is_written_through(tmp_path, model_file, exists):
    """#16: ``sample --overwrite`` used to replace a symlinked --out by a file."""
    target_dir = tmp_path / "store"
    target_dir.mkdir()
    target = target_dir / "real.h5"
    if exists:
        target.write_bytes(b"old")
    link = tmp_path / "link.h5"
    link.symlink_to(target)
    assert cli.main(["sample", str(model_file), "--samples", "20", "--steps", "2",
                     "--out", str(link), "--seed", "1", "--quiet"]
                    + (["--overwrite"] if exists else [])) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load(target).ensemble(T, tol=1e-6).n_samples == 20
    assert sorted(p.name for p in target_dir.iterdir()) == ["real.h5"]
