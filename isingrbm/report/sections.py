"""The sections of a report: blocks (tables, figures, paragraphs) from its inputs.

Figures are drawn by :mod:`isingrbm.plots` into the folder given; the tables
hold the numbers of the result files as they are (nothing is recomputed).
Observables per spin, k_B = J = 1; VMC energies in hbar * omega (hbar = m = 1);
every estimate is ``mean ± one standard error``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..manifest import STAGES
from .document import (FigureBlock, Heading, Paragraph, Table, estimate_dict, fmt_estimate,
                       fmt_float, fmt_sigma, nan_if_none)
from .inputs import Inputs, MonteCarloInput, source_label

__all__ = ["OBSERVABLE_COLUMNS", "exact_sampling_section", "gan_ran", "inputs_section",
           "report_blocks", "settings_section", "tfim_section", "training_section",
           "vmc_section"]

#: Observables tabulated per temperature: (key of ising.observables.measure, column title).
OBSERVABLE_COLUMNS = (
    ("energy", "e"),
    ("specific_heat", "c"),
    ("abs_magnetization", "<|m|>"),
    ("susceptibility_connected", "chi"),
    ("susceptibility", "chi'"),
    ("binder_cumulant", "U4"),
)


def settings_section(manifest: dict) -> list:
    cfg = manifest["config"]
    stages = manifest.get("stages", {})
    gan_used = gan_ran(manifest)
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
    for name in STAGES:
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


def inputs_section(inputs: Inputs) -> list:
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
    from .. import plots

    L = mc.L
    blocks = [Heading(2, f"Monte Carlo: thermodynamics of the 2D Ising model, L = {L}")]
    rows_in = mc.rows
    T = np.array([r["temperature"] for r in rows_in])
    series = {"Monte Carlo": (T, {name: (np.array([nan_if_none(r["observables"][name]["mean"])
                                                   for r in rows_in]),
                                         np.array([nan_if_none(r["observables"][name]["error"])
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
                values[name][0].append(nan_if_none(est["mean"]))
                values[name][1].append(nan_if_none(est["error"]))
    return {source: (np.array(Ts), {k: (np.array(m), np.array(e)) for k, (m, e) in vals.items()})
            for source, (Ts, vals) in per_source.items()}


def _table_sources(table: dict) -> dict:
    """``source label -> {observable: Estimate dict}`` from an evaluate.compare table."""
    out = {}
    for source, observables in table.get("observables", {}).items():
        out[source_label(source)] = {k: estimate_dict(v) for k, v in observables.items()
                                     if estimate_dict(v) is not None and "mean" in estimate_dict(v)}
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

    from .. import plots

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


def training_section(models: list, figures_dir: Path) -> list:
    import rbm

    from .. import plots

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


def vmc_section(runs: list, system: str | None, figures_dir: Path, *,
                title: str = "Variational Monte Carlo") -> list:
    from .. import plots

    blocks = [Heading(2, title)]
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


# --------------------------------------------------------------------------
# rendering a set of inputs


def _phase_window() -> float:
    from ising.phases import PHASE_WINDOW

    return PHASE_WINDOW


def report_blocks(inputs: Inputs, figures_dir: Path, *, demo: bool) -> list:
    blocks = []
    for i, mc in enumerate(inputs.monte_carlo):
        name = "thermodynamics.png" if i == 0 else f"thermodynamics_{i + 1}.png"
        blocks += _monte_carlo_section(mc, _generated_observables(inputs.evaluations, mc.L),
                                       figures_dir, name, _phase_window())
    if inputs.evaluations:
        blocks += _evaluation_section(inputs.evaluations, figures_dir, demo=demo)
    if inputs.models:
        blocks += training_section(inputs.models, figures_dir)
    if inputs.exact_sampling:
        blocks += exact_sampling_section(inputs.exact_sampling)
    if inputs.vmc_runs:
        blocks += vmc_section(inputs.vmc_runs, inputs.vmc_system, figures_dir)
    if inputs.tfim_runs:
        blocks += tfim_section(inputs.tfim_runs, figures_dir)
    return blocks


def gan_ran(manifest: dict) -> bool:
    """Whether the demo's GAN stage ran (complete and not skipped)."""
    record = (manifest.get("stages") or {}).get("gan") or {}
    summary = record.get("summary") or {}
    return bool(record.get("complete")) and not summary.get("skipped")


