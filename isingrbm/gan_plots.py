"""Old name of :mod:`isingrbm.plots.gan` (the GAN's figures), kept for one release."""

from .plots.gan import close, latent_exploration, loss_history, training_samples

__all__ = ["close", "latent_exploration", "loss_history", "training_samples"]
