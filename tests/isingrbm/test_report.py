"""``isingrbm report`` and the report writer, without running the demo.

The end-to-end checks (tables equal to the result files, rebuild without
recomputing) live in test_demo.py, on the quick demo's folder. Here: the
Markdown/HTML rendering, the number formatting, a report of an unfinished
demo folder, and bad input (exit 2, one line on stderr, nothing written).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from isingrbm import cli, demo, report


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def test_markdown_and_html_hold_the_same_table():
    blocks = [report.Heading(1, "Title"),
              report.Paragraph("Run `isingrbm report X` & <see>."),
              report.Table("Energies", ["T", "e"], [["2.269", "-1.4530 ± 0.0021"],
                                                   ["a|b", "<x>"]]),
              report.FigureBlock("figures/a.png", "A figure")]
    md = report.render_markdown(blocks)
    assert "| T | e |" in md
    assert "| 2.269 | -1.4530 ± 0.0021 |" in md
    assert "| a\\|b | <x> |" in md  # pipes in cells are escaped
    assert "![A figure](figures/a.png)" in md
    html = report.render_html(blocks, title="t")
    # a cell may wrap before its "±", never after it
    assert "<td>-1.4530 ±\u00a00.0021</td>" in html
    assert "<td>&lt;x&gt;</td>" in html  # escaped
    assert "<code>isingrbm report X</code> &amp; &lt;see&gt;." in html
    assert '<img src="figures/a.png"' in html
    assert html.count("<tr>") == 3  # header + 2 rows


def test_html_tables_scroll_inside_the_page_column():
    """A wide table (the Monte Carlo table has 15 columns) sits in a wrapper that
    scrolls horizontally instead of running past the page column."""
    import re

    wide = report.Table("Wide", [f"column {i}" for i in range(15)],
                        [[f"-1.4530 ± 0.0021 ({i})" for i in range(15)]])
    html = report.render_html([wide], title="t")
    assert re.search(r'<div class="table-scroll"><table[^>]*>.*</table></div>', html, re.DOTALL)
    css = re.search(r"\.table-scroll\s*\{([^}]*)\}", html).group(1)
    assert "overflow-x: auto" in css and "max-width: 100%" in css


@pytest.mark.parametrize("est, expected", [
    ({"mean": -1.453021, "error": 0.002113}, "-1.4530 ± 0.0021"),
    ({"mean": 0.5, "error": None}, "0.5"),
    ({"mean": None, "error": 0.1}, "—"),
    (None, "—"),
])
def test_estimate_formatting(est, expected):
    assert report.fmt_estimate(est) == expected


def test_deviation_in_standard_errors():
    assert report.fmt_sigma({"mean": 3.05, "error": 0.01}, 3.0) == "+5.0"
    assert report.fmt_sigma({"mean": 2.99, "error": 0.02}, 3.0) == "-0.5"
    assert report.fmt_sigma({"mean": 2.99, "error": 0.0}, 3.0) == "—"
    assert report.fmt_sigma({"mean": 2.99, "error": 0.1}, None) == "—"


def _manifest(folder: Path, **changes) -> Path:
    config = demo.demo_config(quick=True).to_dict()
    manifest = {"format": demo.FORMAT, "format_version": demo.FORMAT_VERSION,
                "created": "2026-11-24T17:00:00+00:00", "software_version": "0.1.0",
                "seed": 5, "config": config, "stages": {}}
    manifest.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / demo.MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_report_of_an_unfinished_demo_says_what_is_missing(tmp_path):
    folder = _manifest(tmp_path / "run")
    status, stdout, stderr = run_cli(["report", str(folder), "--json"])
    assert status == 0, stderr
    md = (folder / "report/report.md").read_text()
    assert md.count("Not computed yet") == 3  # Monte Carlo, evaluation, VMC
    assert "| seed | 5 |" in md
    assert "| monte-carlo | not run | — | — |" in md
    assert (folder / "report/report.html").is_file()
    assert json.loads(stdout)["markdown"] == str(folder / "report/report.md")


@pytest.mark.parametrize("setup, message", [
    ("missing", "does not exist"),
    ("empty", "is not a demo folder"),
    ("not-json", "not a valid JSON file"),
    ("foreign", "format is not"),
    ("version", "format_version 99 is not supported"),
    ("file", "not a result file"),
])
def test_report_on_a_non_demo_folder_exits_2_with_one_line(tmp_path, setup, message):
    folder = tmp_path / "x"
    if setup == "empty":
        folder.mkdir()
    elif setup == "not-json":
        folder.mkdir()
        (folder / demo.MANIFEST).write_text("{not json")
    elif setup == "foreign":
        folder.mkdir()
        (folder / demo.MANIFEST).write_text(json.dumps({"format": "something-else"}))
    elif setup == "version":
        _manifest(folder, format_version=99)
    elif setup == "file":
        folder.write_text("a file")
    status, stdout, stderr = run_cli(["report", str(folder)])
    assert status == 2
    assert stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("isingrbm report: error:")
    assert message in stderr
    if folder.is_dir():
        assert not (folder / "report").exists()
    assert not (tmp_path / "report").exists() and not Path("report/report.md").exists()


def test_report_help_is_plain_text():
    """No reST markup (double backquotes, :func: roles) in the help a user reads."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["report", "--help"])
    text = out.getvalue()
    assert "``" not in text and ":func:" not in text and ":mod:" not in text
    assert "DIR" in text and "--out" in text


