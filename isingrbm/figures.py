"""Figures of the demo and its report (matplotlib, no pyplot state).

Every function takes plain arrays / dictionaries and returns a
:class:`matplotlib.figure.Figure` built without :mod:`matplotlib.pyplot`, so
it works headless (Agg) and leaves no global state behind; :func:`save`
writes it as PNG. The figures of individual commands (sample grids and the
like) live in :mod:`isingrbm.plots`; this module composes the report's
figures and re-uses those.

Conventions: k_B = J = 1; every Ising quantity is per spin (energy
``e = E / N`` with ``E = -sum_<ij> s_i s_j`` over the 2N bonds of the
periodic L x L lattice, ``m = M / N``); specific heat
``c = beta^2 N (<e^2> - <e>^2)``; susceptibilities (README naming)
``chi = beta N (<m^2> - <|m|>^2)`` (connected) and ``chi' = beta N <m^2>``;
Binder cumulant
``U4 = 1 - <m^4> / (3 <m^2>^2)``. VMC energies in units of hbar * omega
(hbar = m = 1).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "T_CRITICAL", "OBSERVABLE_LABELS", "exact_curves", "thermodynamics_figure",
    "training_curves_figure", "vmc_figure", "save",
]

#: Onsager's critical temperature 2 / ln(1 + sqrt 2) (k_B = J = 1).
T_CRITICAL = 2.0 / math.log(1.0 + math.sqrt(2.0))

#: Axis labels of the per-spin observables, keyed as in ``ising.observables.measure``.
OBSERVABLE_LABELS = {
    "energy": r"energy per spin $e = E/N$",
    "specific_heat": r"specific heat per spin $c$",
    "abs_magnetization": r"$\langle |m| \rangle$ per spin",
    "magnetization_squared": r"$\langle m^2 \rangle$",
    "susceptibility": r"$\chi' = \beta N \langle m^2\rangle$",
    "susceptibility_connected":
        r"susceptibility $\chi = \beta N(\langle m^2\rangle - \langle|m|\rangle^2)$",
    "binder_cumulant": r"Binder cumulant $U_4 = 1 - \langle m^4\rangle / 3\langle m^2\rangle^2$",
}

_PHASE_COLOURS = {"ordered": "#e8f0fa", "critical": "#fdf0e0", "disordered": "#faeaea"}
_SOURCE_STYLE = {  # colour, marker for Monte Carlo and generated samples
    "Monte Carlo": ("black", "o"),
    "RBM": ("tab:red", "D"),
    "GAN": ("tab:green", "^"),
}
_EXACT_FINITE_STYLE = dict(color="tab:blue", lw=1.6, ls="-")
_INFINITE_STYLE = dict(color="tab:gray", lw=1.4, ls="--")


def save(fig: Figure, path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG to ``path`` (parent folders must exist); returns the path."""
    path = Path(path)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def exact_curves(L: int, t_min: float, t_max: float, n_points: int = 301) -> dict:
    """Exact reference curves on a temperature grid.

    Parameters
    ----------
    L : int
        Linear size of the periodic lattice.
    t_min, t_max : float
        Temperature range (k_B = J = 1).
    n_points : int
        Grid points.

    Returns
    -------
    dict
        ``"T"`` (grid), ``"finite"``: dict with ``"energy"`` and
        ``"specific_heat"`` per spin of the exact L x L torus (Kaufman /
        Ferdinand-Fisher, ``ising.exact.finite_lattice``); ``"infinite"``:
        dict with Onsager's ``"energy"``, ``"specific_heat"`` and Yang's
        spontaneous ``"abs_magnetization"`` (0 above T_c) and the step
        ``"binder_cumulant"`` (2/3 below T_c, 0 above) of the infinite
        lattice.
    """
    from ising import exact

    grid = np.linspace(t_min, t_max, n_points)
    # Onsager's c(T) diverges at T_c: keep the grid off the singular point.
    grid = grid[np.abs(grid - T_CRITICAL) > 1e-6]
    finite = exact.finite_lattice(L, grid)
    return {
        "T": grid,
        "finite": {"energy": np.asarray(finite["energy"], dtype=float),
                   "specific_heat": np.asarray(finite["specific_heat"], dtype=float)},
        "infinite": {
            "energy": np.asarray(exact.onsager_energy(grid), dtype=float),
            "specific_heat": np.asarray(exact.onsager_specific_heat(grid), dtype=float),
            "abs_magnetization": np.asarray(exact.spontaneous_magnetization(grid), dtype=float),
            "binder_cumulant": np.where(grid < T_CRITICAL, 2.0 / 3.0, 0.0),
        },
    }


