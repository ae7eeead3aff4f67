"""The demo report: ``report.md`` and ``report.html`` with PNG figures and tables.

:func:`build_report` reads a demo folder (see :mod:`isingrbm.demo` for its
layout) and writes ``DIR/report/report.md``, ``DIR/report/report.html`` and
``DIR/report/figures/*.png``. It only reads result files (the manifest, the
JSON result tables, the HDF5 datasets, model and VMC result files) and never
recomputes Monte Carlo, training or VMC, so ``isingrbm report DIR`` rebuilds
the report in seconds. A section whose inputs are missing says so instead of
failing, so the report of an unfinished demo shows what exists.

Both documents are rendered from one list of blocks (headings, paragraphs,
tables, figures), so they always hold the same numbers. Every number is
``mean ± one standard error`` with its convention stated: per spin,
k_B = J = 1 for the Ising model; hbar = m = 1, energies in hbar * omega for
VMC.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcstats.estimate import format_value_error

from . import demo as _demo

__all__ = ["build_report", "Table", "OBSERVABLE_COLUMNS"]

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
table { border-collapse: collapse; margin: .6em 0 1.4em 0; font-size: 0.9em; }
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
            out.append(f"<table{ident}>")
            out.append(f"<caption>{esc(block.caption)}</caption>")
            out.append("<thead><tr>" + "".join(f"<th>{esc(str(h))}</th>" for h in block.header)
                       + "</tr></thead>")
            out.append("<tbody>")
            for row in block.rows:
                out.append("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>")
            out.append("</tbody></table>")
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
    if est is None or exact is None or est.get("mean") is None:
        return "—"
    error = est.get("error") or 0.0
    if not error or not math.isfinite(error):
        return "—"
    return f"{(est['mean'] - exact) / error:+.1f}"


# --------------------------------------------------------------------------
# sections


def _settings_section(manifest: dict, paths) -> list:
    cfg = manifest["config"]
    stages = manifest.get("stages", {})
    blocks = [Heading(2, "Run")]
    rows = [
        ["mode", "quick (smoke test)" if cfg.get("quick") else "full"],
        ["seed", str(manifest["seed"])],
        ["lattice", f"L = {cfg['L']} periodic square lattice, N = {cfg['L'] ** 2} spins"],
        ["temperatures", ", ".join(f"{t:g}" for t in cfg["temperatures"])],
        ["Monte Carlo samples per T", str(cfg["n_samples"])],
        ["RBM / GAN temperatures",
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
            summary = record.get("summary") or {}
            if isinstance(summary, dict) and summary.get("skipped"):
                status = f"skipped: {summary['skipped']}"
            cpu = record.get("cpu_seconds")
            stage_rows.append([name, status, f"{record.get('seconds', 0):.1f}",
                               "—" if cpu is None else f"{cpu:.1f}"])
    blocks.append(Table("Stages (seconds when run: wall clock, and CPU time of the process)",
                        ["stage", "status", "wall s", "CPU s"], stage_rows, name="stages"))
    return blocks


def _monte_carlo_section(mc: dict | None, generated_obs: dict, paths, figures_dir: Path,
                         phase_window: float) -> list:
    from . import figures

    blocks = [Heading(2, "Monte Carlo: thermodynamics of the 2D Ising model")]
    if mc is None:
        return blocks + [Paragraph("Not computed yet: the Monte Carlo stage has not finished.")]
    L = mc["L"]
    rows_in = mc["temperatures"]
    T = np.array([r["T"] for r in rows_in])
    arrays = {}
    for name, _ in OBSERVABLE_COLUMNS:
        arrays[name] = (np.array([_nan(r["observables"][name]["mean"]) for r in rows_in]),
                        np.array([_nan(r["observables"][name]["error"]) for r in rows_in]))
    n_samples = rows_in[0]["n_samples"] if rows_in else None
    fig = figures.thermodynamics_figure(T, arrays, L=L, generated=generated_obs,
                                        phase_window=phase_window, n_samples=n_samples)
    figures.save(fig, figures_dir / "thermodynamics.png")
    blocks.append(Paragraph(
        f"Data: `{mc['data']}` (L = {L}, {len(rows_in)} temperatures). Conventions: per spin, "
        "k_B = J = 1, E = -sum over the 2N nearest-neighbour bonds; "
        "c = beta^2 N (<e^2> - <e>^2), chi = beta N (<m^2> - <|m|>^2) (connected), "
        "chi' = beta N <m^2>, U4 = 1 - <m^4>/(3 <m^2>^2). "
        "Errors are one standard error from blocking (block jackknife for derived "
        "quantities). Exact finite-L values: Kaufman / Ferdinand-Fisher for the "
        "L x L torus; infinite lattice: Onsager (e, c) and Yang (spontaneous m)."))
    blocks.append(FigureBlock(
        "figures/thermodynamics.png",
        f"Monte Carlo observables versus temperature for L = {L} (black) with the exact "
        f"finite-lattice curves (blue, Kaufman) and the infinite-lattice curves (grey dashed, "
        f"Onsager); T_c = 2/ln(1+sqrt 2) dotted, ordered / critical (|T - T_c| <= "
        f"{phase_window:g}) / disordered phases shaded; RBM (red) and GAN (green) samples "
        "at the three training temperatures."))
    header = ["T", "phase", "n", "algorithm", "e (MC)", "e exact (L)", "dev (σ)",
              "c (MC)", "c exact (L)", "dev (σ)", "<|m|>", "m0 (L = inf)", "chi", "chi'", "U4"]
    rows = []
    for r in rows_in:
        o = r["observables"]
        ef, inf = r["exact_finite"], r["exact_infinite"]
        rows.append([f"{r['T']:g}", r["phase"], str(r["n_samples"]), str(r.get("algorithm") or "—"),
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
        header, rows, name="monte-carlo"))
    return blocks


def _nan(value):
    return float("nan") if value is None else float(value)


def _generated_observables(evaluation: dict | None) -> dict:
    """``source -> (T array, {name: (mean, error)})`` from the evaluation results."""
    if evaluation is None:
        return {}
    per_source: dict = {}
    for phase, entry in evaluation["phases"].items():
        for source, observables in _table_sources(entry["table"]).items():
            if source == "Monte Carlo":
                continue
            Ts, values = per_source.setdefault(source, ([], {}))
            Ts.append(entry["T"])
            for name, est in observables.items():
                values.setdefault(name, ([], []))
                values[name][0].append(_nan(est["mean"]))
                values[name][1].append(_nan(est["error"]))
    return {source: (np.array(Ts), {k: (np.array(m), np.array(e)) for k, (m, e) in vals.items()})
            for source, (Ts, vals) in per_source.items()}


def _table_sources(table: dict) -> dict:
    """``source label -> {observable: Estimate dict}`` from an evaluate.compare table."""
    return _evaluate_adapter.sources(table)


class _EvaluateAdapter:
    """Reads the (JSON form of the) table of :func:`isingrbm.evaluate.compare`."""

    @staticmethod
    def sources(table: dict) -> dict:
        out = {}
        for source, observables in table.get("observables", {}).items():
            out[_source_label(source)] = {k: v for k, v in observables.items()
                                         if isinstance(v, dict) and "mean" in v}
        return out

    @staticmethod
    def exact(table: dict) -> dict:
        return {k: v for k, v in (table.get("exact") or {}).items()
                if isinstance(v, (int, float)) and v is not None}

    @staticmethod
    def deviation(table: dict, source: str, name: str):
        """(model - MC) / combined standard error, as computed by compare."""
        value = (table.get("deviation") or {}).get(source, {}).get(name)
        return None if value is None else float(value)

    @staticmethod
    def extras(table: dict, labels: list, n_dev: int) -> list:
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


_evaluate_adapter = _EvaluateAdapter()


def _source_label(source: str) -> str:
    low = str(source).lower()
    if low in ("mc", "monte carlo", "monte-carlo", "reference", "data"):
        return "Monte Carlo"
    if low in ("rbm", "gan"):
        return low.upper()
    return str(source)


def _evaluation_section(evaluation: dict | None, manifest: dict, paths,
                        figures_dir: Path) -> list:
    blocks = [Heading(2, "Generative models: RBM (and GAN) against Monte Carlo and exact")]
    if evaluation is None:
        return blocks + [Paragraph("Not computed yet: the evaluation stage has not finished.")]
    L = evaluation["L"]
    blocks.append(Paragraph(
        "At an ordered, a critical and a disordered temperature a Bernoulli RBM (and, when "
        "torch is installed, the GAN baseline) is trained on the Monte Carlo samples and "
        "sampled; the samples are analysed exactly like Monte Carlo data. Observables per "
        "spin, k_B = J = 1, one standard error; 'exact' is the exact finite-L value "
        "where one is known (e, c: Kaufman)."))
    blocks += _sample_figures(evaluation, manifest, paths, figures_dir)
    for phase, entry in evaluation["phases"].items():
        table = entry["table"]
        sources = _table_sources(table)
        exact = _evaluate_adapter.exact(table)
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
                dev = _evaluate_adapter.deviation(table, s, name)
                row.append("—" if dev is None or not math.isfinite(dev) else f"{dev:+.1f}")
            rows.append(row)
        rows += _evaluate_adapter.extras(table, labels, len(labels) - 1)
        blocks.append(Table(
            f"{phase.capitalize()} phase, T = {entry['T']:g}, L = {L}: observables per spin "
            "(dev = (model - MC) / combined error; TV = total variation distance on the "
            "lattice levels, noise = its value for a perfect independent sample)",
            header, rows, name=f"evaluation-{phase}"))
    return blocks


def _sample_figures(evaluation: dict, manifest: dict, paths, figures_dir: Path) -> list:
    """Sample grids and e/m histograms (isingrbm.plots), Monte Carlo vs models, per phase."""
    import ising

    from . import plots

    try:
        data = ising.load(paths.monte_carlo)
    except (OSError, ValueError):
        return [Paragraph(f"Monte Carlo data {paths.relative(paths.monte_carlo)} missing.")]
    L = data.L
    grid_blocks, hist_blocks = [], []
    for phase, entry in evaluation["phases"].items():
        T = entry["T"]
        sources = {"Monte Carlo": data.ensemble(T)}
        for label, rel in entry.get("files", {}).items():
            if label != "Monte Carlo" and (paths.root / rel).exists():
                sources[label] = ising.load(paths.root / rel).ensemble(T)
        # evenly spaced, not consecutive (correlated) Monte Carlo samples
        shown = {label: np.asarray(ens.spins)[np.linspace(0, ens.n_samples - 1, _N_SHOW)
                                               .astype(int)]
                 for label, ens in sources.items()}
        name = f"samples_{phase}.png"
        plots.save(plots.sample_grid(shown, n_show=_N_SHOW,
                                     title=f"{phase.capitalize()} phase, T = {T:g}, L = {L}: "
                                           "black = +1, white = -1"), figures_dir / name)
        grid_blocks.append(FigureBlock(
            f"figures/{name}",
            f"{phase.capitalize()} phase, T = {T:g}: configurations from Monte Carlo and from "
            "the trained models (evenly spaced through each file; black = spin up)."))
        name = f"distributions_{phase}.png"
        reference = sources.pop("Monte Carlo")
        plots.save(plots.distributions(reference, sources), figures_dir / name)
        hist_blocks.append(FigureBlock(
            f"figures/{name}",
            f"{phase.capitalize()} phase, T = {T:g}: distributions of the energy and "
            "magnetization per spin, probability per lattice level."))
    return grid_blocks + hist_blocks


_N_SHOW = 6


def _training_section(manifest: dict, paths, figures_dir: Path) -> list:
    from . import figures

    blocks = [Heading(2, "RBM training")]
    histories = {}
    rows = []
    try:
        import rbm
    except ImportError:
        return blocks + [Paragraph("The rbm package is not available.")]
    for phase in _demo.PHASES:
        path = paths.model("rbm", phase)
        if not path.exists():
            continue
        model = rbm.load(path)
        T = manifest["config"]["phase_temperatures"][phase]
        label = f"{phase}, T = {T:g}"
        histories[label] = _rbm_curves(getattr(model, "history_", None) or {},
                                       model.weights.shape[0])
        rows.append([label, str(model.weights.shape[0]), str(model.weights.shape[1]),
                     str(getattr(model, "method", "—")), str(getattr(model, "n_epochs", "—")),
                     paths.relative(path)])
    if not histories:
        return blocks + [Paragraph("No trained RBM found yet.")]
    keys = [(key, title) for key, title in _RBM_CURVES
            if any(np.isfinite(h.get(key, [np.nan])).any() for h in histories.values())]
    fig = figures.training_curves_figure(histories, keys=keys)
    figures.save(fig, figures_dir / "rbm_training.png")
    blocks.append(FigureBlock(
        "figures/rbm_training.png",
        "RBM training curves per epoch, on (up to 2000) training samples: pseudo-log-likelihood "
        "sum_i log p(v_i | v_-i) divided by the number of sites N (nats per site; higher is "
        "better), mean squared one-step reconstruction error, and where log Z is exactly "
        "computable the log-likelihood per site."))
    blocks.append(Table("Trained RBMs", ["model", "visible", "hidden", "method", "epochs", "file"],
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


def _vmc_section(vmc_summary: dict | None, paths, figures_dir: Path) -> list:
    from . import figures

    blocks = [Heading(2, "Variational Monte Carlo: two electrons in a 2D harmonic trap")]
    if vmc_summary is None:
        return blocks + [Paragraph("Not computed yet: the VMC stage has not finished.")]
    exact = vmc_summary.get("exact")
    blocks.append(Paragraph(
        "Two electrons with Coulomb repulsion in an isotropic 2D harmonic trap, omega = 1 "
        "(hbar = m = 1, energies in hbar omega). Trial wavefunction: a Gaussian-binary RBM, "
        "alone and multiplied by a Pade-Jastrow factor. Exact ground-state energy 3.0 "
        "(Taut, PRA 48, 3561 (1993)); published RBM values 3.0822(2) and with Pade-Jastrow "
        "3.00002(2) (Nordhagen 2019). Errors: blocking, one standard error."))
    runs_fig, rows = {}, []
    for name, run in vmc_summary["runs"].items():
        rows.append([run["label"], fmt_estimate(run["energy"]), fmt_float(exact, 1),
                     fmt_sigma(run["energy"], exact), fmt_float(run.get("variance"), 5),
                     fmt_float(run.get("acceptance"), 3), run["file"]])
        history = _vmc_history(paths.root / run["file"])
        if history is not None:
            runs_fig[run["label"]] = history
    if runs_fig:
        fig = figures.vmc_figure(runs_fig, exact=exact)
        figures.save(fig, figures_dir / "vmc.png")
        blocks.append(FigureBlock(
            "figures/vmc.png",
            "VMC optimization: mean local energy per iteration with the final estimate "
            "(point, one standard error by blocking) and the exact energy 3.0 (dashed); right: "
            "variance of the local energy, which vanishes for the exact ground state."))
    blocks.append(Table("Final VMC energies (hbar omega; dev = (E - exact)/error)",
                        ["trial wavefunction", "E", "exact", "dev (σ)", "variance of E_L",
                         "acceptance", "file"], rows, name="vmc"))
    return blocks


def _vmc_history(path: Path):
    """The per-iteration history and final estimate of a saved VMC result, or None."""
    try:
        import vmc
        result = vmc.VMCResult.load(path)
    except (ImportError, OSError, ValueError):
        return None
    history = getattr(result, "history", None) or {}
    if "energy" not in history:
        return None
    energy = np.asarray(history["energy"], dtype=float)
    return {"iterations": np.arange(1, energy.size + 1), "energy": energy,
            "variance": np.asarray(history["variance"], dtype=float)
            if "variance" in history else None,
            "final": (result.energy.mean, result.energy.error)}


# --------------------------------------------------------------------------
# entry point


def build_report(directory) -> dict:
    """Write ``report.md``, ``report.html`` and figures of the demo folder ``directory``.

    Parameters
    ----------
    directory : path-like
        A demo folder (holding ``demo.json``).

    Returns
    -------
    dict
        ``{"markdown": Path, "html": Path, "figures": [Path, ...]}`` flattened
        as ``name -> Path`` (figure names ``figure:<file>``).

    Raises
    ------
    InvalidParameterError
        ``directory`` is not a demo folder.
    FileFormatError
        Its manifest or a result file is not what it should be.
    """
    directory = Path(directory)
    manifest = _demo.read_manifest(directory)
    cfg = manifest["config"]
    paths = _demo.DemoPaths(directory, cfg["L"])
    report_dir = paths.report
    figures_dir = report_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)

    def optional(path):
        return _demo.read_json(path) if Path(path).exists() else None

    mc = optional(paths.monte_carlo_results)
    evaluation = optional(paths.evaluation_results)
    vmc_summary = optional(paths.vmc_results)
    try:
        from ising.phases import PHASE_WINDOW as phase_window
    except ImportError:
        phase_window = 0.2

    mode = "quick smoke-test run" if cfg.get("quick") else "full run"
    blocks = [Heading(1, "isingrbm demo report"),
              Paragraph(f"The whole workbench on this machine ({mode}, seed {manifest['seed']}): "
                        "Monte Carlo data of the 2D Ising model checked against exact results, "
                        "RBMs (and a GAN) that learn it, and RBM variational Monte Carlo. "
                        f"Rebuild with `isingrbm report {directory}`.")]
    blocks += _settings_section(manifest, paths)
    blocks += _monte_carlo_section(mc, _generated_observables(evaluation), paths, figures_dir,
                                   phase_window)
    blocks += _evaluation_section(evaluation, manifest, paths, figures_dir)
    blocks += _training_section(manifest, paths, figures_dir)
    blocks += _vmc_section(vmc_summary, paths, figures_dir)

    from isingrbm.commands._common import atomic_output

    written = {}
    md_path, html_path = report_dir / "report.md", report_dir / "report.html"
    with atomic_output(md_path) as tmp:
        tmp.write_text(render_markdown(blocks))
    with atomic_output(html_path) as tmp:
        tmp.write_text(render_html(blocks, title="isingrbm demo report"))
    written["markdown"] = md_path
    written["html"] = html_path
    for block in blocks:
        if isinstance(block, FigureBlock):
            written[f"figure:{Path(block.path).name}"] = report_dir / block.path
    return written
