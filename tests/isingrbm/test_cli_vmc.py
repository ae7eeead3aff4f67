"""``isingrbm vmc`` in-process: bad input (one stderr line, exit 2, files untouched),
the JSON contract, the result file and the figure."""

import json

import pytest
from cli_helpers import one_error_line

from isingrbm.cli import main
from vmc import VMCResult

SMALL = ["--iterations", "5", "--samples", "500", "--seed", "1", "--threads", "1"]


#: the fragment each one error line must contain -> the bad argv (split on spaces;
#: "--particles 1 --dims 2" goes first where a case sets neither)
TRAP_BAD_INPUT = {
    "--particles": ["--particles 0 --dims 2"],
    "--dims": ["--particles 1 --dims 4", "--particles 1 --dims 0"],
    "--hidden": ["--hidden 0"],
    "--sampler": ["--sampler hmc"],
    "--optimizer": ["--optimizer lbfgs"],
    "--interaction": ["--interaction yukawa"],
    "coulomb": ["--particles 2 --dims 2 --jastrow pade",
                "--particles 2 --dims 1 --interaction coulomb"],
    "gibbs": ["--particles 2 --dims 2 --interaction coulomb --jastrow pade --sampler gibbs"],
    # issue 10 #5/#14: huge or meaningless values, refused before any work
    # (--walkers 1e10 used to hang, --omega 1e-300 printed 1.61e-300 +- 0)
    "--omega": ["--omega 0", "--omega -1", "--omega 1e300", "--omega 1e-300", "--omega 1e-4"],
    "memory": ["--hidden 1e9", "--particles 1e9 --dims 2", "--samples 1e13", "--walkers 1e10"],
}


@pytest.mark.parametrize("argv,flag", [(argv, flag) for flag, cases in TRAP_BAD_INPUT.items()
                                       for argv in cases])
def test_bad_input_one_line_exit_2_before_any_work(capsys, tmp_path, argv, flag):
    argv = argv.split()
    if "--particles" not in argv:
        argv = ["--particles", "1", "--dims", "2", *argv]
    small = ["--iterations", "5", "--seed", "1", "--threads", "1"]
    if "--samples" not in argv:
        small += ["--samples", "500"]
    out = tmp_path / "v.h5"
    assert main(["vmc", *argv, *small, "--out", str(out)]) == 2
    one_error_line(capsys, flag, command="vmc", empty_stdout=True)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_untouched(tmp_path, capsys):
    out = tmp_path / "r.h5"
    out.write_bytes(b"keep me")
    assert main(["vmc", "--particles", "1", "--dims", "1", "--out", str(out), *SMALL]) == 2
    assert out.read_bytes() == b"keep me"
    assert "--overwrite" in capsys.readouterr().err


