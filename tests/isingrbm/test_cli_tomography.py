"""``isingrbm tomography``: refusals, the result file, the fidelity against exact
diagonalization, resume after SIGTERM bit for bit, ``--json`` and ``mpiexec -n 2``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import one_error_line, snapshot

from isingrbm import cli

REPO = Path(__file__).resolve().parents[2]
#: a small run: N = 8 chain at the critical field, a few seconds
BASE = ["tomography", "--lattice", "chain", "--size", "8", "--field", "1",
        "--samples", "4000", "--refine-iterations", "30", "--seed", "3"]


def _main(argv) -> int:
    """``cli.main``'s exit status, argparse's refusals (SystemExit) included."""
    try:
        return cli.main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def _content(path) -> dict:
    """Every dataset's bytes and every root attribute but the creation time."""
    import h5py

    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()].tobytes())
                     if isinstance(obj, h5py.Dataset) else None)
        found.update({f"@{k}": v for k, v in f.attrs.items() if k != "created"})
    return found


@pytest.mark.parametrize("change, fragment", [
    ({"--size": "17"}, "--size 17 of --lattice 'chain' has 17 sites"),
    ({"--lattice": "square", "--size": "5"}, "has 25 sites"),
    ({"--size": "1"}, "--size must be an integer >= 2, got '1'"),
    ({"--lattice": "triangle"}, "--lattice"),
    ({"--field": "0"}, "--field must be a finite number > 0"),
    ({"--field": "-1"}, "--field must be a finite number > 0"),
    ({"--field": "nan"}, "--field must be a finite number"),
    ({"--hidden": "0"}, "--hidden must be an integer >= 1, got '0'"),
    ({"--hidden": "2.5"}, "--hidden must be an integer"),
    ({"--samples": "5"}, "--samples must be an integer >= 10, got '5'"),
    ({"--training": "pcd"}, "--training"),
    ({"--refine-iterations": "-1"}, "--refine-iterations must be an integer >= 0"),
    ({"--learning-rate": "0"}, "--learning-rate must be a finite number > 0"),
    ({"--diag-shift": "-1"}, "--diag-shift must be a finite number >= 0"),
    ({"--epochs": "3"}, "--epochs does not apply to --training exact"),
    ({"--training": "cd", "--fit-iterations": "3"},
     "--fit-iterations does not apply to --training cd"),
    ({"--size": "16", "--hidden": "100000"}, "of memory"),
    ({"--resume": None, "--overwrite": None}, "--resume and --overwrite exclude each other"),
    ({"--out": "{tmp}/no/such/folder/t.h5"}, "does not exist"),
    ({"--field": None}, "--field"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, capsys, change, fragment):
    argv = [*BASE, "--out", str(tmp_path / "t.h5")]
    for key, value in change.items():
        if key in argv:
            at = argv.index(key)
            if value is None and key == "--field":     # leave the option out
                del argv[at:at + 2]
                continue
            argv[at + 1] = value.format(tmp=tmp_path)
        else:
            argv += [key] if value is None else [key, value.format(tmp=tmp_path)]
    assert _main(argv) == 2
    one_error_line(capsys, fragment, command="tomography", empty_stdout=True)
    assert list(tmp_path.iterdir()) == []


def _exact(n: int, field: float):
    """E0 and the positive ground state of the N-site TFIM chain by dense diagonalization,
    in the order of TFIM.basis (bit i of the index set <=> s_i = -1)."""
    dim = 1 << n
    k = np.arange(dim)
    s = 1 - 2 * ((k[:, None] >> np.arange(n)) & 1)
    H = np.diag(-(s * np.roll(s, -1, axis=1)).sum(axis=1).astype(float))
    for i in range(n):
        H[k, k ^ (1 << i)] -= field
    w, v = np.linalg.eigh(H)
    return w[0], np.abs(v[:, 0]), s, H


def test_result_file_and_json_and_fidelity_against_exact_diagonalization(tmp_path, capsys):
    """N = 8, h = 1: the file's E0 is the dense-ED value; the refined RBM, rebuilt from the
    file's parameters (psi = sqrt(p_RBM), v = (s + 1) / 2), has the file's fidelity and
    energy, a fidelity >= 0.999 with the ED ground state and an energy within 1e-3
    relative of E0 and above it (variational, exact sums)."""
    import h5py

    out = tmp_path / "t.h5"
    assert _main([*BASE, "--out", out, "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert captured.err == ""
    e0, psi0, s, H = _exact(8, 1.0)
    with h5py.File(out, "r") as f:
        a = f.attrs
        assert a["format"] == "isingrbm-tomography" and a["status"] == "complete"
        assert a["iterations"] == 30 and f["history/energy"].shape == (30,)
        settings = json.loads(a["settings"])
        assert settings["seed"] == 3 and settings["n_hidden"] == 8
        assert (settings["lattice"], settings["size"], settings["field"]) == ("chain", 8, 1.0)
        assert f["samples"].shape == (4000, 8) and f["samples"].dtype == np.int8
        vb, hb, W = f["visible_bias"][()], f["hidden_bias"][()], f["weights"][()]
        assert W.shape == (8, 8) and f["initial/weights"].shape == (8, 8)
        exact, fidelity, energy = a["exact"], a["refined_fidelity"], a["refined_energy"]
    v = (s + 1) / 2
    log_p = v @ vb + np.logaddexp(0, hb + v @ W).sum(axis=1)
    psi = np.exp(0.5 * (log_p - log_p.max()))
    psi /= np.linalg.norm(psi)
    assert exact == pytest.approx(e0, abs=1e-9)
    assert (psi0 @ psi) ** 2 == pytest.approx(fidelity, abs=1e-10)
    assert psi @ H @ psi == pytest.approx(energy, abs=1e-9)
    assert fidelity >= 0.999
    assert e0 - 1e-9 <= energy <= e0 + 1e-3 * abs(e0)
    assert summary["status"] == "complete" and summary["out"] == str(out)
    assert summary["refined_fidelity"] == fidelity and summary["exact"] == exact
    assert summary["refined_relative_error"] == pytest.approx((energy - e0) / abs(e0), abs=1e-9)
    assert summary["refined_fidelity"] > summary["fidelity"]
    assert summary["settings"]["seed"] == 3 and summary["iterations"] == 30


def test_human_summary_on_stdout(tmp_path, capsys):
    assert _main([*BASE, "--refine-iterations", "2", "--out", tmp_path / "t.h5"]) == 0
    captured = capsys.readouterr()
    assert "TFIM tomography, chain N=8, h = 1" in captured.out
    assert "after 2 SR iterations: fidelity" in captured.out
    assert "seed 3" in captured.err            # the start line


@pytest.mark.parametrize("at_call, after", [(4, False), (12, True)])
def test_sigterm_checkpoints_and_resume_is_bit_identical(tmp_path, capsys, monkeypatch,
                                                         at_call, after):
    """SIGTERM during SR step ``at_call`` (before or after its work): exit 143, one line,
    the checkpoint and no output; --resume then writes the file an uninterrupted run
    writes, every dataset and attribute bit for bit."""
    from vmc.spins.tomography import ExactRefinement

    original = ExactRefinement.step
    calls = []

    def step(self, params):
        calls.append(1)
        if len(calls) == at_call and not after:
            os.kill(os.getpid(), signal.SIGTERM)
        result = original(self, params)
        if len(calls) == at_call and after:
            os.kill(os.getpid(), signal.SIGTERM)
        return result

    out = tmp_path / "t.h5"
    with monkeypatch.context() as patch:
        patch.setattr(ExactRefinement, "step", step)
        assert _main([*BASE, "--out", out, "--quiet"]) == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"isingrbm tomography: interrupted after {at_call - 1} of 30"), err
    checkpoint = tmp_path / "t.h5.checkpoint"
    assert checkpoint.exists() and not out.exists()
    assert _main([*BASE, "--out", out, "--quiet"]) == 2          # neither flag: refused
    one_error_line(capsys, "--resume", command="tomography")
    assert _main([*BASE, "--out", out, "--quiet", "--resume"]) == 0
    assert not checkpoint.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.h5"]   # no lock, no temporary
    reference = tmp_path / "reference" / "t.h5"
    reference.parent.mkdir()
    assert _main([*BASE, "--out", reference, "--quiet"]) == 0
    assert _content(out) == _content(reference)


def test_resume_extends_a_finished_file_or_says_it_is_complete(tmp_path, capsys):
    out = tmp_path / "t.h5"
    short = [*BASE, "--refine-iterations", "10"]   # the later flag wins
    assert _main([*short, "--out", out, "--quiet"]) == 0
    before = snapshot(out)
    assert _main([*short, "--out", out, "--resume"]) == 0
    captured = capsys.readouterr()
    assert "is already complete (10 refinement iterations); nothing to resume" in captured.err
    assert "after 10 SR iterations" in captured.out
    assert snapshot(out) == before
    assert _main([*short, "--out", out, "--resume", "--seed", "4"]) == 2
    one_error_line(capsys, "--seed must match the interrupted run's seed 3", command="tomography")
    assert _main([*short, "--out", out, "--resume", "--hidden", "4"]) == 2
    one_error_line(capsys, "n_hidden was 8, now 4", command="tomography")
    assert _main([*BASE, "--out", out, "--resume", "--quiet"]) == 0      # 10 -> 30
    reference = tmp_path / "reference.h5"
    assert _main([*BASE, "--out", reference, "--quiet"]) == 0
    assert _content(out) == _content(reference)


def _mpiexec():
    local = Path(sys.executable).parent / "mpiexec"
    return str(local) if local.exists() else shutil.which("mpiexec")


@pytest.mark.mpi
@pytest.mark.skipif(_mpiexec() is None, reason="mpiexec not installed")
def test_two_ranks_write_the_one_file_one_process_writes(tmp_path, capsys):
    pytest.importorskip("mpi4py")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    two = subprocess.run([_mpiexec(), "-n", "2", sys.executable, "-m", "isingrbm", *BASE,
                          "--json", "--quiet", "--out", str(tmp_path / "two.h5")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    assert two.returncode == 0, two.stderr
    assert _main([*BASE, "--json", "--quiet", "--out", tmp_path / "one.h5"]) == 0
    a, b = json.loads(two.stdout), json.loads(capsys.readouterr().out)  # rank 0's only
    assert {k: v for k, v in a.items() if k != "out"} == {k: v for k, v in b.items()
                                                          if k != "out"}
    assert _content(tmp_path / "two.h5") == _content(tmp_path / "one.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.h5", "two.h5"]


def test_help_states_the_library_defaults():
    """The options are read after parsing (their help is written by hand): each default the
    help names is the library's."""
    import inspect
    import re

    from isingrbm.commands.tomography import OPTIONS
    from vmc.spins.tomography import tomography_trial_state

    defaults = {name: p.default
                for name, p in inspect.signature(tomography_trial_state).parameters.items()}
    named = 0
    for row in OPTIONS:
        match = re.search(r"default (\d+\.?\d*)\)", row.help)
        if row.setting is not None and match:
            assert float(match[1]) == defaults[row.setting], row.flags
            named += 1
    assert named == 6
