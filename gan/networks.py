"""PyTorch networks of the GAN baseline (imported only after ``require_torch``).

Both networks respect the periodic boundary of the L x L lattice: every
convolution uses ``padding_mode="circular"``, so a spin on the right edge
sees its neighbour on the left edge exactly as the Ising Hamiltonian does.

Generator
    z (B, latent_dim) -> Linear -> (B, channels, L, L) -> LeakyReLU(0.2),
    concatenated with ``noise_channels`` per-site noise maps (B, k, L, L)
    -> n_layers x [3x3 circular conv, LeakyReLU(0.2)] -> 3x3 circular conv
    to one channel -> pre-activation ``a`` (B, L, L). The training output is
    ``tanh(a)`` in (-1, 1); generation draws spins from it (see
    :class:`gan.IsingGAN`).
Discriminator
    x (B, 1, L, L) -> 3x3 circular conv -> LeakyReLU(0.2) -> (n_layers - 1) x
    [3x3 circular conv, stride 2 while the side is even and > 4, channels
    doubled, LeakyReLU(0.2)] -> average over sites -> [minibatch standard
    deviation feature] -> Linear -> one logit per configuration.

No batch normalization anywhere: it would make a generated configuration
depend on the other members of its batch (and on train/eval mode), which
breaks "the same seed gives the same samples for any batch size".
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Generator", "Discriminator"]

_SLOPE = 0.2


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1,
                     padding_mode="circular")


class Generator(nn.Module):
    """Latent vectors to pre-activations of L x L spin lattices.

    Parameters
    ----------
    L : int
        Lattice side.
    latent_dim : int
        Dimension of the standard-normal latent vector z.
    channels : int
        Feature channels of every hidden layer.
    n_layers : int
        Hidden 3x3 circular convolutions after the linear projection.
    noise_channels : int
        Per-site noise maps; the last ``noise_channels * L * L`` entries of z.
    """

    def __init__(self, L: int, latent_dim: int, channels: int, n_layers: int,
                 noise_channels: int = 0):
        super().__init__()
        self.L, self.channels = L, channels
        self.latent_dim, self.noise_channels = latent_dim, noise_channels
        self.project = nn.Linear(latent_dim, channels * L * L)
        layers: list[nn.Module] = []
        c_in = channels + noise_channels
        for _ in range(n_layers):
            layers += [_conv(c_in, channels), nn.LeakyReLU(_SLOPE)]
            c_in = channels
        layers.append(_conv(channels, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Pre-activations ``a`` (B, L, L); the spin mean is ``tanh(a)``."""
        h = nn.functional.leaky_relu(self.project(z[:, :self.latent_dim]), _SLOPE)
        h = h.view(z.shape[0], self.channels, self.L, self.L)
        if self.noise_channels:
            local = z[:, self.latent_dim:].reshape(z.shape[0], self.noise_channels, self.L, self.L)
            h = torch.cat([h, local], dim=1)
        return self.body(h)[:, 0]


class Discriminator(nn.Module):
    """L x L configurations (values in [-1, 1]) to one logit each.

    Parameters
    ----------
    L : int
        Lattice side.
    channels : int
        Channels of the first convolution (doubled at every stride-2 layer).
    n_layers : int
        Number of 3x3 circular convolutions.
    minibatch_std : bool
        Append the minibatch standard deviation of the pooled features
        (Karras et al. 2018) as one extra feature, so the discriminator can
        see a batch that lacks diversity (e.g. only one sign of m).
    """

    def __init__(self, L: int, channels: int, n_layers: int, minibatch_std: bool):
        super().__init__()
        layers: list[nn.Module] = [_conv(1, channels), nn.LeakyReLU(_SLOPE)]
        size, c = L, channels
        for _ in range(n_layers - 1):
            stride = 2 if (size % 2 == 0 and size > 4) else 1
            layers += [_conv(c, 2 * c, stride), nn.LeakyReLU(_SLOPE)]
            size, c = size // stride, 2 * c
        self.body = nn.Sequential(*layers)
        self.minibatch_std = minibatch_std
        self.head = nn.Linear(c + int(minibatch_std), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B,) for configurations ``x`` of shape (B, L, L)."""
        features = self.body(x.unsqueeze(1)).mean(dim=(2, 3))
        if self.minibatch_std:
            if features.shape[0] > 1:
                spread = features.std(dim=0, unbiased=False).mean()
            else:
                spread = features.new_zeros(())
            features = torch.cat([features, spread.expand(features.shape[0], 1)], dim=1)
        return self.head(features)[:, 0]
