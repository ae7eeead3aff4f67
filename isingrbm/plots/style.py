"""The shared style of every figure: colours, markers, labels, the Agg figure, saving.

Spin configurations: black = +1, white = -1 (:data:`SPIN_CMAP`), everywhere,
with the key of :func:`add_spin_key`. Figures are built without
:mod:`matplotlib.pyplot` on their own Agg canvas (:func:`new_figure`), so
nothing here switches the backend or leaves global state behind.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ising.phases import PHASES

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
#: The convention every observable axis states.
CONVENTION = "per spin, $k_B = J = 1$"

#: Colours of the two spin values: black = +1 (up), white = -1 (down).
SPIN_COLOURS = {+1: "black", -1: "white"}
#: The colormap of every spin configuration drawn with ``imshow(spins,
#: cmap=SPIN_CMAP, vmin=-1, vmax=1)``: -1 white, +1 black.
SPIN_CMAP = ListedColormap([SPIN_COLOURS[-1], SPIN_COLOURS[+1]], name="isingrbm_spins")

#: Colour and marker of each kind of sample; other labels cycle through the rest.
SOURCE_STYLES = {"Monte Carlo": ("black", "o"), "RBM": ("tab:red", "D"),
                 "RBM+MH": ("tab:purple", "s"), "GAN": ("tab:green", "^")}
MORE_STYLES = [("tab:orange", "v"), ("tab:brown", "P"), ("tab:pink", "X"),
               ("tab:olive", "<"), ("tab:cyan", ">")]
EXACT_FINITE_STYLE = dict(color="tab:blue", lw=1.5, ls="-")
INFINITE_STYLE = dict(color="tab:gray", lw=1.2, ls="--")
PHASE_COLOURS = dict(zip(PHASES, ("#e8f0fa", "#fdf0e0", "#faeaea")))


def source_style(label: str, index: int) -> tuple[str, str]:
    """The (colour, marker) of a source label: fixed for MC/RBM/GAN, else cycled."""
    for key, style in SOURCE_STYLES.items():
        if str(label) == key or str(label).startswith(key + ":") \
                or str(label).startswith(key + "#"):
            return style
    return MORE_STYLES[index % len(MORE_STYLES)]


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


def show_spins(ax, spins, title: str | None = None, *, fontsize: int = 8) -> None:
    """One spin configuration in ``ax`` (black = +1, white = -1), without ticks."""
    ax.imshow(spins, cmap=SPIN_CMAP, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)
