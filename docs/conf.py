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
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "**.ipynb_checkpoints", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.json", "auto_examples/*.codeobj.json"]
templates_path = ["_templates"]

# No network at build time (CI has none): no intersphinx, no remote images.
# MathJax is loaded by the reader's browser.

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
html_static_path = ["_static"]
html_theme_options = {
    "navigation_depth": 3,
    "show_toc_level": 2,
    "navbar_align": "left",
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = False

# --- sphinx-gallery: the executed examples ------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
}

# --- the API pages, one per package, from its __all__ --------------------------
API_PACKAGES = {
    "mccore": "The ground floor: errors, validation, randomness, files, threads.",
    "mcstats": "Monte Carlo statistics: estimates with error bars.",
    "ising": "2D Ising model: Monte Carlo, exact results, observables, datasets.",
    "rbm": "Restricted Boltzmann machines (scikit-learn estimators).",
    "vmc": "Variational Monte Carlo with RBM trial states.",
    "gan": "The GAN baseline (optional, needs PyTorch).",
}


def _public_submodules(package) -> list[str]:
    """Names of the package's public submodules (files not starting with _)."""
    folder = Path(package.__file__).parent
    names = []
    for path in sorted(folder.glob("*.py")):
        if path.stem.startswith("_"):
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
    """Write ``api/<pkg>.rst`` and ``api/modules/<module>.rst`` from the code."""
    for name, blurb in API_PACKAGES.items():
        _write_if_changed(DOCS / "api" / f"{name}.rst", _api_page(name, blurb))
        package = importlib.import_module(name)
        for mod in _public_submodules(package):
            _write_if_changed(DOCS / "api" / "modules" / f"{mod}.rst", _module_page(mod))


write_api_pages()

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
        for path in (ROOT / name).glob("*.py"):
            names.update(_SUBSTITUTION.findall(path.read_text(encoding="utf-8")))
    lines = []
    for token in sorted(names):
        if ":" in token or "\\" in token:
            continue
        escaped = token.replace("*", "\\*").replace("_", "\\_")
        lines.append(f".. |{token}| replace:: \\|{escaped}\\|")
    return "\n".join(lines) + "\n"


rst_prolog = _absolute_value_substitutions()


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


def setup(app):
    app.connect("source-read", _changelog)
    app.connect("autodoc-skip-member", _skip_member)
    warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


# Parameter types such as ``(n_samples, L, L)`` are parsed as cross-references by
# the Python domain; a bare ``L`` or ``n_visible`` then matches attributes of
# several classes (``Ensemble.L``, ``IsingDataset.L``, ...) and Sphinx warns
# "more than one target found". Those words are shapes, not references, so only
# that warning type is silenced.
suppress_warnings = ["ref.python"]