def _shade_phases(ax, t_min, t_max, window, labels=False):
    lo, hi = T_CRITICAL - window, T_CRITICAL + window
    spans = (("ordered", t_min, lo), ("critical", lo, hi), ("disordered", hi, t_max))
    for phase, a, b in spans:
        if b > a:
            ax.axvspan(a, b, color=_PHASE_COLOURS[phase], zorder=0, lw=0,
                       label=f"{phase} phase" if labels else None)
    ax.axvline(T_CRITICAL, color="k", ls=":", lw=1.0, zorder=1,
               label=r"$T_c = 2/\ln(1+\sqrt{2})$" if labels else None)


def _errorbars(ax, T, mean, error, label, colour, marker, filled=True, size=4.5):
    ax.errorbar(T, mean, yerr=error, fmt=marker, ms=size, color=colour,
                mfc=colour if filled else "white", mec=colour, ecolor=colour,
                elinewidth=1.2, capsize=3, capthick=1.0, zorder=4, label=label)


def thermodynamics_figure(temperatures, mc: dict, *, L: int, generated: dict | None = None,
                          curves: dict | None = None, phase_window: float = 0.2,
                          n_samples: int | None = None) -> Figure:
    """Monte Carlo e, c, <|m|>, chi, U4 versus T with the exact curves.

    Parameters
    ----------
    temperatures : array_like, shape (n_T,)
        Temperatures of the Monte Carlo ensembles.
    mc : dict
        ``name -> (mean, error)`` arrays of shape (n_T,) for the names of
        ``ising.observables.measure``: ``"energy"``, ``"specific_heat"``,
        ``"abs_magnetization"``, ``"susceptibility"``,
        ``"susceptibility_connected"``, ``"binder_cumulant"``. Error bars are
        one standard error (blocking / block jackknife).
    L : int
        Lattice size (for the exact finite-lattice curves and the title).
    generated : dict, optional
        ``source label -> (temperatures, {name: (mean, error)})`` for samples
        drawn from trained models ("RBM", "GAN"), overlaid as coloured symbols.
    curves : dict, optional
        Output of :func:`exact_curves`; computed when omitted.
    phase_window : float
        Half-width of the critical window around T_c used for the phase
        labels (``ising.phases``); shaded.
    n_samples : int, optional
        Samples per temperature, quoted in the title.

    Returns
    -------
    Figure
        Six panels: e, c, <|m|>, chi (connected) and chi' (log scale), U4,
        and a legend.
    """
    T = np.asarray(temperatures, dtype=float)
    t_min = min(T.min(), 1.0) - 0.1
    t_max = max(T.max(), 3.5) + 0.1
    if curves is None:
        curves = exact_curves(L, max(t_min, 0.05), t_max)
    grid = curves["T"]
    fig = Figure(figsize=(12.5, 7.6), layout="constrained")
    axes = fig.subplots(2, 3)
    panels = [("energy", axes[0, 0]), ("specific_heat", axes[0, 1]),
              ("abs_magnetization", axes[0, 2]), ("susceptibility_connected", axes[1, 0]),
              ("binder_cumulant", axes[1, 1])]
    for name, ax in panels:
        _shade_phases(ax, t_min, t_max, phase_window, labels=(name == "energy"))
        if name in curves["finite"]:
            ax.plot(grid, curves["finite"][name], **_EXACT_FINITE_STYLE, zorder=2,
                    label=f"exact, finite {L}x{L} torus (Kaufman)")
        if name in curves["infinite"]:
            ax.plot(grid, curves["infinite"][name], **_INFINITE_STYLE, zorder=2,
                    label="exact, infinite lattice (Onsager; Yang's $m$;\n"
                          r"$U_4$: 2/3 below $T_c$, 0 above)")
        mean, error = mc[name]
        _errorbars(ax, T, mean, error, f"Monte Carlo, L = {L}", *_SOURCE_STYLE["Monte Carlo"])
        if name == "susceptibility_connected" and "susceptibility" in mc:
            mean_c, error_c = mc["susceptibility"]
            _errorbars(ax, T, mean_c, error_c, r"Monte Carlo $\chi' = \beta N\langle m^2\rangle$",
                       "tab:purple", "s", filled=False)
        for source, (t_gen, values) in (generated or {}).items():
            if name in values:
                colour, marker = _SOURCE_STYLE.get(source, ("tab:orange", "v"))
                _errorbars(ax, t_gen, *values[name], source, colour, marker, size=6)
                if name == "susceptibility_connected" and "susceptibility" in values:
                    _errorbars(ax, t_gen, *values["susceptibility"],
                               f"{source} $\\chi'$", colour, marker, filled=False, size=6)
        ax.set_xlim(t_min, t_max)
        ax.set_xlabel(r"temperature $T$  ($k_B = J = 1$)")
        ax.set_ylabel(OBSERVABLE_LABELS[name])
        ax.grid(alpha=0.3, lw=0.5)
    # The divergent Onsager c(T) would squash the finite-lattice peak.
    c_ax = axes[0, 1]
    c_top = max(np.nanmax(curves["finite"]["specific_heat"]),
                np.nanmax(np.asarray(mc["specific_heat"][0]) + np.asarray(mc["specific_heat"][1])))
    c_ax.set_ylim(0.0, 1.3 * c_top)
    axes[0, 2].set_ylim(-0.02, 1.05)
    axes[1, 0].set_yscale("log")
    axes[1, 0].set_ylabel(r"$\chi = \beta N(\langle m^2\rangle - \langle|m|\rangle^2)$"
                          r" (filled), $\chi'$ (open)")
    axes[1, 1].set_ylim(-0.05, 0.72)
    legend_ax = axes[1, 2]
    legend_ax.axis("off")
    handles, labels = {}, {}
    for ax in axes.flat[:5]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                labels[label] = handle
    legend_ax.legend(list(labels.values()), list(labels.keys()), loc="upper left",
                     frameon=False, fontsize=8.5, borderaxespad=0.0)
    note = ("Error bars: one standard error (blocking /\nblock jackknife); where invisible they are\n"
            "smaller than the symbols. Per spin,\n$k_B = J = 1$, periodic boundaries.")
    legend_ax.text(0.0, -0.02, note, transform=legend_ax.transAxes, fontsize=9, va="bottom")
    title = f"2D Ising model, L = {L}: Monte Carlo vs exact"
    if n_samples:
        title += f" ({n_samples} samples per temperature)"
    fig.suptitle(title)
    return fig


