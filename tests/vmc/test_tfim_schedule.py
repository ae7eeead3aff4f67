"""The schedule of a long TFIM run (:mod:`vmc.schedule`) and the square lattice's health.

The tail (a decaying SR step, more samples) and iterate averaging are
options of :func:`vmc.spins.run_tfim` and ``isingrbm vmc``: the per-iteration
learning rate and samples follow the documented formulas, the final
estimate is at the mean of the last parameters, a resumed run continues
bit-identically anywhere in the tail (the average included), and MPI ranks
give one process's numbers. The 4 x 4 lattice at h = 3.04438 with the
options on lands within a few standard errors of exact diagonalization for
several seeds, while a collapsed state (stuck chains) is reported as
unhealthy, never as complete. Convention: J = 1, energies total.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_vmc_mpi import _mpiexec, _same_files

import vmc
from mccore.errors import DivergenceError, InvalidParameterError
from vmc.schedule import Schedule
from vmc.spins import Lattice, exact_energy, run_tfim

ROOT = Path(__file__).resolve().parents[2]

#: a small run with every option of the schedule on
SMALL = dict(n_iterations=12, n_samples=200, n_chains=8, n_threads=1, rng=4,
             tail_iterations=6, tail_samples=400, tail_learning_rate=0.005, average_last=4)


def test_learning_rate_and_samples_follow_the_schedule():
    s = Schedule(10, 0.05, 100, tail_iterations=3, tail_learning_rate=0.005, tail_samples=300)
    assert [s.learning_rate_at(it) for it in range(7)] == [0.05] * 7
    assert s.learning_rate_at(7) == pytest.approx(0.05)
    assert s.learning_rate_at(8) == pytest.approx(np.sqrt(0.05 * 0.005))   # geometric middle
    assert s.learning_rate_at(9) == pytest.approx(0.005)
    assert [s.n_samples_at(it) for it in range(10)] == [100] * 7 + [300] * 3
    plain = Schedule(10, 0.05, 100, average_last=2)
    assert plain.learning_rate_at(9) is None and plain.n_samples_at(9) == 100


def test_the_run_follows_its_schedule(monkeypatch):
    """What each iteration used: the optimizer's rate (seen from the callback, after the
    iteration) and the samples asked of the sampler (the last call: the final estimate)."""
    from vmc.spins.samplers import SpinMetropolisSampler

    rates, asked = [], []
    real = SpinMetropolisSampler.sample

    def sample(self, wf, n_samples, **kw):
        asked.append(n_samples)
        return real(self, wf, n_samples, **kw)

    monkeypatch.setattr(SpinMetropolisSampler, "sample", sample)
    result = run_tfim("chain", 8, 1.0, callback=lambda s: rates.append(
        s.model.optimizer.learning_rate), learning_rate=0.04, n_final_samples=1000, **SMALL)
    np.testing.assert_allclose(rates[:6], 0.04, rtol=1e-15)
    np.testing.assert_allclose(rates[6:], 0.04 * (0.005 / 0.04) ** (np.arange(6) / 5),
                               rtol=1e-12)
    assert asked == [200] * 6 + [400] * 6 + [1000]
    assert result.parameters["tail_iterations"] == 6
    assert result.parameters["average_last"] == 4
    assert any("iterate averaging" in n for n in result.notes)
    assert any("400 samples" in n for n in result.notes)


def test_final_estimate_is_at_the_mean_of_the_last_parameters():
    result = run_tfim("chain", 8, 1.0, **SMALL)
    history = np.asarray(result.history["params"])
    assert history.shape[0] == 12
    np.testing.assert_allclose(result.params, history[-4:].mean(axis=0), rtol=0, atol=1e-15)
    assert not np.allclose(result.params, result.resume_state["iterate"])
    assert result.status == "complete"


def test_defaults_leave_the_run_unchanged():
    """All options off = the plain run (the same numbers, nothing added to the record)."""
    kw = dict(n_iterations=5, n_samples=200, n_chains=8, n_threads=1, rng=4)
    plain = run_tfim("chain", 8, 1.0, **kw)
    off = run_tfim("chain", 8, 1.0, tail_iterations=0, average_last=0, **kw)
    np.testing.assert_array_equal(plain.params, off.params)
    np.testing.assert_array_equal(plain.local_energy, off.local_energy)
    assert "tail_iterations" not in off.parameters and "iterate" not in off.resume_state


def assert_resume_is_bit_identical(tmp_path, settings: dict, stop_at: int):
    """Run the N = 8 chain whole and interrupted at ``stop_at`` then resumed: the same
    numbers. Returns the checkpoint (for further resume attempts)."""
    whole = run_tfim("chain", 8, 1.0, **settings)
    ck = tmp_path / "t.ck"

    def stop(step):
        if step.step == stop_at:
            raise KeyboardInterrupt

    assert run_tfim("chain", 8, 1.0, checkpoint=ck, checkpoint_every=1, callback=stop,
                    **settings).status == "interrupted"
    resumed = run_tfim("chain", 8, 1.0, checkpoint=ck, resume=True, **settings)
    np.testing.assert_array_equal(resumed.params, whole.params)
    np.testing.assert_array_equal(resumed.history["params"], whole.history["params"])
    np.testing.assert_array_equal(resumed.local_energy, whole.local_energy)
    assert resumed.energy.mean == whole.energy.mean
    return ck


@pytest.mark.parametrize("stop_at", [3, 8, 11])
def test_resume_mid_schedule_is_bit_identical(tmp_path, stop_at):
    """Interrupted before the tail, inside it, and inside the averaging window."""
    ck = assert_resume_is_bit_identical(tmp_path, SMALL, stop_at)
    other = dict(SMALL, tail_samples=500)
    with pytest.raises(InvalidParameterError, match="tail_samples was 400, now 500"):
        run_tfim("chain", 8, 1.0, checkpoint=ck, resume=True, **other)


def test_extending_an_averaged_run_continues_from_the_last_iterate(tmp_path):
    out = tmp_path / "done.h5"
    first = run_tfim("chain", 8, 1.0, **SMALL)
    first.save(out)
    longer = run_tfim("chain", 8, 1.0, resume=True, resume_from=out,
                      **dict(SMALL, n_iterations=16))
    assert longer.iterations == 16
    np.testing.assert_array_equal(longer.history["params"][:12], first.history["params"])
    # iteration 13 sampled at the iterate the first run ended with, not at its average
    np.testing.assert_array_equal(longer.history["params"][12], first.resume_state["iterate"])


@pytest.mark.parametrize("kwargs,match", [
    (dict(tail_iterations=13), "tail_iterations must be at most n_iterations 12"),
    (dict(average_last=13), "average_last must be at most n_iterations 12"),
    (dict(tail_iterations=0, tail_samples=10), "tail_samples must go with a tail"),
    (dict(tail_iterations=0, tail_learning_rate=0.01), "tail_learning_rate must go with"),
    (dict(tail_iterations=2, tail_learning_rate=0.01, optimizer="adam"), "optimizer 'sr'"),
    (dict(tail_samples=0, tail_iterations=2), "tail_samples must be an integer >= 1"),
    (dict(tail_learning_rate=-1.0, tail_iterations=2), "tail_learning_rate must be"),
    (dict(average_last=-1), "average_last must be an integer >= 0"),
    (dict(tail_iterations=2.5), "tail_iterations must be an integer"),
])
def test_bad_schedules_are_refused(kwargs, match):
    kw = dict(n_iterations=12, n_samples=10, rng=0)
    kw.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        run_tfim("chain", 6, 1.0, **kw)


# ----------------------------------------------------------- the square lattice's health
#: the 4 x 4 lattice near its critical field (the issue's square-lattice default)
FIELD = 3.04438
SQUARE = dict(alpha=2, symmetric=True, n_iterations=150, n_samples=500, n_final_samples=8000,
              tail_iterations=50, tail_samples=1000, tail_learning_rate=0.005,
              average_last=25, n_threads=1)


@pytest.fixture(scope="module")
def square_exact():
    exact, method = exact_energy(Lattice("square", 4), FIELD)
    assert "diagonalization" in method
    return exact


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_square_lattice_does_not_collapse(seed, square_exact):
    """Healthy and within 4 standard errors of exact diagonalization, never below it by
    more; the variational bias of this short run (~2e-5 relative) is below one error bar,
    which 8000 final samples make ~2e-5 relative. A collapse to the ferromagnetic product
    state (E = -32 at acceptance 0, as a symmetric RBM once gave) fails every check."""
    result = run_tfim("square", 4, FIELD, rng=seed, **SQUARE)
    assert result.status == "complete" and result.health["ok"], result.message
    assert result.acceptance > 0.3
    e, err = result.energy.mean, result.energy.error
    assert 0 < err < 2e-4 * abs(square_exact)
    assert abs(e - square_exact) < 4 * err, (e, err, square_exact)


def test_forced_collapse_is_unhealthy_not_complete():
    """Large random starting parameters put every chain in a state whose single flips
    are all rejected (the collapse's signature); the schedule on, the run ends
    unhealthy with its problems named."""
    result = run_tfim("square", 4, FIELD, rng=1, init_scale=10.0,
                      **dict(SQUARE, n_iterations=6, tail_iterations=3, average_last=3,
                             n_final_samples=2000))
    assert result.status == "unhealthy"
    assert not result.health["ok"]
    assert any("stuck" in p for p in result.health["problems"])


def test_a_huge_step_without_trust_region_never_ends_complete_and_wrong(square_exact):
    """SR at learning rate 0.5 with no diagonal shift and the trust region opened wide:
    each seed either diverges (an error), collapses (unhealthy), or, if it is reported
    complete, is healthy and close to the exact energy."""
    outcomes = []
    for seed in (1, 2, 3):
        try:
            result = run_tfim("square", 4, FIELD, rng=seed, learning_rate=0.5,
                              diag_shift=0.0, max_change=1e9,
                              **dict(SQUARE, n_iterations=30, tail_iterations=10,
                                     tail_learning_rate=0.05, average_last=5,
                                     n_final_samples=2000))
        except DivergenceError:
            outcomes.append("diverged")
            continue
        outcomes.append(result.status)
        if result.status == "complete":
            assert result.health["ok"]
            assert abs(result.energy.mean - square_exact) < 0.01 * abs(square_exact)
        else:
            assert result.status == "unhealthy" and result.health["problems"]
    assert set(outcomes) <= {"diverged", "unhealthy", "complete"}


def test_cli_reports_a_forced_collapse_with_exit_3(tmp_path, capsys, monkeypatch):
    """``isingrbm vmc`` with the schedule on: the collapsed run is written as unhealthy,
    exit status 3, with a warning line."""
    from isingrbm.cli import main

    real = vmc.run_tfim

    def collapsing(*args, **kwargs):
        return real(*args, init_scale=10.0, **kwargs)

    monkeypatch.setattr(vmc, "run_tfim", collapsing)
    out = tmp_path / "t.h5"
    code = main(["vmc", "--system", "tfim", "--lattice", "square", "--size", "4", "--field",
                 str(FIELD), "--alpha", "2", "--iterations", "6", "--samples", "500",
                 "--tail-iterations", "3", "--tail-samples", "1000", "--tail-learning-rate",
                 "0.005", "--average-last", "3", "--final-samples", "2000", "--seed", "1",
                 "--threads", "1", "--json", "--quiet", "--out", str(out)])
    assert code == 3
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["status"] == "unhealthy" and "warning: unhealthy result" in captured.err
    assert data["parameters"]["average_last"] == 3
    assert vmc.VMCResult.load(out).status == "unhealthy"


# ----------------------------------------------------------- MPI: ranks = one process
@pytest.mark.mpi
@pytest.mark.skipif(_mpiexec() is None, reason="mpiexec not installed")
def test_schedule_two_ranks_match_one_rank(tmp_path):
    """Mid-tail samples and rates, and the average, are the same on 2 ranks as on 1."""
    pytest.importorskip("mpi4py")
    args = ["-m", "isingrbm", "vmc", "--system", "tfim", "--lattice", "chain", "--size", "8",
            "--field", "1", "--iterations", "8", "--samples", "400", "--walkers", "8",
            "--tail-iterations", "4", "--tail-samples", "800", "--tail-learning-rate", "0.005",
            "--average-last", "3", "--final-samples", "1600", "--seed", "3", "--json",
            "--quiet", "--threads", "1"]
    summary = one_and_two_ranks(tmp_path, args)
    assert summary[2]["parameters"]["mpi_ranks"] == 2
    assert summary[2]["parameters"]["average_last"] == 3
    assert summary[2]["energy"] == summary[1]["energy"]
    assert summary[2]["error"] == summary[1]["error"]
    _same_files(tmp_path / "2.h5", tmp_path / "1.h5")    # history, params, local energies


def one_and_two_ranks(tmp_path, args) -> dict:
    """Run ``python ARGS --out`` on 2 MPI ranks and in one process: {ranks: --json summary};
    the two files hold the same history, parameters and local energies."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    summary = {}
    for ranks, launch in ((2, [_mpiexec(), "-n", "2", sys.executable]), (1, [sys.executable])):
        done = subprocess.run([*launch, *args, "--out", str(tmp_path / f"{ranks}.h5")],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        summary[ranks] = json.loads(done.stdout)     # one JSON document: rank 0 only
    _same_files(tmp_path / "2.h5", tmp_path / "1.h5")
    return summary
