"""The documentation builds, with warnings as errors and the examples executed;
its links resolve; it and the report read well in a real browser, offline.

A broken example, a stale API name in a page or a docstring that Sphinx
cannot parse fails this test (``sphinx-build -W --keep-going``). Needs the
``docs`` extra (sphinx, myst-parser, pydata-sphinx-theme, sphinx-gallery,
sphinx-mathjax-offline); skipped with the reason when it is not installed.
Every internal link of the built site, anchors included, must resolve, and
nothing is loaded from the network (MathJax is bundled).

The browser checks open the report of ``isingrbm report`` and docs pages in
headless Chromium (the Debian package ``chromium``, driven by Playwright from
the ``test`` extra), with every network request refused: every image loads,
no table is wider than the column that holds it, and formulas are typeset.
They skip with the reason where no browser is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REQUIRED = ["sphinx", "myst_parser", "pydata_sphinx_theme", "sphinx_gallery",
            "sphinx-mathjax-offline"]
PACKAGES = ["mccore", "mcstats", "ising", "rbm", "vmc", "vmc.trap", "vmc.spins", "gan"]

_missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
#: Chromium flags: headless, and nothing fetched in the background.
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _browser_executable():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _browser_missing() -> str:
    if importlib.util.find_spec("playwright") is None:
        return "no Playwright to drive a browser (pip install -e \".[test]\")"
    if _browser_executable() is None:
        return ("no headless browser installed (install the Debian package chromium: "
                "apt-get install chromium)")
    return ""


needs_browser = pytest.mark.skipif(bool(_browser_missing()), reason=_browser_missing())

# Runs in the page: waits for every image (lazy ones made eager), then reports the
# images that did not load, the tables wider than the element that holds them,
# and how many formulas MathJax typeset.
_PAGE_CHECK = """async () => {
  for (const img of document.images) { img.loading = "eager"; }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(done => { img.addEventListener("load", done);
                            img.addEventListener("error", done); })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const broken = Array.from(document.images)
      .filter(img => !(img.complete && img.naturalWidth > 0))
      .map(img => img.getAttribute("src"));
  const wide = Array.from(document.querySelectorAll("table")).filter(table => {
      const holder = table.parentElement;
      return table.getBoundingClientRect().width > holder.clientWidth + 1;
  }).map(table => (table.id || (table.caption ? table.caption.textContent : "") ||
                   table.textContent).trim().slice(0, 60));
  return {broken: broken, wide: wide, images: document.images.length,
          tables: document.querySelectorAll("table").length,
          math: document.querySelectorAll("mjx-container").length};
}"""


def check_in_browser(pages, *, width: int = 1280, height: int = 900) -> dict:
    """``page -> result of _PAGE_CHECK`` for local HTML files, with the network refused.

    Every request that is not a local file is aborted and recorded under
    ``"network"``: a page must not need the internet.
    """
    from playwright.sync_api import sync_playwright

    results, network = {}, []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:", "about:", "blob:")):
            request_route.continue_()
        else:
            network.append(url)
            request_route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_browser_executable(),
                                     args=BROWSER_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("**/*", route)
            for path in pages:
                page.goto(Path(path).resolve().as_uri(), wait_until="load")
                results[str(path)] = page.evaluate(_PAGE_CHECK)
        finally:
            browser.close()
    results["network"] = network
    return results


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory):
    """Build the HTML docs once into a temporary folder; return (folder, log)."""
    if _missing:
        pytest.skip(f"docs build needs {', '.join(_missing)} (pip install -e \".[docs]\")")
    out = tmp_path_factory.mktemp("docs_html")
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1",
               PYTHONHASHSEED="0")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
           "-d", str(out / ".doctrees"), str(DOCS), str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"sphinx-build failed (status {proc.returncode}):\n{log[-8000:]}"
    return out, log


def test_build_has_no_warnings(built_docs):
    out, log = built_docs
    assert "WARNING" not in log and "ERROR" not in log, log[-8000:]
    for page in ["index.html", "getting_started.html", "file_formats.html",
                 "changelog.html", "api/index.html"]:
        assert (out / page).stat().st_size > 0, page


@pytest.mark.parametrize("package", PACKAGES)
def test_api_reference_covers_every_public_name(built_docs, package):
    """Every name in the package's __all__ has its own generated page."""
    out, _ = built_docs
    module = importlib.import_module(package)
    missing = [name for name in module.__all__
               if not (out / "api" / "generated" / f"{package}.{name}.html").exists()]
    assert not missing, f"{package}: no API page for {missing}"


def test_gallery_examples_ran_and_made_figures(built_docs):
    """Every example script was executed and each produced at least one figure."""
    out, _ = built_docs
    scripts = sorted((DOCS / "examples").glob("plot_*.py"))
    assert scripts, "no examples in docs/examples"
    for script in scripts:
        page = out / "auto_examples" / f"{script.stem}.html"
        assert page.exists(), f"{script.name} has no page"
        images = list((out / "_images").glob(f"sphx_glr_{script.stem}_*.png"))
        assert images, f"{script.name} produced no figure"


