"""The report: ``report.md`` and ``report.html`` with PNG figures and tables.

:func:`build_report` writes the report of a demo folder (see
:mod:`isingrbm.demo` for its layout) into ``DIR/report/``;
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
shows what exists.

Both documents are rendered from one list of blocks (headings, paragraphs,
tables, figures), so they always hold the same numbers. Every number is
``mean ± one standard error`` with its convention stated: per spin,
k_B = J = 1 for the Ising model; hbar = m = 1, energies in hbar * omega for
VMC.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError, OutputExistsError
from mccore.files import atomic_path
from mcstats.estimate import format_value_error

from . import demo as _demo
from . import pipeline

__all__ = [
    "OBSERVABLE_COLUMNS",
    "Table",
    "build_files_report",
    "build_report",
    "collect_files",
]

#: Observables tabulated per temperature: (key of ising.observables.measure, column title).
OBSERVABLE_COLUMNS = (
    ("energy", "e"),
    ("specific_heat", "c"),
    ("abs_magnetization", "<|m|>"),
    ("susceptibility_connected", "chi"),
    ("susceptibility", "chi'"),
    ("binder_cumulant", "U4"),
)


# --------------------------------------------------------------------------
# document model


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
/* wide tables scroll inside the page column instead of overflowing it */
.table-scroll { max-width: 100%; overflow-x: auto; margin: .6em 0 1.4em 0; }
table { border-collapse: collapse; font-size: 0.9em; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: .3em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; white-space: nowrap; }
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
                out.append("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>")
            out.append("</tbody></table></div>")
        elif isinstance(block, FigureBlock):
            out.append(f'<figure><img src="{esc(block.path)}" alt="{esc(block.caption)}">'
                       f"<figcaption>{esc(block.caption)}</figcaption></figure>")
        elif isinstance(block, Preformatted):
            out.append(f"<pre>{esc(block.text)}</pre>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _inline_html(text: str) -> str:
    """Escape, then render Markdown's `code` spans."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


# --------------------------------------------------------------------------
# number formatting


def fmt_estimate(est) -> str:
    """``mean ± error`` (two significant digits of the error) of an Estimate dict."""
    if est is None:
        return "—"
    if not isinstance(est, dict) and hasattr(est, "to_dict"):
        est = est.to_dict()
    mean, error = est.get("mean"), est.get("error")
    if mean is None:
        return "—"
    if error is None or not math.isfinite(error):
        return f"{mean:.6g}"
    return format_value_error(mean, error)


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


def _nan(value):
    return float("nan") if value is None else float(value)


def _as_dict(est):
    if est is None or isinstance(est, dict):
        return est
    return est.to_dict() if hasattr(est, "to_dict") else None


# --------------------------------------------------------------------------
# what a report is made of


@dataclass
class MonteCarloInput:
    """Observables of one Monte Carlo dataset (rows of :func:`pipeline.monte_carlo_rows`)."""

    L: int
    data_file: str
    rows: list
    path: Path | None = None


@dataclass
class EvaluationInput:
    """One :func:`isingrbm.evaluate.compare` table and the files it compared."""

    temperature: float
    phase: str | None
    table: dict
    files: dict  # label -> Path of the dataset (Monte Carlo first)


@dataclass
class VMCRun:
    label: str
    energy: dict
    exact: float | None
    variance: float | None
    acceptance: float | None
    file: str
    path: Path | None = None


@dataclass
class Inputs:
    """Everything a report shows, gathered from a demo folder or from files."""

    monte_carlo: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    models: list = field(default_factory=list)       # (label, Path)
    vmc_runs: list = field(default_factory=list)
    vmc_system: str | None = None
    files: list = field(default_factory=list)        # rows of the inputs table
    notes: list = field(default_factory=list)
    evaluation_seed: int | None = None


# --------------------------------------------------------------------------
# sections


def _settings_section(manifest: dict) -> list:
    cfg = manifest["config"]
    stages = manifest.get("stages", {})
    gan_used = _gan_ran(manifest)
    blocks = [Heading(2, "Run")]
    rows = [
        ["mode", "quick (smoke test)" if cfg.get("quick") else "full"],
        ["seed", str(manifest["seed"])],
        ["lattice", f"L = {cfg['L']} periodic square lattice, N = {cfg['L'] ** 2} spins"],
        ["temperatures", ", ".join(f"{t:g}" for t in cfg["temperatures"])],
        ["Monte Carlo samples per T", str(cfg["n_samples"])],
        ["RBM / GAN temperatures" if gan_used else "RBM temperatures",
         ", ".join(f"{p} {t:g}" for p, t in cfg["phase_temperatures"].items())],
        ["samples drawn per model", str(cfg["n_generated"])],
        ["software version", str(manifest.get("software_version", "?"))],
        ["created", str(manifest.get("created", "?"))],
    ]
    blocks.append(Table("Settings", ["setting", "value"], rows, name="settings"))
    stage_rows = []
    for name in _demo.STAGES:
        record = stages.get(name)
        if name == "report":  # its own row would differ between builds
            stage_rows.append([name, "this document", "—", "—"])
        elif record is None:
            stage_rows.append([name, "not run", "—", "—"])
        else:
            status = "complete" if record.get("complete") else "incomplete"
            if record.get("reused"):
                status += ", reused"
            summary = record.get("summary") or {}
            if isinstance(summary, dict) and summary.get("skipped"):
                status = f"skipped: {summary['skipped']}"
            cpu = record.get("cpu_seconds")
            stage_rows.append([name, status, f"{record.get('seconds', 0):.1f}",
                               "—" if cpu is None else f"{cpu:.1f}"])
    blocks.append(Table("Stages (time each took when it ran: wall clock, and CPU time of the "
                        "process; 'reused': its outputs come from that earlier run, verified "
                        "by size and SHA-256)",
                        ["stage", "status", "wall s", "CPU s"], stage_rows, name="stages"))
    return blocks


