"""``mpiexec -n 2 isingrbm vmc``: two ranks give the single-rank result (same seed, same walkers).

Walker streams are keyed by the walker's global index, and every rank
gathers all walkers' local energies and log-derivatives and reduces them in
walker order, so the runs are bit-identical: energies, error bars, final
parameters, the whole history and the final local energies.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MPIEXEC = Path(sys.executable).parent / "mpiexec"

pytestmark = pytest.mark.mpi


def _mpiexec():
    if MPIEXEC.exists():
        return str(MPIEXEC)
    return shutil.which("mpiexec")


@pytest.mark.skipif(_mpiexec() is None, reason="mpiexec not installed")
def test_two_ranks_match_one_rank(tmp_path):
    pytest.importorskip("mpi4py")
    args = ["-m", "isingrbm", "vmc", "--particles", "2", "--dims", "2", "--iterations", "10",
            "--samples", "2000", "--walkers", "16", "--seed", "5", "--json", "--quiet",
            "--threads", "1"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = tmp_path / "mpi.h5"
    two = subprocess.run([_mpiexec(), "-n", "2", sys.executable, *args, "--out", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr
    one = subprocess.run([sys.executable, *args, "--out", str(tmp_path / "one.h5")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    a, b = json.loads(two.stdout), json.loads(one.stdout)  # one JSON document: rank 0 only
    assert a["parameters"]["mpi_ranks"] == 2 and b["parameters"]["mpi_ranks"] == 1
    assert a["energy"] == b["energy"] and a["error"] == b["error"]
    pa = np.array([a["final_params"][k] for k in sorted(a["final_params"])])
    pb = np.array([b["final_params"][k] for k in sorted(b["final_params"])])
    np.testing.assert_array_equal(pa, pb)   # bit-identical: one reduction order
    assert abs(a["energy"] - 2.0) < 5e-3
    _same_files(out, tmp_path / "one.h5")


@pytest.mark.skipif(_mpiexec() is None, reason="mpiexec not installed")
def _same_files(a, b):
    from vmc import VMCResult
    ra, rb = VMCResult.load(a), VMCResult.load(b)
    for key in ra.history:
        np.testing.assert_array_equal(ra.history[key], rb.history[key], err_msg=key)
    np.testing.assert_array_equal(ra.params, rb.params)
    np.testing.assert_array_equal(ra.local_energy, rb.local_energy)


def test_tfim_two_ranks_match_one_rank(tmp_path):
    """The quantum Ising run: chains keyed by their global index, so 2 ranks = 1 rank."""
    pytest.importorskip("mpi4py")
    args = ["-m", "isingrbm", "vmc", "--system", "tfim", "--lattice", "chain", "--size", "8",
            "--field", "1", "--iterations", "6", "--samples", "400", "--walkers", "8",
            "--final-samples", "1600",
            "--seed", "3", "--json", "--quiet", "--threads", "1"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    two = subprocess.run([_mpiexec(), "-n", "2", sys.executable, *args, "--out",
                          str(tmp_path / "two.h5")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr
    one = subprocess.run([sys.executable, *args, "--out", str(tmp_path / "one.h5")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    a, b = json.loads(two.stdout), json.loads(one.stdout)
    assert a["parameters"]["mpi_ranks"] == 2
    assert a["energy"] == b["energy"] and a["error"] == b["error"]
    pa = np.array([a["final_params"][k] for k in sorted(a["final_params"])])
    pb = np.array([b["final_params"][k] for k in sorted(b["final_params"])])
    np.testing.assert_array_equal(pa, pb)   # bit-identical: one reduction order
    _same_files(tmp_path / "two.h5", tmp_path / "one.h5")
