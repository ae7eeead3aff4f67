"""The end-to-end demo: Monte Carlo -> RBMs, exact RBM Monte Carlo (and a GAN) ->
evaluation -> VMC in a trap and for the quantum Ising chain -> report.

:func:`run_demo` runs the whole workbench on this machine in a few CPU
minutes and leaves a report; ``isingrbm demo`` is its command line. One
module per stage, each over :mod:`isingrbm.pipeline` and the libraries:

========================  ==============================================================
``stage_monte_carlo``     Monte Carlo data at L = 16, 12 temperatures, exact values beside
``stage_rbm``             an RBM per phase, fitted and sampled (Gibbs, approximate)
``stage_exact``           exact RBM Monte Carlo: Metropolis-Hastings, the RBM as proposal
``stage_gan``             the GAN baseline per phase (if PyTorch is installed)
``stage_evaluate``        Monte Carlo vs RBM vs RBM+MH (vs GAN) vs exact, per phase
``stage_vmc``             VMC, two electrons in a 2D trap, against the exact energy 3
``stage_tfim``            VMC, the transverse-field Ising chain, against free fermions
``stage_report``          the report (:mod:`isingrbm.report`)
========================  ==============================================================

:mod:`.runner` runs the stages, records them in ``DIR/demo.json`` (wall,
CPU and numba-compile seconds per stage; outputs with size and SHA-256) and
reuses complete ones; :mod:`.config` holds the sizes. The folder's layout
and manifest are those of :mod:`isingrbm.manifest` (whose names are
re-exported here).

Conventions: k_B = J = 1, per spin, periodic L x L lattice; VMC in a trap
in units hbar = m = 1, energies in hbar * omega; the quantum Ising chain
with J = 1 and total energies.
"""

from __future__ import annotations

from .. import manifest as _manifest
from ..manifest import *  # noqa: F403 - re-exported as they are: __all__ takes manifest's
from .config import DemoConfig, demo_config
from .runner import DiskFullError, prepare_output, run_demo

__all__ = [
    "DemoConfig",
    "DiskFullError",
    "demo_config",
    "prepare_output",
    "run_demo",
]
__all__ += _manifest.__all__