def _inputs_section(inputs: Inputs) -> list:
    blocks = [Heading(2, "Inputs")]
    blocks.append(Table("Result files read (provenance as recorded in each file)",
                        ["file", "kind", "provenance"], inputs.files, name="inputs"))
    if inputs.evaluation_seed is not None:
        blocks.append(Paragraph(
            f"Generated datasets were compared with their Monte Carlo data here, with seed "
            f"{inputs.evaluation_seed} for the noise-level replicas of the histogram distances "
            "(pass it as --seed to reproduce this report exactly)."))
    for note in inputs.notes:
        blocks.append(Paragraph(note))
    return blocks


def _monte_carlo_section(mc: MonteCarloInput, generated_obs: dict, figures_dir: Path,
                         figure_name: str, phase_window: float) -> list:
    from . import plots

    L = mc.L
    blocks = [Heading(2, f"Monte Carlo: thermodynamics of the 2D Ising model, L = {L}")]
    rows_in = mc.rows
    T = np.array([r["temperature"] for r in rows_in])
    series = {"Monte Carlo": (T, {name: (np.array([_nan(r["observables"][name]["mean"])
                                                   for r in rows_in]),
                                         np.array([_nan(r["observables"][name]["error"])
                                                   for r in rows_in]))
                                  for name, _ in OBSERVABLE_COLUMNS})}
    series.update(generated_obs)
    n_samples = rows_in[0]["n_samples"] if rows_in else None
    fig = plots.observables_vs_T(
        series=series, L=L, observables=[name for name, _ in OBSERVABLE_COLUMNS],
        phase_window=phase_window,
        title=f"2D Ising model, L = {L}: Monte Carlo vs exact"
              + (f" ({n_samples} samples per temperature)" if n_samples else ""))
    plots.save(fig, figures_dir / figure_name)
    blocks.append(Paragraph(
        f"Data: `{mc.data_file}` (L = {L}, {len(rows_in)} temperatures). Conventions: per spin, "
        "k_B = J = 1, E = -sum over the 2N nearest-neighbour bonds; "
        "c = beta^2 N (<e^2> - <e>^2), chi = beta N (<m^2> - <|m|>^2) (connected), "
        "chi' = beta N <m^2>, U4 = 1 - <m^4>/(3 <m^2>^2). "
        "Errors are one standard error from blocking (block jackknife for derived "
        "quantities). Exact finite-L values: Kaufman / Ferdinand-Fisher for the "
        "L x L torus; infinite lattice: Onsager (e, c) and Yang (spontaneous m)."))
    models = [s for s in generated_obs]
    overlay = (f"; {' and '.join(models)} samples at their training temperatures "
               "(open symbols)") if models else ""
    blocks.append(FigureBlock(
        f"figures/{figure_name}",
        f"Monte Carlo observables versus temperature for L = {L} (black) with the exact "
        f"finite-lattice curves (blue, Kaufman) and the infinite-lattice curves (grey dashed, "
        f"Onsager, Yang; U4: 2/3 below T_c, 0 above); T_c = 2/ln(1+sqrt 2) dotted, ordered / "
        f"critical (|T - T_c| <= {phase_window:g}) / disordered phases shaded{overlay}."))
    header = ["T", "phase", "n", "algorithm", "e (MC)", "e exact (L)", "dev (σ)",
              "c (MC)", "c exact (L)", "dev (σ)", "<|m|>", "m0 (L = inf)", "chi", "chi'", "U4"]
    rows = []
    for r in rows_in:
        o = r["observables"]
        ef, inf = r["exact_finite"], r["exact_infinite"]
        rows.append([f"{r['temperature']:g}", r["phase"], str(r["n_samples"]),
                     str(r.get("algorithm") or "—"),
                     fmt_estimate(o["energy"]), fmt_float(ef["energy"]),
                     fmt_sigma(o["energy"], ef["energy"]),
                     fmt_estimate(o["specific_heat"]), fmt_float(ef["specific_heat"]),
                     fmt_sigma(o["specific_heat"], ef["specific_heat"]),
                     fmt_estimate(o["abs_magnetization"]), fmt_float(inf["abs_magnetization"], 4),
                     fmt_estimate(o["susceptibility_connected"]),
                     fmt_estimate(o["susceptibility"]),
                     fmt_estimate(o["binder_cumulant"])])
    blocks.append(Table(
        f"Monte Carlo observables per spin, L = {L} (k_B = J = 1; dev = (MC - exact)/error)",
        header, rows, name=f"monte-carlo-L{L}"))
    return blocks


