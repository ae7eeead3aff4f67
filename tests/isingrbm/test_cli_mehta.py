"""``isingrbm import mehta`` / ``isingrbm export mehta``: the Mehta et al. (2019)
pickles in and out on the command line; the imported file works with
``inspect``, ``fit`` and ``evaluate``; bad input is one line, exit 2, and
creates nothing.

The pickles are made from our own L = 8 Monte Carlo in the published layout
(the real set cannot be downloaded during the tests).
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from mehta_pickles import TEMPERATURES, L, N, monte_carlo_spins, write_pickle

import ising
from ising import mehta
from isingrbm import cli


@pytest.fixture(scope="module")
def monte_carlo():
    return monte_carlo_spins(31415)


@pytest.fixture
def pickles(tmp_path, monte_carlo):
    """The all-T data pickle, its labels and its temperatures file, in tmp_path/src."""
    src = tmp_path / "src"
    src.mkdir()
    names = mehta.mehta_file_names(L)
    data = write_pickle(src / names["data"], mehta.pack_spins(monte_carlo))
    labels = write_pickle(src / names["labels"], np.repeat(np.array([1, 0, 0], np.int64), N))
    (src / names["temperatures"]).write_text("".join(f"{T!r}\n" for T in TEMPERATURES))
    return data, labels


def one_error_line(capsys, command, *fragments) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"isingrbm {command}: error:"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def status(argv) -> int:
    """The exit status of the command line (argparse refusals exit through SystemExit)."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return exc.code


def tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_help_has_examples(capsys):
    for argv in (["import", "mehta", "--help"], ["export", "mehta", "--help"]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "example:" in out and "isingrbm " + argv[0] + " mehta" in out
        for flag in ("--seed", "--quiet", "--json", "--overwrite", "--out"):
            assert flag in out


def test_import_inspect_fit_evaluate(tmp_path, pickles, capsys):
    data, labels = pickles
    out = tmp_path / "mehta.h5"
    assert cli.main(["import", "mehta", str(data), "--labels", str(labels), "--out", str(out),
                     "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert [row["T"] for row in summary["temperatures"]] == list(TEMPERATURES)
    assert [row["mehta_label"] for row in summary["temperatures"]] == [1, 0, 0]
    assert "imported 180 configurations" in captured.err

    assert cli.main(["inspect", str(out), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["source"] == "imported"
    for row in table["temperatures"]:
        exact = ising.finite_lattice(L, row["T"])["energy"]
        assert row["exact"]["energy"] == pytest.approx(exact, abs=1e-12)
        assert abs(row["deviation_sigmas"]["energy"]) < 5

    model = tmp_path / "rbm.h5"
    assert cli.main(["fit", str(out), "--temperature", "3.5", "--hidden", "4", "--epochs", "1",
                     "--out", str(model), "--seed", "1", "--quiet"]) == 0
    gen = tmp_path / "gen.h5"
    assert cli.main(["sample", str(model), "--samples", "20", "--steps", "2", "--out", str(gen),
                     "--seed", "2", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), str(gen), "--json", "--seed", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tables"] and result["tables"][0]["T"] == pytest.approx(3.5)


def test_round_trip_on_the_command_line(tmp_path, pickles, capsys, hdf5_content):
    data, labels = pickles
    first, second = tmp_path / "first.h5", tmp_path / "second.h5"
    assert cli.main(["import", "mehta", str(data), "--labels", str(labels),
                     "--out", str(first), "--quiet"]) == 0
    assert cli.main(["export", "mehta", str(first), "--out", str(tmp_path / "exp"),
                     "--quiet"]) == 0
    names = mehta.mehta_file_names(L)
    exported = tmp_path / "exp"
    assert tree(exported) == sorted(names.values())
    for key in ("data", "labels"):
        assert (exported / names[key]).read_bytes() != b""
    assert cli.main(["import", "mehta", str(exported / names["data"]), "--labels",
                     str(exported / names["labels"]), "--out", str(second), "--quiet"]) == 0
    a, b = hdf5_content(first), hdf5_content(second)
    assert a.keys() == b.keys()
    for name in a:
        attrs_a, values_a = a[name]
        attrs_b, values_b = b[name]
        assert values_a == values_b, name               # spins, energies bit for bit
        if name.startswith("samples/") and "/" not in name[len("samples/"):]:
            assert attrs_a == attrs_b, name             # every group attr
    root_a, root_b = a["/"][0], b["/"][0]
    for key in ("L", "source", "format", "mehta_labels_dtype", "imported_files"):
        assert root_a[key] == root_b[key], key


def test_malicious_pickle_one_line_no_code_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    evil = write_pickle(tmp_path / "Ising2DFM_reSample_L40_T=All.pkl", Evil())
    before = tree(tmp_path)
    assert cli.main(["import", "mehta", str(evil), "--out", str(tmp_path / "out.h5")]) == 2
    one_error_line(capsys, "import mehta", evil.name, "refused", "system",
                   "nothing in the file was run")
    assert not marker.exists()
    assert tree(tmp_path) == before


def test_the_guide_shows_the_real_refusal(tmp_path, capsys, monkeypatch):
    """The refusal printed in docs/guide/mehta.md is the command's own line."""
    guide = Path(__file__).resolve().parents[2] / "docs" / "guide" / "mehta.md"
    shown = [line for line in guide.read_text().splitlines()
             if line.startswith("isingrbm import mehta: error:")]
    assert len(shown) == 1
    monkeypatch.chdir(tmp_path)

    class Evil:
        def __reduce__(self):
            return os.system, ("touch MARKER",)

    write_pickle(tmp_path / "evil.pkl", Evil())
    assert cli.main(["import", "mehta", "evil.pkl", "--out", "out.h5"]) == 2
    line = one_error_line(capsys, "import mehta")
    assert line == shown[0].replace("'posix.system'", f"'{os.system.__module__}.system'")
    assert not (tmp_path / "MARKER").exists()


def _bad_inputs(tmp_path, monte_carlo):
    src = tmp_path / "bad"
    src.mkdir()
    packed = mehta.pack_spins(monte_carlo)
    T = [str(t) for t in TEMPERATURES]
    dtype = write_pickle(src / "dtype.pkl", packed.astype(np.int16))
    shape = write_pickle(src / "shape.pkl", packed[:, :5])
    text = src / "text.pkl"
    text.write_text("hello, not a pickle\n")
    good = write_pickle(src / "good.pkl", packed)
    short = write_pickle(src / "short.pkl", np.ones(10, dtype=np.int64))
    return [
        (["import", "mehta", str(dtype), "-T", *T], ["dtype.pkl", "int16", "uint8"]),
        (["import", "mehta", str(shape), "-T", *T, "--size", "8"], ["shape.pkl", "(n, 8)"]),
        (["import", "mehta", str(text), "-T", *T], ["text.pkl", "not a pickle"]),
        (["import", "mehta", str(good), "-T", *T, "--labels", str(short)],
         ["short.pkl", "10 labels", "180"]),
        (["import", "mehta", str(src / "missing.pkl"), "-T", "1"], ["missing.pkl",
                                                                    "does not exist"]),
        (["import", "mehta", str(good), "-T", *T, "--labels", str(src / "nolabels.pkl")],
         ["nolabels.pkl", "does not exist"]),
        (["import", "mehta", str(good)], ["good.pkl", "--temperatures"]),
        (["import", "mehta", str(good), "-T", "1", "2", "3", "4", "5", "6", "7"],
         ["180 configurations", "not a multiple"]),
        (["import", "mehta", str(good), "-T", *T, "--size", "1"], ["--size", "1"]),
        (["import", "mehta", str(good), "-T", "0"], ["temperature", "> 0"]),
    ]


def test_bad_input_one_line_exit_2_nothing_created(tmp_path, monte_carlo, capsys):
    cases = _bad_inputs(tmp_path, monte_carlo)
    before = tree(tmp_path)
    for argv, fragments in cases:
        out = tmp_path / "out.h5"
        assert status(argv + ["--out", str(out)]) == 2, argv
        one_error_line(capsys, "import mehta", *fragments)
        assert tree(tmp_path) == before, argv


def test_import_refuses_existing_output(tmp_path, pickles, capsys):
    data, labels = pickles
    out = tmp_path / "out.h5"
    out.write_bytes(b"mine")
    assert cli.main(["import", "mehta", str(data), "--out", str(out)]) == 2
    one_error_line(capsys, "import mehta", "out.h5", "--overwrite")
    assert out.read_bytes() == b"mine"
    assert cli.main(["import", "mehta", str(data), "--out", str(out), "--overwrite",
                     "--quiet"]) == 0
    assert ising.load(out).source == "imported"


def test_export_refusals(tmp_path, pickles, capsys):
    data, labels = pickles
    h5 = tmp_path / "d.h5"
    assert cli.main(["import", "mehta", str(data), "--out", str(h5), "--quiet"]) == 0
    target = tmp_path / "exp"
    assert cli.main(["export", "mehta", str(h5), "--out", str(target), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["labels"] == [1, 0, 0]          # no labels file: T < T_c
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    assert cli.main(["export", "mehta", str(h5), "--out", str(target)]) == 2
    one_error_line(capsys, "export mehta", "exists", "--overwrite")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert cli.main(["export", "mehta", str(h5), "--out", str(target), "--overwrite",
                     "--quiet"]) == 0
    assert sorted(p.name for p in target.iterdir()) == sorted(before)

    snapshot = tree(tmp_path)
    not_h5 = tmp_path / "src" / mehta.mehta_file_names(L)["data"]
    for argv, fragments in (
            (["export", "mehta", str(tmp_path / "none.h5"), "--out", str(tmp_path / "x")],
             ["none.h5", "does not exist"]),
            (["export", "mehta", str(not_h5), "--out", str(tmp_path / "x")],
             ["not an HDF5 file"]),
            (["export", "mehta", str(h5), "--out", str(h5)], ["--out", "exists and is not a folder"]),
            (["export", "mehta", str(h5), "--out", str(tmp_path / "no" / "dir")],
             ["--out folder", "does not exist"])):
        assert cli.main(argv) == 2, argv
        one_error_line(capsys, "export mehta", *fragments)
        assert tree(tmp_path) == snapshot, argv
