"""
Ising thermodynamics against the exact finite-lattice solution
==============================================================

Monte Carlo samples of the periodic 8 x 8 Ising model (k_B = J = 1) at a few
temperatures, and their energy and specific heat per spin beside the exact
values of the *same finite* torus (Kaufman 1949; Ferdinand & Fisher 1969).
Because the exact curve belongs to L = 8, there is no finite-size error: the
only difference between the points and the curve is statistical, and the
error bars (blocking for e, block jackknife for c) must cover it.
"""

import matplotlib.pyplot as plt
import numpy as np

import ising

L = 8
temperatures = [1.5, 2.0, ising.T_C, 2.6, 3.5]
ensembles = ising.simulate(L, temperatures, 2000, rng=2026)

# %%
# A table: Monte Carlo +- one standard error, exact value, deviation in sigma.

print(f"L = {L}, periodic, per spin, k_B = J = 1")
print(f"{'T':>7} {'algorithm':>10}  {'e (MC)':>20} {'e exact':>10} {'dev':>6}"
      f"  {'c (MC)':>18} {'c exact':>9} {'dev':>6}")
for ens in ensembles:
    obs = ens.observables()
    exact = ising.finite_lattice(L, ens.T)
    e, c = obs["energy"], obs["specific_heat"]
    print(f"{ens.T:7.4f} {ens.attrs['algorithm']:>10}  {str(e):>20} {exact['energy']:10.5f} "
          f"{e.deviation(exact['energy']):+6.1f}  {str(c):>18} {exact['specific_heat']:9.4f} "
          f"{c.deviation(exact['specific_heat']):+6.1f}")

# %%
# The same as a figure: exact finite-L curves (solid), the infinite lattice
# (Onsager, dashed), and the Monte Carlo points with their error bars.

T = np.linspace(1.0, 4.0, 301)
exact = ising.finite_lattice(L, T)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
for ax, key, onsager, label in [
        (axes[0], "energy", ising.onsager_energy, "energy per spin e"),
        (axes[1], "specific_heat", ising.onsager_specific_heat, "specific heat per spin c")]:
    ax.plot(T, exact[key], color="C0", label=f"exact, L = {L} (Kaufman)")
    ax.plot(T, onsager(T), color="0.5", ls="--", label="exact, L = infinity (Onsager)")
    points = [ens.observables()[key] for ens in ensembles]
    ax.errorbar([ens.T for ens in ensembles], [p.mean for p in points],
                yerr=[p.error for p in points], fmt="o", color="C3", ms=4, capsize=2,
                label="Monte Carlo")
    ax.axvline(ising.T_C, color="0.8", lw=0.8)
    ax.set_xlabel("T")
    ax.set_ylabel(label)
axes[1].set_ylim(0, 2.2)
axes[0].legend(fontsize=8)
plt.show()
