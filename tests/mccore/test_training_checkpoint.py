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
