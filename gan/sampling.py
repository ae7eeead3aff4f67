"""Drawing configurations from an :class:`~gan.IsingGAN`'s generator: the
random streams, the symmetry operations (global sign, lattice translation),
the draw of +-1 spins from the generator's output (independent per site, or
the two-stage checkerboard draw, :func:`checkerboard`), and the block loop
of :meth:`IsingGAN.sample <gan.IsingGAN.sample>`.

Functions of a fitted model (``model``); the model's methods call them, and
so does training (:mod:`gan.training`), which applies the same symmetry
operations to real and generated batches. Every random number comes from a
``torch.Generator`` seeded from a SeedSequence stream keyed by purpose (and,
in sampling, by block of :data:`BLOCK` configurations), so the same ``rng``
gives the same configurations for any batch size.
"""

from __future__ import annotations

import numpy as np

from mccore.rng import child

__all__ = ["GENERATION_MODES", "DRAWS", "BLOCK", "torch_seed", "symmetry", "draw",
           "neighbour_sum", "checkerboard", "condition", "draw_blocks"]

GENERATION_MODES = ("bernoulli", "sign")
#: how the spins of a configuration are drawn given the generator's output
DRAWS = ("auto", "independent", "checkerboard")

# Spawn keys of the independent random streams derived from the seed.
_STREAM_INIT, _STREAM_EPOCH, _STREAM_SNAPSHOT, _STREAM_SAMPLE, _STREAM_LATENT = 0, 1, 2, 3, 4
#: ``sample()`` draws one stream per block of this many configurations.
BLOCK = 1024


def torch_seed(seq) -> int:
    """A 63-bit seed for a torch.Generator from a SeedSequence."""
    state = seq.generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2**63 - 1)


def symmetry(model, torch, x, gen):
    """Apply a random global sign (and translation) to each configuration of ``x``."""
    L = model.L
    if model.symmetrize:
        sign = torch.randint(0, 2, (x.shape[0],), generator=gen).to(x.dtype) * 2 - 1
        x = x * sign.view(-1, 1, 1)
    if model.random_translation:
        shifts = torch.randint(0, L, (x.shape[0], 2), generator=gen)
        idx = torch.arange(L)
        rows = (idx.view(1, -1) - shifts[:, :1]) % L          # (B, L)
        cols = (idx.view(1, -1) - shifts[:, 1:]) % L
        x = x.gather(1, rows.unsqueeze(2).expand(-1, -1, L))
        x = x.gather(2, cols.unsqueeze(1).expand(-1, L, -1))
    return x


def neighbour_sum(torch, x):
    """The sum of the four nearest neighbours of every site of ``x`` (..., L, L),
    periodic: the local field of the nearest-neighbour Ising weight (J = 1)."""
    return (torch.roll(x, 1, -1) + torch.roll(x, -1, -1) + torch.roll(x, 1, -2)
            + torch.roll(x, -1, -2))


