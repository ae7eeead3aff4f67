"""The report: ``report.md`` and ``report.html`` with PNG figures and tables.

:func:`build_report` writes the report of a demo folder (see
:mod:`isingrbm.manifest` for its layout) into ``DIR/report/``;
:func:`build_files_report` writes one from any set of result files:
Monte Carlo and generated datasets, RBM model files, VMC result files, and
the JSON results of ``isingrbm evaluate --json``, ``isingrbm vmc --json`` and
the demo. Both only read result files and never recompute Monte Carlo,
training or VMC (generated datasets given beside their Monte Carlo data are
compared by :func:`isingrbm.pipeline.evaluate_datasets`, seconds of work), so
``isingrbm report`` rebuilds a report in seconds.

A demo folder is checked first: every output of a stage that
``demo.json`` records as complete must still have the recorded size and
SHA-256, else the report is refused naming the damaged file. A section
whose stage has not run yet says so, so the report of an unfinished demo
shows what exists. Every JSON result read is checked against the schema of
its kind first (:mod:`.schema`).

The package, one job per module: :mod:`.inputs` (reading result files),
:mod:`.schema` (the structure of JSON results), :mod:`.sections` (tables and
figures of each section), :mod:`.document` (blocks, Markdown and HTML,
number formatting) and :mod:`.build` (checking the output folder, writing
it). Both documents are rendered from one list of blocks, so they always
hold the same numbers. Every number is ``mean ± one standard error`` with its
convention stated: per spin, k_B = J = 1 for the Ising model; hbar = m = 1,
energies in hbar * omega for VMC.
"""

from __future__ import annotations

from .build import build_files_report, build_report, check_report_folder
from .document import (FigureBlock, Heading, Paragraph, Preformatted, Table, fmt_estimate,
                       fmt_float, fmt_sigma, render_html, render_markdown)
from .inputs import EvaluationInput, Inputs, MonteCarloInput, VMCRun, collect_files, demo_inputs
from .sections import OBSERVABLE_COLUMNS

__all__ = [
    "OBSERVABLE_COLUMNS",
    "Table",
    "build_files_report",
    "build_report",
    "collect_files",
]