def _generated_observables(evaluations: list, L: int) -> dict:
    """``source -> (T array, {name: (mean, error)})`` of the evaluations at this L."""
    per_source: dict = {}
    for entry in evaluations:
        if int(entry.table["L"]) != L:
            continue
        for source, observables in _table_sources(entry.table).items():
            if source == "Monte Carlo":
                continue
            Ts, values = per_source.setdefault(source, ([], {}))
            Ts.append(entry.temperature)
            for name, est in observables.items():
                values.setdefault(name, ([], []))
                values[name][0].append(_nan(est["mean"]))
                values[name][1].append(_nan(est["error"]))
    return {source: (np.array(Ts), {k: (np.array(m), np.array(e)) for k, (m, e) in vals.items()})
            for source, (Ts, vals) in per_source.items()}


def _table_sources(table: dict) -> dict:
    """``source label -> {observable: Estimate dict}`` from an evaluate.compare table."""
    out = {}
    for source, observables in table.get("observables", {}).items():
        out[_source_label(source)] = {k: _as_dict(v) for k, v in observables.items()
                                     if _as_dict(v) is not None and "mean" in _as_dict(v)}
    return out


def _table_exact(table: dict) -> dict:
    return {k: v for k, v in (table.get("exact") or {}).items()
            if isinstance(v, (int, float)) and v is not None}


def _table_deviation(table: dict, source: str, name: str):
    """(model - MC) / combined standard error, as computed by compare."""
    value = (table.get("deviation") or {}).get(source, {}).get(name)
    return None if value is None else float(value)


def _table_extras(table: dict, labels: list, n_dev: int) -> list:
    """Rows beyond the observables: fraction m > 0, histogram distances, distinct configs."""
    rows = []
    fractions = table.get("fraction_positive") or {}
    rows.append(["fraction m > 0"] + [fmt_estimate(fractions.get(s)) for s in labels]
                + ["0.5 (Z2)"] + [""] * n_dev)
    distances = table.get("distance") or {}
    for key, title in (("energy", "TV distance of E"), ("abs_magnetization", "TV distance of |M|")):
        row = [title]
        for s in labels:
            d = distances.get(s, {}).get(key)
            row.append("—" if d is None else
                       f"{fmt_float(d.get('value'), 3)} (noise {fmt_float(d.get('noise'), 3)})")
        rows.append(row + ["0 (identical)"] + [""] * n_dev)
    distinct = table.get("distinct") or {}
    n_samples = table.get("n_samples") or {}
    rows.append(["distinct configurations"]
                + [f"{distinct.get(s, '—')} of {n_samples.get(s, '—')}" for s in labels]
                + ["—"] + [""] * n_dev)
    return rows


def _source_label(source: str) -> str:
    low = str(source).lower()
    if low in ("mc", "monte carlo", "monte-carlo", "reference", "data"):
        return "Monte Carlo"
    if low in ("rbm", "gan"):
        return low.upper()
    return str(source)


def _models_named(evaluations: list) -> list:
    names = []
    for entry in evaluations:
        for s in _table_sources(entry.table):
            if s != "Monte Carlo" and s not in names:
                names.append(s)
    return names


def _evaluation_section(evaluations: list, figures_dir: Path, *, demo: bool) -> list:
    models = _models_named(evaluations)
    kinds = list(dict.fromkeys(m.split(":")[0].split("#")[0] for m in models))
    title = " and ".join(kinds) if kinds else "Generated samples"
    blocks = [Heading(2, f"Generative models: {title} against Monte Carlo and exact")]
    if demo:
        trained = ("a Bernoulli RBM and the GAN baseline are" if "GAN" in kinds
                   else "a Bernoulli RBM is")
        blocks.append(Paragraph(
            f"At an ordered, a critical and a disordered temperature {trained} trained on the "
            "Monte Carlo samples and sampled; the samples are analysed exactly like Monte Carlo "
            "data. Observables per spin, k_B = J = 1, one standard error; 'exact' is the exact "
            "finite-L value where one is known (e, c: Kaufman; every observable for L <= 4)."))
    else:
        blocks.append(Paragraph(
            "Generated samples analysed exactly like Monte Carlo data, beside the Monte Carlo "
            "data of the same temperature. Observables per spin, k_B = J = 1, one standard "
            "error; 'exact' is the exact finite-L value where one is known (e, c: Kaufman; "
            "every observable for L <= 4)."))
    blocks += _sample_figures(evaluations, figures_dir)
    for entry in evaluations:
        table = entry.table
        sources = _table_sources(table)
        exact = _table_exact(table)
        labels = list(sources)
        names = [n for n, _ in OBSERVABLE_COLUMNS if any(n in sources[s] for s in labels)]
        titles = dict(OBSERVABLE_COLUMNS)
        header = ["observable"] + labels + ["exact (L)"] + [
            f"{s} dev (σ)" for s in labels if s != "Monte Carlo"]
        rows = []
        for name in names:
            row = [titles[name]] + [fmt_estimate(sources[s].get(name)) for s in labels]
            row.append(fmt_float(exact.get(name)))
            for s in labels:
                if s == "Monte Carlo":
                    continue
                dev = _table_deviation(table, s, name)
                row.append("—" if dev is None or not math.isfinite(dev) else f"{dev:+.1f}")
            rows.append(row)
        rows += _table_extras(table, labels, len(labels) - 1)
        phase = entry.phase or table.get("phase") or ""
        blocks.append(Table(
            f"{phase.capitalize()} phase, T = {entry.temperature:g}, L = {table['L']}: "
            "observables per spin (dev = (model - MC) / combined error; TV = total variation "
            "distance on the lattice levels, noise = its value for a perfect independent "
            "sample)", header, rows,
            name=f"evaluation-{phase or 'T'}-{entry.temperature:g}"))
    return blocks


