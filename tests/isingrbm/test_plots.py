"""isingrbm.plots, the one plotting module: what each figure draws.

Figures are checked through their artists (the data of lines, images,
legends), not their pixels.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np
import pytest

from isingrbm import plots


def test_one_plotting_module_with_the_constants_of_ising():
    import ising

    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("isingrbm.figures")
    assert plots.T_C is ising.T_C and plots.PHASES is ising.PHASES
    for name in ("T_C", "T_CRITICAL", "PHASES"):
        for module in ("isingrbm.demo", "isingrbm.report"):
            value = getattr(importlib.import_module(module), name, None)
            assert value is None or value is getattr(ising, name, None), (module, name)


def test_spin_colours_black_is_up():
    assert plots.SPIN_CMAP(1.0)[:3] == (0.0, 0.0, 0.0)      # +1 (top of vmin=-1..vmax=1)
    assert plots.SPIN_CMAP(0.0)[:3] == (1.0, 1.0, 1.0)      # -1


def test_sample_grid_uses_the_spin_colormap_and_has_a_key():
    spins = np.ones((2, 4, 4), np.int8)
    spins[1] *= -1
    fig = plots.sample_grid({"a": spins}, n_show=2)
    image = fig.axes[0].images[0]
    assert image.get_cmap() is plots.SPIN_CMAP
    assert image.get_clim() == (-1, 1)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["spin +1 (up)", "spin -1 (down)"]
    black, white = (h.get_facecolor()[:3] for legend in fig.legends
                    for h in legend.legend_handles)
    assert black == (0.0, 0.0, 0.0) and white == (1.0, 1.0, 1.0)


def _ensemble(L, energy, magnetization, T=2.0):
    return SimpleNamespace(L=L, T=T, energy=np.asarray(energy, float),
                           magnetization=np.asarray(magnetization, float))


def test_distributions_mark_occupied_levels_only():
    """Levels with no sample get no line across them: the probabilities are
    markers at the occupied levels (E and M of an L = 4 torus), nothing between."""
    L, N = 4, 16
    # energies -32, -32, -24, 8 (total): the levels -28..4 in between are empty
    ref = _ensemble(L, [-32, -32, -24, 8], [16, 16, 12, -4])
    gen = _ensemble(L, [-32, 0], [16, 0])
    fig = plots.distributions(ref, {"RBM": gen})
    ax_e, ax_m = fig.axes[:2]
    lines = {line.get_label().split(" (")[0]: line for line in ax_e.get_lines()}
    x, y = lines["Monte Carlo"].get_data()
    np.testing.assert_allclose(x, np.array([-32, -24, 8]) / N)
    np.testing.assert_allclose(y, [0.5, 0.25, 0.25])
    for line in ax_e.get_lines() + ax_m.get_lines():
        assert line.get_linestyle() in ("None", "none", ""), line.get_label()
        assert line.get_marker() not in (None, "None", "")
    x, y = {line.get_label().split(" (")[0]: line for line in ax_m.get_lines()}["RBM"].get_data()
    np.testing.assert_allclose(x, [0.0, 1.0])
    np.testing.assert_allclose(y, [0.5, 0.5])


def test_observables_vs_T_from_series_with_phases():
    T = np.array([1.5, 2.269, 3.5])
    series = {"Monte Carlo": (T, {"energy": (np.array([-1.9, -1.4, -0.6]), np.full(3, 0.01))}),
              "RBM": (T[:1], {"energy": (np.array([-1.88]), np.array([0.02]))})}
    fig = plots.observables_vs_T(series=series, L=8, observables=("energy",),
                                 phase_window=0.2)
    ax = fig.axes[0]
    x, y = ax.containers[0].lines[0].get_data()
    np.testing.assert_allclose(y, [-1.9, -1.4, -0.6])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    for label in ("ordered phase", "critical phase", "disordered phase", "exact, L = 8",
                  "Monte Carlo", "RBM"):
        assert label in labels
    assert ax.get_ylabel() == plots.AXIS_LABELS["energy"] and ax.get_xlabel() == plots.T_LABEL


def test_exact_curves_are_ising_exact():
    from ising import exact

    curves = plots.exact_curves(6, 1.0, 3.5)
    grid = curves["T"]
    assert np.all(np.abs(grid - exact.T_C) > 1e-6)
    np.testing.assert_allclose(curves["finite"]["energy"],
                               exact.finite_lattice(6, grid)["energy"], rtol=1e-12)
    np.testing.assert_allclose(curves["infinite"]["binder_cumulant"],
                               np.where(grid < exact.T_C, 2 / 3, 0.0))


def test_training_curves_and_vmc_energy(tmp_path):
    fig = plots.training_curves({"ordered, T = 1.5": {"epoch": [1, 2, 3],
                                                      "loss": [3.0, 2.0, 1.0]}})
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_allclose(line.get_data()[1], [3.0, 2.0, 1.0])
    fig = plots.vmc_energy({"RBM": {"iterations": np.arange(1, 4),
                                    "energy": np.array([3.3, 3.1, 3.05]),
                                    "variance": np.array([0.3, 0.1, 0.05]),
                                    "final": (3.04, 0.01)}}, exact=3.0)
    assert any(line.get_label().startswith("exact E = 3") for line in fig.axes[0].get_lines())
    assert plots.save(fig, tmp_path / "v.png").read_bytes()[:4] == b"\x89PNG"


def test_vmc_energy_of_a_run_with_no_iterations_draws_the_final_point():
    """A run resumed after its last iteration has only the final estimate."""
    fig = plots.vmc_energy({"RBM": {"iterations": [], "energy": [], "variance": None,
                                    "final": (3.04, 0.01)}}, exact=3.0)
    assert any("final" in str(c.get_label()) for c in fig.axes[0].containers)


def test_ordered_phase_magnetization_axis_is_broken_around_the_two_peaks():
    """At low T every sample has |m| near 1: the m axis is split into two panels
    zoomed on m near -1 and near +1 (the peaks are not squeezed against the edges);
    with samples near m = 0 there is one m panel over the whole range."""
    L, N = 8, 64
    M = np.array([-64, -62, -62, -60, 64, 62, 62, 60, 64])
    ordered = _ensemble(L, np.full(M.size, -128), M, T=1.5)
    fig = plots.distributions(ordered, {})
    ax_e, left, right = fig.axes
    lo, hi = left.get_xlim()
    assert -1.1 < lo < -1.0 and -0.9 < hi < -0.85       # only the occupied cluster, padded
    lo, hi = right.get_xlim()
    assert 0.85 < lo < 0.9 and 1.0 < hi < 1.1
    (x_left, _), (x_right, _) = (ax.get_lines()[0].get_data() for ax in (left, right))
    np.testing.assert_allclose(x_left, np.array([-64, -62, -60]) / N)
    np.testing.assert_allclose(x_right, np.array([60, 62, 64]) / N)
    disordered = _ensemble(L, np.full(5, -40), [-20, -2, 0, 4, 30], T=3.5)
    assert len(plots.distributions(disordered, {}).axes) == 2


@pytest.mark.parametrize("values, log", [((4.0, 4.7, 4.3), False), ((0.5, 40.0, 3.0), True)])
def test_susceptibility_axis_is_logarithmic_only_over_a_wide_range(values, log):
    """chi over 4.0 - 4.7 reads better on a linear axis (no '4.7x10^0' labels)."""
    T = np.array([2.0, 2.269, 2.6])
    series = {"Monte Carlo": (T, {"susceptibility_connected": (np.array(values),
                                                               np.full(3, 0.1))})}
    fig = plots.observables_vs_T(series=series, L=8, observables=("susceptibility_connected",),
                                 exact=False, infinite=False)
    assert fig.axes[0].get_yscale() == ("log" if log else "linear")


def test_gan_figures_share_the_one_style():
    """The GAN's figures come from the plotting package (no second spin colormap, no
    backend switch, no second plotting module)."""
    import importlib.util
    import inspect

    from isingrbm.plots import gan, style

    assert importlib.util.find_spec("isingrbm.gan_plots") is None
    source = inspect.getsource(gan)
    assert "matplotlib.use" not in source and "gray_r" not in source
    fig = style.new_figure()
    style.show_spins(fig.subplots(), np.ones((4, 4)))
    assert fig.axes[0].images[0].get_cmap() is plots.SPIN_CMAP