def exact_sampling_section(records: list) -> list:
    """The exact RBM Monte Carlo of each phase: acceptance and autocorrelation."""
    blocks = [Heading(2, "Exact RBM Monte Carlo"),
              Paragraph(
                  "Metropolis-Hastings with the trained RBM's block-Gibbs move as the proposal "
                  "and the exact Ising weight exp(-E/T) as the target (k_B = J = 1): the "
                  "samples are exact Ising samples whatever the RBM's quality, which sets only "
                  "the acceptance rate and the autocorrelation (tau_int in proposals, "
                  "1 = independent). Their observables are the 'RBM+MH' column of the tables "
                  "above.")]
    rows = []
    for phase, r in records:
        tau = r.get("tau_int") or {}
        passed = r.get("equilibration_check_passed")
        rows.append([phase, f"{r['temperature']:g}", fmt_float(r.get("acceptance_rate"), 3),
                     fmt_float(tau.get("energy"), 2), fmt_float(tau.get("abs_magnetization"), 2),
                     str(r.get("thinning", "—")), str(r.get("proposal_steps", "—")),
                     str(r.get("local_sweeps", "—")),
                     "—" if passed is None else ("passed" if passed else "FAILED"), r["file"]])
    blocks.append(Table(
        "Exact RBM Monte Carlo per phase (tau_int of E and |M| in proposals; thinning: "
        "proposals between stored samples)",
        ["phase", "T", "acceptance", "tau_int(E)", "tau_int(|M|)", "thinning",
         "proposal steps", "local sweeps", "equilibration", "file"], rows,
        name="exact-sampling"))
    return blocks


def tfim_section(runs: list, figures_dir: Path) -> list:
    """VMC of the transverse-field Ising model against its exact ground state."""
    from .. import plots

    blocks = [Heading(2, "Quantum Ising model: VMC against the exact ground state")]
    rows, histories, exacts = [], {}, set()
    for record, path in runs:
        system = str(record["system"])
        blocks.append(Paragraph(system[:1].upper() + system[1:] + "."))
        energy, exact = record["energy"], record.get("exact")
        rel, rel_sigma = record.get("relative_error"), record.get("relative_error_sigma")
        label = f"N = {record['size']}, h = {record['field']:g}"
        rows.append([label, fmt_estimate(energy),
                     fmt_float(exact, 6) + (f" ({record['exact_method']})"
                                            if record.get("exact_method") else ""),
                     fmt_sigma(energy, exact),
                     "—" if rel is None else f"{rel:.1e}" + (
                         f" ± {rel_sigma:.1e}" if rel_sigma is not None else ""),
                     fmt_float(record.get("variance"), 5), fmt_float(record.get("acceptance"), 3),
                     str(record.get("iterations", "—")), record["file"]])
        history = _vmc_history(path) if path is not None else None
        if history is not None:
            histories[label] = history
            if exact is not None:
                exacts.add(exact)
    if histories:
        fig = plots.vmc_energy(histories, exact=exacts.pop() if len(exacts) == 1 else None,
                               unit="$J = 1$, total", title="VMC of the transverse-field "
                                                            "Ising model")
        plots.save(fig, figures_dir / "tfim.png")
        blocks.append(FigureBlock(
            "figures/tfim.png",
            "Transverse-field Ising model: mean local energy per iteration with the final "
            "estimate and the exact ground-state energy (dashed); right: variance of the "
            "local energy, zero for an exact eigenstate."))
    blocks.append(Table(
        "Final VMC energies of the quantum Ising model (J = 1, total energy; dev = "
        "(E - exact)/error; relative error = (E - exact)/|exact|)",
        ["system", "E", "exact", "dev (σ)", "relative error", "variance of E_L", "acceptance",
         "iterations", "file"], rows, name="tfim"))
    return blocks
