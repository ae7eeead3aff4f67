"""A trust region for VMC steps, measured by the change of ``log psi`` on samples.

SR (and any gradient step) trusts a linear model of the state,
``log psi(p + delta) - log psi(p) ~ O . delta``. Near a saddle the model
fails: the translation-symmetric RBM starts at one (W ~ 0, where its
log-derivatives vanish with W), and one shifted natural-gradient step there
changed ``log psi`` by a variance of ~9 where the model predicted 0.04
(chain N = 10, h = 2, exact expectations), landing on a product state that
the chains never left. :class:`TrustRegion` measures the actual change:

* before a step, on the current samples (drawn from the old state): the
  step is halved until ``Var[log psi_new - log psi_old] <= max_change``
  (at most :data:`MAX_HALVINGS` times);
* after it, on the next iteration's samples (drawn from the new state),
  which see weight the new state put where the old one had almost none
  (invisible to the old samples; on 6 x 6 at h = 3 such a step sent E from
  -114 to +37): above :data:`REVERT_FACTOR` times ``max_change`` the step
  is taken back to half its length.

Variances are over all walkers (rows gathered in walker order on every MPI
rank, so the decision is the same on all ranks and equals one process's).
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError

from .mpi import gather_rows

__all__ = ["MAX_HALVINGS", "REVERT_FACTOR", "TrustRegion"]

#: most halvings of one step, and most take-backs of one step in a row
MAX_HALVINGS = 30

#: a step is taken back when, seen from the new state's samples, the variance of the
#: change of log psi exceeds REVERT_FACTOR * max_change
REVERT_FACTOR = 4.0


class TrustRegion:
    """Limit the change of ``log psi`` per step of ``wavefunction`` (see the module).

    Parameters
    ----------
    wavefunction
        Has ``params`` (settable) and ``log_psi(x)``.
    max_change : float
        Largest variance over the samples of the change of ``log psi`` (> 0).
    comm : mpi4py communicator or None
    """

    def __init__(self, wavefunction, max_change: float, comm=None):
        max_change = float(max_change)
        if not (math.isfinite(max_change) and max_change > 0):
            raise InvalidParameterError(
                f"max_change must be a finite number > 0, got {max_change!r}")
        if not hasattr(wavefunction, "log_psi"):
            raise InvalidParameterError("a trust region needs a wavefunction with log_psi")
        self.wavefunction = wavefunction
        self.max_change = max_change
        self.comm = comm
        self.last_step = None     # (origin params, delta, take-backs so far)

    def spread(self, x, params_a, params_b, lp_a=None) -> float:
        """``Var_x[log psi(params_b) - log psi(params_a)]`` over all walkers' rows of ``x``
        (``lp_a``: log psi(params_a) on ``x`` if known); the wavefunction keeps its params."""
        wf = self.wavefunction
        keep = wf.params.copy()
        try:
            if lp_a is None:
                wf.params = params_a
                lp_a = wf.log_psi(x)
            wf.params = params_b
            with np.errstate(all="ignore"):
                change = gather_rows(self.comm, wf.log_psi(x) - lp_a)
                return float(np.var(change))
        finally:
            wf.params = keep

    def limit(self, x, origin, delta, lp_origin=None):
        """``delta`` halved until the change it makes on ``x`` is within the region;
        remembered as the last step. Returns ``(delta, halvings)``."""
        if lp_origin is None:
            wf = self.wavefunction
            keep = wf.params.copy()
            wf.params = origin
            lp_origin = wf.log_psi(x)
            wf.params = keep
        halvings = 0
        while True:
            spread = self.spread(x, origin, origin + delta, lp_origin)
            if (math.isfinite(spread) and spread <= self.max_change) or halvings >= MAX_HALVINGS:
                break
            delta = 0.5 * delta
            halvings += 1
        self.last_step = (np.array(origin, dtype=np.float64), delta, 0)
        return delta, halvings

    def check_last(self, x, lp_now=None):
        """Judge the last step from the current state's samples ``x``.

        Returns ``(ok, lp_now)`` with ``lp_now = log psi(x)`` at the current
        parameters (computed unless given); ok is False when the change exceeds
        :data:`REVERT_FACTOR` times ``max_change`` and the step may still be
        taken back.
        """
        wf = self.wavefunction
        if lp_now is None:
            lp_now = wf.log_psi(x)
        if self.last_step is None or self.last_step[2] >= MAX_HALVINGS:
            return True, lp_now
        origin = self.last_step[0]
        spread = self.spread(x, wf.params, origin, lp_now)
        return math.isfinite(spread) and spread <= REVERT_FACTOR * self.max_change, lp_now

    def take_back(self, current):
        """Halve the last step; returns the change from ``current`` params to its new end."""
        origin, delta, count = self.last_step
        self.last_step = (origin, 0.5 * delta, count + 1)
        return origin + 0.5 * delta - current

    def state_dict(self) -> dict:
        """The last step (for an exact resume); empty before the first step."""
        if self.last_step is None:
            return {}
        origin, delta, count = self.last_step
        return {"step_origin": origin.copy(), "step": np.array(delta, dtype=np.float64),
                "step_reverts": int(count)}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""
        if "step" in state:
            self.last_step = (np.asarray(state["step_origin"], dtype=np.float64),
                              np.asarray(state["step"], dtype=np.float64),
                              int(state["step_reverts"]))
        else:
            self.last_step = None
