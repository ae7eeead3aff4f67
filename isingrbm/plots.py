"""The figures of the workbench, in one module (matplotlib, no pyplot state).

Every function takes plain arrays, dictionaries or ensembles and returns a
:class:`matplotlib.figure.Figure` built without :mod:`matplotlib.pyplot`, so
it works headless (Agg canvas), never switches the backend and leaves no
global state behind; :func:`save` writes one as PNG. ``isingrbm evaluate
--plots``, the report and the demo use these, and the GAN figures take
their spin colours (:data:`SPIN_CMAP`, :func:`add_spin_key`) from here.

Conventions: k_B = J = 1, periodic L x L lattice, N = L^2; every observable is
per spin as in :mod:`ising.observables` (``e = E/N`` with
``E = -sum_<ij> s_i s_j`` over the 2N bonds, ``|m| = <|M|>/N``,
``c = beta^2 N (<e^2> - <e>^2)``, ``chi = beta N (<m^2> - <|m|>^2)``,
``chi' = beta N <m^2>``, ``U4 = 1 - <m^4> / (3 <m^2>^2)``); error bars are one
standard error. Spin configurations: black = +1, white = -1, everywhere.
VMC energies in units of hbar * omega (hbar = m = 1).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ising.exact import T_C
from ising.phases import PHASES

__all__ = [
    "AXIS_LABELS",
    "SOURCE_STYLES",
    "SPIN_CMAP",
    "SPIN_COLOURS",
    "T_LABEL",
    "add_spin_key",
    "distributions",
    "exact_curves",
    "new_figure",
    "observables_vs_T",
    "sample_grid",
    "save",
    "series_from_tables",
    "training_curves",
    "vmc_energy",
]

#: Axis labels of the per-spin observables, keyed as in ``ising.observables.measure``.
AXIS_LABELS = {
    "energy": r"energy per spin $e = E/N$",
    "specific_heat": r"specific heat per spin $c$",
    "abs_magnetization": r"$\langle |m| \rangle$ per spin",
    "magnetization_squared": r"$\langle m^2 \rangle$ per spin",
    "susceptibility_connected": r"$\chi = \beta N(\langle m^2\rangle - \langle|m|\rangle^2)$",
    "susceptibility": r"$\chi' = \beta N \langle m^2\rangle$",
    "binder_cumulant": r"Binder cumulant $U_4 = 1 - \langle m^4\rangle / 3\langle m^2\rangle^2$",
}
#: The temperature axis label.
T_LABEL = r"temperature $T$  ($k_B = J = 1$)"
_CONVENTION = "per spin, $k_B = J = 1$"

#: Colours of the two spin values: black = +1 (up), white = -1 (down).
SPIN_COLOURS = {+1: "black", -1: "white"}
#: The colormap of every spin configuration drawn with ``imshow(spins,
#: cmap=SPIN_CMAP, vmin=-1, vmax=1)``: -1 white, +1 black.
SPIN_CMAP = ListedColormap([SPIN_COLOURS[-1], SPIN_COLOURS[+1]], name="isingrbm_spins")

#: Colour and marker of each kind of sample; other labels cycle through the rest.
SOURCE_STYLES = {"Monte Carlo": ("black", "o"), "RBM": ("tab:red", "D"),
                 "GAN": ("tab:green", "^")}
_MORE_STYLES = [("tab:purple", "s"), ("tab:orange", "v"), ("tab:brown", "P"),
                ("tab:pink", "X"), ("tab:olive", "<")]
_EXACT_FINITE_STYLE = dict(color="tab:blue", lw=1.5, ls="-")
_INFINITE_STYLE = dict(color="tab:gray", lw=1.2, ls="--")
_PHASE_COLOURS = dict(zip(PHASES, ("#e8f0fa", "#fdf0e0", "#faeaea")))


def _style(label: str, index: int) -> tuple[str, str]:
    """The (colour, marker) of a source label: fixed for MC/RBM/GAN, else cycled."""
    for key, style in SOURCE_STYLES.items():
        if str(label) == key or str(label).startswith(key + ":") \
                or str(label).startswith(key + "#"):
            return style
    return _MORE_STYLES[index % len(_MORE_STYLES)]


def new_figure(**kwargs) -> Figure:
    """A Figure on its own Agg canvas (constrained layout unless told otherwise)."""
    kwargs.setdefault("layout", "constrained")
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG to ``path`` (the folder must exist); returns the path."""
    path = Path(path)
    if not isinstance(getattr(fig, "canvas", None), FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def add_spin_key(fig: Figure, *, loc: str = "outside lower center") -> None:
    """The colour key of spin configurations: black = +1, white = -1."""
    handles = [Patch(facecolor=SPIN_COLOURS[+1], edgecolor="black", label="spin +1 (up)"),
               Patch(facecolor=SPIN_COLOURS[-1], edgecolor="black", label="spin -1 (down)")]
    fig.legend(handles=handles, loc=loc, ncols=2, fontsize=8, frameon=False)


# --------------------------------------------------------------------------
# exact curves


def exact_curves(L: int, t_min: float, t_max: float, keys=None, *,
                 n_points: int = 241) -> dict:
    """Exact reference curves on a temperature grid.

    Parameters
    ----------
    L : int
        Linear size of the periodic lattice.
    t_min, t_max : float
        Temperature range (k_B = J = 1).
    keys : sequence of str, optional
        Observables wanted beyond e and c (for L <= 4, found by enumerating
        all 2^N states on a coarser grid and interpolated).
    n_points : int
        Grid points.

    Returns
    -------
    dict
        ``"T"`` (grid, kept off T_c where Onsager's c diverges),
        ``"finite"``: per spin ``"energy"`` and ``"specific_heat"`` of the
        exact L x L torus (Kaufman / Ferdinand-Fisher,
        ``ising.exact.finite_lattice``) and, for L <= 4, ``keys`` by
        enumeration; ``"infinite"``: Onsager's ``"energy"`` and
        ``"specific_heat"``, Yang's spontaneous ``"abs_magnetization"`` (0
        above T_c) and the step ``"binder_cumulant"`` (2/3 below T_c, 0
        above) of the infinite lattice.
    """
    from ising import exact

    grid = np.linspace(t_min, t_max, n_points)
    grid = grid[np.abs(grid - T_C) > 1e-6]
    fl = exact.finite_lattice(L, grid)
    finite = {"energy": np.asarray(fl["energy"], dtype=float),
              "specific_heat": np.asarray(fl["specific_heat"], dtype=float)}
    wanted = [k for k in (keys or ()) if k not in finite]
    if wanted and L <= exact.MAX_ENUMERATION_L:
        # enumeration costs ~50 ms a temperature: a coarser grid (smooth curves)
        coarse = np.linspace(t_min, t_max, 31)
        rows = [exact.exact_enumeration(L, t) for t in coarse]
        for key in wanted:
            if key in rows[0]:
                finite[key] = np.interp(grid, coarse, [row[key] for row in rows])
    with np.errstate(all="ignore"):
        c_inf = np.asarray(exact.onsager_specific_heat(grid), dtype=float)
    infinite = {
        "energy": np.asarray(exact.onsager_energy(grid), dtype=float),
        "specific_heat": np.where(np.isfinite(c_inf), c_inf, np.nan),
        "abs_magnetization": np.asarray(exact.spontaneous_magnetization(grid), dtype=float),
        "binder_cumulant": np.where(grid < T_C, 2.0 / 3.0, 0.0),
    }
    return {"T": grid, "finite": finite, "infinite": infinite}


# --------------------------------------------------------------------------
# spin configurations


def sample_grid(samples: dict, *, n_show: int = 6, title: str | None = None) -> Figure:
    """Spin configurations side by side, one row per source, with a colour key.

    Parameters
    ----------
    samples : dict[str, array_like]
        Source label (e.g. ``"Monte Carlo"``, ``"RBM"``) -> spins
        ``(n, L, L)`` in {-1, +1}. The first ``n_show`` configurations of
        each are shown (pass a spread-out selection to avoid showing
        consecutive, correlated Monte Carlo samples).
    n_show : int
        Configurations per row (>= 1).
    title : str, optional
        Figure title; by default "Spin configurations, L = ...".

    Returns
    -------
    Figure
        Black = spin up (+1), white = spin down (-1) (:data:`SPIN_CMAP`,
        keyed below the panels); each panel is titled with its
        magnetization per spin m = M/N.
    """
    from mccore.errors import InvalidParameterError

    if not samples:
        raise InvalidParameterError("samples must name at least one source, got none")
    if not isinstance(n_show, (int, np.integer)) or n_show < 1:
        raise InvalidParameterError(f"n_show must be an integer >= 1, got {n_show!r}")
    arrays = {str(k): np.asarray(v) for k, v in samples.items()}
    for label, spins in arrays.items():
        if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
            raise InvalidParameterError(
                f"{label}: spins must have shape (n, L, L), got {spins.shape}")
    L = next(iter(arrays.values())).shape[1]
    n_rows = len(arrays)
    fig = new_figure(figsize=(1.3 * n_show + 1.4, 1.45 * n_rows + 1.0))
    axes = fig.subplots(n_rows, n_show, squeeze=False)
    for r, (label, spins) in enumerate(arrays.items()):
        for k in range(n_show):
            ax = axes[r, k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k < spins.shape[0]:
                ax.imshow(spins[k], cmap=SPIN_CMAP, vmin=-1, vmax=1, interpolation="nearest")
                ax.set_title(f"m = {spins[k].mean():+.2f}", fontsize=8)
            else:
                ax.axis("off")
            if k == 0:
                ax.set_ylabel(label, fontsize=9)
    add_spin_key(fig)
    fig.suptitle(title or f"Spin configurations, L = {L}", fontsize=10)
    return fig


# --------------------------------------------------------------------------
# observables against temperature


def _value(est, field: str) -> float:
    if est is None:
        return float("nan")
    value = est.get(field) if isinstance(est, dict) else getattr(est, field, None)
    return float("nan") if value is None else float(value)


def series_from_tables(tables) -> tuple[int, dict]:
    """``(L, series)`` of :func:`observables_vs_T` from :func:`isingrbm.evaluate.compare` tables.

    ``series`` maps each source label (Monte Carlo first) to
    ``(T array, {observable: (mean array, error array)})``.
    """
    from mccore.errors import InvalidParameterError

    tables = sorted(list(tables), key=lambda t: t["T"])
    if not tables:
        raise InvalidParameterError("tables must hold at least one temperature, got none")
    sizes = {int(t["L"]) for t in tables}
    if len(sizes) != 1:
        raise InvalidParameterError(f"tables must share one L, got L = {sorted(sizes)}")
    series: dict = {}
    for t in tables:
        for source in t["sources"]:
            observables = t["observables"].get(source) or {}
            Ts, values = series.setdefault(source, ([], {}))
            Ts.append(float(t["T"]))
            for key, est in observables.items():
                means, errors = values.setdefault(key, ([], []))
                means.append(_value(est, "mean"))
                errors.append(_value(est, "error"))
    return sizes.pop(), {s: (np.array(Ts), {k: (np.array(m), np.array(e))
                                            for k, (m, e) in values.items()})
                         for s, (Ts, values) in series.items()}


#: The panels of the observables-vs-T figure, by default.
DEFAULT_OBSERVABLES = ("energy", "abs_magnetization", "specific_heat",
                       "susceptibility_connected")


def observables_vs_T(tables=None, *, series: dict | None = None, L: int | None = None,
                     observables=DEFAULT_OBSERVABLES, exact: bool = True,
                     infinite: bool = True, phase_window: float | None = None,
                     log_scale=("susceptibility_connected", "susceptibility"),
                     title: str | None = None) -> Figure:
    """Observables against temperature: every source with error bars, exact curves.

    Parameters
    ----------
    tables : sequence of dict, optional
        Tables of :func:`isingrbm.evaluate.compare` (or their JSON form), one
        per temperature, all of the same L; or give ``series`` and ``L``.
    series : dict, optional
        ``label -> (T array, {observable: (mean array, error array)})``;
        Monte Carlo is drawn with filled symbols, other sources open.
    L : int, optional
        Lattice size (with ``series``).
    observables : sequence of str
        Keys of ``ising.observables.measure``, one panel each.
    exact : bool
        Draw the exact finite-L curves: e and c for every L (Kaufman /
        Ferdinand-Fisher), every observable for L <= 4 (enumeration).
    infinite : bool
        Draw Onsager's infinite-lattice e and c, Yang's spontaneous
        magnetization and the U4 step (dashed), and mark T_c.
    phase_window : float, optional
        Shade the ordered / critical (``|T - T_c| <= phase_window``) /
        disordered phases (``ising.phases``).
    log_scale : sequence of str
        Observables drawn on a logarithmic axis.
    title : str, optional

    Returns
    -------
    Figure
    """
    from mccore.errors import InvalidParameterError

    if tables is not None:
        L, series = series_from_tables(tables)
    if not series or L is None:
        raise InvalidParameterError("give tables, or series and L")
    temps = np.concatenate([np.asarray(T, dtype=float) for T, _ in series.values()])
    span = max(temps.max() - temps.min(), 0.5)
    pad = max(0.1 * (temps.max() - temps.min()), 0.25)
    t_min, t_max = max(0.05, temps.min() - pad), temps.max() + pad
    curves = exact_curves(L, t_min, t_max, observables) if (exact or infinite) else None

    n = len(observables)
    n_cols = min(n, 2) if n <= 4 else 3
    n_rows = math.ceil(n / n_cols)
    fig = new_figure(figsize=(4.6 * n_cols, 3.4 * n_rows + 0.4))
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    for ax, key in zip(axes, observables):
        if phase_window is not None:
            lo, hi = T_C - phase_window, T_C + phase_window
            for phase, a, b in zip(PHASES, (t_min, lo, hi), (lo, hi, t_max)):
                if b > a:
                    ax.axvspan(a, b, color=_PHASE_COLOURS[phase], zorder=0, lw=0,
                               label=f"{phase} phase")
        if curves is not None and exact and key in curves["finite"]:
            ax.plot(curves["T"], curves["finite"][key], **_EXACT_FINITE_STYLE,
                    label=f"exact, L = {L}")
        if curves is not None and infinite and key in curves["infinite"]:
            ax.plot(curves["T"], curves["infinite"][key], **_INFINITE_STYLE,
                    label=r"exact, $L = \infty$")
        for i, (source, (T, values)) in enumerate(series.items()):
            if key not in values:
                continue
            colour, marker = _style(source, i)
            means, errors = values[key]
            shift = (i - (len(series) - 1) / 2) * 0.008 * span   # keep bars apart
            ax.errorbar(np.asarray(T, dtype=float) + shift, means,
                        yerr=np.nan_to_num(np.asarray(errors, dtype=float)), fmt=marker,
                        color=colour, ms=5, capsize=3, lw=1.0,
                        mfc=colour if i == 0 else "none", label=source, zorder=4)
        if infinite:
            ax.axvline(T_C, color="k", lw=0.8, ls=":",
                       label=r"$T_c = 2/\ln(1+\sqrt{2})$")
        if key in log_scale:
            ax.set_yscale("log")
        if key == "specific_heat" and curves is not None:
            # the divergent Onsager c(T) would squash the finite-lattice peak
            tops = [np.nanmax(curves["finite"]["specific_heat"])]
            for _, values in series.values():
                if key in values:
                    tops.append(np.nanmax(np.asarray(values[key][0], dtype=float)))
            top = np.nanmax(tops)
            if np.isfinite(top) and top > 0:
                ax.set_ylim(0.0, 1.3 * top)
        ax.set_xlim(t_min, t_max)
        ax.set_xlabel(T_LABEL)
        ax.set_ylabel(AXIS_LABELS.get(key, key))
        ax.grid(alpha=0.3, lw=0.5)
    for ax in axes[n:]:
        ax.axis("off")
    handles, labels = {}, []
    for ax in axes[:n]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    fig.legend([handles[k] for k in labels], labels, loc="outside lower center",
               ncols=min(len(labels), 4), fontsize=8, frameon=False)
    fig.suptitle(title or f"Observables vs temperature, L = {L} ({_CONVENTION}; "
                          "one standard error)", fontsize=10)
    return fig


# --------------------------------------------------------------------------
# distributions on the lattice levels


def distributions(reference, generated: dict, *, reference_label: str = "Monte Carlo",
                  title: str | None = None) -> Figure:
    """Distributions of the energy and magnetization per spin, reference vs generated.

    Parameters
    ----------
    reference : Ensemble
        Object with ``L``, ``T``, ``energy`` (n,) total and ``magnetization``
        (n,) total.
    generated : dict[str, Ensemble]
        Label -> ensemble at the same T and L.

    Returns
    -------
    Figure
        Two panels, e = E/N and m = M/N: the probability of every *occupied*
        lattice level (E moves in steps of 4, M in steps of 2 on the
        periodic lattice) as a marker on a thin stem; levels no sample
        reached are left empty, never bridged by a line.
    """
    L = int(reference.L)
    N = L * L
    fig = new_figure(figsize=(9.5, 3.9))
    axes = fig.subplots(1, 2)
    series = {reference_label: reference, **{str(k): v for k, v in generated.items()}}
    for ax, field, xlabel in ((axes[0], "energy", r"energy per spin $e = E/N$"),
                              (axes[1], "magnetization", r"magnetization per spin $m = M/N$")):
        for i, (label, ens) in enumerate(series.items()):
            colour, marker = _style(label, i)
            values = np.rint(np.asarray(getattr(ens, field), dtype=float)).astype(np.int64)
            levels, counts = np.unique(values, return_counts=True)
            x, p = levels / N, counts / counts.sum()
            ax.vlines(x, 0.0, p, color=colour, lw=0.6, alpha=0.5)
            ax.plot(x, p, ls="none", marker=marker, ms=4, color=colour,
                    mfc=colour if i == 0 else "none", label=f"{label} (n = {values.size})")
        ax.set_ylim(bottom=0.0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("probability per level")
        ax.grid(alpha=0.3, lw=0.5)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or f"Distributions at T = {float(reference.T):g}, L = {L} "
                          f"({_CONVENTION}; occupied levels only)", fontsize=10)
    return fig


# --------------------------------------------------------------------------
# training and VMC


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
