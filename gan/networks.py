"""PyTorch networks of the GAN baseline (imported only after ``require_torch``).

Both networks respect the periodic boundary of the L x L lattice: every
convolution uses ``padding_mode="circular"``, so a spin on the right edge
sees its neighbour on the left edge exactly as the Ising Hamiltonian does.

Generator
    z (B, latent_dim) [+ condition c] -> Linear -> (B, channels, L, L) ->
    LeakyReLU(0.2), concatenated with ``noise_channels`` per-site noise maps
    (B, k, L, L) -> n_layers x [3x3 circular conv, LeakyReLU(0.2)] -> 3x3
    circular conv to one channel (a constant map of c is appended to the
    input of every convolution) -> pre-activation
    ``a`` (B, L, L). The mean spin of a site is ``tanh(a)``; how spins are
    drawn from it is :class:`gan.IsingGAN`'s business. With a coupling
    (``draw="checkerboard"``) the generator also gives the coupling ``k``
    of the second sublattice's spins to their drawn neighbours
    (:func:`gan.sampling.checkerboard`), one number per configuration: a
    learned constant, or for a conditioned model a function of c
    (:class:`Coupling`).
Discriminator (critic)
    x (B, 1, L, L) [+ the bond maps s_i s_right, s_i s_down] [+ a constant map
    of c]; with ``pack = m > 1`` (PacGAN, Lin et al. 2018) the maps of m
    consecutive configurations are stacked as channels, (B/m, m * maps, L, L),
    and judged jointly -> 3x3 circular conv ->
    LeakyReLU(0.2) -> (n_layers - 1) x [3x3 circular conv, stride 2 while the
    side is even and > 4, channels doubled, LeakyReLU(0.2)] -> average over
    sites f -> [f * c] [minibatch standard deviation feature] [+ c] -> Linear -> one
    score per configuration (per pack of m). With ``spectral_norm`` every layer is
    spectrally normalized (Miyato et al. 2018).

The condition c is one number per configuration (the scaled temperature of a
temperature-conditioned model); unconditioned networks have none.

No batch normalization anywhere: it would make a generated configuration
depend on the other members of its batch (and on train/eval mode), which
breaks "the same seed gives the same samples for any batch size".
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["COUPLING_SCALE", "Coupling", "Discriminator", "Generator", "build"]

_SLOPE = 0.2
#: the factor between the last layer's output and the coupling ``k`` (:class:`Coupling`)
COUPLING_SCALE = 10.0


def _conv(c_in: int, c_out: int, stride: int = 1, sn: bool = False) -> nn.Module:
    conv = nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1,
                     padding_mode="circular")
    return nn.utils.parametrizations.spectral_norm(conv) if sn else conv


def _linear(n_in: int, n_out: int, sn: bool = False) -> nn.Module:
    layer = nn.Linear(n_in, n_out)
    return nn.utils.parametrizations.spectral_norm(layer) if sn else layer


def _constant_map(c: torch.Tensor, L: int) -> torch.Tensor:
    return c.view(-1, 1, 1, 1).expand(c.shape[0], 1, L, L)


class Generator(nn.Module):
    """Latent vectors (and a condition) to pre-activations of L x L spin lattices.

    Parameters
    ----------
    L : int
        Lattice side.
    latent_dim : int
        Dimension of the global standard-normal latent vector z.
    channels : int
        Feature channels of every hidden layer.
    n_layers : int
        Hidden 3x3 circular convolutions after the linear projection.
    noise_channels : int
        Per-site noise maps; the last ``noise_channels * L * L`` entries of z.
    conditional : bool
        Take one condition number per configuration.
    coupling : bool
        Also output the coupling ``k`` of the checkerboard draw (:class:`Coupling`).
    """

    def __init__(self, L: int, latent_dim: int, channels: int, n_layers: int,
                 noise_channels: int = 0, conditional: bool = False, coupling: bool = False):
        super().__init__()
        self.L, self.channels = L, channels
        self.latent_dim, self.noise_channels = latent_dim, noise_channels
        self.conditional = conditional
        n_cond = int(conditional)
        self.project = nn.Linear(latent_dim + n_cond, channels * L * L)
        # the condition map enters every convolution, so that every layer can
        # make its local correlations depend on the temperature
        self.convs = nn.ModuleList()
        c_in = channels + noise_channels
        for _ in range(n_layers):
            self.convs.append(_conv(c_in + n_cond, channels))
            c_in = channels
        self.out = _conv(channels + n_cond, 1)
        # made last, so that the other layers start as those of the independent draw
        self.coupling = Coupling(conditional) if coupling else None

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None):
        """Pre-activations ``a`` (B, L, L), the mean spin being ``tanh(a)``; with
        a coupling the pair ``(a, k)``, ``k`` of shape (B, 1, 1)."""
        g = z[:, :self.latent_dim]
        if self.conditional:
            g = torch.cat([g, c.view(-1, 1)], dim=1)
        h = nn.functional.leaky_relu(self.project(g), _SLOPE)
        h = h.view(z.shape[0], self.channels, self.L, self.L)
        if self.noise_channels:
            h = torch.cat([h, z[:, self.latent_dim:].reshape(z.shape[0], self.noise_channels,
                                                             self.L, self.L)], dim=1)
        cmap = _constant_map(c, self.L) if self.conditional else None
        for conv in self.convs:
            h = nn.functional.leaky_relu(conv(h if cmap is None else torch.cat([h, cmap], 1)),
                                         _SLOPE)
        if cmap is not None:
            h = torch.cat([h, cmap], 1)
        if self.coupling is None:
            return self.out(h)[:, 0]
        return self.out(h)[:, 0], self.coupling(c, z.shape[0])


class Coupling(nn.Module):
    """The coupling ``k`` of the checkerboard draw, (B, 1, 1): a learned
    constant, or for a conditioned model a perceptron of the condition c
    (16 tanh units). Both start at 0 (the independent draw). The output is
    ``COUPLING_SCALE`` times the last layer's, so that Adam, whose steps are
    about the learning rate in every weight whatever the gradient's size,
    moves ``k`` by about 10 learning rates per step: from 0 to the ~0.7 of
    the Ising conditional at T = 1.5 in ~150 steps rather than ~1500.
    """

    def __init__(self, conditional: bool):
        super().__init__()
        if conditional:
            self.net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
            nn.init.zeros_(self.net[2].weight)
            nn.init.zeros_(self.net[2].bias)
            self.value = None
        else:
            self.net = None
            self.value = nn.Parameter(torch.zeros(()))

    def forward(self, c: torch.Tensor | None, n: int) -> torch.Tensor:
        k = self.value.expand(n) if self.net is None else self.net(c.view(-1, 1))[:, 0]
        return (COUPLING_SCALE * k).view(-1, 1, 1)


class Discriminator(nn.Module):
    """L x L configurations (values in [-1, 1]) to one score each.

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
        see a batch that lacks diversity.
    conditional : bool
        Take one condition number per configuration (as an input map and a
        feature of the head).
    spectral_norm : bool
        Spectrally normalize every layer.
    pack : int
        Configurations judged jointly (PacGAN): the input maps of ``pack``
        consecutive configurations are stacked as channels and the network
        gives one score per pack, so a generator whose samples are too alike
        is penalized by construction (a pack of near-copies is unlike a pack
        of independent data). The batch size must be a multiple of ``pack``;
        a conditioned pack's head sees the mean condition of its members.
    bond_features : bool
        Also give the first convolution the bond variables ``s_i s_j`` of
        every site with its right and lower neighbour (two more input maps):
        their site average is the energy per spin, so the discriminator
        sees the Hamiltonian's own terms without having to learn a product.
    head_hidden : int
        Hidden units of a one-layer perceptron between the site-averaged
        features and the score (0: a linear head). A linear head on site
        averages scores a configuration by a sum of local terms, like a
        short-range energy; the perceptron can also score nonlinear
        functions of global quantities, such as m^2.
    """

    def __init__(self, L: int, channels: int, n_layers: int, minibatch_std: bool,
                 conditional: bool = False, spectral_norm: bool = False,
                 bond_features: bool = False, head_hidden: int = 0, pack: int = 1):
        super().__init__()
        self.L = L
        self.pack = pack
        self.conditional = conditional
        self.bond_features = bond_features
        n_cond = int(conditional)
        n_in = 3 if bond_features else 1
        layers: list[nn.Module] = [_conv(pack * (n_in + n_cond), channels, sn=spectral_norm),
                                   nn.LeakyReLU(_SLOPE)]
        size, c = L, channels
        for _ in range(n_layers - 1):
            stride = 2 if (size % 2 == 0 and size > 4) else 1
            layers += [_conv(c, 2 * c, stride, sn=spectral_norm), nn.LeakyReLU(_SLOPE)]
            size, c = size // stride, 2 * c
        self.body = nn.Sequential(*layers)
        self.minibatch_std = minibatch_std
        # conditioned: the head also sees features * c (a projection discriminator,
        # Miyato & Koyama 2018), so its judgement of x depends on the temperature
        n_features = (1 + n_cond) * c + int(minibatch_std) + n_cond
        if head_hidden:
            self.head = nn.Sequential(_linear(n_features, head_hidden, spectral_norm),
                                      nn.LeakyReLU(_SLOPE),
                                      _linear(head_hidden, 1, spectral_norm))
        else:
            self.head = _linear(n_features, 1, spectral_norm)

    def features(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The site-averaged features (B / pack, channels) that the head scores."""
        h = x.unsqueeze(1)
        if self.bond_features:
            h = torch.cat([h, (x * torch.roll(x, -1, 2)).unsqueeze(1),
                           (x * torch.roll(x, -1, 1)).unsqueeze(1)], dim=1)
        if self.conditional:
            h = torch.cat([h, _constant_map(c, self.L)], dim=1)
        if self.pack > 1:
            h = h.reshape(-1, self.pack * h.shape[1], self.L, self.L)
        return self.body(h).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (B / pack,) for configurations ``x`` of shape (B, L, L)."""
        features = self.features(x, c)
        if self.conditional and self.pack > 1:
            c = c.reshape(-1, self.pack).mean(dim=1)
        if self.conditional:
            features = torch.cat([features, features * c.view(-1, 1)], dim=1)
        extra = []
        if self.minibatch_std:
            if features.shape[0] > 1:
                spread = (features.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
            else:
                spread = features.new_zeros(())
            extra.append(spread.expand(features.shape[0], 1))
        if self.conditional:
            extra.append(c.view(-1, 1))
        if extra:
            features = torch.cat([features] + extra, dim=1)
        return self.head(features)[:, 0]


def build(model, seed: int) -> tuple:
    """``(generator, discriminator, weight_average)`` for the settings of ``model``
    (an :class:`~gan.IsingGAN`), initialised from the torch seed ``seed``
    without touching torch's global RNG; the weight average (a frozen copy of
    the generator) is None when ``model.ema_decay`` is 0."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = Generator(model.L, model.latent_dim, model.channels, model.n_layers,
                              model.noise_channels, model.conditional,
                              coupling=model.draw_mode == "checkerboard")
        discriminator = Discriminator(model.L, model.channels, model.n_layers,
                                      model.minibatch_std, model.conditional,
                                      spectral_norm=model.loss == "hinge",
                                      bond_features=model.bond_features,
                                      head_hidden=model.head_hidden, pack=model.pack)
    average = None
    if model.ema_decay > 0:
        average = copy.deepcopy(generator)
        average.requires_grad_(False)
    return generator, discriminator, average
