"""How a trap VMC result is printed (:meth:`vmc.VMCResult.summary`) and what its
``--json`` adds (nothing beyond the common fields). Units hbar = m = 1."""

from __future__ import annotations

__all__ = ["summary", "json_extras"]


def json_extras(result) -> dict:
    """Fields the trap adds to :meth:`vmc.VMCResult.to_dict`: none."""
    return {}


def summary(result) -> str:
    """A one-screen human summary of a trap run."""
    p = result.parameters
    lines = [
        f"VMC: N={p.get('particles')} particles, D={p.get('dims')}, "
        f"omega={p.get('omega')}, interaction={p.get('interaction')} (hbar = m = 1)",
        f"  ansatz: RBM with {p.get('hidden')} hidden units, Psi = "
        f"{'sqrt(F)' if p.get('form') == 'sqrt' else 'F'}, jastrow={p.get('jastrow')}; "
        f"sampler={p.get('sampler')}, optimizer={p.get('optimizer')} "
        f"(learning rate {p.get('learning_rate')}), seed={p.get('seed')}",
        result.iterations_line(),
        f"  energy:     {result.energy}   (blocking error, {result.energy.n_samples} samples, "
        f"tau_int {result.energy.tau_int:.2f})",
    ]
    if result.exact is not None:
        dev = result.energy.mean - result.exact
        sig = f" = {dev / result.energy.error:+.1f} sigma" if result.energy.error > 0 else ""
        lines.append(f"  exact:      {result.exact:.6g}   (difference {dev:+.2e}{sig})")
    else:
        lines.append("  exact:      unknown for these settings")
    lines.append(f"  variance of E_L: {result.variance:.3e}   "
                 f"acceptance: {result.acceptance:.3f}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines.extend(result.warning_lines())
    return "\n".join(lines)