# --------------------------------------------------------------------------
# links and offline reading


_ATTR = re.compile(r'<(a|link|img|script)\b[^>]*?\b(href|src)="([^"]*)"', re.IGNORECASE)
_ID = re.compile(r'\b(?:id|name)="([^"]+)"')


def _ids(page: Path, cache: dict) -> set:
    if page not in cache:
        cache[page] = set(_ID.findall(page.read_text(encoding="utf-8", errors="replace")))
    return cache[page]


def broken_internal_links(site: Path) -> list:
    """``"page -> target"`` of every internal link or resource that does not resolve.

    A link resolves when its file exists and, if it names an anchor in an
    HTML page, that page has an element with that id (or an ``<a name>``).
    """
    import html

    broken, cache = [], {}
    for page in sorted(site.rglob("*.html")):
        if page.relative_to(site).parts[0] in ("_static", "_sources"):
            continue   # the theme's templates and page sources, not pages
        text = page.read_text(encoding="utf-8", errors="replace")
        for _tag, _attr, raw in _ATTR.findall(text):
            url = html.unescape(raw)
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//") or not url or url == "#":
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {url}")
            elif parts.fragment and target.suffix == ".html" \
                    and unquote(parts.fragment) not in _ids(target, cache):
                broken.append(f"{page.relative_to(site)} -> {url}")
    return broken


def test_internal_links_and_anchors_resolve(built_docs):
    """Every internal link, image and script of the site resolves, anchors included
    (the "[source]" / "[docs]" links between the API pages and the highlighted code)."""
    out, _ = built_docs
    broken = broken_internal_links(out)
    assert not broken, f"{len(broken)} broken internal links, e.g.\n" + "\n".join(broken[:20])
    sources = list((out / "_modules").rglob("*.html"))
    assert sources and any("viewcode-back" in p.read_text() for p in sources)


def test_nothing_is_loaded_from_the_network(built_docs):
    """MathJax is served from the site itself (formulas render offline), and no page
    loads a script, style sheet or image from another host."""
    out, _ = built_docs
    assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()
    remote = []
    for page in sorted(out.rglob("*.html")):
        for tag, attr, url in _ATTR.findall(page.read_text(encoding="utf-8", errors="replace")):
            if re.match(r"(https?:)?//", url) and not (tag.lower() == "a"):
                remote.append(f"{page.relative_to(out)}: <{tag} {attr}={url}>")
    assert not remote, "\n".join(remote[:20])


# --------------------------------------------------------------------------
# in a real browser, offline


@needs_browser
def test_docs_pages_in_a_browser(built_docs):
    """Every page but the API reference (guide, physics, benchmarks, examples): every
    image loads, no table is wider than its column, the formulas are typeset by the
    bundled MathJax, and nothing is requested from the network."""
    out, _ = built_docs
    pages = [p for p in sorted(out.rglob("*.html"))
             if p.relative_to(out).parts[0] not in ("api", "_modules", "_static", "_sources")]
    results = check_in_browser(pages)
    assert results["network"] == []
    problems = {str(p.relative_to(out)): {k: results[str(p)][k] for k in ("broken", "wide")}
                for p in pages if results[str(p)]["broken"] or results[str(p)]["wide"]}
    assert not problems, problems
    assert results[str(out / "physics" / "exact_solutions.html")]["math"] > 0
    assert results[str(out / "benchmarks" / "rbm.html")]["tables"] > 0
    assert results[str(out / "auto_examples" / "plot_ising_thermodynamics.html")]["images"] > 0


@needs_browser
def test_report_in_a_browser(tmp_path):
    """The report of 'isingrbm report': every figure loads, and no table (the Monte
    Carlo table has 15 columns) is wider than the page column on a 1280-pixel or a
    1024-pixel wide window, so chi and U4 need no sideways scrolling."""
    from isingrbm import cli

    data, model, generated = (tmp_path / name for name in ("mc.h5", "rbm.h5", "gen.h5"))
    for argv in (["generate", "--size", "4", "--temperatures", "1.5", "2.0", "2.269", "2.6",
                  "3.5", "--samples", "200", "--out", str(data), "--seed", "1"],
                 ["fit", str(data), "--temperature", "1.5", "--hidden", "4", "--epochs", "2",
                  "--out", str(model), "--seed", "2"],
                 ["sample", str(model), "--samples", "200", "--out", str(generated),
                  "--seed", "3"],
                 ["report", str(data), str(generated), str(model), "--out",
                  str(tmp_path / "report"), "--seed", "4"]):
        assert cli.main([*argv, "--quiet"]) == 0, argv
    out = tmp_path / "report"
    page = out / "report.html"
    for width in (1280, 1024):
        results = check_in_browser([page], width=width)
        result = results[str(page)]
        assert results["network"] == []
        assert result["images"] >= 3 and result["broken"] == [], result
        assert result["tables"] >= 3 and result["wide"] == [], (width, result)
