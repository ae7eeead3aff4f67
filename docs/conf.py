"""Sphinx configuration of the isingrbm documentation.

Build (warnings are errors, as in the test suite)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API pages are generated from each package's ``__all__`` (``api/<pkg>.rst``,
written below before autosummary runs), so a public name added to a package
appears in the reference without editing the docs, and a name that is removed
cannot linger. The examples in ``docs/examples`` are executed by
sphinx-gallery at every build; their printed output and figures come from
that run.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "isingrbm"
author = "the isingrbm authors"
copyright = "the isingrbm authors, MIT licence"

try:
    from mccore.version import software_version

    release = software_version()
except Exception:  # pragma: no cover - docs of a broken install still build
    release = "unknown"
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    # MathJax 3 served from _static (copied from this PyPI package at build time):
    # formulas render with no internet connection.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "benchmarks/_*.md", "**.ipynb_checkpoints",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.md5", "auto_examples/*.json", "auto_examples/*.codeobj.json",
                    "sg_execution_times.rst", "auto_examples/sg_execution_times.rst"]

# No network at build time (CI has none) nor when reading: no intersphinx, no
# remote images, and MathJax is bundled (sphinx-mathjax-offline, the docs extra).

# --- MyST ------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- autodoc / autosummary / napoleon ----------------------------------------
autosummary_generate = True
# gan.networks imports PyTorch at module level; PyTorch is an optional extra,
# so without it the API pages are built against a stand-in module.
try:
    import torch  # noqa: F401
except ImportError:
    autodoc_mock_imports = ["torch"]
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_inherit_docstrings = False
autoclass_content = "both"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# "Attributes" sections as :ivar: fields: a documented property of the same name
# would otherwise be described twice.
napoleon_use_ivar = True
napoleon_preprocess_types = False
napoleon_custom_sections = [("Conventions", "notes_style"), ("Physics", "notes_style"),
                            ("Convention", "notes_style")]

# --- figures of measured tables (matplotlib's plot directive) -----------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.figsize": (6.4, 3.4)}

# --- HTML ------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "isingrbm"
html_theme_options = {
    "navigation_depth": 3,
    "show_toc_level": 2,
    "navbar_align": "left",
    # The benchmark pages hold wide data tables: they get the whole width
    # (named one by one: a page matching two wildcard patterns is a warning).
    "secondary_sidebar_items": {"**": ["page-toc"],
                                **{f"benchmarks/{page.stem}": []
                                   for page in (DOCS / "benchmarks").glob("[!_]*.md")}},
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": [], "getting_started": [], "benchmarks/*": []}
html_static_path = ["_static"]
html_css_files = ["tables.css"]
html_show_sourcelink = False

# --- sphinx-gallery: the executed examples ------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    # Run every example at every build, not only those whose file changed:
    # their output must follow the library's code, and a change there that
    # breaks an example must fail the build.
    "run_stale_examples": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
    # Its execution-time pages load jQuery and DataTables from CDNs: the site
    # must read offline, and the times are in each example's page anyway.
    "write_computation_times": False,
}

# --- the API pages, one per package, from its __all__ --------------------------
API_PACKAGES = {
    "mccore": "The ground floor: errors, validation, randomness, files, threads.",
    "mcstats": "Monte Carlo statistics: estimates with error bars.",
    "ising": "2D Ising model: Monte Carlo, exact results, observables, datasets.",
    "rbm": "Restricted Boltzmann machines (scikit-learn estimators).",
    "vmc": "Variational Monte Carlo with RBM trial states: the shared engine.",
    "vmc.trap": "VMC for particles in a harmonic trap (Gaussian-binary RBM trial states).",
    "vmc.spins": "VMC for the transverse-field Ising model (RBM trial states, exact references).",
    "gan": "The GAN baseline (optional, needs PyTorch).",
}


def _is_deprecated_shim(path: Path) -> bool:
    """A module kept for one release at an old import path (its docstring opens 'Deprecated:')."""
    return path.read_text(encoding="utf-8").lstrip().startswith('"""Deprecated:')


