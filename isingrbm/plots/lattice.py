"""Figures of the Ising model: spin configurations, observables against T, distributions.

Conventions: k_B = J = 1, periodic L x L lattice, N = L^2; every observable is
per spin as in :mod:`ising.observables` (see :mod:`isingrbm.plots`).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ising.exact import T_C
from ising.phases import PHASES

from .style import (AXIS_LABELS, CONVENTION, EXACT_FINITE_STYLE, INFINITE_STYLE, PHASE_COLOURS,
                    SPIN_CMAP, T_LABEL, add_spin_key, new_figure, source_style)

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
        Observables drawn on a logarithmic axis when their values span more
        than a factor of :data:`LOG_AXIS_MIN_RATIO` (a narrow range stays on
        a linear axis, which reads better).
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
                    ax.axvspan(a, b, color=PHASE_COLOURS[phase], zorder=0, lw=0,
                               label=f"{phase} phase")
        if curves is not None and exact and key in curves["finite"]:
            ax.plot(curves["T"], curves["finite"][key], **EXACT_FINITE_STYLE,
                    label=f"exact, L = {L}")
        if curves is not None and infinite and key in curves["infinite"]:
            ax.plot(curves["T"], curves["infinite"][key], **INFINITE_STYLE,
                    label=r"exact, $L = \infty$")
        for i, (source, (T, values)) in enumerate(series.items()):
            if key not in values:
                continue
            colour, marker = source_style(source, i)
            means, errors = values[key]
            shift = (i - (len(series) - 1) / 2) * 0.008 * span   # keep bars apart
            ax.errorbar(np.asarray(T, dtype=float) + shift, means,
                        yerr=np.nan_to_num(np.asarray(errors, dtype=float)), fmt=marker,
                        color=colour, ms=5, capsize=3, lw=1.0,
                        mfc=colour if i == 0 else "none", label=source, zorder=4)
        if infinite:
            ax.axvline(T_C, color="k", lw=0.8, ls=":",
                       label=r"$T_c = 2/\ln(1+\sqrt{2})$")
        if key in log_scale and _spans_decades(ax):
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
    fig.suptitle(title or f"Observables vs temperature, L = {L} ({CONVENTION}; "
                          "one standard error)", fontsize=10)
    return fig


#: A log axis is used only when the data span more than this factor.
LOG_AXIS_MIN_RATIO = 10.0


def _spans_decades(ax) -> bool:
    """Whether the positive data drawn in ``ax`` span more than LOG_AXIS_MIN_RATIO."""
    values = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]
    values = np.concatenate(values) if values else np.array([])
    values = values[np.isfinite(values) & (values > 0)]
    return values.size > 1 and values.max() > LOG_AXIS_MIN_RATIO * values.min()


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
        Panels of e = E/N and m = M/N: the probability of every *occupied*
        lattice level (E moves in steps of 4, M in steps of 2 on the
        periodic lattice) as a marker on a thin stem; levels no sample
        reached are left empty, never bridged by a line. When no sample has
        a magnetization near zero (the ordered phase: two peaks near
        m = -1 and m = +1), the m axis is broken into two panels zoomed on
        the two peaks, so that their shapes are visible.
    """
    L = int(reference.L)
    N = L * L
    series = {reference_label: reference, **{str(k): v for k, v in generated.items()}}
    levels = {field: {label: np.unique(np.rint(np.asarray(getattr(ens, field), dtype=float))
                                       .astype(np.int64), return_counts=True)
                      for label, ens in series.items()}
              for field in ("energy", "magnetization")}
    m_ranges = _magnetization_ranges(
        np.concatenate([lv for lv, _ in levels["magnetization"].values()]) / N, N)
    widths = [4.0] + [4.0 / len(m_ranges) * (0.9 if len(m_ranges) > 1 else 1.0)] * len(m_ranges)
    fig = new_figure(figsize=(9.5, 3.9))
    grid = fig.add_gridspec(1, len(widths), width_ratios=widths)
    ax_e = fig.add_subplot(grid[0, 0])
    m_axes = [fig.add_subplot(grid[0, 1])]
    m_axes += [fig.add_subplot(grid[0, k], sharey=m_axes[0]) for k in range(2, len(widths))]
    panels = [(ax_e, "energy", None)] + [(ax, "magnetization", r) for ax, r in
                                         zip(m_axes, m_ranges)]
    for ax, field, x_range in panels:
        for i, (label, (lv, counts)) in enumerate(levels[field].items()):
            colour, marker = source_style(label, i)
            x, p = lv / N, counts / counts.sum()
            if x_range is not None and len(m_ranges) > 1:
                keep = (x >= x_range[0]) & (x <= x_range[1])
                x, p = x[keep], p[keep]
            ax.vlines(x, 0.0, p, color=colour, lw=0.6, alpha=0.5)
            ax.plot(x, p, ls="none", marker=marker, ms=4, color=colour,
                    mfc=colour if i == 0 else "none",
                    label=f"{label} (n = {int(counts.sum())})")
        if x_range is not None and len(m_ranges) > 1:
            ax.set_xlim(*x_range)
        ax.set_ylim(bottom=0.0)
        ax.grid(alpha=0.3, lw=0.5)
    ax_e.set_xlabel(r"energy per spin $e = E/N$")
    ax_e.set_ylabel("probability per level")
    m_axes[0].set_ylabel("probability per level")
    if len(m_axes) == 1:
        m_axes[0].set_xlabel(r"magnetization per spin $m = M/N$")
    else:
        left, right = m_axes
        left.set_xlabel(r"$m = M/N$ near $-1$")
        right.set_xlabel(r"$m = M/N$ near $+1$")
        right.tick_params(labelleft=False)
        left.spines["right"].set_visible(False)
        right.spines["left"].set_visible(False)
        mark = dict(marker=[(-1, -1.5), (1, 1.5)], markersize=9, linestyle="none",
                    color="k", mec="k", mew=1, clip_on=False)
        left.plot([1, 1], [0, 1], transform=left.transAxes, **mark)
        right.plot([0, 0], [0, 1], transform=right.transAxes, **mark)
        gap = min(-(m_ranges[0][1] - _pad(N)), m_ranges[1][0] + _pad(N))
        left.set_title(f"axis broken: no sample has |m| < {gap:.2f}", fontsize=8, loc="left")
    ax_e.legend(fontsize=8)
    fig.suptitle(title or f"Distributions at T = {float(reference.T):g}, L = {L} "
                          f"({CONVENTION}; occupied levels only)", fontsize=10)
    return fig


def _pad(N: int) -> float:
    """Margin around occupied m levels: two level spacings (2/N each)."""
    return 4.0 / N


def _magnetization_ranges(m: np.ndarray, N: int) -> list:
    """One x range for the m panel, or two around m < 0 and m > 0 when both are far from 0.

    Split when the occupied levels leave a gap around m = 0 wider than half
    the whole range [-1, 1]: the two peaks of the ordered phase would
    otherwise be squeezed against the edges.
    """
    m = np.unique(m)
    neg, pos = m[m < 0], m[m > 0]
    if m.size == 0 or np.any(m == 0) or neg.size == 0 or pos.size == 0 \
            or pos.min() - neg.max() <= 1.0:
        return [None]
    pad = _pad(N)
    return [(max(-1.0, neg.min()) - pad, neg.max() + pad),
            (pos.min() - pad, min(1.0, pos.max()) + pad)]