def test_files_report_refuses_a_file_it_cannot_read(tmp_path):
    text = tmp_path / "notes.json"
    text.write_text(json.dumps({"hello": 1}))
    out = tmp_path / "rep"
    status, stdout, stderr = run_cli(["report", str(text), "--out", str(out)])
    assert status == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "not a result file" in stderr and "notes.json" in stderr
    assert not out.exists()


def test_files_report_does_not_replace_a_report_without_overwrite(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.md").write_text("mine")
    status, _, stderr = run_cli(["report", str(tmp_path / "x.h5"), "--out", str(out)])
    assert status == 2 and "--overwrite" in stderr and stderr.count("\n") == 1
    assert (out / "report.md").read_text() == "mine"


# --------------------------------------------------------------------------
# defects of the second reliability probe (issue 19, part 8), reproduced first


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isingrbm report: error:"), stderr
    return lines[0]


def tree(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def good_h5(tmp_path_factory):
    from cli_helpers import exact_dataset  # exact, independent L = 4 samples

    return exact_dataset(tmp_path_factory.mktemp("data") / "good.h5", temperatures=(1.5, 3.5),
                         n=200, seed=7)


def test_report_does_not_replace_figures_it_did_not_write(good_h5, tmp_path):
    """A folder with figures/thermodynamics.png and no report: refused without
    --overwrite (one line, exit 2), the PNG untouched, nothing written."""
    out = tmp_path / "D"
    (out / "figures").mkdir(parents=True)
    mine = out / "figures/thermodynamics.png"
    mine.write_bytes(b"my own figure")
    before = tree(tmp_path)
    status, stdout, stderr = run_cli(["report", str(good_h5), "--out", str(out)])
    assert status == 2 and stdout == ""
    line = one_error_line(stderr)
    assert "figures" in line and "--overwrite" in line
    assert tree(tmp_path) == before
    # with --overwrite the report is written and replaces its figure of that name
    status, _, stderr = run_cli(["report", str(good_h5), "--out", str(out), "--overwrite",
                                 "--quiet"])
    assert status == 0, stderr
    assert mine.read_bytes()[:4] == b"\x89PNG"
    assert {p.name for p in out.iterdir()} == {"figures", "report.md", "report.html"}
    assert not list(tmp_path.glob(".*.lock"))


@pytest.mark.parametrize("content, fragment", [
    ({"tables": [1]}, "tables[0] must be an object, got an integer"),
    ({"tables": []}, "tables must be a list (not empty)"),
    ({"energy": 1, "parameters": 5}, "parameters must be an object, got an integer"),
    ({"energy": "x", "parameters": {}}, "energy must be a number, got a string"),
    ({"runs": {"a": 1}}, "runs.a must be an object, got an integer"),
    ({"runs": {"a": {"label": "x", "energy": {"mean": "3"}, "file": "f"}}},
     "runs.a.energy.mean must be a number or null, got a string"),
    ({"phases": {"ordered": 1}, "L": 8}, "phases.ordered must be an object, got an integer"),
    ({"phases": {}, "L": "8"}, "L must be an integer, got a string"),
    ({"L": 8, "temperatures": [{"temperature": 1.5}]}, "has no 'n_samples'"),
    ({"tables": [{"T": 2.0, "L": 4, "sources": ["Monte Carlo"],
                  "observables": {"Monte Carlo": {"energy": [1]}}}]},
     "observables.Monte Carlo.energy must be an object or null, got a list"),
    ({"lattice_size": 8, "phases": {"ordered": {"temperature": 1.5, "file": "x.h5",
                                                "acceptance_rate": "high"}}},
     "phases.ordered.acceptance_rate must be a number or null, got a string"),
    ({"system": "chain", "lattice": "chain", "size": 8.5, "field": 1.0, "file": "t.h5",
      "energy": {"mean": -10.0, "error": 0.01}}, "size must be an integer, got a number"),
], ids=["tables-int", "tables-empty", "vmc-parameters", "vmc-energy", "runs-int",
        "runs-energy", "phases-int", "phases-L", "mc-row", "table-estimate", "exact-sampling",
        "tfim"])
def test_json_result_of_the_wrong_structure_is_refused_in_one_line(tmp_path, content,
                                                                   fragment):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(content))
    out = tmp_path / "r"
    status, stdout, stderr = run_cli(["report", str(path), "--out", str(out)])
    assert status == 2 and stdout == ""
    line = one_error_line(stderr)
    assert str(path) in line and "not a valid result file" in line and fragment in line, line
    assert not out.exists()


def test_demo_manifest_of_the_wrong_structure_is_refused_in_one_line(tmp_path):
    folder = _manifest(tmp_path / "run")
    manifest = json.loads((folder / demo.MANIFEST).read_text())
    manifest["config"]["temperatures"] = "1.5, 2.0"
    (folder / demo.MANIFEST).write_text(json.dumps(manifest))
    status, _, stderr = run_cli(["report", str(folder)])
    assert status == 2
    assert "config.temperatures must be a list" in one_error_line(stderr)
    assert not (folder / "report").exists()


def test_a_full_disk_leaves_no_report_folder(good_h5, tmp_path, monkeypatch):
    """ENOSPC while writing a figure: one line, exit 2, and neither the report folder
    nor any part of it is left behind (the folders the run created are removed)."""
    import errno

    from isingrbm import plots

    def full(fig, path, **kwargs):
        Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(plots, "save", full)
    before = tree(tmp_path)
    out = tmp_path / "rep"
    status, stdout, stderr = run_cli(["report", str(good_h5), "--out", str(out)])
    assert status == 2 and stdout == ""
    assert "No space left on device" in one_error_line(stderr)
    assert tree(tmp_path) == before
    # an existing report folder keeps its report when the rebuild fails
    status, _, stderr = run_cli(["report", str(good_h5), "--out", str(out), "--quiet"])
    assert status == 2
    monkeypatch.undo()
    status, _, stderr = run_cli(["report", str(good_h5), "--out", str(out), "--quiet"])
    assert status == 0, stderr
    html = (out / "report.html").read_text()
    monkeypatch.setattr(plots, "save", full)
    status, _, stderr = run_cli(["report", str(good_h5), "--out", str(out), "--overwrite"])
    assert status == 2
    assert (out / "report.html").read_text() == html
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "report.md"]


