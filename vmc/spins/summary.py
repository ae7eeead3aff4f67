"""How a TFIM VMC result is printed (:meth:`vmc.VMCResult.summary`) and what its
``--json`` adds. J = 1, Pauli matrices, energies total (per site = energy / N)."""

from __future__ import annotations

__all__ = ["summary", "json_extras"]


def json_extras(result) -> dict:
    """``energy_per_site``, ``relative_error`` |E - E0| / |E0| and its statistical
    error ``relative_error_sigma`` (None without an exact energy), ``observables``."""
    n = result.parameters.get("sites") or 1
    exact = result.exact
    return {"energy_per_site": result.energy.mean / n,
            "relative_error": (None if exact is None
                               else abs(result.energy.mean - exact) / abs(exact)),
            "relative_error_sigma": None if exact is None else result.energy.error / abs(exact),
            "observables": result.observables}


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
        f"  iterations: {result.iterations} ({result.status})"
        + (f": {result.message}" if result.message and result.status != "unhealthy" else ""),
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
        def fmt(key):
            e = obs[key]
            return f"{e['mean']:.5f} +- {e['error']:.1g}"
        lines.append(f"  <sx> = {fmt('sx')}   <|m_z|> = {fmt('abs_mz')}   "
                     f"<m_z^2> = {fmt('mz2')}   R-hat(E_L) = {obs.get('rhat_energy', 0):.3f}")
        corr = ", ".join(f"{c['mean']:.4f}" for c in obs.get("correlation", []))
        lines.append(f"  C(r) = <sz_0 sz_r>, r = 0..{len(obs.get('correlation', [])) - 1}: "
                     f"{corr}")
    lines.extend(result.warning_lines())
    return "\n".join(lines)