def _sample_figures(evaluations: list, figures_dir: Path) -> list:
    """Sample grids and e/m distributions (isingrbm.plots), Monte Carlo vs models, per T."""
    import ising

    from . import plots

    grid_blocks, hist_blocks, notes = [], [], []
    cache: dict = {}

    def load(path):
        if path not in cache:
            cache[path] = ising.load(path)
        return cache[path]

    for entry in evaluations:
        T = entry.temperature
        missing = [str(p) for p in entry.files.values() if p is None or not Path(p).is_file()]
        if missing:
            notes.append(Paragraph(
                f"T = {T:g}: no sample figures, the evaluated file {missing[0]} is not at hand "
                "(give the dataset files to the report)."))
            continue
        sources = {label: load(path).ensemble(T, tol=1e-6) for label, path in entry.files.items()}
        L = next(iter(sources.values())).L
        # evenly spaced, not consecutive (correlated) samples
        shown = {label: np.asarray(ens.spins)[np.linspace(0, ens.n_samples - 1, _N_SHOW)
                                               .astype(int)]
                 for label, ens in sources.items()}
        phase = entry.phase or entry.table.get("phase") or ""
        stem = phase if phase and sum(e.phase == entry.phase for e in evaluations) == 1 \
            else f"T{T:g}"
        label_text = f"{phase.capitalize()} phase, T = {T:g}" if phase else f"T = {T:g}"
        models = [s for s in sources if s != "Monte Carlo"]
        name = f"samples_{stem}.png"
        plots.save(plots.sample_grid(shown, n_show=_N_SHOW,
                                     title=f"{label_text}, L = {L}"), figures_dir / name)
        grid_blocks.append(FigureBlock(
            f"figures/{name}",
            f"{label_text}: configurations from Monte Carlo"
            + (f" and from {', '.join(models)}" if models else "")
            + " (evenly spaced through each file; black = spin +1, white = -1)."))
        name = f"distributions_{stem}.png"
        reference = sources.pop("Monte Carlo")
        plots.save(plots.distributions(reference, sources), figures_dir / name)
        hist_blocks.append(FigureBlock(
            f"figures/{name}",
            f"{label_text}: distributions of the energy and magnetization per spin, "
            "probability of every occupied lattice level."))
    return grid_blocks + hist_blocks + notes


_N_SHOW = 6


def _training_section(models: list, figures_dir: Path) -> list:
    import rbm

    from . import plots

    blocks = [Heading(2, "RBM training")]
    histories, rows = {}, []
    for label, path in models:
        model = rbm.load(path)
        histories[label] = _rbm_curves(getattr(model, "history_", None) or {},
                                       model.weights.shape[0])
        rows.append([label, str(model.weights.shape[0]), str(model.weights.shape[1]),
                     str(getattr(model, "method", "—")), str(getattr(model, "n_epochs", "—")),
                     str((getattr(model, "metadata_", None) or {}).get("seed", "—")),
                     Path(path).name])
    if not histories:
        return blocks + [Paragraph("No trained RBM found yet.")]
    keys = [(key, title) for key, title in _RBM_CURVES
            if any(np.isfinite(h.get(key, [np.nan])).any() for h in histories.values())]
    fig = plots.training_curves(histories, keys=keys)
    plots.save(fig, figures_dir / "rbm_training.png")
    blocks.append(FigureBlock(
        "figures/rbm_training.png",
        "RBM training curves per epoch, on (up to 2000) training samples: pseudo-log-likelihood "
        "sum_i log p(v_i | v_-i) divided by the number of sites N (nats per site; higher is "
        "better), mean squared one-step reconstruction error, and where log Z is exactly "
        "computable the log-likelihood per site."))
    blocks.append(Table("Trained RBMs (seed: reproduces the model with 'isingrbm fit --seed')",
                        ["model", "visible", "hidden", "method", "epochs", "seed", "file"],
                        rows, name="rbm-models"))
    return blocks