def training_curves_figure(histories: dict, *, keys=None) -> Figure:
    """Training curves of the RBMs (one line per model, one panel per metric).

    Parameters
    ----------
    histories : dict
        ``model label -> {metric name: per-epoch array}`` (an RBM's
        ``history_``). Non-numeric or empty entries are skipped.
    keys : sequence of (name, axis label), optional
        Metrics to show, in order; by default every numeric per-epoch metric
        found (at most three).

    Returns
    -------
    Figure
    """
    if keys is None:
        seen = []
        for history in histories.values():
            for name, values in history.items():
                arr = np.asarray(values)
                if (name not in [k for k, _ in seen] and arr.ndim == 1 and arr.size > 1
                        and np.issubdtype(arr.dtype, np.number) and name != "epoch"):
                    seen.append((name, name.replace("_", " ")))
        keys = seen[:3]
    n_panels = max(1, len(keys))
    fig = Figure(figsize=(4.6 * n_panels, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n_panels))
    colours = {"ordered": "tab:blue", "critical": "tab:orange", "disordered": "tab:red"}
    for ax, (name, label) in zip(axes, keys):
        for model, history in histories.items():
            if name not in history:
                continue
            values = np.asarray(history[name], dtype=float)
            if values.ndim != 1 or values.size == 0 or not np.isfinite(values).any():
                continue
            if "epoch" in history and len(history["epoch"]) == values.size:
                epochs = np.asarray(history["epoch"], dtype=float)
            else:
                epochs = np.arange(1, values.size + 1)
            phase = next((p for p in colours if model.startswith(p)), None)
            ax.plot(epochs, values, marker="o", ms=3, lw=1.4, label=model,
                    color=colours.get(phase))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, lw=0.5)
        ax.legend(fontsize=8)
    if not keys:
        axes[0].text(0.5, 0.5, "no training history recorded", ha="center", va="center",
                     transform=axes[0].transAxes)
        axes[0].axis("off")
    fig.suptitle("RBM training curves")
    return fig


