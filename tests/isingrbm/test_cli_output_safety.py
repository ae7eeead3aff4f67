"""Output safety of ``fit`` and ``evaluate`` through ``cli.main``: an output
that is an input is refused, a symlinked output is written through (link
kept), and checkpoints are handled on resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import exact_dataset, one_error_line, snapshot

from isingrbm import cli


@pytest.fixture
def data_file(tmp_path):
    """200 exact L = 4 samples at T = 2.269 only."""
    return exact_dataset(tmp_path / "data.h5", temperatures=(2.269,), n=200, seed=7)


def fit_argv(data, out, *extra, quiet=True):
    return ["fit", str(data), "--temperature", "2.269", "--hidden", "2", "--epochs", "2",
            "--out", str(out), "--seed", "3", *(["--quiet"] if quiet else []), *extra]


@pytest.mark.parametrize("through_link", [False, True])
def test_fit_refuses_output_equal_to_data(tmp_path, data_file, capsys, through_link):
    before = snapshot(data_file)
    out = data_file
    if through_link:
        out = tmp_path / "alias.h5"
        out.symlink_to(data_file)
    assert cli.main(fit_argv(data_file, out, "--overwrite")) == 2
    one_error_line(capsys, "isingrbm fit:", "is the input file")
    assert snapshot(data_file) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["data.h5"] + (["alias.h5"] if through_link else []))


def test_fit_writes_through_a_symlinked_output(tmp_path, data_file, capsys):
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "m.h5"
    target.write_bytes(b"old")
    link = tmp_path / "m.h5"
    link.symlink_to(target)
    assert cli.main(fit_argv(data_file, link)) == 2      # exists: needs --overwrite
    one_error_line(capsys, "--overwrite")
    assert cli.main(fit_argv(data_file, link, "--overwrite")) == 0
    assert link.is_symlink() and link.resolve() == target
    assert target.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["m.h5"]


def test_evaluate_refuses_a_figure_path_that_is_an_input(tmp_path, capsys):
    figs = tmp_path / "figs"
    figs.mkdir()
    data = exact_dataset(figs / "observables_vs_T.png", temperatures=(2.269,), n=50, seed=7)
    before = snapshot(data)
    assert cli.main(["evaluate", str(data), "--plots", str(figs), "--overwrite"]) == 2
    one_error_line(capsys, "isingrbm evaluate:", "is the input file")
    assert snapshot(data) == before


# --------------------------------------------------------------------------
# fit --resume: before the first checkpoint, on a finished model, after a kill
# between writing MODEL and removing the checkpoint (issue #8, #9)


def test_fit_resume_before_the_first_checkpoint_starts_afresh(tmp_path, data_file, capsys):
    out = tmp_path / "m.h5"
    assert cli.main(fit_argv(data_file, out, "--resume", quiet=False)) == 0
    assert "starting afresh" in capsys.readouterr().err
    assert out.exists() and not (tmp_path / "m.h5.checkpoint").exists()


def test_fit_resume_on_a_finished_model_reports_complete(tmp_path, data_file, capsys):
    out = tmp_path / "m.h5"
    assert cli.main(fit_argv(data_file, out)) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert cli.main(fit_argv(data_file, out, "--resume", "--json", quiet=False)) == 0
    captured = capsys.readouterr()
    assert "complete" in captured.err
    assert '"complete": true' in captured.out
    assert snapshot(out) == before
    # without --seed the finished run's seed is accepted as well
    argv = fit_argv(data_file, out, "--resume")
    del argv[argv.index("--seed"):argv.index("--seed") + 2]
    assert cli.main(argv) == 0
    assert snapshot(out) == before


@pytest.mark.parametrize("change", [["--hidden", "3"], ["--seed", "4"], ["--epochs", "5"]])
def test_fit_resume_refuses_a_finished_model_of_another_run(tmp_path, data_file, capsys,
                                                            change):
    out = tmp_path / "m.h5"
    assert cli.main(fit_argv(data_file, out)) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert cli.main(fit_argv(data_file, out, "--resume", *change)) == 2
    one_error_line(capsys, "isingrbm fit:", "another run", "--overwrite")
    assert snapshot(out) == before


def test_fit_killed_after_writing_the_model_finishes_with_resume(tmp_path, data_file, capsys,
                                                                  monkeypatch):
    out = tmp_path / "m.h5"
    checkpoint = tmp_path / "m.h5.checkpoint"
    real_unlink = Path.unlink

    def killed_before_removing_checkpoint(self, *a, **k):
        if self.name == checkpoint.name:
            raise KeyboardInterrupt
        return real_unlink(self, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(Path, "unlink", killed_before_removing_checkpoint)
        assert cli.main(fit_argv(data_file, out)) == 130
    assert out.exists() and checkpoint.exists()
    before = snapshot(out)
    capsys.readouterr()
    # a plain rerun points at --resume
    assert cli.main(fit_argv(data_file, out)) == 2
    one_error_line(capsys, "--resume")
    assert cli.main(fit_argv(data_file, out, "--resume", quiet=False)) == 0
    assert "removed the leftover checkpoint" in capsys.readouterr().err
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.h5", "m.h5"]


# --------------------------------------------------------------------------
# huge sizes are refused up front with a memory estimate (issue #5)


@pytest.fixture
def eight_gib(monkeypatch):
    import mccore.validation
    monkeypatch.setattr(mccore.validation, "available_memory", lambda: 8 * 2**30)


@pytest.mark.parametrize("flag", ["--hidden", "--augment"])
def test_fit_refuses_sizes_beyond_memory(tmp_path, data_file, capsys, eight_gib, flag):
    out = tmp_path / "m.h5"
    argv = fit_argv(data_file, out)
    if flag == "--hidden":
        argv[argv.index("--hidden") + 1] = "1e9"
    else:
        argv += ["--augment", "1e9"]
    assert cli.main(argv) == 2
    line = one_error_line(capsys, "isingrbm fit:", f"{flag} 1000000000", "needs about",
                          "8.0 GiB available")
    assert "TiB" in line or "GiB" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.h5"]


def test_fit_clips_the_batch_size_to_the_data(tmp_path, data_file, capsys, eight_gib):
    import rbm

    out = tmp_path / "m.h5"
    assert cli.main(fit_argv(data_file, out, "--batch-size", "1e9", quiet=False)) == 0
    err = capsys.readouterr().err
    assert "--batch-size 1000000000 is larger than the 200 training rows; using 200" in err
    assert rbm.load(out).batch_size == 200


# --------------------------------------------------------------------------
# evaluate: GENERATED must be generated; --seed None is fresh entropy, recorded


def test_evaluate_refuses_a_monte_carlo_file_as_generated(data_file, capsys):
    assert cli.main(["evaluate", str(data_file), str(data_file)]) == 2
    one_error_line(capsys, "isingrbm evaluate:", "GENERATED", "'monte-carlo'", "DATA")


def test_evaluate_seed_defaults_to_fresh_entropy_and_is_recorded(data_file, capsys):
    import json

    def evaluate(*extra):
        assert cli.main(["evaluate", str(data_file), "--json", "--quiet", *extra]) == 0
        return json.loads(capsys.readouterr().out)

    first, second = evaluate(), evaluate()
    assert isinstance(first["seed"], int) and first["seed"] != second["seed"]
    again = evaluate("--seed", str(first["seed"]))
    assert again["seed"] == first["seed"] and again["tables"] == first["tables"]


def test_seed_help_says_when_it_has_no_effect():
    import argparse

    root = cli.build_parser()
    commands = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    assert "draws no random numbers" in " ".join(commands.choices["inspect"].format_help().split())
    for name in ("generate", "fit", "sample", "evaluate"):
        text = " ".join(commands.choices[name].format_help().split())
        assert "draws no random numbers" not in text and "fresh entropy" in text
