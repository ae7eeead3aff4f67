"""VMC of the transverse-field Ising model ``H = -sum_<ij> sz_i sz_j - h sum_i sx_i``
(J = 1, periodic chains and square lattices, Pauli matrices, energies total).

Trial states: the RBM of Carleo & Troyer and its translation-symmetric
version; single-spin-flip Metropolis chains (numba kernels, one stream per
chain); exact references from free fermions (even chains) and Lanczos
(up to 20 sites); RBM tomography of the exact ground state. The loop,
optimizers and result are the package's (:mod:`vmc.driver`,
:mod:`vmc.optimizers`, :mod:`vmc.result`).

=========================  ==========================================================
module                     job
=========================  ==========================================================
:mod:`.lattice`            chain and square lattices: bonds, translations, distances
:mod:`.tfim`               the Hamiltonian: local energies, sparse matrix
:mod:`.wavefunction`       plain and translation-symmetric spin RBMs
:mod:`.kernels`            numba kernels (sweeps, local energies, log-derivatives)
:mod:`.samplers`           Metropolis chains on ``|psi|^2``
:mod:`.exact`              free fermions and Lanczos: energies and observables
:mod:`.exact_symmetric`    the symmetric RBM's exact energy and optimum on chains
:mod:`.runner`             :func:`run_tfim` and the observables of a run
:mod:`.tomography`         an RBM fitted to exact ground-state samples, refined
=========================  ==========================================================
"""

from .exact import (MAX_ED_SITES, binder_ratio, exact_energy, exact_ground_state,
                    exact_reference, free_fermion_energy, free_fermion_observables)
from .lattice import LATTICES, Lattice
from .runner import binder_estimate, observables, run_tfim
from .samplers import SpinMetropolisSampler, split_rhat
from .tfim import TFIM
from .tomography import tomography_trial_state
from .wavefunction import SpinRBM, SymmetricSpinRBM, make_spin_wavefunction

__all__ = ["run_tfim", "TFIM", "Lattice", "LATTICES", "SpinRBM", "SymmetricSpinRBM",
           "make_spin_wavefunction", "SpinMetropolisSampler", "split_rhat", "exact_energy",
           "exact_ground_state", "free_fermion_energy", "free_fermion_observables",
           "exact_reference", "binder_ratio", "binder_estimate", "MAX_ED_SITES", "observables",
           "tomography_trial_state"]
