"""Building a report: checking where it goes, gathering its blocks, writing its folder.

A report folder holds ``report.md``, ``report.html`` and ``figures/*.png``.
Everything is first written into a hidden staging folder inside it and moved
into place only when complete, so a failure (a full disk, a damaged input
found late) leaves no half-written report and no folder the run created; an
existing report is replaced only with ``overwrite`` (or, for a demo folder,
``DIR/report/``, which the demo owns and rebuilds at will). The folder is
held under an output lock (:func:`mccore.files.output_lock`) while written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from mccore.errors import InvalidParameterError, OutputExistsError
from mccore.files import check_output_folder, output_lock

from .. import manifest as _manifest
from . import schema
from .document import FigureBlock, Heading, Paragraph, render_html, render_markdown
from .inputs import Inputs, check_input_paths, collect_files, demo_inputs
from .sections import (
    exact_sampling_section,
    gan_ran,
    inputs_section,
    report_blocks,
    settings_section,
    tfim_section,
    training_section,
    vmc_section,
)

__all__ = ["build_files_report", "build_report", "check_report_folder"]

_OWN_NAMES = ("report.md", "report.html")
_STAGE_PREFIX = ".report."


def check_report_folder(out, *, overwrite: bool = False) -> Path:
    """Refuse (before anything is read or written) a report folder that would lose files.

    Without ``overwrite``, a folder holding ``report.md``, ``report.html``
    or anything in ``figures/`` is refused: those are the names a report
    writes, and a file of that name is not ours to replace.

    Raises
    ------
    InvalidParameterError
        ``out`` is a file, its parent folder does not exist, or the folder
        that would be written is not writable (:func:`mccore.files.check_output_folder`).
    OutputExistsError
        ``out`` holds files the report would replace, and not ``overwrite``.
    """
    out = check_output_folder(out, flag="--out")
    figures = out / "figures"
    if figures.exists() and not figures.is_dir():
        raise InvalidParameterError(f"{figures} exists and is not a folder")
    if overwrite:
        return out
    for name in _OWN_NAMES:
        if (out / name).exists():
            raise OutputExistsError(
                f"{out / name} exists; pass --overwrite to replace the report in {out}")
    if figures.is_dir():
        present = sorted(p.name for p in figures.iterdir())
        if present:
            raise OutputExistsError(
                f"{figures} already holds {len(present)} file(s) ({present[0]}, ...); "
                f"pass --overwrite to let the report replace its figures in {out}")
    return out


def _write_folder(report_dir: Path, title: str, make_blocks) -> dict:
    """Write the report of ``make_blocks(figures_dir) -> blocks`` into ``report_dir``.

    Staged in a hidden folder inside ``report_dir`` and moved into place at
    the end; on any failure the staging folder, and every folder this call
    created, are removed.
    """
    created = []
    with output_lock(report_dir):
        try:
            if not report_dir.exists():
                report_dir.mkdir()
                created.append(report_dir)
            for stale in report_dir.glob(_STAGE_PREFIX + "*.tmp"):
                # left by a writer that was killed; nobody else writes here while we hold the lock
                shutil.rmtree(stale, ignore_errors=True)
            stage = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, suffix=".tmp", dir=report_dir))
            try:
                (stage / "figures").mkdir()
                blocks = make_blocks(stage / "figures")
                (stage / "report.md").write_text(render_markdown(blocks))
                (stage / "report.html").write_text(render_html(blocks, title=title))
                figures = [Path(b.path).name for b in blocks if isinstance(b, FigureBlock)]
                if figures and not (report_dir / "figures").exists():
                    (report_dir / "figures").mkdir()
                    created.append(report_dir / "figures")
                written = {}
                for name in figures:
                    os.replace(stage / "figures" / name, report_dir / "figures" / name)
                    written[f"figure:{name}"] = report_dir / "figures" / name
                for key, name in (("markdown", "report.md"), ("html", "report.html")):
                    os.replace(stage / name, report_dir / name)   # same file system: atomic
                    written[key] = report_dir / name
            finally:
                shutil.rmtree(stage, ignore_errors=True)
        except BaseException:
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()   # only if empty: never a file of someone else
            raise
    return {"markdown": written.pop("markdown"), "html": written.pop("html"), **written}


def build_report(directory) -> dict:
    """Write ``report.md``, ``report.html`` and figures of the demo folder ``directory``.

    Parameters
    ----------
    directory : path-like
        A demo folder (holding ``demo.json``); the report goes to
        ``directory/report/``.

    Returns
    -------
    dict
        ``name -> Path``: ``markdown``, ``html`` and ``figure:<file>`` for
        every figure.

    Raises
    ------
    InvalidParameterError
        ``directory`` is not a demo folder.
    FileFormatError
        Its manifest or a result file is not what it should be; a recorded
        output of a complete stage is missing or damaged
        (:class:`isingrbm.manifest.DamagedOutputError`).
    """
    directory = Path(directory)
    manifest = _manifest.read_manifest(directory)
    schema.check(manifest, "demo-manifest", directory / _manifest.MANIFEST)
    _manifest.verify_outputs(directory, manifest)
    cfg = manifest["config"]
    paths = _manifest.DemoPaths(directory, cfg["L"])
    inputs = demo_inputs(directory, manifest)
    mode = "quick smoke-test run" if cfg.get("quick") else "full run"
    models = "RBMs and a GAN" if gan_ran(manifest) else "RBMs"

    def blocks(figures_dir: Path) -> list:
        out = [Heading(1, "isingrbm demo report"),
               Paragraph(f"The whole workbench on this machine ({mode}, seed "
                         f"{manifest.get('seed')}): Monte Carlo data of the 2D Ising model "
                         f"checked against exact results, {models} that learn it, exact Monte "
                         "Carlo with an RBM as the proposal, and variational Monte Carlo with RBM "
                         "trial states (particles in a trap, the quantum Ising chain). Rebuild "
                         f"with `isingrbm report {directory}`.")]
        out += settings_section(manifest)
        if not inputs.monte_carlo:
            out += [Heading(2, "Monte Carlo: thermodynamics of the 2D Ising model"),
                    Paragraph("Not computed yet: the Monte Carlo stage has not finished.")]
        out += report_blocks(Inputs(monte_carlo=inputs.monte_carlo,
                                    evaluations=inputs.evaluations), figures_dir, demo=True)
        if not inputs.evaluations:
            out += [Heading(2, "Generative models against Monte Carlo and exact"),
                    Paragraph("Not computed yet: the evaluation stage has not finished.")]
        out += training_section(inputs.models, figures_dir)
        if inputs.exact_sampling:
            out += exact_sampling_section(inputs.exact_sampling)
        if inputs.vmc_runs:
            out += vmc_section(inputs.vmc_runs, inputs.vmc_system, figures_dir,
                               title="Variational Monte Carlo: particles in a trap")
        else:
            out += [Heading(2, "Variational Monte Carlo: particles in a trap"),
                    Paragraph("Not computed yet: the VMC stage has not finished.")]
        if inputs.tfim_runs:
            out += tfim_section(inputs.tfim_runs, figures_dir)
        return out

    return _write_folder(paths.report, "isingrbm demo report", blocks)


def build_files_report(files, out, *, seed: int | None = None, overwrite: bool = False,
                       log=None) -> dict:
    """Write ``OUT/report.md``, ``OUT/report.html`` and ``OUT/figures/`` from result files.

    Parameters
    ----------
    files : sequence of path-like
        See :func:`isingrbm.report.collect_files`.
    out : path-like
        Report folder (created; its parent must exist).
    seed : int or None
        See :func:`isingrbm.report.collect_files`; recorded in the report.
    overwrite : bool
        Replace an existing report in ``out`` (and figures of the same names).

    Returns
    -------
    dict
        ``name -> Path`` as :func:`build_report`, plus ``seed`` when
        generated data were compared here.

    Raises
    ------
    InvalidParameterError, OutputExistsError
        Bad ``out`` or inputs, or ``out`` holds a report or figures and not
        ``overwrite``: refused before anything is read or written.
    FileFormatError
        An input is not a result file of a kind the report reads, or its
        structure is not that of its kind.
    """
    out = check_report_folder(out, overwrite=overwrite)
    check_input_paths(files)
    inputs = collect_files(files, seed=seed, log=log)

    def blocks(figures_dir: Path) -> list:
        head = [Heading(1, "isingrbm report"),
                Paragraph(f"A report of {len(inputs.files)} result file(s): "
                          + ", ".join(sorted({row[1] for row in inputs.files})) + ". "
                          "Observables per spin, k_B = J = 1; errors are one standard error.")]
        return head + inputs_section(inputs) + report_blocks(inputs, figures_dir, demo=False)

    written = _write_folder(out, "isingrbm report", blocks)
    if inputs.evaluation_seed is not None:
        written["seed"] = inputs.evaluation_seed
    return written
