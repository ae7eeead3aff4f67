"""SR's three linear solvers (dense S, sample-space minSR, matrix-free CG) and the choice among them.

Every solver must return the delta of the direct dense solve of
``(S + D) delta = -lr g`` (``S = O^T O / n``, D the constant or Carleo
shift) for random O and g of every shape (n < P, n = P, n > P); the choice
``solver="auto"`` follows the shape; with exact expectations over all 2^N
states of a small chain (the log-derivatives checked against finite
differences) the SR step of every solver is the exact natural-gradient step; under ``mpiexec -n 2`` with the rows split over the
ranks every solver gives the one-process delta.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from vmc_reference import assert_log_derivatives_match_finite_differences

from mccore.errors import InvalidParameterError, IsingRBMWarning
from vmc.optimizers import CG_MIN_SIZE, SR, carleo_shift, choose_solver
from vmc.spins import TFIM, Lattice, SpinRBM

SOLVERS = ("dense", "minsr", "cg")
SHAPES = [(30, 80), (80, 80), (200, 48), (1000, 37), (7, 120)]


def _direct(O, grad, lr, shift, schedule, step=0):
    """The reference: S formed by hand and solved by numpy's LU solve."""
    n, n_params = O.shape
    S = O.T @ O / n
    d = carleo_shift(step) * np.diag(S) + shift if schedule == "carleo" else \
        np.full(n_params, shift)
    return np.linalg.solve(S + np.diag(d), -lr * grad)


def _problem(rng, n, n_params):
    # columns of very different scales, as RBM log-derivatives have
    O = rng.standard_normal((n, n_params)) * rng.uniform(0.01, 2.0, n_params)
    O -= O.mean(axis=0)
    return O, rng.standard_normal(n_params)


@pytest.mark.parametrize("n,n_params", SHAPES)
@pytest.mark.parametrize("schedule", ["constant", "carleo"])
@pytest.mark.parametrize("solver", SOLVERS + ("auto",))
def test_every_solver_gives_the_direct_solution(n, n_params, schedule, solver, rng):
    O, grad = _problem(rng, n, n_params)
    sr = SR(0.1, diag_shift=0.01, shift_schedule=schedule, solver=solver, cg_tol=1e-13,
            cg_maxiter=20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IsingRBMWarning)    # n <= P: S is singular
        delta = sr.step(grad, O)
    expected = _direct(O, grad, 0.1, 0.01, schedule)
    np.testing.assert_allclose(delta, expected, rtol=1e-8, atol=1e-10 * np.abs(expected).max())
    used = sr.last_solve["solver"]
    assert used == (choose_solver(n, n_params) if solver == "auto" else solver)
    if used == "cg":
        assert sr.last_solve["residual"] <= 1e-13
    assert sr.n_steps == 1


def test_auto_follows_the_shape():
    assert choose_solver(1008, 440) == "dense"
    assert choose_solver(1008, 160_800) == "minsr"
    assert choose_solver(1008, 1008) == "dense"
    assert choose_solver(CG_MIN_SIZE, CG_MIN_SIZE) == "cg"
    assert choose_solver(CG_MIN_SIZE - 1, 10 * CG_MIN_SIZE) == "minsr"


def test_minsr_without_a_shift_falls_back_to_the_dense_solve(rng):
    O, grad = _problem(rng, 20, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IsingRBMWarning)
        sr = SR(0.1, diag_shift=0.0, solver="minsr")
        delta = sr.step(grad, O)
    assert sr.last_solve["solver"] == "dense"
    # S is singular (rank 19): the least-squares solution, which S maps back onto -lr g's
    # part in the range of O^T
    S = O.T @ O / 20
    proj = O.T @ np.linalg.lstsq(O.T, -0.1 * grad, rcond=None)[0]
    np.testing.assert_allclose(S @ delta, proj, atol=1e-8)


def test_cg_that_stops_early_warns_once_and_reports_its_residual(rng):
    O, grad = _problem(rng, 200, 48)
    sr = SR(0.1, diag_shift=1e-6, solver="cg", cg_maxiter=2)
    with pytest.warns(IsingRBMWarning, match="stopped after 2 iterations"):
        sr.step(grad, O)
    assert sr.last_solve["iterations"] == 2 and sr.last_solve["residual"] > sr.cg_tol
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sr.step(grad, O)      # once only


