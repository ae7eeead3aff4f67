"""Sufficient statistics of a binary RBM in internal coordinates (test helper).

A plain NumPy statement of the log-likelihood gradient that
``rbm.epochs.bernoulli_epoch`` computes in fused buffers, so that tests can
check the training step and the exact gradient against it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sufficient_statistics"]


def sufficient_statistics(u, p, weights=None) -> dict:
    """Averages of ``-dF/dtheta`` over the rows of ``u`` for internal parameters ``p``.

    ``-dF/dU = u E[g|u]^T``, ``-dF/dc = u``, ``-dF/dd = E[g|u]``; averaged
    uniformly or with ``weights`` (n,) summing to one. The log-likelihood
    gradient is the data average minus the model average.
    """
    g = p.hidden_mean(u)
    if weights is None:
        n = u.shape[0]
        return {"U": u.T @ g / n, "c": u.mean(axis=0), "d": g.mean(axis=0)}
    w = np.asarray(weights, dtype=u.dtype)
    return {"U": (u * w[:, None]).T @ g, "c": w @ u, "d": w @ g}