#: RBM training curves shown: (key of the derived history, axis label).
_RBM_CURVES = (
    ("pseudo_log_likelihood_per_site", "pseudo-log-likelihood / N  (nats per site)"),
    ("reconstruction_error", "reconstruction error (mean squared)"),
    ("log_likelihood_per_site", "log-likelihood / N  (nats per site, exact log Z)"),
)


def _rbm_curves(history: dict, n_visible: int) -> dict:
    """Per-epoch curves of an RBM ``history_``, the likelihoods divided by N."""
    out = {}
    if "epoch" in history:
        out["epoch"] = np.asarray(history["epoch"], dtype=float)
    for key in ("pseudo_log_likelihood", "log_likelihood"):
        if key in history:
            out[f"{key}_per_site"] = np.asarray(history[key], dtype=float) / n_visible
    if "reconstruction_error" in history:
        out["reconstruction_error"] = np.asarray(history["reconstruction_error"], dtype=float)
    return out


def _vmc_section(runs: list, system: str | None, figures_dir: Path) -> list:
    from . import plots

    blocks = [Heading(2, "Variational Monte Carlo")]
    if system:
        blocks.append(Paragraph(system))
    rows, runs_fig = [], {}
    for run in runs:
        rows.append([run.label, fmt_estimate(run.energy), fmt_float(run.exact, 5),
                     fmt_sigma(run.energy, run.exact), fmt_float(run.variance, 5),
                     fmt_float(run.acceptance, 3), run.file])
        history = _vmc_history(run.path) if run.path is not None else None
        if history is not None:
            runs_fig[run.label] = history
    if runs_fig:
        exacts = {r.exact for r in runs if r.exact is not None}
        fig = plots.vmc_energy(runs_fig, exact=exacts.pop() if len(exacts) == 1 else None)
        plots.save(fig, figures_dir / "vmc.png")
        blocks.append(FigureBlock(
            "figures/vmc.png",
            "VMC optimization: mean local energy per iteration with the final estimate "
            "(point, one standard error by blocking) and the exact energy (dashed); right: "
            "variance of the local energy, which vanishes for the exact ground state."))
    blocks.append(Table("Final VMC energies (hbar omega; dev = (E - exact)/error)",
                        ["trial wavefunction", "E", "exact", "dev (σ)", "variance of E_L",
                         "acceptance", "file"], rows, name="vmc"))
    return blocks


def _vmc_history(path: Path):
    """The per-iteration history and final estimate of a saved VMC result, or None."""
    import vmc

    result = vmc.VMCResult.load(path)
    history = getattr(result, "history", None) or {}
    if "energy" not in history:
        return None
    energy = np.asarray(history["energy"], dtype=float)
    return {"iterations": np.arange(1, energy.size + 1), "energy": energy,
            "variance": np.asarray(history["variance"], dtype=float)
            if "variance" in history else None,
            "final": (result.energy.mean, result.energy.error)}


_DEMO_VMC_SYSTEM = (
    "Two electrons with Coulomb repulsion in an isotropic 2D harmonic trap, omega = 1 "
    "(hbar = m = 1, energies in hbar omega). Trial wavefunction: a Gaussian-binary RBM, "
    "alone and multiplied by a Pade-Jastrow factor. Exact ground-state energy 3.0 "
    "(Taut, PRA 48, 3561 (1993)); published RBM values 3.0822(2) and with Pade-Jastrow "
    "3.00002(2) (Nordhagen 2019). Errors: blocking, one standard error.")


# --------------------------------------------------------------------------
# rendering a set of inputs


def _phase_window() -> float:
    from ising.phases import PHASE_WINDOW

    return PHASE_WINDOW


def _blocks(inputs: Inputs, figures_dir: Path, *, demo: bool) -> list:
    blocks = []
    for i, mc in enumerate(inputs.monte_carlo):
        name = "thermodynamics.png" if i == 0 else f"thermodynamics_{i + 1}.png"
        blocks += _monte_carlo_section(mc, _generated_observables(inputs.evaluations, mc.L),
                                       figures_dir, name, _phase_window())
    if inputs.evaluations:
        blocks += _evaluation_section(inputs.evaluations, figures_dir, demo=demo)
    if inputs.models:
        blocks += _training_section(inputs.models, figures_dir)
    if inputs.vmc_runs:
        blocks += _vmc_section(inputs.vmc_runs, inputs.vmc_system, figures_dir)
    return blocks


def _write(blocks: list, report_dir: Path, title: str) -> dict:
    written = {}
    md_path, html_path = report_dir / "report.md", report_dir / "report.html"
    with atomic_path(md_path) as tmp:
        tmp.write_text(render_markdown(blocks))
    with atomic_path(html_path) as tmp:
        tmp.write_text(render_html(blocks, title=title))
    written["markdown"] = md_path
    written["html"] = html_path
    for block in blocks:
        if isinstance(block, FigureBlock):
            written[f"figure:{Path(block.path).name}"] = report_dir / block.path
    return written