def _public_submodules(package) -> list[str]:
    """Names of the package's public submodules (files not starting with _)."""
    folder = Path(package.__file__).parent
    names = []
    for path in sorted(folder.glob("*.py")):
        if path.stem.startswith("_") or _is_deprecated_shim(path):
            continue
        names.append(f"{package.__name__}.{path.stem}")
    return names


def _api_page(name: str, blurb: str) -> str:
    package = importlib.import_module(name)
    public = list(getattr(package, "__all__", []))
    title = f"``{name}``"
    lines = [
        ".. This file is written by docs/conf.py from the package's __all__; do not edit.",
        "",
        title,
        "=" * len(title),
        "",
        blurb,
        "",
        f".. automodule:: {name}",
        "   :no-members:",
        "",
        "Public names",
        "------------",
        "",
        f".. currentmodule:: {name}",
        "",
        ".. autosummary::",
        "   :toctree: generated",
        "   :nosignatures:",
        "",
    ]
    lines += [f"   {item}" for item in public]
    submodules = _public_submodules(package)
    if submodules:
        lines += [
            "",
            "Modules",
            "-------",
            "",
            "Every module with everything it defines, including the names above "
            "(which link to their own pages) and module-level helpers that are "
            "public but not re-exported by the package.",
            "",
            ".. toctree::",
            "   :maxdepth: 1",
            "",
        ]
        lines += [f"   modules/{mod}" for mod in submodules]
    return "\n".join(lines) + "\n"


def _module_page(mod: str) -> str:
    title = f"``{mod}``"
    return "\n".join([
        ".. This file is written by docs/conf.py; do not edit.",
        "",
        title,
        "=" * len(title),
        "",
        f".. automodule:: {mod}",
        "   :members:",
        "   :undoc-members:",
        "   :no-index:",
        "",
    ])


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_api_pages() -> None:
    """Write ``api/<pkg>.rst`` and ``api/modules/<module>.rst`` from the code.

    Pages of modules that no longer exist (left by an earlier build of a
    checkout whose modules have since moved) are removed, so that they cannot
    fail the build as documents outside every toctree.
    """
    shutil.rmtree(DOCS / "api" / "generated", ignore_errors=True)  # autosummary remakes it
    written = set()
    for name, blurb in API_PACKAGES.items():
        _write_if_changed(DOCS / "api" / f"{name}.rst", _api_page(name, blurb))
        package = importlib.import_module(name)
        for mod in _public_submodules(package):
            page = DOCS / "api" / "modules" / f"{mod}.rst"
            _write_if_changed(page, _module_page(mod))
            written.add(page)
    for page in (DOCS / "api" / "modules").glob("*.rst"):
        if page not in written:
            page.unlink()
    for page in (DOCS / "api").glob("*.rst"):
        if page.stem not in API_PACKAGES and page.stem != "index":
            page.unlink()


write_api_pages()

