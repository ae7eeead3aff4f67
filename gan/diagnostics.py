"""Mode-collapse diagnostics of generated +-1 configurations (numpy only).

A GAN that collapses onto a few modes still produces configurations that
look right one by one; what betrays it is the *set*: too few distinct
configurations, only one sign of the magnetization in the ordered phase, or
copies of the training data. The histogram distances of energy and
magnetization live in :mod:`isingrbm.evaluate` (they need the Ising energy,
which ``gan`` does not know about).
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError

__all__ = ["distinct_configurations", "fraction_positive", "mode_collapse_diagnostics"]


def _as_configs(spins, name: str) -> np.ndarray:
    arr = np.asarray(spins)
    if arr.ndim < 2 or arr.shape[0] < 1:
        raise InvalidParameterError(f"{name} must have shape (n, ...) with n >= 1, "
                                    f"got {arr.shape}")
    return arr.reshape(arr.shape[0], -1)


def distinct_configurations(spins, *, up_to_flip: bool = False) -> int:
    """Number of distinct configurations among ``spins`` (n, ...).

    Parameters
    ----------
    spins : array_like, shape (n, ...), values in {-1, +1}
    up_to_flip : bool
        Count a configuration and its global spin flip as one.
    """
    flat = np.ascontiguousarray(_as_configs(spins, "spins"), dtype=np.int8)
    if up_to_flip:
        # canonical representative: the one whose first nonzero site is +1
        flat = flat * np.where(flat[:, :1] < 0, -1, 1).astype(np.int8)
    return int(np.unique(flat, axis=0).shape[0])


def fraction_positive(spins) -> tuple[float, float]:
    """Fraction of configurations with magnetization m > 0 (m = 0 counts one half).

    Returns
    -------
    fraction, error : float
        The fraction and its binomial standard error sqrt(f (1 - f) / n)
        (for independent configurations).
    """
    flat = _as_configs(spins, "spins")
    total = flat.astype(np.int64).sum(axis=1)
    n = flat.shape[0]
    fraction = (np.count_nonzero(total > 0) + 0.5 * np.count_nonzero(total == 0)) / n
    return float(fraction), float(np.sqrt(fraction * (1.0 - fraction) / n))


def mode_collapse_diagnostics(generated, reference) -> dict:
    """Compare the diversity of generated and reference (Monte Carlo) configurations.

    Both sets are cut to the same size n = min(n_generated, n_reference) (their
    first n configurations), so the distinct counts are comparable.

    Parameters
    ----------
    generated, reference : array_like, shape (n, ...), values in {-1, +1}

    Returns
    -------
    dict
        ``n``; ``distinct_generated``, ``distinct_reference`` (out of n);
        ``distinct_generated_up_to_flip``, ``distinct_reference_up_to_flip``;
        ``fraction_m_positive_generated`` / ``_reference`` with ``_error``
        (binomial; 0.5 is the exact value for the Z2-symmetric Ising model at
        zero field, but note that Monte Carlo chains at low T may not tunnel
        between the two signs either); ``copies_of_reference``: fraction of the
        generated configurations identical to one of all reference
        configurations (memorization).
    """
    gen = _as_configs(generated, "generated")
    ref = _as_configs(reference, "reference")
    if gen.shape[1] != ref.shape[1]:
        raise InvalidParameterError(f"generated and reference configurations differ in size: "
                                    f"{gen.shape[1]} vs {ref.shape[1]} sites")
    n = min(gen.shape[0], ref.shape[0])
    f_gen, e_gen = fraction_positive(gen[:n])
    f_ref, e_ref = fraction_positive(ref[:n])
    ref_set = {row.tobytes() for row in np.ascontiguousarray(ref, dtype=np.int8)}
    gen8 = np.ascontiguousarray(gen[:n], dtype=np.int8)
    copies = sum(row.tobytes() in ref_set for row in gen8) / n
    return {
        "n": int(n),
        "distinct_generated": distinct_configurations(gen[:n]),
        "distinct_reference": distinct_configurations(ref[:n]),
        "distinct_generated_up_to_flip": distinct_configurations(gen[:n], up_to_flip=True),
        "distinct_reference_up_to_flip": distinct_configurations(ref[:n], up_to_flip=True),
        "fraction_m_positive_generated": f_gen,
        "fraction_m_positive_generated_error": e_gen,
        "fraction_m_positive_reference": f_ref,
        "fraction_m_positive_reference_error": e_ref,
        "copies_of_reference": float(copies),
    }
