"""Variational Monte Carlo with RBM trial states: one engine, two physics.

* :mod:`vmc.trap`: N particles in a harmonic trap (hbar = m = 1), a
  Gaussian-binary RBM wavefunction with an optional Pade-Jastrow factor;
  :func:`vmc.trap.run`.
* :mod:`vmc.spins`: the transverse-field Ising model on chains and square
  lattices (J = 1), plain and translation-symmetric spin RBMs, exact
  references (free fermions, Lanczos); :func:`vmc.spins.run_tfim`.

Shared by both: the driver loop (:class:`VMC`), the optimizers SGD, Adam
(from :mod:`rbm.optim`) and stochastic reconfiguration
(:mod:`vmc.optimizers`), the result and its file (:class:`VMCResult`), the
walker state (:mod:`vmc.walkers`), random streams (:mod:`vmc.streams`),
health checks and MPI. :func:`run` and :func:`run_tfim` are kept here as
conveniences.

Quickstart::

    import vmc
    result = vmc.run(2, 2, interaction="coulomb", jastrow="pade", rng=1)
    print(result.energy, result.exact)      # ~3.0000x ± ..., 3.0

Nothing heavy is imported with the package (numba, scipy, scikit-learn
come with the first name that needs them).
"""

from __future__ import annotations

import importlib
import warnings

#: public names -> the module that defines them (imported on first use)
_PUBLIC = {
    "run": "vmc.trap.runner", "run_tfim": "vmc.spins.runner", "VMC": "vmc.driver",
    "VMCResult": "vmc.result", "SGD": "vmc.optimizers", "Adam": "vmc.optimizers",
    "SR": "vmc.optimizers", "make_optimizer": "vmc.optimizers",
    "SampleBatch": "vmc.walkers", "split_rhat": "vmc.health",
}

#: names exported here before the split by physics -> their new home (one release)
_MOVED = {
    "Hamiltonian": "vmc.trap", "exact_energy": "vmc.trap", "Wavefunction": "vmc.trap",
    "cusp_constant": "vmc.trap", "MetropolisSampler": "vmc.trap",
    "ImportanceSampler": "vmc.trap", "GibbsSampler": "vmc.trap", "make_sampler": "vmc.trap",
    "Lattice": "vmc.spins", "TFIM": "vmc.spins", "SpinRBM": "vmc.spins",
    "SymmetricSpinRBM": "vmc.spins", "make_spin_wavefunction": "vmc.spins",
    "SpinMetropolisSampler": "vmc.spins", "free_fermion_energy": "vmc.spins",
    "exact_ground_state": "vmc.spins", "tomography_trial_state": "vmc.spins",
}

_SUBPACKAGES = ("trap", "spins")

__all__ = ["run", "run_tfim", "VMC", "VMCResult", "SGD", "Adam", "SR", "make_optimizer",
           "SampleBatch", "split_rhat"]


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
    elif name in _MOVED:
        warnings.warn(f"vmc.{name} is deprecated: use {_MOVED[name]}.{name}; the old name "
                      "goes away in the next release", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(_MOVED[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"vmc.{name}")
    else:
        raise AttributeError(f"module 'vmc' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))
