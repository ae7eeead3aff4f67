"""``isingrbm inspect``: the per-temperature table and JSON, exact values
beside, and one-line refusals of bad files (exit 2, nothing touched)."""

import json

import numpy as np
import pytest

from ising import exact, store
from isingrbm import cli


@pytest.fixture
def dataset(tmp_path):
    """Exact Boltzmann samples of L = 3 at two temperatures, stored as a generated file."""
    rng = np.random.default_rng(11)
    path = tmp_path / "exact.h5"
    for i, T in enumerate((1.5, 3.0)):
        p = exact.boltzmann_distribution(3, T)
        idx = rng.choice(p.size, size=20000, p=p)
        bits = (idx[:, None] >> np.arange(9)) & 1
        spins = (2 * bits - 1).astype(np.int8).reshape(-1, 3, 3)
        store.write_generated(path, spins, T=T, source="rbm", seed=11, append=i > 0)
    return path


def test_table(dataset, capsys):
    assert cli.main(["inspect", str(dataset)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "L = 3" in lines[0] and "per spin" in lines[0]
    header = lines[1].split()
    for col in ("T", "phase", "algorithm", "tau_int", "e", "exact", "c", "|m|", "chi", "U4"):
        assert col in header
    assert lines[2].startswith("1.5000") and "ordered" in lines[2]
    assert lines[3].startswith("3.0000") and "disordered" in lines[3]
    assert f"{exact.finite_lattice(3, 3.0)['energy']:.6f}" in lines[3]


def test_generated_files_show_the_seed_they_record(dataset, tmp_path, capsys):
    """Issue 19: a generated file showed "seed None" (its seed is in each group)."""
    assert cli.main(["inspect", str(dataset)]) == 0
    assert "source rbm, seed 11;" in capsys.readouterr().out.splitlines()[0]
    assert cli.main(["inspect", str(dataset), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seed"] == 11 and [r["seed"] for r in summary["temperatures"]] == [11, 11]
    spins = np.ones((10, 3, 3), dtype=np.int8)
    mixed = tmp_path / "mixed.h5"
    store.write_generated(mixed, spins, T=1.5, source="gan", seed=4)
    store.write_generated(mixed, spins, T=2.5, source="gan", seed=5, append=True)
    unseeded = tmp_path / "unseeded.h5"
    store.write_generated(unseeded, spins, T=1.5, source="gan")
    for path, text in ((mixed, "seeds 4, 5 (per temperature)"),
                       (unseeded, "seed not recorded")):
        assert cli.main(["inspect", str(path)]) == 0
        head = capsys.readouterr().out.splitlines()[0]
        assert text in head and "None" not in head, head


def test_json_matches_exact(dataset, capsys):
    """20000 exact samples: e, c, |m|, chi within 4 standard errors of enumeration."""
    assert cli.main(["inspect", str(dataset), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["L"] == 3 and summary["source"] == "rbm"
    assert [row["T"] for row in summary["temperatures"]] == [1.5, 3.0]
    for row in summary["temperatures"]:
        want = exact.exact_enumeration(3, row["T"])
        assert row["exact"]["energy"] == pytest.approx(want["energy"], abs=1e-12)
        for key in ("energy", "specific_heat", "abs_magnetization", "susceptibility_connected"):
            est = row["observables"][key]
            assert abs(est["mean"] - want[key]) < 4 * est["error"], key
            assert row["deviation_sigmas"][key] == pytest.approx(
                (est["mean"] - want[key]) / est["error"])


def _one_error_line(capsys):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("isingrbm inspect: error:")
    assert "Traceback" not in captured.err
    return lines[0]


def test_foreign_file(tmp_path, capsys):
    path = tmp_path / "foreign.h5"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert cli.main(["inspect", str(path)]) == 2
    assert "foreign.h5" in _one_error_line(capsys)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_missing_file(tmp_path, capsys):
    assert cli.main(["inspect", str(tmp_path / "nope.h5")]) == 2
    assert "does not exist" in _one_error_line(capsys)


def test_truncated_file(dataset, tmp_path, capsys):
    cut = tmp_path / "cut.h5"
    cut.write_bytes(dataset.read_bytes()[:2000])
    assert cli.main(["inspect", str(cut)]) == 2
    assert "cut.h5" in _one_error_line(capsys)


def test_model_file_is_refused(tmp_path, capsys):
    import h5py
    path = tmp_path / "model.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "isingrbm-rbm"
        f.attrs["format_version"] = 1
    assert cli.main(["inspect", str(path)]) == 2
    assert "isingrbm-rbm" in _one_error_line(capsys)


def test_seed_is_documented_as_unused(capsys):
    """inspect draws no random numbers: its --seed (every subcommand has one)
    must not pretend to do something."""
    with pytest.raises(SystemExit) as exc:
        cli.main(["inspect", "--help"])
    assert exc.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "unused: inspect draws no random numbers" in help_text
