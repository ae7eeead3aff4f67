"""``isingrbm vmc`` in-process: bad input (one stderr line, exit 2, files untouched),
the JSON contract, the result file and the figure."""

import json

import pytest

from isingrbm.cli import main
from vmc import VMCResult

SMALL = ["--iterations", "5", "--samples", "500", "--seed", "1", "--threads", "1"]


@pytest.mark.parametrize("argv,flag", [
    (["--particles", "0", "--dims", "2"], "--particles"),
    (["--particles", "1", "--dims", "4"], "--dims"),
    (["--particles", "1", "--dims", "0"], "--dims"),
    (["--particles", "1", "--dims", "2", "--omega", "0"], "--omega"),
    (["--particles", "1", "--dims", "2", "--omega", "-1"], "--omega"),
    (["--particles", "1", "--dims", "2", "--hidden", "0"], "--hidden"),
    (["--particles", "1", "--dims", "2", "--sampler", "hmc"], "--sampler"),
    (["--particles", "1", "--dims", "2", "--optimizer", "lbfgs"], "--optimizer"),
    (["--particles", "1", "--dims", "2", "--interaction", "yukawa"], "--interaction"),
    (["--particles", "2", "--dims", "2", "--jastrow", "pade"], "coulomb"),
    (["--particles", "2", "--dims", "1", "--interaction", "coulomb"], "coulomb"),
    (["--particles", "2", "--dims", "2", "--interaction", "coulomb", "--jastrow", "pade",
      "--sampler", "gibbs"], "gibbs"),
])
def test_bad_input_one_line_exit_2(capsys, argv, flag):
    assert main(["vmc", *argv, *SMALL]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("isingrbm vmc: error:") and flag in lines[0]
    assert captured.out == ""


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
