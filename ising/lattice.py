"""Square-lattice geometry and the one spins <-> visible-units conversion.

Spins are ``int8`` in {-1, +1} with shape ``(n, L, L)``; RBM visible units are
{0, 1} with ``v = (s + 1) // 2`` flattened row-major to ``(n, L*L)``. This is
the only place in the workbench that converts between the two.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError

__all__ = ["spins_to_visible", "visible_to_spins", "symmetry_images", "neighbour_table",
           "checkerboard_colour", "checkerboard_pack", "checkerboard_unpack"]


def spins_to_visible(spins) -> np.ndarray:
    """Map spins ``(n, L, L)`` in {-1, +1} to visible units ``(n, L*L)`` in {0, 1}.

    Returns ``uint8`` (cast as needed by the caller).
    """
    spins = np.asarray(spins)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise InvalidParameterError(f"spins must have shape (n, L, L), got {spins.shape}")
    if not np.all((spins == 1) | (spins == -1)):
        raise InvalidParameterError("spins must be in {-1, +1}")
    return ((spins.reshape(spins.shape[0], -1).astype(np.int16) + 1) // 2).astype(np.uint8)


def visible_to_spins(visible, L: int | None = None) -> np.ndarray:
    """Map visible units ``(n, L*L)`` in {0, 1} to spins ``(n, L, L)`` int8 in {-1, +1}."""
    visible = np.asarray(visible)
    if visible.ndim != 2:
        raise InvalidParameterError(f"visible units must have shape (n, L*L), got {visible.shape}")
    n_visible = visible.shape[1]
    if L is None:
        L = int(round(np.sqrt(n_visible)))
    if L * L != n_visible:
        raise InvalidParameterError(
            f"visible units must number L*L for a square lattice, got {n_visible}")
    if not np.all((visible == 0) | (visible == 1)):
        raise InvalidParameterError("visible units must be in {0, 1}")
    return (2 * visible.astype(np.int8) - 1).reshape(-1, L, L)


def symmetry_images(spins, n_images: int, rng=None) -> np.ndarray:
    """Each configuration and ``n_images - 1`` images under random lattice symmetries.

    An image is the configuration under an independent, uniformly drawn
    element of the space group of the periodic L x L square lattice: one of
    the L^2 translations followed by one of the 8 rotations and reflections
    (the dihedral group D4). Every element leaves each bond, hence the energy
    and magnetization of every configuration, unchanged, so the Ising
    Boltzmann distribution is invariant under the group: images are exact
    extra samples of the same distribution (correlated with their original)
    that teach a model the symmetry. The global spin flip is not included
    (``rbm.BernoulliRBM(flip_augment=True)`` adds it).

    Parameters
    ----------
    spins : array_like (n, L, L)
        Configurations (any dtype; returned unchanged in dtype).
    n_images : int
        Images per configuration including the original (1: a copy of the data).
    rng : numpy.random.Generator, int or None
        Source of the random group elements.

    Returns
    -------
    ndarray (n_images * n, L, L)
        The originals first, then ``n_images - 1`` blocks of n images, image
        ``c * n + r`` belonging to configuration ``r``.
    """
    spins = np.asarray(spins)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise InvalidParameterError(f"spins must have shape (n, L, L), got {spins.shape}")
    if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)) \
            or n_images < 1:
        raise InvalidParameterError(f"n_images must be an integer >= 1, got {n_images!r}")
    rng = np.random.default_rng(rng)
    n, L, _ = spins.shape
    out = np.empty((int(n_images), n, L, L), dtype=spins.dtype)
    out[0] = spins
    sites = np.arange(L)
    rows = np.arange(n)[:, None, None]
    for block in out[1:]:
        shift = rng.integers(0, L, size=(n, 2))
        element = rng.integers(0, 8, size=n)          # bit 2: reflect; bits 0-1: quarter turns
        block[...] = spins[rows, ((sites + shift[:, :1]) % L)[:, :, None],
                           ((sites + shift[:, 1:]) % L)[:, None, :]]
        reflect = element >= 4
        block[reflect] = block[reflect].transpose(0, 2, 1)
        for turns in (1, 2, 3):
            chosen = element % 4 == turns
            block[chosen] = np.rot90(block[chosen], turns, axes=(1, 2))
    return out.reshape(int(n_images) * n, L, L)


# --------------------------------------------------------------------------
# geometry helpers for the Monte Carlo kernels (added by ising-kernels)
# --------------------------------------------------------------------------

def neighbour_table(L: int) -> np.ndarray:
    """Row-major site indices of the 4 neighbours of every site, periodic.

    Returns
    -------
    ndarray, int64 (L*L, 4)
        Columns: up (i-1), down (i+1), left (j-1), right (j+1) of site
        ``i * L + j``. For L = 2 up == down and left == right (two bonds).
    """
    L = int(L)
    i, j = np.divmod(np.arange(L * L), L)
    return np.stack([((i - 1) % L) * L + j, ((i + 1) % L) * L + j,
                     i * L + (j - 1) % L, i * L + (j + 1) % L], axis=1).astype(np.int64)


def checkerboard_colour(L: int) -> np.ndarray:
    """Colour ``(i + j) % 2`` of every site, int8 (L, L); 0 = "black"."""
    i, j = np.indices((int(L), int(L)))
    return ((i + j) % 2).astype(np.int8)


def checkerboard_pack(spins) -> np.ndarray:
    """Natural ``(n, L, L)`` spins -> colour-packed ``(n, 2, L, L // 2)`` (even L).

    ``packed[:, c, i, k] = spins[:, i, 2 k + (i + c) % 2]``: colour ``c`` of
    row ``i`` stored contiguously (the layout of the Metropolis kernels).
    """
    spins = np.asarray(spins)
    n, L = spins.shape[0], spins.shape[1]
    if L % 2:
        raise InvalidParameterError(f"checkerboard packing needs an even L, got {L}")
    packed = np.empty((n, 2, L, L // 2), dtype=spins.dtype)
    packed[:, 0, 0::2] = spins[:, 0::2, 0::2]
    packed[:, 0, 1::2] = spins[:, 1::2, 1::2]
    packed[:, 1, 0::2] = spins[:, 0::2, 1::2]
    packed[:, 1, 1::2] = spins[:, 1::2, 0::2]
    return packed


def checkerboard_unpack(packed) -> np.ndarray:
    """Colour-packed ``(n, 2, L, L // 2)`` -> natural ``(n, L, L)``; inverse of pack."""
    packed = np.asarray(packed)
    n, L = packed.shape[0], packed.shape[2]
    spins = np.empty((n, L, L), dtype=packed.dtype)
    spins[:, 0::2, 0::2] = packed[:, 0, 0::2]
    spins[:, 1::2, 1::2] = packed[:, 0, 1::2]
    spins[:, 0::2, 1::2] = packed[:, 1, 0::2]
    spins[:, 1::2, 0::2] = packed[:, 1, 1::2]
    return spins
