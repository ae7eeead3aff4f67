"""
Two electrons in a harmonic trap: VMC with an RBM trial state
=============================================================

Variational Monte Carlo (hbar = m = 1, energies are totals) for two
particles in a two-dimensional trap of frequency omega = 1, first without
interaction, where the exact ground-state energy is N D omega / 2 = 2 with
zero variance, then with Coulomb repulsion, where Taut's analytic solution
gives exactly 3. The trial state is the square root of a Gaussian-binary
RBM's marginal; for the interacting case it is multiplied by a Pade-Jastrow
factor carrying the electron-electron cusp. Importance sampling and
stochastic reconfiguration; the final energy has a blocking error.
"""

import matplotlib.pyplot as plt
import numpy as np

import vmc

runs = {
    "free particles, RBM": dict(interaction="none", jastrow="none"),
    "Coulomb, RBM only": dict(interaction="coulomb", jastrow="none"),
    "Coulomb, RBM x Pade-Jastrow": dict(interaction="coulomb", jastrow="pade"),
}
results = {}
for name, options in runs.items():
    results[name] = vmc.run(2, 2, n_iterations=60, n_samples=5000, n_threads=1, rng=1,
                            **options)

# %%
# Final energies with their blocking errors, beside the exact values.

print(f"{'system':30} {'energy':>22} {'exact':>6} {'E - exact':>10} {'var(E_L)':>10}")
for name, r in results.items():
    print(f"{name:30} {str(r.energy):>22} {r.exact:6.3f} {r.energy.mean - r.exact:+10.5f} "
          f"{r.variance:10.2e}")

# %%
# The energy per optimization iteration (mean local energy of that
# iteration's samples) approaches the exact value from above, as the
# variational principle requires.

fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
for i, (name, r) in enumerate(results.items()):
    e = np.asarray(r.history["energy"])
    ax.plot(np.arange(1, len(e) + 1), e, color=f"C{i}", label=name)
    ax.axhline(r.exact, color=f"C{i}", ls=":", lw=1)
ax.set_xlabel("iteration")
ax.set_ylabel("energy (units of hbar omega)")
ax.set_ylim(1.9, 3.6)
ax.legend(fontsize=8)
plt.show()
