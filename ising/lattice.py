"""Square-lattice geometry and the one spins <-> visible-units conversion.

Spins are ``int8`` in {-1, +1} with shape ``(n, L, L)``; RBM visible units are
{0, 1} with ``v = (s + 1) // 2`` flattened row-major to ``(n, L*L)``. This is
the only place in the workbench that converts between the two.
"""

from __future__ import annotations

import numpy as np

from mcstats.errors import InvalidParameterError

__all__ = ["spins_to_visible", "visible_to_spins"]


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