def test_json_contract_file_and_plot(tmp_path, capsys):
    out = tmp_path / "r.h5"
    plots = tmp_path / "figs"
    code = main(["vmc", "--particles", "2", "--dims", "2", "--sampler", "metropolis",
                 "--optimizer", "sr", "--iterations", "30", "--samples", "1000", "--seed", "4",
                 "--threads", "1", "--json", "--quiet", "--out", str(out), "--plots",
                 str(plots)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("energy", "error", "variance", "acceptance", "exact", "iterations", "parameters"):
        assert key in data
    for key in ("sampler", "optimizer", "hidden", "jastrow", "omega", "particles", "dims", "seed"):
        assert key in data["parameters"]
    assert data["parameters"]["seed"] == 4 and data["exact"] == 2.0
    assert data["iterations"] == 30
    assert abs(data["energy"] - 2.0) < 1e-3
    result = VMCResult.load(out)
    assert result.energy.mean == data["energy"]
    assert (plots / "vmc_energy.png").stat().st_size > 1000


def test_summary_shows_exact_and_cusp_note(capsys):
    code = main(["vmc", "--particles", "2", "--dims", "2", "--interaction", "coulomb",
                 *SMALL])
    assert code == 0
    text = capsys.readouterr().out
    assert "exact:      3" in text and "±" in text
    assert "unreliable" in text


# ------------------------------------------------------------ issue 10: reliability
def test_existing_figure_not_overwritten_without_overwrite(tmp_path, capsys):
    """Issue 10 #6: an existing vmc_energy.png is kept (and nothing computed or written)."""
    plots = tmp_path / "figs"
    plots.mkdir()
    (plots / "vmc_energy.png").write_bytes(b"mine")
    out = tmp_path / "v.h5"
    assert main(["vmc", "--particles", "1", "--dims", "1", *SMALL, "--plots", str(plots),
                 "--out", str(out)]) == 2
    assert (plots / "vmc_energy.png").read_bytes() == b"mine"
    assert "--overwrite" in capsys.readouterr().err and not out.exists()
    assert main(["vmc", "--particles", "1", "--dims", "1", *SMALL, "--plots", str(plots),
                 "--overwrite", "--quiet"]) == 0
    assert (plots / "vmc_energy.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in plots.iterdir()) == ["vmc_energy.png"]


def test_unwritable_plots_folder_refused_before_out_is_written(tmp_path, capsys):
    """Issue 10 #6: --out v.h5 --plots READONLY used to write v.h5 and then fail."""
    import os
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o555)
    try:
        if os.access(readonly, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        out = tmp_path / "v.h5"
        assert main(["vmc", "--particles", "1", "--dims", "1", *SMALL, "--out", str(out),
                     "--plots", str(readonly)]) == 2
        assert "not writable" in capsys.readouterr().err
        assert not out.exists()
    finally:
        readonly.chmod(0o755)


def test_missing_plots_parent_refused_before_out_is_written(tmp_path, capsys):
    out = tmp_path / "v.h5"
    assert main(["vmc", "--particles", "1", "--dims", "1", *SMALL, "--out", str(out),
                 "--plots", str(tmp_path / "no" / "figs")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


def test_plot_does_not_switch_the_matplotlib_backend(tmp_path):
    """Issue 11: the figure is drawn on its own Agg canvas; the process's backend stays."""
    import matplotlib
    old = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        assert main(["vmc", "--particles", "1", "--dims", "1", *SMALL, "--quiet",
                     "--plots", str(tmp_path)]) == 0
        assert matplotlib.get_backend() == "svg"
        assert (tmp_path / "vmc_energy.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        matplotlib.use(old)


def _unshare_available():
    import shutil
    import subprocess
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_available(), reason="needs unshare -rm (user namespaces)")
def test_full_disk_one_line_exit_2_no_temporary_left(tmp_path):
    """Issue 10 #4: vmc --out on a full disk (a 16 KiB tmpfs): one 'No space left on
    device' line, exit 2, no .*.tmp left (was a segfault, exit 139)."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size=16k tmpfs {disk} && cd {root} && "
              f"{sys.executable} -m isingrbm vmc --particles 2 --dims 2 --iterations 3 "
              f"--samples 2000 --seed 1 --threads 1 --quiet --out {disk}/v.h5; "
              f"echo rc=$?; ls -a {disk}")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                          text=True, timeout=300)
    assert "rc=2" in proc.stdout, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], proc.stderr
    listing = proc.stdout.split("rc=2", 1)[1].split()
    assert not [name for name in listing if name.endswith(".tmp") or name == "v.h5"], listing


def test_cli_resume_extends_a_finished_run(tmp_path, capsys):
    """Issue 11: --resume continues (or extends) the run of --out; same numbers as one run."""
    out = tmp_path / "v.h5"
    base = ["vmc", "--particles", "1", "--dims", "2", "--samples", "400", "--seed", "3",
            "--threads", "1", "--quiet", "--json", "--out", str(out)]
    assert main([*base, "--iterations", "4"]) == 0
    assert not (tmp_path / "v.h5.checkpoint").exists()
    assert main([*base, "--iterations", "7", "--resume"]) == 0
    extended = VMCResult.load(out)
    direct = tmp_path / "d.h5"
    assert main([*base[:-1], str(direct), "--iterations", "7"]) == 0
    assert extended.iterations == 7
    assert extended.params.tolist() == VMCResult.load(direct).params.tolist()
    capsys.readouterr()
    assert main([*base, "--iterations", "9", "--resume", "--hidden", "3"]) == 2
    assert "hidden was 2, now 3" in capsys.readouterr().err
    assert VMCResult.load(out).iterations == 7


# ------------------------------------------------------------ issue 13: quantum Ising
TFIM = ["--system", "tfim", "--seed", "1", "--threads", "1"]


@pytest.mark.parametrize("argv,flag", [
    (["--lattice", "chain", "--size", "10", "--field", "0"], "--field"),
    (["--lattice", "chain", "--size", "10", "--field", "-1"], "h > 0"),
    (["--lattice", "chain", "--size", "1", "--field", "1"], "--size"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--alpha", "0"], "--alpha"),
    (["--lattice", "ring", "--size", "10", "--field", "1"], "--lattice"),
    (["--lattice", "chain", "--field", "1"], "--size"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--particles", "2"], "--particles"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--sampler", "gibbs"], "--sampler"),
    (["--lattice", "square", "--size", "100", "--field", "1"], "sites"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--global-flip", "2"],
     "--global-flip"),
    (["--lattice", "chain", "--size", "400", "--field", "1", "--alpha", "1000"], "memory"),
    # the schedule of a long run (vmc.schedule): each rule, then across settings
    (["--lattice", "chain", "--size", "10", "--field", "1", "--tail-iterations", "-1"],
     "--tail-iterations must be an integer >= 0"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--iterations", "10",
      "--tail-iterations", "11"], "--tail-iterations must be at most --iterations 10"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--tail-samples", "2000"],
     "--tail-samples must go with a tail of the run, got --tail-iterations 0"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--tail-iterations", "5",
      "--tail-learning-rate", "0"], "--tail-learning-rate must be a finite number > 0"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--tail-iterations", "5",
      "--tail-learning-rate", "0.01", "--optimizer", "adam"], "--optimizer 'sr'"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--iterations", "10",
      "--average-last", "20"], "--average-last must be at most --iterations 10"),
    (["--lattice", "chain", "--size", "10", "--field", "1", "--tail-iterations", "5",
      "--tail-samples", "1e12"], "memory"),
])
def test_tfim_bad_input_one_line_exit_2(capsys, tmp_path, argv, flag):
    out = tmp_path / "t.h5"
    assert main(["vmc", *TFIM, *argv, "--out", str(out)]) == 2
    one_error_line(capsys, flag, command="vmc")
    assert list(tmp_path.iterdir()) == []


def test_trap_refuses_tfim_options(capsys):
    assert main(["vmc", "--particles", "2", "--dims", "2", "--alpha", "2", *SMALL]) == 2
    assert "--alpha applies to --system tfim" in capsys.readouterr().err
    assert main(["vmc", "--particles", "2", "--dims", "2", "--average-last", "5", *SMALL]) == 2
    assert "--average-last applies to --system tfim" in capsys.readouterr().err


def test_tfim_json_contract_and_file(tmp_path, capsys):
    """N = 6 chain, h = 1: energy beside the free-fermion value, relative error,
    variance, observables; the result file round-trips them."""
    out = tmp_path / "t.h5"
    code = main(["vmc", *TFIM, "--lattice", "chain", "--size", "6", "--field", "1",
                 "--iterations", "60", "--samples", "500", "--json", "--quiet",
                 "--out", str(out), "--plots", str(tmp_path)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("energy", "error", "exact", "relative_error", "variance", "observables",
                "energy_per_site", "acceptance"):
        assert key in data
    assert data["exact"] == pytest.approx(-7.727406610312546, abs=1e-9)
    assert data["relative_error"] < 0.01
    for key in ("sx", "abs_mz", "mz2", "correlation", "variance"):
        assert key in data["observables"]
    assert len(data["observables"]["correlation"]) == 4
    assert data["parameters"]["system"] == "tfim" and data["parameters"]["seed"] == 1
    back = VMCResult.load(out)
    assert back.observables["sx"]["mean"] == data["observables"]["sx"]["mean"]
    assert "relative error" in back.summary()
    assert (tmp_path / "vmc_energy.png").exists()


# ------------------------------------------------------------ issue 21: health; issue 19: resume
def test_stuck_chains_are_unhealthy_exit_3(tmp_path, capsys):
    """h = 0.01: the optimized state is so close to the ferromagnet that single flips are
    never accepted; the run is written with status "unhealthy", warns even with --quiet
    and exits 3 instead of presenting a zero error bar as a result."""
    out = tmp_path / "t.h5"
    code = main(["vmc", *TFIM, "--lattice", "chain", "--size", "8", "--field", "0.01",
                 "--iterations", "50", "--samples", "200", "--json", "--quiet",
                 "--out", str(out)])
    assert code == 3
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["status"] == "unhealthy" and not data["health"]["ok"]
    assert any("stuck" in p for p in data["health"]["problems"])
    assert "warning: unhealthy result" in captured.err
    back = VMCResult.load(out)
    assert back.status == "unhealthy" and back.health["problems"] == data["health"]["problems"]
    assert "UNHEALTHY RESULT" in back.summary()


def test_healthy_tfim_run_is_complete(tmp_path, capsys):
    code = main(["vmc", *TFIM, "--lattice", "chain", "--size", "6", "--field", "1",
                 "--iterations", "20", "--samples", "500", "--json", "--quiet"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "complete" and data["health"]["ok"]
    assert data["health"]["problems"] == [] and data["error"] > 0


def _tfim_run(out, *extra):
    return main(["vmc", *TFIM, "--lattice", "chain", "--size", "6", "--field", "1",
                 "--iterations", "4", "--samples", "200", "--quiet", "--out", str(out), *extra])


def test_resume_refusals_leave_no_checkpoint_and_the_file_untouched(tmp_path, capsys):
    out = tmp_path / "t.h5"
    assert _tfim_run(out) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert _tfim_run(out, "--resume", "--iterations", "6", "--field", "2") == 2
    assert "field was 1.0, now 2.0" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.h5"]
    # an HDF5 file that is not a VMC result (e.g. an Ising dataset) as --out
    import h5py
    data = tmp_path / "d.h5"
    with h5py.File(data, "w") as f:
        f.attrs["format"] = "isingrbm-ising"
        f.create_dataset("samples/T2/spins", data=[[[1]]])
    data_bytes = data.read_bytes()
    assert _tfim_run(data, "--resume") == 2
    assert "isingrbm-vmc" in capsys.readouterr().err
    assert data.read_bytes() == data_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.h5", "t.h5"]


def test_resume_of_a_finished_file_leaves_it_untouched(tmp_path, capsys):
    """Nothing to add: the file keeps its bytes (timestamps included); the temporaries a
    killed checkpoint write left (our naming only) are removed, other files kept."""
    out = tmp_path / "t.h5"
    assert _tfim_run(out) == 0
    before = out.read_bytes()
    stale = [tmp_path / ".t.h5.checkpoint.ab_cd123.tmp", tmp_path / ".t.h5.x1y2z3w4.tmp"]
    keep = [tmp_path / ".t.h5.checkpoint.mine.tmp", tmp_path / ".other.h5.ab_cd123.tmp"]
    for path in stale + keep:
        path.write_bytes(b"partial")
    assert _tfim_run(out, "--resume") == 0
    assert out.read_bytes() == before
    assert "unchanged" in capsys.readouterr().out
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in keep)


def test_resume_after_a_killed_checkpoint_write(tmp_path):
    """A SIGKILL during a checkpoint write leaves .t.h5.checkpoint.XXXXXXXX.tmp; the
    successful resume removes it and leaves only the result."""
    out = tmp_path / "t.h5"
    assert _tfim_run(out) == 0
    (tmp_path / ".t.h5.checkpoint.k1ll3d_x.tmp").write_bytes(b"half an HDF5 file")
    assert _tfim_run(out, "--resume", "--iterations", "6") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.h5"]
    assert VMCResult.load(out).iterations == 6


def test_quiet_interrupt_still_says_interrupted(tmp_path, capsys, monkeypatch):
    import vmc.driver

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vmc.driver.VMC, "_iteration", interrupted)
    assert _tfim_run(tmp_path / "t.h5") == 130
    err = capsys.readouterr().err
    assert "isingrbm vmc: interrupted after 0 iterations" in err
    assert "nan" not in err.lower()


def test_tfim_defaults_symmetric_rbm_alpha_4(capsys):
    """Issue 21 target 1: the defaults are the symmetric RBM with 4 filters, 1000
    iterations and 100000 final samples (fewer on large lattices); --no-symmetric
    gives the plain RBM with one hidden unit per spin."""
    from isingrbm.commands.vmc import tfim_final_samples

    base = ["vmc", *TFIM, "--lattice", "chain", "--size", "6", "--field", "1",
            "--iterations", "0", "--samples", "64", "--json", "--quiet"]
    assert main(base) == 0
    p = json.loads(capsys.readouterr().out)["parameters"]
    assert (p["symmetric"], p["alpha"], p["n_params"]) == (True, 4, 4 * 6 + 4 + 1)
    assert p["final_samples"] == 100_000
    assert main([*base, "--no-symmetric"]) == 0
    p = json.loads(capsys.readouterr().out)["parameters"]
    assert (p["symmetric"], p["alpha"], p["n_params"]) == (False, 1, 6 + 6 + 36)
    assert tfim_final_samples(400, 4, 1000) == 25_000
    assert tfim_final_samples(400, 4, 10_000) == 40_000


# ------------------------------------------------------------ one resume-seed rule (mccore.training)
_SYSTEMS = {
    "trap": ["--particles", "1", "--dims", "2"],
    "tfim": ["--system", "tfim", "--lattice", "chain", "--size", "6", "--field", "1"],
}


@pytest.mark.parametrize("system", sorted(_SYSTEMS))
def test_resume_with_another_seed_is_refused_in_one_line(tmp_path, capsys, monkeypatch, system):
    """As fit and gan fit: --resume --seed S with S not the interrupted run's seed is refused
    (one line, exit 2, nothing touched); without --seed or with the same seed the run
    continues to the numbers of the uninterrupted run."""
    import vmc.driver

    out = tmp_path / "v.h5"
    run = ["vmc", *_SYSTEMS[system], "--iterations", "6", "--samples", "200",
           "--final-samples", "400", "--threads", "1", "--out", str(out)]
    assert main([*run[:-1], str(tmp_path / "whole.h5"), "--seed", "1", "--quiet"]) == 0
    whole = VMCResult.load(tmp_path / "whole.h5")

    iteration = vmc.driver.VMC._iteration

    def interrupt_at_3(self, it, *args, **kwargs):
        if it == 3:
            raise KeyboardInterrupt
        return iteration(self, it, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(vmc.driver.VMC, "_iteration", interrupt_at_3)
        assert main([*run, "--seed", "1", "--quiet"]) == 130
    checkpoint = tmp_path / "v.h5.checkpoint"
    before = checkpoint.read_bytes()
    capsys.readouterr()
    assert main([*run, "--resume", "--seed", "2"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "isingrbm vmc: error: --seed must match the interrupted run's seed 1 to resume, got 2"]
    assert captured.out == ""
    assert checkpoint.read_bytes() == before and not out.exists()
    assert main([*run, "--resume", "--quiet"] + (["--seed", "1"] if system == "tfim" else [])) == 0
    resumed = VMCResult.load(out)
    assert resumed.parameters["seed"] == 1 and not checkpoint.exists()
    assert resumed.params.tolist() == whole.params.tolist()
    assert resumed.history["energy"].tolist() == whole.history["energy"].tolist()
    assert resumed.energy == whole.energy
    # a finished --out is extended under the same rule
    assert main([*run, "--resume", "--iterations", "8", "--seed", "3"]) == 2
    assert "interrupted run's seed 1 to resume, got 3" in capsys.readouterr().err
    assert VMCResult.load(out).iterations == 6