# --- benchmark results stored as data (benchmarks/*.json) -> tables ---------------
def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def write_tfim_table() -> None:
    """``benchmarks/_tfim_results.md`` from ``benchmarks/tfim_results.json``.

    The numbers are the benchmark's own output file, so the page never holds
    figures typed in by hand; without the file the page says it is missing.
    """
    import json

    source = ROOT / "benchmarks" / "tfim_results.json"
    figure = ROOT / "benchmarks" / "tfim_relative_error.png"
    lines = []
    if not source.exists():
        lines.append("No measured results are stored (`benchmarks/tfim_results.json`).")
    else:
        doc = json.loads(source.read_text())
        # the harness's document {"benchmark", "machine", "conditions", "records"};
        # a plain list of records is the format before the shared harness
        records = doc["records"] if isinstance(doc, dict) else doc
        r0 = records[0]
        lines += [
            f"Measured with {r0.get('iterations')} iterations, {r0.get('samples')} samples per "
            f"iteration, {r0.get('chains')} chains, SR learning rate {r0.get('learning_rate')}, "
            "one thread each (stored in `benchmarks/tfim_results.json`). Relative error "
            "$(E - E_\\text{exact})/\\lvert E_\\text{exact}\\rvert$ with its statistical "
            "error; iterations until the running mean is within $10^{-3}$ / $10^{-4}$; "
            "CPU milliseconds per iteration.",
        ]
        # two tables (accuracy, then speed): one of eight columns is wider than the page
        accuracy = ["", "| case | exact | ours: rel. error | NetKet: rel. error |",
                    "|---|---|---|---|"]
        speed = ["", "| case | ours: iter. to 1e-3 / 1e-4 | NetKet: iter. to 1e-3 / 1e-4 "
                 "| ours: CPU ms / iter. | NetKet: CPU ms / iter. |", "|---|---|---|---|---|"]
        for r in records:
            ours, nk = r.get("ours") or {}, r.get("netket") or {}

            def rel(side):
                if side.get("relative_error") is None:
                    energy = side.get("energy_per_site")
                    if energy is None:
                        return "-"
                    error = side.get("error")
                    n_sites = side.get("energy") / energy if energy else None
                    text = f"E/N = {energy:.5f}"
                    if error is not None and n_sites:
                        text += f" ± {error / abs(n_sites):.5f}"
                    if abs(energy) < 1e-8:
                        text += " (collapsed to E = 0)"
                    return text
                return (f"{side['relative_error']:.1e} ± "
                        f"{_fmt(side.get('relative_error_sigma'), '.1e')}")

            def iters(side):
                def one(key):
                    if key not in side:
                        return "-"
                    return "not reached" if side[key] is None else str(side[key])
                return f"{one('iterations_to_1e-3')} / {one('iterations_to_1e-4')}"

            def cpu_ms(side):
                # harness format: side["time"] = {"unit": "ms per iteration", "cpu", ...}
                return side["time"].get("cpu") if "time" in side else side.get("cpu_ms")

            exact = r.get("exact")
            exact_text = "-" if exact is None else f"{exact:.6f} ({r.get('exact_method', '')})"
            accuracy.append(f"| {r['case']} | {exact_text} | {rel(ours)} "
                            f"| {rel(nk) if nk else '-'} |")
            speed.append(f"| {r['case']} | {iters(ours)} | {iters(nk) if nk else '-'} "
                         f"| {_fmt(cpu_ms(ours), '.1f')} "
                         f"| {_fmt(cpu_ms(nk), '.1f') if nk else '-'} |")
        lines += accuracy + speed
        if figure.exists():
            lines += ["", "```{image} ../../benchmarks/tfim_relative_error.png",
                      ":alt: relative error against iteration, ours and NetKet",
                      ":width: 100%", "```"]
    _write_if_changed(DOCS / "benchmarks" / "_tfim_results.md", "\n".join(lines) + "\n")


write_tfim_table()


# --- the changelog: ../CHANGELOG.md, or a line saying there is none yet -----------
def _changelog(app, docname, source):
    if docname != "changelog":
        return
    path = ROOT / "CHANGELOG.md"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        # The file's own H1 becomes the page title.
        source[0] = text
    else:
        source[0] = "# Changelog\n\nNo changelog has been written yet.\n"


# --- |m|, |M|, |Psi| in docstrings -----------------------------------------------
# Physicists write absolute values as |m|; reStructuredText reads that as a
# substitution reference and fails on the undefined name. Every such token in
# the packages' sources is defined here as itself, so docstrings stay as the
# authors wrote them and render |m| literally.
_SUBSTITUTION = re.compile(r"(?<![\w|`])\|([^|`\s](?:[^|`\n]{0,30}[^|`\s])?)\|(?![\w|])")


def _absolute_value_substitutions() -> str:
    names = set()
    for name in API_PACKAGES:
        for path in (ROOT / name.replace(".", "/")).glob("*.py"):
            names.update(_SUBSTITUTION.findall(path.read_text(encoding="utf-8")))
    lines = []
    for token in sorted(names):
        if ":" in token or "\\" in token:
            continue
        escaped = token.replace("*", "\\*").replace("_", "\\_")
        lines.append(f".. |{token}| replace:: \\|{escaped}\\|")
    return "\n".join(lines) + "\n"