def test_report_does_not_import_the_demo():
    """The demo <-> report circle is broken: the report reads a demo folder through
    isingrbm.manifest and never imports isingrbm.demo."""
    import subprocess
    import sys

    code = ("import sys, isingrbm.report, isingrbm.commands.report; "
            "print('isingrbm.demo' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_wide_monte_carlo_table_cells_wrap_before_the_error(good_h5, tmp_path):
    """The Monte Carlo table of an HTML report: no cell forbids wrapping, and every
    "mean ± error" may break before its "±" (so chi and U4 need no sideways scrolling)."""
    out = tmp_path / "rep"
    status, _, stderr = run_cli(["report", str(good_h5), "--out", str(out), "--quiet"])
    assert status == 0, stderr
    html = (out / "report.html").read_text()
    assert "nowrap" not in html
    assert " ±\u00a0" in html and " ± " not in html.split("<body>")[1].replace(
        "<p>", "").split("<table")[1]


def test_exact_sampling_and_tfim_results_are_reported(tmp_path):
    """A demo's exact_sampling.json and tfim.json given as files: their tables hold
    their numbers (the TFIM energy against the exact one, in standard errors)."""
    from test_demo import find_table, parse_markdown_tables

    exact = tmp_path / "exact_sampling.json"
    exact.write_text(json.dumps({"lattice_size": 8, "method": "MH", "phases": {
        "critical": {"temperature": 2.269, "file": "datasets/rbm_exact_critical.h5",
                     "acceptance_rate": 0.4125, "tau_int": {"energy": 3.14159,
                                                            "abs_magnetization": 2.5},
                     "thinning": 12, "proposal_steps": 5, "local_sweeps": 1,
                     "equilibration_check_passed": True}}}))
    tfim = tmp_path / "tfim.json"
    tfim.write_text(json.dumps({
        "system": "transverse-field Ising chain, N = 8", "lattice": "chain", "size": 8,
        "field": 1.0, "file": "results/tfim_chain.h5",
        "energy": {"mean": -10.2510, "error": 0.0012}, "exact": -10.2517,
        "exact_method": "free fermions", "relative_error": 6.8e-5,
        "relative_error_sigma": 1.2e-4, "variance": 0.01, "acceptance": 0.5,
        "iterations": 100}))
    out = tmp_path / "rep"
    status, _, stderr = run_cli(["report", str(exact), str(tfim), "--out", str(out), "--quiet"])
    assert status == 0, stderr
    tables = parse_markdown_tables((out / "report.md").read_text())
    header, rows = find_table(tables, "Exact RBM Monte Carlo per phase")
    assert rows == [["critical", "2.269", "0.412", "3.14", "2.50", "12", "5", "1", "passed",
                     "datasets/rbm_exact_critical.h5"]]
    header, rows = find_table(tables, "Final VMC energies of the quantum Ising model")
    row = dict(zip(header, rows[0]))
    assert row["E"] == "-10.2510 ± 0.0012"
    assert row["exact"] == "-10.251700 (free fermions)"
    assert row["dev (σ)"] == "+0.6"    # (-10.2510 + 10.2517) / 0.0012
    assert row["relative error"] == "6.8e-05 ± 1.2e-04"


def test_a_report_being_written_is_not_written_twice(good_h5, tmp_path):
    """Two 'isingrbm report --out DIR' at once: the second is refused in one line."""
    from mccore.files import output_lock

    out = tmp_path / "rep"
    with output_lock(out):
        status, _, stderr = run_cli(["report", str(good_h5), "--out", str(out), "--overwrite"])
    assert status == 2 and "being written by another process" in one_error_line(stderr)
    assert not out.exists()


def test_a_killed_writer_leaves_nothing_for_long(good_h5, tmp_path):
    """The staging folder of a report writer killed mid-write is removed by the next."""
    out = tmp_path / "rep"
    (out / ".report.abc123.tmp" / "figures").mkdir(parents=True)
    (out / ".report.abc123.tmp" / "figures" / "thermodynamics.png").write_bytes(b"half")
    status, _, stderr = run_cli(["report", str(good_h5), "--out", str(out), "--quiet"])
    assert status == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "report.md"]