def checkerboard(torch, a, k, mode, uniform):
    """The two-stage (checkerboard) draw: ``(x, mean)``, float tensors (B, L, L).

    Sublattice A, the sites with ``i + j`` even, is drawn from the mean spins
    ``tanh(a)``; then every site of sublattice B from ``tanh(k h)``, ``h`` the
    sum of its drawn A neighbours (B neighbours count 0: on a lattice of odd
    side the sublattices meet at the periodic seam, and those B-B bonds are
    not coupled); ``a`` on B is not used. ``k`` broadcasts against ``a`` (one
    coupling per configuration: shape (B, 1, 1)). So ``p(s) = p(s_A | z)
    p(s_B | s_A)``, as the nearest-neighbour Ising weight itself factorizes on
    the square lattice: its B spins are independent given A, with mean
    ``tanh(beta h)``, which ``k = beta`` gives exactly; the generator has to
    make only sublattice A, and a pair of neighbouring flipped spins costs it
    no more than one flip. (Measured alternatives, the documentation's GAN
    benchmark page, round 6: B from ``tanh(a + k h)`` with ``k`` learned by
    the adversarial loss made too few such pairs, and the field centred on
    the neighbours' means, ``tanh(a + k sum_j (s_j - tanh a_j))``, too many.)

    ``mode`` "bernoulli": ``P(s_i = +1) = (1 + x_i) / 2`` per stage, from
    ``uniform`` (B, L, L), one number per site; "sign": the sign of each
    stage's mean (+1 at 0); "mean": the mean field, ``h`` summed over the A
    neighbours' mean spins (deterministic; ``x`` is then ``mean``). Drawn
    spins are exactly +-1 in value and carry the straight-through gradient of
    their mean, the first stage's on through ``h`` into the second;
    ``mean`` holds every site's mean spin given the first stage.
    """
    L = a.shape[-1]
    index = torch.arange(L)
    is_a = (index.view(-1, 1) + index.view(1, -1)) % 2 == 0

    def stage(mean):
        if mode == "mean":
            return mean
        if mode == "sign":
            hard = torch.where(mean >= 0, 1.0, -1.0)
        else:
            hard = torch.where(uniform < (1 + mean) / 2, 1.0, -1.0)
        return hard + (mean - mean.detach())        # value exactly +-1

    mean_a = torch.tanh(a)
    first = torch.where(is_a, stage(mean_a), 0.0)
    h = neighbour_sum(torch, first)
    mean_b = torch.tanh(k * h).expand_as(a)
    return torch.where(is_a, first, stage(mean_b)), torch.where(is_a, mean_a, mean_b)


def draw(model, torch, z, c, gen, mode, uniform=None):
    """Spins (int8 numpy) from latent vectors ``z`` (torch), no symmetry applied.

    The Bernoulli draws use ``uniform`` (same shape as the output) if
    given, else fresh uniforms from the torch generator ``gen``, one per
    site for either ``model.draw``; ``mode`` "mean" returns the mean spins
    (``tanh(a)``; the mean field of :func:`checkerboard`) as float64 instead.
    """
    generator = model._sampler()
    generator.eval()
    with torch.no_grad():
        out = generator(z, c)
        if model.draw_mode == "checkerboard":
            a, k = out
            if mode == "bernoulli" and uniform is None:
                uniform = torch.rand(a.shape, generator=gen)
            x, _ = checkerboard(torch, a, k, mode, uniform)
            if mode == "mean":
                return x.numpy().astype(np.float64)
            return x.to(torch.int8).numpy()
        x = torch.tanh(out)
        if mode == "sign":
            s = torch.where(x >= 0, 1, -1)
        elif mode == "bernoulli":
            u = torch.rand(x.shape, generator=gen) if uniform is None else uniform
            s = torch.where(u < (1 + x) / 2, 1, -1)
        else:  # "mean"
            return x.numpy().astype(np.float64)
    return s.to(torch.int8).numpy()


def condition(model, torch, temperature, n):
    """The generator's condition input for ``n`` configurations at ``temperature``
    (None for an unconditioned model)."""
    if not model.conditional:
        return None
    return torch.full((n,), float(model._scaled(temperature)), dtype=torch.float32)


def draw_blocks(model, torch, n_samples: int, seq, T, mode: str, batch_size: int) -> np.ndarray:
    """``n_samples`` configurations (n, L, L) int8, symmetry applied, from the
    SeedSequence ``seq``: block ``k`` of :data:`BLOCK` configurations has its
    own stream, so ``batch_size`` (configurations per forward pass) changes
    nothing but memory."""
    L = model.L
    out = np.empty((n_samples, L, L), dtype=np.int8)
    for start in range(0, n_samples, BLOCK):
        stop = min(start + BLOCK, n_samples)
        m = stop - start
        gen = torch.Generator().manual_seed(
            torch_seed(child(seq, _STREAM_SAMPLE, start // BLOCK)))
        z = torch.randn(m, model.latent_size, generator=gen)
        u = torch.rand(m, L, L, generator=gen)
        c = condition(model, torch, T, m)
        block = np.empty((m, L, L), dtype=np.int8)
        for s0 in range(0, m, batch_size):
            s1 = min(s0 + batch_size, m)
            block[s0:s1] = draw(model, torch, z[s0:s1], None if c is None else c[s0:s1],
                                gen, mode, uniform=u[s0:s1])
        out[start:stop] = symmetry(model, torch, torch.from_numpy(block), gen).numpy()
    return out
