"""Variational Monte Carlo with RBM trial states: particles in a harmonic trap
(hbar = m = 1) and the transverse-field Ising model on chains and square
lattices (J = 1; :func:`run_tfim`, exact references in :mod:`vmc.tfim_exact`).

The trial wavefunction is the marginal of a Gaussian-binary RBM
(:class:`rbm.GaussianBernoulliRBM`) over its hidden units, or its square
root, optionally times a Pade-Jastrow factor with the Coulomb cusp. Samplers:
brute-force Metropolis, importance sampling (Langevin proposal) and Gibbs
sampling through the RBM conditionals (numba kernels, one stream per walker);
optimizers SGD, Adam (from :mod:`rbm.optim`) and stochastic reconfiguration.

Quickstart::

    import vmc
    result = vmc.run(2, 2, interaction="coulomb", jastrow="pade", rng=1)
    print(result.energy, result.exact)      # ~3.0000x ± ..., 3.0
"""

from .driver import VMC, run
from .hamiltonian import Hamiltonian, exact_energy
from .optimizers import SGD, SR, Adam, make_optimizer
from .result import VMCResult
from .samplers import (GibbsSampler, ImportanceSampler, MetropolisSampler, SampleBatch,
                       make_sampler)
from .wavefunction import Wavefunction, cusp_constant
from .lattice import Lattice
from .spin_samplers import SpinMetropolisSampler, split_rhat
from .spin_wavefunction import SpinRBM, SymmetricSpinRBM, make_spin_wavefunction
from .tfim import TFIM
from .tfim_exact import exact_ground_state, free_fermion_energy
from .tfim_run import run_tfim
from .tomography import tomography_trial_state

__all__ = ["run", "VMC", "VMCResult", "Hamiltonian", "exact_energy", "Wavefunction",
           "cusp_constant", "MetropolisSampler", "ImportanceSampler", "GibbsSampler",
           "SampleBatch", "make_sampler", "SGD", "Adam", "SR", "make_optimizer",
           "Lattice", "TFIM", "SpinRBM", "SymmetricSpinRBM", "make_spin_wavefunction",
           "SpinMetropolisSampler", "split_rhat", "free_fermion_energy", "exact_ground_state",
           "run_tfim", "tomography_trial_state"]
