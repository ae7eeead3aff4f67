"""mccore.files (atomic writes, the output lock), mccore.parallel, mccore.training."""

import json
import os
import subprocess
import sys
import textwrap

import numba
import pytest

from mccore.errors import InvalidParameterError
from mccore.files import OutputLockedError, atomic_path, output_lock
from mccore.parallel import numba_threads, single_threaded_blas
from mccore.training import TrainingStep, check_resume_settings, run_steps


def test_atomic_path_leaves_the_destination_untouched_on_failure(tmp_path):
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    with atomic_path(dest) as tmp:
        tmp.write_text("new")
    assert dest.read_text() == "new"


def test_output_lock_refuses_a_second_holder_in_another_process(tmp_path):
    dest = tmp_path / "w.h5"
    code = textwrap.dedent(f"""
        from mccore.files import output_lock, OutputLockedError
        try:
            with output_lock({str(dest)!r}):
                print("acquired")
        except OutputLockedError as exc:
            print("locked:", exc)
    """)
    with output_lock(dest):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, check=True).stdout
        assert out.startswith("locked:") and "another process" in out
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "acquired"
    assert not any(p.name.endswith(".lock") for p in tmp_path.iterdir())


def test_output_lock_is_taken_on_a_symlink_target(tmp_path):
    target = tmp_path / "real.h5"
    link = tmp_path / "link.h5"
    link.symlink_to(target)
    with output_lock(target):
        with pytest.raises(OutputLockedError):
            with output_lock(link):
                pass


def test_numba_threads_restores_the_previous_count():
    before = numba.get_num_threads()
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with numba_threads(None):
        assert numba.get_num_threads() == before


def test_vmc_spin_kernels_choose_a_sleeping_threading_layer_with_the_same_numbers():
    """A threaded vmc.spins kernel selects TBB or workqueue over OpenMP at its first
    launch (mccore.parallel.select_threading_layer, as ising's chains do); the rows
    are the serial kernel's to the bit."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 numba threads")
    code = textwrap.dedent("""
        import os, numba, numpy as np
        from mccore.parallel import numba_threads
        from vmc.spins import kernels
        rng = np.random.default_rng(3)
        s = rng.choice([-1.0, 1.0], size=(256, 64))
        b, W = rng.normal(size=128), rng.normal(size=(64, 128))
        out, ref = np.empty((256, 128)), np.empty((256, 128))
        with numba_threads(2):                  # as vmc's runner and samplers do
            assert kernels._threaded(W.size * s.shape[0])
            kernels.spin_theta(s, b, W, out)
        kernels._spin_theta_serial(s, b, W, ref)
        print(numba.threading_layer(), bool(np.array_equal(out, ref)),
              os.environ.get("NUMBA_THREADING_LAYER_PRIORITY"))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    layer, same, priority = out.stdout.splitlines()[-1].split(maxsplit=2)
    assert layer in ("tbb", "workqueue") and same == "True"
    assert priority == "tbb workqueue omp"


