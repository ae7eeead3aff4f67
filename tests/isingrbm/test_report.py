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
    assert "<td>-1.4530 ± 0.0021</td>" in html
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
