"""2D Ising model: Monte Carlo, exact results, observables, datasets.

Quick use (k_B = J = 1, periodic L x L lattice, per-spin observables)::

    import ising
    ensembles = ising.simulate(16, [1.5, ising.T_C, 3.0], 2000, rng=1, path="L16.h5")
    for ens in ensembles:
        print(ens.T, ens.phase, ens.observables()["energy"],
              ising.finite_lattice(16, ens.T)["energy"])
    data = ising.load("L16.h5")          # later, without knowing HDF5
    spins = data.ensemble(3.0).spins     # (n, 16, 16) int8 in {-1, +1}

Modules: :mod:`ising.exact` (Onsager, Kaufman finite torus, enumeration),
:mod:`ising.observables` (estimates with blocking/jackknife errors),
:mod:`ising.phases` (phase labels), :mod:`ising.store` (the HDF5 writer; the schema in
:mod:`ising.store_codec`, reading in :mod:`ising.store_reader`),
:mod:`ising.montecarlo` (the driver; one temperature's run in
:mod:`ising.temperature_run`, the output file in :mod:`ising.run_output`), :mod:`ising.chains` and
:mod:`ising.kernels` (numba Metropolis and Wolff), :mod:`ising.lattice`
(the spins <-> RBM visible units conversion), :mod:`ising.mehta` (the
Mehta et al. (2019) packed-bit pickles in and out, restricted unpickler).
"""

from .exact import (BETA_C, T_C, boltzmann_distribution, enumerate_states, exact_enumeration,
                    finite_lattice, onsager_energy, onsager_free_energy, onsager_specific_heat,
                    spontaneous_magnetization)
from .lattice import spins_to_visible, visible_to_spins
from .mehta import export_mehta, import_mehta, read_mehta
from .montecarlo import ALGORITHMS, resolve_algorithm, simulate
from .observables import OBSERVABLES, measure
from .phases import PHASE_WINDOW, PHASES, phase_label
from .store import (Ensemble, IsingDataset, energy_magnetization, load, open_dataset, validate,
                    write_generated)

__all__ = [
    "T_C", "BETA_C", "simulate", "load", "write_generated", "open_dataset", "validate",
    "Ensemble", "IsingDataset", "measure", "OBSERVABLES", "phase_label", "PHASES",
    "PHASE_WINDOW", "ALGORITHMS", "resolve_algorithm", "onsager_energy",
    "onsager_specific_heat", "onsager_free_energy", "spontaneous_magnetization",
    "finite_lattice", "enumerate_states", "exact_enumeration", "boltzmann_distribution",
    "energy_magnetization", "spins_to_visible", "visible_to_spins",
    "import_mehta", "export_mehta", "read_mehta",
]