rst_prolog = _absolute_value_substitutions()


# ``|psi|^2``: reStructuredText does not accept ``^`` right after the closing
# ``|`` of a substitution reference, so it warns "start-string without
# end-string". Such absolute values are escaped in docstrings (outside inline
# literals and literal blocks), so they render as written.
_ABS_POWER = re.compile(r"(?<![\\|`\w])\|([^|`\s](?:[^|`\n]*?[^|`\s\\])?)\|(?=[\^*])")


def _escape_absolute_values(app, what, name, obj, options, lines):
    literal_indent = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                continue
        parts = line.split("``")
        for k in range(0, len(parts), 2):
            parts[k] = _ABS_POWER.sub(r"\\|\1\\|", parts[k])
        lines[i] = "``".join(parts)
        if stripped.endswith("::"):
            literal_indent = indent


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_<method>_request`` methods.

    scikit-learn attaches them to every estimator for metadata routing; their
    docstrings refer to labels of scikit-learn's own documentation, which
    this site does not have (no intersphinx), and they are not part of the
    workbench's API.
    """
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


# --- viewcode's "[docs]" back-links ------------------------------------------------
# The per-module pages (api/modules/*) document every object again with
# :no-index:, so they hold no anchors; viewcode would still register them as
# the place an object is documented, and the "[docs]" links of the highlighted
# source pages would point at anchors that do not exist. Their signatures are
# hidden from viewcode while it reads the page (and restored right after), so
# every back-link goes to the object's own page in api/generated/.
_HIDDEN_MODULE = "isingrbm_hidden_module"


def _current_docname(app) -> str:
    current = getattr(app.env, "current_document", None)
    return getattr(current, "docname", None) or app.env.docname


def _reexported_from_subpackage(docname: str) -> bool:
    """True for ``api/generated/P.name`` when a documented subpackage of P exports the same object.

    (``vmc.run`` is ``vmc.trap.run``: viewcode's back-link must go to one page,
    the subpackage's, or it mixes one page with the other's anchor.)
    """
    if not docname.startswith("api/generated/"):
        return False
    full = docname.removeprefix("api/generated/")
    package, _, name = full.rpartition(".")
    if package not in API_PACKAGES:
        return False
    obj = getattr(importlib.import_module(package), name, None)
    for other in API_PACKAGES:
        if other.startswith(package + "."):
            sub = importlib.import_module(other)
            if name in getattr(sub, "__all__", ()) and getattr(sub, name, None) is obj:
                return True
    return False


def _hide_no_index_pages_from_viewcode(app, doctree):
    from sphinx import addnodes

    docname = _current_docname(app)
    if not (docname.startswith("api/modules/") or _reexported_from_subpackage(docname)):
        return
    for signode in doctree.findall(addnodes.desc_signature):
        if signode.get("module"):
            signode[_HIDDEN_MODULE] = signode["module"]
            del signode["module"]


def _restore_modules(app, doctree):
    from sphinx import addnodes

    for signode in doctree.findall(addnodes.desc_signature):
        if _HIDDEN_MODULE in signode:
            signode["module"] = signode[_HIDDEN_MODULE]
            del signode[_HIDDEN_MODULE]


def setup(app):
    # viewcode reads doctrees at the default priority 500
    app.connect("doctree-read", _hide_no_index_pages_from_viewcode, priority=400)
    app.connect("doctree-read", _restore_modules, priority=600)
    app.connect("source-read", _changelog)
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-docstring", _escape_absolute_values)
    warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


# Parameter types such as ``(n_samples, L, L)`` are parsed as cross-references by
# the Python domain; a bare ``L`` or ``n_visible`` then matches attributes of
# several classes (``Ensemble.L``, ``IsingDataset.L``, ...) and Sphinx warns
# "more than one target found". Those words are shapes, not references, so only
# that warning type is silenced.
suppress_warnings = ["ref.python"]
