"""The report as a document: blocks (headings, paragraphs, tables, figures), their
Markdown and HTML, and the formatting of numbers.

Both documents are rendered from one list of blocks, so they always hold the
same numbers. Every estimate is ``mean ± one standard error``
(:func:`mcstats.estimate.format_estimate`, the one formatter of the
workbench).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from mcstats.estimate import format_estimate

__all__ = ["FigureBlock", "Heading", "Paragraph", "Preformatted", "Table", "estimate_dict",
           "fmt_estimate", "fmt_float", "fmt_sigma", "nan_if_none", "render_html",
           "render_markdown"]


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    """A table of strings with a caption (rendered as Markdown and HTML)."""

    caption: str
    header: list
    rows: list
    name: str = ""


@dataclass
class FigureBlock:
    path: str  # relative to the report folder
    caption: str


@dataclass
class Preformatted:
    text: str


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks) -> str:
    """Markdown of a block list (GitHub pipe tables, images by relative path)."""
    out = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append("#" * block.level + " " + block.text)
        elif isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Table):
            out.append(f"**{block.caption}**")
            out.append("")
            out.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
            out.append("|" + "|".join("---" for _ in block.header) + "|")
            for row in block.rows:
                out.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
        elif isinstance(block, FigureBlock):
            out.append(f"![{block.caption}]({block.path})")
            out.append("")
            out.append(f"*{block.caption}*")
        elif isinstance(block, Preformatted):
            out.append("```")
            out.append(block.text.rstrip())
            out.append("```")
        out.append("")
    return "\n".join(out)


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1200px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #bbb; padding-bottom: .15em; margin-top: 2em; }
/* Tables fit the page column: a cell "mean ± error" may wrap before its "±" (never
   inside a number), so even the 15 columns of the Monte Carlo table need no sideways
   scrolling on a desktop screen; on a narrow screen the wrapper scrolls instead of
   overflowing the page. */
.table-scroll { max-width: 100%; overflow-x: auto; margin: .6em 0 1.4em 0; }
table { border-collapse: collapse; font-size: 0.85em; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: .3em; }
th, td { border: 1px solid #ccc; padding: .25em .45em; text-align: right; }
th { font-weight: 600; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1em 0 2em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; margin-top: .3em; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #555; font-size: 0.9em; }
"""


def render_html(blocks, *, title: str) -> str:
    """A self-contained HTML page of a block list (figures linked as PNG files)."""
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{esc(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>"]
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"<h{block.level}>{esc(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{_inline_html(block.text)}</p>")
        elif isinstance(block, Table):
            ident = f' id="{esc(block.name)}"' if block.name else ""
            out.append(f'<div class="table-scroll"><table{ident}>')
            out.append(f"<caption>{esc(block.caption)}</caption>")
            out.append("<thead><tr>" + "".join(f"<th>{esc(str(h))}</th>" for h in block.header)
                       + "</tr></thead>")
            out.append("<tbody>")
            for row in block.rows:
                out.append("<tr>" + "".join(f"<td>{_cell_html(c)}</td>" for c in row) + "</tr>")
            out.append("</tbody></table></div>")
        elif isinstance(block, FigureBlock):
            out.append(f'<figure><img src="{esc(block.path)}" alt="{esc(block.caption)}">'
                       f"<figcaption>{esc(block.caption)}</figcaption></figure>")
        elif isinstance(block, Preformatted):
            out.append(f"<pre>{esc(block.text)}</pre>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _cell_html(text) -> str:
    """An escaped table cell that may wrap before "±" but not after it."""
    return html.escape(str(text)).replace(" ± ", " ±\u00a0")


def _inline_html(text: str) -> str:
    """Escape, then render Markdown's `code` spans."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


# --------------------------------------------------------------------------
# number formatting


def fmt_estimate(est) -> str:
    """``mean ± error`` of an Estimate or its dict (:func:`mcstats.estimate.format_estimate`)."""
    return format_estimate(estimate_dict(est))


def fmt_float(value, digits: int = 5) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.{digits}f}"


def fmt_sigma(est, exact) -> str:
    """Signed deviation ``(mean - exact) / error`` in standard errors."""
    if est is not None and not isinstance(est, dict) and hasattr(est, "to_dict"):
        est = est.to_dict()
    if est is None or exact is None or est.get("mean") is None:
        return "—"
    error = est.get("error") or 0.0
    if not error or not math.isfinite(error):
        return "—"
    return f"{(est['mean'] - exact) / error:+.1f}"


def estimate_dict(est):
    if est is None or isinstance(est, dict):
        return est
    return est.to_dict() if hasattr(est, "to_dict") else None


def nan_if_none(value) -> float:
    """A JSON number as float (``None``, JSON's NaN, becomes NaN)."""
    return float("nan") if value is None else float(value)