@pytest.mark.parametrize("kwargs,match", [({"solver": "lu"}, "solver must be one of"),
                                          ({"cg_tol": 0.0}, "cg_tol"),
                                          ({"cg_tol": 1.5}, "cg_tol"),
                                          ({"cg_maxiter": 0}, "cg_maxiter"),
                                          ({"cg_maxiter": 2.5}, "cg_maxiter")])
def test_bad_solver_settings_are_refused(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        SR(0.1, **kwargs)


@pytest.mark.parametrize("size,alpha", [(6, 1), (4, 2)])     # 64 rows > 48, 16 rows < 44
@pytest.mark.parametrize("solver", SOLVERS + ("auto",))
def test_sr_step_is_the_exact_natural_gradient_step(size, alpha, solver):
    """Exact expectations over all 2^N states of a chain (h = 1): with rows weighted so
    that O^T O / n is the exact S, every solver's step is (S + 0.01)^-1 (-lr g), S and
    g built from the log-derivatives (checked against finite differences first) and the
    exact matrix of H."""
    lattice = Lattice("chain", size)
    ham = TFIM(lattice, 1.0)
    s = TFIM.basis(size)
    wf = SpinRBM(size, alpha, init_scale=0.3, rng=4)
    lp = wf.log_psi(s)
    psi = np.exp(lp - lp.max())
    p = psi**2 / (psi @ psi)
    e_local = (ham.sparse_matrix() @ psi) / psi        # E_L from the matrix of H
    assert_log_derivatives_match_finite_differences(wf, s, h=1e-6, atol=1e-8)
    O = wf.log_psi_param_grad(s)
    O_c = O - p @ O
    grad = 2 * (p * (e_local - p @ e_local)) @ O_c
    S = (O_c * p[:, None]).T @ O_c
    expected = np.linalg.solve(S + 0.01 * np.eye(wf.n_params), -0.05 * grad)
    rows = O_c * np.sqrt(p * p.size)[:, None]
    sr = SR(0.05, diag_shift=0.01, solver=solver, cg_tol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IsingRBMWarning)
        delta = sr.step(grad, rows)
    np.testing.assert_allclose(delta, expected, rtol=1e-7, atol=1e-9 * np.abs(expected).max())


_MPI_SCRIPT = textwrap.dedent("""
    import warnings
    import numpy as np
    from mpi4py import MPI
    from vmc.optimizers import SR
    comm = MPI.COMM_WORLD
    rng = np.random.default_rng(3)
    for n, n_params in [(40, 90), (300, 50)]:
        O = rng.standard_normal((n, n_params)) * rng.uniform(0.01, 2.0, n_params)
        O -= O.mean(axis=0)
        grad = rng.standard_normal(n_params)
        half = n // 2
        mine = O[:half] if comm.Get_rank() == 0 else O[half:]
        for schedule in ("constant", "carleo"):
            for solver in ("dense", "minsr", "cg", "auto"):
                kw = dict(diag_shift=0.01, shift_schedule=schedule, solver=solver, cg_tol=1e-13)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    split = SR(0.1, comm=comm, **kw)
                    got = split.step(grad, mine)
                    want = SR(0.1, **kw).step(grad, O)
                assert split.last_solve["solver"] in (solver, "dense") or solver == "auto"
                np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    if comm.Get_rank() == 0:
        print("ok")
""")


@pytest.mark.mpi
@pytest.mark.skipif(shutil.which("mpiexec", path=str(Path(sys.executable).parent)
                                 + os.pathsep + os.environ.get("PATH", "")) is None,
                    reason="mpiexec not installed")
def test_every_solver_under_two_ranks_gives_the_one_process_delta(tmp_path):
    pytest.importorskip("mpi4py")
    root = Path(__file__).resolve().parents[2]
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent) + os.pathsep
                           + os.environ.get("PATH", ""))
    script = tmp_path / "sr_mpi.py"
    script.write_text(_MPI_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(root), OPENBLAS_NUM_THREADS="1")
    run = subprocess.run([mpiexec, "-n", "2", sys.executable, str(script)], cwd=root, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
