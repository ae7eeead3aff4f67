"""SR's diagonal shift decaying over the tail of a TFIM run (``tail_diag_shift``).

The shift of every iteration follows ``eps * (eps_tail / eps) ** (k / (T - 1))``
in the tail (k-th of T iterations) and ``diag_shift`` before it, as the
optimizer sees it when it steps; without the option a run is unchanged
(the plain schedule's numbers and record); a run interrupted inside the
tail resumes bit-identically and refuses a different ``tail_diag_shift``;
bad input is refused in one line with exit status 2 before any file is
made. Convention: J = 1, energies total.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_tfim_schedule import SMALL, assert_resume_is_bit_identical, one_and_two_ranks
from test_vmc_mpi import _mpiexec

from isingrbm.cli import main
from mccore.errors import InvalidParameterError
from vmc.schedule import Schedule
from vmc.spins import run_tfim

#: the schedule of test_tfim_schedule with the shift decaying 0.02 -> 0.0005 over its tail
SHIFTED = dict(SMALL, diag_shift=0.02, tail_diag_shift=5e-4)


def test_shift_follows_the_formula():
    s = Schedule(10, 0.05, 100, tail_iterations=4, diag_shift=0.01, tail_diag_shift=1e-5)
    assert [s.diag_shift_at(it) for it in range(7)] == [0.01] * 7
    expected = 0.01 * 1e-3 ** (np.arange(4) / 3)            # 1e-2, 1e-3, 1e-4, 1e-5
    np.testing.assert_allclose([s.diag_shift_at(it) for it in range(6, 10)], expected,
                               rtol=1e-12)
    np.testing.assert_allclose([1e-2, 1e-3, 1e-4, 1e-5], expected, rtol=1e-12)
    assert s.diag_shift_at(25) == pytest.approx(1e-5)       # past the end: the last value
    one = Schedule(10, 0.05, 100, tail_iterations=1, diag_shift=0.01, tail_diag_shift=1e-4)
    assert one.diag_shift_at(8) == 0.01 and one.diag_shift_at(9) == 1e-4
    assert Schedule(10, 0.05, 100, tail_iterations=4, diag_shift=0.01).diag_shift_at(9) is None


@pytest.mark.parametrize("tail,start,end", [(5, 0.01, 1e-4), (2, 0.03, 0.02), (9, 1e-3, 1.0)])
def test_shift_is_geometric_and_monotone(tail, start, end):
    """Property: constant ratio between consecutive tail iterations, endpoints exact,
    never outside [min, max] of the two shifts."""
    s = Schedule(12, 0.05, 100, tail_iterations=tail, diag_shift=start, tail_diag_shift=end)
    values = np.array([s.diag_shift_at(it) for it in range(12)])
    inside = values[12 - tail:]
    assert inside[0] == pytest.approx(start) and inside[-1] == pytest.approx(end)
    ratios = inside[1:] / inside[:-1]
    np.testing.assert_allclose(ratios, (end / start) ** (1 / (tail - 1)), rtol=1e-12)
    assert np.all(values >= min(start, end) * (1 - 1e-12))
    assert np.all(values <= max(start, end) * (1 + 1e-12))


def test_the_shift_used_follows_the_schedule(monkeypatch):
    """The shift SR solves with at each step (seen inside SR.step), and the record."""
    from vmc.optimizers import SR

    used = []
    real = SR.step

    def step(self, grad, O_centered):
        used.append((self.diag_shift, self.learning_rate))
        return real(self, grad, O_centered)

    monkeypatch.setattr(SR, "step", step)
    result = run_tfim("chain", 8, 1.0, learning_rate=0.04, **SHIFTED)
    shifts = np.array([u[0] for u in used])
    rates = np.array([u[1] for u in used])
    assert len(used) == 12
    np.testing.assert_allclose(shifts[:6], 0.02, rtol=0)
    np.testing.assert_allclose(shifts[6:], 0.02 * (5e-4 / 0.02) ** (np.arange(6) / 5),
                               rtol=1e-12)
    np.testing.assert_allclose(rates[6:], 0.04 * (0.005 / 0.04) ** (np.arange(6) / 5),
                               rtol=1e-12)
    assert result.parameters["tail_diag_shift"] == 5e-4
    assert result.parameters["diag_shift"] == 0.02
    assert any("diagonal shift 0.02 decaying geometrically to 0.0005" in n
               for n in result.notes)


def test_the_shift_changes_the_run_and_off_changes_nothing():
    plain = run_tfim("chain", 8, 1.0, **dict(SMALL, diag_shift=0.02))
    off = run_tfim("chain", 8, 1.0, tail_diag_shift=None, **dict(SMALL, diag_shift=0.02))
    shifted = run_tfim("chain", 8, 1.0, **SHIFTED)
    np.testing.assert_array_equal(plain.params, off.params)
    np.testing.assert_array_equal(plain.local_energy, off.local_energy)
    assert "tail_diag_shift" not in off.parameters
    hist_p, hist_s = np.asarray(plain.history["params"]), np.asarray(shifted.history["params"])
    # identical until the first step taken with a smaller shift (iteration 7's parameters)
    np.testing.assert_array_equal(hist_p[:7], hist_s[:7])
    assert not np.array_equal(hist_p[7:], hist_s[7:])


@pytest.mark.parametrize("stop_at", [7, 10])
def test_resume_inside_the_tail_is_bit_identical(tmp_path, stop_at):
    ck = assert_resume_is_bit_identical(tmp_path, SHIFTED, stop_at)
    with pytest.raises(InvalidParameterError, match="tail_diag_shift was 0.0005, now 0.001"):
        run_tfim("chain", 8, 1.0, checkpoint=ck, resume=True,
                 **dict(SHIFTED, tail_diag_shift=1e-3))
    with pytest.raises(InvalidParameterError, match="tail_diag_shift was 0.0005, now None"):
        run_tfim("chain", 8, 1.0, checkpoint=ck, resume=True,
                 **dict(SHIFTED, tail_diag_shift=None))


@pytest.mark.parametrize("kwargs,match", [
    (dict(tail_iterations=0, tail_diag_shift=1e-3), "tail_diag_shift must go with a tail"),
    (dict(tail_iterations=2, tail_diag_shift=1e-3, optimizer="adam"),
     "tail_diag_shift must go with optimizer 'sr'"),
    (dict(tail_iterations=2, tail_diag_shift=-1e-3), "tail_diag_shift must be"),
    (dict(tail_iterations=2, tail_diag_shift=0.0), "tail_diag_shift must be"),
    (dict(tail_iterations=2, tail_diag_shift=float("nan")), "tail_diag_shift must be"),
    (dict(tail_iterations=2, tail_diag_shift=1e-3, diag_shift=0.0), "diag_shift must be > 0 when"),
])
def test_bad_tail_shifts_are_refused(kwargs, match):
    kw = dict(n_iterations=12, n_samples=10, rng=0)
    kw.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        run_tfim("chain", 6, 1.0, **kw)


TFIM = ["--system", "tfim", "--lattice", "chain", "--size", "10", "--field", "1",
        "--iterations", "10", "--quiet", "--seed", "1"]


@pytest.mark.parametrize("argv,message", [
    (["--tail-diag-shift", "1e-3"], "--tail-diag-shift must go with a tail of the run"),
    (["--tail-iterations", "5", "--tail-diag-shift", "-1"], "--tail-diag-shift must be"),
    (["--tail-iterations", "5", "--tail-diag-shift", "abc"], "--tail-diag-shift"),
    (["--tail-iterations", "5", "--tail-diag-shift", "1e-3", "--optimizer", "adam"],
     "--optimizer 'sr'"),
    (["--tail-iterations", "5", "--tail-diag-shift", "1e-3", "--diag-shift", "0"],
     ("--diag-shift must be > 0 when the shift decays geometrically from it over the tail "
      "(--tail-diag-shift 0.001), got 0.0")),
])
def test_cli_bad_tail_shift_one_line_exit_2(capsys, tmp_path, argv, message):
    try:
        code = main(["vmc", *TFIM, *argv, "--out", str(tmp_path / "t.h5")])
    except SystemExit as exc:           # argparse's own refusal (not a number)
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_cli_runs_with_the_tail_shift(tmp_path, capsys):
    out = tmp_path / "t.h5"
    code = main(["vmc", *TFIM, "--samples", "200", "--walkers", "8", "--tail-iterations", "4",
                 "--tail-diag-shift", "1e-4", "--final-samples", "800", "--threads", "1",
                 "--json", "--out", str(out)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parameters"]["tail_diag_shift"] == 1e-4
    assert data["parameters"]["diag_shift"] == 0.01


@pytest.mark.mpi
@pytest.mark.skipif(_mpiexec() is None, reason="mpiexec not installed")
def test_tail_shift_two_ranks_match_one_rank(tmp_path):
    """The decaying shift gives one process's numbers on 2 MPI ranks."""
    pytest.importorskip("mpi4py")
    args = ["-m", "isingrbm", "vmc", "--system", "tfim", "--lattice", "chain", "--size", "8",
            "--field", "1", "--iterations", "8", "--samples", "400", "--walkers", "8",
            "--tail-iterations", "4", "--tail-samples", "800", "--tail-diag-shift", "1e-4",
            "--final-samples", "1600", "--seed", "3", "--json", "--quiet", "--threads", "1"]
    summary = one_and_two_ranks(tmp_path, args)
    assert summary[2]["parameters"]["tail_diag_shift"] == 1e-4
    assert summary[2]["energy"] == summary[1]["energy"]