def test_single_threaded_blas_limits_a_blas_first_imported_inside_the_block():
    # scipy's wheels bundle an OpenBLAS of their own; a block that imports
    # scipy.linalg only inside ran it with every core, under --threads 1 and MPI
    code = textwrap.dedent("""
        import json
        import sys
        from mccore.parallel import single_threaded_blas
        assert "scipy.linalg" not in sys.modules
        with single_threaded_blas():
            import scipy.linalg
            from threadpoolctl import threadpool_info
            print(json.dumps([i["num_threads"] for i in threadpool_info()
                              if i["user_api"] == "blas"]))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout.splitlines()[-1])
    assert counts and all(n == 1 for n in counts)


def test_single_threaded_blas_restores_the_limits():
    import scipy.linalg  # noqa: F401  (loaded by the block anyway: compare like with like)
    from threadpoolctl import threadpool_info
    before = [(i["internal_api"], i["num_threads"]) for i in threadpool_info()
              if i["user_api"] == "blas"]
    with single_threaded_blas():
        inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        assert all(n == 1 for n in inside)
    after = [(i["internal_api"], i["num_threads"]) for i in threadpool_info()
             if i["user_api"] == "blas"]
    assert after == before


def test_run_steps_contract_early_stop_checkpoints_and_ctrl_c():
    saved, seen = [], []

    def callback(step: TrainingStep):
        seen.append((step.step, step.n_steps, step.metrics["i"]))
        return step.step == 4

    outcome = run_steps(lambda i: {"i": float(i)}, start=1, stop=8, callback=callback,
                        save_checkpoint=saved.append, checkpoint_every=2)
    assert outcome.n_done == 4 and outcome.stopped_early and not outcome.interrupted
    assert seen == [(2, 8, 1.0), (3, 8, 2.0), (4, 8, 3.0)]
    assert saved == [2, 4]

    def interrupted_at_3(i):
        if i == 3:
            raise KeyboardInterrupt
        return {}

    saved.clear()
    outcome = run_steps(interrupted_at_3, start=0, stop=10, save_checkpoint=saved.append,
                        checkpoint_every=5)
    assert outcome.interrupted and outcome.n_done == 3
    assert saved == [3]  # the partial run is resumable from step 3


def test_check_resume_settings_names_each_difference_and_allows_longer_runs():
    check_resume_settings({"n_hidden": 4, "seed": 1}, {"n_hidden": 4, "seed": 1})
    with pytest.raises(InvalidParameterError, match="n_hidden was 4, now 8"):
        check_resume_settings({"n_hidden": 4}, {"n_hidden": 8})


class FakeClock:
    """time.monotonic under the test's control (no test depends on real time)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_run_steps_checkpoints_by_wall_time_as_well_as_by_step(monkeypatch):
    import time

    clock = FakeClock()
    monkeypatch.setattr(time, "monotonic", clock)
    saved = []

    def slow_step(i):
        clock.now += 100.0          # every step takes 100 s of wall time
        return {}

    outcome = run_steps(slow_step, start=0, stop=10, save_checkpoint=saved.append,
                        checkpoint_every=1000, checkpoint_seconds=250.0)
    assert outcome.n_done == 10
    assert saved == [3, 6, 9, 10]   # >= 250 s since the last save, and the last step
    saved.clear()
    run_steps(slow_step, start=0, stop=4, save_checkpoint=saved.append,
              checkpoint_every=1000, checkpoint_seconds=None)
    assert saved == [4]


def test_run_steps_interrupted_after_a_wall_time_checkpoint_saves_the_last_step(monkeypatch):
    import time

    clock = FakeClock()
    monkeypatch.setattr(time, "monotonic", clock)
    saved = []

    def step(i):
        clock.now += 200.0
        if i == 4:
            raise KeyboardInterrupt
        return {}

    outcome = run_steps(step, start=0, stop=100, save_checkpoint=saved.append,
                        checkpoint_every=50, checkpoint_seconds=300.0)
    assert outcome.interrupted and outcome.n_done == 4
    assert saved == [2, 4]


def test_checkpoint_timer_refuses_a_bad_interval():
    from mccore.training import CheckpointTimer

    for bad in (-1.0, float("nan"), float("inf"), "5", True):
        with pytest.raises(InvalidParameterError, match="checkpoint_seconds"):
            CheckpointTimer(bad)


def test_progress_lines_in_a_log_give_the_remaining_time(monkeypatch):
    import io
    import time

    from mccore.progress import progress_lines

    clock = FakeClock()
    monkeypatch.setattr(time, "monotonic", clock)
    log = io.StringIO()

    def step(i):
        clock.now += 30.0
        return {"loss": 0.5}

    with progress_lines(interval=60.0, first_after=10.0, stream=log):
        run_steps(step, start=2, stop=10, description="fit", unit="epochs")
    lines = log.getvalue().splitlines()
    # first line after the first step (30 s >= 10 s), then every 60 s: steps 3, 5, 7, 9
    assert lines[0] == "fit: 3/10 epochs (30%), 0:30 elapsed, about 3:30 left; loss=0.5"
    assert len(lines) == 4 and lines[-1].startswith("fit: 9/10 epochs (90%), 3:30 elapsed")
    log.truncate(0)
    run_steps(step, start=0, stop=3)                  # outside the block: silent
    with progress_lines(False, stream=log):
        run_steps(step, start=0, stop=3)
    assert log.getvalue() == ""


def test_the_remaining_time_leaves_out_the_first_step(monkeypatch):
    """The first step pays for compilation: the estimate uses the rate after it."""
    import io
    import time

    from mccore.progress import Progress, progress_lines

    clock = FakeClock()
    monkeypatch.setattr(time, "monotonic", clock)
    log = io.StringIO()
    with progress_lines(interval=0.0, first_after=0.0, stream=log):
        bar = Progress(11, description="vmc", unit="it")
        clock.now += 100.0                  # compile + first iteration
        bar.update()
        clock.now += 10.0
        bar.update()
    first, second = log.getvalue().splitlines()
    assert first == "vmc: 1/11 it (9%), 1:40 elapsed, about 16:40 left"
    assert second == "vmc: 2/11 it (18%), 1:50 elapsed, about 1:30 left"
