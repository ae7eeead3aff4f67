"""Figures of training and of variational Monte Carlo: curves per epoch and per iteration.

VMC energies in units of hbar * omega (hbar = m = 1) unless told otherwise.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ising.phases import PHASES

from .style import new_figure

def training_curves(histories: dict, *, keys=None, title: str = "RBM training curves") -> Figure:
    """Training curves (one line per model, one panel per metric).

    Parameters
    ----------
    histories : dict
        ``model label -> {metric name: per-epoch array}`` (an RBM's
        ``history_``, optionally with ``"epoch"``). Non-numeric or empty
        entries are skipped. A label starting with a phase name gets that
        phase's colour.
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
    fig = new_figure(figsize=(4.6 * n_panels, 3.8))
    axes = np.atleast_1d(fig.subplots(1, n_panels))
    colours = dict(zip(PHASES, ("tab:blue", "tab:orange", "tab:red")))
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
            phase = next((p for p in colours if str(model).startswith(p)), None)
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
    fig.suptitle(title)
    return fig


def vmc_energy(runs: dict, *, exact: float | None, title: str | None = None,
               unit: str = r"$\hbar\omega$; $\hbar = m = 1$") -> Figure:
    """VMC energy and local-energy variance versus optimization iteration.

    Parameters
    ----------
    runs : dict
        ``label -> dict`` with ``"iterations"``, ``"energy"`` (mean local
        energy per iteration, in ``unit``), ``"variance"`` (variance
        of the local energy per iteration, or None) and optionally
        ``"final"`` = ``(mean, error)``: the final estimate (blocking error),
        drawn as a point with its error bar right of the last iteration.
    exact : float or None
        Exact ground-state energy, drawn as a dashed line.
    title : str, optional
    unit : str
        Energy unit for the axis labels (mathtext): hbar omega for trapped
        particles, e.g. ``"$J = 1$, total"`` for the quantum Ising model.

    Returns
    -------
    Figure
        Left: energy per iteration, zoomed on the converged part; right:
        variance of E_L (log scale), which vanishes for an exact eigenstate.
    """
    from mcstats.estimate import format_value_error

    fig = new_figure(figsize=(12.0, 4.4))
    ax_e, ax_v = fig.subplots(1, 2)
    colours = ["tab:red", "tab:blue", "tab:green", "tab:purple"]
    tails = []
    for i, (label, run) in enumerate(runs.items()):
        colour = colours[i % len(colours)]
        it = np.asarray(run["iterations"], dtype=float)
        e = np.asarray(run["energy"], dtype=float)
        ax_e.plot(it, e, color=colour, lw=1.2, label=f"{label}: mean $E_L$ per iteration")
        if e.size:
            tails.append(e[len(e) // 3:])
        if run.get("final") is not None:
            mean, error = run["final"]
            x_final = it[-1] + 0.04 * max(1.0, it[-1] - it[0]) if it.size else 0.0
            ax_e.errorbar([x_final], [mean], yerr=[error], fmt="o", color=colour, ms=5,
                          capsize=4, elinewidth=1.5,
                          label=f"{label}: final {format_value_error(mean, error)}")
        if run.get("variance") is not None:
            ax_v.plot(it, np.asarray(run["variance"], dtype=float), color=colour, lw=1.2,
                      label=label)
    if exact is not None:
        ax_e.axhline(exact, color="k", ls="--", lw=1.2, label=f"exact E = {exact:g}")
    # zoom on the converged part: the first iterations would dwarf it
    if tails:
        tail = np.concatenate(tails + ([np.array([exact])] if exact is not None else []))
        lo, hi = np.nanmin(tail), np.nanmax(tail)
        pad = 0.15 * (hi - lo) + 1e-3
        ax_e.set_ylim(lo - pad, hi + 3 * pad)
    ax_e.set_ylabel(r"energy $\langle E_L \rangle$  (" + unit + ")")
    ax_e.set_title("energy (axis zoomed on the last two thirds of the iterations)", fontsize=9)
    ax_v.set_yscale("log")
    ax_v.set_ylabel(r"variance of $E_L$  (" + unit + ", squared)")
    ax_v.set_title("variance of $E_L$: zero for an exact eigenstate", fontsize=9)
    for ax in (ax_e, ax_v):
        ax.set_xlabel("optimization iteration")
        ax.grid(alpha=0.3, lw=0.5)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(title or "VMC optimization")
    return fig