def vmc_figure(runs: dict, *, exact: float | None, title: str | None = None) -> Figure:
    """VMC energy and local-energy variance versus optimization iteration.

    Parameters
    ----------
    runs : dict
        ``label -> dict`` with ``"iterations"``, ``"energy"`` (mean local
        energy per iteration, units of hbar * omega), ``"variance"`` (variance
        of the local energy per iteration, or None) and optionally
        ``"final"`` = ``(mean, error)``: the final estimate (blocking error),
        drawn as a point with its error bar right of the last iteration.
    exact : float or None
        Exact ground-state energy (3.0 for two electrons in 2D, omega = 1,
        Taut 1993), drawn as a dashed line.
    title : str, optional

    Returns
    -------
    Figure
        Left: energy per iteration, zoomed on the converged part; right:
        variance of E_L (log scale), which vanishes for an exact eigenstate.
    """
    fig = Figure(figsize=(12.0, 4.4), layout="constrained")
    ax_e, ax_v = fig.subplots(1, 2)
    colours = ["tab:red", "tab:blue", "tab:green", "tab:purple"]
    tails = []
    for (label, run), colour in zip(runs.items(), colours):
        it = np.asarray(run["iterations"], dtype=float)
        e = np.asarray(run["energy"], dtype=float)
        ax_e.plot(it, e, color=colour, lw=1.2, label=f"{label}: mean $E_L$ per iteration")
        tails.append(e[len(e) // 3:])
        if run.get("final") is not None:
            mean, error = run["final"]
            x_final = it[-1] + 0.04 * max(1.0, it[-1] - it[0])
            ax_e.errorbar([x_final], [mean], yerr=[error], fmt="o", color=colour, ms=5,
                          capsize=4, elinewidth=1.5,
                          label=f"{label}: final {_value_error(mean, error)}")
        if run.get("variance") is not None:
            var = np.asarray(run["variance"], dtype=float)
            ax_v.plot(it, var, color=colour, lw=1.2, label=label)
    if exact is not None:
        ax_e.axhline(exact, color="k", ls="--", lw=1.2, label=f"exact E = {exact:g} (Taut 1993)")
    # zoom on the converged part: the first iterations would dwarf it
    if tails:
        tail = np.concatenate(tails + ([np.array([exact])] if exact is not None else []))
        lo, hi = np.nanmin(tail), np.nanmax(tail)
        pad = 0.15 * (hi - lo) + 1e-3
        ax_e.set_ylim(lo - pad, hi + 3 * pad)
    ax_e.set_ylabel(r"energy $\langle E_L \rangle$  ($\hbar\omega$; $\hbar = m = 1$)")
    ax_e.set_title("energy (axis zoomed on the last two thirds of the iterations)", fontsize=9)
    ax_v.set_yscale("log")
    ax_v.set_ylabel(r"variance of the local energy  ($(\hbar\omega)^2$)")
    ax_v.set_title("variance of $E_L$: zero for an exact eigenstate", fontsize=9)
    for ax in (ax_e, ax_v):
        ax.set_xlabel("optimization iteration")
        ax.grid(alpha=0.3, lw=0.5)
        ax.legend(fontsize=8)
    fig.suptitle(title or r"VMC: two electrons in a 2D harmonic trap, $\omega = 1$")
    return fig


def _value_error(mean: float, error: float) -> str:
    from mcstats.estimate import format_value_error

    return format_value_error(mean, error)