# --------------------------------------------------------------------------
# a demo folder


def _gan_ran(manifest: dict) -> bool:
    record = (manifest.get("stages") or {}).get("gan") or {}
    summary = record.get("summary") or {}
    return bool(record.get("complete")) and not summary.get("skipped")


def demo_inputs(directory, manifest: dict) -> Inputs:
    """The inputs of a demo folder's report, from its result files."""
    directory = Path(directory)
    paths = _demo.DemoPaths(directory, manifest["config"]["L"])
    inputs = Inputs()

    def optional(path):
        return pipeline.read_json(path) if Path(path).exists() else None

    mc = optional(paths.monte_carlo_results)
    if mc is not None:
        inputs.monte_carlo.append(MonteCarloInput(
            L=mc["L"], data_file=mc["data_file"], rows=mc["temperatures"],
            path=directory / mc["data_file"]))
    evaluation = optional(paths.evaluation_results)
    if evaluation is not None:
        for phase, entry in evaluation["phases"].items():
            inputs.evaluations.append(EvaluationInput(
                temperature=entry["temperature"], phase=phase, table=entry["table"],
                files={_source_label(k): directory / v for k, v in entry["files"].items()}))
    for phase, T in manifest["config"]["phase_temperatures"].items():
        path = paths.model("rbm", phase)
        if path.exists():
            inputs.models.append((f"{phase}, T = {T:g}", path))
    vmc_summary = optional(paths.vmc_results)
    if vmc_summary is not None:
        inputs.vmc_system = _DEMO_VMC_SYSTEM
        for run in vmc_summary["runs"].values():
            inputs.vmc_runs.append(VMCRun(
                label=run["label"], energy=run["energy"], exact=run.get("exact"),
                variance=run.get("variance"), acceptance=run.get("acceptance"),
                file=run["file"], path=directory / run["file"]))
    return inputs


def build_report(directory) -> dict:
    """Write ``report.md``, ``report.html`` and figures of the demo folder ``directory``.

    Parameters
    ----------
    directory : path-like
        A demo folder (holding ``demo.json``).

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
        (:class:`isingrbm.demo.DamagedOutputError`).
    """
    directory = Path(directory)
    manifest = _demo.read_manifest(directory)
    _demo.verify_outputs(directory, manifest)
    cfg = manifest["config"]
    paths = _demo.DemoPaths(directory, cfg["L"])
    inputs = demo_inputs(directory, manifest)
    report_dir = paths.report
    figures_dir = report_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)

    mode = "quick smoke-test run" if cfg.get("quick") else "full run"
    models = "RBMs and a GAN" if _gan_ran(manifest) else "RBMs"
    blocks = [Heading(1, "isingrbm demo report"),
              Paragraph(f"The whole workbench on this machine ({mode}, seed {manifest['seed']}): "
                        "Monte Carlo data of the 2D Ising model checked against exact results, "
                        f"{models} that learn it, and RBM variational Monte Carlo. "
                        f"Rebuild with `isingrbm report {directory}`.")]
    blocks += _settings_section(manifest)
    if not inputs.monte_carlo:
        blocks += [Heading(2, "Monte Carlo: thermodynamics of the 2D Ising model"),
                   Paragraph("Not computed yet: the Monte Carlo stage has not finished.")]
    blocks += _blocks(Inputs(monte_carlo=inputs.monte_carlo, evaluations=inputs.evaluations),
                      figures_dir, demo=True)
    if not inputs.evaluations:
        blocks += [Heading(2, "Generative models against Monte Carlo and exact"),
                   Paragraph("Not computed yet: the evaluation stage has not finished.")]
    blocks += _training_section(inputs.models, figures_dir)
    if inputs.vmc_runs:
        blocks += _vmc_section(inputs.vmc_runs, inputs.vmc_system, figures_dir)
    else:
        blocks += [Heading(2, "Variational Monte Carlo"),
                   Paragraph("Not computed yet: the VMC stage has not finished.")]
    return _write(blocks, report_dir, "isingrbm demo report")


# --------------------------------------------------------------------------
# any set of result files


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _provenance_text(pairs) -> str:
    return "; ".join(f"{k} {v}" for k, v in pairs if v not in (None, "", [], {}))


def _classify_json(path: Path, obj) -> str:
    if not isinstance(obj, dict):
        return ""
    if obj.get("format") == _demo.FORMAT:
        return "demo-manifest"
    if isinstance(obj.get("phases"), dict) and "L" in obj:
        return "demo-evaluation"
    if isinstance(obj.get("tables"), list):
        return "evaluate"
    if isinstance(obj.get("temperatures"), list) and obj["temperatures"] \
            and isinstance(obj["temperatures"][0], dict) and "observables" in obj["temperatures"][0]:
        return "demo-monte-carlo"
    if isinstance(obj.get("runs"), dict):
        return "demo-vmc"
    if "energy" in obj and "parameters" in obj:
        return "vmc"
    return ""


