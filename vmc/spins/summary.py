"""How a TFIM VMC result is printed (:meth:`vmc.VMCResult.summary`) and what its
``--json`` adds. J = 1, Pauli matrices, energies total (per site = energy / N).

Each observable is printed as ``mean +- error`` (blocking over the chains;
the Binder ratio by block jackknife) beside its exact value where one is
known (``observables["exact"]``: free fermions for even chains, exact
diagonalization up to 16 sites) and the deviation in standard errors.
"""

from __future__ import annotations

import math

__all__ = ["summary", "json_extras"]

#: observable key -> label of the summary (per site where it is a density)
_LABELS = {"sx": "<sx>", "abs_mz": "<|m_z|>", "mz2": "<m_z^2>", "mz4": "<m_z^4>",
           "binder": "Binder U"}
#: at most this many rows of C(r) in the human summary
_MAX_ROWS = 11


def json_extras(result) -> dict:
    """``energy_per_site``, ``relative_error`` |E - E0| / |E0| and its statistical
    error ``relative_error_sigma`` (None without an exact energy), ``observables``
    (each an Estimate dict; ``exact`` holds the exact ``values`` and their
    ``methods``)."""
    n = result.parameters.get("sites") or 1
    exact = result.exact
    return {"energy_per_site": result.energy.mean / n,
            "relative_error": (None if exact is None
                               else abs(result.energy.mean - exact) / abs(exact)),
            "relative_error_sigma": None if exact is None else result.energy.error / abs(exact),
            "observables": result.observables}


def _beside(est: dict, exact) -> str:
    """``mean +- error`` and, where ``exact`` is known, ``exact X (+d.d sigma)``."""
    from mcstats.estimate import format_estimate

    mean, error = est.get("mean"), est.get("error")
    text = format_estimate(est)
    if exact is None or mean is None:
        return text
    text += f"   exact {exact:.5f}"
    if error is not None and error > 0 and math.isfinite(error):
        text += f" ({(mean - exact) / error:+.1f} sigma)"
    return text


def _distances(n: int) -> list:
    """All of 0..n-1 up to :data:`_MAX_ROWS` of them; else 0..3 and doublings, and n-1."""
    if n <= _MAX_ROWS:
        return list(range(n))
    out, r = [0, 1, 2, 3], 4
    while r < n - 1:
        out.append(r)
        r *= 2
    return out + [n - 1]


def _observable_lines(obs: dict) -> list:
    ref = obs.get("exact") or {}
    values, methods = ref.get("values", {}), ref.get("methods", {})
    lines = []
    for key, label in _LABELS.items():
        if key in obs:
            lines.append(f"  {label:<9} = {_beside(obs[key], values.get(key))}")
    corr = obs.get("correlation", [])
    exact_corr = values.get("correlation")
    if corr:
        lines.append(f"  C(r) = <sz_0 sz_r>, r = 0..{len(corr) - 1}"
                     + ("" if len(corr) <= _MAX_ROWS else " (some; all in --json)") + ":")
        for r in _distances(len(corr)):
            c = corr[r]
            lines.append(f"    r = {r:<3} {_beside(c, exact_corr[r] if exact_corr else None)}")
    used = sorted({methods[k] for k in [*_LABELS, "correlation"] if k in methods})
    lines.append("  exact observables: " + (", ".join(used) if used else
                                            "none (exact diagonalization is limited to "
                                            "16 sites; free fermions to even chains)"))
    return lines


def summary(result) -> str:
    """A one-screen human summary of a TFIM run."""
    p = result.parameters
    n = p.get("sites") or 1
    shape = (f"chain N={p.get('size')}" if p.get("lattice") == "chain"
             else f"square {p.get('size')}x{p.get('size')}")
    lines = [
        f"VMC TFIM: {shape}, h={p.get('field')} (H = -sum sz sz - h sum sx, J = 1, periodic)",
        f"  ansatz: {'translation-symmetric ' if p.get('symmetric') else ''}RBM, alpha="
        f"{p.get('alpha')} ({p.get('n_params')} parameters); {p.get('sampler')}, "
        f"optimizer={p.get('optimizer')} (learning rate {p.get('learning_rate')}), "
        f"seed={p.get('seed')}",
        result.iterations_line(),
        f"  energy:     {result.energy}   (total; per site {result.energy.mean / n:.8f}; "
        f"blocking error, {result.energy.n_samples} samples)",
    ]
    if result.exact is not None:
        rel = abs(result.energy.mean - result.exact) / abs(result.exact)
        lines.append(f"  exact:      {result.exact:.10g}   ({p.get('exact_method')}); relative "
                     f"error {rel:.2e} +- {result.energy.error / abs(result.exact):.1e}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines.append(f"  variance of E_L: {result.variance:.3e}   "
                 f"acceptance: {result.acceptance:.3f}")
    obs = result.observables
    if obs:
        lines.append(f"  observables (per site, m_z = sum_i sz_i / N; blocking errors over "
                     f"the chains), R-hat(E_L) = {obs.get('rhat_energy', 0):.3f}:")
        lines.extend(_observable_lines(obs))
    lines.extend(result.warning_lines())
    return "\n".join(lines)
