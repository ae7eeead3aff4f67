"""The figures of the workbench, in one package and one style (matplotlib, no pyplot state).

Every function takes plain arrays, dictionaries or ensembles and returns a
:class:`matplotlib.figure.Figure` built without :mod:`matplotlib.pyplot`, so
it works headless (Agg canvas), never switches the backend and leaves no
global state behind; :func:`save` writes one as PNG. ``isingrbm evaluate
--plots``, the report and the demo use these. Modules: :mod:`.style`
(colours, markers, labels, the Agg figure, saving: shared by all),
:mod:`.lattice` (spin configurations, observables against T,
distributions), :mod:`.training` (training curves, VMC optimization) and
:mod:`.gan` (the GAN baseline's figures; ``from isingrbm.plots import gan``).

Conventions: k_B = J = 1, periodic L x L lattice, N = L^2; every observable is
per spin as in :mod:`ising.observables` (``e = E/N`` with
``E = -sum_<ij> s_i s_j`` over the 2N bonds, ``|m| = <|M|>/N``,
``c = beta^2 N (<e^2> - <e>^2)``, ``chi = beta N (<m^2> - <|m|>^2)``,
``chi' = beta N <m^2>``, ``U4 = 1 - <m^4> / (3 <m^2>^2)``); error bars are one
standard error. Spin configurations: black = +1, white = -1, everywhere.
VMC energies in units of hbar * omega (hbar = m = 1).
"""

from ising.exact import T_C
from ising.phases import PHASES

from .lattice import (DEFAULT_OBSERVABLES, LOG_AXIS_MIN_RATIO, distributions, exact_curves,
                      observables_vs_T, sample_grid, series_from_tables)
from .style import (AXIS_LABELS, SOURCE_STYLES, SPIN_CMAP, SPIN_COLOURS, T_LABEL,
                    add_spin_key, new_figure, save)
from .training import training_curves, vmc_energy

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
