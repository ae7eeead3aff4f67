"""Restricted Boltzmann machines: generic, arrays in, arrays out.

``BernoulliRBM`` (binary visible and hidden units) and
``GaussianBernoulliRBM`` (real visible units with per-unit width sigma),
trained by CD-k, persistent CD or parallel tempering with SGD/Adam; exact
(``<= 25`` units in the smaller layer) and AIS partition functions; HDF5
model files (``save``/``load``). Knows nothing of Ising.
"""

from .gaussian import GaussianBernoulliRBM

__all__ = ["GaussianBernoulliRBM"]