def _load_hdf5(path: Path):
    """``(kind, object)`` of an HDF5 result file: a dataset, an RBM model or a VMC result."""
    import ising
    import rbm
    import vmc

    messages = []
    for kind, loader in (("dataset", ising.load), ("model", rbm.load),
                         ("vmc", vmc.VMCResult.load)):
        try:
            return kind, loader(path)
        except (FileFormatError, OSError, ValueError, KeyError) as exc:
            messages.append(str(exc))
    raise FileFormatError(
        f"{path}: not a readable dataset, RBM model or VMC result file ({messages[0]})")


def _vmc_label(path: Path, parameters: dict) -> str:
    keys = ("system", "particles", "dims", "omega", "interaction", "jastrow", "hidden")
    details = ", ".join(f"{k} {parameters[k]}" for k in keys if parameters.get(k) is not None)
    return f"{path.stem} ({details})" if details else path.stem


def _labels(datasets: list) -> list:
    """Column labels: the source (RBM, GAN), with the file stem when ambiguous."""
    sources = [d.source.upper() for d in datasets]
    labels = [s if sources.count(s) == 1 else f"{s}:{Path(d.path).stem}"
              for s, d in zip(sources, datasets)]
    return [label if labels.count(label) == 1 else f"{label}#{labels[:i].count(label) + 1}"
            for i, label in enumerate(labels)]


def collect_files(files, *, seed: int | None = None, log=None) -> Inputs:
    """Read result files into report inputs (nothing is written).

    Parameters
    ----------
    files : sequence of path-like
        Monte Carlo and generated datasets (``isingrbm-ising``), RBM model
        files, VMC result files, and JSON results of ``isingrbm evaluate
        --json``, ``isingrbm vmc --json`` or a demo's ``results/*.json``.
    seed : int or None
        Seed of the noise-level replicas when generated datasets are
        compared here with their Monte Carlo data (None: fresh, recorded).

    Raises
    ------
    InvalidParameterError
        A file does not exist, or is a folder.
    FileFormatError
        A file is none of the kinds above (or is damaged), naming it.
    """

    inputs = Inputs()
    monte_carlo, generated = [], []
    for given in files:
        path = Path(given)
        if path.is_dir():
            raise InvalidParameterError(
                f"{path} is a folder but not a demo folder (no {_demo.MANIFEST}); give a demo "
                "folder alone, or result files")
        if not path.is_file():
            raise InvalidParameterError(f"input file {path} does not exist")
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head == _HDF5_SIGNATURE:
            kind, obj = _load_hdf5(path)
            if kind == "dataset":
                temps = ", ".join(f"{t:g}" for t in obj.temperatures)
                seeds = sorted({str(e.attrs.get("seed")) for e in obj.ensembles
                                if e.attrs.get("seed") is not None})
                first = obj.ensembles[0].attrs if obj.ensembles else {}
                inputs.files.append([str(path), f"{obj.source} dataset", _provenance_text(
                    [("L", obj.L), ("T", temps), ("seed", ", ".join(seeds)),
                     ("model_file", Path(str(first.get("model_file"))).name
                      if first.get("model_file") else None),
                     ("software_version", obj.attrs.get("software_version"))])])
                (monte_carlo if obj.source == "monte-carlo" else generated).append(obj)
            elif kind == "model":
                meta = dict(getattr(obj, "metadata_", None) or {})
                T = meta.get("temperature")
                label = f"{path.stem}" + (f", T = {float(T):g}" if T is not None else "")
                inputs.models.append((label, path))
                inputs.files.append([str(path), "RBM model", _provenance_text(
                    [("data_file", Path(str(meta["data_file"])).name
                      if meta.get("data_file") else None),
                     ("temperature", T), ("seed", meta.get("seed")),
                     ("software_version", meta.get("software_version")
                      or meta.get("isingrbm_version"))])])
            else:
                params = dict(obj.parameters)
                inputs.vmc_runs.append(VMCRun(
                    label=_vmc_label(path, params), energy=obj.energy.to_dict(),
                    exact=obj.exact, variance=obj.variance, acceptance=obj.acceptance,
                    file=str(path), path=path))
                inputs.files.append([str(path), "VMC result", _provenance_text(
                    [("seed", params.get("seed")), ("status", obj.status),
                     ("iterations", obj.iterations)])])
            continue
        try:
            obj = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError):
            obj = None
        kind = _classify_json(path, obj)
        if kind == "demo-manifest":
            raise InvalidParameterError(
                f"{path} is a demo manifest: give its folder ({path.parent}) instead")
        if not kind:
            raise FileFormatError(
                f"{path}: not a result file isingrbm report reads (a dataset, an RBM model or "
                "VMC result file, or the JSON of 'isingrbm evaluate --json', 'isingrbm vmc "
                "--json' or a demo's results/*.json)")
        inputs.files.append([str(path), f"JSON ({kind})", _provenance_text(
            [("seed", obj.get("seed")), ("software_version", obj.get("software_version"))])])
        base = path.parent
        if kind == "demo-monte-carlo":
            inputs.monte_carlo.append(MonteCarloInput(
                L=obj["L"], data_file=str(obj.get("data_file", path.name)),
                rows=obj["temperatures"]))
        elif kind == "demo-evaluation":
            root = base.parent          # the demo folder: results/ is inside it
            for phase, entry in obj["phases"].items():
                inputs.evaluations.append(EvaluationInput(
                    temperature=entry["temperature"], phase=phase, table=entry["table"],
                    files={_source_label(k): root / v for k, v in entry["files"].items()}))
        elif kind == "evaluate":
            labels = obj.get("labels") or []
            files_by_label = {"Monte Carlo": Path(obj["data"])} if obj.get("data") else {}
            for label, g in zip(labels, obj.get("generated") or []):
                files_by_label[label] = Path(g)
            for table in obj["tables"]:
                inputs.evaluations.append(EvaluationInput(
                    temperature=float(table["T"]), phase=table.get("phase"), table=table,
                    files={s: files_by_label.get(s) for s in table["sources"]}))
        elif kind == "demo-vmc":
            root = base.parent
            inputs.vmc_system = obj.get("system")
            for run in obj["runs"].values():
                inputs.vmc_runs.append(VMCRun(
                    label=run["label"], energy=run["energy"], exact=run.get("exact"),
                    variance=run.get("variance"), acceptance=run.get("acceptance"),
                    file=run["file"], path=root / run["file"]))
        else:  # vmc --json
            inputs.vmc_runs.append(VMCRun(
                label=_vmc_label(path, obj.get("parameters") or {}),
                energy={"mean": obj["energy"], "error": obj.get("error")},
                exact=obj.get("exact"), variance=obj.get("variance"),
                acceptance=obj.get("acceptance"), file=str(obj.get("out") or path),
                path=Path(obj["out"]) if obj.get("out") and Path(obj["out"]).is_file()
                else None))

    for data in monte_carlo:
        inputs.monte_carlo.append(MonteCarloInput(
            L=data.L, data_file=str(data.path), rows=pipeline.monte_carlo_rows(data),
            path=Path(data.path)))
    # generated datasets beside Monte Carlo data of their L and temperature are compared here
    labels = _labels(generated)
    by_data: dict = {}
    for g, label in zip(generated, labels):
        match = next((d for d in monte_carlo if d.L == g.L and all(
            any(abs(e.T - t) <= 1e-6 for t in d.temperatures) for e in g.ensembles)), None)
        if match is None:
            inputs.notes.append(
                f"`{g.path}` ({g.source}, L = {g.L}) is not compared: no Monte Carlo dataset "
                "of its L and temperature was given beside it.")
            continue
        by_data.setdefault(id(match), (match, {}))[1][label] = g
    if by_data:
        seed = pipeline.resolve_seed(seed)
        inputs.evaluation_seed = seed
        for data, gens in by_data.values():
            result = pipeline.evaluate_datasets(data, gens, seed=seed, log=log)
            files = {"Monte Carlo": Path(data.path), **{k: Path(v.path) for k, v in gens.items()}}
            for table in result["tables"]:
                inputs.evaluations.append(EvaluationInput(
                    temperature=float(table["T"]), phase=table.get("phase"), table=table,
                    files={s: files[s] for s in table["sources"]}))
    return inputs


