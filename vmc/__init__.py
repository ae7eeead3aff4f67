"""Variational Monte Carlo for particles in a harmonic trap (hbar = m = 1).

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

__all__ = ["run", "VMC", "VMCResult", "Hamiltonian", "exact_energy", "Wavefunction",
           "cusp_constant", "MetropolisSampler", "ImportanceSampler", "GibbsSampler",
           "SampleBatch", "make_sampler", "SGD", "Adam", "SR", "make_optimizer"]
