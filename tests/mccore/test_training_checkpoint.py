"""mccore.training: the one checkpoint name (older names found on resume) and the resume seed."""

import pytest

from mccore.errors import InvalidParameterError
from mccore.training import checkpoint_path, resume_seed


def test_checkpoint_is_the_output_name_plus_checkpoint(tmp_path):
    assert checkpoint_path(tmp_path / "model.h5") == tmp_path / "model.h5.checkpoint"
    assert checkpoint_path(str(tmp_path / "g.pt")) == tmp_path / "g.pt.checkpoint"


@pytest.mark.parametrize("old", ["g.pt.ckpt", "g.checkpoint.pt"])
def test_a_checkpoint_under_an_older_name_is_found(tmp_path, old):
    (tmp_path / old).write_bytes(b"state")
    assert checkpoint_path(tmp_path / "g.pt") == tmp_path / old


def test_the_current_name_wins_over_an_older_one(tmp_path):
    (tmp_path / "g.pt.ckpt").write_bytes(b"old")
    (tmp_path / "g.pt.checkpoint").write_bytes(b"new")
    assert checkpoint_path(tmp_path / "g.pt") == tmp_path / "g.pt.checkpoint"


def test_resume_seed_the_checkpoint_governs():
    assert resume_seed(7, None) == 7
    assert resume_seed(7, 7) == 7
    assert resume_seed(None, 3) == 3
    assert resume_seed(None, None) is None
    with pytest.raises(InvalidParameterError,
                       match=r"^--seed must match the interrupted run's seed 7 to resume, got 8$"):
        resume_seed(7, 8)


def test_an_interrupt_lost_in_a_finalizer_still_stops_the_loop_at_the_next_step():
    """A SIGTERM whose KeyboardInterrupt was swallowed (e.g. raised inside a weakref
    callback while a checkpoint was written) is recorded; run_steps stops after the
    step in progress and saves that step's checkpoint."""
    from mccore import interrupts
    from mccore.training import run_steps

    saved = []

    def step(i):
        if i == 2:
            interrupts.request()      # the handler ran, its exception was lost
        return {}

    interrupts.clear()
    try:
        outcome = run_steps(step, start=0, stop=10, save_checkpoint=saved.append,
                            checkpoint_every=100, progress=False)
    finally:
        interrupts.clear()
    assert outcome.interrupted and not outcome.stopped_early
    assert outcome.n_done == 3
    assert saved == [3]


def test_without_a_request_the_loop_runs_to_the_end():
    from mccore import interrupts
    from mccore.training import run_steps

    interrupts.clear()
    outcome = run_steps(lambda i: {}, start=0, stop=5, progress=False)
    assert not outcome.interrupted and outcome.n_done == 5
