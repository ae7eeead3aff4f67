"""VMC of N particles in a harmonic trap (hbar = m = 1) with an RBM trial state.

The trial wavefunction is the marginal of a Gaussian-binary RBM
(:class:`rbm.GaussianBernoulliRBM`) over its hidden units, or its square
root, optionally times a Pade-Jastrow factor with the Coulomb cusp.
Samplers: brute-force Metropolis, importance sampling (Langevin proposal)
and Gibbs sampling through the RBM conditionals (numba kernels, one stream
per walker). The loop, optimizers and result are the package's
(:mod:`vmc.driver`, :mod:`vmc.optimizers`, :mod:`vmc.result`).

=========================  ==========================================================
module                     job
=========================  ==========================================================
:mod:`.hamiltonian`        the Hamiltonian, local energies, exact energies
:mod:`.wavefunction`       RBM (+ Jastrow) wavefunction and its derivatives
:mod:`.kernels`            numba sampling kernels
:mod:`.samplers`           Metropolis, importance and Gibbs samplers
:mod:`.runner`             :func:`run`: everything built from settings
=========================  ==========================================================
"""

from .hamiltonian import INTERACTIONS, Hamiltonian, exact_energy
from .runner import JASTROWS, OMEGA_RANGE, memory_estimate, run, sgd_stable_rate
from .samplers import (SAMPLERS, GibbsSampler, ImportanceSampler, MetropolisSampler,
                       make_sampler)
from .wavefunction import FORMS, Wavefunction, cusp_constant

__all__ = ["run", "Hamiltonian", "exact_energy", "Wavefunction", "cusp_constant",
           "MetropolisSampler", "ImportanceSampler", "GibbsSampler", "make_sampler",
           "INTERACTIONS", "JASTROWS", "SAMPLERS", "FORMS", "OMEGA_RANGE",
           "sgd_stable_rate", "memory_estimate"]