def check_report_folder(out, *, overwrite: bool = False) -> Path:
    """Refuse (before anything is read or computed) a report folder that would lose files."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"--out {out} exists and is not a folder")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidParameterError(f"--out folder {parent} does not exist")
    if not overwrite:
        for name in ("report.md", "report.html"):
            if (out / name).exists():
                raise OutputExistsError(
                    f"{out / name} exists; pass --overwrite to replace the report in {out}")
    return out


def build_files_report(files, out, *, seed: int | None = None, overwrite: bool = False,
                       log=None) -> dict:
    """Write ``OUT/report.md``, ``OUT/report.html`` and ``OUT/figures/`` from result files.

    Parameters
    ----------
    files : sequence of path-like
        See :func:`collect_files`.
    out : path-like
        Report folder (created; its parent must exist).
    seed : int or None
        See :func:`collect_files`; recorded in the report.
    overwrite : bool
        Replace an existing report in ``out``.

    Returns
    -------
    dict
        ``name -> Path`` as :func:`build_report`, plus ``seed`` when
        generated data were compared here.
    """
    out = check_report_folder(out, overwrite=overwrite)
    if not files:
        raise InvalidParameterError("give a demo folder or at least one result file")
    inputs = collect_files(files, seed=seed, log=log)
    figures_dir = out / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    blocks = [Heading(1, "isingrbm report"),
              Paragraph(f"A report of {len(inputs.files)} result file(s): "
                        + ", ".join(sorted({row[1] for row in inputs.files})) + ". "
                        "Observables per spin, k_B = J = 1; errors are one standard error.")]
    blocks += _inputs_section(inputs)
    blocks += _blocks(inputs, figures_dir, demo=False)
    written = _write(blocks, out, "isingrbm report")
    if inputs.evaluation_seed is not None:
        written["seed"] = inputs.evaluation_seed
    return written
