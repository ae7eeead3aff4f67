"""Health of a VMC sampling run: a stuck chain or a zero error bar is never a result.

:func:`assess` looks at the final sampling run (local energies per walker,
acceptance) and returns the problems it finds; the driver then marks the
result ``status = "unhealthy"`` (and the command line exits with status 3).
The checks, each documented with its threshold:

* **acceptance**: 0, or so small that the average walker accepted fewer
  moves in the final run than one per coordinate (``acceptance * n_steps
  < 1``: fewer accepted single-site moves than sites or particles), so the
  chains did not decorrelate even once and the blocking error means nothing;
* **R-hat**: the split-chain R-hat of E_L above :data:`RHAT_MAX` (chains
  disagree; skipped when E_L is constant to 1e-10 relative, an exact
  eigenstate, whose energy any distribution gives exactly);
* **error bar**: not finite, or, where the Hamiltonian says a zero-variance
  state is not expected (``zero_error_suspect``, the TFIM at h > 0 on more
  than two sites), below 1e-12 of the energy: every sample then had the
  same local energy, which a moving chain of a non-eigenstate never gives.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["RHAT_MAX", "ZERO_ERROR_RELATIVE", "assess", "split_rhat"]

#: largest healthy split-chain R-hat of E_L (Gelman et al.'s classic threshold)
RHAT_MAX = 1.1

#: an error bar below this fraction of |E| counts as zero (where suspect)
ZERO_ERROR_RELATIVE = 1e-12


def split_rhat(values) -> float:
    """Split-chain R-hat (Gelman et al.) of ``values`` (n_chains, n_steps): ~1 when mixed.

    Each chain is split in halves; R-hat = sqrt(((n-1)/n W + B/n) / W) with
    W the mean within-half variance and B/n the variance of the half means.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] < 4:
        return float("nan")
    half = v.shape[1] // 2
    parts = np.concatenate([v[:, :half], v[:, half:2 * half]], axis=0)
    n = parts.shape[1]
    within = parts.var(axis=1, ddof=1).mean()
    between_over_n = parts.mean(axis=1).var(ddof=1)
    if within == 0:
        return 1.0 if between_over_n == 0 else float("inf")
    return float(np.sqrt(((n - 1) / n * within + between_over_n) / within))


def assess(e_local, acceptance: float, error: float, *,
           zero_error_suspect: bool = False) -> dict:
    """Diagnose the final sampling run.

    Parameters
    ----------
    e_local : ndarray (n_walkers, n_steps)
        Local energies of the final run, walker by walker.
    acceptance : float
        Accepted fraction of single-site/particle moves in that run.
    error : float
        The blocking error of the energy.
    zero_error_suspect : bool
        True where a (near) zero error bar can only mean stuck chains.

    Returns
    -------
    dict
        ``ok`` (bool), ``problems`` (list of str, empty when ok),
        ``acceptance``, ``rhat_energy``, ``accepted_per_site`` (acceptance
        times the sweeps per walker) and the thresholds used.
    """
    e = np.asarray(e_local, dtype=np.float64)
    n_steps = e.shape[1] if e.ndim == 2 else 0
    mean = float(np.mean(e)) if e.size else float("nan")
    rhat = split_rhat(e)
    per_site = float(acceptance) * n_steps
    problems = []
    if not (math.isfinite(acceptance) and acceptance > 0):
        problems.append(f"acceptance {acceptance:.3g}: the chains never moved in the final "
                        "run (stuck)")
    elif per_site < 1.0:
        problems.append(
            f"acceptance {acceptance:.2g}: in the final {n_steps} sweeps a walker accepted "
            f"{per_site:.2g} moves per site on average (< 1): the chains are stuck and the "
            "error bar is meaningless")
    constant = e.size > 0 and float(np.ptp(e)) <= 1e-10 * max(1.0, abs(mean))
    if not constant and math.isfinite(rhat) and rhat > RHAT_MAX:
        problems.append(f"R-hat(E_L) = {rhat:.3g} > {RHAT_MAX}: the chains disagree "
                        "(not equilibrated or stuck in different regions)")
    if not math.isfinite(error):
        problems.append(f"the error bar is {error}")
    elif zero_error_suspect and error <= ZERO_ERROR_RELATIVE * max(1.0, abs(mean)):
        problems.append(f"the error bar ({error:.2g}) is zero: every sample had the same "
                        "local energy, which only stuck chains give here")
    return {"ok": not problems, "problems": problems, "acceptance": float(acceptance),
            "rhat_energy": rhat, "accepted_per_site": per_site, "rhat_max": RHAT_MAX,
            "zero_error_relative": ZERO_ERROR_RELATIVE if zero_error_suspect else None}
