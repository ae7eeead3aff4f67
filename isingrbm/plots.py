"""Figures of the ``evaluate`` command (matplotlib, headless).

Every function returns a :class:`matplotlib.figure.Figure` built without
:mod:`matplotlib.pyplot` (so it needs no display, uses the Agg canvas and
leaves no global state behind); :func:`save` writes one as PNG.

Conventions: k_B = J = 1, periodic L x L lattice, N = L^2; every observable is
per spin as in :mod:`ising.observables` (``e = E/N`` with
``E = -sum_<ij> s_i s_j`` over the 2N bonds, ``|m| = <|M|>/N``,
``c = beta^2 N (<e^2> - <e>^2)``, ``chi = beta N (<m^2> - <|m|>^2)``,
``chi' = beta N <m^2>``, ``U4 = 1 - <m^4> / (3 <m^2>^2)``); error bars are one
standard error.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["AXIS_LABELS", "sample_grid", "observables_vs_T", "distributions", "save"]

#: Axis labels of the per-spin observables, keyed as in ``ising.observables.measure``.
AXIS_LABELS = {
    "energy": r"energy per spin $e = \langle E\rangle/N$",
    "abs_magnetization": r"$\langle|m|\rangle$ per spin",
    "magnetization_squared": r"$\langle m^2\rangle$ per spin",
    "specific_heat": r"specific heat per spin $c$",
    "susceptibility_connected": r"$\chi = \beta N(\langle m^2\rangle - \langle|m|\rangle^2)$",
    "susceptibility": r"$\chi' = \beta N\langle m^2\rangle$",
    "binder_cumulant": r"Binder cumulant $U_4$",
}
_CONVENTION = "per spin, $k_B = J = 1$"
_T_LABEL = r"temperature $T$ ($k_B = J = 1$)"
_STYLES = [("black", "o"), ("tab:red", "D"), ("tab:green", "^"), ("tab:purple", "s"),
           ("tab:orange", "v"), ("tab:brown", "P")]


def _new_figure(**kwargs) -> Figure:
    fig = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG to ``path`` (the folder must exist); returns the path."""
    path = Path(path)
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def sample_grid(samples: dict, *, n_show: int = 6, title: str | None = None) -> Figure:
    """Spin configurations side by side, one row per source.

    Parameters
    ----------
    samples : dict[str, array_like]
        Source label (e.g. ``"Monte Carlo"``, ``"RBM"``) -> spins
        ``(n, L, L)`` in {-1, +1}. The first ``n_show`` configurations of
        each are shown (pass a random selection to avoid showing
        consecutive, correlated Monte Carlo samples).
    n_show : int
        Configurations per row (>= 1).
    title : str, optional
        Figure title; by default "Spin configurations, L = ...".

    Returns
    -------
    Figure
        Black = spin up (+1), white = spin down (-1); each panel is titled
        with its magnetization per spin m = M/N.
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
    fig = _new_figure(figsize=(1.3 * n_show + 1.4, 1.45 * n_rows + 0.7))
    axes = fig.subplots(n_rows, n_show, squeeze=False)
    for r, (label, spins) in enumerate(arrays.items()):
        for k in range(n_show):
            ax = axes[r, k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k < spins.shape[0]:
                ax.imshow(spins[k], cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
                ax.set_title(f"m = {spins[k].mean():+.2f}", fontsize=8)
            else:
                ax.axis("off")
            if k == 0:
                ax.set_ylabel(label, fontsize=9)
    fig.suptitle(title or f"Spin configurations, L = {L} (black = +1, white = -1)",
                 fontsize=10)
    return fig


def _exact_curves(L: int, t_min: float, t_max: float, keys, n_points: int = 121) -> dict:
    """Exact finite-L (and infinite-lattice) curves on a T grid."""
    from ising import exact as ising_exact

    grid = np.linspace(t_min, t_max, n_points)
    finite, infinite = {}, {}
    fl = ising_exact.finite_lattice(L, grid)
    finite["energy"] = fl["energy"]
    finite["specific_heat"] = fl["specific_heat"]
    wanted = [k for k in keys if k not in finite]
    if L <= ising_exact.MAX_ENUMERATION_L and wanted:
        # enumeration costs ~50 ms a temperature: a coarser grid (smooth curves)
        coarse = np.linspace(t_min, t_max, 31)
        rows = [ising_exact.exact_enumeration(L, t) for t in coarse]
        for key in wanted:
            if key in rows[0]:
                finite[key] = np.interp(grid, coarse, [row[key] for row in rows])
    infinite["energy"] = ising_exact.onsager_energy(grid)
    with np.errstate(all="ignore"):
        c_inf = np.asarray(ising_exact.onsager_specific_heat(grid), dtype=float)
    infinite["specific_heat"] = np.where(np.isfinite(c_inf), c_inf, np.nan)
    infinite["abs_magnetization"] = ising_exact.spontaneous_magnetization(grid)
    return {"T": grid, "finite": finite, "infinite": infinite}


def _get(est, field: str) -> float:
    if est is None:
        return float("nan")
    value = est.get(field) if isinstance(est, dict) else getattr(est, field, None)
    return float("nan") if value is None else float(value)


def observables_vs_T(tables, *, observables=("energy", "abs_magnetization", "specific_heat",
                                              "susceptibility_connected"),
                     exact: bool = True, infinite: bool = True,
                     title: str | None = None) -> Figure:
    """Observables against temperature: every source with error bars, exact curves.

    Parameters
    ----------
    tables : sequence of dict
        Tables of :func:`isingrbm.evaluate.compare` (or their JSON form), one
        per temperature, all of the same L.
    observables : sequence of str
        Keys of :data:`isingrbm.evaluate.OBSERVABLES`, one panel each.
    exact : bool
        Draw the exact finite-L curves: e and c for every L (Kaufman /
        Ferdinand-Fisher), every observable for L <= 4 (enumeration).
    infinite : bool
        Draw Onsager's infinite-lattice e and c and Yang's spontaneous
        magnetization (dashed), and mark T_c.
    title : str, optional

    Returns
    -------
    Figure
    """
    from mccore.errors import InvalidParameterError

    tables = sorted(list(tables), key=lambda t: t["T"])
    if not tables:
        raise InvalidParameterError("tables must hold at least one temperature, got none")
    sizes = {int(t["L"]) for t in tables}
    if len(sizes) != 1:
        raise InvalidParameterError(f"tables must share one L, got L = {sorted(sizes)}")
    L = sizes.pop()
    sources = []
    for t in tables:
        for s in t["sources"]:
            if s not in sources:
                sources.append(s)
    temps = np.array([float(t["T"]) for t in tables])
    span = max(temps.max() - temps.min(), 0.5)
    pad = max(0.1 * (temps.max() - temps.min()), 0.25)
    t_min, t_max = max(0.05, temps.min() - pad), temps.max() + pad
    curves = _exact_curves(L, t_min, t_max, observables) if (exact or infinite) else None

    n = len(observables)
    n_cols = min(n, 2) if n <= 4 else 3
    n_rows = math.ceil(n / n_cols)
    fig = _new_figure(figsize=(4.6 * n_cols, 3.4 * n_rows))
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    from ising.exact import T_C
    for ax, key in zip(axes, observables):
        if curves is not None and exact and key in curves["finite"]:
            ax.plot(curves["T"], curves["finite"][key], color="tab:blue", lw=1.5,
                    label=f"exact, L = {L}")
        if curves is not None and infinite and key in curves["infinite"]:
            ax.plot(curves["T"], curves["infinite"][key], color="gray", lw=1.2, ls="--",
                    label=r"exact, $L = \infty$")
        for i, source in enumerate(sources):
            colour, marker = _STYLES[i % len(_STYLES)]
            means = np.array([_get(t["observables"].get(source, {}).get(key), "mean")
                              for t in tables])
            errors = np.array([_get(t["observables"].get(source, {}).get(key), "error")
                               for t in tables])
            shift = (i - (len(sources) - 1) / 2) * 0.008 * span   # keep bars apart
            ax.errorbar(temps + shift, means, yerr=np.nan_to_num(errors), fmt=marker,
                        color=colour, ms=5, capsize=3, lw=1.0,
                        mfc=colour if i == 0 else "none", label=source)
        if infinite:
            ax.axvline(T_C, color="gray", lw=0.7, ls=":")
        ax.set_xlabel(_T_LABEL)
        ax.set_ylabel(AXIS_LABELS.get(key, key))
        ax.grid(alpha=0.3, lw=0.5)
    for ax in axes[n:]:
        ax.axis("off")
    axes[0].legend(fontsize=8)
    fig.suptitle(title or f"Observables vs temperature, L = {L} ({_CONVENTION}; "
                          "one standard error)", fontsize=10)
    return fig


def distributions(reference, generated: dict, *, reference_label: str = "Monte Carlo",
                  title: str | None = None) -> Figure:
    """Histograms of the energy and magnetization per spin, reference vs generated.

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
        Two panels, e = E/N and m = M/N, probability per exact lattice level
        (E moves in steps of 4, M in steps of 2 on the periodic lattice).
    """
    L = int(reference.L)
    N = L * L
    fig = _new_figure(figsize=(9.5, 3.6))
    axes = fig.subplots(1, 2)
    series = {reference_label: reference, **{str(k): v for k, v in generated.items()}}
    for ax, field, xlabel in ((axes[0], "energy", r"energy per spin $e = E/N$"),
                              (axes[1], "magnetization", r"magnetization per spin $m = M/N$")):
        for i, (label, ens) in enumerate(series.items()):
            colour, _ = _STYLES[i % len(_STYLES)]
            values = np.rint(np.asarray(getattr(ens, field), dtype=float)).astype(np.int64)
            levels, counts = np.unique(values, return_counts=True)
            ax.step(levels / N, counts / counts.sum(), where="mid", color=colour, lw=1.3,
                    label=f"{label} (n = {values.size})")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("probability per level")
        ax.grid(alpha=0.3, lw=0.5)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or f"Distributions at T = {float(reference.T):g}, L = {L} "
                          f"({_CONVENTION})", fontsize=10)
    return fig
