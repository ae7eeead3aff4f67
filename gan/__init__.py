"""GAN baseline for Ising configurations (optional; needs the ``gan`` extra).

Arrays in, arrays out: :class:`IsingGAN` trains on spins ``(n, L, L)`` int8 in
{-1, +1} and generates the same. ``import gan`` does not import PyTorch;
the first call that needs it raises
:class:`mccore.errors.MissingDependencyError` with the install hint
``pip install 'torch>=2.3'`` (the ``gan`` extra) when it is missing.

Quick use::

    import gan
    model = gan.IsingGAN(16, n_epochs=50, rng=1).fit(spins)
    new_spins = model.sample(1000, rng=2)        # random global sign and translation
    model.save("gan.pt"); model = gan.IsingGAN.load("gan.pt")

    # one model for all temperatures (T of every configuration, k_B = J = 1)
    cgan = gan.IsingGAN(16, conditional=True, rng=1).fit(all_spins, all_temperatures)
    at_2_6 = cgan.sample(1000, rng=2, temperature=2.6)
"""

from ._torch import INSTALL_HINT, require_torch, torch_available
from .diagnostics import distinct_configurations, mode_collapse_diagnostics
from .model import FORMAT, FORMAT_VERSION, IsingGAN

load = IsingGAN.load

__all__ = [
           "FORMAT",
           "FORMAT_VERSION",
           "INSTALL_HINT",
           "IsingGAN",
           "distinct_configurations",
           "load",
           "mode_collapse_diagnostics",
           "require_torch",
           "torch_available",
]
